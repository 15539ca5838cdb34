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

	"github.com/kubedojo/dojo/internal/testutil/readonly"
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
	if !ok || p.HintsRevealed != 2 || !p.Started.Equal(t0) || p.Passed == nil || !p.Passed.Equal(t0.Add(90*time.Second)) {
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

// A file from a newer dojo is refused on every run, naming the dojo that
// wrote it, and left alone: no backup, no rewrite, however many runs.
// (Before: a new backup on every run, and no word of who wrote it.)
func TestNewerVersionIsRefusedNotOverwritten(t *testing.T) {
	ws := t.TempDir()
	s := NewStore(ws, fixed)
	s.DojoVersion = "v1.0.0"
	os.MkdirAll(filepath.Dir(s.Path()), 0o755)
	future := []byte(`{"version": 7, "dojoVersion": "v3.1.0", "steps": {"step-1": {"futureField": true}}}`)
	os.WriteFile(s.Path(), future, 0o600)
	old := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	os.Chtimes(s.Path(), old, old)

	for run := 1; run <= 5; run++ {
		_, err := s.Update(func(st *State) error { return nil })
		var nv *NewerVersionError
		if !errors.As(err, &nv) || nv.Version != 7 {
			t.Fatalf("run %d: Update = %v; want a NewerVersionError for version 7", run, err)
		}
		for _, want := range []string{"written by dojo v3.1.0", "state version 7", "left as it is", "Upgrade dojo"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("run %d: message %q lacks %q", run, err, want)
			}
		}
	}
	if data, _ := os.ReadFile(s.Path()); string(data) != string(future) {
		t.Fatalf("the newer file was changed: %s", data)
	}
	if fi, err := os.Stat(s.Path()); err != nil || !fi.ModTime().Equal(old) || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the newer file was rewritten: %v, %v", fi.ModTime(), err)
	}
	if all, _ := filepath.Glob(filepath.Join(ws, ".dojo", "*")); len(all) != 2 { // state.json and state.lock
		t.Fatalf("files in .dojo after 5 refused runs: %v; want state.json and state.lock only", all)
	}
	// A file that does not say who wrote it is still refused, in words.
	os.WriteFile(s.Path(), []byte(`{"version": 2}`), 0o644)
	if _, err := s.Update(func(*State) error { return nil }); err == nil || !strings.Contains(err.Error(), "written by a newer dojo") {
		t.Fatalf("Update of an unsigned version 2 = %v", err)
	}
}

// Every save records the dojo that wrote the file, so that an older dojo
// can name it when it refuses the file.
func TestSavedFileNamesTheDojoThatWroteIt(t *testing.T) {
	s := NewStore(t.TempDir(), fixed)
	s.DojoVersion = "v1.4.0"
	if _, err := s.Update(func(st *State) error { st.Step("step-1"); return nil }); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(s.Path())
	var got struct {
		Version     int    `json:"version"`
		DojoVersion string `json:"dojoVersion"`
	}
	if err := json.Unmarshal(data, &got); err != nil || got.Version != SchemaVersion || got.DojoVersion != "v1.4.0" {
		t.Fatalf("saved %s (%v); want version %d written by v1.4.0", data, err, SchemaVersion)
	}
}

// Record (dojo step, dojo hint) goes on with empty, unsaved progress when the
// file comes from a newer dojo, and says so once.
func TestRecordGoesOnWithoutSavingANewerFile(t *testing.T) {
	s := NewStore(t.TempDir(), fixed)
	var warned []string
	s.Warn = func(m string) { warned = append(warned, m) }
	os.MkdirAll(filepath.Dir(s.Path()), 0o755)
	future := []byte(`{"version": 2, "dojoVersion": "v2.0.0", "steps": {"step-5": {"hintsRevealed": 2}}}`)
	os.WriteFile(s.Path(), future, 0o644)
	st, err := s.Record(func(st *State) error { st.Step("step-5").HintsRevealed++; return nil })
	if err != nil || st.Steps["step-5"].HintsRevealed != 1 {
		t.Fatalf("Record = %+v, %v; want empty progress with fn applied", st, err)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "v2.0.0") || !strings.Contains(warned[0], "will not be saved") {
		t.Fatalf("warnings %q; want one naming v2.0.0 and that progress will not be saved", warned)
	}
	if data, _ := os.ReadFile(s.Path()); string(data) != string(future) {
		t.Fatalf("the newer file was changed: %s", data)
	}
	boom := errors.New("boom")
	if _, err := s.Record(func(*State) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("Record's fn error = %v", err)
	}
}

