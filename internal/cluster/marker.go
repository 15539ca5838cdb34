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
//
// A creating marker records that dojo started kind's create of a cluster of
// that name on this machine and has not seen it complete. kind labels a node
// only once it writes the node's kubeadm configuration, so a create
// interrupted before that leaves a node no one can tell apart from someone
// else's; the creating marker is how dojo knows it is its own (see
// Recreate and Teardown).

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

func creatingPath(dir, name string) string {
	return filepath.Join(dir, "clusters", name+".creating")
}

func writeMarker(p, name string) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(name+"\n"), 0o644)
}

func removeMarker(p string) error {
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// MarkReady records that the cluster came up complete (and forgets that it
// was being created).
func MarkReady(dir, name string) error {
	if dir == "" {
		return nil
	}
	if err := plainFileName(name); err != nil {
		return err
	}
	if err := writeMarker(markerPath(dir, name), name); err != nil {
		return err
	}
	return removeMarker(creatingPath(dir, name))
}

// MarkCreating records, before kind's create starts, that dojo is creating
// the cluster. A name that is not a plain file name is refused: the marker
// would land outside dir.
func MarkCreating(dir, name string) error {
	if dir == "" {
		return nil
	}
	if err := plainFileName(name); err != nil {
		return err
	}
	return writeMarker(creatingPath(dir, name), name)
}

// WasCreating reports whether dojo started creating the cluster and never
// saw it complete (false with no state directory: no record, no claim).
func WasCreating(dir, name string) bool {
	if dir == "" || plainFileName(name) != nil {
		return false
	}
	_, err := os.Stat(creatingPath(dir, name))
	return err == nil
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

// ForgetReady removes both markers (teardown, or before a fresh create).
func ForgetReady(dir, name string) error {
	if dir == "" {
		return nil
	}
	if err := plainFileName(name); err != nil {
		return err
	}
	if err := removeMarker(markerPath(dir, name)); err != nil {
		return err
	}
	return removeMarker(creatingPath(dir, name))
}
