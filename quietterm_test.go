package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// runMainEnv makes the test binary run dojo itself (main) instead of the
// tests, so a test can start the real program, with every package it links
// initialised, on a terminal of its choosing.
const runMainEnv = "DOJO_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// A terminal that never answers a query (script(1), a serial console, some
// CI runners) must cost nothing: dojo never asks the terminal for its
// background colour or the cursor position, so no command waits for an
// answer and no query lands in the output. The program runs as a learner
// runs it, on a pseudo-terminal whose other end is read and never written,
// with colour on and under NO_COLOR. Under NO_COLOR a step reads as plain
// text, without Markdown's markers.
func TestQuietTerminalNeitherStallsNorLeaksQueries(t *testing.T) {
	ws := t.TempDir()
	cases := []struct {
		name    string
		noColor bool
		args    []string
	}{
		{"version", false, []string{"version"}},
		{"steps under NO_COLOR", true, []string{"steps"}},
		{"step 5 under NO_COLOR", true, []string{"step", "5"}},
		{"step 5 in colour", false, []string{"step", "5"}},
		{"hint in colour", false, []string{"hint", "step-5"}},
		{"status under NO_COLOR", true, []string{"status"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], append([]string{"--workspace", ws}, c.args...)...)
			// Only what a learner's shell would hold: no CI variable (it
			// would hide the terminal from the libraries that query it).
			cmd.Env = []string{runMainEnv + "=1", "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
				"TERM=xterm-256color", "PAGER=cat"}
			if c.noColor {
				cmd.Env = append(cmd.Env, "NO_COLOR=1")
			}
			start := time.Now()
			ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 100})
			if err != nil {
				t.Fatalf("starting dojo on a pseudo-terminal: %v", err)
			}
			var out bytes.Buffer
			done := make(chan struct{})
			go func() { _, _ = io.Copy(&out, ptmx); close(done) }()
			werr := cmd.Wait()
			took := time.Since(start)
			<-done
			ptmx.Close()
			got := out.String()
			// What a failure quotes: the start of the output, where a query
			// lands (a step's page in colour runs to tens of kilobytes).
			head := got[:min(len(got), 400)]
			if werr != nil {
				t.Fatalf("dojo %s: %v\n%q", strings.Join(c.args, " "), werr, head)
			}
			if took > 2*time.Second {
				t.Errorf("dojo %s took %s on a terminal that never answers, want well under 2 s", strings.Join(c.args, " "), took.Round(time.Millisecond))
			}
			for _, q := range []string{"\x1b]11;?", "\x1b]10;?", "\x1b[6n"} {
				if strings.Contains(got, q) {
					t.Errorf("dojo %s asked the terminal %q:\n%q", strings.Join(c.args, " "), q, head)
				}
			}
			if c.noColor {
				if strings.Contains(got, "\x1b") {
					t.Errorf("dojo %s under NO_COLOR printed escape sequences:\n%q", strings.Join(c.args, " "), head)
				}
				for _, m := range []string{"**", "`", "# Step"} {
					if strings.Contains(got, m) {
						i := strings.Index(got, m)
						t.Errorf("dojo %s under NO_COLOR printed the Markdown marker %q: …%s…", strings.Join(c.args, " "), m, got[max(i-100, 0):min(i+100, len(got))])
					}
				}
			}
			if len(c.args) == 2 && c.args[0] == "step" && !strings.Contains(got, "Goal:") {
				t.Errorf("dojo step 5 did not show the step:\n%s", got)
			}
		})
	}
}
