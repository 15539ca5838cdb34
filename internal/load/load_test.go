package load_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubedojo/dojo/internal/load"
)

// fakeClock advances only when slept on.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.t = c.t.Add(d)
	return nil
}

// fakeProducer counts items; fail decides each request's error.
type fakeProducer struct {
	mu       sync.Mutex
	sent     int
	requests []int
	queue    []int64
	fail     func(req int) error
}

func (p *fakeProducer) Publish(_ context.Context, n int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests = append(p.requests, n)
	if p.fail != nil {
		if err := p.fail(len(p.requests)); err != nil {
			return err
		}
	}
	p.sent += n
	return nil
}

func (p *fakeProducer) Queue(context.Context) (int64, error) {
	if len(p.queue) == 0 {
		return 0, nil
	}
	n := p.queue[0]
	if len(p.queue) > 1 {
		p.queue = p.queue[1:]
	}
	return n, nil
}

func (p *fakeProducer) Via() string { return "a fake" }

func TestParsePlan(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		d     time.Duration
		total int
		bad   string
	}{
		{[]string{"burst", "200"}, 0, 200, ""},
		{[]string{"rate", "20"}, 10 * time.Second, 200, ""},
		{[]string{"rate", "2.5"}, 4 * time.Second, 10, ""},
		{[]string{"ramp", "5..50"}, time.Minute, 1650, ""},
		{[]string{"drain"}, 0, 0, ""},
		{[]string{"burst", "0"}, 0, 0, `burst size "0" is not a whole number from 1`},
		{[]string{"burst", "20"}, time.Second, 0, "--for 1s has no meaning for a burst"},
		{[]string{"rate", "fast"}, time.Second, 0, `rate "fast" is not a number of items per second`},
		{[]string{"rate", "-3"}, time.Second, 0, `rate "-3"`},
		{[]string{"rate", "20"}, 0, 0, "needs --for D"},
		{[]string{"ramp", "5-50"}, time.Minute, 0, `ramp "5-50" is not R1..R2`},
		{[]string{"flood", "9"}, 0, 0, `"flood" is not a plan: dojo load burst N | rate R --for D`},
		{[]string{"rate", "10000"}, time.Hour, 0, "more than 1000000"},
		{nil, 0, 0, "dojo load needs a plan"},
	} {
		p, err := load.ParsePlan(tc.args, tc.d)
		var ue *load.UsageError
		switch {
		case tc.bad == "" && (err != nil || p.Total() != tc.total):
			t.Errorf("%q --for %s: total %d, %v; want %d", tc.args, tc.d, p.Total(), err, tc.total)
		case tc.bad != "" && (!errors.As(err, &ue) || !strings.Contains(err.Error(), tc.bad)):
			t.Errorf("%q --for %s: err %v, want a usage error with %q", tc.args, tc.d, err, tc.bad)
		}
	}
}

// TestRateSendsWhatIsDueEachTick: 20 items/s for 10 s is 200 items, two per
// 100 ms tick, and it ends at 10 s.
func TestRateSendsWhatIsDueEachTick(t *testing.T) {
	plan, _ := load.ParsePlan([]string{"rate", "20"}, 10*time.Second)
	p, clock := &fakeProducer{}, &fakeClock{t: time.Unix(0, 0)}
	r, err := load.Publish(context.Background(), p, plan, clock, nil)
	if err != nil || r.Sent != 200 || p.sent != 200 || r.Elapsed != 10*time.Second || r.Stopped {
		t.Fatalf("result %+v, %v; the producer got %d", r, err, p.sent)
	}
	for i, n := range p.requests {
		if n != 2 {
			t.Fatalf("request %d carried %d items, want 2 per tick: %v", i, n, p.requests)
		}
	}
}

func TestRampAccelerates(t *testing.T) {
	plan, _ := load.ParsePlan([]string{"ramp", "1..100"}, 10*time.Second)
	p, clock := &fakeProducer{}, &fakeClock{t: time.Unix(0, 0)}
	r, err := load.Publish(context.Background(), p, plan, clock, nil)
	if err != nil || r.Sent != plan.Total() || plan.Total() != 505 {
		t.Fatalf("result %+v, %v (total %d)", r, err, plan.Total())
	}
	first, last := plan.Due(time.Second)-plan.Due(0), plan.Due(10*time.Second)-plan.Due(9*time.Second)
	if first >= 10 || last <= 90 {
		t.Errorf("first second %d items, last second %d: not a ramp from 1 to 100/s", first, last)
	}
}

