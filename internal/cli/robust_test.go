package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory/factorytest"
	"github.com/kubedojo/dojo/internal/testutil/dockertest"
)

// Issue 27, items 5 to 8: what a damaged or hostile workspace, a bug in dojo,
// or a hostile --name does to a command.

// A hand-edited "hintsRevealed": -3 made dojo hint 5 panic three runs in a
// row. Now the value is repaired with one warning on the first run, and
// every run shows a hint.
func TestNegativeHintsInStateAreRepaired(t *testing.T) {
	s := newSession(t)
	os.MkdirAll(filepath.Join(s.ws, ".dojo"), 0o755)
	os.WriteFile(filepath.Join(s.ws, ".dojo", "state.json"), []byte(`{"version": 1, "steps": {"step-5": {"hintsRevealed": -3}}}`), 0o644)
	for i, want := range []string{"Hint 1 of 3", "Hint 2 of 3", "Hint 3 of 3"} {
		r := s.run(false, false, "hint", "5")
		if r.code != 0 || !strings.Contains(r.out, want) {
			t.Fatalf("run %d: exit %d, stdout lacks %q, stderr %q", i+1, r.code, want, r.errOut)
		}
		warned := strings.HasPrefix(r.errOut, "! $WS/.dojo/state.json held values out of range (step-5 has hintsRevealed -3, read as 0)") &&
			strings.Count(r.errOut, "\n") == 1 && strings.Contains(r.errOut, "state.json.repaired.")
		if i == 0 && !warned {
			t.Fatalf("run 1: stderr %q; want one warning naming the value and the backup", r.errOut)
		}
		if i > 0 && r.errOut != "" {
			t.Fatalf("run %d: stderr %q; want nothing once repaired", i+1, r.errOut)
		}
	}
}

// Any panic is a bug in dojo: exit 1 with one line saying so and where to
// report it; the stack only with DOJO_DEBUG=1. (A panic is forced here
// through the factory's Getwd, which `dojo steps` calls to find the
// workspace when neither --workspace nor DOJO_WORKSPACE is set.)
func TestAPanicIsReportedAsABug(t *testing.T) {
	for _, debugOn := range []bool{false, true} {
		env := map[string]string{}
		if debugOn {
			env["DOJO_DEBUG"] = "1"
		}
		f, st := factorytest.New(t, factorytest.Options{Env: env, Getwd: func() (string, error) {
			var hints []string
			return hints[3], nil // index out of range, as the -3 hints did
		}})
		code := Run(context.Background(), f, []string{"steps"})
		msg := st.ErrOut.String()
		first, rest, _ := strings.Cut(msg, "\n")
		if code != cmdutil.ExitError || !strings.HasPrefix(first, "error: this is a bug in dojo (runtime error: index out of range [3] with length 0)") ||
			!strings.Contains(first, "https://github.com/kubedojo/dojo/issues") {
			t.Fatalf("DOJO_DEBUG=%v: exit %d, stderr %q; want exit 1 and one line with the issues page", debugOn, code, msg)
		}
		if !debugOn && (rest != "" || !strings.Contains(first, "DOJO_DEBUG=1")) {
			t.Fatalf("without DOJO_DEBUG: stderr %q; want one line that names DOJO_DEBUG=1, no stack", msg)
		}
		if debugOn && (!strings.Contains(rest, "goroutine ") || !strings.Contains(rest, "getwd")) {
			t.Fatalf("with DOJO_DEBUG=1: stderr %q; want the stack through getwd", msg)
		}
		if st.Out.String() != "" {
			t.Fatalf("stdout %q", st.Out.String())
		}
	}
}

// dojo init --reset through a charts/producer that links out of the
// workspace stops with exit 1 and one line naming the link; the folder it
// leads to is untouched. (Before: the reset wrote into that folder.)
func TestInitResetDoesNotWriteThroughALinkOut(t *testing.T) {
	s := newSession(t)
	if r := s.run(false, false, "init"); r.code != 0 {
		t.Fatalf("init: %d %s", r.code, r.errOut)
	}
	outside := filepath.Join(t.TempDir(), "producer")
	os.Rename(filepath.Join(s.ws, "charts", "producer"), outside)
	os.WriteFile(filepath.Join(outside, "values.yaml"), []byte("mine: true\n"), 0o600)
	link := filepath.Join(s.ws, "charts", "producer")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	before := listFiles(t, outside)
	r := s.run(false, false, "init", "--reset")
	if r.code != cmdutil.ExitError || strings.Count(r.errOut, "\n") != 1 ||
		!strings.Contains(r.errOut, "$WS/charts/producer is a link to "+outside+", outside the workspace") {
		t.Fatalf("init --reset: exit %d, stderr %q; want exit 1 and one line naming the link", r.code, r.errOut)
	}
	if after := listFiles(t, outside); after != before {
		t.Fatalf("the folder outside changed:\nbefore %s\nafter  %s", before, after)
	}
}

