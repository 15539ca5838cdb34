package state

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// This file holds the few ways dojo writes a file, shared by every package
// that writes one (the progress file, the workspace, dojo solve, dojo plot):
//
//   - WriteAtomic and WriteFileAtomic create a temporary file exclusively
//     next to the target (os.CreateTemp: never an existing file, never
//     through a link someone planted) and rename it over the target, so a
//     reader sees the old file or the new one and a file that is replaced
//     keeps its mode;
//   - BackupFile creates a backup exclusively, with the mode it is given
//     (the mode of the file it keeps);
//   - Within refuses a path that goes through a symbolic link out of the
//     workspace, before anything is written there.

// WriteFileAtomic writes data to path atomically (see WriteAtomic).
func WriteFileAtomic(path string, data []byte, perm fs.FileMode) error {
	return WriteAtomic(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteAtomic has write fill a temporary file created exclusively in path's
// directory, then renames it over path: readers see the old file or the new
// one, never half of it. perm is the mode of a new file; a regular file that
// is replaced keeps its own mode (a learner's 0600 stays 0600). A link at
// path is replaced by the file, never written through.
func WriteAtomic(path string, perm fs.FileMode, write func(io.Writer) error) error {
	if fi, err := os.Lstat(path); err == nil && fi.Mode().IsRegular() {
		perm = fi.Mode().Perm()
	}
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
	if err := write(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return nil
}

// ModeOf is the permission bits of the file at path, or def when it cannot
// be read (a backup keeps the mode of the file it copies).
func ModeOf(path string, def fs.FileMode) fs.FileMode {
	fi, err := os.Stat(path)
	if err != nil {
		return def
	}
	return fi.Mode().Perm()
}

// BackupFile writes data as <path>.<stamp>.bak (or <path>.<stamp>-N.bak)
// with mode perm and returns its name. It never replaces an earlier backup
// nor follows a link planted at its name.
func BackupFile(path string, data []byte, stamp string, perm fs.FileMode) (string, error) {
	for i := 0; ; i++ {
		name := fmt.Sprintf("%s.%s.bak", path, stamp)
		if i > 0 {
			name = fmt.Sprintf("%s.%s-%d.bak", path, stamp, i)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("backing up %s: %w", path, err)
		}
		// The umask may have narrowed perm at creation; the backup gets
		// exactly the mode of what it keeps.
		cherr := f.Chmod(perm)
		_, werr := f.Write(data)
		cerr := f.Close()
		if err := errors.Join(cherr, werr, cerr); err != nil {
			os.Remove(name)
			return "", fmt.Errorf("backing up %s: %w", path, err)
		}
		return name, nil
	}
}

// LinkError is a path that goes through a symbolic link out of the
// directory dojo writes in.
type LinkError struct {
	// Link is the link found on the way (the path itself or a directory
	// above it); Target is where it leads ("" when it cannot be followed).
	Link, Target, Root string
	Err                error
}

func (e *LinkError) Error() string {
	if e.Target == "" {
		return fmt.Sprintf("%s is a link dojo cannot follow (%v); dojo does not write through it: replace the link with a real file or directory", e.Link, e.Err)
	}
	return fmt.Sprintf("%s is a link to %s, outside the workspace %s; dojo does not write through it: replace the link with a real file or directory, or use another --workspace", e.Link, e.Target, e.Root)
}

// Within returns a *LinkError when path, or a directory between root and
// path, is a symbolic link that leads out of root (or that cannot be
// followed): writing path would then write outside root. Links that stay
// inside root are fine, and so is a path that does not exist yet (the
// directories made for it are real ones). root itself may be a link.
func Within(root, path string) error {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		// No root yet (or none reachable): whatever writes there makes it,
		// or fails with its own message.
		return nil
	}
	rel, err := filepath.Rel(root, path)
	if err != nil || !local(rel) {
		return fmt.Errorf("%s is not inside the workspace %s", path, root)
	}
	cur := root
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		if part == "." {
			continue
		}
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			continue
		}
		target, err := filepath.EvalSymlinks(cur)
		if err != nil {
			return &LinkError{Link: cur, Root: root, Err: err}
		}
		if rel, err := filepath.Rel(realRoot, target); err != nil || !local(rel) {
			return &LinkError{Link: cur, Target: target, Root: root}
		}
	}
	return nil
}

// local says a relative path stays below its base.
func local(rel string) bool {
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
