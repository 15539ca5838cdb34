package classroom

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubedojo/dojo/internal/check"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newRoom(t testing.TB, limits Limits) (*Room, *clock, string) {
	t.Helper()
	c := &clock{t: t0}
	path := filepath.Join(t.TempDir(), "room.json")
	r, resumed, err := Open(path, StepsOf(catalog(t)), limits, c.Now)
	if err != nil || resumed {
		t.Fatalf("Open: %v (resumed %v)", err, resumed)
	}
	return r, c, path
}

func id(n int) string { return fmt.Sprintf("%032x", n) }

func ev(n int, name string, step int, seconds int64) Event {
	e := Event{Learner: id(n), Name: name, Step: step, Seconds: seconds, Dojo: "v1"}
	for s := 1; s < step; s++ {
		e.Passed = append(e.Passed, Passed{Step: s, Seconds: 300, Hints: 1})
	}
	return e
}

func names(v View) []string {
	var out []string
	for _, l := range v.Learners {
		out = append(out, l.Name)
	}
	return out
}

func apply(t testing.TB, r *Room, es ...Event) {
	t.Helper()
	if _, err := r.Apply(es); err != nil {
		t.Fatal(err)
	}
}

func TestRoomOrdersRaisedHandsThenTheLongestStuck(t *testing.T) {
	r, c, _ := newRoom(t, DefaultLimits())
	stuck := ev(1, "Grace", 7, 2400)
	stuck.Criteria = []Criterion{{"step-7/rule-installed", check.Pass}, {"step-7/rule-loaded", check.Fail}}
	stuck.Failing = &Failing{Criterion: "step-7/rule-loaded", Observed: "no group", Expected: "every 1s"}
	apply(t, r, ev(2, "Alan", 7, 600), stuck, ev(3, "Ada", 3, 1200), ev(4, "Linus", DoneStep, 0), ev(5, "Barbara", 5, 60))
	v := r.View()
	if got := strings.Join(names(v), ","); got != "Grace,Ada,Alan,Barbara,Linus" {
		t.Fatalf("order = %s, want the longest on their step first, the finished last", got)
	}
	g := v.Learners[0]
	if g.Failing == nil || !strings.Contains(g.Failing.Text, "Prometheus has loaded the rule group") || g.Failed != 1 || g.Checked != 2 {
		t.Fatalf("Grace's failing criterion = %+v (failed %d of %d), want step 7's rule-loaded in the step's words", g.Failing, g.Failed, g.Checked)
	}
	// Time goes on for who is still working, not for who finished.
	c.Add(10 * time.Minute)
	v = r.View()
	if v.Learners[0].Seconds != 3000 || v.Learners[4].Seconds != 0 {
		t.Fatalf("after 10 min: Grace %d s, Linus %d s; want 3000 and 0", v.Learners[0].Seconds, v.Learners[4].Seconds)
	}
	// Two hands: both before everyone, the first raised first.
	h := ev(5, "Barbara", 5, 60)
	h.Hand = &Hand{Message: "the exporter shows nothing"}
	apply(t, r, h)
	c.Add(time.Minute)
	h2 := ev(4, "Linus", DoneStep, 0)
	h2.Hand = &Hand{}
	apply(t, r, h2)
	v = r.View()
	if got := strings.Join(names(v), ","); got != "Barbara,Linus,Grace,Ada,Alan" {
		t.Fatalf("order with hands = %s", got)
	}
	if v.Learners[0].Hand.Message != "the exporter shows nothing" || v.Learners[0].Hand.Seconds != 60 {
		t.Fatalf("hand = %+v", v.Learners[0].Hand)
	}
	// How many are past each step.
	past := map[int]int{}
	for _, s := range v.Steps {
		past[s.Number] = s.Past
	}
	if past[1] != 5 || past[3] != 4 || past[6] != 3 || past[7] != 1 || len(v.Steps) != 11 {
		t.Fatalf("past = %v, want 5 past step 1, 4 past 3, 3 past 6, 1 past 7 (of 11 steps)", past)
	}
}

func TestAHandGoesDownWhenItsStepPassesOrTheTrainerClearsIt(t *testing.T) {
	r, _, _ := newRoom(t, DefaultLimits())
	up := ev(1, "Ada", 5, 100)
	up.Hand = &Hand{Message: "help"}
	apply(t, r, up)
	apply(t, r, ev(1, "Ada", 5, 130)) // a hint on the same step: still up
	if r.View().Learners[0].Hand == nil {
		t.Fatal("the hand went down with an event of the same step")
	}
	apply(t, r, ev(1, "Ada", 6, 0)) // step 5 passed
	if h := r.View().Learners[0].Hand; h != nil {
		t.Fatalf("the hand stayed up after its step passed: %+v", h)
	}
	up = ev(2, "Alan", 3, 10)
	up.Hand = &Hand{}
	apply(t, r, up)
	if ok, err := r.ClearHand(id(2)); !ok || err != nil {
		t.Fatalf("ClearHand: %v %v", ok, err)
	}
	for _, l := range r.View().Learners {
		if l.Hand != nil {
			t.Fatalf("%s's hand is still up after the trainer cleared it", l.Name)
		}
	}
	if ok, _ := r.ClearHand(id(99)); ok {
		t.Fatal("ClearHand found a learner that never joined")
	}
}

