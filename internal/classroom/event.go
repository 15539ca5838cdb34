// Package classroom brings a room of learners to the trainer: the event a
// learner's dojo sends after each check, hint, solve and step change, the
// trainer's HTTP server that keeps the room (in a JSON file, so a restart
// loses nothing), the page it serves, the room's export, and the learner's
// client that sends events within a time budget and queues them in the
// workspace when the trainer cannot be reached. It knows nothing of cobra.
//
// An event carries the learner's progress and nothing else: a random id, a
// display name, the step, each criterion's id and status, the first failing
// criterion's observed and expected values (truncated), hints used, time on
// the step, dojo's version and the node's Kubernetes version. No
// kubeconfig, no file contents, no host names.
package classroom

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/course"
	"github.com/kubedojo/dojo/internal/state"
	"github.com/kubedojo/dojo/internal/steps"
)

// Bounds of what an event carries. The client truncates to them; the server
// truncates again (a client is not trusted) and refuses what does not fit
// the model at all.
const (
	// MaxName is the longest display name, in characters.
	MaxName = 40
	// MaxText is the longest observed or expected value, in characters.
	MaxText = 160
	// MaxMessage is the longest raised-hand message, in characters.
	MaxMessage = 200
	// MaxCriteria is the most criteria one event lists.
	MaxCriteria = 24
	// MaxVersion is the longest version string (dojo's, the node's).
	MaxVersion = 40
)

// DoneStep is the step number of a learner who passed every step, cleanup
// included.
const DoneStep = steps.CleanupNumber + 1

// Event is what a learner's dojo sends to the trainer. Nothing else is sent.
type Event struct {
	// Learner is a random id made when the workspace joined (32 hex digits).
	Learner string `json:"learner"`
	// Name is the display name the learner chose.
	Name string `json:"name"`
	// Step is the first step not passed (1 to 10, 11 cleanup, 12 done), the
	// one `dojo check` judges without an argument.
	Step int `json:"step"`
	// Criteria are the current step's criteria as this command judged them
	// (empty when it judged none: the server keeps the last ones it got).
	Criteria []Criterion `json:"criteria,omitempty"`
	// Failing is the first failing criterion of the current step.
	Failing *Failing `json:"failing,omitempty"`
	// Hints is the number of hints revealed on the current step.
	Hints int `json:"hints"`
	// Seconds is the time on the current step, as `dojo status` counts it.
	Seconds int64 `json:"seconds"`
	// Passed are the steps passed, with their time and hints.
	Passed []Passed `json:"passed,omitempty"`
	// Dojo is dojo's version.
	Dojo string `json:"dojo"`
	// Kubernetes is the version of the cluster's node ("" when unknown).
	Kubernetes string `json:"kubernetes,omitempty"`
	// Hand, when set, raises the learner's hand.
	Hand *Hand `json:"hand,omitempty"`
}

// Criterion is one criterion's id ("step-7/rule-loaded") and status.
type Criterion struct {
	ID     string       `json:"id"`
	Status check.Status `json:"status"`
}

// Failing is the first failing criterion with what was observed and what
// was expected, each truncated to MaxText.
type Failing struct {
	Criterion string `json:"criterion"`
	Observed  string `json:"observed"`
	Expected  string `json:"expected,omitempty"`
}

// Passed is a step passed, the time it took and the hints it used.
type Passed struct {
	Step    int   `json:"step"`
	Seconds int64 `json:"seconds"`
	Hints   int   `json:"hints"`
}

// Hand is a raised hand, with an optional message.
type Hand struct {
	Message string `json:"message,omitempty"`
}

// Input is what an event is made from: the learner's membership, the
// catalog, the recorded progress and what the command judged.
type Input struct {
	Member  *Member
	Catalog *steps.Catalog
	State   *state.State
	// Checked are the results this command produced, by step id.
	Checked map[string][]check.Result
	Now     time.Time
	// Dojo is dojo's version; Kubernetes the node's ("" when unknown).
	Dojo, Kubernetes string
	// Hand raises the learner's hand.
	Hand *Hand
}

