package probe

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"sigs.k8s.io/yaml"
)

func obj(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(y), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func world(t *testing.T, objs ...runtime.Object) *World {
	lists := map[schema.GroupVersionResource]string{
		APIServiceGVR: "APIServiceList", RuleGVR: "PrometheusRuleList", PrometheusGVR: "PrometheusList", ServiceMonitorGVR: "ServiceMonitorList",
	}
	return &World{Dynamic: dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), lists, objs...)}
}

// The probes parse what the API server returns as the API server writes it
// (recorded shapes, lower-case JSON keys).
func TestAPIServiceConditionIsRead(t *testing.T) {
	w := world(t, obj(t, `
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.custom.metrics.k8s.io}
spec: {service: {namespace: prometheus, name: prometheus-adapter}, group: custom.metrics.k8s.io, version: v1beta1}
status:
  conditions:
  - {type: Available, status: "False", reason: FailedDiscoveryCheck, message: "failing or missing response from https://10.96.0.9:443"}
`))
	a := APIService(context.Background(), w, "v1beta1.custom.metrics.k8s.io")
	if !a.Found || a.Available || a.Reason != "FailedDiscoveryCheck" || a.Message == "" || a.ServiceNS != "prometheus" || a.ServiceName != "prometheus-adapter" {
		t.Fatalf("APIService read as %+v", a)
	}
	if a := APIService(context.Background(), w, "v1beta1.external.metrics.k8s.io"); a.Found || a.Err != nil {
		t.Fatalf("a missing APIService: %+v", a)
	}
}

func TestPrometheusSelectorsAreRead(t *testing.T) {
	w := world(t, obj(t, `
apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata: {name: prometheus-kube-prometheus-prometheus, namespace: prometheus}
spec:
  scrapeInterval: 5s
  ruleSelector: {}
  ruleNamespaceSelector: {}
  serviceMonitorSelector: {matchLabels: {release: prometheus}}
`))
	o := Object(context.Background(), w, PrometheusGVR, "prometheus", "prometheus-kube-prometheus-prometheus")
	sel, interval := Selectors(o)
	if interval != "5s" || sel.Rule == nil || sel.RuleNamespace == nil || sel.ServiceMonitorNamespace != nil ||
		sel.ServiceMonitor == nil || sel.ServiceMonitor.MatchLabels["release"] != "prometheus" {
		t.Fatalf("selectors read as %+v, interval %q", sel, interval)
	}
}

func TestRecordingRulesAreFoundInEveryNamespace(t *testing.T) {
	w := world(t,
		obj(t, `
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: consumer, namespace: default, annotations: {meta.helm.sh/release-name: consumer}}
spec:
  groups:
  - name: queue
    interval: 1s
    rules:
    - record: redis_items_in_queue
      expr: redis_key_size{key="padok"}
    - alert: Other
      expr: up == 0
`),
		obj(t, `
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: mine, namespace: team-a}
spec: {groups: [{name: g, rules: [{record: redis_items_in_queue, expr: "1"}]}]}
`))
	rs := RecordingRules(context.Background(), w, "redis_items_in_queue")
	if rs.Err != nil || len(rs.Found) != 2 {
		t.Fatalf("found %+v (%v)", rs.Found, rs.Err)
	}
	for _, r := range rs.Found {
		if r.Rule == "default/consumer" && (r.Release != "consumer" || r.Interval != "1s" || r.Group != "queue" || r.Expr != `redis_key_size{key="padok"}`) {
			t.Errorf("the consumer's rule read as %+v", r)
		}
	}
}
