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
	// will not change (HTTP 4xx); an *InDoubtError says the items may or
	// may not have been queued (resending them could queue them twice).
	// Any other error means they were not queued.
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

// InDoubtError is a publish whose outcome is unknown: the producer
// answered 504 (Redis did not answer after the items were sent), or the
// request was sent and its answer never came. The items may or may not be
// in the queue, so they are not sent again.
type InDoubtError struct {
	// Code is the HTTP status (0 when no answer came).
	Code int
	// Detail is the producer's words, or the transport's error.
	Detail string
}

func (e *InDoubtError) Error() string {
	if e.Code == 0 {
		return "no answer to the request, so its items may or may not have been queued: " + e.Detail
	}
	return fmt.Sprintf("HTTP %d, the items may or may not have been queued: %s", e.Code, e.Detail)
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
	Plan Plan `json:"-"`
	// Sent counts the items the producer confirmed.
	Sent   int `json:"sent"`
	Target int `json:"target"`
	// InDoubt counts the items of requests whose outcome is unknown
	// (*InDoubtError): maybe queued, maybe not; never sent again.
	InDoubt int `json:"in_doubt"`

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
// after each request. A request that failed without queuing anything is
// retried at the next tick; one in doubt is counted in Result.InDoubt and
// not sent again, so the queue gets no duplicate from dojo load.
func Publish(ctx context.Context, p Publisher, plan Plan, clock Clock, progress func(Result)) (Result, error) {
	r := Result{Plan: plan, Target: plan.Total()}
	start := clock.Now()
	inARow := 0
	for {
		due := plan.Due(clock.Now().Sub(start))
		if n := due - r.Sent - r.InDoubt; n > 0 {
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
					var doubt *InDoubtError
					if errors.As(err, &doubt) {
						r.InDoubt += k
						n -= k // never resent: it may be queued already
					}
					if errors.As(err, &refused) {
						r.Elapsed = clock.Now().Sub(start)
						return r, fmt.Errorf("stopped after %d of %d items: %w", r.Sent, r.Target, err)
					}
					if inARow >= maxFailuresInARow {
						r.Elapsed = clock.Now().Sub(start)
						return r, fmt.Errorf("stopped after %d failed requests in a row (%d of %d items sent) through %s: %w", inARow, r.Sent, r.Target, p.Via(), err)
					}
					if doubt == nil {
						n = 0 // not queued: try again at the next tick
					}
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
		if r.Sent+r.InDoubt >= r.Target {
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
