// Package probe reads what dojo check judges: Kubernetes objects, Helm
// releases, Prometheus's answers, HTTP through the service proxy and through
// the laptop's port 80. A probe decides nothing: every read returns a fact
// of package judge, its error included.
package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/kubedojo/dojo/internal/check/judge"
	"github.com/kubedojo/dojo/internal/helm"
	"github.com/kubedojo/dojo/internal/pods"
	"github.com/kubedojo/dojo/internal/prom"
)

// Releases reads Helm releases (*helm.Installer is one).
type Releases interface {
	Last(ctx context.Context, name, ns string) (*helm.Deployed, error)
}

// World is everything a probe may read. Nil members make the probes that
// need them return an error fact.
type World struct {
	// Context is the kubeconfig context, for messages.
	Context  string
	Kube     kubernetes.Interface
	Dynamic  dynamic.Interface
	Releases Releases
	// Prometheus is reached through the service proxy unless the learner
	// gave a URL.
	Prometheus prom.Querier
	// IngressAddr is where the laptop's port 80 is ("127.0.0.1:80").
	IngressAddr string
	// HTTP makes the requests to IngressAddr (a plain client when nil).
	HTTP *http.Client
	// AccessErr says why Kube and Dynamic are nil (no such context, …).
	AccessErr error
	// Workspace is the learner's workspace ("" when unknown).
	Workspace string
	// PrometheusErr says why Prometheus is nil.
	PrometheusErr error
}

// ValuesFile reads a values file of the learner's workspace (rel such as
// "values/prometheus-redis-exporter.yaml"); nil when absent or unreadable.
func ValuesFile(w *World, rel string) map[string]any {
	if w.Workspace == "" {
		return nil
	}
	data, err := os.ReadFile(filepath.Join(w.Workspace, filepath.FromSlash(rel)))
	if err != nil {
		return nil
	}
	vals := map[string]any{}
	if err := yaml.Unmarshal(data, &vals); err != nil {
		return nil
	}
	return vals
}

// The resources read without discovery.
var (
	PrometheusGVR     = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "prometheuses"}
	RuleGVR           = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "prometheusrules"}
	ServiceMonitorGVR = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"}
	APIServiceGVR     = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}
)

// noPrometheus is the error of a query without a Prometheus client.
func (w *World) noPrometheus() error {
	if w.PrometheusErr != nil {
		return w.PrometheusErr
	}
	if w.AccessErr != nil {
		return w.AccessErr
	}
	return fmt.Errorf("no Prometheus client")
}

// noCluster is the error of a read without a cluster: why there is none.
func (w *World) noCluster() error {
	if w.AccessErr != nil {
		return w.AccessErr
	}
	return fmt.Errorf("no cluster access")
}

// Release reads release name in ns.
func Release(ctx context.Context, w *World, name, ns string) judge.Release {
	f := judge.Release{Name: name, Namespace: ns}
	if w.Releases == nil {
		f.Err = w.noCluster()
		return f
	}
	d, err := w.Releases.Last(ctx, name, ns)
	if err != nil || d == nil {
		f.Err = err
		return f
	}
	f.Found, f.Status, f.Chart, f.Version, f.Values, f.Description = true, d.Status, d.Chart, d.Version, d.Values, d.Description
	return f
}

// Deployment reads a Deployment and, when some replica is not ready, why.
func Deployment(ctx context.Context, w *World, ns, name string) judge.Workload {
	f := judge.Workload{Kind: "Deployment", Namespace: ns, Name: name}
	if w.Kube == nil {
		f.Err = w.noCluster()
		return f
	}
	d, err := w.Kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return f
	}
	if err != nil {
		f.Err = err
		return f
	}
	f.Found = true
	f.Desired = 1
	if d.Spec.Replicas != nil {
		f.Desired = *d.Spec.Replicas
	}
	f.Ready, f.Replicas = d.Status.ReadyReplicas, d.Status.Replicas
	if f.Ready < f.Desired {
		f.Pods = notReady(ctx, w, d)
	}
	return f
}

func notReady(ctx context.Context, w *World, d *appsv1.Deployment) []string {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil
	}
	var out []string
	for _, r := range pods.NotReady(ctx, w.Kube, []pods.Selector{{Namespace: d.Namespace, Labels: sel.String()}}) {
		out = append(out, r.Name+": "+r.Reason)
	}
	return out
}

