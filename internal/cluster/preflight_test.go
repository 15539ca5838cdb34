package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/testutil/dockertest"
)

func fakeHost(bins map[string]string) Host {
	return Host{
		Getenv: func(string) string { return "" },
		LookPath: func(b string) (string, error) {
			if _, ok := bins[b]; ok {
				return "/usr/bin/" + b, nil
			}
			return "", exec.ErrNotFound
		},
		Version: func(b string) (string, error) { return bins[b], nil },
	}
}

func freePorts(int) PortUser { return PortUser{} }

func TestPreflightNoRuntime(t *testing.T) {
	env := PreflightEnv{Host: fakeHost(nil), NewProvider: func(Runtime) Provider { t.Fatal("no provider without a runtime"); return nil }, Ports: freePorts}
	r := Preflight(PreflightOptions{}, env)
	err := r.Err()
	if err == nil || !strings.Contains(err.Error(), "no container runtime found") || !strings.Contains(err.Error(), "install Docker") {
		t.Fatalf("err = %v", err)
	}
	if strings.Count(err.Error(), "\n") != 0 {
		t.Fatalf("want one line, got %q", err)
	}
}

func TestDetectRuntimeLikeKind(t *testing.T) {
	h := fakeHost(map[string]string{"docker": "Docker version 27.0.1", "podman": "podman version 5.0"})
	if rt, _ := DetectRuntime(h); rt.Name != "docker" {
		t.Fatalf("docker first, got %v", rt)
	}
	h.Getenv = func(k string) string {
		if k == "KIND_EXPERIMENTAL_PROVIDER" {
			return "podman"
		}
		return ""
	}
	if rt, _ := DetectRuntime(h); rt.Name != "podman" {
		t.Fatalf("KIND_EXPERIMENTAL_PROVIDER wins, got %v", rt)
	}
	// podman's docker shim answers "-v" like podman: not docker.
	h = fakeHost(map[string]string{"docker": "podman version 5.0", "podman": "podman version 5.0"})
	if rt, _ := DetectRuntime(h); rt.Name != "podman" {
		t.Fatalf("podman-docker shim: got %v", rt)
	}
}

// TestPreflightDockerWithoutDaemon runs kind's real provider against the real
// docker client pointed at a socket nobody listens on, so it runs the same way
// whether or not a Docker daemon runs on the machine: one line, the daemon's
// own words, and the fix — not kind's wall of JSON.
func TestPreflightDockerWithoutDaemon(t *testing.T) {
	dockertest.DeadDaemon(t)
	env := SystemPreflightEnv(func(k string) string {
		if k == "KIND_EXPERIMENTAL_PROVIDER" {
			return ""
		}
		return os.Getenv(k)
	})
	env.Ports = freePorts
	r := Preflight(PreflightOptions{}, env)
	err := r.Err()
	if err == nil {
		t.Fatal("preflight passed without a Docker daemon")
	}
	msg := err.Error()
	t.Logf("preflight said: %s", msg)
	for _, want := range []string{"Docker is installed but not running", "Cannot connect to the Docker daemon", "systemctl start docker"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, "{") || strings.Contains(msg, "\n") {
		t.Errorf("want one line without JSON: %q", msg)
	}
	// The checks that need no daemon still run, in the same round.
	c := byName(r.Checks)
	if c["port-80"].Status != check.Pass || c["port-443"].Status != check.Pass || c["cluster"].Status != check.Skipped {
		t.Errorf("without a daemon the ports are still checked and the cluster check is skipped: %+v", r.Checks)
	}
	if _, ok := procMemTotal(); ok && c["memory"].Criterion == "" {
		t.Errorf("without a daemon the memory is still checked: %+v", r.Checks)
	}
	// The same error through the provider, as dojo up would meet it.
	_, lerr := NewKindProvider(r.Runtime).List()
	var down *RuntimeNotRunningError
	if !errors.As(lerr, &down) {
		t.Fatalf("List error is %T %v, want *RuntimeNotRunningError", lerr, lerr)
	}
}

