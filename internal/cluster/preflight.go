package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/kubedojo/dojo/internal/workshop"
)

// Status is a check's verdict.
type Status string

// The verdicts. A Fail stops dojo up before anything is created; a Warn is
// printed and dojo goes on.
const (
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Check is one preflight or doctor line.
type Check struct {
	Name    string `json:"name"`
	Status  Status `json:"status"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// String is the check as one line: what was found and, on a problem, the fix.
func (c Check) String() string {
	if c.Fix == "" {
		return c.Message
	}
	return c.Message + ": " + c.Fix
}

// MinMemory is what the whole workshop stack wants from the machine (or the
// runtime's VM): the kind node, Traefik, Redis and the app, then
// kube-prometheus-stack, the exporter and the adapter.
const MinMemory = 4 << 30

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
	Checks   []Check
	Runtime  Runtime
	Provider Provider // nil when no runtime was usable
	Exists   bool     // a cluster of that name already exists: converge
}

// Err is nil when no check failed; otherwise one line per failure.
func (r *Report) Err() error {
	var lines []string
	for _, c := range r.Checks {
		if c.Status == Fail {
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

// Preflight checks the machine before anything is created: a container
// runtime, that it runs, whether the cluster exists already (then dojo up
// converges and the ports are the cluster's own), the host ports, memory.
func Preflight(o PreflightOptions, env PreflightEnv) *Report {
	if o.Name == "" {
		o.Name = workshop.ClusterName
	}
	if o.Ports == nil {
		o.Ports = []int{80, 443}
	}
	r := &Report{}
	rt, err := DetectRuntime(env.Host)
	if err != nil {
		r.Checks = append(r.Checks, Check{Name: "runtime", Status: Fail,
			Message: "no container runtime found (looked for docker, nerdctl and podman on PATH)",
			Fix:     "install Docker (https://docs.docker.com/get-docker/) or Podman, then run dojo up again"})
		return r
	}
	r.Runtime = rt
	p := env.NewProvider(rt)
	names, err := p.List()
	var down *RuntimeNotRunningError
	switch {
	case errors.As(err, &down):
		r.Checks = append(r.Checks, Check{Name: "runtime", Status: Fail, Message: down.Message(), Fix: down.Fix()})
		return r
	case err != nil:
		r.Checks = append(r.Checks, Check{Name: "runtime", Status: Fail,
			Message: fmt.Sprintf("%s does not answer: %v", rt.Name, err),
			Fix:     fmt.Sprintf("check that `%s ps` works, then run dojo up again", rt.Binary)})
		return r
	}
	r.Provider = p
	r.Checks = append(r.Checks, Check{Name: "runtime", Status: OK, Message: rt.Name + " is running"})
	if slices.Contains(names, o.Name) {
		r.Exists = true
		r.Checks = append(r.Checks, Check{Name: "cluster", Status: OK,
			Message: fmt.Sprintf("cluster %q exists: dojo up completes it", o.Name)})
	} else {
		r.Checks = append(r.Checks, Check{Name: "cluster", Status: OK,
			Message: fmt.Sprintf("cluster %q will be created", o.Name)})
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

func portCheck(port int, u PortUser) Check {
	name := "port " + strconv.Itoa(port)
	if !u.InUse {
		return Check{Name: name, Status: OK, Message: fmt.Sprintf("host port %d is free", port)}
	}
	who := "another program"
	if u.Process != "" {
		who = u.Process
	}
	return Check{Name: name, Status: Fail,
		Message: fmt.Sprintf("host port %d is already taken by %s", port, who),
		Fix:     fmt.Sprintf("stop it (the cluster maps ports 80 and 443 for http://producer.<domain>), e.g. find it with `sudo lsof -iTCP:%d -sTCP:LISTEN`", port)}
}

func memoryCheck(total uint64) Check {
	gib := float64(total) / (1 << 30)
	if total < MinMemory {
		return Check{Name: "memory", Status: Warn,
			Message: fmt.Sprintf("%.1f GiB of memory; the whole stack (kind, Traefik, the app, Prometheus) wants about %d GiB", gib, MinMemory>>30),
			Fix:     "close other programs, or give Docker/Podman's VM more memory"}
	}
	return Check{Name: "memory", Status: OK, Message: fmt.Sprintf("%.1f GiB of memory", gib)}
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
