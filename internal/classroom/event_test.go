package classroom

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/state"
	"github.com/kubedojo/dojo/internal/steps"
)

var t0 = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

func catalog(t testing.TB) *steps.Catalog {
	t.Helper()
	cat, err := steps.Load(embedded.FS())
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// progress is a state where steps 1..passed passed (each took 10 minutes
// and used one hint) and the next one started `on` before now with hints.
func progress(now time.Time, passed int, on time.Duration, hints int) *state.State {
	st := &state.State{Version: 1, Steps: map[string]*state.StepState{}}
	at := now.Add(-on - time.Duration(passed)*10*time.Minute)
	for n := 1; n <= passed; n++ {
		start, end := at, at.Add(10*time.Minute)
		st.Steps[steps.IDFor(n)] = &state.StepState{Started: &start, Passed: &end, HintsRevealed: 1}
		at = end
	}
	if passed < steps.CleanupNumber {
		start := now.Add(-on)
		st.Steps[steps.IDFor(passed+1)] = &state.StepState{Started: &start, HintsRevealed: hints}
	}
	return st
}

func member() *Member {
	return &Member{Version: 1, URL: "http://127.0.0.1:7777", Token: strings.Repeat("a", 32), Name: "Ada", Learner: strings.Repeat("0123456789abcdef", 2)}
}

func TestEventCarriesTheModelAndNothingElse(t *testing.T) {
	long := "the rule group consumer.rules\nis not loaded: " + strings.Repeat("é", 300)
	e := NewEvent(Input{
		Member: member(), Catalog: catalog(t), State: progress(t0, 6, 40*time.Minute, 2), Now: t0,
		Checked: map[string][]check.Result{
			"step-7": {
				{Criterion: "step-7/rule-installed", Status: check.Pass, Observed: "found"},
				{Criterion: "step-7/rule-loaded", Status: check.Fail, Observed: long, Expected: "a group evaluated every 1s", Next: "kubectl get prometheusrule"},
				{Criterion: "step-7/live-value", Status: check.Fail, Observed: "second failure"},
				{Criterion: "step-7/zero-when-absent", Status: check.Skipped, WaitsFor: "step-7/rule-loaded"},
			},
			"step-5": {{Criterion: "step-5/scrape-interval", Status: check.Fail, Observed: "30s"}},
		},
		Dojo: "v1.2.3", Kubernetes: "v1.37.0",
	})
	if e.Step != 7 || e.Seconds != 2400 || e.Hints != 2 || e.Name != "Ada" || e.Learner != member().Learner {
		t.Fatalf("event = %+v, want step 7, 2400 s, 2 hints, Ada", e)
	}
	if len(e.Passed) != 6 || e.Passed[5] != (Passed{Step: 6, Seconds: 600, Hints: 1}) {
		t.Fatalf("passed = %+v, want steps 1 to 6, 600 s and 1 hint each", e.Passed)
	}
	wantCriteria := []Criterion{{"step-7/rule-installed", check.Pass}, {"step-7/rule-loaded", check.Fail}, {"step-7/live-value", check.Fail}, {"step-7/zero-when-absent", check.Skipped}}
	if !slices.Equal(e.Criteria, wantCriteria) {
		t.Fatalf("criteria = %+v, want step 7's only: %+v", e.Criteria, wantCriteria)
	}
	f := e.Failing
	if f == nil || f.Criterion != "step-7/rule-loaded" || f.Expected != "a group evaluated every 1s" {
		t.Fatalf("failing = %+v, want the first failing criterion, rule-loaded", f)
	}
	if n := utf8.RuneCountInString(f.Observed); n != MaxText || !strings.HasSuffix(f.Observed, "…") || strings.Contains(f.Observed, "\n") {
		t.Fatalf("observed has %d characters (%q), want %d on one line ending with …", n, f.Observed, MaxText)
	}
	// What goes on the wire: exactly the model's fields, no "next", no
	// path, no kubeconfig.
	data, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	json.Unmarshal(data, &fields)
	var keys []string
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"criteria", "dojo", "failing", "hints", "kubernetes", "learner", "name", "passed", "seconds", "step"}
	if !slices.Equal(keys, want) {
		t.Fatalf("fields sent = %v, want %v", keys, want)
	}
	if strings.Contains(string(data), "kubectl get") || strings.Contains(string(data), "second failure") {
		t.Fatalf("the event carries more than the first failing criterion: %s", data)
	}
}