func TestRefusedStopsAtOnce(t *testing.T) {
	plan, _ := load.ParsePlan([]string{"rate", "20"}, 10*time.Second)
	p := &fakeProducer{fail: func(req int) error {
		if req == 3 {
			return &load.RefusedError{Code: 400, Body: "n must be a whole number"}
		}
		return nil
	}}
	r, err := load.Publish(context.Background(), p, plan, &fakeClock{t: time.Unix(0, 0)}, nil)
	if err == nil || !strings.Contains(err.Error(), "stopped after 4 of 200 items: the producer refused the request (HTTP 400)") || len(p.requests) != 3 || len(r.Failures) != 1 {
		t.Errorf("err %v, requests %v, failures %v", err, p.requests, r.Failures)
	}
}

func TestFailuresInARowStop(t *testing.T) {
	plan, _ := load.ParsePlan([]string{"burst", "50"}, 0)
	p := &fakeProducer{fail: func(int) error { return errors.New("connection refused") }}
	r, err := load.Publish(context.Background(), p, plan, &fakeClock{t: time.Unix(0, 0)}, nil)
	if err == nil || !strings.Contains(err.Error(), "5 failed requests in a row (0 of 50 items sent)") || len(p.requests) != 5 || r.Sent != 0 {
		t.Errorf("err %v, requests %v", err, p.requests)
	}
	// A failure between successes is retried at the next tick.
	p = &fakeProducer{fail: func(req int) error {
		if req == 2 {
			return errors.New("EOF")
		}
		return nil
	}}
	plan, _ = load.ParsePlan([]string{"rate", "10"}, time.Second)
	r, err = load.Publish(context.Background(), p, plan, &fakeClock{t: time.Unix(0, 0)}, nil)
	if err != nil || r.Sent != 10 || len(r.Failures) != 1 {
		t.Errorf("result %+v, %v", r, err)
	}
}

func TestInterruptedSaysWhatWasSent(t *testing.T) {
	plan, _ := load.ParsePlan([]string{"rate", "20"}, 10*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	p := &fakeProducer{}
	r, err := load.Publish(ctx, p, plan, &fakeClock{t: time.Unix(0, 0)}, func(r load.Result) {
		if r.Sent >= 40 {
			cancel()
		}
	})
	if err != nil || !r.Stopped || r.Sent != 40 || p.sent != 40 {
		t.Errorf("result %+v, %v; producer got %d", r, err, p.sent)
	}
}

func TestWaitDrained(t *testing.T) {
	p := &fakeProducer{queue: []int64{100, 80, 40, 0}}
	var rates []float64
	d, err := load.WaitDrained(context.Background(), p, &fakeClock{t: time.Unix(0, 0)}, time.Minute, func(_ int64, r float64) { rates = append(rates, r) })
	if err != nil || d.Start != 100 || d.End != 0 || d.Elapsed != 3*time.Second || len(rates) != 3 || rates[1] != 40 {
		t.Errorf("drained %+v, %v, rates %v", d, err, rates)
	}
	p = &fakeProducer{queue: []int64{7}}
	_, err = load.WaitDrained(context.Background(), p, &fakeClock{t: time.Unix(0, 0)}, 5*time.Second, nil)
	if err == nil || !strings.Contains(err.Error(), "still holds 7 items after 5s") {
		t.Errorf("err %v", err)
	}
}

// A batch in doubt is never sent again; five in a row stop the run as other
// failures do.
func TestInDoubtIsNeverResent(t *testing.T) {
	plan, _ := load.ParsePlan([]string{"burst", "50"}, 0)
	p := &fakeProducer{fail: func(int) error { return &load.InDoubtError{Code: 504, Detail: "may or may not"} }}
	r, err := load.Publish(context.Background(), p, plan, &fakeClock{t: time.Unix(0, 0)}, nil)
	if err != nil || len(p.requests) != 1 || r.InDoubt != 50 || r.Sent != 0 {
		t.Errorf("burst in doubt: result %+v, %v, requests %v", r, err, p.requests)
	}
	plan, _ = load.ParsePlan([]string{"rate", "20"}, 10*time.Second)
	p = &fakeProducer{fail: func(int) error { return &load.InDoubtError{Detail: "EOF"} }}
	r, err = load.Publish(context.Background(), p, plan, &fakeClock{t: time.Unix(0, 0)}, nil)
	if err == nil || !strings.Contains(err.Error(), "5 failed requests in a row") || len(p.requests) != 5 || r.InDoubt != 10 {
		t.Errorf("rate in doubt: result %+v, %v, requests %v", r, err, p.requests)
	}
	for _, n := range p.requests {
		if n != 2 {
			t.Errorf("requests %v: a batch in doubt was sent again", p.requests)
		}
	}
}
