package lab

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/bootstrap"
	"github.com/kubedojo/dojo/internal/helm"
	"github.com/kubedojo/dojo/internal/kube"
	"github.com/kubedojo/dojo/internal/versions"
	"github.com/kubedojo/dojo/internal/workshop"
	"github.com/kubedojo/dojo/internal/workspace"
)

// Access is the product's one way into the lab's API server (the lab's
// kubeconfig, its one context).
func (l *Lab) Access() (*kube.Access, error) {
	return kube.FromFile(l.kubeconfig, "", workshop.DefaultContext)
}

// Installer is the product's Helm installer pointed at the lab, pulling the
// pinned upstream charts from the lab's repository of stand-ins.
func (l *Lab) Installer() (*helm.Installer, error) {
	a, err := l.Access()
	if err != nil {
		return nil, err
	}
	return helm.New(a, helm.Options{ChartRepo: l.ChartRepoURL(), CacheDir: filepath.Join(l.dir, "helm-cache"), Timeout: 3 * time.Minute}), nil
}

// Workspace is the lab's learner workspace (written by InstallApp).
func (l *Lab) Workspace() string { return filepath.Join(l.dir, "workspace") }

// InstallApp is `dojo up` onto the lab (bootstrap.Up, the product's code):
// Traefik (stand-in chart), Redis, the producer and the consumer, from a
// workspace in the lab's directory. The consumer's workspace chart first gets
// the reference solution files of extraConsumerSteps (e.g. 7 and 10), as
// `dojo solve` writes them.
func (l *Lab) InstallApp(ctx context.Context, extraConsumerSteps ...int) error {
	ws := l.Workspace()
	if _, err := workspace.Init(ws, embedded.Workspace(), workspace.Options{}); err != nil {
		return err
	}
	for _, step := range extraConsumerSteps {
		if err := copySolution(ws, step, workshop.ConsumerRelease); err != nil {
			return err
		}
	}
	o, env := l.UpOptions(ws)
	_, err := bootstrap.Up(ctx, o, env)
	return err
}

// UpOptions are dojo up's options and environment for installing onto the
// lab from the workspace ws: the lab's cluster (--context kind-dojo), its
// stand-in charts, the domain localhost and the dojo image the process
// kubelet runs as bin/dojo.
func (l *Lab) UpOptions(ws string) (bootstrap.Options, bootstrap.Env) {
	return bootstrap.Options{
		Existing:  true,
		ChartRepo: l.ChartRepoURL(),
		Workspace: ws,
		Domain:    "localhost",
		Image:     "ghcr.io/kubedojo/dojo:lab",
		Version:   "lab",
		Timeout:   5 * time.Minute,
	}, bootstrap.Env{Access: l.Access, Embedded: embedded.FS(), WorkspaceSrc: embedded.Workspace()}
}

// copySolution writes embedded/solutions/step-N/charts/<chart>/… over the
// workspace chart.
func copySolution(ws string, step int, chartName string) error {
	fsys := embedded.FS()
	dir := path.Join("solutions", fmt.Sprintf("step-%d", step), "charts", chartName)
	if _, err := fs.Stat(fsys, dir); err != nil {
		return fmt.Errorf("no reference solution for %s in step %d: %w", chartName, step, err)
	}
	return fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(workshop.AppChartDir(ws, chartName), filepath.FromSlash(p[len(dir)+1:]))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
}

// solutionValues reads embedded/solutions/step-N/values/<file>.
func solutionValues(step int, file string) (map[string]any, error) {
	data, err := fs.ReadFile(embedded.FS(), path.Join("solutions", fmt.Sprintf("step-%d", step), "values", file))
	if err != nil {
		return nil, err
	}
	vals := map[string]any{}
	return vals, yaml.Unmarshal(data, &vals)
}

// monitoringSteps are the steps that install an upstream chart, with the
// learner's values file and the chart.
var monitoringSteps = map[int]struct {
	file  string
	chart versions.Chart
}{
	5: {"prometheus.yaml", versions.KubePrometheusStack},
	6: {"prometheus-redis-exporter.yaml", versions.RedisExporter},
	8: {"prometheus-adapter.yaml", versions.PrometheusAdapter},
}

