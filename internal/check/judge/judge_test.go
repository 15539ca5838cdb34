package judge

import (
	"errors"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/prom"
	"github.com/kubedojo/dojo/internal/versions"
)

// mustMention fails unless r has status want and each text appears in its
// observed value or its next action.
func mustMention(t *testing.T, name string, r check.Result, want check.Status, texts ...string) {
	t.Helper()
	if r.Status != want {
		t.Errorf("%s: status %s, want %s: %+v", name, r.Status, want, r)
		return
	}
	all := r.Observed + " | " + r.Expected + " | " + r.Next
	for _, s := range texts {
		if !strings.Contains(all, s) {
			t.Errorf("%s: %q does not mention %q", name, all, s)
		}
	}
}

func TestScrapeIntervalIsJudgedOnTheRunningConfiguration(t *testing.T) {
	cfg := func(s string) Config {
		return Config{YAML: "global:\n  scrape_interval: " + s + "\n  evaluation_interval: 30s\n"}
	}
	mustMention(t, "5s", ScrapeInterval(cfg("5s"), "5s", 5*time.Second), check.Pass, "5s")
	mustMention(t, "chart default", ScrapeInterval(cfg("30s"), "", 5*time.Second), check.Fail,
		"scrape_interval 30s", "not set on the Prometheus resource", "prometheus.prometheusSpec.scrapeInterval: 5s")
	mustMention(t, "learner's 30s", ScrapeInterval(cfg("30s"), "30s", 5*time.Second), check.Fail, "asks for 30s", "scrapeInterval: 5s")
	mustMention(t, "not reloaded", ScrapeInterval(cfg("30s"), "5s", 5*time.Second), check.Fail, "has not reloaded")
	mustMention(t, "unreadable", ScrapeInterval(Config{Err: errors.New("HTTP 503")}, "", 5*time.Second), check.Fail, "HTTP 503")
}

func sel(y string) *metav1.LabelSelector {
	if y == "nil" {
		return nil
	}
	var s metav1.LabelSelector
	if err := yaml.Unmarshal([]byte(y), &s); err != nil {
		panic(err)
	}
	return &s
}

func TestSelectorsAreEvaluatedAsLabelSelectors(t *testing.T) {
	cr := Object{Found: true}
	j := func(s, ns string) check.Result {
		return SelectsAll(cr, "PrometheusRule", "ruleSelector", sel(s), sel(ns), "ruleSelectorNilUsesHelmValues")
	}
	mustMention(t, "empty selects all", j("{}", "{}"), check.Pass)
	mustMention(t, "matchLabels {} selects all", j("{matchLabels: {}}", "{matchLabels: {}}"), check.Pass)
	mustMention(t, "a selector that excludes a label", j("{matchExpressions: [{key: app, operator: DoesNotExist}]}", "{}"), check.Fail, "!app", "app=consumer")
	mustMention(t, "chart's release label", j("{matchLabels: {release: prometheus}}", "{}"), check.Fail,
		"release=prometheus", "ruleSelectorNilUsesHelmValues: false", "values/prometheus.yaml")
	mustMention(t, "null selector", j("nil", "{}"), check.Fail, "selects no PrometheusRule")
	mustMention(t, "null namespace selector", j("{}", "nil"), check.Fail, "ruleNamespaceSelector", "only PrometheusRules in the namespace prometheus")
	mustMention(t, "namespace selector by name", j("{}", "{matchLabels: {kubernetes.io/metadata.name: default}}"), check.Fail, "team-a")
}

func TestExporterEnvGivenAsAMap(t *testing.T) {
	var vals map[string]any
	_ = yaml.Unmarshal([]byte("env:\n  REDIS_EXPORTER_CHECK_SINGLE_KEYS: padok\n"), &vals)
	r, ok := ExporterEnv(vals)
	if ok {
		t.Fatal("env as a map was accepted")
	}
	mustMention(t, "env map", r, check.Fail, "env is a map", "REDIS_EXPORTER_CHECK_SINGLE_KEYS: padok", "[{name: REDIS_EXPORTER_CHECK_SINGLE_KEYS, value: padok}]")
	_ = yaml.Unmarshal([]byte("env:\n- name: REDIS_EXPORTER_CHECK_SINGLE_KEYS\n  value: padok\n"), &vals)
	if _, ok := ExporterEnv(vals); !ok {
		t.Fatal("env as a list was refused")
	}
}