func TestPreflightPortInUseNamesPortAndProcess(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port

	u := SystemPorts(port)
	if !u.InUse {
		t.Fatalf("port %d is bound here but SystemPorts says free", port)
	}
	if u.Process != "" && !strings.Contains(u.Process, fmt.Sprint(os.Getpid())) {
		t.Errorf("process = %q, want this test (pid %d)", u.Process, os.Getpid())
	}
	t.Logf("owner: %q", u.Process)

	p := NewStandIn()
	env := PreflightEnv{Host: fakeHost(map[string]string{"docker": "Docker version 27"}),
		NewProvider: func(Runtime) Provider { return p }, Ports: SystemPorts}
	err = Preflight(PreflightOptions{Ports: []int{port}}, env).Err()
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("host port %d is already taken", port)) {
		t.Fatalf("err = %v", err)
	}

	l.Close()
	if SystemPorts(port).InUse {
		t.Fatalf("port %d reported in use after close", port)
	}
}

func TestPreflightExistingClusterConvergesAndSkipsPorts(t *testing.T) {
	p := NewStandIn()
	if err := Create(context.Background(), p, ConfigOptions{Name: "dojo"}); err != nil {
		t.Fatal(err)
	}
	busy := func(int) PortUser { return PortUser{InUse: true, Process: "docker-proxy (pid 1)"} }
	env := PreflightEnv{Host: fakeHost(map[string]string{"docker": "Docker version 27"}),
		NewProvider: func(Runtime) Provider { return p }, Ports: busy}
	r := Preflight(PreflightOptions{Name: "dojo"}, env)
	if err := r.Err(); err != nil {
		t.Fatalf("an existing dojo cluster holds its own ports: %v", err)
	}
	if !r.Exists {
		t.Fatal("Exists = false")
	}
	// Another name: the ports matter.
	r = Preflight(PreflightOptions{Name: "other"}, env)
	if r.Exists || r.Err() == nil {
		t.Fatalf("other name: exists=%v err=%v", r.Exists, r.Err())
	}
}

func TestPreflightMemoryWarns(t *testing.T) {
	p := NewStandIn()
	env := PreflightEnv{Host: fakeHost(map[string]string{"docker": "Docker version 27"}),
		NewProvider: func(Runtime) Provider { return p }, Ports: freePorts,
		MemTotal: func() (uint64, bool) { return 2 << 30, true }}
	r := Preflight(PreflightOptions{}, env)
	if r.Err() != nil {
		t.Fatalf("memory is a warning, not a failure: %v", r.Err())
	}
	var warned bool
	for _, c := range r.Checks {
		warned = warned || (c.Status == check.Warn && c.Criterion == "memory")
	}
	if !warned {
		t.Fatalf("no memory warning: %+v", r.Checks)
	}
}

func TestTeardownRefusesAnotherCluster(t *testing.T) {
	p := NewStandIn()
	p.Add("work", map[string]string{"team": "platform"}) // not dojo's
	if err := Create(context.Background(), p, ConfigOptions{Name: "dojo"}); err != nil {
		t.Fatal(err)
	}
	err := Teardown(p, "work", false)
	var notOwned *NotOwnedError
	if !errors.As(err, &notOwned) {
		t.Fatalf("teardown of a foreign cluster: %v", err)
	}
	err = Teardown(p, "missing", false)
	var nf *NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "dojo, work") {
		t.Fatalf("teardown of a missing cluster: %v", err)
	}
	// A cluster whose owner label names another cluster is not this one.
	p.Add("copy", map[string]string{OwnerLabel: "dojo"})
	if err := Teardown(p, "copy", false); !errors.As(err, &notOwned) {
		t.Fatalf("mislabelled cluster: %v", err)
	}
	if len(p.Deleted()) != 0 {
		t.Fatalf("deleted %v", p.Deleted())
	}
	if err := Teardown(p, "dojo", false); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(p.Deleted()) != "[dojo]" {
		t.Fatalf("deleted %v, want only dojo", p.Deleted())
	}
}