// A value out of range (a hand-edited hintsRevealed of -3 made dojo hint
// panic) is repaired as a damaged file is set aside: read repaired with a
// warning by Load, which writes nothing; backed up and saved repaired by
// Update, with a warning naming the backup. (Before: read as -3, silently.)
func TestOutOfRangeValuesAreRepairedWithAWarning(t *testing.T) {
	ws := t.TempDir()
	s := NewStore(ws, fixed)
	var warned []string
	s.Warn = func(m string) { warned = append(warned, m) }
	os.MkdirAll(filepath.Dir(s.Path()), 0o755)
	bad := []byte(`{"version": 1, "steps": {"step-5": {"hintsRevealed": -3}, "step-6": {"hintsRevealed": 2}}}`)
	os.WriteFile(s.Path(), bad, 0o600)

	st, err := s.Load()
	if err != nil || st.Steps["step-5"].HintsRevealed != 0 || st.Steps["step-6"].HintsRevealed != 2 {
		t.Fatalf("Load = %+v, %v; want step-5 repaired to 0, step-6 kept", st, err)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "step-5 has hintsRevealed -3, read as 0") {
		t.Fatalf("Load warnings %q; want one naming step-5's -3", warned)
	}
	if data, _ := os.ReadFile(s.Path()); string(data) != string(bad) {
		t.Fatalf("Load wrote the file: %s", data)
	}

	warned = nil
	st, err = s.Update(func(st *State) error { return nil })
	if err != nil || st.Steps["step-5"].HintsRevealed != 0 {
		t.Fatalf("Update = %+v, %v", st, err)
	}
	backups, _ := filepath.Glob(filepath.Join(ws, ".dojo", "state.json.repaired.*.bak"))
	if len(backups) != 1 || len(warned) != 1 || !strings.Contains(warned[0], backups[0]) || !strings.Contains(warned[0], "-3") {
		t.Fatalf("Update: backups %v, warnings %q; want one backup named in one warning", backups, warned)
	}
	if data, _ := os.ReadFile(backups[0]); string(data) != string(bad) {
		t.Fatalf("the backup holds %q, want the file as it was", data)
	}
	if fi, _ := os.Stat(backups[0]); fi.Mode().Perm() != 0o600 {
		t.Fatalf("the backup of a 0600 file is %v", fi.Mode().Perm())
	}
	// Repaired once: the next run has nothing to say.
	warned = nil
	if _, err := s.Update(func(*State) error { return nil }); err != nil || len(warned) != 0 {
		t.Fatalf("second Update: %v, warnings %q", err, warned)
	}
}

// Saving keeps the mode the learner gave the progress file.
func TestSaveKeepsTheFileMode(t *testing.T) {
	s := NewStore(t.TempDir(), fixed)
	if _, err := s.Update(func(*State) error { return nil }); err != nil {
		t.Fatal(err)
	}
	os.Chmod(s.Path(), 0o600)
	if _, err := s.Update(func(st *State) error { st.Step("step-1"); return nil }); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(s.Path()); fi.Mode().Perm() != 0o600 {
		t.Fatalf("state.json is %v after a save, want 0600 kept", fi.Mode().Perm())
	}
}

