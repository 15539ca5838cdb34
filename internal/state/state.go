// Package state keeps the learner's progress in the workspace:
// .dojo/state.json, a versioned JSON document written atomically (temp file
// and rename) under an advisory lock, so two dojo processes never corrupt it
// and never lose each other's update. It also holds the helpers every
// package uses to write a file safely (files.go).
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// SchemaVersion is the version of the file this dojo writes.
const SchemaVersion = 1

// State is the whole progress file.
type State struct {
	Version int `json:"version"`
	// DojoVersion is the version of the dojo that last wrote the file
	// (a newer dojo's file is refused naming it).
	DojoVersion string                `json:"dojoVersion,omitempty"`
	Steps       map[string]*StepState `json:"steps"`
	// Visits are the times the learner turned to a step (opened it, asked
	// for a hint, checked it), oldest first; a visit to the step of the
	// visit before it is not repeated. dojo status counts time from them.
	Visits []Visit `json:"visits,omitempty"`
	// Domain is the domain dojo up last installed the producer with
	// (producer.<domain>); dojo step, hint and solution write the
	// workshop's host names with it. Empty in a file from before it was
	// recorded: the texts then keep the default domain. A dojo that does
	// not know the field reads the file as before.
	Domain string `json:"domain,omitempty"`
}

// Visit is the learner turning to a step.
type Visit struct {
	Step string    `json:"step"`
	At   time.Time `json:"at"`
}

// repair puts back in range what a hand-edited or damaged file says, and
// returns one phrase per value it changed.
func (s *State) repair() []string {
	var fixed []string
	ids := make([]string, 0, len(s.Steps))
	for id := range s.Steps {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		st := s.Steps[id]
		if st == nil {
			continue
		}
		if st.HintsRevealed < 0 {
			fixed = append(fixed, fmt.Sprintf("%s has hintsRevealed %d, read as 0", id, st.HintsRevealed))
			st.HintsRevealed = 0
		}
	}
	return fixed
}

// StepState is the progress on one step, keyed by step id ("step-5").
type StepState struct {
	// Started is when the learner first opened, asked a hint for, or checked
	// this step.
	Started *time.Time `json:"started,omitempty"`
	// HintsRevealed counts the hints shown so far (hints 1..HintsRevealed).
	HintsRevealed int `json:"hintsRevealed,omitempty"`
	// Passed is when a check of this step first passed.
	Passed *time.Time `json:"passed,omitempty"`
	// LastCheck is the most recent check of this step.
	LastCheck *CheckRecord `json:"lastCheck,omitempty"`
	// Solved is when `dojo solve` applied the reference solution.
	Solved *time.Time `json:"solved,omitempty"`
}

// CheckRecord is the outcome of one `dojo check`.
type CheckRecord struct {
	At     time.Time `json:"at"`
	Passed bool      `json:"passed"`
	// Failed lists the ids of the criteria that did not pass.
	Failed []string `json:"failed,omitempty"`
}

// Step returns the entry for id, creating it.
func (s *State) Step(id string) *StepState {
	if s.Steps == nil {
		s.Steps = map[string]*StepState{}
	}
	st := s.Steps[id]
	if st == nil {
		st = &StepState{}
		s.Steps[id] = st
	}
	return st
}

// Lookup returns the entry for id without creating it.
func (s *State) Lookup(id string) (StepState, bool) {
	st, ok := s.Steps[id]
	if !ok || st == nil {
		return StepState{}, false
	}
	return *st, true
}

// Open records that the learner turns to step id now (dojo step, dojo hint,
// dojo check of that step): the step is started if it was not, and it is
// the step the learner works on from now (a visit). It returns the step's
// entry.
func (s *State) Open(id string, now time.Time) *StepState {
	st := s.Step(id)
	st.MarkStarted(now)
	if n := len(s.Visits); n == 0 || s.Visits[n-1].Step != id {
		s.Visits = append(s.Visits, Visit{Step: id, At: now.UTC()})
	}
	return st
}

// MarkStarted records the start of a step if it was not recorded yet.
func (st *StepState) MarkStarted(now time.Time) {
	if st.Started == nil {
		t := now.UTC()
		st.Started = &t
	}
}

// Store reads and writes a workspace's state file.
type Store struct {
	dir string // <workspace>/.dojo
	now func() time.Time
	// Warn receives one line when a corrupt file was set aside, a value out
	// of range repaired, or progress is not saved.
	Warn func(string)
	// DojoVersion is this dojo's version, recorded in the file it saves.
	DojoVersion string
	// Origin says how the workspace was chosen ("given by --workspace"),
	// for the message when it does not exist.
	Origin string
}

// NoWorkspaceError is a workspace directory that does not exist. Only dojo
// init and dojo up create one; recording progress does not.
type NoWorkspaceError struct {
	Dir    string
	Origin string
}

