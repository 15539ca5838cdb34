package classroom

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/state"
	"github.com/kubedojo/dojo/internal/steps"
)

// RoomVersion is the version of the room file this dojo writes.
const RoomVersion = 1

// Limits bound what the server takes. Past each one it answers with a
// status and a sentence that says which bound it hit.
type Limits struct {
	// MaxLearners is the most learners in the room (403 past it).
	MaxLearners int
	// MaxBody is the largest request body, in bytes (413 past it).
	MaxBody int64
	// MaxBatch is the most events one request carries (413 past it).
	MaxBatch int
	// PerMinute is the most events a learner sends in a minute (429 past it).
	PerMinute int
	// MaxFeeds is the most pages open on the live feed at once (429 past it).
	MaxFeeds int
}

// DefaultLimits are the server's bounds unless the trainer changes them: a
// room of 100 learners, a request of 32 KiB carrying at most 20 events (the
// client's outbox holds at most 20), 60 events a learner a minute, 8 pages.
func DefaultLimits() Limits {
	return Limits{MaxLearners: 100, MaxBody: 32 << 10, MaxBatch: OutboxMax, PerMinute: 60, MaxFeeds: 8}
}

// StepInfo is what the page says of a step: its number, id, title and the
// learner-facing words of each criterion (by short id).
type StepInfo struct {
	Number   int               `json:"number"`
	ID       string            `json:"id"`
	Title    string            `json:"title"`
	Criteria map[string]string `json:"-"`
}

// StepsOf lists the catalog's steps for the room.
func StepsOf(cat *steps.Catalog) []StepInfo {
	var out []StepInfo
	for _, s := range cat.Steps() {
		si := StepInfo{Number: s.Number, ID: s.ID, Title: s.Title, Criteria: map[string]string{}}
		for _, c := range s.Checks {
			si.Criteria[c.ID] = c.Text
		}
		out = append(out, si)
	}
	return out
}

// Learner is one learner as the room keeps them.
type Learner struct {
	ID       string      `json:"id"`
	Name     string      `json:"name"`
	Step     int         `json:"step"`
	Criteria []Criterion `json:"criteria,omitempty"`
	Failing  *Failing    `json:"failing,omitempty"`
	Hints    int         `json:"hints"`
	// Seconds is the time on the step the learner last reported, at Seen.
	Seconds    int64          `json:"seconds"`
	Passed     []PassedRecord `json:"passed,omitempty"`
	Dojo       string         `json:"dojo,omitempty"`
	Kubernetes string         `json:"kubernetes,omitempty"`
	Hand       *RaisedHand    `json:"hand,omitempty"`
	// Joined and Seen are the server's clock at the first and last event.
	Joined time.Time `json:"joined"`
	Seen   time.Time `json:"seen"`
}

// PassedRecord is a step the learner passed: their time and hints, and when
// the server first heard of it.
type PassedRecord struct {
	Step    int       `json:"step"`
	Seconds int64     `json:"seconds"`
	Hints   int       `json:"hints"`
	At      time.Time `json:"at"`
}

// RaisedHand is a hand up: on which step, since when, with what message.
type RaisedHand struct {
	Message string    `json:"message,omitempty"`
	Step    int       `json:"step"`
	At      time.Time `json:"at"`
}

// roomFile is the room as it is saved.
type roomFile struct {
	Version      int        `json:"version"`
	JoinToken    string     `json:"joinToken"`
	TrainerToken string     `json:"trainerToken"`
	Created      time.Time  `json:"created"`
	Learners     []*Learner `json:"learners"`
}

// Refusals count the requests the server turned away, by reason.
type Refusals struct {
	Unauthorized int `json:"unauthorized"`
	TooLarge     int `json:"tooLarge"`
	RateLimited  int `json:"rateLimited"`
	Full         int `json:"full"`
	Invalid      int `json:"invalid"`
}

// Room is the trainer's room: the learners, the two tokens, and the file
// they are kept in. Every change is saved before it is acknowledged.
type Room struct {
	mu       sync.Mutex
	path     string
	file     roomFile
	byID     map[string]*Learner
	steps    []StepInfo
	limits   Limits
	now      func() time.Time
	sent     map[string][]time.Time // events a learner sent in the last minute
	refused  Refusals
	subs     map[chan struct{}]struct{}
	feeds    int
	lastStep int
}