// The progress is never written through a link out of the workspace: a
// .dojo, a state.json or a state.lock that leads elsewhere stops Update with
// one message naming it, and nothing appears there.
func TestUpdateRefusesALinkOutOfTheWorkspace(t *testing.T) {
	for _, link := range []string{".dojo", ".dojo/state.json", ".dojo/state.lock"} {
		t.Run(link, func(t *testing.T) {
			ws, outside := t.TempDir(), t.TempDir()
			os.MkdirAll(filepath.Join(ws, ".dojo"), 0o755)
			at := filepath.Join(ws, filepath.FromSlash(link))
			os.Remove(at)
			if err := os.Symlink(filepath.Join(outside, "target"), at); err != nil {
				t.Fatal(err)
			}
			if link == ".dojo" {
				os.MkdirAll(filepath.Join(outside, "target"), 0o755)
			}
			s := NewStore(ws, fixed)
			_, err := s.Update(func(st *State) error { st.Step("step-1"); return nil })
			var le *LinkError
			if !errors.As(err, &le) || le.Link != at || !strings.Contains(err.Error(), at) {
				t.Fatalf("Update through %s = %v; want a LinkError naming it", link, err)
			}
			var found []string
			filepath.WalkDir(outside, func(p string, d os.DirEntry, _ error) error {
				if !d.IsDir() {
					found = append(found, p)
				}
				return nil
			})
			if len(found) != 0 {
				t.Fatalf("files written outside the workspace: %v", found)
			}
		})
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
		n, err := BackupFile(p, []byte{byte('a' + i)}, "20261202T101010", 0o644)
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

// Reading never needs to write: on a workspace that cannot be written
// (mounted read-only as root, without write permission otherwise), Record
// runs fn on the progress as it is and names, in one warning, what was not
// saved and why; the file is left as it was. (Before: the lock's "open
// …/state.lock: read-only file system" stopped dojo step.)
func TestRecordOnAReadOnlyWorkspace(t *testing.T) {
	ws := t.TempDir()
	s := NewStore(ws, fixed)
	if _, err := s.Update(func(st *State) error { st.Open("step-5", t0).HintsRevealed = 1; return nil }); err != nil {
		t.Fatal(err)
	}
	saved, _ := os.ReadFile(s.Path())
	readonly.Dir(t, ws)
	var warned []string
	s.Warn = func(m string) { warned = append(warned, m) }

	st, err := s.Record(func(st *State) error {
		st.Open("step-6", t0.Add(time.Minute)).HintsRevealed++
		st.Open("step-5", t0.Add(2*time.Minute)).HintsRevealed++
		return nil
	})
	if err != nil {
		t.Fatalf("Record on a read-only workspace: %v", err)
	}
	if st.Steps["step-5"].HintsRevealed != 2 || st.Steps["step-6"].HintsRevealed != 1 {
		t.Errorf("fn did not run on the saved progress: %+v %+v", st.Steps["step-5"], st.Steps["step-6"])
	}
	if len(warned) != 1 {
		t.Fatalf("warnings %q, want one", warned)
	}
	for _, want := range []string{"your progress is not saved: ", ws, ". Not recorded: step-5 opened, hint 2 of step-5 revealed, step-6 opened, hint 1 of step-6 revealed"} {
		if !strings.Contains(warned[0], want) {
			t.Errorf("the warning lacks %q: %s", want, warned[0])
		}
	}
	if data, _ := os.ReadFile(s.Path()); string(data) != string(saved) {
		t.Errorf("the progress file changed:\n%s", data)
	}
	// Nothing new to record: nothing to warn about.
	warned = nil
	if _, err := s.Record(func(st *State) error { return nil }); err != nil || len(warned) != 0 {
		t.Errorf("a Record that changes nothing: %v, warnings %q", err, warned)
	}
	boom := errors.New("boom")
	if _, err := s.Record(func(*State) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Record's fn error on a read-only workspace = %v", err)
	}
}

// Only dojo init and dojo up create a workspace: Update refuses one that does
// not exist, saying where it looked, and creates nothing; Record shows on
// with a warning. (Before: --workspace /nonexistent/deep/x step 2 created
// the whole path.)
func TestNoWorkspaceIsNotCreated(t *testing.T) {
	base := t.TempDir()
	ws := filepath.Join(base, "nonexistent", "deep", "x")
	s := NewStore(ws, fixed)
	s.Origin = "given by --workspace"
	_, err := s.Update(func(st *State) error { st.Open("step-2", t0); return nil })
	var nw *NoWorkspaceError
	if !errors.As(err, &nw) || !strings.Contains(err.Error(), ws+" (given by --workspace)") || !strings.Contains(err.Error(), "dojo init") {
		t.Fatalf("Update without a workspace = %v; want a NoWorkspaceError naming %s, how it was chosen and dojo init", err, ws)
	}
	var warned []string
	s.Warn = func(m string) { warned = append(warned, m) }
	if st, err := s.Record(func(st *State) error { st.Open("step-2", t0); return nil }); err != nil || st.Steps["step-2"] == nil {
		t.Fatalf("Record without a workspace = %+v, %v", st, err)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "no workspace at "+ws) || !strings.Contains(warned[0], "step-2 opened") {
		t.Errorf("warnings %q", warned)
	}
	if _, err := os.Stat(filepath.Join(base, "nonexistent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the path was created: %v", err)
	}
	// In a directory that exists, .dojo is made as before.
	s = NewStore(base, fixed)
	if _, err := s.Update(func(*State) error { return nil }); err != nil {
		t.Fatalf("Update in an existing directory: %v", err)
	}
}