func TestAdapterURLMustNameTheServiceOfPrometheus(t *testing.T) {
	vals := func(u string) map[string]any {
		return map[string]any{"prometheus": map[string]any{"url": u, "port": float64(9090)}}
	}
	found := ServicePorts{Found: true, Ports: []int32{9090, 8080}}
	mustMention(t, "reference", PrometheusURL(vals("http://prometheus-kube-prometheus-prometheus.prometheus.svc"), true, found), check.Pass)
	mustMention(t, "long form", PrometheusURL(vals("http://prometheus-kube-prometheus-prometheus.prometheus.svc.cluster.local"), true, found), check.Pass)
	mustMention(t, "the operator's Service", PrometheusURL(vals("http://prometheus-operated.prometheus.svc"), true, ServicePorts{Found: true, Ports: []int32{9090}}), check.Pass, "prometheus-operated")
	mustMention(t, "the operator's Service, missing", PrometheusURL(vals("http://prometheus-operated.prometheus.svc"), true, ServicePorts{}), check.Fail, "does not exist")
	mustMention(t, "a Service that does not exist", PrometheusURL(vals("http://prometheus-server.prometheus.svc"), true, ServicePorts{}), check.Fail,
		"prometheus-server", "does not exist", "prometheus.url: http://prometheus-kube-prometheus-prometheus.prometheus.svc")
	mustMention(t, "chart default", PrometheusURL(nil, true, ServicePorts{}), check.Fail, "the adapter queries http://prometheus.default.svc:9090")
	mustMention(t, "before any install", PrometheusURL(nil, false, ServicePorts{}), check.Fail, "values/prometheus-adapter.yaml sends the adapter to http://prometheus.default.svc:9090")
	mustMention(t, "a URL with its own port", PrometheusURL(vals("http://prometheus-kube-prometheus-prometheus.prometheus.svc:9090"), true, found), check.Fail, "carries a port", ":9090:9090")
	mustMention(t, "wrong port", PrometheusURL(map[string]any{"prometheus": map[string]any{"url": "http://prometheus-kube-prometheus-prometheus.prometheus.svc", "port": float64(80)}}, true, found), check.Fail, "port 80")
}

func hpa(y string) HPA {
	var h autoscalingv2.HorizontalPodAutoscaler
	if err := yaml.Unmarshal([]byte(y), &h); err != nil {
		panic(err)
	}
	return HPA{Found: true, Object: &h}
}

const referenceHPA = `
metadata: {name: consumer, annotations: {meta.helm.sh/release-name: consumer}}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: consumer}
  minReplicas: 1
  maxReplicas: 20
  metrics:
  - type: Object
    object:
      describedObject: {apiVersion: v1, kind: Service, name: prometheus-redis-exporter}
      metric: {name: redis_items_in_queue, selector: {matchLabels: {key: padok}}}
      target: {type: AverageValue, averageValue: "20"}
`

