// Package lab runs a real Kubernetes control plane and metrics pipeline as
// plain processes, for tests and for `make lab-run`: etcd, kube-apiserver and
// kube-controller-manager (v1.37.2), Prometheus, redis_exporter, Redis and
// prometheus-adapter, each on its own address inside a network namespace the
// run made for itself. No containers: stand-ins close the gaps, each named as
// one — a process kubelet (Pods become host processes), an operator stand-in
// (ServiceMonitors and PrometheusRules become Prometheus configuration),
// stand-ins for the upstream Helm charts served from a local chart
// repository, and stand-in monitoring.coreos.com CRDs. See docs/lab.md.
package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubedojo/dojo/internal/testutil/reporoot"
)

// Options configure a lab. The zero value is usable.
type Options struct {
	// Dir holds PKI, data and logs; default a new temporary directory, kept
	// when the lab fails (and always when Keep is set).
	Dir  string
	Keep bool
	// BinDir holds kube-apiserver, kube-controller-manager, kubectl and
	// prometheus-adapter (built by `make lab-tools`); default
	// <repo>/.cache/lab/bin or $DOJO_LAB_BIN.
	BinDir string
	// Dojo is the dojo binary the process kubelet runs for the image
	// ghcr.io/kubedojo/dojo; default <repo>/bin/dojo or $DOJO_LAB_DOJO.
	Dojo string
	// HPASyncPeriod is the controller-manager's
	// --horizontal-pod-autoscaler-sync-period (default 5s, as dojo's kind config).
	HPASyncPeriod time.Duration
	// DownscaleStabilization is
	// --horizontal-pod-autoscaler-downscale-stabilization (default 20s, as
	// dojo's kind config; tests use less).
	DownscaleStabilization time.Duration
	// MonitoringCRDs installs the monitoring.coreos.com CRDs (the operator
	// module's, as kube-prometheus-stack ships them) at start (on a
	// learner's cluster kube-prometheus-stack brings them in step 5).
	MonitoringCRDs bool
	// Logf receives progress lines; default discards them.
	Logf func(format string, args ...any)
}

// Component names for Addr.
const (
	Etcd              = "etcd"
	APIServer         = "kube-apiserver"
	ControllerManager = "kube-controller-manager"
	ChartRepo         = "chart-repo"
)

// Lab is a running lab.
type Lab struct {
	opts Options
	dir  string
	// cmArgs are kube-controller-manager's flags.
	cmArgs []string
	bins   binaries
	pki    *pki

	procs procSet

	mu      sync.Mutex
	addrs   map[string]string
	nextIP  int
	ips     []string // addresses this lab put on lo; Stop removes them
	stopped bool
	failed  bool

	kubeconfig string
	restConfig *rest.Config
	client     kubernetes.Interface
	dynamic    dynamic.Interface

	cancel  context.CancelFunc
	bg      sync.WaitGroup
	kubelet *kubelet
	repo    *StandInRepo
	started time.Time
}

// Start starts a lab for a test, stops it when the test ends and fails the
// test (never skips it) when the lab cannot start. The test binary must run
// inside the lab's network namespace: see Reexec and docs/lab.md.
func Start(t testing.TB, opts Options) *Lab {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	l, err := Up(context.Background(), opts)
	if l != nil {
		t.Cleanup(func() {
			if t.Failed() {
				l.MarkFailed()
			}
			l.Stop()
		})
	}
	if err != nil {
		t.Fatalf("the lab did not start: %v", err)
	}
	return l
}

// Up starts a lab. On error the returned Lab (if not nil) still needs Stop,
// which keeps its logs.
func Up(ctx context.Context, opts Options) (*Lab, error) {
	if opts.HPASyncPeriod == 0 {
		opts.HPASyncPeriod = 5 * time.Second
	}
	if opts.DownscaleStabilization == 0 {
		opts.DownscaleStabilization = 20 * time.Second
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if err := checkNamespace(); err != nil {
		return nil, err
	}
	bins, err := findBinaries(opts)
	if err != nil {
		return nil, err
	}
	dir := opts.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "dojo-lab-"); err != nil {
			return nil, err
		}
	}
	l := &Lab{opts: opts, dir: dir, bins: bins, addrs: map[string]string{}, nextIP: 1, started: time.Now()}
	ctx, l.cancel = context.WithCancel(ctx)
	if err := l.up(ctx); err != nil {
		l.failed = true
		return l, err
	}
	l.logf("lab up in %s (dir %s)", time.Since(l.started).Round(time.Millisecond), l.dir)
	return l, nil
}

func (l *Lab) logf(format string, args ...any) { l.opts.Logf("lab: "+format, args...) }

func (l *Lab) up(ctx context.Context) error {
	if err := bringUpLoopback(); err != nil {
		return err
	}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"control plane", l.startControlPlane},
		{"node and namespaces", l.registerNode},
		{"controller-manager's pod (stand-in)", l.mirrorControllerManager},
		{"CRDs", l.installCRDs},
		{"process kubelet", l.startKubelet},
		{"operator stand-in", l.startOperator},
		{"chart repository", l.startChartRepo},
	}
	for _, s := range steps {
		t0 := time.Now()
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		l.logf("%s ready (%s)", s.name, time.Since(t0).Round(time.Millisecond))
	}
	return nil
}

// allocIP takes the next free address of the lab (10.77.0.N for control-plane
// components, 10.77.1.N for pods) and puts it on lo.
func (l *Lab) allocIP(pod bool) (string, error) {
	l.mu.Lock()
	n := l.nextIP
	l.nextIP++
	l.mu.Unlock()
	ip := fmt.Sprintf("10.77.%d.%d", n/250, n%250+1)
	if pod {
		ip = fmt.Sprintf("10.77.%d.%d", 1+n/250, n%250+1)
	}
	if err := addAddress(ip); err != nil {
		return "", err
	}
	l.mu.Lock()
	l.ips = append(l.ips, ip)
	l.mu.Unlock()
	return ip, nil
}

