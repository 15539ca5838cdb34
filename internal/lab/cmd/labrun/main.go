// Command labrun starts the lab (internal/lab) in the state a learner has
// right after `dojo up` (Redis, producer and consumer running; nothing of
// steps 5 to 10), runs a command inside the lab's network namespace with
// KUBECONFIG, DOJO_WORKSPACE, DOJO_INGRESS_ADDR (the lab's port 80),
// DOJO_PROMETHEUS_URL and DOJO_REDIS_ADDR set and bin/dojo and
// kubectl on PATH, stops the lab and exits with the command's status.
// `make lab-run CMD='…'` and `make lab-shell` use it; see docs/lab.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/kubedojo/dojo/internal/lab"
	"github.com/kubedojo/dojo/internal/workshop"
)

func main() { os.Exit(lab.Main(run)) }

func run() int {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: labrun [--] COMMAND [ARG...]")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }
	if os.Getenv("DOJO_LAB_QUIET") != "" {
		logf = func(string, ...any) {}
	}
	t0 := time.Now()
	l, err := lab.Up(ctx, lab.Options{Logf: logf, Keep: os.Getenv("DOJO_LAB_KEEP") != ""})
	if l != nil {
		defer l.Stop()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "labrun: the lab did not start: %v\n", err)
		return 1
	}
	if err := l.InstallApp(ctx); err != nil {
		l.MarkFailed()
		fmt.Fprintf(os.Stderr, "labrun: installing redis, producer, consumer: %v\n%s", err, l.Logs(20))
		return 1
	}
	redisAddr, err := l.ServiceAddr(ctx, workshop.AppNamespace, workshop.RedisService, workshop.RedisPort, time.Minute)
	if err != nil {
		l.MarkFailed()
		fmt.Fprintf(os.Stderr, "labrun: %v\n", err)
		return 1
	}
	promURL, err := l.StartPrometheusProxy(ctx)
	if err != nil {
		l.MarkFailed()
		fmt.Fprintf(os.Stderr, "labrun: %v\n", err)
		return 1
	}
	ingressAddr, err := l.IngressAddr(ctx)
	if err != nil {
		l.MarkFailed()
		fmt.Fprintf(os.Stderr, "labrun: %v\n", err)
		return 1
	}
	logf("lab: ready in %s; charts for steps 5, 6, 8 (stand-ins) at %s", time.Since(t0).Round(time.Millisecond), l.ChartRepoURL())

	dojo, _ := filepath.Abs(filepath.Join("bin"))
	env := append(os.Environ(),
		"KUBECONFIG="+l.Kubeconfig(),
		"DOJO_PROMETHEUS_URL="+promURL,
		"DOJO_REDIS_ADDR="+redisAddr,
		"DOJO_INGRESS_ADDR="+ingressAddr,
		"DOJO_WORKSPACE="+l.Workspace(),
		"DOJO_LAB_CHART_REPO="+l.ChartRepoURL(),
		"DOJO_LAB_DIR="+l.Dir(),
		"PATH="+dojo+string(os.PathListSeparator)+l.BinDir()+string(os.PathListSeparator)+os.Getenv("PATH"),
		"PS1=(dojo-lab) \\w \\$ ",
	)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = env
	// Ctrl-C goes to the command (the foreground process group); labrun
	// itself ignores it and stops the lab when the command ends.
	signal.Ignore(os.Interrupt)
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode()
	case err != nil:
		fmt.Fprintf(os.Stderr, "labrun: %s: %v\n", strings.Join(args, " "), err)
		return 127
	}
	return 0
}
