package watch_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubedojo/dojo/internal/prom"
	"github.com/kubedojo/dojo/internal/testutil/golden"
	"github.com/kubedojo/dojo/internal/ui"
	"github.com/kubedojo/dojo/internal/watch"
)

func f(v float64) *float64 { return &v }

// story is a burst of 200 items: the queue rises, the HPA follows, the
// consumers drain it and fall back to zero; one sample a second.
func story(n int) ([]watch.Sample, []watch.Event) {
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	var out []watch.Sample
	for i := range n {
		q := 0.0
		switch {
		case i >= 5 && i < 45:
			q = max(200-float64(i-5)*5, 0)
		}
		desired := int32(0)
		switch {
		case i >= 7 && i < 15:
			desired = 4
		case i >= 15 && i < 50:
			desired = 8
		case i >= 50 && i < 60:
			desired = 2
		}
		ready := desired
		if i >= 7 && i < 10 {
			ready = 1
		}
		out = append(out, watch.Sample{Time: t0.Add(time.Duration(i) * time.Second), Queue: f(q), Metric: f(q), HPAMetric: fmt.Sprintf("%.0f", q/max(float64(desired), 1)), Desired: desired, Replicas: desired, Ready: ready})
	}
	ev := []watch.Event{
		{Time: t0.Add(7 * time.Second), Kind: "scale", Text: "New size: 4; was 0 (the HPA's status)"},
		{Time: t0.Add(15 * time.Second), Kind: "scale", Text: "New size: 8; was 4 (the HPA's status)"},
		{Time: t0.Add(16 * time.Second), Kind: "condition", Text: "ScalingLimited True ScaleUpLimit: the desired replica count is increasing faster than the maximum scale rate"},
		{Time: t0.Add(50 * time.Second), Kind: "condition", Text: "AbleToScale True ScaleDownStabilized: recent recommendations were higher than current one, applying the highest recent recommendation"},
		{Time: t0.Add(60 * time.Second), Kind: "scale", Text: "New size: 0; was 2 (the HPA's status)"},
	}
	return out, ev
}

// TestViewFrames: the view at 80×24 and 120×40 (golden), exactly as many
// lines as rows and none wider than the terminal; a resize redraws to the
// new size.
func TestViewFrames(t *testing.T) {
	samples, events := story(70)
	var m ui.ScreenModel = watch.Model{Header: watch.Header{HPA: "default/consumer", SyncPeriod: "5s", DownscaleStabilization: "20s"}, MaxReplicas: 20, Styles: ui.NewStyles(false)}
	for _, s := range samples {
		m, _ = m.Update(watch.SampleMsg(s))
	}
	for _, e := range events {
		m, _ = m.Update(watch.EventMsg(e))
	}
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		m, _ = m.Update(ui.ResizeMsg{Width: size[0], Height: size[1]})
		frame := m.View()
		lines := strings.Split(frame, "\n")
		if len(lines) != size[1] {
			t.Errorf("%dx%d: %d lines", size[0], size[1], len(lines))
		}
		for i, l := range lines {
			if n := len([]rune(l)); n > size[0] {
				t.Errorf("%dx%d: line %d is %d columns", size[0], size[1], i+1, n)
			}
		}
		for _, want := range []string{"sync 5s", "downscale stabilization 20s", "New size: 8", "ScaleDownStabilized", "d desired 0"} {
			if !strings.Contains(frame, want) {
				t.Errorf("%dx%d: the frame does not show %q", size[0], size[1], want)
			}
		}
		golden.Check(t, fmt.Sprintf("frame-%dx%d.golden", size[0], size[1]), []byte(frame+"\n"))
	}
}

// fakeClock ticks when the test says.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	ticks chan time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Ticker(time.Duration) (<-chan time.Time, func()) {
	return c.ticks, func() {}
}
func (c *fakeClock) tick() {
	c.mu.Lock()
	c.now = c.now.Add(time.Second)
	now := c.now
	c.mu.Unlock()
	c.ticks <- now
}

type fakeProm struct{ n int }

func (p *fakeProm) Query(_ context.Context, expr string) ([]prom.Sample, error) {
	p.n++
	return []prom.Sample{{Value: float64(p.n % 200)}}, nil
}