func TestHPAIsJudgedByTheControllersPath(t *testing.T) {
	ref := hpa(referenceHPA)
	for name, r := range map[string]check.Result{
		"exists": HPAExists(ref), "target": ScaleTarget(ref, 1), "metric": ObjectMetric(ref), "average": AverageValueTarget(ref),
	} {
		mustMention(t, "reference "+name, r, check.Pass)
	}
	pods := hpa(strings.Replace(referenceHPA, `  - type: Object
    object:
      describedObject: {apiVersion: v1, kind: Service, name: prometheus-redis-exporter}
      metric: {name: redis_items_in_queue, selector: {matchLabels: {key: padok}}}
      target: {type: AverageValue, averageValue: "20"}`, `  - type: Pods
    pods:
      metric: {name: redis_items_in_queue}
      target: {type: AverageValue, averageValue: "20"}`, 1))
	mustMention(t, "Pods metric", ObjectMetric(pods), check.Fail, "Pods metric redis_items_in_queue", "type: Object")
	value := hpa(strings.Replace(referenceHPA, "type: AverageValue, averageValue", "type: Value, averageValue", 1))
	mustMention(t, "Value with averageValue", AverageValueTarget(value), check.Fail,
		"type Value with averageValue 20", "refuses", RefusedMessage, "FailedGetObjectMetric", "target.type: AverageValue")
	plainValue := hpa(strings.Replace(referenceHPA, "type: AverageValue, averageValue", "type: Value, value", 1))
	mustMention(t, "Value with value", AverageValueTarget(plainValue), check.Fail, "never divides")
	wrongSel := hpa(strings.Replace(referenceHPA, "key: padok", "key: other", 1))
	mustMention(t, "selector on another key", ObjectMetric(wrongSel), check.Fail, "key=other")
	richer := hpa(strings.Replace(referenceHPA, "{matchLabels: {key: padok}}", "{matchLabels: {key: padok, service: prometheus-redis-exporter}}", 1))
	mustMention(t, "a selector on more of the series' labels", ObjectMetric(richer), check.Pass)
	notIn := hpa(strings.Replace(referenceHPA, "{matchLabels: {key: padok}}", "{matchExpressions: [{key: key, operator: NotIn, values: [other]}]}", 1))
	mustMention(t, "a selector that lets other keys in", ObjectMetric(hpa(strings.Replace(referenceHPA, "{matchLabels: {key: padok}}", "{matchExpressions: [{key: key, operator: Exists}]}", 1))), check.Fail, "key")
	mustMention(t, "a selector that only keeps one other key out", ObjectMetric(notIn), check.Fail, "key notin (other)")
	noVersion := hpa(strings.Replace(referenceHPA, "{apiVersion: v1, kind: Service", "{kind: Service", 1))
	mustMention(t, "describedObject without apiVersion", ObjectMetric(noVersion), check.Pass)
	noSel := hpa(strings.Replace(referenceHPA, ", selector: {matchLabels: {key: padok}}", "", 1))
	mustMention(t, "no selector", ObjectMetric(noSel), check.Fail, "no selector")
	bounds := hpa(strings.Replace(referenceHPA, "maxReplicas: 20", "maxReplicas: 10", 1))
	mustMention(t, "maxReplicas 10", ScaleTarget(bounds, 1), check.Fail, "between 1 and 10", "maxReplicas: 20")
	zero := hpa(strings.Replace(referenceHPA, "minReplicas: 1", "minReplicas: 0", 1))
	mustMention(t, "step 10's floor passes step 9", ScaleTarget(zero, 1), check.Pass, "between 0 (step 10's floor) and 20")
	mustMention(t, "minReplicas 2", ScaleTarget(hpa(strings.Replace(referenceHPA, "minReplicas: 1", "minReplicas: 2", 1)), 1), check.Fail, "between 2 and 20")
	byHand := hpa(strings.Replace(referenceHPA, "annotations: {meta.helm.sh/release-name: consumer}", "annotations: {}", 1))
	mustMention(t, "made by hand", HPAExists(byHand), check.Fail, "not made by the release consumer")
}

func TestScalingActiveIsQuotedInTheControllersWords(t *testing.T) {
	h := hpa(referenceHPA)
	h.Object.Status.Conditions = []autoscalingv2.HorizontalPodAutoscalerCondition{{
		Type: autoscalingv2.ScalingActive, Status: corev1.ConditionFalse, Reason: "FailedGetObjectMetric",
		Message: "the HPA was unable to compute the replica count: " + RefusedMessage,
	}}
	mustMention(t, "refused", MetricReadable(h), check.Fail, "ScalingActive False, FailedGetObjectMetric", RefusedMessage, "target.type: AverageValue")
	h.Object.Status.Conditions[0] = autoscalingv2.HorizontalPodAutoscalerCondition{Type: autoscalingv2.ScalingActive, Status: corev1.ConditionTrue, Reason: "ValidMetricFound"}
	mustMention(t, "active", MetricReadable(h), check.Pass, "ValidMetricFound")
	h.Object.Status.Conditions = nil
	mustMention(t, "not synced", MetricReadable(h), check.Fail, "not synced")
}

func TestMinReplicasZeroRefusedByTheAPI(t *testing.T) {
	h := hpa(referenceHPA)
	failed := Release{Found: true, Status: "failed", Description: `Upgrade "consumer" failed: HorizontalPodAutoscaler.autoscaling "consumer" is invalid: spec.metrics: Forbidden: must specify at least one Object or External metric to support scaling to zero replicas`}
	mustMention(t, "refused by the API", MinReplicasZero(h, failed), check.Fail, "minReplicas is 1", "Forbidden", "only with an Object or External metric")
	mustMention(t, "not set", MinReplicasZero(h, Release{Found: true, Status: "deployed"}), check.Fail, "minReplicas is 1", "minReplicas: 0")
	zero := hpa(strings.Replace(referenceHPA, "minReplicas: 1", "minReplicas: 0", 1))
	mustMention(t, "zero", MinReplicasZero(zero, Release{Found: true, Status: "deployed"}), check.Pass)
}

func TestRestsAtZeroOnlyUnderAnHPAWithMinZero(t *testing.T) {
	zero := hpa(strings.Replace(referenceHPA, "minReplicas: 1", "minReplicas: 0", 1))
	at0 := Workload{Found: true, Desired: 0}
	if !RestsAtZero(at0, zero) || RestsAtZero(at0, hpa(referenceHPA)) || RestsAtZero(at0, HPA{}) || RestsAtZero(Workload{Found: true, Desired: 1}, zero) {
		t.Fatal("RestsAtZero must hold only for a consumer at 0 under minReplicas 0")
	}
}

