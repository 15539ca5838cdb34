package course

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/state"
	"github.com/kubedojo/dojo/internal/steps"
)

// Every step that names reference files can show them all.
func TestEverySolutionRenders(t *testing.T) {
	cat, err := steps.Load(embedded.FS())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range cat.Steps() {
		if len(s.Solution) == 0 {
			continue
		}
		n++
		md, err := SolutionMarkdown(s, embedded.FS())
		if err != nil {
			t.Errorf("%s: %v", s.ID, err)
			continue
		}
		if got := strings.Count(md, "\n## `"); got != len(s.Solution) {
			t.Errorf("%s: %d files shown, want %d", s.ID, got, len(s.Solution))
		}
	}
	if n != 6 {
		t.Fatalf("%d steps with a reference, want 6 (steps 5 to 10)", n)
	}
}

// progress is a learner's progress on a fake clock: minutes after t0.
type progress struct {
	t  *testing.T
	st *state.State
}

var t0 = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

func at(min float64) time.Time { return t0.Add(time.Duration(min * float64(time.Minute))) }

// open is dojo step, dojo hint or dojo check of one step at minute min.
func (p progress) open(id string, min float64) { p.st.Open(id, at(min)) }

// pass is a dojo check that passes id at minute min.
func (p progress) pass(id string, min float64) {
	p.open(id, min)
	t := at(min)
	p.st.Step(id).Passed = &t
}

// spent is what dojo status shows for each step at minute now, in minutes
// (steps with no time left out), and the total.
func (p progress) spent(now float64) (map[string]float64, time.Duration) {
	p.t.Helper()
	cat, err := steps.Load(embedded.FS())
	if err != nil {
		p.t.Fatal(err)
	}
	got := map[string]float64{}
	var total time.Duration
	for _, r := range Rows(cat, p.st, at(now)) {
		if r.TimeSpent > 0 {
			got[r.ID] = r.TimeSpent.Minutes()
		}
		total += r.TimeSpent
	}
	return got, total
}

func newProgress(t *testing.T) progress {
	return progress{t: t, st: &state.State{Version: state.SchemaVersion, Steps: map[string]*state.StepState{}}}
}

// Opening every step, one after the other, starts no eleven clocks: the
// time runs for the step opened last, and the total is the time since the
// first was opened (issue 26: each showed 3m14s, 35m32s in all).
func TestOneClockWhenEveryStepIsOpened(t *testing.T) {
	p := newProgress(t)
	cat, _ := steps.Load(embedded.FS())
	for i, s := range cat.Steps() {
		p.open(s.ID, float64(i)/60) // a second apart
	}
	got, total := p.spent(3 + 10.0/60)
	if total != 3*time.Minute+10*time.Second {
		t.Errorf("total %s three minutes after opening all 11 steps, want 3m10s (%v)", total, got)
	}
	if got["cleanup"] != 3 {
		t.Errorf("cleanup, opened last, has %v min, want 3 (%v)", got["cleanup"], got)
	}
	for _, id := range []string{"step-1", "step-5", "step-10"} {
		if got[id] != 1.0/60 {
			t.Errorf("%s has %v min, want one second (%v)", id, got[id], got)
		}
	}
}

// Open ahead, come back, pass out of order: the clock follows the step
// the learner turned to last while it has not passed; once it has, the
// first step not passed.
func TestClockFollowsTheStepBeingWorkedOn(t *testing.T) {
	p := newProgress(t)
	p.open("step-1", 0)
	p.open("step-3", 10) // a look ahead
	p.open("step-1", 12) // back
	p.pass("step-1", 20) // from here the first not passed: step-2
	p.open("step-3", 22) // step 2 skipped
	p.pass("step-3", 30) // passed before step 2: back to step-2
	got, total := p.spent(35)
	want := map[string]float64{"step-1": 10 + 8, "step-2": 2 + 5, "step-3": 2 + 8}
	if !maps.Equal(got, want) {
		t.Errorf("minutes per step at minute 35: %v, want %v", got, want)
	}
	if total != 35*time.Minute {
		t.Errorf("total %s, want the 35 minutes since step 1 was opened", total)
	}
	// Re-reading a passed step moves no clock onto it.
	p.open("step-1", 36)
	if got, _ := p.spent(40); got["step-1"] != 18 || got["step-2"] != 12 {
		t.Errorf("after re-reading step 1 at minute 36: %v, want step-1 18, step-2 12", got)
	}
}

// When every step and the step last visited have passed, no clock runs:
// the times stay as they were at the last pass.
func TestNoClockOnceEverythingPassed(t *testing.T) {
	p := newProgress(t)
	cat, _ := steps.Load(embedded.FS())
	for i, s := range cat.Steps() {
		if s.Number != steps.CleanupNumber {
			p.open(s.ID, float64(2*i))
			p.pass(s.ID, float64(2*i+1))
		}
	}
	_, atEnd := p.spent(19)
	_, later := p.spent(19 + 60)
	if atEnd != 19*time.Minute || later != atEnd {
		t.Errorf("total at the last pass %s, an hour later %s; want 19m both", atEnd, later)
	}
}

// A progress file from before visits were recorded: each step counts from
// its start to the next step's start or its pass.
func TestClockFromAnOlderFile(t *testing.T) {
	p := newProgress(t)
	for id, min := range map[string]float64{"step-1": 0, "step-2": 5, "step-3": 9} {
		s := at(min)
		p.st.Step(id).Started = &s
	}
	passed := at(4)
	p.st.Step("step-1").Passed = &passed
	got, total := p.spent(12)
	want := map[string]float64{"step-1": 4, "step-2": 1 + 4, "step-3": 3}
	if !maps.Equal(got, want) || total != 12*time.Minute {
		t.Errorf("from Started and Passed alone: %v (total %s), want %v", got, total, want)
	}
}
