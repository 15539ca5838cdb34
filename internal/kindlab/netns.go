package kindlab

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kubedojo/dojo/internal/lab"
)

// NamespaceEnv marks a process that runs inside the namespaces Main made for
// it (a network namespace with no route out, and a private mount namespace).
const NamespaceEnv = "DOJO_KIND_NETNS"

// DNSTarget is the address the namespace's resolv.conf names: it is on lo
// and nothing listens there, so every lookup of a name outside the cluster
// fails at once (connection refused) instead of waiting for a timeout.
const DNSTarget = "10.250.0.1"

// InNamespace reports whether this process runs in the namespaces Main made.
func InNamespace() bool { return os.Getenv(NamespaceEnv) == "1" }

// Main is the entry point of every program that runs kind here (a test
// binary's TestMain, kindrun). Outside the namespaces it re-executes itself
// inside new ones (as root: dockerd needs it), waits, then makes sure
// nothing it started is left (any process still in its network namespace
// is ended) and that the host's links, routes and firewall rules are what
// they were before; either failing turns the exit code to 1. Inside, it
// prepares the namespace (lo up, the DNS target, a resolv.conf of its own)
// and calls run.
func Main(run func() int) int {
	if InNamespace() {
		undo, err := prepareNamespace()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer undo()
		return run()
	}
	code, err := reexec()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return code
}

func reexec() (int, error) {
	if os.Geteuid() != 0 {
		return 0, errors.New("kindlab: the kind tests run dockerd, which needs root; run them as root (make test does, in CI)")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return 0, fmt.Errorf("kindlab: unshare (util-linux) not found: %w; run `make test-deps`", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("kindlab: own executable: %w", err)
	}
	before, err := HostNetwork()
	if err != nil {
		return 0, err
	}
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return 0, fmt.Errorf("kindlab: own network namespace: %w", err)
	}
	// A private mount namespace (dockerd's mounts and the resolv.conf stay
	// in it) whose mounts do not propagate back to the host; --kill-child:
	// the program dies if unshare is killed.
	cmd := exec.Command(unshare, append([]string{"--net", "--mount", "--propagation", "slave", "--fork", "--kill-child", "--", exe}, os.Args[1:]...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	tmp, err := lab.NewRunTemp("kindlab")
	if err != nil {
		return 0, err
	}
	cmd.Env = append(os.Environ(), NamespaceEnv+"=1", tmp.Env())
	if err := cmd.Start(); err != nil {
		tmp.Finish(os.Stderr, 1)
		return 0, fmt.Errorf("kindlab: unshare: %w", err)
	}
	ns := namespaceOf(cmd.Process.Pid, self)
	// This process must outlive the child to sweep and check: Ctrl-C reaches
	// the child from the terminal anyway, SIGTERM is passed on.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			if s == syscall.SIGTERM {
				_ = cmd.Process.Signal(s)
			}
		}
	}()
	err = cmd.Wait()
	code := 0
	// Last, once every process of the run has ended: what it left in its
	// temporary directory (a timed-out test leaves its kind work directory).
	defer func() { tmp.Finish(os.Stderr, code) }()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		code = 1
		return 1, fmt.Errorf("kindlab: unshare: %w", err)
	}
	if ns != "" {
		if left := endNamespace(ns, self); len(left) > 0 {
			fmt.Fprintf(os.Stderr, "kindlab: processes were still running in the test's network namespace and were ended: %s\n", strings.Join(left, ", "))
			code = max(code, 1)
		}
	}
	after, err := HostNetwork()
	if err != nil {
		code = max(code, 1)
		return 1, err
	}
	if d := before.Diff(after); d != "" {
		fmt.Fprintf(os.Stderr, "kindlab: FAIL: the host's network changed during the run:\n%s", d)
		code = max(code, 1)
		return code, nil
	}
	fmt.Fprintln(os.Stderr, "kindlab: the host's links, addresses, routes, rules and iptables are as before the run")
	return code, nil
}

// namespaceOf waits (briefly) until pid runs in a network namespace other
// than self and returns it ("net:[…]"), "" if it never does.
func namespaceOf(pid int, self string) string {
	for range 200 {
		ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
		if err != nil {
			return ""
		}
		if ns != self {
			return ns
		}
		time.Sleep(5 * time.Millisecond)
	}
	return ""
}

