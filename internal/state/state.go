// Package state keeps the learner's progress in the workspace:
// .dojo/state.json, a versioned JSON document written atomically (temp file
// and rename) under an advisory lock, so two dojo processes never corrupt it
// and never lose each other's update.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// SchemaVersion is the version of the file this dojo writes.
const SchemaVersion = 1

// State is the whole progress file.
type State struct {
	Version int                   `json:"version"`
	Steps   map[string]*StepState `json:"steps"`
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

// MarkStarted records the start of a step if it was not recorded yet.
func (st *StepState) MarkStarted(now time.Time) {
	if st.Started == nil {
		t := now.UTC()
		st.Started = &t
	}
}

// TimeSpent is from the start of a step to its pass, or to now if it has not
// passed yet. Zero when the step was never started.
func (st StepState) TimeSpent(now time.Time) time.Duration {
	if st.Started == nil {
		return 0
	}
	end := now
	if st.Passed != nil {
		end = *st.Passed
	}
	if end.Before(*st.Started) {
		return 0
	}
	return end.Sub(*st.Started)
}

// Store reads and writes a workspace's state file.
type Store struct {
	dir string // <workspace>/.dojo
	now func() time.Time
	// Warn receives one line when a corrupt file was set aside.
	Warn func(string)
}

// NewStore returns the store of a workspace.
func NewStore(workspace string, now func() time.Time) *Store {
	return &Store{dir: filepath.Join(workspace, ".dojo"), now: now}
}

// Path is the state file's path.
func (s *Store) Path() string { return filepath.Join(s.dir, "state.json") }

// NewerVersionError is a state file written by a newer dojo.
type NewerVersionError struct {
	Path    string
	Version int
	Backup  string
}

func (e *NewerVersionError) Error() string {
	return fmt.Sprintf("%s was written by a newer dojo (state version %d; this dojo reads up to %d); a copy is at %s. Upgrade dojo, or point --workspace at another directory",
		e.Path, e.Version, SchemaVersion, e.Backup)
}

// Load reads the state; a missing file is an empty state. A corrupt file is
// moved aside to a backup, Warn is told where, and an empty state returned.
// A file from a newer dojo is copied to a backup and returned as an error:
// this dojo will not overwrite what it cannot read.
//
// Load takes no lock, so it only reads: a corrupt file is reported and left
// in place, a newer one refused; Update (under the lock) sets files aside.
func (s *Store) Load() (*State, error) {
	return s.load(false)
}

func (s *Store) load(setAside bool) (*State, error) {
	data, err := os.ReadFile(s.Path())
	if errors.Is(err, fs.ErrNotExist) {
		return &State{Version: SchemaVersion, Steps: map[string]*StepState{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading progress: %w", err)
	}
	var probe struct {
		Version int `json:"version"`
	}
	var st State
	if err := json.Unmarshal(data, &probe); err == nil && probe.Version > SchemaVersion {
		backup := "(none yet)"
		if setAside {
			b, berr := s.backup(data, fmt.Sprintf("v%d", probe.Version))
			if berr != nil {
				return nil, berr
			}
			backup = b
		}
		return nil, &NewerVersionError{Path: s.Path(), Version: probe.Version, Backup: backup}
	}
	if err := json.Unmarshal(data, &st); err != nil || st.Version < 1 {
		reason := "it has no version"
		if err != nil {
			reason = err.Error()
		}
		if !setAside {
			if s.Warn != nil {
				s.Warn(fmt.Sprintf("%s could not be read (%s); showing no progress. The next command that records progress keeps a backup of it and starts afresh", s.Path(), reason))
			}
			return &State{Version: SchemaVersion, Steps: map[string]*StepState{}}, nil
		}
		backup, berr := s.backup(data, "corrupt")
		if berr != nil {
			return nil, berr
		}
		if rerr := os.Remove(s.Path()); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return nil, fmt.Errorf("setting aside unreadable %s: %w", s.Path(), rerr)
		}
		if s.Warn != nil {
			s.Warn(fmt.Sprintf("%s could not be read (%s); it was moved to %s and progress starts afresh", s.Path(), reason, backup))
		}
		return &State{Version: SchemaVersion, Steps: map[string]*StepState{}}, nil
	}
	if st.Steps == nil {
		st.Steps = map[string]*StepState{}
	}
	return &st, nil
}

func (s *Store) backup(data []byte, tag string) (string, error) {
	return BackupFile(s.Path()+"."+tag, data, s.now().UTC().Format("20060102T150405"))
}

// Update applies fn to the current state under the lock and saves the result
// atomically. fn's error aborts without saving.
func (s *Store) Update(fn func(*State) error) (*State, error) {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
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
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := WriteFileAtomic(s.Path(), append(data, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("saving progress: %w", err)
	}
	return st, nil
}

// WriteFileAtomic writes data to a temp file in the same directory and
// renames it over path, so readers see the old or the new file, never half.
func WriteFileAtomic(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, perm); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return nil
}

// BackupFile writes data as <path>.<stamp>.bak (or <path>.<stamp>-N.bak)
// and returns its name. It never replaces an earlier backup.
func BackupFile(path string, data []byte, stamp string) (string, error) {
	for i := 0; ; i++ {
		name := fmt.Sprintf("%s.%s.bak", path, stamp)
		if i > 0 {
			name = fmt.Sprintf("%s.%s-%d.bak", path, stamp, i)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("backing up %s: %w", path, err)
		}
		_, werr := f.Write(data)
		cerr := f.Close()
		if werr != nil || cerr != nil {
			return "", fmt.Errorf("backing up %s: %w", path, errors.Join(werr, cerr))
		}
		return name, nil
	}
}
