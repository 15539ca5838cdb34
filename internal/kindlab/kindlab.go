// Package kindlab runs real kind clusters for the tests and for `make
// kind-run`, offline: a dockerd of its own inside a network namespace with no
// route out (Main), the node image dojo builds from Go modules and Debian's
// packages (scripts/kind-node-image.sh, mk/kind.mk) loaded into it, and dojo
// itself driving kind through its Go library. Nothing reaches the host's
// network or Docker: the daemon's data, socket and logs live in a work
// directory, and only processes the run started are ever stopped. See
// docs/kind.md.
package kindlab

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubedojo/dojo/internal/testutil/reporoot"
)

// NodeImage is the tag of the node image mk/kind.mk builds (Kubernetes
// v1.37.2, as the lab's control plane).
const NodeImage = "localhost/dojo-kind-node:v1.37.2"

// Options configure an Env.
type Options struct {
	// Dir is the work directory (dockerd's data, the clients' HOME, logs);
	// default a new one under the temporary directory, removed after a
	// passing run and kept, with a word, after a failing one.
	Dir string
	// NodeTar is the node image archive; default $DOJO_KIND_NODE_TAR or
	// <repo>/.cache/kind/node-image.tar (made by `make kind-node-image`).
	NodeTar string
	// Dojo is the dojo binary; default $DOJO_KIND_DOJO or <repo>/bin/dojo.
	Dojo string
	// LearnerBin holds a learner's tools, put on PATH after dojo's
	// directory (helm and kubectl, which dojo check step-1 asks for);
	// default <repo>/.cache/kind/learner-bin (make kind-learner-tools).
	LearnerBin string
	Logf       func(format string, args ...any)
}

// Env is a dockerd with the node image loaded, and the clients' environment.
type Env struct {
	Dir    string
	Docker *Docker
	Home   string // HOME of every client (kind's and dojo's kubeconfig, caches)
	Dojo   string
	// LearnerBin is Options.LearnerBin.
	LearnerBin string
	root       string // the dojo checkout
	logf       func(string, ...any)
	keep       bool
}

// Start starts dockerd in Dir and loads the node image into it.
func Start(ctx context.Context, o Options) (*Env, error) {
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	root := cmp.Or(reporoot.Find(), ".")
	if o.NodeTar == "" {
		o.NodeTar = os.Getenv("DOJO_KIND_NODE_TAR")
	}
	if o.NodeTar == "" {
		o.NodeTar = filepath.Join(root, ".cache", "kind", "node-image.tar")
	}
	if o.Dojo == "" {
		o.Dojo = os.Getenv("DOJO_KIND_DOJO")
	}
	if o.Dojo == "" {
		o.Dojo = filepath.Join(root, "bin", "dojo")
	}
	if o.LearnerBin == "" {
		o.LearnerBin = filepath.Join(root, ".cache", "kind", "learner-bin")
	}
	for what, p := range map[string]string{"the node image": o.NodeTar, "dojo": o.Dojo,
		"helm": filepath.Join(o.LearnerBin, "helm"), "kubectl": filepath.Join(o.LearnerBin, "kubectl"),
		"the monitoring.coreos.com CRDs": filepath.Join(root, ".cache", "promop", "crds", "monitoring.coreos.com_prometheuses.yaml")} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("kindlab: %s is missing (%v): run `make kind-node-image kind-learner-tools crds build` (make test does)", what, err)
		}
	}
	made := o.Dir == ""
	if made {
		d, err := os.MkdirTemp("", "dojo-kind-")
		if err != nil {
			return nil, err
		}
		o.Dir = d
	}
	e := &Env{Dir: o.Dir, Home: filepath.Join(o.Dir, "home"), Dojo: o.Dojo, LearnerBin: o.LearnerBin, root: root, logf: o.Logf}
	if err := os.MkdirAll(e.Home, 0o755); err != nil {
		return nil, err
	}
	t0 := time.Now()
	d, err := StartDocker(ctx, filepath.Join(o.Dir, "docker"))
	if err != nil {
		e.keep = true
		return e, err
	}
	e.Docker = d
	o.Logf("kindlab: dockerd up in %s (%s)", time.Since(t0).Round(time.Millisecond), d.Host)
	t1 := time.Now()
	if _, err := d.Run(ctx, "load", "-q", "-i", o.NodeTar); err != nil {
		e.keep = true
		return e, fmt.Errorf("kindlab: loading the node image: %w", err)
	}
	o.Logf("kindlab: node image %s loaded in %s", NodeImage, time.Since(t1).Round(time.Millisecond))
	return e, nil
}

