// Package dockertest points the real docker client at a daemon that is not
// there, so a test of "Docker is installed but not running" runs the same way
// on a machine with a Docker daemon as on one without.
package dockertest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// DeadDaemon sets DOCKER_HOST, for the rest of the test, to a socket in a new
// directory that nobody listens on, and fails the test when the docker client
// is missing (make test-deps installs it) or still reaches a daemon.
func DeadDaemon(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Fatal("the docker client is not on PATH; `make test-deps` installs it (Debian's docker.io)")
	}
	// A short path: a unix socket's name must fit in 108 bytes.
	dir, err := os.MkdirTemp("", "dojo-nodocker-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(dir, "docker.sock"))
	// A named context would win over DOCKER_HOST; "default" follows it.
	if os.Getenv("DOCKER_CONTEXT") != "" {
		t.Setenv("DOCKER_CONTEXT", "default")
	}
	if err := exec.Command("docker", "info").Run(); err == nil {
		t.Fatalf("docker info succeeded against %s: a daemon answered where none should", dir)
	}
}
