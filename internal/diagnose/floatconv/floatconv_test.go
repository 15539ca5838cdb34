package floatconv_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/kubedojo/dojo/internal/diagnose/floatconv"
)

// TestKnownMatchesThisCPU: the row dojo prints for this machine's
// architecture is what its CPU computes.
func TestKnownMatchesThisCPU(t *testing.T) {
	want, ok := floatconv.Known(runtime.GOARCH)
	if !ok {
		t.Fatalf("no known outcome for %s: the tests run on amd64 or arm64", runtime.GOARCH)
	}
	if got := floatconv.Measure(); got != want {
		t.Errorf("Measure() = %+v, Known(%s) = %+v", got, runtime.GOARCH, want)
	}
}

// TestKnownMatchesOtherCPUUnderQemu runs the same division built for the
// other architecture under Debian's qemu-user-static (make test installs
// it) and compares with the row dojo prints for it. No qemu fails the test.
func TestKnownMatchesOtherCPUUnderQemu(t *testing.T) {
	other := floatconv.Other(runtime.GOARCH)
	qemu := map[string]string{"arm64": "qemu-aarch64-static", "amd64": "qemu-x86_64-static"}[other]
	path, err := exec.LookPath(qemu)
	if err != nil {
		t.Fatalf("%s not found (Debian package qemu-user-static; make test-deps installs it): %v", qemu, err)
	}
	bin := filepath.Join(t.TempDir(), "perreplica-"+other)
	build := exec.Command("go", "build", "-o", bin, "./cmd/perreplica")
	build.Env = append(os.Environ(), "GOARCH="+other, "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("GOARCH=%s go build: %v\n%s", other, err, out)
	}
	out, err := exec.Command(path, bin).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", qemu, bin, err)
	}
	var got floatconv.Outcome
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	want, _ := floatconv.Known(other)
	if got != want {
		t.Errorf("%s under %s computes %+v; dojo says %+v", other, qemu, got, want)
	}
	t.Logf("MEASURE %s under qemu: 0/0 → %d, %d/0 → %d", other, got.ZeroByZero, floatconv.Items, got.ItemsByZero)
}