func (l *Lab) setAddr(component, addr string) {
	l.mu.Lock()
	l.addrs[component] = addr
	l.mu.Unlock()
}

// Addr returns host:port of a component (Etcd, APIServer, …), or "".
func (l *Lab) Addr(component string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.addrs[component]
}

// Dir is the lab's directory (PKI, data, logs/).
func (l *Lab) Dir() string { return l.dir }

// Kubeconfig is the path of a kubeconfig for the lab's API server (admin).
func (l *Lab) Kubeconfig() string { return l.kubeconfig }

// RESTConfig returns a copy of the admin client configuration.
func (l *Lab) RESTConfig() *rest.Config { return rest.CopyConfig(l.restConfig) }

// Client is an admin clientset for the lab's API server.
func (l *Lab) Client() kubernetes.Interface { return l.client }

// Dynamic is an admin dynamic client for the lab's API server.
func (l *Lab) Dynamic() dynamic.Interface { return l.dynamic }

// Dojo is the dojo binary the lab runs (bin/dojo by default).
func (l *Lab) Dojo() string { return l.bins.dojo }

// BinDir is the directory of the lab's Kubernetes binaries (kubectl too).
func (l *Lab) BinDir() string { return l.bins.dir }

// MarkFailed keeps the lab's directory on Stop and prints where it is.
func (l *Lab) MarkFailed() {
	l.mu.Lock()
	l.failed = true
	l.mu.Unlock()
}

// Logs returns the tail of every log the lab wrote, for a failure report.
func (l *Lab) Logs(lines int) string {
	paths, _ := filepath.Glob(filepath.Join(l.dir, "logs", "*.log"))
	sort.Strings(paths)
	var b strings.Builder
	for _, p := range paths {
		fmt.Fprintf(&b, "--- %s ---\n%s\n", filepath.Base(p), tailFile(p, lines))
	}
	return b.String()
}

// Stop stops every process the lab started (and no other) and removes its
// directory unless it failed or Keep is set.
func (l *Lab) Stop() {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return
	}
	l.stopped = true
	failed := l.failed
	l.mu.Unlock()
	// Cancel first: the process kubelet then starts no new pod; stopAll
	// stops the processes of those it runs.
	l.cancel()
	if l.kubelet != nil {
		l.kubelet.stopAll()
	}
	if l.repo != nil {
		l.repo.close()
	}
	l.bg.Wait()
	l.procs.stopAll(5 * time.Second)
	// Free the addresses, so a later lab in the same namespace (another test
	// of the same binary) can take them again.
	for _, ip := range l.ips {
		if err := delAddress(ip); err != nil {
			l.opts.Logf("lab: %v", err)
		}
	}
	if failed || l.opts.Keep || l.opts.Dir != "" {
		l.opts.Logf("lab: logs and data kept in %s", l.dir)
		return
	}
	_ = os.RemoveAll(l.dir)
}

// binaries are the programs the lab runs.
type binaries struct {
	dir                                    string
	etcd, apiserver, controllerManager     string
	kubectl, adapter                       string
	prometheus, redis, redisExporter, dojo string
	crds                                   string // the operator module's real CRDs (make crds)
}

func findBinaries(opts Options) (binaries, error) {
	root := reporoot.Find()
	b := binaries{dir: opts.BinDir}
	if b.dir == "" {
		b.dir = os.Getenv("DOJO_LAB_BIN")
	}
	if b.dir == "" && root != "" {
		b.dir = filepath.Join(root, ".cache", "lab", "bin")
	}
	b.dojo = opts.Dojo
	if b.dojo == "" {
		b.dojo = os.Getenv("DOJO_LAB_DOJO")
	}
	if b.dojo == "" && root != "" {
		b.dojo = filepath.Join(root, "bin", "dojo")
	}
	var missing []string
	inDir := func(name, hint string) string {
		p := filepath.Join(b.dir, name)
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			missing = append(missing, fmt.Sprintf("%s (%s; run %s)", name, p, hint))
		}
		return p
	}
	system := func(name string) string {
		for _, d := range []string{"/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin", "/sbin"} {
			p := filepath.Join(d, name)
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
		missing = append(missing, name+" (Debian package; run `make test-deps`)")
		return ""
	}
	b.apiserver = inDir("kube-apiserver", "`make lab-tools`")
	b.controllerManager = inDir("kube-controller-manager", "`make lab-tools`")
	b.kubectl = inDir("kubectl", "`make lab-tools`")
	b.adapter = inDir("prometheus-adapter", "`make lab-tools`")
	b.etcd = system("etcd")
	b.prometheus = system("prometheus")
	b.redis = system("redis-server")
	b.redisExporter = system("prometheus-redis-exporter")
	if _, err := os.Stat(b.dojo); err != nil {
		missing = append(missing, fmt.Sprintf("dojo (%s; run `make build`)", b.dojo))
	}
	if root != "" {
		b.crds = filepath.Join(root, ".cache", "promop", "crds")
	}
	if _, err := os.Stat(filepath.Join(b.crds, "monitoring.coreos.com_prometheuses.yaml")); err != nil {
		missing = append(missing, fmt.Sprintf("the monitoring.coreos.com CRDs (%s; run `make crds`)", b.crds))
	}
	if len(missing) > 0 {
		return b, fmt.Errorf("lab: missing binaries: %s", strings.Join(missing, ", "))
	}
	return b, nil
}
