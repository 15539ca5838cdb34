package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/workshop"
)

// MinMemory is what the whole workshop stack wants from the machine (or the
// runtime's VM): the kind node, Traefik, Redis and the app, then
// kube-prometheus-stack, the exporter and the adapter.
const MinMemory = 4 << 30

// expectRuntime is what the runtime criterion wants.
const expectRuntime = "a container runtime (Docker, Podman or nerdctl) whose daemon answers"

// PreflightOptions say what to check.
type PreflightOptions struct {
	Name  string // cluster name
	Ports []int  // host ports the cluster maps (80 and 443 when nil)
}

// PreflightEnv is the machine, injectable for tests.
type PreflightEnv struct {
	Host        Host
	NewProvider func(Runtime) Provider
	Ports       PortChecker
	// MemTotal returns the machine's memory in bytes, ok false when unknown.
	MemTotal func() (uint64, bool)
}

// SystemPreflightEnv is the real machine with kind's provider.
func SystemPreflightEnv(getenv func(string) string) PreflightEnv {
	return PreflightEnv{
		Host:        SystemHost(getenv),
		NewProvider: func(rt Runtime) Provider { return NewKindProvider(rt) },
		Ports:       SystemPorts,
		MemTotal:    procMemTotal,
	}
}

// Report is the outcome of Preflight.
type Report struct {
	Checks   []check.Result
	Runtime  Runtime
	Provider Provider // nil when no runtime was usable
	Exists   bool     // a cluster of that name already exists: converge
}

// Err is nil when no check failed; otherwise one line per failure.
func (r *Report) Err() error {
	var lines []string
	for _, c := range r.Checks {
		if c.Status == check.Fail {
			lines = append(lines, c.String())
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return &PreflightError{Lines: lines}
}

// PreflightError lists the failed checks, one line each.
type PreflightError struct{ Lines []string }

func (e *PreflightError) Error() string { return strings.Join(e.Lines, "\n") }

// RuntimeCheck is Preflight's runtime criterion alone: a container runtime
// is installed and answers.
func RuntimeCheck(env PreflightEnv) check.Result {
	return Preflight(PreflightOptions{Ports: []int{}}, PreflightEnv{Host: env.Host, NewProvider: env.NewProvider}).Checks[0]
}

// Preflight checks the machine before anything is created: a container
// runtime, that it runs, whether the cluster exists already (then dojo up
// converges and the ports are the cluster's own), the host ports, memory.
// Every check that can run does, so one round names every problem: without
// a runtime that answers, the cluster check cannot run and says why
// (skipped, waiting for the runtime), and the ports and memory are checked
// all the same.
func Preflight(o PreflightOptions, env PreflightEnv) *Report {
	if o.Name == "" {
		o.Name = workshop.ClusterName
	}
	if o.Ports == nil {
		o.Ports = []int{80, 443}
	}
	r := &Report{}
	names, ok := r.runtimeCheck(env)
	switch {
	case !ok:
		r.Checks = append(r.Checks, check.Result{Criterion: "cluster", Status: check.Skipped,
			Observed: fmt.Sprintf("not checked: whether cluster %q exists is asked of the container runtime, which did not answer", o.Name),
			WaitsFor: "runtime"})
	case slices.Contains(names, o.Name):
		r.Exists = true
		r.Checks = append(r.Checks, check.Result{Criterion: "cluster", Status: check.Pass,
			Observed: fmt.Sprintf("cluster %q exists: dojo up completes it", o.Name)})
	default:
		r.Checks = append(r.Checks, check.Result{Criterion: "cluster", Status: check.Pass,
			Observed: fmt.Sprintf("cluster %q will be created", o.Name)})
	}
	// An existing cluster holds its own ports; otherwise (and when the
	// runtime cannot say) they must be free for the one dojo up creates.
	if !r.Exists && env.Ports != nil {
		for _, port := range o.Ports {
			r.Checks = append(r.Checks, portCheck(port, env.Ports(port)))
		}
	}
	if env.MemTotal != nil {
		if total, ok := env.MemTotal(); ok {
			r.Checks = append(r.Checks, memoryCheck(total))
		}
	}
	return r
}

// runtimeCheck adds the runtime criterion: a container runtime is
// installed and answers. It returns the clusters the runtime lists, ok
// false when it has none that answers.
func (r *Report) runtimeCheck(env PreflightEnv) ([]string, bool) {
	rt, err := DetectRuntime(env.Host)
	if err != nil {
		r.Checks = append(r.Checks, check.Result{Criterion: "runtime", Status: check.Fail,
			Observed: "no container runtime found (looked for docker, nerdctl and podman on PATH)", Expected: expectRuntime,
			Next: "install Docker (https://docs.docker.com/get-docker/) or Podman, then run dojo up again"})
		return nil, false
	}
	r.Runtime = rt
	p := env.NewProvider(rt)
	names, err := p.List()
	var down *RuntimeNotRunningError
	switch {
	case errors.As(err, &down):
		r.Checks = append(r.Checks, check.Result{Criterion: "runtime", Status: check.Fail, Observed: down.Message(), Expected: expectRuntime, Next: down.Fix()})
		return nil, false
	case err != nil:
		r.Checks = append(r.Checks, check.Result{Criterion: "runtime", Status: check.Fail,
			Observed: fmt.Sprintf("%s does not answer: %v", rt.Name, err), Expected: expectRuntime,
			Next: fmt.Sprintf("check that `%s ps` works, then run dojo up again", rt.Binary)})
		return nil, false
	}
	r.Provider = p
	r.Checks = append(r.Checks, check.Result{Criterion: "runtime", Status: check.Pass, Observed: rt.Name + " is running"})
	return names, true
}

func portCheck(port int, u PortUser) check.Result {
	name := "port-" + strconv.Itoa(port)
	if !u.InUse {
		return check.Result{Criterion: name, Status: check.Pass, Observed: fmt.Sprintf("host port %d is free", port)}
	}
	who := "another program"
	if u.Process != "" {
		who = u.Process
	}
	return check.Result{Criterion: name, Status: check.Fail,
		Observed: fmt.Sprintf("host port %d is already taken by %s", port, who),
		Expected: fmt.Sprintf("host port %d free: the cluster maps it for http://producer.<domain>", port),
		Next:     fmt.Sprintf("stop it; find it with `sudo lsof -iTCP:%d -sTCP:LISTEN`", port)}
}

func memoryCheck(total uint64) check.Result {
	gib := float64(total) / (1 << 30)
	if total < MinMemory {
		return check.Result{Criterion: "memory", Status: check.Warn,
			Observed: fmt.Sprintf("%.1f GiB of memory", gib),
			Expected: fmt.Sprintf("about %d GiB for the whole stack (kind, Traefik, the app, Prometheus)", MinMemory>>30),
			Next:     "close other programs, or give Docker/Podman's VM more memory"}
	}
	return check.Result{Criterion: "memory", Status: check.Pass, Observed: fmt.Sprintf("%.1f GiB of memory", gib)}
}

// procMemTotal reads MemTotal from /proc/meminfo (Linux only).
func procMemTotal() (uint64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseUint(fields[1], 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}
