package kindlab

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// runtimeWrapper is the OCI runtime dockerd runs containers with: runc, after
// removing from a container's (or an exec's) capabilities those the machine
// cannot grant (see runc-wrapper.sh).
//
//go:embed runc-wrapper.sh
var runtimeWrapper []byte

// Docker is a dockerd this run started inside its namespace, with its data,
// exec root, socket and logs in Dir.
type Docker struct {
	Dir  string
	Host string // DOCKER_HOST, unix://Dir/docker.sock
	Log  string // dockerd's log

	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// DockerBinary is the Docker client of Debian's docker.io, of the daemon's
// own version (a newer client elsewhere on PATH works too: dojo and kind use
// whichever `docker` they find).
const DockerBinary = "/usr/bin/docker"

// StartDocker starts dockerd with everything under dir and waits until it
// answers. It must run inside the namespace Main made: its bridges and
// firewall rules are that namespace's, never the host's.
func StartDocker(ctx context.Context, dir string) (*Docker, error) {
	if !InNamespace() {
		return nil, fmt.Errorf("kindlab: not inside kindlab's namespace (%s is not 1): start dockerd through kindlab.Main", NamespaceEnv)
	}
	dockerd := findTool("dockerd")
	if _, err := os.Stat(dockerd); err != nil {
		return nil, fmt.Errorf("kindlab: dockerd (Debian's docker.io) not found: run `make test-deps`")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	wrapper := filepath.Join(dir, "runc-wrapper")
	if err := os.WriteFile(wrapper, runtimeWrapper, 0o755); err != nil {
		return nil, err
	}
	d := &Docker{Dir: dir, Host: "unix://" + filepath.Join(dir, "docker.sock"), Log: filepath.Join(dir, "dockerd.log"), done: make(chan struct{})}
	logf, err := os.Create(d.Log)
	if err != nil {
		return nil, err
	}
	d.cmd = exec.Command(dockerd,
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"),
		"-H", d.Host,
		"--add-runtime", "dojo-runc="+wrapper,
		"--default-runtime", "dojo-runc",
		// Containers' cgroups under a parent named after this run, so what
		// a killed run leaves is recognisable as its own.
		"--cgroup-parent", "dojo-kind-"+filepath.Base(dir),
	)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.Env = append(os.Environ(), "DOCKER_HOST=")
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("kindlab: start dockerd: %w", err)
	}
	go func() {
		d.err = d.cmd.Wait()
		logf.Close()
		close(d.done)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := d.Command(ctx, "version", "--format", "{{.Server.Version}}").CombinedOutput()
		if err == nil {
			return d, nil
		}
		select {
		case <-d.done:
			return nil, fmt.Errorf("kindlab: dockerd exited (%v) before it answered; its log %s ends:\n%s", d.err, d.Log, tail(d.Log, 30))
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			d.Stop()
			return nil, fmt.Errorf("kindlab: dockerd did not answer within 60 s (%s); its log %s ends:\n%s", strings.TrimSpace(string(out)), d.Log, tail(d.Log, 30))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Command is the docker client talking to this daemon.
func (d *Docker) Command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, DockerBinary, args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+d.Host)
	return cmd
}

// Run runs the docker client and returns its output, or an error with it.
func (d *Docker) Run(ctx context.Context, args ...string) (string, error) {
	out, err := d.Command(ctx, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// Stop removes every container of this daemon (kind's nodes among them), then
// stops dockerd: SIGTERM, and after 30 s SIGKILL to its process group (the
// containerd it started).
func (d *Docker) Stop() {
	select {
	case <-d.done:
		return
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if ids, err := d.Run(ctx, "ps", "-aq"); err == nil && strings.TrimSpace(ids) != "" {
		_, _ = d.Run(ctx, append([]string{"rm", "-f", "-v"}, strings.Fields(ids)...)...)
	}
	pgid := d.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-d.done
}

// Err is why dockerd ended, nil while it runs.
func (d *Docker) Err() error {
	select {
	case <-d.done:
		if d.err == nil {
			return errors.New("dockerd exited")
		}
		return d.err
	default:
		return nil
	}
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
