package judge

import (
	"fmt"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/workshop"
)

// HPAFile is where the learner writes the HPA.
const HPAFile = "charts/consumer/templates/horizontalpodautoscaler.yaml"

// RefusedMessage is the v1.37 controller's message when an Object metric's
// target type and field disagree (computeStatusForObjectMetric).
const RefusedMessage = "invalid object metric source: neither a value target nor an average value target was set"

// HPAExists judges that the HPA consumer exists and belongs to the release.
func HPAExists(h HPA) check.Result {
	expected := "a HorizontalPodAutoscaler consumer in default, made by the release consumer"
	switch {
	case h.Err != nil:
		return fail("could not read the HPA: "+firstLine(h.Err), expected, "dojo check step-2")
	case !h.Found:
		return fail("no HorizontalPodAutoscaler consumer in default", expected, "add it to the consumer chart ("+HPAFile+") and upgrade: dojo deploy consumer")
	}
	if rel := h.Object.Annotations["meta.helm.sh/release-name"]; rel != workshop.ConsumerRelease {
		return fail("the HPA consumer was not made by the release consumer (made by hand?)", expected,
			"delete it (kubectl delete hpa consumer) and put it in "+HPAFile+", then dojo deploy consumer")
	}
	return pass("HPA consumer exists (release consumer)")
}

// ScaleTarget judges what the HPA scales and its bounds.
func ScaleTarget(h HPA, minReplicas int32) check.Result {
	s := h.Object.Spec
	ref := s.ScaleTargetRef
	expected := fmt.Sprintf("scaleTargetRef Deployment consumer (apps/v1), minReplicas %d, maxReplicas %d", minReplicas, workshop.MaxReplicas)
	if ref.Kind != "Deployment" || ref.Name != workshop.ConsumerRelease || !strings.HasPrefix(ref.APIVersion, "apps/") {
		return fail(fmt.Sprintf("the HPA scales %s %s (%s)", ref.Kind, ref.Name, ref.APIVersion), expected,
			"set scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: consumer} in "+HPAFile)
	}
	min := int32(1)
	if s.MinReplicas != nil {
		min = *s.MinReplicas
	}
	// Step 10 lowers step 9's floor to 0 on the same metric; step 9's
	// criterion still holds on that state (otherwise solving or doing step
	// 10 would undo step 9).
	if min == 0 && minReplicas == workshop.MinReplicas && s.MaxReplicas == workshop.MaxReplicas {
		return pass("the HPA scales Deployment consumer between 0 (step 10's floor) and %d replicas", s.MaxReplicas)
	}
	if min != minReplicas || s.MaxReplicas != workshop.MaxReplicas {
		return fail(fmt.Sprintf("the HPA scales between %d and %d replicas", min, s.MaxReplicas), expected,
			fmt.Sprintf("set minReplicas: %d and maxReplicas: %d in %s", minReplicas, workshop.MaxReplicas, HPAFile))
	}
	return pass("the HPA scales Deployment consumer between %d and %d replicas", min, s.MaxReplicas)
}

// queueMetric finds the HPA's metric on the queue.
func queueMetric(h HPA) (*autoscalingv2.MetricSpec, []string) {
	var kinds []string
	for i, m := range h.Object.Spec.Metrics {
		kinds = append(kinds, string(m.Type))
		if m.Type == autoscalingv2.ObjectMetricSourceType && m.Object != nil && m.Object.Metric.Name == workshop.RecordedMetric {
			return &h.Object.Spec.Metrics[i], kinds
		}
	}
	return nil, kinds
}

