package workspace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func src() fstest.MapFS {
	return fstest.MapFS{
		"charts/consumer/Chart.yaml":             {Data: []byte("name: consumer\n")},
		"charts/consumer/templates/_helpers.tpl": {Data: []byte("{{/* helpers */}}\n")},
		"charts/consumer/.helmignore":            {Data: []byte("*.bak\n")},
		"values/prometheus.yaml":                 {Data: []byte("{}\n")},
	}
}

func TestInitWritesEverythingThenNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ws")
	res, err := Init(dir, src(), Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Written) != 4 {
		t.Fatalf("written %v; want 4 files", res.Written)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "charts/consumer/templates/_helpers.tpl")); !strings.Contains(string(data), "helpers") {
		t.Fatalf("_helpers.tpl not written: %q", data)
	}
	res, err = Init(dir, src(), Options{})
	if err != nil || len(res.Written) != 0 || len(res.Unchanged) != 4 {
		t.Fatalf("second Init = %+v, %v; want everything unchanged", res, err)
	}
}

func TestInitKeepsLearnerEdits(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(dir, src(), Options{}); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(dir, "values/prometheus.yaml")
	os.WriteFile(mine, []byte("prometheus: {mine: true}\n"), 0o644)
	os.Remove(filepath.Join(dir, "charts/consumer/Chart.yaml"))

	res, err := Init(dir, src(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Kept) != 1 || res.Kept[0] != "values/prometheus.yaml" {
		t.Fatalf("kept %v; want the edited values file", res.Kept)
	}
	if len(res.Written) != 1 || res.Written[0] != "charts/consumer/Chart.yaml" {
		t.Fatalf("written %v; want only the missing Chart.yaml", res.Written)
	}
	if data, _ := os.ReadFile(mine); string(data) != "prometheus: {mine: true}\n" {
		t.Fatalf("learner's file changed without --reset: %q", data)
	}
}

func TestResetBacksUpFirst(t *testing.T) {
	dir := t.TempDir()
	now := func() time.Time { return t0 }
	Init(dir, src(), Options{Now: now})
	mine := filepath.Join(dir, "values/prometheus.yaml")
	for i, content := range []string{"first edit\n", "second edit\n"} {
		os.WriteFile(mine, []byte(content), 0o644)
		res, err := Init(dir, src(), Options{Reset: true, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		backup := res.BackedUp["values/prometheus.yaml"]
		if backup == "" {
			t.Fatalf("reset %d: no backup recorded: %+v", i, res)
		}
		if data, _ := os.ReadFile(backup); string(data) != content {
			t.Fatalf("reset %d: backup %s holds %q; want %q", i, backup, data, content)
		}
		if !strings.HasSuffix(backup, ".bak") {
			t.Fatalf("backup %s does not end in .bak (charts' .helmignore relies on it)", backup)
		}
		if data, _ := os.ReadFile(mine); string(data) != "{}\n" {
			t.Fatalf("reset %d: file not restored: %q", i, data)
		}
	}
	// Two resets in the same second keep both backups.
	backups, _ := filepath.Glob(mine + ".*.bak")
	if len(backups) != 2 {
		t.Fatalf("backups %v; want 2 (none overwritten)", backups)
	}
}

func TestInitUnwritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	_, err := Init(filepath.Join(file, "ws"), src(), Options{})
	if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "--workspace") {
		t.Fatalf("Init under a file = %v; want the path and the fix", err)
	}
}

// A workspace file that cannot be read (here a directory stands where the
// file should be) stops Init with an error naming it; nothing is replaced.
func TestInitUnreadableFileIsAnError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ws")
	blocker := filepath.Join(dir, "values", "prometheus.yaml")
	if err := os.MkdirAll(filepath.Join(blocker, "mine"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Init(dir, src(), Options{Reset: true, Now: func() time.Time { return t0 }})
	if err == nil || !strings.Contains(err.Error(), "reading "+blocker) {
		t.Fatalf("Init over an unreadable file: %v; want an error naming %s", err, blocker)
	}
	if _, err := os.Stat(filepath.Join(blocker, "mine")); err != nil {
		t.Fatalf("the learner's directory was touched: %v", err)
	}
}

// init --reset over a charts/consumer that is a link to a folder outside the
// workspace stops with an error naming the link, before anything is written
// anywhere. (Before: the reset wrote the chart into the outside folder.)
func TestInitRefusesALinkOutOfTheWorkspace(t *testing.T) {
	base := t.TempDir()
	dir, outside := filepath.Join(base, "ws"), filepath.Join(base, "outside")
	if _, err := Init(dir, src(), Options{}); err != nil {
		t.Fatal(err)
	}
	// The learner's chart moved out and linked back in, edited there.
	os.Rename(filepath.Join(dir, "charts", "consumer"), outside)
	os.WriteFile(filepath.Join(outside, "Chart.yaml"), []byte("name: mine\n"), 0o644)
	os.Remove(filepath.Join(outside, "templates", "_helpers.tpl"))
	link := filepath.Join(dir, "charts", "consumer")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "values", "prometheus.yaml"), []byte("mine: true\n"), 0o644)
	before := tree(t, base)

	for _, reset := range []bool{false, true} {
		_, err := Init(dir, src(), Options{Reset: reset, Now: func() time.Time { return t0 }})
		if err == nil || !strings.Contains(err.Error(), link+" is a link to "+outside) || !strings.Contains(err.Error(), "outside the workspace") {
			t.Fatalf("reset=%v: Init through the link = %v; want an error naming %s", reset, err, link)
		}
		if after := tree(t, base); after != before {
			t.Fatalf("reset=%v: files changed:\nbefore %s\nafter  %s", reset, before, after)
		}
	}
}

// A learner's 0600 file keeps 0600 through init --reset: its backup and the
// restored file alike. (Before: both 0644, world-readable.)
func TestResetKeepsTheFileMode(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(dir, src(), Options{}); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(dir, "values", "prometheus.yaml")
	os.WriteFile(mine, []byte("password: hunter2\n"), 0o644)
	os.Chmod(mine, 0o600)
	res, err := Init(dir, src(), Options{Reset: true, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	backup := res.BackedUp["values/prometheus.yaml"]
	for _, p := range []string{backup, mine} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: mode %v (%v); want 0600 kept", p, fi.Mode().Perm(), err)
		}
	}
	if data, _ := os.ReadFile(backup); string(data) != "password: hunter2\n" {
		t.Fatalf("backup holds %q", data)
	}
}

// tree lists every file under dir with its mode and contents.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, _ := os.Lstat(p)
		data, _ := os.ReadFile(p)
		b.WriteString(p + " " + fi.Mode().String() + " " + string(data) + "\n")
		return nil
	})
	return b.String()
}
