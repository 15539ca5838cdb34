// Package readonly makes a test's directory read-only for real, so a test
// of "the workspace cannot be written" meets the error the kernel gives,
// also when the tests run as root, whom file permissions do not stop.
package readonly

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir makes dir read-only for the rest of the test: as root by mounting it
// read-only over itself (writes fail with "read-only file system", as on a
// read-only volume), otherwise by taking away its write permission. The
// test fails when neither stops a write.
func Dir(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() == 0 {
		if err := mountReadOnly(t, dir); err != nil {
			t.Fatalf("making %s read-only: %v (as root the test needs to mount; run it as another user otherwise)", dir, err)
		}
	} else {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
	}
	probe := filepath.Join(dir, ".readonly-probe")
	if err := os.WriteFile(probe, nil, 0o644); err == nil {
		os.Remove(probe)
		t.Fatalf("%s is still writable", dir)
	}
}
