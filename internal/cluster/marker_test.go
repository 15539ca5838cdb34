package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The markers refuse a name that is not one plain file name, so that
// whatever reaches them (--name is validated at the flag) never writes or
// removes a file outside the state directory. (Before: MarkCreating with
// "../../x" wrote x.creating two folders up.)
func TestMarkersRefuseANameThatIsNotAPlainFileName(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "cache", "dojo")
	// Where "../../x" leads from <dir>/clusters: <base>/cache/x.ready, a
	// file that is not dojo's.
	planted := filepath.Join(base, "cache", "x.ready")
	os.MkdirAll(filepath.Dir(planted), 0o755)
	os.WriteFile(planted, []byte("someone else's"), 0o644)
	want := markerFiles(base)
	for _, name := range []string{"../../x", "../x", "a/b", "..", ".", "", `a\b`} {
		for _, op := range []struct {
			what string
			do   func(dir, name string) error
		}{{"MarkCreating", MarkCreating}, {"MarkReady", MarkReady}, {"ForgetReady", ForgetReady}} {
			err := op.do(dir, name)
			if err == nil || !strings.Contains(err.Error(), "not a plain file name") {
				t.Errorf("%s(%q) = %v; want a refusal", op.what, name, err)
			}
			if got := markerFiles(base); got != want {
				t.Fatalf("after %s(%q), files:\n%s\nwant only:\n%s", op.what, name, got, want)
			}
		}
		if WasCreating(dir, name) {
			t.Errorf("WasCreating(%q) = true", name)
		}
	}
	// A name kind accepts still works.
	if err := MarkCreating(dir, "my-lab.2"); err != nil || !WasCreating(dir, "my-lab.2") {
		t.Fatalf("MarkCreating(my-lab.2) = %v", err)
	}
}

// markerFiles lists the files under dir with their contents.
func markerFiles(dir string) string {
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(p)
			b.WriteString(p + ": " + string(data) + "\n")
		}
		return nil
	})
	return b.String()
}

// ValidateName is kind's own rule (^[a-z0-9.-]+$, kind v0.33.0).
func TestValidateNameIsKindsRule(t *testing.T) {
	for name, ok := range map[string]bool{
		"dojo": true, "my-lab.2": true, "a": true, "0": true,
		"": false, "../../x": false, "Dojo": false, "my_lab": false, "a b": false, "a/b": false, "é": false,
	} {
		err := ValidateName(name)
		if (err == nil) != ok {
			t.Errorf("ValidateName(%q) = %v; want ok=%v", name, err, ok)
		}
		if err != nil && !strings.Contains(err.Error(), "^[a-z0-9.-]+$") {
			t.Errorf("ValidateName(%q) = %v; want kind's rule in the message", name, err)
		}
	}
}