// Open opens the room kept in path, or makes a new one there (with new
// tokens) when the file does not exist. It says whether it resumed a room.
// A file it cannot read is an error and is left as it is.
func Open(path string, infos []StepInfo, limits Limits, now func() time.Time) (*Room, bool, error) {
	r := &Room{path: path, steps: infos, limits: limits, now: now, byID: map[string]*Learner{},
		sent: map[string][]time.Time{}, subs: map[chan struct{}]struct{}{}}
	for _, s := range infos {
		r.lastStep = max(r.lastStep, s.Number)
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.file = roomFile{Version: RoomVersion, JoinToken: randomHex(16), TrainerToken: randomHex(16), Created: now().UTC()}
		if err := r.saveLocked(); err != nil {
			return nil, false, err
		}
		return r, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("reading the room: %w", err)
	}
	if err := r.parse(data); err != nil {
		return nil, false, err
	}
	return r, true, nil
}

// ReadRoom reads the room kept in path without serving it (the export). A
// missing file is an error.
func ReadRoom(path string, infos []StepInfo) (*Room, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no room in %s: give the --state file dojo classroom kept the room in", path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the room: %w", err)
	}
	r := &Room{path: path, steps: infos, limits: DefaultLimits(), now: time.Now, byID: map[string]*Learner{}}
	if err := r.parse(data); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Room) parse(data []byte) error {
	path := r.path
	for _, s := range r.steps {
		r.lastStep = max(r.lastStep, s.Number)
	}
	if err := json.Unmarshal(data, &r.file); err != nil {
		return fmt.Errorf("%s is not a room file (%v): give another --state, or move it aside", path, err)
	}
	if r.file.Version > RoomVersion {
		return fmt.Errorf("%s was written by a newer dojo (room version %d, this dojo reads up to %d): upgrade dojo or give another --state", path, r.file.Version, RoomVersion)
	}
	if r.file.Version < 1 || len(r.file.JoinToken) < 32 || len(r.file.TrainerToken) < 32 || r.file.JoinToken == r.file.TrainerToken {
		return fmt.Errorf("%s is not a room file dojo wrote (no version or no tokens): give another --state, or move it aside", path)
	}
	for _, l := range r.file.Learners {
		if l != nil && isLearnerID(l.ID) {
			r.byID[l.ID] = l
		}
	}
	r.file.Learners = nil
	return nil
}

// Path is the room's file.
func (r *Room) Path() string { return r.path }

// JoinToken is the token learners send with their events.
func (r *Room) JoinToken() string { return r.file.JoinToken }

// TrainerToken is the token of the page, its feed and the export.
func (r *Room) TrainerToken() string { return r.file.TrainerToken }

// Limits are the room's bounds.
func (r *Room) Limits() Limits { return r.limits }

// saveLocked writes the room atomically (a temporary file in the same
// directory, renamed over the old one), readable by its owner only: it
// holds both tokens.
func (r *Room) saveLocked() error {
	f := r.file
	f.Learners = make([]*Learner, 0, len(r.byID))
	for _, l := range r.byID {
		f.Learners = append(f.Learners, l)
	}
	slices.SortFunc(f.Learners, func(a, b *Learner) int { return strings.Compare(a.ID, b.ID) })
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if dir := filepath.Dir(r.path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("saving the room: %w", err)
		}
	}
	if err := state.WriteFileAtomic(r.path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("saving the room in %s: %w", r.path, err)
	}
	return nil
}

// Why the room refuses a batch of events.
var (
	ErrFull        = errors.New("the room is full")
	ErrRateLimited = errors.New("too many events")
	ErrInvalid     = errors.New("not an event")
)

// BatchError says why a batch stopped and how many of its events, in order,
// were taken before it did.
type BatchError struct {
	Accepted int
	Err      error // ErrFull, ErrRateLimited or ErrInvalid
	Msg      string
}

func (e *BatchError) Error() string { return e.Msg }
func (e *BatchError) Unwrap() error { return e.Err }