// InstallStep installs step 5, 6 or 8 with the reference values through the
// product's installer, from the lab's repository of stand-in charts. mutate,
// when not nil, changes the values first (a learner's mistake).
func (l *Lab) InstallStep(ctx context.Context, step int, mutate func(vals map[string]any)) error {
	s, ok := monitoringSteps[step]
	if !ok {
		return fmt.Errorf("step %d installs no upstream chart (5, 6 and 8 do)", step)
	}
	inst, err := l.Installer()
	if err != nil {
		return err
	}
	vals, err := solutionValues(step, s.file)
	if err != nil {
		return err
	}
	if mutate != nil {
		mutate(vals)
	}
	c := s.chart
	_, err = inst.Apply(ctx, helm.Release{Name: c.Release, Namespace: c.Namespace, Source: helm.Source{Upstream: &c}, Values: vals})
	return err
}

// InstallMonitoring installs steps 5, 6 and 8 with the reference values
// (kube-prometheus-stack as release prometheus, prometheus-redis-exporter,
// prometheus-adapter).
func (l *Lab) InstallMonitoring(ctx context.Context) error {
	for _, step := range []int{5, 6, 8} {
		if err := l.InstallStep(ctx, step, nil); err != nil {
			return err
		}
	}
	return nil
}

// IngressAddr is the lab's "port 80 of the laptop": the node address of
// Traefik's pod (its hostPort), where the ingress stand-in listens.
func (l *Lab) IngressAddr(ctx context.Context) (string, error) {
	pods, err := l.client.CoreV1().Pods(versions.Traefik.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=traefik"})
	if err != nil {
		return "", err
	}
	if len(pods.Items) != 1 || pods.Items[0].Status.HostIP == "" {
		return "", fmt.Errorf("want one traefik pod with a host IP, found %d", len(pods.Items))
	}
	return net.JoinHostPort(pods.Items[0].Status.HostIP, "80"), nil
}

// ServiceAddr returns podIP:port of a ready endpoint of a Service (port is
// the Service's port), waiting up to timeout.
func (l *Lab) ServiceAddr(ctx context.Context, ns, name string, port int, timeout time.Duration) (string, error) {
	var addr string
	err := waitFor(ctx, nil, timeout, func(ctx context.Context) error {
		o, ok, err := l.kubelet.svcs.GetByKey(ns + "/" + name)
		if err != nil || !ok {
			return fmt.Errorf("Service %s/%s not found", ns, name)
		}
		ip, p, err := l.kubelet.endpoint(o.(*corev1.Service), strconv.Itoa(port))
		if err != nil {
			return err
		}
		addr = net.JoinHostPort(ip, strconv.Itoa(p))
		return nil
	})
	return addr, err
}

// RunningPods counts pods in ns matching selector whose processes the
// process kubelet runs right now.
func (l *Lab) RunningPods(ns, selector string) (int, error) {
	sel, err := metav1.ParseToLabelSelector(selector)
	if err != nil {
		return 0, err
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return 0, err
	}
	pods, err := l.client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: s.String()})
	if err != nil {
		return 0, err
	}
	n := 0
	l.kubelet.mu.Lock()
	defer l.kubelet.mu.Unlock()
	for _, p := range pods.Items {
		run := l.kubelet.pods[p.UID]
		if run == nil {
			continue
		}
		run.mu.Lock()
		alive := len(run.procs) > 0
		for _, proc := range run.procs {
			alive = alive && !proc.Exited()
		}
		run.mu.Unlock()
		if alive {
			n++
		}
	}
	return n, nil
}

// StartPrometheusProxy serves, on an address of the lab, a reverse proxy to
// the Prometheus of kube-prometheus-stack (Service
// prometheus-kube-prometheus-prometheus:9090 in prometheus), resolved on each
// request: a stand-in for the Ingress prometheus.<domain>. Before step 5 it
// answers 503. It returns the URL.
func (l *Lab) StartPrometheusProxy(ctx context.Context) (string, error) {
	ip, err := l.allocIP(false)
	if err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", ip+":9090")
	if err != nil {
		return "", err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr, err := l.ServiceAddr(r.Context(), versions.KubePrometheusStack.Namespace, "prometheus-kube-prometheus-prometheus", 9090, 100*time.Millisecond)
		if err != nil {
			http.Error(w, "lab: no Prometheus yet (step 5 installs it): "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", addr
		}}).ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return "http://" + ip + ":9090", nil
}
