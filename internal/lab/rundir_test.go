package lab_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubedojo/dojo/internal/lab"
)

// hangEnv makes TestHelperTimedOutRun do its part; without it that helper
// returns at once (the os/exec helper-process pattern).
const hangEnv = "DOJO_LAB_TEST_HANG"

// TestHelperTimedOutRun is the child of TestTimedOutRunSaysWhereItLeftItsFiles:
// it makes a lab-like directory as lab.Up does and blocks until go test's
// -timeout ends the process, with no cleanup.
func TestHelperTimedOutRun(t *testing.T) {
	if os.Getenv(hangEnv) != "1" {
		return
	}
	dir, err := os.MkdirTemp("", "dojo-lab-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "logs", "etcd.log"), []byte("started\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Hour)
}

// A go test run that hits -timeout exits from a panic: no Cleanup or Stop
// runs. The parent that re-executed it into the namespace then says where
// the run's files are instead of leaving /tmp/dojo-lab-* without a word;
// a run that cleaned up after itself leaves nothing behind.
func TestTimedOutRunSaysWhereItLeftItsFiles(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, lab.NamespaceEnv+"=") && !strings.HasPrefix(kv, "TMPDIR=") {
			env = append(env, kv)
		}
	}
	run := func(extra ...string) (string, int) {
		cmd := exec.Command(exe, "-test.run", "^TestHelperTimedOutRun$", "-test.timeout", "3s")
		cmd.Env = append(append(env, "TMPDIR="+tmp), extra...)
		out, err := cmd.CombinedOutput()
		code := 0
		if exit, ok := err.(*exec.ExitError); ok {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatalf("running %s: %v", exe, err)
		}
		return string(out), code
	}

	out, code := run(hangEnv + "=1")
	if code == 0 || !strings.Contains(out, "test timed out after 3s") {
		t.Fatalf("the helper did not time out (exit %d):\n%s", code, out)
	}
	runDirs, _ := filepath.Glob(filepath.Join(tmp, "dojo-lab-run-*"))
	if len(runDirs) != 1 {
		t.Fatalf("want one run directory in %s, found %v\n%s", tmp, runDirs, out)
	}
	labDirs, _ := filepath.Glob(filepath.Join(runDirs[0], "dojo-lab-*", "logs", "etcd.log"))
	if len(labDirs) != 1 {
		t.Fatalf("the timed-out run's lab directory is not in its run directory %s\n%s", runDirs[0], out)
	}
	want := "lab: the run left its logs and data in " + runDirs[0] + " (it exited with status 2"
	if !strings.Contains(out, want) || !strings.Contains(out, filepath.Dir(filepath.Dir(labDirs[0]))) {
		t.Errorf("the parent's report lacks %q and the lab directory:\n%s", want, out)
	}
	if err := os.RemoveAll(runDirs[0]); err != nil {
		t.Fatal(err)
	}

	out, code = run()
	if code != 0 {
		t.Fatalf("the helper without %s failed (exit %d):\n%s", hangEnv, code, out)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) != 0 || strings.Contains(out, "left its logs") {
		t.Errorf("a clean run left %v or reported leftovers:\n%s", left, out)
	}
}
