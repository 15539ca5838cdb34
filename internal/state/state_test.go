package state

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func fixed() time.Time { return t0 }

func TestMissingFileIsEmptyState(t *testing.T) {
	s := NewStore(t.TempDir(), fixed)
	st, err := s.Load()
	if err != nil || st.Version != SchemaVersion || len(st.Steps) != 0 {
		t.Fatalf("Load on an empty workspace = %+v, %v", st, err)
	}
}

func TestUpdateRoundTrip(t *testing.T) {
	s := NewStore(t.TempDir(), fixed)
	_, err := s.Update(func(st *State) error {
		p := st.Step("step-5")
		p.MarkStarted(t0)
		p.HintsRevealed = 2
		passed := t0.Add(90 * time.Second)
		p.Passed = &passed
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	p, ok := st.Lookup("step-5")
	if !ok || p.HintsRevealed != 2 || p.TimeSpent(t0.Add(time.Hour)) != 90*time.Second {
		t.Fatalf("reloaded %+v (ok=%v)", p, ok)
	}
	// A second MarkStarted keeps the first time.
	st.Step("step-5").MarkStarted(t0.Add(time.Hour))
	if !st.Steps["step-5"].Started.Equal(t0) {
		t.Fatalf("MarkStarted moved the start to %v", st.Steps["step-5"].Started)
	}
}

func TestUpdateErrorSavesNothing(t *testing.T) {
	s := NewStore(t.TempDir(), fixed)
	boom := errors.New("boom")
	if _, err := s.Update(func(st *State) error { st.Step("step-1"); return boom }); !errors.Is(err, boom) {
		t.Fatalf("Update = %v; want boom", err)
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("state file written despite the error: %v", err)
	}
}

func TestCorruptFileIsBackedUpAndReported(t *testing.T) {
	ws := t.TempDir()
	s := NewStore(ws, fixed)
	var warned []string
	s.Warn = func(m string) { warned = append(warned, m) }
	os.MkdirAll(filepath.Dir(s.Path()), 0o755)
	garbage := []byte(`{"version": 1, "steps": {`)
	os.WriteFile(s.Path(), garbage, 0o644)

	st, err := s.Update(func(st *State) error { st.Step("step-3").HintsRevealed = 1; return nil })
	if err != nil {
		t.Fatalf("Update over a corrupt file: %v", err)
	}
	if st.Steps["step-3"].HintsRevealed != 1 {
		t.Fatalf("update lost: %+v", st.Steps)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "could not be read") {
		t.Fatalf("warnings = %q; want one naming the unreadable file", warned)
	}
	backups, _ := filepath.Glob(filepath.Join(ws, ".dojo", "state.json.corrupt.*.bak"))
	if len(backups) != 1 {
		t.Fatalf("backups = %v; want one", backups)
	}
	if data, _ := os.ReadFile(backups[0]); string(data) != string(garbage) {
		t.Fatalf("backup holds %q; want the corrupt bytes", data)
	}
	if !strings.Contains(warned[0], backups[0]) {
		t.Fatalf("warning %q does not say where the backup is (%s)", warned[0], backups[0])
	}
}

func TestNewerVersionIsRefusedNotOverwritten(t *testing.T) {
	ws := t.TempDir()
	s := NewStore(ws, fixed)
	os.MkdirAll(filepath.Dir(s.Path()), 0o755)
	future := []byte(`{"version": 7, "steps": {"step-1": {"futureField": true}}}`)
	os.WriteFile(s.Path(), future, 0o644)

	_, err := s.Update(func(st *State) error { return nil })
	var nv *NewerVersionError
	if !errors.As(err, &nv) || nv.Version != 7 {
		t.Fatalf("Update = %v; want a NewerVersionError for version 7", err)
	}
	for _, want := range []string{"newer dojo", "version 7", "Upgrade dojo", nv.Backup} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if data, _ := os.ReadFile(s.Path()); string(data) != string(future) {
		t.Fatalf("the newer file was changed: %s", data)
	}
	if data, _ := os.ReadFile(nv.Backup); string(data) != string(future) {
		t.Fatalf("backup holds %q", data)
	}
}

func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	ws := t.TempDir()
	const writers = 40
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := NewStore(ws, fixed) // each writer opens its own lock, as a separate process would
			if _, err := s.Update(func(st *State) error { st.Step("step-5").HintsRevealed++; return nil }); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	data, err := os.ReadFile(NewStore(ws, fixed).Path())
	if err != nil {
		t.Fatal(err)
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatalf("state file is not valid JSON after concurrent writes: %v", err)
	}
	if got := st.Steps["step-5"].HintsRevealed; got != writers {
		t.Fatalf("HintsRevealed = %d after %d concurrent increments", got, writers)
	}
	leftovers, _ := filepath.Glob(filepath.Join(ws, ".dojo", ".state.json.tmp-*"))
	if len(leftovers) != 0 {
		t.Fatalf("temp files left behind: %v", leftovers)
	}
}

func TestUnwritableWorkspace(t *testing.T) {
	// Root ignores permission bits, so the workspace sits under a regular
	// file: that fails for everyone.
	base := t.TempDir()
	file := filepath.Join(base, "not-a-dir")
	os.WriteFile(file, nil, 0o644)
	s := NewStore(filepath.Join(file, "ws"), fixed)
	_, err := s.Update(func(*State) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "--workspace") || !strings.Contains(err.Error(), file) {
		t.Fatalf("Update in an unwritable place = %v; want a message naming the path and --workspace", err)
	}
}

func TestLoadOnlyReads(t *testing.T) {
	ws := t.TempDir()
	s := NewStore(ws, fixed)
	var warned []string
	s.Warn = func(m string) { warned = append(warned, m) }
	os.MkdirAll(filepath.Dir(s.Path()), 0o755)
	os.WriteFile(s.Path(), []byte("{broken"), 0o644)
	st, err := s.Load()
	if err != nil || len(st.Steps) != 0 || len(warned) != 1 {
		t.Fatalf("Load of a corrupt file = %+v, %v, warnings %q", st, err, warned)
	}
	if data, _ := os.ReadFile(s.Path()); string(data) != "{broken" {
		t.Fatalf("Load (no lock) moved or changed the file: %q", data)
	}
	os.WriteFile(s.Path(), []byte(`{"version": 9}`), 0o644)
	for range 3 {
		s.Load()
	}
	backups, _ := filepath.Glob(filepath.Join(ws, ".dojo", "*.bak"))
	if len(backups) != 0 {
		t.Fatalf("read-only loads wrote backups: %v", backups)
	}
}

// The warning says why the file could not be read: the JSON error, or that it
// has no version (valid JSON without one is not progress either).
func TestUnreadableReasonIsNamed(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{`{"steps": {}}`, "it has no version"},
		{`{"version": 1, "steps": [`, "unexpected end of JSON input"},
	} {
		s := NewStore(t.TempDir(), fixed)
		var warned []string
		s.Warn = func(m string) { warned = append(warned, m) }
		os.MkdirAll(filepath.Dir(s.Path()), 0o755)
		os.WriteFile(s.Path(), []byte(tc.data), 0o644)
		if _, err := s.Load(); err != nil {
			t.Fatalf("%s: Load: %v", tc.data, err)
		}
		if len(warned) != 1 || !strings.Contains(warned[0], "("+tc.want+")") {
			t.Fatalf("%s: warnings = %q; want the reason %q", tc.data, warned, tc.want)
		}
	}
}

