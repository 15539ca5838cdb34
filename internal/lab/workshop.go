package lab

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httputil"
	"path"
	"strconv"
	"time"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/versions"
)

// WorkshopChart loads an embedded workspace chart (redis, producer,
// consumer) and overlays the reference solution files of the given steps
// (embedded/solutions/step-N/charts/<name>/...).
func WorkshopChart(name string, solutionSteps ...int) (*chart.Chart, error) {
	fsys := embedded.FS()
	files := map[string][]byte{}
	add := func(dir string) error {
		return fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			rel := p[len(dir)+1:]
			files[rel] = data
			return nil
		})
	}
	if err := add(path.Join("workspace", "charts", name)); err != nil {
		return nil, err
	}
	for _, step := range solutionSteps {
		dir := path.Join("solutions", fmt.Sprintf("step-%d", step), "charts", name)
		if _, err := fs.Stat(fsys, dir); err != nil {
			return nil, fmt.Errorf("no reference solution for %s in step %d: %w", name, step, err)
		}
		if err := add(dir); err != nil {
			return nil, err
		}
	}
	var bf []*archiveFile
	for n, d := range files {
		bf = append(bf, &archiveFile{Name: n, Data: d})
	}
	return loader.LoadFiles(bf)
}

// SolutionValues reads embedded/solutions/step-N/values/<file>.
func SolutionValues(step int, file string) (map[string]any, error) {
	data, err := fs.ReadFile(embedded.FS(), path.Join("solutions", fmt.Sprintf("step-%d", step), "values", file))
	if err != nil {
		return nil, err
	}
	vals := map[string]any{}
	return vals, yaml.Unmarshal(data, &vals)
}

// InstallApp installs what `dojo up` leaves running: the embedded charts
// redis, producer and consumer in the namespace default (consumer with the
// reference solutions of extraConsumerSteps, e.g. 7 and 10), and waits for
// Redis and the producer to be ready.
func (l *Lab) InstallApp(ctx context.Context, extraConsumerSteps ...int) error {
	for _, name := range []string{"redis", "producer", "consumer"} {
		var steps []int
		if name == "consumer" {
			steps = extraConsumerSteps
		}
		ch, err := WorkshopChart(name, steps...)
		if err != nil {
			return err
		}
		if err := l.Install(ctx, Release{Name: name, Namespace: "default", Chart: ch, Wait: name != "consumer"}); err != nil {
			return err
		}
	}
	return nil
}

// InstallMonitoring installs steps 5, 6 and 8 with the reference values, from
// the lab's repository of stand-in charts: kube-prometheus-stack (release
// prometheus), prometheus-redis-exporter, prometheus-adapter.
func (l *Lab) InstallMonitoring(ctx context.Context, overrides map[string]map[string]any) error {
	for _, s := range []struct {
		step  int
		file  string
		chart versions.Chart
	}{
		{5, "prometheus.yaml", versions.KubePrometheusStack},
		{6, "prometheus-redis-exporter.yaml", versions.RedisExporter},
		{8, "prometheus-adapter.yaml", versions.PrometheusAdapter},
	} {
		vals, err := SolutionValues(s.step, s.file)
		if err != nil {
			return err
		}
		for k, v := range overrides[s.chart.Release] {
			vals[k] = v
		}
		if err := l.Install(ctx, Release{Name: s.chart.Release, Namespace: s.chart.Namespace,
			ChartName: s.chart.Name, Version: s.chart.Version, Values: vals}); err != nil {
			return err
		}
	}
	return nil
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
