package cluster

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// A ready marker records that a cluster dojo created came up complete once.
// `dojo up` only deletes and recreates an existing cluster that does not
// answer when it has no marker (kind was interrupted mid-create); a cluster
// that was complete holds the learner's work, so it is never recreated
// behind their back.

// DefaultStateDir is where dojo keeps per-machine markers: the user cache
// directory's dojo folder ("" when the OS gives none).
func DefaultStateDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "dojo")
}

func markerPath(dir, name string) string { return filepath.Join(dir, "clusters", name+".ready") }

// MarkReady records that the cluster came up complete.
func MarkReady(dir, name string) error {
	if dir == "" {
		return nil
	}
	p := markerPath(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(name+"\n"), 0o644)
}

// WasReady reports whether the cluster came up complete before. With no
// state directory the answer is true: without a record, assume the cluster
// holds work.
func WasReady(dir, name string) bool {
	if dir == "" {
		return true
	}
	_, err := os.Stat(markerPath(dir, name))
	return err == nil
}

// ForgetReady removes the marker (teardown, or before a fresh create).
func ForgetReady(dir, name string) error {
	if dir == "" {
		return nil
	}
	if err := os.Remove(markerPath(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
