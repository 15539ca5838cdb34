package cluster

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/ui"
	"github.com/kubedojo/dojo/internal/versions"
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

// downRuntime is Docker installed with its daemon stopped: it lists
// nothing.
type downRuntime struct{ *StandIn }

func (downRuntime) List() ([]string, error) {
	return nil, &RuntimeNotRunningError{Runtime: "docker", Line: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"}
}

// One doctor round names every problem: with Docker stopped, the ports
// and the memory its help promises are still checked, and the one check
// that needs Docker (does the cluster exist?) is marked as not run, with
// why, instead of being left out.
func TestDoctorRunsEveryCheckWithTheRuntimeDown(t *testing.T) {
	env := doctorEnv(map[string][]string{"producer.vcap.me": {"127.0.0.1"}}, map[string]string{"kubectl": "Client Version: v1.37.2\n", "helm": "v4.3.1\n"})
	env.Preflight.NewProvider = func(Runtime) Provider { return downRuntime{NewStandIn()} }
	env.Preflight.Ports = func(port int) PortUser {
		if port == 80 {
			return PortUser{InUse: true, Process: "nginx (pid 812)"}
		}
		return PortUser{}
	}
	env.Preflight.MemTotal = func() (uint64, bool) { return 2 << 30, true }
	results := Doctor(context.Background(), DoctorOptions{Domain: "vcap.me"}, env)
	c := byName(results)
	if r := c["runtime"]; r.Status != check.Fail || !strings.Contains(r.Observed, "Docker is installed but not running") {
		t.Errorf("runtime: %+v", r)
	}
	if r := c["cluster"]; r.Status != check.Skipped || r.WaitsFor != "runtime" || !strings.Contains(r.Observed, "not checked") {
		t.Errorf("cluster, which only the runtime can answer: %+v; want skipped, waiting for runtime, saying why", r)
	}
	if r := c["port-80"]; r.Status != check.Fail || !strings.Contains(r.Observed, "nginx (pid 812)") {
		t.Errorf("port-80 with Docker stopped: %+v; want the port taken by nginx", r)
	}
	if r := c["port-443"]; r.Status != check.Pass {
		t.Errorf("port-443 with Docker stopped: %+v", r)
	}
	if r := c["memory"]; r.Status != check.Warn {
		t.Errorf("memory with Docker stopped: %+v; want the 2 GiB warning", r)
	}
	for _, name := range []string{"kubectl", "helm", "jq", "curl", "dns"} {
		if _, ok := c[name]; !ok {
			t.Errorf("no %s check with Docker stopped", name)
		}
	}
	// The skipped check has a mark of its own and says what it waits for.
	var out strings.Builder
	check.Text(&out, ui.NewStyles(false), results)
	if !strings.Contains(out.String(), "- cluster ") || !strings.Contains(out.String(), "waits for runtime") {
		t.Errorf("the skipped check is not marked as such:\n%s", out.String())
	}
}

// Kubernetes supports a kubectl within one minor version of the API server:
// further away it is a warning naming both versions and the one to install,
// not a pass (v1.32.4 passed against 1.37).
func TestDoctorKubectlVersionSkew(t *testing.T) {
	for client, want := range map[string]check.Status{
		"v1.37.2": check.Pass, "v1.36.9": check.Pass, "v1.38.0": check.Pass,
		"v1.32.4": check.Warn, "v1.35.0": check.Warn, "v1.39.1": check.Warn, "v2.37.0": check.Warn,
		"unreadable": check.Pass,
	} {
		env := doctorEnv(nil, map[string]string{"kubectl": "Client Version: " + client + "\nKustomize Version: v5.7.1\n", "helm": "v4.3.1\n"})
		r := byName(Doctor(context.Background(), DoctorOptions{}, env))["kubectl"] // against dojo's node image, v1.37.0
		if r.Status != want {
			t.Errorf("kubectl %s against v1.37.0: %s, want %s (%+v)", client, r.Status, want, r)
			continue
		}
		if want == check.Warn && (!strings.Contains(r.Observed, client) || !strings.Contains(r.Observed, "v1.37.0") ||
			!strings.Contains(r.Expected, "v1.36 to v1.38") || !strings.Contains(r.Next, "kubectl v1.37")) {
			t.Errorf("kubectl %s: the warning should name both versions, the range and the fix: %+v", client, r)
		}
	}
	env := doctorEnv(nil, map[string]string{"kubectl": "Client Version: v1.32.4\n"})
	env.Kubernetes = "v1.33.1"
	if r := byName(Doctor(context.Background(), DoctorOptions{}, env))["kubectl"]; r.Status != check.Pass {
		t.Errorf("kubectl v1.32.4 against a v1.33 node: %+v", r)
	}
	r := byName(Doctor(context.Background(), DoctorOptions{}, doctorEnv(nil, map[string]string{"kubectl": "Client Version: v1.32.4\n"})))["kubectl"]
	if r.Observed != "kubectl v1.32.4 is 5 minor versions older than the cluster's Kubernetes v1.37.0" {
		t.Errorf("observed %q", r.Observed)
	}
}

func TestNodeKubernetes(t *testing.T) {
	for image, want := range map[string]string{
		versions.NodeImage:                      "v1.37.0",
		"kindest/node:v1.36.4":                  "v1.36.4",
		"localhost:5000/dojo-kind-node:v1.37.2": "v1.37.2",
		"localhost:5000/node":                   "",
		"kindest/node@sha256:abc":               "",
	} {
		if got := NodeKubernetes(image); got != want {
			t.Errorf("NodeKubernetes(%q) = %q, want %q", image, got, want)
		}
	}
}
