package cluster

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/kubedojo/dojo/internal/check"
)

// doctorEnv never resolves a name outside and runs no tool: both are
// stand-ins.
func doctorEnv(addrs map[string][]string, tools map[string]string) DoctorEnv {
	p := NewStandIn()
	return DoctorEnv{
		Preflight: PreflightEnv{Host: fakeHost(map[string]string{"docker": "Docker version 27"}),
			NewProvider: func(Runtime) Provider { return p }, Ports: freePorts},
		Run: func(_ context.Context, name string, _ ...string) (string, error) {
			out, ok := tools[name]
			if !ok {
				return "", exec.ErrNotFound
			}
			return out, nil
		},
		Resolve: func(_ context.Context, host string) ([]string, error) {
			a, ok := addrs[host]
			if !ok {
				return nil, errors.New("no such host")
			}
			return a, nil
		},
	}
}

func byName(checks []check.Result) map[string]check.Result {
	m := map[string]check.Result{}
	for _, c := range checks {
		m[c.Criterion] = c
	}
	return m
}

func TestDoctorToolsAndVersions(t *testing.T) {
	env := doctorEnv(map[string][]string{"producer.vcap.me": {"127.0.0.1"}}, map[string]string{
		"kubectl": "Client Version: v1.37.2\nKustomize Version: v5.7.1\n",
		"helm":    "v4.3.1+g0123456\n",
	})
	c := byName(Doctor(context.Background(), DoctorOptions{Domain: "vcap.me"}, env))
	if c["kubectl"].Status != check.Pass || c["kubectl"].Observed != "kubectl v1.37.2" {
		t.Errorf("kubectl: %+v", c["kubectl"])
	}
	if c["helm"].Observed != "helm v4.3.1+g0123456" {
		t.Errorf("helm: %+v", c["helm"])
	}
	if c["jq"].Status != check.Warn || !strings.Contains(c["jq"].Next, "install") {
		t.Errorf("missing jq is a warning with a fix: %+v", c["jq"])
	}
	if c["dns"].Status != check.Pass {
		t.Errorf("dns: %+v", c["dns"])
	}
	env = doctorEnv(nil, nil)
	c = byName(Doctor(context.Background(), DoctorOptions{}, env))
	if c["kubectl"].Status != check.Fail || c["helm"].Status != check.Fail {
		t.Errorf("the steps need kubectl and helm: %+v %+v", c["kubectl"], c["helm"])
	}
	if !strings.Contains(c["kubectl"].Observed, "(") {
		t.Errorf("a missing tool's line should carry what was observed: %+v", c["kubectl"])
	}
	env = doctorEnv(nil, map[string]string{"kubectl": "Client Version: v1.37.2\n", "helm": "v3.22.0+gabc\n"})
	c = byName(Doctor(context.Background(), DoctorOptions{}, env))
	if c["helm"].Status != check.Warn || !strings.Contains(c["helm"].Observed, "v3.22.0") || !strings.Contains(c["helm"].Expected, "Helm 4") {
		t.Errorf("helm 3 should be a warning naming the version found and the one expected: %+v", c["helm"])
	}
}

func TestDoctorSuggestsLocalhostWhenTheDomainDoesNotReachThisMachine(t *testing.T) {
	for name, addrs := range map[string]map[string][]string{
		"unresolved": nil,
		"elsewhere":  {"producer.vcap.me": {"192.0.2.7"}},
	} {
		c := byName(Doctor(context.Background(), DoctorOptions{Domain: "vcap.me"}, doctorEnv(addrs, nil)))["dns"]
		if c.Status != check.Warn || !strings.Contains(c.Next, "--domain localhost") {
			t.Errorf("%s: %+v", name, c)
		}
	}
	c := byName(Doctor(context.Background(), DoctorOptions{Domain: "localhost"},
		doctorEnv(map[string][]string{"producer.localhost": {"::1", "127.0.0.1"}}, nil)))["dns"]
	if c.Status != check.Pass {
		t.Errorf("localhost: %+v", c)
	}
}

// Step 1's criterion: Helm 4 passes, Helm 3.22 warns, an older Helm fails.
func TestHelmStatus(t *testing.T) {
	for v, want := range map[string]check.Status{
		"v4.3.1+g0123456": check.Pass, "v4.0.0": check.Pass,
		"v3.22.0+gabc": check.Warn, "v3.21.3": check.Fail, "v2.17.0": check.Fail, "garbage": check.Fail,
	} {
		if got := helmStatus(v); got != want {
			t.Errorf("helmStatus(%q) = %s, want %s", v, got, want)
		}
	}
}
