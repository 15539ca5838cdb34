package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory/factorytest"
	"github.com/kubedojo/dojo/internal/testutil/readonly"
)

// Reading never needs to write: on a read-only workspace dojo step and
// dojo hint show their text, and one warning names the progress that was
// not saved; dojo status still reads. (Before: "locking …/.dojo: open
// …/state.lock: read-only file system", exit 1, nothing shown.)
func TestReadOnlyWorkspaceStillShowsStepsAndHints(t *testing.T) {
	s := newSession(t)
	if r := s.run(false, false, "init"); r.code != 0 {
		t.Fatalf("init: %s", r.errOut)
	}
	if r := s.run(false, false, "hint", "step-5"); r.code != 0 {
		t.Fatalf("hint: %s", r.errOut)
	}
	saved, err := os.ReadFile(filepath.Join(s.ws, ".dojo", "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	readonly.Dir(t, s.ws)
	for _, c := range []struct {
		args       []string
		shows      string
		notRecords string
	}{
		{[]string{"step", "6"}, "Step 6: Expose the queue length", "step-6 opened"},
		{[]string{"hint", "step-5"}, "Hint 2 of 3", "hint 2 of step-5 revealed"},
		{[]string{"hint", "7"}, "Hint 1 of 3", "step-7 opened, hint 1 of step-7 revealed"},
	} {
		r := s.run(false, false, c.args...)
		if r.code != 0 || !strings.Contains(r.out, c.shows) {
			t.Errorf("%v on a read-only workspace: exit %d, stderr %q, stdout lacks %q", c.args, r.code, r.errOut, c.shows)
			continue
		}
		if lines := strings.Split(strings.TrimSpace(r.errOut), "\n"); len(lines) != 1 ||
			!strings.HasPrefix(lines[0], "! your progress is not saved: ") || !strings.HasSuffix(lines[0], ". Not recorded: "+c.notRecords) {
			t.Errorf("%v: stderr %q; want one warning saying %q is not recorded", c.args, r.errOut, c.notRecords)
		}
	}
	if r := s.run(false, false, "status"); r.code != 0 || !strings.Contains(r.out, "1 hint used") {
		t.Errorf("status on a read-only workspace: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	if data, _ := os.ReadFile(filepath.Join(s.ws, ".dojo", "state.json")); string(data) != string(saved) {
		t.Errorf("the progress file changed on a read-only workspace")
	}
}

// Only dojo init and dojo up create a workspace: another command shows
// what it can and says where it looked. (Before: --workspace
// /nonexistent/deep/x step 2 created the whole path, silently.)
func TestAMissingWorkspaceIsNotCreated(t *testing.T) {
	base := t.TempDir()
	ws := filepath.Join(base, "nonexistent", "deep", "x")
	f, st := factorytest.New(t, factorytest.Options{})
	code := Run(context.Background(), f, []string{"--workspace", ws, "step", "2"})
	if code != 0 || !strings.Contains(st.Out.String(), "Step 2") {
		t.Fatalf("step 2 without a workspace: exit %d, stderr %q", code, st.ErrOut)
	}
	for _, want := range []string{"no workspace at " + ws + " (given by --workspace)", "dojo init", "step-2 opened"} {
		if !strings.Contains(st.ErrOut.String(), want) {
			t.Errorf("the warning lacks %q: %q", want, st.ErrOut)
		}
	}
	if _, err := os.Stat(filepath.Join(base, "nonexistent")); !os.IsNotExist(err) {
		t.Errorf("dojo step created %s: %v", filepath.Join(base, "nonexistent"), err)
	}
	// Without --workspace or DOJO_WORKSPACE: the directories it searched.
	cwd := t.TempDir()
	f, st = factorytest.New(t, factorytest.Options{Getwd: func() (string, error) { return cwd, nil }})
	if code := Run(context.Background(), f, []string{"hint", "3"}); code != 0 {
		t.Fatalf("hint without a workspace: exit %d, %q", code, st.ErrOut)
	}
	want := "no workspace at " + filepath.Join(cwd, "dojo-workspace") + " (the default: neither " + cwd + " nor a directory above it holds a .dojo folder)"
	if !strings.Contains(st.ErrOut.String(), want) {
		t.Errorf("stderr %q lacks %q", st.ErrOut, want)
	}
	if _, err := os.Stat(filepath.Join(cwd, "dojo-workspace")); !os.IsNotExist(err) {
		t.Errorf("dojo hint created the default workspace: %v", err)
	}
	// --workspace's help states the rule.
	r := newSession(t).run(false, false, "step", "--help")
	if !strings.Contains(r.out, "nearest one above it that holds a .dojo folder") || !strings.Contains(r.out, "Only dojo init and dojo up create it") {
		t.Errorf("--workspace's help does not state the discovery rule:\n%s", r.out)
	}
}

// A negative number where a step goes is an unknown step, not cobra's
// "unknown shorthand flag"; where dojo hint's number goes, a bad hint
// number. One line, exit 2, like every bad argument.
func TestNegativeNumbersAreBadArguments(t *testing.T) {
	s := newSession(t)
	for _, c := range []struct {
		args     []string
		mentions []string
	}{
		{[]string{"step", "-1"}, []string{`unknown step "-1"`, "step-1 … step-10 or cleanup"}},
		{[]string{"step", "-12"}, []string{`unknown step "-12"`}},
		{[]string{"hint", "-1"}, []string{`unknown step "-1"`}},
		{[]string{"hint", "step-5", "-1"}, []string{`hint number "-1"`, "from 1 up"}},
		{[]string{"check", "-5"}, []string{`unknown step "-5"`}},
		{[]string{"solution", "-3"}, []string{`unknown step "-3"`}},
		{[]string{"step", "-x"}, []string{"unknown shorthand flag"}}, // a flag it is
	} {
		r := s.run(false, false, c.args...)
		if r.code != cmdutil.ExitUsage || strings.Count(strings.TrimSpace(r.errOut), "\n") != 0 || r.out != "" {
			t.Errorf("%q: exit %d, stderr %q, stdout %q; want one usage line", c.args, r.code, r.errOut, r.out)
			continue
		}
		for _, m := range c.mentions {
			if !strings.Contains(r.errOut, m) {
				t.Errorf("%q: stderr %q lacks %q", c.args, r.errOut, m)
			}
		}
	}
}

// A pasted blob is not echoed whole: an argument of 100 000 characters is
// quoted by its first 60 characters and its length, whatever the message.
func TestALongArgumentIsCutInMessages(t *testing.T) {
	s := newSession(t)
	blob := strings.Repeat("x", 100_000)
	for _, args := range [][]string{
		{"step", blob},
		{"hint", "5", blob},
		{blob},
		{"steps", "--" + blob},
		{"check", "--prometheus-url=" + blob},
	} {
		r := s.run(false, false, args...)
		if r.code != cmdutil.ExitUsage {
			t.Errorf("%.30q: exit %d, want 2", args, r.code)
		}
		if len(r.errOut) > 400 || !strings.Contains(r.errOut, strings.Repeat("x", 58)+"… (") || !strings.Contains(r.errOut, "characters)") {
			t.Errorf("%.30q: stderr of %d bytes: %.400q", args, len(r.errOut), r.errOut)
		}
	}
	// A value of ordinary length is quoted whole.
	if r := s.run(false, false, "step", "step-99-and-then-some"); !strings.Contains(r.errOut, `"step-99-and-then-some"`) {
		t.Errorf("a short value was cut: %q", r.errOut)
	}
}

// Shell completion offers the step names (with their titles), the steps
// with a reference where only those work, and dojo hint's hint numbers.
func TestCompletionOffersStepsAndHints(t *testing.T) {
	s := newSession(t)
	complete := func(args ...string) []string {
		t.Helper()
		r := s.run(false, false, append([]string{"__complete"}, args...)...)
		if r.code != 0 {
			t.Fatalf("__complete %q: exit %d: %s", args, r.code, r.errOut)
		}
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(r.out), "\n") {
			if !strings.HasPrefix(l, ":") {
				name, _, _ := strings.Cut(l, "\t")
				out = append(out, name)
			}
		}
		return out
	}
	steps := "step-1 step-2 step-3 step-4 step-5 step-6 step-7 step-8 step-9 step-10 cleanup"
	for _, cmd := range []string{"step", "hint", "check"} {
		if got := strings.Join(complete(cmd, ""), " "); got != steps {
			t.Errorf("dojo %s <TAB>: %q, want %q", cmd, got, steps)
		}
	}
	if got := strings.Join(complete("step", "step-1"), " "); got != "step-1 step-10" {
		t.Errorf("dojo step step-1<TAB>: %q", got)
	}
	for _, cmd := range []string{"solve", "solution", "diff"} {
		if got := strings.Join(complete(cmd, ""), " "); got != "step-5 step-6 step-7 step-8 step-9 step-10" {
			t.Errorf("dojo %s <TAB>: %q, want the steps with a reference", cmd, got)
		}
	}
	if got := strings.Join(complete("hint", "step-5", ""), " "); got != "1 2 3" {
		t.Errorf("dojo hint step-5 <TAB>: %q, want 1 2 3", got)
	}
	if got := strings.Join(complete("hint", "cleanup", ""), " "); got != "1" {
		t.Errorf("dojo hint cleanup <TAB>: %q, want 1", got)
	}
	r := s.run(false, false, "__complete", "step", "")
	if !strings.Contains(r.out, "step-5\tInstall kube-prometheus-stack") {
		t.Errorf("the step names come without their titles:\n%s", r.out)
	}
}

// One hint, one file: counts agree with their nouns.
func TestCountsAgreeWithTheirNouns(t *testing.T) {
	s := newSession(t)
	s.run(false, false, "hint", "step-5")
	if r := s.run(false, false, "status"); !strings.Contains(r.out, "1 hint used") {
		t.Errorf("status after one hint:\n%s", r.out)
	}
	if r := s.run(false, false, "step", "4"); !strings.Contains(r.out, "This step has one hint") {
		t.Errorf("step 4, which has one hint:\n%s", r.out)
	}
	s.run(false, false, "init")
	os.WriteFile(filepath.Join(s.ws, "values", "prometheus.yaml"), []byte("mine: true\n"), 0o644)
	if r := s.run(false, false, "init"); !strings.Contains(r.out, "1 file you changed was kept as it is") {
		t.Errorf("init with one changed file:\n%s", r.out)
	}
}

// The clock a trainer reads: a learner who opens all eleven steps and reads
// for three minutes has spent three minutes, on the step opened last, not
// three minutes on each (issue 26: 3m14s each, 35m32s in all).
func TestStatusRunsOneClock(t *testing.T) {
	s := newSession(t)
	for _, step := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "cleanup"} {
		if r := s.run(false, false, "step", step); r.code != 0 {
			t.Fatalf("step %s: %s", step, r.errOut)
		}
		s.clock.t = s.clock.t.Add(time.Second)
	}
	s.clock.t = s.clock.t.Add(3 * time.Minute)
	r := s.run(false, false, "status", "--json")
	var rep struct {
		Steps []struct {
			ID      string `json:"id"`
			Seconds int64  `json:"timeSpentSeconds"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, st := range rep.Steps {
		total += st.Seconds
		want := int64(1)
		if st.ID == "cleanup" {
			want = 181
		}
		if st.Seconds != want {
			t.Errorf("%s: %d s, want %d", st.ID, st.Seconds, want)
		}
	}
	if total != 191 {
		t.Errorf("total %d s three minutes after opening every step, want 191 (3m11s)", total)
	}
	if r := s.run(false, false, "status"); !strings.Contains(r.out, "3m11s spent") {
		t.Errorf("status:\n%s", r.out)
	}
}