// Apply takes learners' events in order. It stops at the first one it
// refuses (a *BatchError saying how many were taken before); what it took is
// saved before it returns.
func (r *Room) Apply(events []Event) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now().UTC()
	accepted := 0
	var refusal error
	for i := range events {
		e := events[i]
		if err := e.Normalize(r.lastStep); err != nil {
			r.refused.Invalid++
			refusal = &BatchError{Accepted: accepted, Err: ErrInvalid, Msg: fmt.Sprintf("event %d: %v", i+1, err)}
			break
		}
		l := r.byID[e.Learner]
		if l == nil && len(r.byID) >= r.limits.MaxLearners {
			r.refused.Full++
			refusal = &BatchError{Accepted: accepted, Err: ErrFull, Msg: fmt.Sprintf("the room is full: it takes %d learners (dojo classroom --max-learners)", r.limits.MaxLearners)}
			break
		}
		if !r.allowLocked(e.Learner, now) {
			r.refused.RateLimited++
			refusal = &BatchError{Accepted: accepted, Err: ErrRateLimited, Msg: fmt.Sprintf("at most %d events a learner a minute: the rest wait in the learner's outbox", r.limits.PerMinute)}
			break
		}
		if l == nil {
			l = &Learner{ID: e.Learner, Joined: now}
			r.byID[e.Learner] = l
		}
		l.apply(e, now)
		accepted++
	}
	if accepted > 0 {
		if err := r.saveLocked(); err != nil {
			return accepted, err
		}
		r.notifyLocked()
	}
	return accepted, refusal
}

// allowLocked counts an event against the learner's minute.
func (r *Room) allowLocked(id string, now time.Time) bool {
	recent := r.sent[id][:0]
	for _, t := range r.sent[id] {
		if now.Sub(t) < time.Minute {
			recent = append(recent, t)
		}
	}
	if len(recent) >= r.limits.PerMinute {
		r.sent[id] = recent
		return false
	}
	r.sent[id] = append(recent, now)
	return true
}

// apply folds one event into the learner.
func (l *Learner) apply(e Event, now time.Time) {
	sameStep := e.Step == l.Step
	l.Name, l.Step, l.Hints, l.Seconds, l.Dojo, l.Seen = e.Name, e.Step, e.Hints, e.Seconds, e.Dojo, now
	if e.Kubernetes != "" {
		l.Kubernetes = e.Kubernetes
	}
	// An event that judged nothing (a hint, a step opened) keeps what the
	// last check of the same step said.
	if !sameStep || len(e.Criteria) > 0 || e.Failing != nil {
		l.Criteria, l.Failing = e.Criteria, e.Failing
	}
	passed := make([]PassedRecord, 0, len(e.Passed))
	for _, p := range e.Passed {
		at := now
		for _, old := range l.Passed {
			if old.Step == p.Step {
				at = old.At
			}
		}
		passed = append(passed, PassedRecord{Step: p.Step, Seconds: p.Seconds, Hints: p.Hints, At: at})
	}
	slices.SortFunc(passed, func(a, b PassedRecord) int { return a.Step - b.Step })
	l.Passed = passed
	// A hand goes down when its step passes.
	if h := l.Hand; h != nil && (l.Step > h.Step || l.passed(h.Step)) {
		l.Hand = nil
	}
	if e.Hand != nil {
		at := now
		if l.Hand != nil && l.Hand.Step == e.Step {
			at = l.Hand.At // still the same wait
		}
		l.Hand = &RaisedHand{Message: e.Hand.Message, Step: e.Step, At: at}
	}
}

func (l *Learner) passed(step int) bool {
	for _, p := range l.Passed {
		if p.Step == step {
			return true
		}
	}
	return false
}

// ClearHand lowers a learner's hand (the trainer's button). It says whether
// there was such a learner.
func (r *Room) ClearHand(id string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.byID[id]
	if l == nil {
		return false, nil
	}
	if l.Hand == nil {
		return true, nil
	}
	l.Hand = nil
	if err := r.saveLocked(); err != nil {
		return true, err
	}
	r.notifyLocked()
	return true, nil
}

// Refused counts a request turned away before it reached the room. The
// pages see the count with the next change (a flood of refused requests
// does not make them redraw).
func (r *Room) Refused(count func(*Refusals)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	count(&r.refused)
}

// Subscribe returns a channel that receives a value after each change, and
// the function that ends the subscription. It returns nil when MaxFeeds
// pages are open already.
func (r *Room) Subscribe() (<-chan struct{}, func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.feeds >= r.limits.MaxFeeds {
		return nil, nil
	}
	r.feeds++
	ch := make(chan struct{}, 1)
	r.subs[ch] = struct{}{}
	return ch, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if _, ok := r.subs[ch]; ok {
			delete(r.subs, ch)
			r.feeds--
		}
	}
}

func (r *Room) notifyLocked() {
	for ch := range r.subs {
		select {
		case ch <- struct{}{}:
		default: // a change is already waiting
		}
	}
}

// View is the room as the page shows it: the steps with how many learners
// are past each, and the learners, raised hands first (the longest-waiting
// first), then the longest on their step, the finished last.
type View struct {
	Now      time.Time     `json:"now"`
	Steps    []StepView    `json:"steps"`
	Learners []LearnerView `json:"learners"`
	Refused  Refusals      `json:"refused"`
}