// ObjectMetric judges the metric the controller will ask for: an Object
// metric redis_items_in_queue of the Service prometheus-redis-exporter with
// a selector that picks the key padok.
func ObjectMetric(h HPA) check.Result {
	expected := "an Object metric redis_items_in_queue, describedObject Service prometheus-redis-exporter (v1), selector key=padok"
	m, kinds := queueMetric(h)
	if m == nil {
		for _, spec := range h.Object.Spec.Metrics {
			switch {
			case spec.Type == autoscalingv2.PodsMetricSourceType && spec.Pods != nil:
				return fail(fmt.Sprintf("the HPA has a Pods metric %s: the controller asks for it on each consumer pod, and no series describes a pod", spec.Pods.Metric.Name), expected,
					"use type: Object with describedObject {apiVersion: v1, kind: Service, name: prometheus-redis-exporter} in "+HPAFile)
			case spec.Type == autoscalingv2.ExternalMetricSourceType:
				return fail("the HPA has an External metric: the adapter serves redis_items_in_queue on the custom metrics API, for the exporter's Service", expected,
					"use type: Object with describedObject Service prometheus-redis-exporter in "+HPAFile)
			case spec.Type == autoscalingv2.ObjectMetricSourceType && spec.Object != nil:
				return fail(fmt.Sprintf("the HPA's Object metric is %s", spec.Object.Metric.Name), expected, "set metric.name: redis_items_in_queue in "+HPAFile)
			}
		}
		obs := "the HPA has no metric"
		if len(kinds) > 0 {
			obs = "the HPA's metrics are of type " + strings.Join(kinds, ", ")
		}
		return fail(obs, expected, "add an Object metric redis_items_in_queue to "+HPAFile)
	}
	d := m.Object.DescribedObject
	if d.Kind != "Service" || d.Name != workshop.ExporterService || (d.APIVersion != "v1" && d.APIVersion != "") {
		return fail(fmt.Sprintf("the metric is described by %s %s (%q)", d.Kind, d.Name, d.APIVersion), expected,
			"set describedObject: {apiVersion: v1, kind: Service, name: prometheus-redis-exporter} in "+HPAFile)
	}
	sel := m.Object.Metric.Selector
	if sel == nil {
		return fail("the metric has no selector: it does not say which queue it counts", expected, "set metric.selector: {matchLabels: {key: padok}} in "+HPAFile)
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return fail("the metric's selector does not parse: "+err.Error(), expected, "set metric.selector: {matchLabels: {key: padok}}")
	}
	// Judged on the labels the recorded series carries: it must pick the
	// queue's series and no other key's.
	series := labels.Set{"service": workshop.ExporterService, "namespace": workshop.AppNamespace, workshop.MetricSelectorKey: workshop.Queue}
	other := func(key string) labels.Set {
		return labels.Set{"service": workshop.ExporterService, "namespace": workshop.AppNamespace, workshop.MetricSelectorKey: key}
	}
	if !s.Matches(series) || s.Matches(other("other")) || s.Matches(other("jobs-"+workshop.Queue)) {
		return fail("the metric's selector is "+describeSelector(s)+": it does not pick exactly the key padok", expected, "set metric.selector: {matchLabels: {key: padok}} in "+HPAFile)
	}
	return pass("Object metric redis_items_in_queue of Service prometheus-redis-exporter, selector %s", s.String())
}

// AverageValueTarget judges the metric's target the way the v1.37
// controller reads it: only a type that agrees with its field is followed.
func AverageValueTarget(h HPA) check.Result {
	want := fmt.Sprintf("%d", workshop.TargetAverage)
	expected := "target {type: AverageValue, averageValue: " + want + "}"
	m, _ := queueMetric(h)
	if m == nil {
		return fail("no Object metric redis_items_in_queue", expected, "see object-metric")
	}
	t := m.Object.Target
	switch {
	case t.Type == autoscalingv2.ValueMetricType && t.AverageValue != nil && t.Value == nil:
		return fail(fmt.Sprintf("target type Value with averageValue %s: the API accepts it, but the v1.37 controller refuses the metric (ScalingActive False, FailedGetObjectMetric: %q)", t.AverageValue.String(), RefusedMessage), expected,
			"set target.type: AverageValue in "+HPAFile+" (kubectl describe hpa consumer shows the refusal)")
	case t.Type == autoscalingv2.ValueMetricType:
		return fail("target type Value: the controller compares the whole queue with the value and never divides it among consumers", expected,
			"set target: {type: AverageValue, averageValue: "+want+"} in "+HPAFile)
	case t.Type != autoscalingv2.AverageValueMetricType:
		return fail(fmt.Sprintf("target type %s", t.Type), expected, "set target: {type: AverageValue, averageValue: "+want+"} in "+HPAFile)
	case t.AverageValue == nil:
		return fail("target type AverageValue without averageValue", expected, "set target.averageValue: "+want+" in "+HPAFile)
	case t.AverageValue.String() != want:
		return fail("target averageValue "+t.AverageValue.String(), expected, "set target.averageValue: "+want+" in "+HPAFile)
	}
	return pass("target AverageValue %s: one consumer per %s waiting items", t.AverageValue.String(), want)
}

