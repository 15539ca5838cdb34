// Command kindrun runs a command beside a dockerd of its own, inside a network
// namespace with no route out (internal/kindlab), and exits with the
// command's status:
//
//	kindrun docker -- CMD...   DOCKER_HOST set (mk/kind.mk builds the node image so)
//	kindrun up -- CMD...       also the node image loaded and `dojo up` run on a
//	                           real kind cluster first (make kind-run), with the
//	                           upstream charts' stand-ins served on 127.0.0.1:8879
//	                           (DOJO_CHART_REPO) and the ingress stand-in loaded
//	                           into the node under Traefik's image name
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

	"github.com/kubedojo/dojo/internal/helm"
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
	repo, err := e.ServeCharts()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kindrun: %v\n", err)
		return 1
	}
	defer repo.Close()
	// Traefik's image goes into the node as soon as its containerd answers,
	// while dojo up waits for the release.
	loaded := make(chan error, 1)
	go func() { loaded <- loadWhenNodeUp(ctx, e) }()
	up := e.DojoCommand(ctx, "up", "--node-image", kindlab.NodeImage, "--chart-repo", repo.URL(), "--timings")
	up.Stdout, up.Stderr = os.Stderr, os.Stderr
	if err := up.Run(); err != nil {
		logf("kindrun: dojo up: %v (the command runs anyway: it sees what dojo up left)", err)
	}
	// The load may still be under way (or the node never came up: then it
	// gives up at its own deadline); CMD starts once it is done.
	if err := <-loaded; err != nil {
		logf("kindrun: the ingress stand-in is not loaded: %v", err)
	}
	logf("kindrun: ready in %s; running %v", time.Since(t0).Round(time.Millisecond), argv)
	cmd := e.Command(ctx, argv[0], argv[1:]...)
	cmd.Env = append(cmd.Env, helm.ChartRepoEnv+"="+repo.URL())
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	code := exitCode(cmd.Run())
	if code != 0 {
		e.Keep()
	}
	return code
}

// loadWhenNodeUp loads the ingress stand-in into the node once its
// containerd answers, trying again until it succeeds or 3 minutes have
// passed (or ctx ends); the error is the last attempt's.
func loadWhenNodeUp(ctx context.Context, e *kindlab.Env) error {
	deadline := time.Now().Add(3 * time.Minute)
	last := fmt.Errorf("the node's containerd did not answer within 3 minutes")
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if _, err := e.Docker.Run(ctx, "exec", kindlab.ControlPlaneNode, "ctr", "--namespace=k8s.io", "version"); err == nil {
			if last = e.LoadIngressStandIn(ctx); last == nil {
				return nil
			}
		}
		time.Sleep(time.Second)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return last
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
