package up_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubedojo/dojo/internal/bootstrap"
	"github.com/kubedojo/dojo/internal/cli"
	"github.com/kubedojo/dojo/internal/cli/up"
	"github.com/kubedojo/dojo/internal/factory/factorytest"
	"github.com/kubedojo/dojo/internal/helm"
	"github.com/kubedojo/dojo/internal/testutil/dockertest"
	"github.com/kubedojo/dojo/internal/ui"
)

func run(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	f, st := factorytest.New(t, factorytest.Options{Env: env})
	code := cli.Run(context.Background(), f, args)
	return code, st.Out.String(), st.ErrOut.String()
}

// TestUpWithoutDockerDaemon runs `dojo up` with the real docker client pointed
// at a socket nobody listens on (so a daemon on the machine changes nothing):
// one clear error line, nothing created, no workspace written.
func TestUpWithoutDockerDaemon(t *testing.T) {
	dockertest.DeadDaemon(t)
	ws := filepath.Join(t.TempDir(), "ws")
	code, out, errOut := run(t, map[string]string{"DOJO_WORKSPACE": ws}, "up", "--timings")
	if code != 1 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	var errLines []string
	for _, l := range strings.Split(errOut, "\n") {
		if strings.HasPrefix(l, "error:") {
			errLines = append(errLines, l)
		}
	}
	if len(errLines) != 1 || !strings.Contains(errLines[0], "Docker is installed but not running") || !strings.Contains(errLines[0], "Cannot connect to the Docker daemon") {
		t.Fatalf("want one error line naming the daemon, got:\n%s", errOut)
	}
	// The error is the last thing said, on one line: no list of the phases
	// that could not start after it.
	if lines := strings.Split(strings.TrimRight(errOut, "\n"), "\n"); lines[len(lines)-1] != errLines[0] {
		t.Fatalf("more after the error line:\n%s", errOut)
	}
	if !strings.Contains(errOut, "timings:") || !strings.Contains(errOut, "preflight") {
		t.Fatalf("--timings printed nothing:\n%s", errOut)
	}
	if out != "" {
		t.Fatalf("stdout on failure: %q", out)
	}
	if _, err := os.Stat(ws); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the workspace was written although preflight failed")
	}
}

func TestDeployBadNameIsAUsageErrorNamingTheValidOnes(t *testing.T) {
	code, _, errOut := run(t, nil, "deploy", "prometheus")
	if code != 2 || !strings.Contains(errOut, "producer or consumer") || !strings.Contains(errOut, `"prometheus"`) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if code, _, _ := run(t, nil, "deploy"); code != 2 {
		t.Fatalf("no name: exit %d", code)
	}
}

func TestTeardownPurgeWithoutAnAnswerRefuses(t *testing.T) {
	ws := t.TempDir()
	if err := os.Mkdir(filepath.Join(ws, ".dojo"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, map[string]string{"DOJO_WORKSPACE": ws}, "teardown", "--purge")
	if code != 2 || !strings.Contains(errOut, "pass --yes") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(ws, ".dojo")); err != nil {
		t.Fatal("the workspace was touched")
	}
}

func TestPrintNext(t *testing.T) {
	res := &bootstrap.Result{Context: "kind-dojo", ProducerURL: "http://producer.localhost",
		Image: "ghcr.io/kubedojo/dojo:v1.0.0", Releases: []helm.Result{{Release: "traefik", Action: helm.Unchanged, Revision: 1}}}
	var b strings.Builder
	up.PrintNext(&b, ui.NewStyles(false), res, 3)
	for _, want := range []string{"dojo is up (context kind-dojo)", "traefik   unchanged (revision 1)",
		"Producer: http://producer.localhost", "curl -X POST http://producer.localhost/publish", "Next:     dojo step 3"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in:\n%s", want, b.String())
		}
	}
	// A learner on step 7 who runs dojo up again is sent back to step 7.
	b.Reset()
	up.PrintNext(&b, ui.NewStyles(false), res, 7)
	if !strings.Contains(b.String(), "Next:     dojo step 7") {
		t.Errorf("next step 7 not suggested:\n%s", b.String())
	}
	b.Reset()
	up.PrintNext(&b, ui.NewStyles(false), res, 0)
	if !strings.Contains(b.String(), "every step passed") {
		t.Errorf("all-done case:\n%s", b.String())
	}
}