// --name becomes file names (the cluster's markers) and kind refuses all
// but ^[a-z0-9.-]+$: every command that takes --name refuses any other name
// at the flag, exit 2, in one line naming the value and the rule, before
// anything is written. (Before: no check; `up --name ../../x` wrote
// x.creating outside the cache folder.)
func TestClusterNameIsValidatedAtTheFlag(t *testing.T) {
	// Were a name let through, the command would meet a Docker that is not
	// there and stop, rather than create a cluster.
	dockertest.DeadDaemon(t)
	f, _ := factorytest.New(t, factorytest.Options{})
	var withName [][]string
	var walk func(path []string, cmds []*cobra.Command)
	walk = func(path []string, cmds []*cobra.Command) {
		for _, c := range cmds {
			p := append(append([]string{}, path...), c.Name())
			// dojo join's --name is the learner's display name, not a cluster.
			if fl := c.Flags().Lookup("name"); fl != nil && strings.Contains(fl.Usage, "kind cluster") {
				withName = append(withName, p)
			}
			walk(p, c.Commands())
		}
	}
	walk(nil, NewRootCmd(f).Commands())
	if len(withName) < 10 {
		t.Fatalf("only %d commands take --name: %v", len(withName), withName)
	}
	for _, cmd := range withName {
		for _, bad := range []string{"../../x", "My_Lab", ""} {
			base := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			f, st := factorytest.New(t, factorytest.Options{Env: map[string]string{"DOJO_WORKSPACE": filepath.Join(base, "ws"), "DOCKER_HOST": os.Getenv("DOCKER_HOST")}})
			f.StateDir = filepath.Join(base, "a", "b", "cache")
			code := Run(ctx, f, append(append([]string{}, cmd...), "--name", bad))
			cancel()
			msg := st.ErrOut.String()
			if code != cmdutil.ExitUsage || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, `"`+bad+`"`) || !strings.Contains(msg, "^[a-z0-9.-]+$") {
				t.Errorf("%v --name %q: exit %d, stderr %q; want exit 2 and one line naming the value and kind's rule", cmd, bad, code, msg)
			}
			if files := listFiles(t, base); files != "" {
				t.Errorf("%v --name %q wrote:\n%s", cmd, bad, files)
			}
		}
		// A name kind accepts is taken.
		f, _ := factorytest.New(t, factorytest.Options{})
		c, _, err := NewRootCmd(f).Find(cmd)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.ParseFlags([]string{"--name", "my-lab.2"}); err != nil || f.ClusterName() != "my-lab.2" {
			t.Errorf("%v --name my-lab.2: %v, name %q", cmd, err, f.ClusterName())
		}
	}
}

// A state file from a newer dojo (version 2) is left alone however many
// times dojo runs: no backup, no rewrite. dojo hint and dojo step still show
// what they can, warning once per run that progress will not be saved;
// commands that only show progress refuse, naming the dojo that wrote it.
// (Before: every run wrote a new backup, and hint and step failed.)
func TestFutureStateIsLeftAlone(t *testing.T) {
	s := newSession(t)
	dotdojo := filepath.Join(s.ws, ".dojo")
	os.MkdirAll(dotdojo, 0o755)
	future := []byte(`{"version": 2, "dojoVersion": "v2.0.0", "learner": {"steps": [5]}}`)
	statePath := filepath.Join(dotdojo, "state.json")
	os.WriteFile(statePath, future, 0o644)
	for run := 1; run <= 5; run++ {
		r := s.run(false, false, "hint", "5")
		if r.code != 0 || !strings.Contains(r.out, "Hint 1 of 3") {
			t.Fatalf("hint, run %d: exit %d, stdout %q, stderr %q", run, r.code, r.out, r.errOut)
		}
		if strings.Count(r.errOut, "\n") != 1 || !strings.HasPrefix(r.errOut, "! $WS/.dojo/state.json was written by dojo v2.0.0 (state version 2") ||
			!strings.Contains(r.errOut, "will not be saved") {
			t.Fatalf("hint, run %d: stderr %q; want one warning naming v2.0.0 and that progress will not be saved", run, r.errOut)
		}
	}
	if r := s.run(false, false, "step", "5"); r.code != 0 || !strings.Contains(r.out, "Step 5") || strings.Count(r.errOut, "\n") != 1 || !strings.Contains(r.errOut, "v2.0.0") {
		t.Fatalf("step 5: exit %d, stderr %q", r.code, r.errOut)
	}
	for _, args := range [][]string{{"steps"}, {"status"}} {
		r := s.run(false, false, args...)
		if r.code != cmdutil.ExitError || strings.Count(r.errOut, "\n") != 1 || !strings.Contains(r.errOut, "written by dojo v2.0.0") || !strings.Contains(r.errOut, "left as it is") {
			t.Fatalf("%v: exit %d, stderr %q; want one refusal naming v2.0.0", args, r.code, r.errOut)
		}
	}
	entries, _ := os.ReadDir(dotdojo)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "state.json state.lock" {
		t.Fatalf(".dojo holds %v; want state.json and state.lock only (no backup)", names)
	}
	if data, _ := os.ReadFile(statePath); string(data) != string(future) {
		t.Fatalf("state.json was rewritten: %s", data)
	}
}

// listFiles is every file under dir with its mode and contents ("" when
// there is none).
func listFiles(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		fi, _ := os.Lstat(p)
		data, _ := os.ReadFile(p)
		b.WriteString(p + " " + fi.Mode().String() + " " + string(data) + "\n")
		return nil
	})
	return b.String()
}