// MetricReadable judges the HPA's ScalingActive condition, in the
// controller's own words.
func MetricReadable(h HPA) check.Result {
	expected := "condition ScalingActive True"
	for _, c := range h.Object.Status.Conditions {
		if c.Type != autoscalingv2.ScalingActive {
			continue
		}
		if c.Status == corev1.ConditionTrue {
			return pass("ScalingActive True (%s)", c.Reason)
		}
		next := "kubectl describe hpa consumer; walk the chain: dojo check step-8"
		if strings.Contains(c.Message, RefusedMessage) {
			next = "the target's type and field disagree: set target.type: AverageValue in " + HPAFile
		}
		if c.Reason == "ScalingDisabled" {
			next = "the Deployment consumer is at 0 replicas and minReplicas is not 0: kubectl scale deploy consumer --replicas=1"
		}
		return fail(fmt.Sprintf("ScalingActive %s, %s: %s", c.Status, c.Reason, c.Message), expected, next)
	}
	return fail("the HPA has no ScalingActive condition yet (the controller has not synced it)", expected,
		"wait one sync period (5 s on the dojo cluster) and check again")
}

// MinReplicasZero judges step 10's HPA: minReplicas 0 on the same metric.
// consumer is the consumer's release: when its last upgrade failed, the
// HPA in the cluster is the old one and the failure says why.
func MinReplicasZero(h HPA, consumer Release) check.Result {
	expected := "minReplicas 0, with the Object metric redis_items_in_queue and its AverageValue target of 20"
	if h.Object.Spec.MinReplicas == nil || *h.Object.Spec.MinReplicas != 0 {
		min := int32(1)
		if h.Object.Spec.MinReplicas != nil {
			min = *h.Object.Spec.MinReplicas
		}
		obs := fmt.Sprintf("minReplicas is %d", min)
		next := "set minReplicas: 0 in " + HPAFile + " and dojo deploy consumer"
		if consumer.Found && consumer.Status == "failed" {
			obs += "; the last upgrade of the release consumer failed: " + oneLine(consumer.Description)
			if strings.Contains(consumer.Description, "scaling to zero") {
				next = "the API accepts minReplicas 0 only with an Object or External metric (a Resource metric alone cannot wake a Deployment at zero, it has no pod to measure): keep the Object metric redis_items_in_queue, then dojo deploy consumer"
			}
		}
		return fail(obs, expected, next)
	}
	if r := ObjectMetric(h); r.Status != check.Pass {
		return r
	}
	if r := AverageValueTarget(h); r.Status != check.Pass {
		return r
	}
	return pass("minReplicas 0 on the Object metric redis_items_in_queue, target AverageValue 20")
}

