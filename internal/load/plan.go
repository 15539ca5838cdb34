// Package load publishes items through the workshop's producer on a plan
// (a burst, a steady rate, a ramp) and waits for the queue to drain, so that
// autoscaling can be watched happening (dojo load).
package load

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/kubedojo/dojo/internal/workshop"
)

// The plans.
const (
	Burst = "burst"
	Rate  = "rate"
	Ramp  = "ramp"
	Drain = "drain"
)

// MaxItems bounds one plan's total (the producer takes up to 100000 per
// request). Redis's maxmemory and memory limit are computed from it
// (workshop.RedisMaxMemoryMiB), so a full run fits.
const MaxItems = workshop.MaxLoadItems

// Plan is what to publish.
type Plan struct {
	Kind string
	// N is a burst's size.
	N int
	// From and To are items per second (equal for a rate).
	From, To float64
	For      time.Duration
}

// UsageError is bad input, naming the value and the accepted form.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, a ...any) error { return &UsageError{Msg: fmt.Sprintf(format, a...)} }

const forms = "dojo load burst N | rate R --for D | ramp R1..R2 --for D | drain"

// ParsePlan reads the arguments of dojo load and its --for flag (0 when
// not given).
func ParsePlan(args []string, d time.Duration) (Plan, error) {
	if len(args) == 0 {
		return Plan{}, usagef("dojo load needs a plan: %s", forms)
	}
	p := Plan{Kind: args[0], For: d}
	want := func(n int, form string) error {
		if len(args) != n {
			return usagef("dojo load %s takes %d argument(s), got %d: %s", args[0], n-1, len(args)-1, form)
		}
		return nil
	}
	switch p.Kind {
	case Burst:
		if err := want(2, "dojo load burst N, e.g. dojo load burst 200"); err != nil {
			return p, err
		}
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 1 || n > MaxItems {
			return p, usagef("burst size %q is not a whole number from 1 to %d: e.g. dojo load burst 200", args[1], MaxItems)
		}
		p.N = n
		if d != 0 {
			return p, usagef("--for %s has no meaning for a burst, which is sent at once: drop it, or use dojo load rate R --for D", d)
		}
	case Rate:
		if err := want(2, "dojo load rate R --for D, e.g. dojo load rate 20 --for 10s"); err != nil {
			return p, err
		}
		r, err := rate(args[1])
		if err != nil {
			return p, err
		}
		p.From, p.To = r, r
	case Ramp:
		if err := want(2, "dojo load ramp R1..R2 --for D, e.g. dojo load ramp 5..50 --for 1m"); err != nil {
			return p, err
		}
		a, b, ok := strings.Cut(args[1], "..")
		if !ok {
			return p, usagef("ramp %q is not R1..R2 (items per second at the start and at the end): e.g. dojo load ramp 5..50 --for 1m", args[1])
		}
		var err error
		if p.From, err = rate(a); err != nil {
			return p, err
		}
		if p.To, err = rate(b); err != nil {
			return p, err
		}
	case Drain:
		if err := want(1, "dojo load drain"); err != nil {
			return p, err
		}
		return p, nil
	default:
		return p, usagef("%q is not a plan: %s", p.Kind, forms)
	}
	if p.Kind == Rate || p.Kind == Ramp {
		if d <= 0 {
			return p, usagef("dojo load %s needs --for D (how long, e.g. --for 30s)", p.Kind)
		}
		if t := p.Total(); t > MaxItems {
			return p, usagef("%s for %s makes %d items, more than %d: lower the rate or the duration", args[1], d, t, MaxItems)
		}
	}
	return p, nil
}

func rate(s string) (float64, error) {
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || r <= 0 || math.IsInf(r, 0) || r > 10000 {
		return 0, usagef("rate %q is not a number of items per second above 0 and at most 10000: e.g. 20 or 2.5", s)
	}
	return r, nil
}

// Total is how many items the plan publishes in all.
func (p Plan) Total() int {
	if p.Kind == Burst {
		return p.N
	}
	return p.Due(p.For)
}

// Due is how many items should have been published t after the start: the
// integral of the rate, rounded to the nearest item.
func (p Plan) Due(t time.Duration) int {
	switch p.Kind {
	case Burst:
		return p.N
	case Rate, Ramp:
		t = min(max(t, 0), p.For)
		s, d := t.Seconds(), p.For.Seconds()
		return int(math.Round(p.From*s + (p.To-p.From)*s*s/(2*d)))
	}
	return 0
}

// String describes the plan in words.
func (p Plan) String() string {
	switch p.Kind {
	case Burst:
		return fmt.Sprintf("a burst of %d items", p.N)
	case Rate:
		return fmt.Sprintf("%g items/s for %s (%d items)", p.From, p.For, p.Total())
	case Ramp:
		return fmt.Sprintf("%g to %g items/s over %s (%d items)", p.From, p.To, p.For, p.Total())
	}
	return "drain"
}