// endNamespace kills every process still in network namespace ns: only this
// run's processes can be there (the namespace was made for it and has no
// link to any other). It returns what it found ("pid name").
func endNamespace(ns, self string) []string {
	if ns == "" || ns == self {
		return nil
	}
	var found []string
	for range 3 {
		procs := inNamespace(ns)
		if len(procs) == 0 {
			break
		}
		for pid, name := range procs {
			if len(found) < 20 {
				found = append(found, fmt.Sprintf("%d %s", pid, name))
			}
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(500 * time.Millisecond)
	}
	return found
}

func inNamespace(ns string) map[int]string {
	out := map[int]string{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if l, err := os.Readlink(d + "/ns/net"); err == nil && l == ns {
			comm, _ := os.ReadFile(d + "/comm")
			out[pid] = strings.TrimSpace(string(comm))
		}
	}
	return out
}

// prepareNamespace sets up the namespace Main made: it refuses any other
// (one with links besides lo), brings lo up, puts DNSTarget on it and
// bind-mounts a resolv.conf naming it over /etc/resolv.conf (in this mount
// namespace only). undo takes the resolv.conf away again when run returns.
func prepareNamespace() (undo func(), err error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("kindlab: list interfaces: %w", err)
	}
	for _, i := range ifaces {
		if i.Name != "lo" {
			return nil, fmt.Errorf("kindlab: refusing to run: interface %q exists, so this is not a namespace kindlab made", i.Name)
		}
	}
	if err := ip("link", "set", "lo", "up"); err != nil {
		return nil, err
	}
	if err := ip("addr", "add", DNSTarget+"/32", "dev", "lo"); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "dojo-kind-resolv-")
	if err != nil {
		return nil, err
	}
	undo = func() {
		_ = syscall.Unmount("/etc/resolv.conf", 0)
		_ = os.RemoveAll(dir)
	}
	conf := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(conf, []byte("nameserver "+DNSTarget+"\n"), 0o644); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := syscall.Mount(conf, "/etc/resolv.conf", "", syscall.MS_BIND, ""); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("kindlab: bind-mount resolv.conf: %w", err)
	}
	return undo, nil
}

func ip(args ...string) error {
	out, err := exec.Command(findTool("ip"), args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("kindlab: ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// findTool finds a command on PATH or in the sbin directories a non-root
// PATH may lack; the bare name when it is nowhere (the error says so).
func findTool(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return filepath.Join(dir, name)
		}
	}
	return name
}

// Network is what the host's network looks like: its links, its routes
// (every table) and its firewall rules, each as the tools print them,
// without counters.
type Network map[string]string

// What changes by itself: packet counters, an address lease's lifetimes.
var (
	counters  = regexp.MustCompile(`\[\d+:\d+\]`)
	lifetimes = regexp.MustCompile(`(valid|preferred)_lft \S+`)
)

// normalize drops from a line what changes by itself.
func normalize(line string) string {
	return lifetimes.ReplaceAllString(counters.ReplaceAllString(line, ""), "")
}

// HostNetwork reads this namespace's network (call it outside the test's
// namespace: the host's).
func HostNetwork() (Network, error) {
	n := Network{}
	for name, argv := range map[string][]string{
		"links":        {findTool("ip"), "-o", "link", "show"},
		"routes":       {findTool("ip"), "route", "show", "table", "all"},
		"routes (v6)":  {findTool("ip"), "-6", "route", "show", "table", "all"},
		"iptables":     {findTool("iptables-save")},
		"ip6tables":    {findTool("ip6tables-save")},
		"addresses":    {findTool("ip"), "-o", "addr", "show"},
		"rules (ipv4)": {findTool("ip"), "rule", "show"},
	} {
		out, err := exec.Command(argv[0], argv[1:]...).Output()
		if err != nil {
			if _, missing := err.(*exec.Error); missing && strings.Contains(name, "tables") {
				n[name] = "(not installed)"
				continue
			}
			return nil, fmt.Errorf("kindlab: reading the host's %s (%s): %w", name, strings.Join(argv, " "), err)
		}
		var keep []string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "#") || strings.TrimSpace(l) == "" {
				continue // iptables-save's dated comments
			}
			keep = append(keep, normalize(l))
		}
		n[name] = strings.Join(keep, "\n")
	}
	return n, nil
}

// Diff says what differs from before to after, "" when nothing does.
func (before Network) Diff(after Network) string {
	var b bytes.Buffer
	for name, was := range before {
		now := after[name]
		if was == now {
			continue
		}
		fmt.Fprintf(&b, "  %s before:\n    %s\n  %s after:\n    %s\n", name,
			strings.ReplaceAll(was, "\n", "\n    "), name, strings.ReplaceAll(now, "\n", "\n    "))
	}
	return b.String()
}