// Object reads one object through the dynamic client (ns "" for a cluster
// object).
func Object(ctx context.Context, w *World, gvr schema.GroupVersionResource, ns, name string) judge.Object {
	var f judge.Object
	if w.Dynamic == nil {
		f.Err = w.noCluster()
		return f
	}
	var ri dynamic.ResourceInterface = w.Dynamic.Resource(gvr)
	if ns != "" {
		ri = w.Dynamic.Resource(gvr).Namespace(ns)
	}
	u, err := ri.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return f
	}
	if err != nil {
		f.Err = err
		return f
	}
	f.Found, f.Labels, f.Annotations, f.Content = true, u.GetLabels(), u.GetAnnotations(), u.Object
	return f
}

// IngressClass reads an IngressClass.
func IngressClass(ctx context.Context, w *World, name string) judge.Object {
	var f judge.Object
	if w.Kube == nil {
		f.Err = w.noCluster()
		return f
	}
	ic, err := w.Kube.NetworkingV1().IngressClasses().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return f
	}
	f.Err = err
	f.Found = err == nil
	if f.Found {
		f.Labels, f.Annotations = ic.Labels, ic.Annotations
	}
	return f
}

// Ingresses lists the Ingresses of ns.
func Ingresses(ctx context.Context, w *World, ns string) judge.Ingresses {
	var f judge.Ingresses
	if w.Kube == nil {
		f.Err = w.noCluster()
		return f
	}
	list, err := w.Kube.NetworkingV1().Ingresses(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		f.Err = err
		return f
	}
	for _, in := range list.Items {
		i := judge.Ingress{Namespace: in.Namespace, Name: in.Name}
		if in.Spec.IngressClassName != nil {
			i.Class = *in.Spec.IngressClassName
		}
		for _, r := range in.Spec.Rules {
			i.Hosts = append(i.Hosts, r.Host)
			if r.HTTP == nil {
				continue
			}
			for _, p := range r.HTTP.Paths {
				if s := p.Backend.Service; s != nil {
					i.Backends = append(i.Backends, fmt.Sprintf("%s:%d", s.Name, s.Port.Number))
				}
			}
		}
		f.Items = append(f.Items, i)
	}
	return f
}

// Service reads a Service's ports.
func Service(ctx context.Context, w *World, ns, name string) judge.ServicePorts {
	var f judge.ServicePorts
	if w.Kube == nil {
		f.Err = w.noCluster()
		return f
	}
	s, err := w.Kube.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return f
	}
	if err != nil {
		f.Err = err
		return f
	}
	f.Found = true
	for _, p := range s.Spec.Ports {
		f.Ports = append(f.Ports, p.Port)
	}
	return f
}

// ServiceProxy makes a request to a Service through the API server.
func ServiceProxy(ctx context.Context, w *World, method, ns, svc string, port int, path string) judge.HTTPAnswer {
	a := judge.HTTPAnswer{URL: path, Via: fmt.Sprintf("the API server's proxy to Service %s/%s:%d", ns, svc, port)}
	if w.Kube == nil {
		a.Err = w.noCluster()
		return a
	}
	res := w.Kube.CoreV1().RESTClient().Verb(method).
		AbsPath(fmt.Sprintf("/api/v1/namespaces/%s/services/http:%s:%d/proxy%s", ns, svc, port, path)).Do(ctx)
	body, err := res.Raw()
	res.StatusCode(&a.Code)
	a.Body = string(body)
	if err != nil && a.Code == 0 {
		a.Err = err
	}
	return a
}

// Ingress makes a request to the laptop's port 80 with Host host, as curl
// http://host/path does once host resolves to this machine.
func Ingress(ctx context.Context, w *World, method, host, path string) judge.HTTPAnswer {
	addr := w.IngressAddr
	if addr == "" {
		addr = "127.0.0.1:80"
	}
	a := judge.HTTPAnswer{URL: "http://" + host + path, Via: addr}
	c := w.HTTP
	if c == nil {
		d := &net.Dialer{Timeout: 3 * time.Second}
		c = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, addr)
			},
		}}
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+host+path, nil)
	if err != nil {
		a.Err = err
		return a
	}
	resp, err := c.Do(req)
	if err != nil {
		a.Err = err
		return a
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	a.Code, a.Body = resp.StatusCode, string(body)
	return a
}

