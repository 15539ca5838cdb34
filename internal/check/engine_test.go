package check

import (
	"context"
	"testing"
)

func TestEvaluateSkipsWhatWaitsForAFailure(t *testing.T) {
	ran := map[string]bool{}
	judge := func(id string, s Status) func(context.Context) Result {
		return func(context.Context) Result { ran[id] = true; return Result{Status: s, Observed: id} }
	}
	rs := Evaluate(context.Background(), "step-5", []Criterion{
		{ID: "a", Judge: judge("a", Fail)},
		{ID: "b", Needs: []string{"a"}, Judge: judge("b", Pass)},
		{ID: "c", Needs: []string{"b"}, Judge: judge("c", Pass)},
		{ID: "d", Judge: judge("d", Warn)},
		{ID: "e", Needs: []string{"d"}, Judge: judge("e", Pass)},
		{ID: "f", Live: true, Judge: judge("f", Pass)},
	}, EvalOptions{SkipLive: true, SkipLiveHint: "dojo check step-5"})
	want := []struct {
		id, waits string
		s         Status
	}{{"step-5/a", "", Fail}, {"step-5/b", "step-5/a", Skipped}, {"step-5/c", "step-5/b", Skipped},
		{"step-5/d", "", Warn}, {"step-5/e", "", Pass}, {"step-5/f", "", Skipped}}
	for i, w := range want {
		if rs[i].Criterion != w.id || rs[i].Status != w.s || rs[i].WaitsFor != w.waits {
			t.Errorf("result %d = %+v, want %s %s waiting for %q", i, rs[i], w.id, w.s, w.waits)
		}
	}
	if ran["b"] || ran["c"] || ran["f"] {
		t.Errorf("judges ran that should not: %v", ran)
	}
	if rs[5].Next != "dojo check step-5" {
		t.Errorf("a skipped live criterion says how to run it: %+v", rs[5])
	}
	if Passed(rs) {
		t.Error("a step with a failure passed")
	}
	if !Passed(rs[3:5]) || Passed(rs[5:]) {
		t.Error("warnings count as passed; skipped criteria do not")
	}
}

// A criterion that needs a live one left out by --static is left out as
// live too (not reported as waiting), so --static and --watch see only the
// static criteria.
func TestDependentsOfSkippedLiveCriteria(t *testing.T) {
	pass := func(context.Context) Result { return Result{Status: Pass, Expected: "x"} }
	rs := Evaluate(context.Background(), "step-3", []Criterion{
		{ID: "publish", Live: true, Judge: pass},
		{ID: "ready", Judge: pass},
		{ID: "drains", Live: true, Needs: []string{"publish", "ready"}, Judge: pass},
		{ID: "after", Needs: []string{"drains"}, Judge: pass},
	}, EvalOptions{SkipLive: true, SkipLiveHint: "dojo check step-3"})
	for _, i := range []int{0, 2, 3} {
		if rs[i].Status != Skipped || rs[i].WaitsFor != "" || rs[i].Next != "dojo check step-3" {
			t.Errorf("%s = %+v, want skipped as live", rs[i].Criterion, rs[i])
		}
	}
	if rs[1].Status != Pass || rs[1].Expected != "" {
		t.Errorf("a pass keeps its expected text: %+v", rs[1])
	}
}
