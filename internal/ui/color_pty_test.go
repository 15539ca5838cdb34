package ui

import (
	"os"
	"strings"
	"testing"

	"github.com/creack/pty"
)

// System decides colour from the real process streams: on only when the
// stream is a terminal, and never under NO_COLOR or TERM=dumb. The streams
// are pseudo-terminals (or a pipe) swapped into os.Stdout and os.Stderr, so
// the real terminal detection runs. Not parallel: it swaps process globals.
func TestSystemColourRules(t *testing.T) {
	cases := []struct {
		name      string
		tty       bool
		env       map[string]string
		wantColor bool
	}{
		{"terminal", true, map[string]string{"TERM": "xterm-256color"}, true},
		{"terminal with NO_COLOR", true, map[string]string{"TERM": "xterm-256color", "NO_COLOR": "1"}, false},
		{"terminal with TERM=dumb", true, map[string]string{"TERM": "dumb"}, false},
		{"pipe", false, map[string]string{"TERM": "xterm-256color"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut := streamPair(t, c.tty), streamPair(t, c.tty)
			oldOut, oldErr := os.Stdout, os.Stderr
			os.Stdout, os.Stderr = out, errOut
			s := System(func(k string) string { return c.env[k] })
			os.Stdout, os.Stderr = oldOut, oldErr

			if s.IsStdoutTTY() != c.tty || s.IsStderrTTY() != c.tty {
				t.Fatalf("terminal detection: stdout %v stderr %v, want %v", s.IsStdoutTTY(), s.IsStderrTTY(), c.tty)
			}
			for name, st := range map[string]Styles{"stdout": s.Styles(), "stderr": s.ErrStyles()} {
				got := st.Pass.Render("✓")
				if hasColour := strings.Contains(got, "\x1b["); hasColour != c.wantColor {
					t.Errorf("%s renders %q: colour %v, want %v", name, got, hasColour, c.wantColor)
				}
			}
		})
	}
}

// streamPair returns the writing end of a pseudo-terminal (tty) or a pipe.
func streamPair(t *testing.T, tty bool) *os.File {
	t.Helper()
	if tty {
		ptmx, tt, err := pty.Open()
		if err != nil {
			t.Fatalf("opening a pseudo-terminal: %v", err)
		}
		t.Cleanup(func() { tt.Close(); ptmx.Close() })
		return tt
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return w
}

// The width comes from the terminal when it reports one; a terminal that
// reports 0 columns, or a pipe, gets 80.
func TestSystemWidthFromTerminal(t *testing.T) {
	for _, c := range []struct {
		name string
		cols uint16 // 0: leave the pseudo-terminal's size unset
		tty  bool
		want int
	}{
		{"terminal of 123 columns", 123, true, 123},
		{"terminal without a size", 0, true, 80},
		{"pipe", 0, false, 80},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := streamPair(t, c.tty)
			if c.cols > 0 {
				if err := pty.Setsize(out, &pty.Winsize{Rows: 40, Cols: c.cols}); err != nil {
					t.Fatal(err)
				}
			}
			old := os.Stdout
			os.Stdout = out
			s := System(func(string) string { return "" })
			os.Stdout = old
			if s.Width() != c.want {
				t.Fatalf("Width() = %d, want %d", s.Width(), c.want)
			}
		})
	}
}