func TestAnEventThatJudgedNothingKeepsTheLastCheck(t *testing.T) {
	r, _, _ := newRoom(t, DefaultLimits())
	e := ev(1, "Ada", 7, 100)
	e.Criteria = []Criterion{{"step-7/rule-loaded", check.Fail}}
	e.Failing = &Failing{Criterion: "step-7/rule-loaded", Observed: "nothing"}
	apply(t, r, e)
	apply(t, r, ev(1, "Ada", 7, 160)) // dojo hint step-7
	if f := r.View().Learners[0].Failing; f == nil || f.Observed != "nothing" {
		t.Fatalf("a hint event dropped the failing criterion: %+v", f)
	}
	apply(t, r, ev(1, "Ada", 8, 0)) // passed: a new step, nothing judged yet
	if f := r.View().Learners[0].Failing; f != nil {
		t.Fatalf("step 8 shows step 7's failure: %+v", f)
	}
}

func TestRoomBounds(t *testing.T) {
	lim := DefaultLimits()
	lim.MaxLearners, lim.PerMinute = 2, 3
	r, c, _ := newRoom(t, lim)
	apply(t, r, ev(1, "Ada", 1, 0), ev(2, "Alan", 1, 0))
	n, err := r.Apply([]Event{ev(1, "Ada", 2, 0), ev(3, "Grace", 1, 0)})
	var be *BatchError
	if !errors.Is(err, ErrFull) || !errors.As(err, &be) || n != 1 || be.Accepted != 1 || !strings.Contains(err.Error(), "2 learners") {
		t.Fatalf("a third learner: accepted %d, %v; want ErrFull after 1, naming the bound", n, err)
	}
	if len(r.View().Learners) != 2 {
		t.Fatal("the room grew past its bound")
	}
	// Ada sent 2 events; the third of the minute passes, the fourth not.
	n, err = r.Apply([]Event{ev(1, "Ada", 3, 0), ev(1, "Ada", 4, 0)})
	if !errors.Is(err, ErrRateLimited) || n != 1 {
		t.Fatalf("events 3 and 4 of a minute: accepted %d, %v; want 1 and ErrRateLimited", n, err)
	}
	if r.View().Learners[0].Step != 3 && r.View().Learners[1].Step != 3 {
		t.Fatal("the accepted event was not applied")
	}
	c.Add(61 * time.Second)
	if _, err := r.Apply([]Event{ev(1, "Ada", 4, 0)}); err != nil {
		t.Fatalf("a minute later: %v", err)
	}
	bad := ev(2, "Alan", 1, 0)
	bad.Learner = "nope"
	if _, err := r.Apply([]Event{bad}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an invalid event: %v", err)
	}
	if ref := r.View().Refused; ref.Full != 1 || ref.RateLimited != 1 || ref.Invalid != 1 {
		t.Fatalf("refusals = %+v", ref)
	}
}

func TestARestartedRoomKeepsItsLearnersAndTokens(t *testing.T) {
	r, c, path := newRoom(t, DefaultLimits())
	e := ev(1, "Ada", 7, 100)
	e.Hand = &Hand{Message: "help"}
	apply(t, r, e, ev(2, "Alan", 3, 10))
	join, trainer := r.JoinToken(), r.TrainerToken()
	if len(join) != 32 || len(trainer) != 32 || join == trainer {
		t.Fatalf("tokens %q %q: want two different 128-bit tokens", join, trainer)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("room file mode = %v (%v), want 0600: it holds both tokens", fi.Mode().Perm(), err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("the directory holds %d files, want the room alone (no temporary file left)", len(entries))
	}
	// A new process: the same file.
	again, resumed, err := Open(path, StepsOf(catalog(t)), DefaultLimits(), c.Now)
	if err != nil || !resumed {
		t.Fatalf("reopen: %v (resumed %v)", err, resumed)
	}
	if again.JoinToken() != join || again.TrainerToken() != trainer {
		t.Fatal("the tokens changed across a restart: every learner would have to join again")
	}
	v := again.View()
	if got := strings.Join(names(v), ","); got != "Ada,Alan" || v.Learners[0].Hand == nil || v.Learners[0].Step != 7 {
		t.Fatalf("after a restart: %s, %+v", got, v.Learners)
	}
}

func TestAnUnreadableRoomFileIsLeftAlone(t *testing.T) {
	for name, content := range map[string]string{
		"not JSON":  "{ half a room",
		"no tokens": `{"version": 1, "learners": []}`,
		"newer":     `{"version": 9, "joinToken": "` + strings.Repeat("a", 32) + `", "trainerToken": "` + strings.Repeat("b", 32) + `"}`,
	} {
		path := filepath.Join(t.TempDir(), "room.json")
		os.WriteFile(path, []byte(content), 0o600)
		if _, _, err := Open(path, StepsOf(catalog(t)), DefaultLimits(), time.Now); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: Open = %v, want an error naming the file", name, err)
		}
		if data, _ := os.ReadFile(path); !bytes.Equal(data, []byte(content)) {
			t.Errorf("%s: the file was changed", name)
		}
	}
}

// A hand raised again while still up keeps its wait on the same step, and
// starts a new one on another step.
func TestAHandRaisedOnAnotherStepStartsANewWait(t *testing.T) {
	r, c, _ := newRoom(t, DefaultLimits())
	up := ev(1, "Ada", 5, 100)
	up.Hand = &Hand{Message: "help"}
	apply(t, r, up)
	c.Add(time.Minute)
	apply(t, r, up) // the same step: the same wait
	if h := r.View().Learners[0].Hand; h == nil || h.Seconds != 60 {
		t.Fatalf("hand raised again on the same step: %+v, want a wait of 60 s", h)
	}
	c.Add(time.Minute)
	back := ev(1, "Ada", 4, 10) // the learner is back on step 4 and asks there
	back.Hand = &Hand{Message: "step 4 now"}
	apply(t, r, back)
	if h := r.View().Learners[0].Hand; h == nil || h.Seconds != 0 || h.Message != "step 4 now" {
		t.Fatalf("hand raised on another step: %+v, want a new wait", h)
	}
}
