package load

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Publisher reaches the producer.
type Publisher interface {
	// Publish pushes n items; a *RefusedError is an answer that retrying
	// will not change (HTTP 4xx).
	Publish(ctx context.Context, n int) error
	// Queue is the queue's length.
	Queue(ctx context.Context) (int64, error)
	// Via says how the producer is reached.
	Via() string
}

// RefusedError is the producer refusing a request (HTTP 4xx).
type RefusedError struct {
	Code int
	Body string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("the producer refused the request (HTTP %d): %s", e.Code, e.Body)
}

// Clock is time, injectable for tests.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx ends (its error then).
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the wall clock.
type RealClock struct{}

// Now is time.Now.
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits d.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Result is what a run did.
type Result struct {
	Plan    Plan          `json:"-"`
	Sent    int           `json:"sent"`
	Target  int           `json:"target"`
	Batches int           `json:"requests"`
	Elapsed time.Duration `json:"-"`
	// Stopped: interrupted before the end (Ctrl-C).
	Stopped bool `json:"stopped"`
	// Failures are the failed requests, in words (at most the first ten).
	Failures []string `json:"failures,omitempty"`
}

// tick is how often a rate or a ramp publishes what is due.
const tick = 100 * time.Millisecond

// maxFailuresInARow stops a run whose producer keeps failing.
const maxFailuresInARow = 5

// Publish runs a burst, rate or ramp plan. progress, if not nil, is told
// after each request.
func Publish(ctx context.Context, p Publisher, plan Plan, clock Clock, progress func(Result)) (Result, error) {
	r := Result{Plan: plan, Target: plan.Total()}
	start := clock.Now()
	inARow := 0
	for {
		due := plan.Due(clock.Now().Sub(start))
		if n := due - r.Sent; n > 0 {
			for n > 0 {
				k := min(n, 100000)
				err := p.Publish(ctx, k)
				r.Batches++
				switch {
				case ctx.Err() != nil:
					r.Stopped, r.Elapsed = true, clock.Now().Sub(start)
					return r, nil
				case err != nil:
					inARow++
					if len(r.Failures) < 10 {
						r.Failures = append(r.Failures, fmt.Sprintf("at %s, %d items: %v", clock.Now().Sub(start).Round(time.Millisecond), k, err))
					}
					var refused *RefusedError
					if errors.As(err, &refused) {
						r.Elapsed = clock.Now().Sub(start)
						return r, fmt.Errorf("stopped after %d of %d items: %w", r.Sent, r.Target, err)
					}
					if inARow >= maxFailuresInARow {
						r.Elapsed = clock.Now().Sub(start)
						return r, fmt.Errorf("stopped after %d failed requests in a row (%d of %d items sent) through %s: %w", inARow, r.Sent, r.Target, p.Via(), err)
					}
					n = 0 // try again at the next tick
				default:
					inARow = 0
					r.Sent += k
					n -= k
				}
				if progress != nil {
					progress(r)
				}
			}
		}
		if r.Sent >= r.Target {
			r.Elapsed = clock.Now().Sub(start)
			return r, nil
		}
		if err := clock.Sleep(ctx, tick); err != nil {
			r.Stopped, r.Elapsed = true, clock.Now().Sub(start)
			return r, nil
		}
	}
}

// Drained is what a drain saw.
type Drained struct {
	Start, End int64
	Elapsed    time.Duration
	Stopped    bool
	// Rate is the items per second drained over the whole wait.
	Rate float64
}

// WaitDrained polls the queue every second until it is empty, ctx ends or
// timeout passes; progress, if not nil, gets each reading and the drain rate
// over the last reading.
func WaitDrained(ctx context.Context, p Publisher, clock Clock, timeout time.Duration, progress func(length int64, perSecond float64)) (Drained, error) {
	start := clock.Now()
	first, err := p.Queue(ctx)
	if err != nil {
		return Drained{}, fmt.Errorf("read the queue through %s: %w", p.Via(), err)
	}
	d := Drained{Start: first, End: first}
	last, lastAt := first, start
	for d.End > 0 {
		if clock.Now().Sub(start) >= timeout {
			d.Elapsed = clock.Now().Sub(start)
			return d, fmt.Errorf("the queue still holds %d items after %s (it held %d): are consumers running? kubectl get deploy consumer; dojo diagnose", d.End, timeout, d.Start)
		}
		if err := clock.Sleep(ctx, time.Second); err != nil {
			d.Stopped = true
			break
		}
		n, err := p.Queue(ctx)
		if err != nil {
			if ctx.Err() != nil {
				d.Stopped = true
				break
			}
			return d, fmt.Errorf("read the queue through %s: %w", p.Via(), err)
		}
		now := clock.Now()
		if progress != nil {
			progress(n, float64(last-n)/now.Sub(lastAt).Seconds())
		}
		d.End, last, lastAt = n, n, now
	}
	d.Elapsed = clock.Now().Sub(start)
	if s := d.Elapsed.Seconds(); s > 0 {
		d.Rate = float64(d.Start-d.End) / s
	}
	return d, nil
}