func (e *NoWorkspaceError) Error() string {
	origin := ""
	if e.Origin != "" {
		origin = " (" + e.Origin + ")"
	}
	return fmt.Sprintf("there is no workspace at %s%s: dojo init or dojo up creates one, or point --workspace at yours", e.Dir, origin)
}

// NewStore returns the store of a workspace.
func NewStore(workspace string, now func() time.Time) *Store {
	return &Store{dir: filepath.Join(workspace, ".dojo"), now: now}
}

// Path is the state file's path.
func (s *Store) Path() string { return filepath.Join(s.dir, "state.json") }

// NewerVersionError is a state file written by a newer dojo. dojo neither
// rewrites it nor copies it: it is left as it is.
type NewerVersionError struct {
	Path    string
	Version int
	// WrittenBy is the version of the dojo that wrote it ("" when the file
	// does not say).
	WrittenBy string
}

func (e *NewerVersionError) writer() string {
	if e.WrittenBy == "" {
		return "a newer dojo"
	}
	return "dojo " + e.WrittenBy
}

func (e *NewerVersionError) Error() string {
	return fmt.Sprintf("%s was written by %s (state version %d; this dojo reads up to version %d); it is left as it is. Upgrade dojo, or point --workspace at another directory",
		e.Path, e.writer(), e.Version, SchemaVersion)
}

// Warning is the line a command that goes on without the progress prints.
func (e *NewerVersionError) Warning() string {
	return fmt.Sprintf("%s was written by %s (state version %d; this dojo reads up to version %d): your progress is not shown and will not be saved, and the file is left as it is. Upgrade dojo, or point --workspace at another directory",
		e.Path, e.writer(), e.Version, SchemaVersion)
}

// Load reads the state; a missing file is an empty state. A corrupt file is
// reported to Warn and an empty state returned; a value out of range is
// reported and read repaired. A file from a newer dojo is an error: this
// dojo will not read, copy or overwrite what it does not know.
//
// Load takes no lock, so it only reads: a corrupt or out-of-range file is
// left in place; Update (under the lock) keeps a backup and rewrites it.
func (s *Store) Load() (*State, error) {
	return s.load(false)
}

func (s *Store) warn(msg string) {
	if s.Warn != nil {
		s.Warn(msg)
	}
}

func (s *Store) load(setAside bool) (*State, error) {
	return s.loadWarning(setAside, s.warn)
}