// StepView is a column of the page.
type StepView struct {
	Number int    `json:"number"`
	ID     string `json:"id"`
	Title  string `json:"title"`
	// Past counts the learners who passed the step.
	Past int `json:"past"`
}

// LearnerView is a row of the page.
type LearnerView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Step int    `json:"step"`
	Done bool   `json:"done"`
	// Seconds is the time on the step now: what the learner last reported
	// and the time since.
	Seconds int64        `json:"seconds"`
	Hints   int          `json:"hints"`
	Passed  []int        `json:"passed"`
	Failing *FailingView `json:"failing,omitempty"`
	// Failed and Checked count the current step's criteria.
	Failed     int       `json:"failed"`
	Checked    int       `json:"checked"`
	Hand       *HandView `json:"hand,omitempty"`
	Dojo       string    `json:"dojo,omitempty"`
	Kubernetes string    `json:"kubernetes,omitempty"`
	// Quiet is how long since the learner's last event, in seconds.
	Quiet int64 `json:"quiet"`
}

// FailingView is the failing criterion in the words the learner reads.
type FailingView struct {
	Criterion string `json:"criterion"`
	Text      string `json:"text"`
	Observed  string `json:"observed"`
	Expected  string `json:"expected,omitempty"`
}

// HandView is a raised hand and how long it has been up.
type HandView struct {
	Message string `json:"message,omitempty"`
	Seconds int64  `json:"seconds"`
}

// View returns the room now.
func (r *Room) View() View {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now().UTC()
	v := View{Now: now, Refused: r.refused, Learners: []LearnerView{}}
	past := map[int]int{}
	for _, l := range r.byID {
		lv := LearnerView{ID: l.ID, Name: l.Name, Step: l.Step, Done: l.Step > r.lastStep, Hints: l.Hints,
			Seconds: l.Seconds, Passed: []int{}, Dojo: l.Dojo, Kubernetes: l.Kubernetes, Quiet: secondsBetween(l.Seen, now)}
		if !lv.Done {
			lv.Seconds += lv.Quiet
		}
		for _, p := range l.Passed {
			lv.Passed = append(lv.Passed, p.Step)
			past[p.Step]++
		}
		for _, c := range l.Criteria {
			lv.Checked++
			if c.Status == check.Fail {
				lv.Failed++
			}
		}
		if f := l.Failing; f != nil {
			lv.Failing = &FailingView{Criterion: f.Criterion, Text: r.criterionText(l.Step, f.Criterion), Observed: f.Observed, Expected: f.Expected}
		}
		if h := l.Hand; h != nil {
			lv.Hand = &HandView{Message: h.Message, Seconds: secondsBetween(h.At, now)}
		}
		v.Learners = append(v.Learners, lv)
	}
	for _, s := range r.steps {
		v.Steps = append(v.Steps, StepView{Number: s.Number, ID: s.ID, Title: s.Title, Past: past[s.Number]})
	}
	slices.SortFunc(v.Learners, compareLearners)
	return v
}

// compareLearners orders the page: raised hands first (up the longest
// first), then those still working, the longest on their step first, then
// the finished; names break ties.
func compareLearners(a, b LearnerView) int {
	switch {
	case (a.Hand != nil) != (b.Hand != nil):
		if a.Hand != nil {
			return -1
		}
		return 1
	case a.Hand != nil && a.Hand.Seconds != b.Hand.Seconds:
		return int(b.Hand.Seconds - a.Hand.Seconds)
	case a.Done != b.Done:
		if a.Done {
			return 1
		}
		return -1
	case a.Seconds != b.Seconds:
		if a.Seconds > b.Seconds {
			return -1
		}
		return 1
	}
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// criterionText is the criterion's sentence from the step's text, or its
// id when this dojo does not know it.
func (r *Room) criterionText(step int, id string) string {
	for _, s := range r.steps {
		if s.Number == step {
			if t, ok := s.Criteria[check.Short(id)]; ok {
				return t
			}
		}
	}
	return id
}

func secondsBetween(from, to time.Time) int64 {
	if from.IsZero() || to.Before(from) {
		return 0
	}
	return int64(to.Sub(from) / time.Second)
}

// Learners returns a copy of the learners, ordered by name, for the export.
func (r *Room) Learners() []Learner {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Learner, 0, len(r.byID))
	for _, l := range r.byID {
		c := *l
		c.Passed = slices.Clone(l.Passed)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Learner) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Steps are the room's steps.
func (r *Room) Steps() []StepInfo { return r.steps }
