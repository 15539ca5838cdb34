// Command kindrun runs a command beside a dockerd of its own, inside a network
// namespace with no route out (internal/kindlab), and exits with the
// command's status:
//
//	kindrun docker -- CMD...   DOCKER_HOST set (mk/kind.mk builds the node image so)
//	kindrun up -- CMD...       also the node image loaded and `dojo up` run on a
//	                           real kind cluster first (make kind-run)
//
// In both, HOME is a scratch directory of the run's, so the machine's ~/.kube
// and caches are never touched; KUBECONFIG is in it. Set DOJO_KIND_KEEP=1 to
// keep the work directory.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/kubedojo/dojo/internal/kindlab"
)

func main() { os.Exit(kindlab.Main(run)) }

const usage = "usage: kindrun docker|up -- COMMAND [ARG...]"

func run() int {
	args := os.Args[1:]
	if len(args) < 3 || (args[0] != "docker" && args[0] != "up") || args[1] != "--" {
		fmt.Fprintln(os.Stderr, usage)
		return 2
	}
	mode, argv := args[0], args[2:]
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }

	if mode == "docker" {
		dir, err := os.MkdirTemp("", "dojo-kind-docker-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		d, err := kindlab.StartDocker(ctx, dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "kindrun: %v\n(kept %s)\n", err, dir)
			return 1
		}
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		cmd.Env = append(os.Environ(), "DOCKER_HOST="+d.Host)
		code := exitCode(cmd.Run())
		d.Stop()
		if code != 0 || os.Getenv("DOJO_KIND_KEEP") != "" {
			fmt.Fprintf(os.Stderr, "kindrun: dockerd's data and log kept in %s\n", dir)
		} else {
			_ = os.RemoveAll(dir)
		}
		return code
	}

	t0 := time.Now()
	e, err := kindlab.Start(ctx, kindlab.Options{Logf: logf})
	if e != nil {
		defer e.Stop()
		if os.Getenv("DOJO_KIND_KEEP") != "" {
			e.Keep()
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "kindrun: %v\n", err)
		return 1
	}
	up := e.DojoCommand(ctx, "up", "--node-image", kindlab.NodeImage, "--timings")
	up.Stdout, up.Stderr = os.Stderr, os.Stderr
	if err := up.Run(); err != nil {
		logf("kindrun: dojo up: %v (the command runs anyway: it sees what dojo up left)", err)
	}
	logf("kindrun: ready in %s; running %v", time.Since(t0).Round(time.Millisecond), argv)
	cmd := e.Command(ctx, argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	code := exitCode(cmd.Run())
	if code != 0 {
		e.Keep()
	}
	return code
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if x, ok := err.(*exec.ExitError); ok {
		return x.ExitCode()
	}
	fmt.Fprintln(os.Stderr, "kindrun:", err)
	return 1
}