func TestEventStepAfterTheLastAndAtTheEnd(t *testing.T) {
	cat := catalog(t)
	e := NewEvent(Input{Member: member(), Catalog: cat, State: progress(t0, 10, time.Minute, 0), Now: t0})
	if e.Step != steps.CleanupNumber || e.Seconds != 60 {
		t.Fatalf("after step 10: step %d, %d s; want cleanup (%d), 60 s", e.Step, e.Seconds, steps.CleanupNumber)
	}
	e = NewEvent(Input{Member: member(), Catalog: cat, State: progress(t0, steps.CleanupNumber, 0, 0), Now: t0})
	if e.Step != DoneStep || len(e.Passed) != steps.CleanupNumber || e.Criteria != nil {
		t.Fatalf("all passed: step %d, %d passed; want %d and all %d", e.Step, len(e.Passed), DoneStep, steps.CleanupNumber)
	}
	e = NewEvent(Input{Member: member(), Catalog: cat, State: nil, Now: t0})
	if e.Step != 1 || e.Seconds != 0 || e.Passed != nil {
		t.Fatalf("no progress: %+v, want step 1", e)
	}
}

func TestNormalizeRefusesWhatIsNotAnEvent(t *testing.T) {
	good := func() Event {
		return Event{Learner: member().Learner, Name: "Ada", Step: 7, Dojo: "v1",
			Criteria: []Criterion{{"step-7/rule-loaded", check.Fail}},
			Failing:  &Failing{Criterion: "step-7/rule-loaded", Observed: strings.Repeat("x", 500)},
			Hand:     &Hand{Message: strings.Repeat("y", 500)}}
	}
	e := good()
	if err := e.Normalize(11); err != nil {
		t.Fatalf("a good event: %v", err)
	}
	if utf8.RuneCountInString(e.Failing.Observed) != MaxText || utf8.RuneCountInString(e.Hand.Message) != MaxMessage {
		t.Fatalf("the server did not truncate: observed %d, message %d characters", len(e.Failing.Observed), len(e.Hand.Message))
	}
	bad := map[string]func(*Event){
		"short learner id":     func(e *Event) { e.Learner = "abc" },
		"learner id not hex":   func(e *Event) { e.Learner = strings.Repeat("z", 32) },
		"empty name":           func(e *Event) { e.Name = "  " },
		"long name":            func(e *Event) { e.Name = strings.Repeat("n", MaxName+1) },
		"name with escape":     func(e *Event) { e.Name = "Ada\x1b[31m" },
		"name on two lines":    func(e *Event) { e.Name = "Ada\nBob" },
		"step 0":               func(e *Event) { e.Step = 0 },
		"step past done":       func(e *Event) { e.Step = 13 },
		"unknown status":       func(e *Event) { e.Criteria[0].Status = "maybe" },
		"criterion with HTML":  func(e *Event) { e.Criteria[0].ID = "<b>x</b>" },
		"failing id with HTML": func(e *Event) { e.Failing.Criterion = "step-7/<script>" },
		"too many criteria":    func(e *Event) { e.Criteria = make([]Criterion, MaxCriteria+1) },
		"negative seconds":     func(e *Event) { e.Seconds = -1 },
		"passed step 99":       func(e *Event) { e.Passed = []Passed{{Step: 99}} },
	}
	for name, mutate := range bad {
		e := good()
		mutate(&e)
		if err := e.Normalize(11); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestTruncateKeepsCharactersWhole(t *testing.T) {
	if got := Truncate("日本語のテキスト", 4); got != "日本語…" {
		t.Fatalf("Truncate = %q", got)
	}
	if got := Truncate("a\tb\r\nc", 10); got != "a b  c" {
		t.Fatalf("control characters: %q", got)
	}
	if got := Truncate("short", 10); got != "short" {
		t.Fatalf("short string changed: %q", got)
	}
}