func TestRecreateReplacesOnlyADojoCluster(t *testing.T) {
	p := NewStandIn()
	p.Add("dojo", map[string]string{OwnerLabel: "dojo"}) // a half-made dojo cluster
	if err := Recreate(context.Background(), p, ConfigOptions{Name: "dojo"}, false); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(p.Deleted(), p.Created()) != "[dojo] [dojo]" {
		t.Fatalf("deleted %v created %v", p.Deleted(), p.Created())
	}
	p.Add("mine", map[string]string{})
	if err := Recreate(context.Background(), p, ConfigOptions{Name: "mine"}, false); err == nil {
		t.Fatal("recreated a cluster dojo did not make")
	}
}

// A cluster whose node cannot be read (kind interrupted before it labelled
// the node) is dojo's only when dojo's own create of that name was
// interrupted (the creating marker); otherwise it is left alone. A readable
// node without dojo's label is never dojo's, marker or not.
func TestHalfMadeClusterIsDojosOnlyWithTheCreatingMarker(t *testing.T) {
	p := NewStandIn()
	p.AddHalfMade("dojo")
	var notOwned *NotOwnedError
	if err := Recreate(context.Background(), p, ConfigOptions{Name: "dojo"}, false); !errors.As(err, &notOwned) || !notOwned.Unreadable {
		t.Fatalf("without the marker: err %v, want NotOwnedError (unreadable)", err)
	}
	if err := Teardown(p, "dojo", false); !errors.As(err, &notOwned) || len(p.Deleted()) != 0 {
		t.Fatalf("teardown without the marker: err %v, deleted %v", err, p.Deleted())
	}
	if err := Recreate(context.Background(), p, ConfigOptions{Name: "dojo"}, true); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(p.Deleted(), p.Created()) != "[dojo] [dojo]" {
		t.Fatalf("deleted %v created %v", p.Deleted(), p.Created())
	}
	p.AddHalfMade("half")
	if err := Teardown(p, "half", true); err != nil || fmt.Sprint(p.Deleted()) != "[dojo half]" {
		t.Fatalf("teardown of a half-made dojo cluster: err %v, deleted %v", err, p.Deleted())
	}
	p.Add("theirs", map[string]string{})
	if err := Teardown(p, "theirs", true); !errors.As(err, &notOwned) || notOwned.Unreadable {
		t.Fatalf("a readable node without dojo's label: err %v, want NotOwnedError", err)
	}
}

// A half-made cluster that comes back after the first delete (kind's
// in-flight docker run) is deleted until it is gone, then created anew.
func TestRecreateDeletesUntilGone(t *testing.T) {
	p := NewStandIn()
	p.AddHalfMade("dojo")
	p.Revive = 2
	if err := Recreate(context.Background(), p, ConfigOptions{Name: "dojo"}, true); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(p.Deleted(), p.Created()) != "[dojo dojo dojo] [dojo]" {
		t.Fatalf("deleted %v created %v: want three deletes, then the create", p.Deleted(), p.Created())
	}
	p = NewStandIn()
	p.AddHalfMade("dojo")
	p.Revive = 100
	if err := deleteAndWait(context.Background(), p, "dojo", 0); err == nil || !strings.Contains(err.Error(), "still there") {
		t.Fatalf("a cluster that never goes: err %v", err)
	}
}

func TestCreatingMarker(t *testing.T) {
	dir := t.TempDir()
	if WasCreating(dir, "dojo") || WasCreating("", "dojo") {
		t.Fatal("a marker before any was written")
	}
	if err := MarkCreating(dir, "dojo"); err != nil || !WasCreating(dir, "dojo") || WasCreating(dir, "other") {
		t.Fatalf("MarkCreating: %v", err)
	}
	if err := MarkReady(dir, "dojo"); err != nil || WasCreating(dir, "dojo") || !WasReady(dir, "dojo") {
		t.Fatalf("MarkReady must replace the creating marker: %v", err)
	}
	if err := MarkCreating(dir, "dojo"); err != nil {
		t.Fatal(err)
	}
	if err := ForgetReady(dir, "dojo"); err != nil || WasCreating(dir, "dojo") || WasReady(dir, "dojo") {
		t.Fatalf("ForgetReady must remove both: %v", err)
	}
}

func TestCreateReturnsOnCancel(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	p := NewStandIn()
	p.Block = block
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Create(ctx, p, ConfigOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}