// Queue reads the queue's length from the producer, through the service
// proxy.
func Queue(ctx context.Context, w *World, ns, producer string, port int) judge.Queue {
	a := ServiceProxy(ctx, w, http.MethodGet, ns, producer, port, "/queue")
	if a.Err != nil {
		return judge.Queue{Err: a.Err}
	}
	if a.Code != http.StatusOK {
		return judge.Queue{Err: fmt.Errorf("GET /queue on the producer answered HTTP %d: %s", a.Code, strings.TrimSpace(a.Body))}
	}
	var body struct {
		Length *int64 `json:"length"`
	}
	if err := json.Unmarshal([]byte(a.Body), &body); err != nil || body.Length == nil {
		return judge.Queue{Err: fmt.Errorf("GET /queue on the producer answered %q (an older producer? run dojo up)", strings.TrimSpace(a.Body))}
	}
	return judge.Queue{Length: *body.Length}
}

// Query asks Prometheus.
func Query(ctx context.Context, w *World, expr string) judge.Query {
	q := judge.Query{Expr: expr}
	if w.Prometheus == nil {
		q.Err = w.noPrometheus()
		return q
	}
	q.Samples, q.Err = w.Prometheus.Query(ctx, expr)
	return q
}

// Config reads Prometheus's running configuration.
func Config(ctx context.Context, w *World) judge.Config {
	if w.Prometheus == nil {
		return judge.Config{Err: w.noPrometheus()}
	}
	y, err := w.Prometheus.Config(ctx)
	return judge.Config{YAML: y, Err: err}
}

// Rules reads Prometheus's loaded rules.
func Rules(ctx context.Context, w *World) judge.Rules {
	if w.Prometheus == nil {
		return judge.Rules{Err: w.noPrometheus()}
	}
	g, err := w.Prometheus.Rules(ctx)
	return judge.Rules{Groups: g, Err: err}
}

// Targets reads Prometheus's active targets.
func Targets(ctx context.Context, w *World) judge.Targets {
	if w.Prometheus == nil {
		return judge.Targets{Err: w.noPrometheus()}
	}
	t, err := w.Prometheus.Targets(ctx)
	return judge.Targets{Items: t, Err: err}
}

// Selectors reads the four selectors of a Prometheus resource.
func Selectors(o judge.Object) (judge.LabelSelectors, string) {
	var s judge.LabelSelectors
	spec, _ := o.Content["spec"].(map[string]any)
	get := func(field string) *metav1.LabelSelector {
		v, ok := spec[field]
		if !ok || v == nil {
			return nil
		}
		var sel metav1.LabelSelector
		data, _ := json.Marshal(v)
		if err := json.Unmarshal(data, &sel); err != nil {
			return nil
		}
		return &sel
	}
	s.Rule, s.RuleNamespace = get("ruleSelector"), get("ruleNamespaceSelector")
	s.ServiceMonitor, s.ServiceMonitorNamespace = get("serviceMonitorSelector"), get("serviceMonitorNamespaceSelector")
	interval, _ := spec["scrapeInterval"].(string)
	return s, interval
}

// RecordingRules lists the recording rules of metric in every
// PrometheusRule of the cluster.
func RecordingRules(ctx context.Context, w *World, metric string) judge.PrometheusRules {
	var f judge.PrometheusRules
	if w.Dynamic == nil {
		f.Err = w.noCluster()
		return f
	}
	list, err := w.Dynamic.Resource(RuleGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		f.Err = err
		return f
	}
	for _, u := range list.Items {
		var pr struct {
			Spec struct {
				Groups []struct {
					Name     string `json:"name"`
					Interval string `json:"interval"`
					Rules    []struct {
						Record string `json:"record"`
						Expr   any    `json:"expr"`
					} `json:"rules"`
				} `json:"groups"`
			} `json:"spec"`
		}
		if err := fromUnstructured(&u, &pr); err != nil {
			continue
		}
		for _, g := range pr.Spec.Groups {
			for _, r := range g.Rules {
				if r.Record != metric {
					continue
				}
				f.Found = append(f.Found, judge.RecordingRuleObject{Rule: u.GetNamespace() + "/" + u.GetName(),
					Release: u.GetAnnotations()["meta.helm.sh/release-name"], Group: g.Name, Interval: g.Interval, Expr: fmt.Sprint(r.Expr)})
			}
		}
	}
	return f
}

func fromUnstructured(u *unstructured.Unstructured, into any) error {
	data, err := json.Marshal(u.Object)
	if err != nil {
		return err
	}
	return json.NewDecoder(bytes.NewReader(data)).Decode(into)
}

