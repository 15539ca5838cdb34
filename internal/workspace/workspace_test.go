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
