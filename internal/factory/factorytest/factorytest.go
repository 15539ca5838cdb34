// Package factorytest builds the factory a command test hands to a command:
// buffers for streams, an environment that is only the map given (what the
// factory reads through Getenv, NO_COLOR and KUBECONFIG among them, never
// comes from the process), the embedded workshop, and KUBECONFIG set to a
// file that does not exist unless the test sets it, so a command never
// reads the user's ~/.kube/config; per-machine markers go to a temporary
// directory, and the current directory is a temporary one unless Getwd is
// given. (Helm's chart cache still asks the OS for the user cache dir.)
package factorytest

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/ui"
)

// Options shape the factory; the zero value is a pipe, no colour, time.Now.
type Options struct {
	TTY, Color bool
	Env        map[string]string
	Now        func() time.Time
	// Workspace is --workspace ("" = none: DOJO_WORKSPACE or the cwd rules).
	Workspace string
	// Getwd is the current directory (the real one when nil).
	Getwd func() (string, error)
}

// Streams are what the command wrote.
type Streams struct {
	In          *bytes.Buffer
	Out, ErrOut *bytes.Buffer
}

// New returns a factory and the buffers behind its streams.
func New(t testing.TB, o Options) (*factory.Factory, Streams) {
	t.Helper()
	ios, in, out, errOut := ui.Test(o.TTY, o.Color)
	env := map[string]string{}
	for k, v := range o.Env {
		env[k] = v
	}
	if _, ok := env["KUBECONFIG"]; !ok {
		env["KUBECONFIG"] = filepath.Join(t.TempDir(), "no-kubeconfig")
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	f := &factory.Factory{
		IO:            ios,
		Getenv:        func(k string) string { return env[k] },
		Now:           now,
		Build:         factory.BuildInfo{Version: "v0.0.0-test"},
		Embedded:      embedded.FS(),
		WorkspaceFlag: o.Workspace,
		Getwd:         o.Getwd,
		StateDir:      t.TempDir(),
	}
	if f.Getwd == nil {
		// Never the test process's directory: the workspace search walks up
		// from here.
		dir := t.TempDir()
		f.Getwd = func() (string, error) { return dir, nil }
	}
	return f, Streams{In: in, Out: out, ErrOut: errOut}
}
