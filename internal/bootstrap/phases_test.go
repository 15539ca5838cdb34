package bootstrap

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The phase list runs each phase after the ones it needs, runs independent
// phases at the same time, and a failure stops only what needs it.
func TestRunPhasesOrderAndIndependentFailures(t *testing.T) {
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
	if len(order) != 4 || order[0] != "a" || order[3] != "d" {
		t.Fatalf("order %v: want a first, d last", order)
	}

	// A failure stops only what needs it: a sibling runs to its end, and the
	// errors name the failure and each phase it kept from starting.
	order = nil
	boom := errors.New("boom")
	errs = runPhases(context.Background(), []phase{
		{name: "a", run: ok("a")},
		{name: "fails", needs: []string{"a"}, run: func(context.Context) error { return boom }},
		{name: "after", needs: []string{"fails"}, run: ok("after")},
		{name: "after-both", needs: []string{"a", "after"}, run: ok("after-both")},
		{name: "sibling", needs: []string{"a"}, run: func(ctx context.Context) error {
			time.Sleep(200 * time.Millisecond)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rec("sibling")
			return nil
		}},
	})
	if !slices.Contains(order, "a") || !slices.Contains(order, "sibling") || slices.Contains(order, "after") || slices.Contains(order, "after-both") {
		t.Fatalf("ran %v: want a and sibling, neither after nor after-both", order)
	}
	var msgs []string
	for _, err := range errs {
		msgs = append(msgs, err.Error())
	}
	want := []string{"boom", "after not started: it needs fails", "after-both not started: it needs after"}
	if !slices.Equal(msgs, want) {
		t.Fatalf("errors %q, want %q", msgs, want)
	}

	// A run that ends (Ctrl-C, --timeout) starts nothing more, and says so.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	errs = runPhases(ctx, []phase{{name: "a", run: ok("late")}})
	if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) || slices.Contains(order, "late") {
		t.Fatalf("after the end: %v (ran %v)", errs, order)
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

// One stuck release must not use up the whole run: its bound is half the
// run's deadline, at most 5 minutes.
func TestReleaseTimeoutIsShorterThanTheRun(t *testing.T) {
	for run, want := range map[time.Duration]time.Duration{
		4 * time.Minute:  2 * time.Minute,
		10 * time.Minute: 5 * time.Minute,
		time.Hour:        5 * time.Minute,
	} {
		if got := releaseTimeout(run); got != want || got >= run {
			t.Errorf("releaseTimeout(%s) = %s, want %s", run, got, want)
		}
	}
}

// dojo up says each real failure, then in one line what it kept from
// starting; a failure that left nothing else to run is said alone.
func TestFoldNotStarted(t *testing.T) {
	boom := errors.New("traefik: boom")
	errs := []error{boom, &notStarted{phase: "producer", needs: []string{"redis"}}, &notStarted{phase: "consumer", needs: []string{"redis"}}}
	got := foldNotStarted(errs, 7)
	if len(got) != 2 || got[0] != boom || !strings.HasPrefix(got[1].Error(), "not started, as a phase they need failed: producer, consumer (fix what failed above and run dojo up again") {
		t.Fatalf("folded %q", got)
	}
	// Everything after the cluster waited: only the cluster's error.
	errs = []error{boom}
	for _, p := range []string{"workspace", "image", "traefik", "redis", "producer", "consumer"} {
		errs = append(errs, &notStarted{phase: p, needs: []string{"cluster"}})
	}
	if got := foldNotStarted(errs, 7); len(got) != 1 || got[0] != boom {
		t.Fatalf("folded %q, want only the failure", got)
	}
	// Phases the end of the run kept from starting are said as such.
	ended := &notStarted{phase: "redis", cause: context.DeadlineExceeded}
	if got := foldNotStarted([]error{ended}, 7); len(got) != 1 || !errors.Is(got[0], context.DeadlineExceeded) {
		t.Fatalf("folded %q", got)
	}
}

func TestRunPhasesRefusesAnUnknownNeed(t *testing.T) {
	errs := runPhases(context.Background(), []phase{{name: "a", needs: []string{"nope"}, run: func(context.Context) error { return nil }}})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "needs nope") {
		t.Fatalf("errs %v", errs)
	}
}