// StartT is Start for a test: it fails the test (never skips it) when the
// environment cannot start and stops it when the test ends.
func StartT(t testing.TB) *Env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e, err := Start(ctx, Options{Logf: t.Logf})
	if e != nil {
		t.Cleanup(func() {
			if t.Failed() {
				e.keep = true
			}
			e.Stop()
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Environ is the environment of every client: the test's own HOME (so
// ~/.kube and the caches of the machine are never touched), KUBECONFIG in it,
// DOCKER_HOST this run's daemon, and bin/ then the learner's tools first on
// PATH.
func (e *Env) Environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "KUBECONFIG", "DOCKER_HOST", "DOCKER_CONTEXT", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "DOJO_WORKSPACE", "KIND_EXPERIMENTAL_PROVIDER", "PATH", "NO_COLOR":
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+e.Home,
		"KUBECONFIG="+filepath.Join(e.Home, ".kube", "config"),
		"DOCKER_HOST="+e.Docker.Host,
		"DOJO_WORKSPACE="+filepath.Join(e.Home, "dojo-workspace"),
		"NO_COLOR=1",
		"PATH="+filepath.Dir(e.Dojo)+":"+e.LearnerBin+":"+os.Getenv("PATH"),
	)
}

// Command is a command run with Environ, in Home.
func (e *Env) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Dir = e.Environ(), e.Home
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// DojoCommand is bin/dojo with args, run with Environ.
func (e *Env) DojoCommand(ctx context.Context, args ...string) *exec.Cmd {
	return e.Command(ctx, e.Dojo, args...)
}

// Keep keeps the work directory after Stop (a failure's logs).
func (e *Env) Keep() { e.keep = true }

// Stop exports the logs of kind's clusters when the run failed, removes
// every container, stops dockerd, and removes the work directory (kept, and
// said, after a failure).
func (e *Env) Stop() {
	if e.Docker != nil {
		if e.keep {
			e.exportLogs()
		}
		e.Docker.Stop()
	}
	if e.keep {
		fmt.Fprintf(os.Stderr, "kindlab: the run failed; dockerd's log, kind's node logs and the clients' HOME are kept in %s\n", e.Dir)
		return
	}
	_ = os.RemoveAll(e.Dir)
}

// exportLogs saves each kind node's journal, kubelet and containerd logs and
// pod logs in Dir/logs/<node>.
func (e *Env) exportLogs() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := e.Docker.Run(ctx, "ps", "-a", "--filter", "label=io.x-k8s.kind.cluster", "--format", "{{.Names}}")
	if err != nil {
		return
	}
	for _, node := range strings.Fields(out) {
		dir := filepath.Join(e.Dir, "logs", node)
		if os.MkdirAll(dir, 0o755) != nil {
			continue
		}
		for file, argv := range map[string][]string{
			"journal.log": {"journalctl", "--no-pager"},
			"pods.log":    {"sh", "-c", "tail -n 200 /var/log/pods/*/*/*.log"},
			"crictl.txt":  {"crictl", "ps", "-a"},
		} {
			b, _ := e.Docker.Command(ctx, append([]string{"exec", node}, argv...)...).CombinedOutput()
			_ = os.WriteFile(filepath.Join(dir, file), b, 0o644)
		}
	}
}
