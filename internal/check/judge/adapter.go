package judge

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/workshop"
)

// AdapterValues is the learner's values file for prometheus-adapter.
const AdapterValues = "values/prometheus-adapter.yaml"

// ChartAdapterURL and ChartAdapterPort are the chart's defaults for
// prometheus.url and prometheus.port.
const (
	ChartAdapterURL  = "http://prometheus.default.svc"
	ChartAdapterPort = 9090
)

// AdapterURL is where the adapter's values send it: prometheus.url and
// prometheus.port with the chart's defaults.
func AdapterURL(vals map[string]any) (string, int) {
	u, ok := lookup(vals, "prometheus.url")
	s, _ := u.(string)
	if !ok || s == "" {
		s = ChartAdapterURL
	}
	port := ChartAdapterPort
	if p, ok := lookup(vals, "prometheus.port"); ok {
		switch v := p.(type) {
		case float64:
			port = int(v)
		case int64:
			port = int(v)
		case int:
			port = v
		case string:
			if n, err := strconv.Atoi(v); err == nil {
				port = n
			}
		}
	}
	return s, port
}

// ServiceOf resolves a cluster URL's host to the Service it names
// ("name.ns.svc[.cluster.local]", "name.ns"); ok false for any other host.
func ServiceOf(raw string) (ns, name string, ok bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", false
	}
	parts := strings.Split(strings.TrimSuffix(u.Hostname(), "."), ".")
	switch {
	case len(parts) == 2, len(parts) == 3 && parts[2] == "svc",
		len(parts) == 5 && parts[2] == "svc" && parts[3] == "cluster" && parts[4] == "local":
		return parts[1], parts[0], true
	}
	return "", "", false
}

// ServicePorts is a Service's ports as a probe read them.
type ServicePorts struct {
	Found bool
	Ports []int32
	Err   error
}

// PrometheusOperated is the headless Service the Prometheus operator
// creates for every Prometheus it runs: it reaches the same pods.
const PrometheusOperated = "prometheus-operated"

// PrometheusURL judges the adapter's URL: it must name a Service of the
// Prometheus of step 5 (the chart's, or the operator's prometheus-operated),
// and that Service must exist and serve the port.
// installed says whether the values are the release's (else the learner's
// values file, before any install).
func PrometheusURL(vals map[string]any, installed bool, svc ServicePorts) check.Result {
	raw, port := AdapterURL(vals)
	want := fmt.Sprintf("%s:%d", workshop.PrometheusURL, workshop.PrometheusPort)
	expected := "prometheus.url and prometheus.port reach " + want
	next := fmt.Sprintf("set prometheus.url: %s and prometheus.port: %d in %s", workshop.PrometheusURL, workshop.PrometheusPort, AdapterValues)
	got := fmt.Sprintf("%s:%d", raw, port)
	queries := "the adapter queries"
	if !installed {
		queries = AdapterValues + " sends the adapter to"
	}
	if u, err := url.Parse(raw); err == nil && u.Port() != "" {
		return fail(fmt.Sprintf("prometheus.url %s carries a port, and the chart adds prometheus.port to it (%s)", raw, got), expected, next)
	}
	ns, name, ok := ServiceOf(raw)
	switch {
	case !ok:
		return fail(queries+" "+got+", which is not a Service of the cluster", expected, next)
	case ns != workshop.PrometheusNamespace || (name != workshop.PrometheusName && name != PrometheusOperated):
		obs := fmt.Sprintf("%s %s, the Service %s/%s", queries, got, ns, name)
		if svc.Err == nil && !svc.Found {
			obs += ", which does not exist"
		}
		return fail(obs, expected, next)
	case svc.Err != nil:
		return fail("could not read the Service "+ns+"/"+name+": "+firstLine(svc.Err), expected, next)
	case !svc.Found:
		return fail(fmt.Sprintf("%s %s but the Service %s/%s does not exist", queries, got, ns, name), expected, "install step 5 first")
	}
	for _, p := range svc.Ports {
		if int(p) == port {
			if name == PrometheusOperated {
				return pass("%s %s, the operator's Service for the same Prometheus (the reference uses %s)", queries, got, want)
			}
			return pass("%s %s", queries, got)
		}
	}
	return fail(fmt.Sprintf("the adapter queries port %d; the Service %s/%s serves %v", port, ns, name, svc.Ports), expected, next)
}

