package judge

import (
	"fmt"
	"strconv"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/workshop"
)

// The pipeline doctor's links, from the exporter to the replicas. Each
// judge's Next is the command that lets the learner see the link themselves.

// ExporterTargetQuery shows the exporter's scrape target in Prometheus.
const ExporterTargetQuery = `up{service="` + workshop.ExporterService + `",namespace="` + workshop.AppNamespace + `"}`

// ExporterUp is the first link: Prometheus scrapes the exporter.
func ExporterUp(t Targets) check.Result {
	r := Scraped(t, Object{Found: true}, nil)
	r.Next = "see it in Prometheus: " + ExporterTargetQuery + " (1 is up); the targets page lists why a target is down"
	if r.Status == check.Pass {
		r.Next = ""
	}
	return r
}

// SeriesPresent is a link that is one PromQL series.
func SeriesPresent(q Query, why string) check.Result {
	see := "see it in Prometheus: " + q.Expr
	switch {
	case q.Err != nil:
		return fail("Prometheus does not answer: "+firstLine(q.Err), "Prometheus answers "+q.Expr, "dojo check step-5")
	case len(q.Samples) == 0:
		return fail("no series "+q.Expr, q.Expr+" has a sample", see+"; "+why)
	}
	return pass("%s = %s", q.Expr, strconv.FormatFloat(q.Samples[0].Value, 'g', -1, 64))
}

// CustomMetricLink is the custom metrics API serving the metric.
func CustomMetricLink(m CustomMetric) check.Result {
	r := MetricServed(m)
	if r.Status != check.Pass {
		r.Next = "see it: kubectl get --raw " + CustomMetricPath + "; the adapter's rules are in " + AdapterValues
	}
	return r
}

// HPAActive is the HPA reading its metric.
func HPAActive(h HPA) check.Result {
	if h.Err != nil || !h.Found {
		r := HPAExists(h)
		r.Next = "see it: kubectl get hpa consumer; " + r.Next
		return r
	}
	r := MetricReadable(h)
	if r.Status != check.Pass {
		r.Next = "see it: kubectl describe hpa consumer (Conditions and Events); " + r.Next
	}
	return r
}

// Replicas is the last link: the Deployment runs what the HPA asks.
func Replicas(h HPA, dep Workload) check.Result {
	expected := "the Deployment consumer runs as many ready replicas as the HPA asks"
	see := "see it: kubectl get hpa,deployment consumer"
	switch {
	case h.Object == nil:
		return fail("no HPA", expected, see)
	case dep.Err != nil || !dep.Found:
		return WorkloadReady(dep, 0, see)
	}
	want := h.Object.Status.DesiredReplicas
	var limited string
	for _, c := range h.Object.Status.Conditions {
		if c.Type == autoscalingv2.ScalingLimited && c.Status == corev1.ConditionTrue {
			limited = fmt.Sprintf(" (ScalingLimited, %s: %s)", c.Reason, c.Message)
		}
	}
	if dep.Desired != want || dep.Ready != dep.Desired {
		return fail(fmt.Sprintf("the HPA asks for %d, the Deployment wants %d and has %d ready%s", want, dep.Desired, dep.Ready, limited), expected,
			see+"; kubectl describe pods -l app.kubernetes.io/name=consumer for pods that do not start")
	}
	return pass("the HPA asks for %d and the Deployment consumer has %d ready%s", want, dep.Ready, limited)
}