// TestAnHourOfWatching: a simulated hour (3600 ticks of a fake clock) of
// watching and recording, with the HPA and Deployment changing all along:
// the history stays bounded, goroutines do not pile up, the heap does not
// grow, and Prometheus is asked one round (two queries) per tick.
func TestAnHourOfWatching(t *testing.T) {
	q := resource.MustParse("20")
	h := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "consumer"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 20, Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ObjectMetricSourceType,
			Object: &autoscalingv2.ObjectMetricSource{Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &q}}}}}}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "consumer"}}
	cs := fake.NewClientset(h, d)
	p := &fakeProm{}
	clock := &fakeClock{now: time.Unix(0, 0), ticks: make(chan time.Time)}
	var hist watch.History
	var rec bytes.Buffer
	r := watch.NewRecorder(&rec)
	var samples int
	done := make(chan error)
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan struct{}, 1)
	go func() {
		done <- watch.Watch(ctx, watch.Sources{Kube: cs, Prometheus: p, Queries: watch.Queries{Queue: "q", Metric: "m"}, Namespace: "default", HPA: "consumer", Deployment: "consumer"},
			clock, func(s watch.Sample) {
				samples++
				hist.AddSample(s)
				r.Sample(s)
				got <- struct{}{}
			}, func(e watch.Event) { hist.AddEvent(e) })
	}()
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var g0 int
	var h0 uint64
	for i := range 3600 {
		if i%10 == 0 {
			h.Status.DesiredReplicas = int32(i / 10 % 20)
			h.Status.Conditions = []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.ScalingLimited, Status: "True", Reason: fmt.Sprint("R", i%3)}}
			if _, err := cs.AutoscalingV2().HorizontalPodAutoscalers("default").UpdateStatus(ctx, h, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		clock.tick()
		<-got
		if i == 600 { // after the warm-up: informers started, buffers full
			rec.Reset()
			g0, h0 = runtime.NumGoroutine(), heap()
		}
		if i > 600 && i%600 == 0 {
			rec.Reset() // the recording goes to a file; only the process's own memory counts
		}
	}
	g1, h1 := runtime.NumGoroutine(), heap()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if samples != 3600 || len(hist.Samples) != watch.MaxSamples || len(hist.Events) > watch.MaxEvents {
		t.Errorf("%d samples taken, history %d samples %d events", samples, len(hist.Samples), len(hist.Events))
	}
	if p.n != 2*3600 {
		t.Errorf("%d Prometheus queries over 3600 ticks, want 2 per tick", p.n)
	}
	if g1 > g0+2 {
		t.Errorf("goroutines %d after 10 min, %d after an hour", g0, g1)
	}
	if h1 > h0+4<<20 {
		t.Errorf("heap %d kB after 10 min, %d kB after an hour", h0>>10, h1>>10)
	}
	t.Logf("MEASURE an hour simulated: goroutines %d → %d, heap %d kB → %d kB, %d events kept", g0, g1, h0>>10, h1>>10, len(hist.Events))
}

// TestRecordingSurvivesACutLine: a recording whose last line was cut by a
// kill reads back without it; a file that is not a recording is refused.
func TestRecordingSurvivesACutLine(t *testing.T) {
	var b bytes.Buffer
	r := watch.NewRecorder(&b)
	r.Header(watch.Header{HPA: "default/consumer", SyncPeriod: "5s"})
	samples, events := story(3)
	for _, s := range samples {
		r.Sample(s)
	}
	r.Event(events[0])
	data := b.String() + `{"sample":{"t":"2026-12-03T09:00:0`
	rec, err := watch.Read(strings.NewReader(data), "x.jsonl")
	if err != nil || len(rec.Samples) != 3 || len(rec.Events) != 1 || rec.Header.SyncPeriod != "5s" {
		t.Fatalf("%+v, %v", rec, err)
	}
	if _, err := watch.Read(strings.NewReader("hello\nworld\n"), "notes.txt"); err == nil || !strings.Contains(err.Error(), "notes.txt line 1 is not a recording line") {
		t.Errorf("err %v", err)
	}
	if _, err := watch.Read(strings.NewReader(""), "empty.jsonl"); err == nil || !strings.Contains(err.Error(), "not a dojo watch recording") {
		t.Errorf("err %v", err)
	}
}

func TestNotable(t *testing.T) {
	for text, want := range map[string]bool{
		"AbleToScale True ReadyForNewScale: recommended size matches current size":          false,
		"AbleToScale True SucceededRescale: the HPA controller was able to update":          false,
		"AbleToScale True ScaleDownStabilized: recent recommendations were higher":          true,
		"ScalingLimited True TooManyReplicas: the desired replica count is more than max":   true,
		"ScalingLimited False DesiredWithinRange: the desired count is within the range":    false,
		"ScaledToZero True ScaledToZero: the HPA controller scaled the workload to zero":    true,
		"ScaledToZero False NotScaledToZero: the HPA controller did not scale the workload": false,
		"ScalingActive False FailedGetObjectMetric: unable to get metric":                   true,
	} {
		if got := watch.Notable(watch.Event{Kind: "condition", Text: text}); got != want {
			t.Errorf("Notable(%q) = %v", text, got)
		}
	}
	if !watch.Notable(watch.Event{Kind: "scale", Text: "New size: 4; was 0 (the HPA's status)"}) ||
		watch.Notable(watch.Event{Kind: "event", Text: "SuccessfulRescale: New size: 4; reason: above target"}) ||
		!watch.Notable(watch.Event{Kind: "event", Text: "FailedGetObjectMetric: unable to get metric"}) {
		t.Error("Notable: rescales from the status shown, the controller's SuccessfulRescale not, other events shown")
	}
}