func TestReleaseDeployed(t *testing.T) {
	c := versions.KubePrometheusStack
	inst := ReleaseInstall(c, PrometheusValues)
	mustMention(t, "absent", ReleaseDeployed(Release{}, c, inst), check.Fail, "no release prometheus", "helm upgrade --install prometheus prometheus-community/kube-prometheus-stack --version 88.5.3")
	mustMention(t, "other version", ReleaseDeployed(Release{Found: true, Status: "deployed", Chart: c.Name, Version: "80.0.0"}, c, inst), check.Fail, "80.0.0", "pinned")
	mustMention(t, "failed", ReleaseDeployed(Release{Found: true, Status: "failed", Chart: c.Name, Version: c.Version, Description: "timed out\nwaiting"}, c, inst), check.Fail, "failed: timed out waiting")
	mustMention(t, "deployed", ReleaseDeployed(Release{Found: true, Status: "deployed", Chart: c.Name, Version: c.Version}, c, inst), check.Pass)
}

func TestValueMatchesAllowsTheQueueToMove(t *testing.T) {
	q := func(v float64) Query { return Query{Samples: []prom.Sample{{Value: v}}} }
	mustMention(t, "equal", ValueMatches(CustomMetric{Values: []string{"0"}}, q(0)), check.Pass)
	mustMention(t, "milli", ValueMatches(CustomMetric{Values: []string{"40500m"}}, q(41)), check.Pass)
	mustMention(t, "doubled", ValueMatches(CustomMetric{Values: []string{"80"}}, q(40)), check.Fail, "says 80", "Prometheus 40")
}

// After step 10 the consumer rests at 0 under the HPA: step 2's app is
// still deployed. Without that HPA a consumer at 0 is not.
func TestAppDeployedWithTheConsumerRestingAtZero(t *testing.T) {
	zero := hpa(strings.Replace(referenceHPA, "minReplicas: 1", "minReplicas: 0", 1))
	rels := []Release{{Name: "redis", Found: true, Status: "deployed"}, {Name: "producer", Found: true, Status: "deployed"}, {Name: "consumer", Found: true, Status: "deployed"}}
	wls := []Workload{
		{Kind: "Deployment", Namespace: "default", Name: "redis-master", Found: true, Desired: 1, Ready: 1},
		{Kind: "Deployment", Namespace: "default", Name: "producer", Found: true, Desired: 1, Ready: 1},
		{Kind: "Deployment", Namespace: "default", Name: "consumer", Found: true, Desired: 0, Ready: 0},
	}
	mustMention(t, "resting", AppDeployed(rels, wls, zero), check.Pass, "rests at 0 replicas")
	mustMention(t, "step 9's HPA", AppDeployed(rels, wls, hpa(referenceHPA)), check.Fail, "consumer wants 0 replica(s)")
	mustMention(t, "no HPA", AppDeployed(rels, wls, HPA{}), check.Fail, "consumer wants 0 replica(s)")
	wls[1].Desired = 0
	mustMention(t, "producer at 0", AppDeployed(rels, wls, zero), check.Fail, "producer wants 0 replica(s)")
}

// Step 10 waits for a scale-down only when it may still come: an empty
// queue, replicas left, and an HPA allowed to reach 0.
func TestWaitsForScaleDown(t *testing.T) {
	zero := hpa(strings.Replace(referenceHPA, "minReplicas: 1", "minReplicas: 0", 1))
	three := Workload{Found: true, Desired: 3, Replicas: 3}
	blind := hpa(strings.Replace(referenceHPA, "minReplicas: 1", "minReplicas: 0", 1) +
		"status: {conditions: [{type: ScalingActive, status: \"False\", reason: FailedGetObjectMetric}]}\n")
	for _, c := range []struct {
		name string
		q    Queue
		dep  Workload
		h    HPA
		want bool
	}{
		{"just after a burst", Queue{}, three, zero, true},
		{"items still wait", Queue{Length: 4}, three, zero, false},
		{"already at zero", Queue{}, Workload{Found: true}, zero, false},
		{"step 9's floor of 1", Queue{}, three, hpa(referenceHPA), false},
		{"no HPA", Queue{}, three, HPA{}, false},
		{"queue unreadable", Queue{Err: errors.New("refused")}, three, zero, false},
		{"metric unreadable", Queue{}, three, blind, false},
	} {
		if got := WaitsForScaleDown(c.q, c.dep, c.h); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