// Backups of the same moment are numbered <stamp>.bak, <stamp>-1.bak,
// <stamp>-2.bak: none replaces another, each holds its own bytes.
func TestBackupFileNumbersSameStampBackups(t *testing.T) {
	p := filepath.Join(t.TempDir(), "values.yaml")
	var names []string
	for i := 0; i < 3; i++ {
		n, err := BackupFile(p, []byte{byte('a' + i)}, "20261202T101010")
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, filepath.Base(n))
		if data, _ := os.ReadFile(n); string(data) != string(rune('a'+i)) {
			t.Fatalf("%s holds %q", n, data)
		}
	}
	want := []string{"values.yaml.20261202T101010.bak", "values.yaml.20261202T101010-1.bak", "values.yaml.20261202T101010-2.bak"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("backup names = %q, want %q", names, want)
	}
}

// A rename that fails is an error, and leaves no temp file behind.
func TestWriteFileAtomicReportsAFailedRename(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "state.json")
	// A directory with something in it cannot be replaced by a file.
	os.MkdirAll(filepath.Join(target, "x"), 0o755)
	if err := WriteFileAtomic(target, []byte("{}"), 0o644); err == nil {
		t.Fatal("WriteFileAtomic over a non-empty directory returned nil")
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".state.json.tmp-*"))
	if len(left) != 0 {
		t.Fatalf("temp files left behind: %v", left)
	}
}
