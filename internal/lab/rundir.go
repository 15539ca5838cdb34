package lab

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// RunTemp is the temporary directory of one re-executed run. The child gets
// it as its TMPDIR, so every directory it makes with os.MkdirTemp("", …) (a
// lab's, a kind environment's, each t.TempDir) lands inside. A child that
// ends normally removes what it made; one that go test's -timeout ends (a
// panic: no cleanup runs) or that failed and kept its logs leaves them
// there, and Finish says so.
type RunTemp struct {
	Dir  string
	what string
}

// NewRunTemp makes a run directory in the default temporary directory; what
// names the caller in Finish's message ("lab", "kindlab").
func NewRunTemp(what string) (*RunTemp, error) {
	d, err := os.MkdirTemp("", "dojo-"+what+"-run-")
	if err != nil {
		return nil, fmt.Errorf("%s: temporary directory: %w", what, err)
	}
	return &RunTemp{Dir: d, what: what}, nil
}

// Env is the environment entry that points the child's TMPDIR at Dir.
func (r *RunTemp) Env() string { return "TMPDIR=" + r.Dir }

// Finish runs after the child exited with code: an empty run directory is
// removed; otherwise w is told what the run left and where, and it stays.
func (r *RunTemp) Finish(w io.Writer, code int) {
	entries, err := os.ReadDir(r.Dir)
	if err != nil {
		fmt.Fprintf(w, "%s: reading the run's temporary directory %s: %v\n", r.what, r.Dir, err)
		return
	}
	if len(entries) == 0 {
		_ = os.Remove(r.Dir)
		return
	}
	var left []string
	for _, e := range entries {
		left = append(left, filepath.Join(r.Dir, e.Name()))
	}
	why := "it kept them"
	if code != 0 {
		why = fmt.Sprintf("it exited with status %d (a go test -timeout ends a run before any cleanup)", code)
	}
	fmt.Fprintf(w, "%s: the run left its logs and data in %s (%s): %s; remove the directory when done with it\n",
		r.what, r.Dir, why, strings.Join(left, ", "))
}
