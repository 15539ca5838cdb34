package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goldenfile "github.com/kubedojo/dojo/internal/testutil/golden"

	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory/factorytest"
	"github.com/kubedojo/dojo/internal/ui"
)

// clock is a fixed "now" that tests move forward by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// session is one learner's workspace, shared by the commands a test runs.
type session struct {
	t     *testing.T
	ws    string
	clock *clock
	env   map[string]string
}

// newSession starts with an empty workspace directory (dojo up or dojo init
// makes it; no other command creates one).
func newSession(t *testing.T) *session {
	ws := filepath.Join(t.TempDir(), "ws")
	if err := os.Mkdir(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	return &session{t: t, ws: ws,
		clock: &clock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}, env: map[string]string{}}
}

type result struct {
	code        int
	out, errOut string
}

// run executes one dojo command line; tty makes stdout and stderr terminals,
// color turns ANSI colour on as well.
func (s *session) run(tty, color bool, args ...string) result {
	s.t.Helper()
	s.env["DOJO_WORKSPACE"] = s.ws
	f, st := factorytest.New(s.t, factorytest.Options{TTY: tty, Color: color, Env: s.env, Now: s.clock.now})
	code := Run(context.Background(), f, args)
	return result{code: code, out: st.Out.String(), errOut: strings.ReplaceAll(st.ErrOut.String(), s.ws, "$WS")}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, "golden/"+name+".golden", []byte(got))
}

func TestGoldenOutput(t *testing.T) {
	s := newSession(t)
	cases := []struct {
		name       string
		tty, color bool
		args       []string
	}{
		{"steps-empty-plain", false, false, []string{"steps"}},
		{"step-5-piped", false, false, []string{"step", "5"}},
		{"step-5-tty-nocolor", true, false, []string{"step", "step-5"}},
		{"step-5-tty-color", true, true, []string{"step", "Step5"}},
		{"step-3-piped", false, false, []string{"step", "3"}},
		{"step-4-piped", false, false, []string{"step", "4"}},
		{"hint-5-first-plain", false, false, []string{"hint", "step-5"}},
		{"hint-5-second-tty", true, false, []string{"hint", "step-5"}},
		{"hint-5-upto-2-plain", false, false, []string{"hint", "5", "2"}},
		{"hint-7-all-json", false, false, []string{"hint", "7", "--all", "--json"}},
		{"hint-cleanup-plain", false, false, []string{"hint", "cleanup"}},
		{"steps-progress-plain", false, false, []string{"steps"}},
		{"steps-progress-tty-color", true, true, []string{"steps"}},
		{"status-plain", false, false, []string{"status"}},
	}
	for _, c := range cases {
		s.clock.t = s.clock.t.Add(3 * time.Minute)
		r := s.run(c.tty, c.color, c.args...)
		if r.code != 0 {
			t.Fatalf("%s: exit %d, stderr %q", c.name, r.code, r.errOut)
		}
		golden(t, c.name, r.out)
	}
}

func TestColorNeverWithoutTTY(t *testing.T) {
	s := newSession(t)
	for _, args := range [][]string{{"steps"}, {"step", "5"}, {"hint", "5", "--all"}, {"status"}, {"init"}} {
		r := s.run(false, false, args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.errOut)
		}
		if strings.Contains(r.out, "\x1b[") || strings.Contains(r.errOut, "\x1b[") {
			t.Errorf("%v printed ANSI escapes off a terminal:\n%q", args, r.out)
		}
	}
}

func TestNoColorOnATerminal(t *testing.T) {
	// ui.System decides colour from the environment; check the rule itself.
	for env, want := range map[[2]string]bool{
		{"", "xterm-256color"}:  true,
		{"1", "xterm-256color"}: false,
		{"", "dumb"}:            false,
	} {
		got := ui.ColorAllowed(func(k string) string {
			switch k {
			case "NO_COLOR":
				return env[0]
			case "TERM":
				return env[1]
			}
			return ""
		})
		if got != want {
			t.Errorf("NO_COLOR=%q TERM=%q: colour %v; want %v", env[0], env[1], got, want)
		}
	}
}