// loadWarning is load with its warnings sent to warn.
func (s *Store) loadWarning(setAside bool, warn func(string)) (*State, error) {
	data, err := os.ReadFile(s.Path())
	if errors.Is(err, fs.ErrNotExist) {
		return &State{Version: SchemaVersion, Steps: map[string]*StepState{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading progress: %w", err)
	}
	var probe struct {
		Version     int    `json:"version"`
		DojoVersion string `json:"dojoVersion"`
	}
	var st State
	if err := json.Unmarshal(data, &probe); err == nil && probe.Version > SchemaVersion {
		return nil, &NewerVersionError{Path: s.Path(), Version: probe.Version, WrittenBy: probe.DojoVersion}
	}
	if err := json.Unmarshal(data, &st); err != nil || st.Version < 1 {
		reason := "it has no version"
		if err != nil {
			reason = err.Error()
		}
		if !setAside {
			warn(fmt.Sprintf("%s could not be read (%s); showing no progress. The next command that records progress keeps a backup of it and starts afresh", s.Path(), reason))
			return &State{Version: SchemaVersion, Steps: map[string]*StepState{}}, nil
		}
		backup, berr := s.backup(data, "corrupt")
		if berr != nil {
			return nil, berr
		}
		if rerr := os.Remove(s.Path()); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return nil, fmt.Errorf("setting aside unreadable %s: %w", s.Path(), rerr)
		}
		warn(fmt.Sprintf("%s could not be read (%s); it was moved to %s and progress starts afresh", s.Path(), reason, backup))
		return &State{Version: SchemaVersion, Steps: map[string]*StepState{}}, nil
	}
	if st.Steps == nil {
		st.Steps = map[string]*StepState{}
	}
	// Values out of range are repaired as a damaged file is set aside: read
	// repaired and reported; under the lock the file as it was is kept as a
	// backup and the repair saved.
	if fixed := st.repair(); len(fixed) > 0 {
		what := strings.Join(fixed, "; ")
		if !setAside {
			warn(fmt.Sprintf("%s holds values out of range (%s). The next command that records progress keeps a backup of it and saves the repair", s.Path(), what))
			return &st, nil
		}
		backup, err := s.backup(data, "repaired")
		if err != nil {
			return nil, err
		}
		warn(fmt.Sprintf("%s held values out of range (%s); they are repaired and the file as it was is kept at %s", s.Path(), what, backup))
	}
	return &st, nil
}

func (s *Store) backup(data []byte, tag string) (string, error) {
	return BackupFile(s.Path()+"."+tag, data, s.now().UTC().Format("20060102T150405"), ModeOf(s.Path(), 0o644))
}

// Update applies fn to the current state under the lock and saves the result
// atomically. fn's error aborts without saving. A file from a newer dojo is
// a *NewerVersionError, and is left as it is. Nothing is written through a
// link that leaves the workspace, and a workspace that does not exist is
// not created (a *NoWorkspaceError): .dojo is made only inside an existing
// directory.
func (s *Store) Update(fn func(*State) error) (*State, error) {
	root := filepath.Dir(s.dir)
	for _, p := range []string{s.Path(), filepath.Join(s.dir, "state.lock")} {
		if err := Within(root, p); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(root); errors.Is(err, fs.ErrNotExist) {
		return nil, &NoWorkspaceError{Dir: root, Origin: s.Origin}
	}
	if err := os.Mkdir(s.dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("cannot write progress in %s: %w (pass --workspace with a writable directory)", s.dir, err)
	}
	unlock, err := lock(filepath.Join(s.dir, "state.lock"))
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", s.dir, err)
	}
	defer unlock()
	st, err := s.load(true)
	if err != nil {
		return nil, err
	}
	if err := fn(st); err != nil {
		return nil, err
	}
	st.Version = SchemaVersion
	if s.DojoVersion != "" {
		st.DojoVersion = s.DojoVersion
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := WriteFileAtomic(s.Path(), append(data, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("saving progress: %w", err)
	}
	return st, nil
}

// Record is Update for a command whose job is to show something (dojo step,
// dojo hint): reading never needs to write. When the progress cannot be
// saved (a read-only workspace, one that does not exist, a link out of it),
// fn runs on the progress as it is and Warn names, in one line, what was
// not recorded and why (nothing when fn changed nothing). When the file
// comes from a newer dojo, Warn says once that progress is not saved, and
// fn runs on empty progress. Only fn's own error is returned; fn may run
// twice.
func (s *Store) Record(fn func(*State) error) (*State, error) {
	loaded, fnErr := false, error(nil)
	st, err := s.Update(func(st *State) error {
		loaded = true
		fnErr = fn(st)
		return fnErr
	})
	switch {
	case err == nil:
		return st, nil
	case fnErr != nil:
		return nil, fnErr
	}
	saveErr := err
	var nv *NewerVersionError
	if !errors.As(err, &nv) {
		// Update read the file before it failed: its warnings were given.
		warn := s.warn
		if loaded {
			warn = func(string) {}
		}
		st, err = s.loadWarning(false, warn)
		if err != nil && !errors.As(err, &nv) {
			st = &State{Version: SchemaVersion, Steps: map[string]*StepState{}}
		}
	}
	if nv != nil {
		s.warn(nv.Warning())
		st = &State{Version: SchemaVersion, Steps: map[string]*StepState{}}
		if err := fn(st); err != nil {
			return nil, err
		}
		return st, nil
	}
	before := st.clone()
	if err := fn(st); err != nil {
		return nil, err
	}
	if lost := changes(before, st); len(lost) > 0 {
		s.warn(fmt.Sprintf("your progress is not saved: %v. Not recorded: %s", saveErr, strings.Join(lost, ", ")))
	}
	return st, nil
}

// clone copies the state deeply enough for changes: each step's entry and
// the visits.
func (s *State) clone() *State {
	c := *s
	c.Steps = make(map[string]*StepState, len(s.Steps))
	for id, st := range s.Steps {
		if st != nil {
			cp := *st
			c.Steps[id] = &cp
		}
	}
	c.Visits = slices.Clone(s.Visits)
	return &c
}

// changes names what after records that before does not, in words a learner
// knows ("step-5 opened", "hint 2 of step-5 revealed"), by step.
func changes(before, after *State) []string {
	opened := map[string]bool{}
	for _, v := range after.Visits[min(len(before.Visits), len(after.Visits)):] {
		opened[v.Step] = true
	}
	ids := make([]string, 0, len(after.Steps))
	for id := range after.Steps {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []string
	for _, id := range ids {
		a, b := after.Steps[id], before.Steps[id]
		if a == nil {
			continue
		}
		if b == nil {
			b = &StepState{}
		}
		if opened[id] || (a.Started != nil && b.Started == nil) {
			out = append(out, id+" opened")
		}
		switch d := a.HintsRevealed - b.HintsRevealed; {
		case d == 1:
			out = append(out, fmt.Sprintf("hint %d of %s revealed", a.HintsRevealed, id))
		case d > 1:
			out = append(out, fmt.Sprintf("hints %d to %d of %s revealed", b.HintsRevealed+1, a.HintsRevealed, id))
		}
		if a.Passed != nil && b.Passed == nil {
			out = append(out, id+" passed")
		} else if a.LastCheck != nil && (b.LastCheck == nil || !a.LastCheck.At.Equal(b.LastCheck.At)) {
			out = append(out, "the check of "+id)
		}
		if a.Solved != nil && b.Solved == nil {
			out = append(out, id+" solved")
		}
	}
	return out
}
