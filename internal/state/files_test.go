package state

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// Within lets through links that stay inside the root and refuses the first
// one, at any depth, that leaves it or cannot be followed.
func TestWithinRefusesOnlyLinksThatLeave(t *testing.T) {
	base := t.TempDir()
	ws, outside := filepath.Join(base, "ws"), filepath.Join(base, "outside")
	for _, d := range []string{"ws/charts/real", "ws/values", "outside/charts"} {
		os.MkdirAll(filepath.Join(base, d), 0o755)
	}
	os.Symlink(filepath.Join(ws, "charts", "real"), filepath.Join(ws, "charts", "inside"))
	os.Symlink(outside, filepath.Join(ws, "charts", "out"))
	os.Symlink("../../outside", filepath.Join(ws, "values", "rel"))
	os.Symlink(filepath.Join(base, "nowhere"), filepath.Join(ws, "dangling"))
	// A link from the workspace's root itself is fine: root is resolved.
	rootLink := filepath.Join(base, "wslink")
	os.Symlink(ws, rootLink)

	for _, c := range []struct {
		root, path, link string
	}{
		{ws, filepath.Join(ws, "charts", "real", "Chart.yaml"), ""},
		{ws, filepath.Join(ws, "charts", "inside", "Chart.yaml"), ""},
		{ws, filepath.Join(ws, "not", "yet", "there.yaml"), ""},
		{rootLink, filepath.Join(rootLink, "charts", "real", "x"), ""},
		{ws, filepath.Join(ws, "charts", "out", "Chart.yaml"), filepath.Join(ws, "charts", "out")},
		{ws, filepath.Join(ws, "charts", "out"), filepath.Join(ws, "charts", "out")},
		{ws, filepath.Join(ws, "values", "rel", "charts", "x"), filepath.Join(ws, "values", "rel")},
		{ws, filepath.Join(ws, "dangling", "x"), filepath.Join(ws, "dangling")},
		{rootLink, filepath.Join(rootLink, "charts", "out", "x"), filepath.Join(rootLink, "charts", "out")},
	} {
		err := Within(c.root, c.path)
		var le *LinkError
		switch {
		case c.link == "" && err != nil:
			t.Errorf("Within(%s) = %v; want nil", c.path, err)
		case c.link != "" && (!errors.As(err, &le) || le.Link != c.link):
			t.Errorf("Within(%s) = %v; want a LinkError at %s", c.path, err, c.link)
		}
	}
	if err := Within(ws, filepath.Join(base, "elsewhere")); err == nil {
		t.Errorf("a path outside the root passed")
	}
}

// WriteAtomic never writes through a file or link at a temporary name
// someone planted, and a replaced file keeps its mode.
func TestWriteAtomicIsExclusiveAndKeepsTheMode(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	victim := filepath.Join(outside, "victim")
	os.WriteFile(victim, []byte("keep me"), 0o644)
	out := filepath.Join(dir, "chart.png")
	for _, planted := range []string{out + ".tmp", filepath.Join(dir, ".chart.png.tmp")} {
		os.Symlink(victim, planted)
	}
	os.WriteFile(out, []byte("old"), 0o600)
	if err := WriteAtomic(out, 0o644, func(w io.Writer) error { _, err := w.Write([]byte("new")); return err }); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "keep me" {
		t.Fatalf("the planted link's target was written: %q", data)
	}
	if data, _ := os.ReadFile(out); string(data) != "new" {
		t.Fatalf("out holds %q", data)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Fatalf("the replaced file is %v, want its 0600 kept", fi.Mode().Perm())
	}
	fresh := filepath.Join(dir, "fresh")
	if err := WriteFileAtomic(fresh, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(fresh); fi.Mode().Perm() != 0o640 {
		t.Fatalf("a new file is %v, want 0640", fi.Mode().Perm())
	}
}

// A backup has exactly the mode it is given, whatever the umask, and never
// follows a link planted at its name.
func TestBackupFileModeAndExclusive(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	p := filepath.Join(dir, "values.yaml")
	victim := filepath.Join(outside, "victim")
	os.Symlink(victim, p+".s.bak")
	name, err := BackupFile(p, []byte("password: x\n"), "s", 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if name != p+".s-1.bak" {
		t.Fatalf("backup %s; want the planted name skipped", name)
	}
	if _, err := os.Stat(victim); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the planted link's target was created: %v", err)
	}
	if fi, _ := os.Stat(name); fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup mode %v, want 0600", fi.Mode().Perm())
	}
	name, _ = BackupFile(p, nil, "t", 0o664)
	if fi, _ := os.Stat(name); fi.Mode().Perm() != 0o664 {
		t.Fatalf("backup mode %v, want 0664 whatever the umask", fi.Mode().Perm())
	}
}
