// Package ui owns everything the terminal sees: the streams and whether they
// are terminals, the one Styles value, the one progress owner, and renderers.
package ui

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are the three standard streams plus what dojo decided about them.
// Results go to Out, progress and diagnostics to ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	outTTY   bool
	errTTY   bool
	colorOut bool
	colorErr bool
	width    int
}

// Getenv is how ui reads the environment (os.Getenv in production).
type Getenv func(string) string

// System returns the process's streams, with colour enabled only on a terminal
// and never under NO_COLOR or TERM=dumb.
func System(getenv Getenv) *IOStreams {
	outTTY := isTerminal(os.Stdout)
	errTTY := isTerminal(os.Stderr)
	io := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, outTTY: outTTY, errTTY: errTTY, width: 80}
	allowed := ColorAllowed(getenv)
	io.colorOut = outTTY && allowed
	io.colorErr = errTTY && allowed
	if outTTY {
		if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil && w > 0 {
			io.width = w
		}
	}
	return io
}

// ColorAllowed reports whether the environment permits colour at all.
func ColorAllowed(getenv Getenv) bool {
	if _, set := lookup(getenv, "NO_COLOR"); set {
		return false
	}
	return getenv("TERM") != "dumb"
}

func lookup(getenv Getenv, key string) (string, bool) {
	v := getenv(key)
	return v, v != ""
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// Test returns streams backed by buffers. tty makes both outputs behave as
// terminals (decoration on); color additionally turns on ANSI colour.
func Test(tty, color bool) (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut, outTTY: tty, errTTY: tty, colorOut: color, colorErr: color, width: 80}, in, out, errOut
}

// IsStdoutTTY reports whether results go to a terminal (decoration allowed).
func (s *IOStreams) IsStdoutTTY() bool { return s.outTTY }

// IsStderrTTY reports whether progress goes to a terminal (spinner allowed).
func (s *IOStreams) IsStderrTTY() bool { return s.errTTY }

// ColorEnabled reports whether stdout may carry ANSI colour.
func (s *IOStreams) ColorEnabled() bool { return s.colorOut }

// Width is the terminal width of stdout, 80 when unknown.
func (s *IOStreams) Width() int { return s.width }

// Styles returns the styles for stdout.
func (s *IOStreams) Styles() Styles { return NewStyles(s.colorOut) }

// ErrStyles returns the styles for stderr.
func (s *IOStreams) ErrStyles() Styles { return NewStyles(s.colorErr) }

// WarnLine is the one warning format: the warning mark, then the message.
func WarnLine(st Styles, msg string) string { return st.WarnMark() + " " + msg }

// Warn prints a warning on stderr (progress and diagnostics go there).
func (s *IOStreams) Warn(msg string) { fmt.Fprintln(s.ErrOut, WarnLine(s.ErrStyles(), msg)) }