func TestHintProgressIsRemembered(t *testing.T) {
	s := newSession(t)
	for i, want := range []string{"Hint 1 of 3", "Hint 2 of 3", "Hint 3 of 3"} {
		r := s.run(false, false, "hint", "step-6")
		if r.code != 0 || !strings.Contains(r.out, want) {
			t.Fatalf("call %d: exit %d, output lacks %q:\n%s", i+1, r.code, want, r.out)
		}
		if i > 0 && strings.Contains(r.out, "Hint 1 of 3") {
			t.Fatalf("call %d repeated hint 1:\n%s", i+1, r.out)
		}
	}
	// All revealed: the next call shows all three again rather than failing.
	r := s.run(false, false, "hint", "6")
	if r.code != 0 || strings.Count(r.out, "## Hint") != 3 {
		t.Fatalf("after the last hint: exit %d, output:\n%s", r.code, r.out)
	}
	// Asking for hint 1 again does not forget that 3 were revealed.
	s.run(false, false, "hint", "6", "1")
	r = s.run(false, false, "status", "--json")
	var rep struct {
		Steps []struct {
			ID            string `json:"id"`
			HintsRevealed int    `json:"hintsRevealed"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatal(err)
	}
	for _, st := range rep.Steps {
		if st.ID == "step-6" && st.HintsRevealed != 3 {
			t.Fatalf("step-6 hints revealed = %d; want 3", st.HintsRevealed)
		}
	}
}

func TestBadInput(t *testing.T) {
	s := newSession(t)
	cases := []struct {
		args     []string
		code     int
		mentions []string
	}{
		{[]string{"step", "step-99"}, cmdutil.ExitUsage, []string{`"step-99"`, "step-1 … step-10 or cleanup"}},
		{[]string{"step", "step-x"}, cmdutil.ExitUsage, []string{`"step-x"`, "step-1 … step-10"}},
		{[]string{"step", ""}, cmdutil.ExitUsage, []string{"no step given", "step-1 … step-10"}},
		{[]string{"step"}, cmdutil.ExitUsage, []string{"one step", "dojo step 5"}},
		{[]string{"hint"}, cmdutil.ExitUsage, []string{"name a step"}},
		{[]string{"hint", "step-99"}, cmdutil.ExitUsage, []string{`"step-99"`}},
		{[]string{"hint", "step-5", "4"}, cmdutil.ExitUsage, []string{"hint 4 does not exist", "hints 1 to 3"}},
		{[]string{"hint", "step-5", "0"}, cmdutil.ExitUsage, []string{`"0"`, "from 1 up"}},
		{[]string{"hint", "step-5", "two"}, cmdutil.ExitUsage, []string{`"two"`}},
		{[]string{"hint", "step-5", "1", "--all"}, cmdutil.ExitUsage, []string{"--all"}},
		{[]string{"hint", "cleanup", "2"}, cmdutil.ExitUsage, []string{"hint 2 does not exist", "cleanup has one hint, hint 1"}},
		{[]string{"steps", "--jsn"}, cmdutil.ExitUsage, []string{"--jsn"}},
		{[]string{"steps", "extra"}, cmdutil.ExitUsage, []string{"extra"}},
		{[]string{"frobnicate"}, cmdutil.ExitUsage, []string{"frobnicate"}},
		{[]string{"completion", "powershell"}, cmdutil.ExitUsage, []string{"powershell", "bash, zsh or fish"}},
		{[]string{"init", "a", "b"}, cmdutil.ExitUsage, []string{"at most one directory"}},
		{[]string{"teardown", "--context", "elsewhere"}, cmdutil.ExitUsage, []string{"--context", `"elsewhere"`, "kind-dojo"}},
	}
	for _, c := range cases {
		r := s.run(false, false, c.args...)
		if r.code != c.code {
			t.Errorf("%q: exit %d; want %d (stderr %q)", c.args, r.code, c.code, r.errOut)
			continue
		}
		if strings.Count(strings.TrimSpace(r.errOut), "\n") != 0 {
			t.Errorf("%q: want one line on stderr, got:\n%s", c.args, r.errOut)
		}
		for _, m := range c.mentions {
			if !strings.Contains(r.errOut, m) {
				t.Errorf("%q: stderr %q lacks %q", c.args, r.errOut, m)
			}
		}
		if r.out != "" {
			t.Errorf("%q: printed results on stdout despite the error: %q", c.args, r.out)
		}
	}
}

// A workspace that cannot be written: dojo init fails naming the path and
// --workspace; dojo step and dojo hint still show their text, with a warning
// naming the same (reading never needs to write).
func TestUnwritableWorkspace(t *testing.T) {
	s := newSession(t)
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	s.ws = filepath.Join(file, "ws")
	r := s.run(false, false, "init")
	if r.code != cmdutil.ExitError || !strings.Contains(r.errOut, file) || !strings.Contains(r.errOut, "--workspace") {
		t.Errorf("init in an unwritable workspace: exit %d, stderr %q; want exit 1 naming the path and --workspace", r.code, r.errOut)
	}
	for _, args := range [][]string{{"hint", "5"}, {"step", "5"}} {
		r := s.run(false, false, args...)
		if r.code != 0 || !strings.Contains(r.out, "Step 5") || !strings.Contains(r.errOut, "not saved") || !strings.Contains(r.errOut, "$WS") || !strings.Contains(r.errOut, "--workspace") {
			t.Errorf("%v in an unwritable workspace: exit %d, stderr %q; want the text and a warning naming the path and --workspace", args, r.code, r.errOut)
		}
	}
}

func TestCorruptStateIsReportedAndBackedUp(t *testing.T) {
	s := newSession(t)
	os.MkdirAll(filepath.Join(s.ws, ".dojo"), 0o755)
	os.WriteFile(filepath.Join(s.ws, ".dojo", "state.json"), []byte("{nope"), 0o644)
	r := s.run(false, false, "hint", "5")
	if r.code != 0 || !strings.HasPrefix(r.errOut, "! $WS/.dojo/state.json could not be read") || !strings.Contains(r.errOut, ".bak") {
		t.Fatalf("exit %d, stderr %q; want one warning, in the warning format, naming the backup", r.code, r.errOut)
	}
	if !strings.Contains(r.out, "Hint 1 of 3") {
		t.Fatalf("the hint was not shown after the warning: %q", r.out)
	}
	// The damaged file itself is kept, byte for byte, in the backup the
	// warning names, and a fresh progress file replaced it.
	backups, _ := filepath.Glob(filepath.Join(s.ws, ".dojo", "state.json.corrupt.*.bak"))
	if len(backups) != 1 {
		t.Fatalf("backups of the damaged state: %v, want exactly one state.json.corrupt.<time>.bak", backups)
	}
	if data, err := os.ReadFile(backups[0]); err != nil || string(data) != "{nope" {
		t.Fatalf("backup %s holds %q (%v), want the damaged file's bytes %q", backups[0], data, err, "{nope")
	}
	if !strings.Contains(r.errOut, filepath.Base(backups[0])) {
		t.Errorf("the warning does not name the backup %s: %q", filepath.Base(backups[0]), r.errOut)
	}
	if data, err := os.ReadFile(filepath.Join(s.ws, ".dojo", "state.json")); err != nil || !strings.Contains(string(data), `"version"`) {
		t.Errorf("no fresh state.json after the backup: %q (%v)", data, err)
	}
}

func TestInitThenEditThenInitKeepsEdit(t *testing.T) {
	s := newSession(t)
	if r := s.run(false, false, "init"); r.code != 0 || !strings.Contains(r.out, "files written") {
		t.Fatalf("init: %d %q %q", r.code, r.out, r.errOut)
	}
	values := filepath.Join(s.ws, "values", "prometheus.yaml")
	if _, err := os.Stat(filepath.Join(s.ws, "charts", "consumer", "templates", "_helpers.tpl")); err != nil {
		t.Fatalf("init did not write the consumer's _helpers.tpl: %v", err)
	}
	os.WriteFile(values, []byte("mine: true\n"), 0o644)
	r := s.run(false, false, "init")
	if r.code != 0 || !strings.Contains(r.out, "values/prometheus.yaml") || !strings.Contains(r.out, "--reset") {
		t.Fatalf("second init: %d %q", r.code, r.out)
	}
	if data, _ := os.ReadFile(values); string(data) != "mine: true\n" {
		t.Fatalf("init overwrote the learner's file: %q", data)
	}
	r = s.run(false, false, "init", "--reset")
	backups, _ := filepath.Glob(values + ".*.bak")
	if r.code != 0 || len(backups) != 1 {
		t.Fatalf("init --reset: exit %d, backups %v", r.code, backups)
	}
	if data, _ := os.ReadFile(backups[0]); string(data) != "mine: true\n" {
		t.Fatalf("backup holds %q", data)
	}
}

func TestHelpHasExamplesAndHidesApp(t *testing.T) {
	s := newSession(t)
	root := s.run(false, false, "--help")
	if root.code != 0 || strings.Contains(root.out, "\n  app ") {
		t.Fatalf("root help (exit %d) lists the hidden app command:\n%s", root.code, root.out)
	}
	f, _ := factorytest.New(t, factorytest.Options{})
	var visible []string
	for _, c := range NewRootCmd(f).Commands() {
		if !c.Hidden && c.Name() != "help" {
			visible = append(visible, c.Name())
		}
	}
	if len(visible) < 11 {
		t.Fatalf("only %d visible commands: %v", len(visible), visible)
	}
	for _, cmd := range visible {
		r := s.run(false, false, cmd, "--help")
		if r.code != 0 || !strings.Contains(r.out, "Examples:") {
			t.Errorf("dojo %s --help: exit %d, no Examples section:\n%s", cmd, r.code, r.out)
		}
	}
}

func TestVersionAndCompletion(t *testing.T) {
	s := newSession(t)
	r := s.run(false, false, "version")
	if r.code != 0 || !strings.Contains(r.out, "dojo v0.0.0-test") || !strings.Contains(r.out, "kindest/node:v1.37.0") {
		t.Fatalf("version: %d %q", r.code, r.out)
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		r := s.run(false, false, "completion", sh)
		if r.code != 0 || !strings.Contains(r.out, "dojo") || len(r.out) < 500 {
			t.Errorf("completion %s: exit %d, %d bytes", sh, r.code, len(r.out))
		}
	}
}

func TestOfflineCommandsNeedNoCluster(t *testing.T) {
	// KUBECONFIG points nowhere and there is no Docker: these commands must
	// not care.
	s := newSession(t)
	// In the process environment too: client-go and kind read it directly.
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "missing"))
	t.Setenv("DOCKER_HOST", "unix:///nonexistent.sock")
	t.Setenv("HOME", t.TempDir())
	s.env["KUBECONFIG"] = os.Getenv("KUBECONFIG")
	s.env["DOCKER_HOST"] = os.Getenv("DOCKER_HOST")
	for _, args := range [][]string{{"steps"}, {"hint", "step-5", "1"}, {"step", "10"}, {"status"}} {
		if r := s.run(false, false, args...); r.code != 0 {
			t.Errorf("%v: exit %d: %s", args, r.code, r.errOut)
		}
	}
}

func TestWorkspaceFoundFromInside(t *testing.T) {
	s := newSession(t)
	if r := s.run(false, false, "init"); r.code != 0 {
		t.Fatalf("init: %s", r.errOut)
	}
	s.run(false, false, "hint", "5")
	// From a sub-directory of the workspace, with no env or flag, dojo finds
	// the same progress.
	f, st := factorytest.New(t, factorytest.Options{Now: s.clock.now,
		Getwd: func() (string, error) { return filepath.Join(s.ws, "values"), nil }})
	out := st.Out
	if code := Run(context.Background(), f, []string{"status", "--json"}); code != 0 {
		t.Fatalf("status from inside: exit %d", code)
	}
	if !strings.Contains(out.String(), `"workspace": "`+s.ws+`"`) || !strings.Contains(out.String(), `"hintsRevealed": 1`) {
		t.Fatalf("status from inside the workspace did not find it:\n%s", out)
	}
}

// dojo solution shows a step's reference, every file of it, and writes
// nothing; a step without one is a usage error naming those that have one.
func TestSolutionShowsTheReferenceAndChangesNothing(t *testing.T) {
	s := newSession(t)
	r := s.run(false, false, "solution", "step-9")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	golden(t, "solution-step-9-piped", r.out)
	for _, want := range []string{"charts/consumer/templates/horizontalpodautoscaler.yaml", "type: AverageValue", "where do the two differ"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("reference lacks %q", want)
		}
	}
	if entries, err := os.ReadDir(s.ws); err != nil || len(entries) != 0 {
		t.Fatalf("dojo solution wrote in the workspace: %v %v", entries, err)
	}
	for _, args := range [][]string{{"solution", "step-3"}, {"solution"}, {"solution", "step-99"}} {
		r := s.run(false, false, args...)
		if r.code != cmdutil.ExitUsage || strings.Count(strings.TrimSpace(r.errOut), "\n") != 0 || r.out != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want one usage line", args, r.code, r.errOut, r.out)
		}
	}
	if r := s.run(false, false, "solution", "3"); !strings.Contains(r.errOut, "step-5, step-6, step-7, step-8, step-9, step-10") {
		t.Errorf("the refusal does not name the steps with a reference: %q", r.errOut)
	}
}
