package bootstrap

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// The phase list runs each phase after the ones it needs, runs independent
// phases at the same time, skips what needs a failed phase and stops the
// rest on the first failure.
func TestRunPhasesOrderSkipsAndCancels(t *testing.T) {
	var mu sync.Mutex
	var order []string
	rec := func(name string) { mu.Lock(); order = append(order, name); mu.Unlock() }
	ok := func(name string) func(context.Context) error {
		return func(context.Context) error { rec(name); return nil }
	}
	// b and c need a and must overlap: each waits until the other started.
	bStarted, cStarted := make(chan struct{}), make(chan struct{})
	meet := func(name string, mine, other chan struct{}) func(context.Context) error {
		return func(context.Context) error {
			close(mine)
			select {
			case <-other:
			case <-time.After(10 * time.Second):
				return errors.New(name + " never ran beside its sibling")
			}
			rec(name)
			return nil
		}
	}
	errs := runPhases(context.Background(), []phase{
		{name: "d", needs: []string{"b", "c"}, run: ok("d")},
		{name: "a", run: ok("a")},
		{name: "b", needs: []string{"a"}, run: meet("b", bStarted, cStarted)},
		{name: "c", needs: []string{"a"}, run: meet("c", cStarted, bStarted)},
	})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if order[0] != "a" || order[3] != "d" || len(order) != 4 {
		t.Fatalf("order %v: want a first, d last", order)
	}

	// A failure: what needs it never starts, and a running sibling is cancelled.
	order = nil
	boom := errors.New("boom")
	errs = runPhases(context.Background(), []phase{
		{name: "a", run: ok("a")},
		{name: "fails", needs: []string{"a"}, run: func(context.Context) error { return boom }},
		{name: "after", needs: []string{"fails"}, run: ok("after")},
		{name: "slow", needs: []string{"a"}, run: func(ctx context.Context) error {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Second):
				rec("slow finished")
				return nil
			}
		}},
	})
	if !slices.Contains(order, "a") || slices.Contains(order, "after") || slices.Contains(order, "slow finished") {
		t.Fatalf("ran %v: want a, and neither after nor slow to finish", order)
	}
	// slow is either cancelled or never started, depending on which ran first.
	for _, err := range errs {
		if !errors.Is(err, boom) && !errors.Is(err, context.Canceled) {
			t.Fatalf("errors %v: want boom and at most the cancelled sibling", errs)
		}
	}
	if !errors.Is(errors.Join(errs...), boom) {
		t.Fatalf("errors %v lack boom", errs)
	}
	if got := dedupe(errs); len(got) != 1 || !errors.Is(got[0], boom) {
		t.Fatalf("dedupe(%v) = %v: want only boom", errs, got)
	}
}

// dojo up's phases are one list whose needs name phases of the list.
func TestPhasesNeedOnlyListedPhases(t *testing.T) {
	u := &run{}
	seen := map[string]bool{}
	for _, p := range u.phases() {
		for _, n := range p.needs {
			if !seen[n] {
				t.Errorf("phase %s needs %s, which is not listed before it", p.name, n)
			}
		}
		seen[p.name] = true
	}
	for _, want := range []string{"cluster", "workspace", "image", "traefik", "redis", "producer", "consumer"} {
		if !seen[want] {
			t.Errorf("no phase %s", want)
		}
	}
}
