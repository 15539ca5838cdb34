// Package golden compares a test's output with a file under testdata and,
// with `go test -update`, rewrites the file. Every golden test of dojo uses
// it, so the flag and the messages are the same everywhere.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// update is the -update flag of the test binary that imports this package.
var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// Check compares got with testdata/<path>; -update writes it instead.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	full := filepath.Join("testdata", filepath.FromSlash(path))
	if *update {
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(full)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("output differs from %s (rerun with -update if the change is intended)\n--- got ---\n%s\n--- want ---\n%s", full, got, want)
	}
}
