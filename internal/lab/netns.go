package lab

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/kubedojo/dojo/internal/helm"
)

// NamespaceEnv marks a process that runs inside the network namespace the lab
// made for it. Reexec sets it; code that adds addresses checks it.
const NamespaceEnv = "DOJO_LAB_NETNS"

// InNamespace reports whether this process runs in a network namespace made by
// Reexec.
func InNamespace() bool { return os.Getenv(NamespaceEnv) == "1" }

// Reexec runs this same program again (same arguments, same environment plus
// NamespaceEnv=1) inside a fresh network namespace, waits for it and returns
// its exit status. As root it uses `unshare --net`; otherwise `unshare --user
// --map-root-user --net`. The namespace dies with the child, and with it every
// address the lab added. An error means no namespace could be made: callers
// fail loudly, they never skip.
func Reexec() (int, error) {
	if InNamespace() {
		return 0, errors.New("lab: already inside the lab's network namespace")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return 0, fmt.Errorf("lab: unshare (util-linux) not found: %w; run `make test-deps`", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("lab: own executable: %w", err)
	}
	candidates := [][]string{{"--user", "--map-root-user", "--net"}}
	if os.Geteuid() == 0 {
		candidates = append([][]string{{"--net"}}, candidates...)
	}
	var flags, refusals []string
	for _, c := range candidates {
		out, err := exec.Command(unshare, append(c, "--", "true")...).CombinedOutput()
		if err != nil {
			refusals = append(refusals, fmt.Sprintf("unshare %s: %v: %s", strings.Join(c, " "), err, strings.TrimSpace(string(out))))
			continue
		}
		flags = c
		break
	}
	if flags == nil {
		return 0, fmt.Errorf("lab: cannot create a network namespace: %s", strings.Join(refusals, "; "))
	}
	// --fork --kill-child: the program is the namespace's only user, and dies
	// if unshare is killed.
	args := append(append([]string{}, flags...), "--fork", "--kill-child", "--", exe)
	tmp, err := NewRunTemp("lab")
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(unshare, append(args, os.Args[1:]...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), NamespaceEnv+"=1", tmp.Env())
	// This process must outlive the child to report what it left: Ctrl-C
	// reaches the child from the terminal anyway, SIGTERM is passed on.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		tmp.Finish(os.Stderr, 1)
		return 0, fmt.Errorf("lab: re-exec under unshare: %w", err)
	}
	go func() {
		for s := range sigs {
			if s == syscall.SIGTERM {
				_ = cmd.Process.Signal(s)
			}
		}
	}()
	err = cmd.Wait()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		tmp.Finish(os.Stderr, 1)
		return 0, fmt.Errorf("lab: re-exec under unshare: %w", err)
	}
	tmp.Finish(os.Stderr, code)
	return code, nil
}

// checkNamespace refuses to touch a network namespace the lab did not make:
// inside its own there is only the loopback interface.
func checkNamespace() error {
	if !InNamespace() {
		return fmt.Errorf("lab: not inside the lab's network namespace (%s is not 1); a test's TestMain must call lab.Reexec (see docs/lab.md)", NamespaceEnv)
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("lab: list interfaces: %w", err)
	}
	for _, i := range ifaces {
		if i.Name != "lo" {
			return fmt.Errorf("lab: refusing to run: interface %q exists, so this is not a namespace the lab made", i.Name)
		}
	}
	return nil
}

// bringUpLoopback sets lo up in the lab's namespace.
func bringUpLoopback() error {
	if err := checkNamespace(); err != nil {
		return err
	}
	return ipCmd("link", "set", "lo", "up")
}

// addAddress puts ip/32 on lo inside the lab's namespace.
func addAddress(ip string) error {
	if err := checkNamespace(); err != nil {
		return err
	}
	return ipCmd("addr", "add", ip+"/32", "dev", "lo")
}

// delAddress takes ip/32 off lo again.
func delAddress(ip string) error {
	if err := checkNamespace(); err != nil {
		return err
	}
	return ipCmd("addr", "del", ip+"/32", "dev", "lo")
}

func ipCmd(args ...string) error {
	ipPath, err := exec.LookPath("ip")
	if err != nil {
		for _, p := range []string{"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip"} {
			if _, statErr := os.Stat(p); statErr == nil {
				ipPath, err = p, nil
				break
			}
		}
		if err != nil {
			return fmt.Errorf("lab: ip (iproute2) not found; run `make test-deps`")
		}
	}
	out, err := exec.Command(ipPath, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("lab: ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Main is the entry point of every program that uses the lab (a test
// binary's TestMain, labrun): it plays the role the lab started this binary
// for (the ingress stand-in), or re-executes the program inside a network
// namespace of its own, or, already inside one, calls run. It returns the
// exit code.
func Main(run func() int) int {
	// The lab installs through the product's installer: it applies as dojo
	// and the Helm CLI do.
	helm.UseHelmFieldManager()
	if code, ok := runAsIngressStandIn(); ok {
		return code
	}
	if !InNamespace() {
		code, err := Reexec()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return code
	}
	return run()
}