// APIService is the custom metrics APIService as a probe read it.
type APIService struct {
	Found                  bool
	ServiceNS, ServiceName string
	Available              bool
	Reason, Message        string
	Err                    error
}

// APIServiceAvailable judges v1beta1.custom.metrics.k8s.io.
func APIServiceAvailable(a APIService) check.Result {
	expected := "the APIService " + workshop.CustomMetricsAPIService + " points to prometheus/prometheus-adapter and is Available"
	switch {
	case a.Err != nil:
		return fail("could not read the APIService: "+firstLine(a.Err), expected, "dojo check step-2")
	case !a.Found:
		return fail("no APIService "+workshop.CustomMetricsAPIService, expected, "the adapter chart creates it: install the release prometheus-adapter")
	case a.ServiceNS != workshop.PrometheusNamespace || a.ServiceName != "prometheus-adapter":
		return fail(fmt.Sprintf("the APIService points to %s/%s", a.ServiceNS, a.ServiceName), expected,
			"another adapter owns the custom metrics API: remove it (kubectl get apiservice "+workshop.CustomMetricsAPIService+" -o yaml shows its owner)")
	case !a.Available:
		return fail(fmt.Sprintf("the APIService is not Available: %s: %s", a.Reason, a.Message), expected,
			"look at the adapter's pod: kubectl logs -n prometheus deploy/prometheus-adapter")
	}
	return pass("the APIService %s points to prometheus/prometheus-adapter and is Available", workshop.CustomMetricsAPIService)
}

// CustomMetricPath is where the Kubernetes API serves the queue's metric.
const CustomMetricPath = "/apis/custom.metrics.k8s.io/v1beta1/namespaces/" + workshop.AppNamespace + "/services/" + workshop.ExporterService + "/" + workshop.RecordedMetric

// CustomMetric is the Kubernetes API's answer for the metric.
type CustomMetric struct {
	// Values are the items' values (quantities).
	Values []string
	Err    error
}

// MetricServed judges the custom metrics API's answer.
func MetricServed(m CustomMetric) check.Result {
	expected := "GET " + CustomMetricPath + " returns one value"
	see := "see it yourself: kubectl get --raw " + CustomMetricPath
	switch {
	case m.Err != nil:
		return fail("the Kubernetes API answered: "+firstLine(m.Err), expected,
			"add a custom rule for redis_.* series mapping the labels namespace and service ("+AdapterValues+"); "+see)
	case len(m.Values) == 0:
		return fail("the Kubernetes API answered with no value", expected, see)
	}
	return pass("the Kubernetes API serves %s = %s", workshop.RecordedMetric, m.Values[0])
}

// ValueMatches judges that the custom metrics API and Prometheus agree. The
// queue moves between the two reads, so a difference of one item, or a
// tenth, passes.
func ValueMatches(m CustomMetric, q Query) check.Result {
	expected := "the two values agree"
	if len(m.Values) == 0 || m.Err != nil {
		return fail("the Kubernetes API gave no value", expected, "kubectl get --raw "+CustomMetricPath)
	}
	if q.Err != nil || len(q.Samples) == 0 {
		return fail("Prometheus has no "+workshop.RecordedMetric+workshop.QueueSelector, expected, "dojo check step-7")
	}
	qty, err := resource.ParseQuantity(m.Values[0])
	if err != nil {
		return fail("the Kubernetes API's value "+m.Values[0]+" is not a quantity", expected, "kubectl get --raw "+CustomMetricPath)
	}
	api := qty.AsApproximateFloat64()
	pv := q.Samples[0].Value
	if diff := math.Abs(api - pv); diff <= math.Max(1, 0.1*math.Abs(pv)) {
		return pass("the Kubernetes API says %s, Prometheus %s", m.Values[0], strconv.FormatFloat(pv, 'g', -1, 64))
	}
	return fail(fmt.Sprintf("the Kubernetes API says %s, Prometheus %s", m.Values[0], strconv.FormatFloat(pv, 'g', -1, 64)), expected,
		"the adapter's metricsQuery changes the value: use metricsQuery: '<<.Series>>{<<.LabelMatchers>>}' in "+AdapterValues)
}