// NewEvent builds the event for in: the step is the first one not passed
// (cleanup after step 10, DoneStep after cleanup), its time and hints as
// `dojo status` counts them, and the criteria this command judged for it.
func NewEvent(in Input) Event {
	st := in.State
	if st == nil {
		st = &state.State{}
	}
	rows := course.Rows(in.Catalog, st, in.Now)
	e := Event{Dojo: Truncate(in.Dojo, MaxVersion), Kubernetes: Truncate(in.Kubernetes, MaxVersion), Hand: in.Hand}
	if in.Member != nil {
		e.Learner, e.Name = in.Member.Learner, in.Member.Name
	}
	e.Step = course.NextStep(rows)
	if e.Step == 0 {
		e.Step = steps.CleanupNumber
	}
	current := false
	for _, r := range rows {
		switch {
		case r.Status == course.StatusPassed:
			e.Passed = append(e.Passed, Passed{Step: r.Number, Seconds: r.Seconds, Hints: r.HintsRevealed})
		case r.Number == e.Step:
			e.Hints, e.Seconds, current = r.HintsRevealed, r.Seconds, true
		}
	}
	if !current {
		e.Step = DoneStep // cleanup passed too
		return e
	}
	for _, r := range in.Checked[steps.IDFor(e.Step)] {
		if len(e.Criteria) == MaxCriteria {
			break
		}
		e.Criteria = append(e.Criteria, Criterion{ID: r.Criterion, Status: r.Status})
		if r.Status == check.Fail && e.Failing == nil {
			e.Failing = &Failing{Criterion: r.Criterion, Observed: Truncate(r.Observed, MaxText), Expected: Truncate(r.Expected, MaxText)}
		}
	}
	return e
}

// Truncate keeps at most n characters of s, on one line: control characters
// (line breaks included) become spaces, and a cut string ends with "…".
func Truncate(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "�"))
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return string(runes[:n-1]) + "…"
}

// isLearnerID says whether s is 32 lower-case hex digits.
func isLearnerID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// isCriterionID says whether s reads like "step-7/rule-loaded": one or two
// parts of lower-case letters, digits, dots and dashes.
func isCriterionID(s string) bool {
	parts := strings.Split(s, "/")
	if len(parts) > 2 {
		return false
	}
	for i, p := range parts {
		if p == "" || len(p) > 41+20*i || p[0] == '.' || p[0] == '-' {
			return false
		}
		for _, c := range p {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
				return false
			}
		}
	}
	return true
}

// NewLearnerID returns a random learner id.
func NewLearnerID() string { return randomHex(16) }

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("no randomness: %v", err)) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

// CheckName says whether a display name fits: 1 to MaxName characters,
// printable, on one line.
func CheckName(name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case !utf8.ValidString(name):
		return fmt.Errorf("the name is not valid UTF-8")
	case strings.TrimSpace(name) == "":
		return fmt.Errorf("the name is empty")
	case n > MaxName:
		return fmt.Errorf("the name has %d characters, at most %d fit", n, MaxName)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fmt.Errorf("the name holds a control character (%U)", r)
		}
	}
	return nil
}

// Normalize checks an event as the server receives it, against steps the
// room knows (1 to lastStep, and lastStep+1 for done), and truncates its
// text fields. It refuses what does not fit the model.
func (e *Event) Normalize(lastStep int) error {
	if !isLearnerID(e.Learner) {
		return fmt.Errorf("learner %q is not 32 hex digits", Truncate(e.Learner, 40))
	}
	e.Name = strings.TrimSpace(e.Name)
	if err := CheckName(e.Name); err != nil {
		return err
	}
	if e.Step < 1 || e.Step > lastStep+1 {
		return fmt.Errorf("step %d is not between 1 and %d", e.Step, lastStep+1)
	}
	if len(e.Criteria) > MaxCriteria {
		return fmt.Errorf("%d criteria, at most %d", len(e.Criteria), MaxCriteria)
	}
	for _, c := range e.Criteria {
		if !isCriterionID(c.ID) {
			return fmt.Errorf("criterion %q is not a criterion id", Truncate(c.ID, 60))
		}
		switch c.Status {
		case check.Pass, check.Fail, check.Warn, check.Skipped:
		default:
			return fmt.Errorf("criterion %s has status %q", c.ID, Truncate(string(c.Status), 20))
		}
	}
	if f := e.Failing; f != nil {
		if !isCriterionID(f.Criterion) {
			return fmt.Errorf("failing criterion %q is not a criterion id", Truncate(f.Criterion, 60))
		}
		f.Observed, f.Expected = Truncate(f.Observed, MaxText), Truncate(f.Expected, MaxText)
	}
	if e.Hints < 0 || e.Hints > 100 || e.Seconds < 0 || e.Seconds > 365*24*3600 {
		return fmt.Errorf("hints %d or seconds %d out of range", e.Hints, e.Seconds)
	}
	if len(e.Passed) > lastStep {
		return fmt.Errorf("%d steps passed, the workshop has %d", len(e.Passed), lastStep)
	}
	for _, p := range e.Passed {
		if p.Step < 1 || p.Step > lastStep || p.Hints < 0 || p.Hints > 100 || p.Seconds < 0 || p.Seconds > 365*24*3600 {
			return fmt.Errorf("passed step %d out of range", p.Step)
		}
	}
	e.Dojo, e.Kubernetes = Truncate(e.Dojo, MaxVersion), Truncate(e.Kubernetes, MaxVersion)
	if e.Hand != nil {
		e.Hand.Message = Truncate(e.Hand.Message, MaxMessage)
	}
	return nil
}