// APIService reads an APIService and its Available condition.
func APIService(ctx context.Context, w *World, name string) judge.APIService {
	o := Object(ctx, w, APIServiceGVR, "", name)
	a := judge.APIService{Found: o.Found, Err: o.Err}
	if !o.Found {
		return a
	}
	var as struct {
		Spec struct {
			Service *struct {
				Namespace string `json:"namespace"`
				Name      string `json:"name"`
			} `json:"service"`
		} `json:"spec"`
		Status struct {
			Conditions []struct {
				Type    string `json:"type"`
				Status  string `json:"status"`
				Reason  string `json:"reason"`
				Message string `json:"message"`
			} `json:"conditions"`
		} `json:"status"`
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Content, &as); err != nil {
		a.Err = err
		return a
	}
	if as.Spec.Service != nil {
		a.ServiceNS, a.ServiceName = as.Spec.Service.Namespace, as.Spec.Service.Name
	}
	for _, c := range as.Status.Conditions {
		if c.Type == "Available" {
			a.Available, a.Reason, a.Message = c.Status == "True", c.Reason, c.Message
		}
	}
	return a
}

// CustomMetric reads a metric of the custom metrics API.
func CustomMetric(ctx context.Context, w *World, path string) judge.CustomMetric {
	var m judge.CustomMetric
	if w.Kube == nil {
		m.Err = w.noCluster()
		return m
	}
	raw, err := w.Kube.CoreV1().RESTClient().Get().AbsPath(path).DoRaw(ctx)
	if err != nil {
		m.Err = err
		return m
	}
	var list struct {
		Items []struct {
			Value string `json:"value"`
		} `json:"items"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		m.Err = fmt.Errorf("the answer is not a metric list: %w", err)
		return m
	}
	for _, it := range list.Items {
		m.Values = append(m.Values, it.Value)
	}
	return m
}

// HPA reads a HorizontalPodAutoscaler through autoscaling/v2.
func HPA(ctx context.Context, w *World, ns, name string) judge.HPA {
	var h judge.HPA
	if w.Kube == nil {
		h.Err = w.noCluster()
		return h
	}
	o, err := w.Kube.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return h
	}
	h.Object, h.Err, h.Found = o, err, err == nil
	return h
}

// Published is what the producer answered to a publish.
type Published struct {
	N               int
	FirstID, LastID string
}

// Publish pushes n items through the producer (service proxy).
func Publish(ctx context.Context, w *World, ns, producer string, port, n int) (Published, error) {
	a := ServiceProxy(ctx, w, http.MethodPost, ns, producer, port, fmt.Sprintf("/publish/%d", n))
	if a.Err != nil {
		return Published{}, a.Err
	}
	if a.Code != http.StatusOK {
		return Published{}, fmt.Errorf("POST /publish/%d on the producer answered HTTP %d: %s", n, a.Code, strings.TrimSpace(a.Body))
	}
	p, ok := ParsePublished(a)
	if !ok {
		return Published{}, fmt.Errorf("the producer's answer %q is not a publish result", a.Body)
	}
	return p, nil
}

// Withdraw takes back the items of p that still wait in the queue.
func Withdraw(ctx context.Context, w *World, ns, producer string, port int, p Published) (int64, error) {
	if w.Kube == nil {
		return 0, w.noCluster()
	}
	body, _ := json.Marshal(map[string]string{"first_id": p.FirstID, "last_id": p.LastID})
	raw, err := w.Kube.CoreV1().RESTClient().Post().
		AbsPath(fmt.Sprintf("/api/v1/namespaces/%s/services/http:%s:%d/proxy/withdraw", ns, producer, port)).
		SetHeader("Content-Type", "application/json").Body(body).DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("withdraw on the producer: %w (%s)", err, strings.TrimSpace(string(raw)))
	}
	var res struct {
		Withdrawn int64 `json:"withdrawn"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return 0, err
	}
	return res.Withdrawn, nil
}

// ParsePublished reads the producer's answer to a publish.
func ParsePublished(a judge.HTTPAnswer) (Published, bool) {
	if a.Err != nil || a.Code != http.StatusOK {
		return Published{}, false
	}
	var body struct {
		Published int    `json:"published"`
		FirstID   string `json:"first_id"`
		LastID    string `json:"last_id"`
	}
	if err := json.Unmarshal([]byte(a.Body), &body); err != nil || body.FirstID == "" {
		return Published{}, false
	}
	return Published{N: body.Published, FirstID: body.FirstID, LastID: body.LastID}, true
}