// ScaledToZero judges the consumer at rest: an empty queue and no replica.
func ScaledToZero(q Queue, dep Workload, h HPA) check.Result {
	expected := "with an empty queue, the Deployment consumer at 0 replicas"
	switch {
	case q.Err != nil:
		return fail("could not read the queue: "+firstLine(q.Err), expected, "dojo check step-2")
	case q.Length > 0:
		return fail(fmt.Sprintf("%d item(s) wait in padok: the consumers are still at work", q.Length), expected, "wait for the queue to drain and check again")
	case dep.Err != nil || !dep.Found:
		return WorkloadReady(dep, 0, "dojo up")
	case dep.Desired > 0 || dep.Replicas > 0:
		obs := fmt.Sprintf("the queue is empty and the Deployment consumer has %d replica(s)", max(dep.Desired, dep.Replicas))
		next := "kubectl describe hpa consumer: its conditions say why it does not scale down"
		if h.Found && h.Object != nil {
			obs += fmt.Sprintf("; the HPA wants %d", h.Object.Status.DesiredReplicas)
			for _, c := range h.Object.Status.Conditions {
				switch {
				case c.Type == autoscalingv2.AbleToScale && c.Reason == "ScaleDownStabilized":
					next = "the downscale stabilization window (20 s on the dojo cluster) holds the last count: wait and check again"
				case c.Type == autoscalingv2.ScalingActive && c.Status != corev1.ConditionTrue:
					obs += fmt.Sprintf(" (ScalingActive %s, %s: %s)", c.Status, c.Reason, c.Message)
					next = "the HPA cannot read its metric: dojo check --why"
				}
			}
		}
		return fail(obs, expected, next)
	}
	return pass("the queue is empty and the Deployment consumer is at 0 replicas")
}

// FollowsQueue judges a live test: published items, the highest desired
// count the HPA showed, and how long it was watched.
func FollowsQueue(published int, desired, want int32, waited time.Duration) check.Result {
	expected := fmt.Sprintf("with %d more items waiting the HPA asks for at least %d consumers (one per %d)", published, want, workshop.TargetAverage)
	w := waited.Round(time.Second)
	if desired >= want {
		return pass("after publishing %d items the HPA asked for %d consumers within %s", published, desired, w)
	}
	return fail(fmt.Sprintf("after publishing %d items and watching %s the HPA asks for %d consumer(s)", published, w, desired), expected,
		"walk the chain: dojo check step-8, then kubectl describe hpa consumer")
}

// WakesUp judges step 10's live test.
func WakesUp(published int, replicas int32, waited time.Duration) check.Result {
	expected := "the HPA brings the Deployment consumer above 0 replicas"
	w := waited.Round(time.Second)
	if replicas > 0 {
		return pass("%d items published; the HPA started %d consumer(s) within %s", published, replicas, w)
	}
	return fail(fmt.Sprintf("after publishing %d items and watching %s the Deployment consumer is still at 0 replicas", published, w), expected,
		"kubectl describe hpa consumer: its conditions say why it does not scale")
}

// WaitsForScaleDown says the queue is empty, the consumer still has
// replicas and step 10's HPA (minReplicas 0) may yet take them away: what
// is seen just after a burst, while the downscale stabilization window
// holds the HPA's last count. Not when the HPA reports it cannot read its
// metric (ScalingActive False): then it will not scale, and waiting would
// only delay the failure.
func WaitsForScaleDown(q Queue, dep Workload, h HPA) bool {
	if q.Err != nil || q.Length > 0 || dep.Err != nil || !dep.Found || max(dep.Desired, dep.Replicas) == 0 || !h.Found || h.Object == nil {
		return false
	}
	for _, c := range h.Object.Status.Conditions {
		if c.Type == autoscalingv2.ScalingActive && c.Status == corev1.ConditionFalse {
			return false
		}
	}
	m := h.Object.Spec.MinReplicas
	return m != nil && *m == 0
}

// RestsAtZero says the consumer is at 0 replicas because step 10's HPA
// (minReplicas 0) put it there.
func RestsAtZero(dep Workload, h HPA) bool {
	if !dep.Found || dep.Desired != 0 || !h.Found || h.Object == nil {
		return false
	}
	m := h.Object.Spec.MinReplicas
	return m != nil && *m == 0
}
