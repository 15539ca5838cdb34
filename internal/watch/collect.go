package watch

import (
	"context"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/kubedojo/dojo/internal/prom"
)

// Clock is time, injectable: a test drives the ticks.
type Clock interface {
	Now() time.Time
	// Ticker ticks every d until stop is called.
	Ticker(d time.Duration) (ticks <-chan time.Time, stop func())
}

// RealClock is the wall clock.
type RealClock struct{}

// Now is time.Now.
func (RealClock) Now() time.Time { return time.Now() }

// Ticker is a time.Ticker.
func (RealClock) Ticker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// Queries are the PromQL expressions of a round: the queue's length as the
// exporter measures it, and the recorded metric the HPA reads.
type Queries struct{ Queue, Metric string }

// Querier asks Prometheus (a prom.Querier is one).
type Querier interface {
	Query(ctx context.Context, expr string) ([]prom.Sample, error)
}

// Sources are where a watch reads.
type Sources struct {
	Kube kubernetes.Interface
	// Prometheus is nil when it cannot be reached: samples then carry no
	// queue and no metric.
	Prometheus Querier
	Queries    Queries
	// Namespace, HPA and Deployment name what is watched.
	Namespace, HPA, Deployment string
}

// Period is how often a sample is taken, and so at most one Prometheus
// round a second.
const Period = time.Second

// Watch follows the sources until ctx ends, calling sample once a Period
// and event as things happen, both from this one goroutine. The Kubernetes
// objects come from informers (a watch each, relisted by client-go when it
// breaks); only Prometheus is asked, once per Period, with a deadline
// shorter than it.
func Watch(ctx context.Context, src Sources, clock Clock, sample func(Sample), event func(Event)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	started := clock.Now()
	var mu sync.Mutex
	var hpa *autoscalingv2.HorizontalPodAutoscaler
	var dep *appsv1.Deployment
	events := make(chan Event, 64)
	push := func(e Event) {
		select {
		case events <- e:
		default: // a flood of events: drop rather than block the informer
		}
	}

	byName := func(name string) informers.SharedInformerOption {
		return informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
		})
	}
	hpaF := informers.NewSharedInformerFactoryWithOptions(src.Kube, 0, informers.WithNamespace(src.Namespace), byName(src.HPA))
	depF := informers.NewSharedInformerFactoryWithOptions(src.Kube, 0, informers.WithNamespace(src.Namespace), byName(src.Deployment))
	evF := informers.NewSharedInformerFactoryWithOptions(src.Kube, 0, informers.WithNamespace(src.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.Set{"involvedObject.kind": "HorizontalPodAutoscaler", "involvedObject.name": src.HPA}.AsSelector().String()
		}))

	_, _ = hpaF.Autoscaling().V2().HorizontalPodAutoscalers().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(o any) {
			if h, ok := o.(*autoscalingv2.HorizontalPodAutoscaler); ok {
				mu.Lock()
				hpa = h
				mu.Unlock()
			}
		},
		UpdateFunc: func(old, o any) {
			h, ok := o.(*autoscalingv2.HorizontalPodAutoscaler)
			if !ok {
				return
			}
			prev, _ := old.(*autoscalingv2.HorizontalPodAutoscaler)
			mu.Lock()
			hpa = h
			mu.Unlock()
			// Rescales from the status, not only from Events: the event
			// recorder lets an object's first 25 events through, then one
			// per five minutes, so a busy workshop HPA soon has none.
			if prev != nil && prev.Status.DesiredReplicas != h.Status.DesiredReplicas {
				push(Event{Time: clock.Now(), Kind: "scale", Text: fmt.Sprintf("New size: %d; was %d (the HPA's status)", h.Status.DesiredReplicas, prev.Status.DesiredReplicas)})
			}
			for _, e := range conditionChanges(prev, h, clock.Now()) {
				push(e)
			}
		},
	})
	_, _ = depF.Apps().V1().Deployments().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(o any) {
			if d, ok := o.(*appsv1.Deployment); ok {
				mu.Lock()
				dep = d
				mu.Unlock()
			}
		},
		UpdateFunc: func(_, o any) {
			if d, ok := o.(*appsv1.Deployment); ok {
				mu.Lock()
				dep = d
				mu.Unlock()
			}
		},
	})
	onEvent := func(o any) {
		e, ok := o.(*corev1.Event)
		if !ok {
			return
		}
		at := e.LastTimestamp.Time
		if at.IsZero() {
			at = e.EventTime.Time
		}
		if at.Before(started.Add(-2 * time.Second)) {
			return // from before the watch
		}
		push(Event{Time: at, Kind: "event", Text: e.Reason + ": " + e.Message})
	}
	_, _ = evF.Core().V1().Events().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    onEvent,
		UpdateFunc: func(_, o any) { onEvent(o) },
	})
	for _, f := range []informers.SharedInformerFactory{hpaF, depF, evF} {
		f.Start(ctx.Done())
		defer f.Shutdown()
	}

	ticks, stop := clock.Ticker(Period)
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-events:
			event(e)
		case now := <-ticks:
			s := Sample{Time: now}
			mu.Lock()
			if hpa != nil {
				s.Desired = hpa.Status.DesiredReplicas
				s.HPAMetric = currentMetric(hpa)
			}
			if dep != nil {
				s.Replicas, s.Ready = dep.Status.Replicas, dep.Status.ReadyReplicas
			}
			mu.Unlock()
			if src.Prometheus != nil {
				qctx, qcancel := context.WithTimeout(ctx, Period*8/10)
				s.Queue = first(src.Prometheus.Query(qctx, src.Queries.Queue))
				s.Metric = first(src.Prometheus.Query(qctx, src.Queries.Metric))
				qcancel()
			}
			if ctx.Err() != nil {
				return nil // the end came during the round: no half sample
			}
			sample(s)
		}
	}
}

func first(samples []prom.Sample, err error) *float64 {
	if err != nil || len(samples) == 0 {
		return nil
	}
	v := samples[0].Value
	return &v
}

// currentMetric is the HPA's first metric status, as text.
func currentMetric(h *autoscalingv2.HorizontalPodAutoscaler) string {
	if len(h.Status.CurrentMetrics) == 0 {
		return ""
	}
	m := h.Status.CurrentMetrics[0]
	var v autoscalingv2.MetricValueStatus
	switch {
	case m.Object != nil:
		v = m.Object.Current
	case m.External != nil:
		v = m.External.Current
	case m.Pods != nil:
		v = m.Pods.Current
	default:
		return ""
	}
	switch {
	case v.AverageValue != nil:
		return v.AverageValue.String()
	case v.Value != nil:
		return v.Value.String()
	}
	return ""
}

// conditionChanges lists the conditions of now that differ from prev in
// status or reason.
func conditionChanges(prev, now *autoscalingv2.HorizontalPodAutoscaler, at time.Time) []Event {
	was := map[autoscalingv2.HorizontalPodAutoscalerConditionType]autoscalingv2.HorizontalPodAutoscalerCondition{}
	if prev != nil {
		for _, c := range prev.Status.Conditions {
			was[c.Type] = c
		}
	}
	var out []Event
	for _, c := range now.Status.Conditions {
		if p, ok := was[c.Type]; ok && p.Status == c.Status && p.Reason == c.Reason {
			continue
		}
		out = append(out, Event{Time: at, Kind: "condition", Text: fmt.Sprintf("%s %s %s: %s", c.Type, c.Status, c.Reason, c.Message)})
	}
	return out
}
