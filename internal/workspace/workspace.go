// Package workspace writes the learner's workspace: the embedded charts and
// values copied into a directory the learner edits. Nothing the learner
// wrote is ever overwritten without a backup next to it, a file replaced or
// backed up keeps its mode, and nothing is written through a link that
// leads out of the workspace.
package workspace

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/kubedojo/dojo/internal/state"
)

// Options tune Init.
type Options struct {
	// Reset replaces files that differ from the embedded copy, after backing
	// each one up as <file>.<timestamp>.bak. Without it they are kept.
	Reset bool
	// Now stamps backups (time.Now when nil).
	Now func() time.Time
}

// Result says what Init did to each file (paths relative to the workspace).
type Result struct {
	Dir       string            `json:"dir"`
	Written   []string          `json:"written,omitempty"`
	Unchanged []string          `json:"unchanged,omitempty"`
	Kept      []string          `json:"kept,omitempty"`     // differ from the embedded copy, left as the learner has them
	BackedUp  map[string]string `json:"backedUp,omitempty"` // replaced file → its backup
}

// Init copies every file of src into dir.
func Init(dir string, src fs.FS, opts Options) (*Result, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	// Every path is looked at before anything is written: a link out of the
	// workspace stops Init with nothing changed.
	if err := state.Within(dir, filepath.Join(dir, ".dojo")); err != nil {
		return nil, err
	}
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		return state.Within(dir, filepath.Join(dir, filepath.FromSlash(p)))
	})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create the workspace %s: %w (choose another with --workspace)", dir, err)
	}
	// .dojo marks the directory as a workspace (dojo finds it from inside)
	// and holds the progress file.
	if err := os.MkdirAll(filepath.Join(dir, ".dojo"), 0o755); err != nil {
		return nil, fmt.Errorf("cannot create the workspace %s: %w (choose another with --workspace)", dir, err)
	}
	res := &Result{Dir: dir, BackedUp: map[string]string{}}
	stamp := now().UTC().Format("20060102-150405")
	err = fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Name() == ".keep" {
			return nil
		}
		want, err := fs.ReadFile(src, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		have, err := os.ReadFile(dst)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := write(dst, want); err != nil {
				return err
			}
			res.Written = append(res.Written, p)
		case err != nil:
			return fmt.Errorf("reading %s: %w", dst, err)
		case bytes.Equal(have, want):
			res.Unchanged = append(res.Unchanged, p)
		case !opts.Reset:
			res.Kept = append(res.Kept, p)
		default:
			backup, err := Backup(dst, have, stamp)
			if err != nil {
				return err
			}
			if err := write(dst, want); err != nil {
				return err
			}
			res.Written = append(res.Written, p)
			res.BackedUp[p] = backup
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(res.Written)
	return res, nil
}

// Backup writes data next to path as <path>.<stamp>.bak (the charts'
// .helmignore skips *.bak), with the mode of the file at path, and returns
// the backup's path. It never replaces an earlier backup.
func Backup(path string, data []byte, stamp string) (string, error) {
	return state.BackupFile(path, data, stamp, state.ModeOf(path, 0o644))
}

func write(dst string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("cannot write %s: %w (choose another workspace with --workspace)", dst, err)
	}
	// A file replaced keeps its mode; a new one is 0644.
	if err := state.WriteFileAtomic(dst, data, 0o644); err != nil {
		return fmt.Errorf("cannot write %s: %w (choose another workspace with --workspace)", dst, err)
	}
	return nil
}
