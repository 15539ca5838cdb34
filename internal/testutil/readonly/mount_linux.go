package readonly

import (
	"syscall"
	"testing"
)

// mountReadOnly binds dir over itself and remounts the bind read-only; the
// mount is taken away when the test ends (before its temporary directories
// are removed, when dir is one of them: cleanups run last first).
func mountReadOnly(t *testing.T, dir string) error {
	if err := syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err != nil {
		return err
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return syscall.Mount("", dir, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, "")
}
