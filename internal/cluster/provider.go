package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"
	kindexec "sigs.k8s.io/kind/pkg/exec"
)

// Provider is the part of kind dojo uses. KindProvider is the real one;
// tests use a stand-in.
type Provider interface {
	// Runtime names the container runtime ("docker", "podman", "nerdctl").
	Runtime() string
	// List returns the names of the clusters that exist.
	List() ([]string, error)
	// Create makes a cluster from a rendered kind configuration and waits
	// up to wait for its control plane. The cluster's kubeconfig is merged
	// into the user's kubeconfig, as kind does.
	Create(name string, config []byte, wait time.Duration) error
	// Delete removes the cluster's nodes and its kubeconfig entries.
	Delete(name string) error
	// KubeConfig returns the cluster's kubeconfig as seen from the host.
	KubeConfig(name string) (string, error)
	// NodeLabels returns the labels kind gave the cluster's first node
	// (read from the node itself, so it works before the API answers).
	NodeLabels(name string) (map[string]string, error)
	// NodeArch is the architecture of the cluster's nodes (uname -m).
	NodeArch(name string) (string, error)
	// ImageIDs returns, per node, the ID ("sha256:…") of image ref there,
	// "" where the node does not have it.
	ImageIDs(name, ref string) ([]string, error)
	// LoadImageArchive loads an image archive (docker save format) into
	// every node; open is called once per node.
	LoadImageArchive(name string, open func() (io.ReadCloser, error)) error
}

// Runtime is a container runtime kind can drive.
type Runtime struct {
	Name   string // docker, podman, nerdctl, finch, nerdctl.lima
	Binary string // the executable kind runs
}

// Host is how dojo looks at the machine: the environment and the PATH.
// Tests replace both; production uses os.Getenv and exec.LookPath.
type Host struct {
	Getenv   func(string) string
	LookPath func(string) (string, error)
	// Version runs "<binary> -v" and returns its first line.
	Version func(binary string) (string, error)
}

// SystemHost is the real machine.
func SystemHost(getenv func(string) string) Host {
	return Host{Getenv: getenv, LookPath: exec.LookPath, Version: runVersion}
}

func runVersion(binary string) (string, error) {
	out, err := exec.Command(binary, "-v").Output()
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line, nil
}

// ErrNoRuntime means no container runtime kind can use was found.
var ErrNoRuntime = errors.New("no container runtime found: install Docker (https://docs.docker.com/get-docker/) or Podman, then run dojo up again")

// DetectRuntime chooses the runtime as kind does: KIND_EXPERIMENTAL_PROVIDER
// first, then docker, nerdctl, podman, in that order, each only when its
// "-v" answers like that runtime.
func DetectRuntime(h Host) (Runtime, error) {
	switch p := h.Getenv("KIND_EXPERIMENTAL_PROVIDER"); p {
	case "docker", "podman":
		return Runtime{Name: p, Binary: p}, nil
	case "nerdctl", "finch", "nerdctl.lima":
		return Runtime{Name: "nerdctl", Binary: p}, nil
	}
	for _, c := range []struct{ name, prefix string }{
		{"docker", "Docker version"},
		{"nerdctl", "nerdctl version"},
		{"podman", "podman version"},
	} {
		if _, err := h.LookPath(c.name); err != nil {
			continue
		}
		line, err := h.Version(c.name)
		if err == nil && strings.HasPrefix(line, c.prefix) {
			return Runtime{Name: c.name, Binary: c.name}, nil
		}
	}
	return Runtime{}, ErrNoRuntime
}

// KindProvider drives kind's Go library.
type KindProvider struct {
	runtime Runtime
	p       *cluster.Provider
	// KubeconfigPath is where kind merges the cluster's kubeconfig ("" =
	// $KUBECONFIG or ~/.kube/config, like kind).
	KubeconfigPath string
}

// NewKindProvider returns kind's provider for the runtime.
func NewKindProvider(rt Runtime) *KindProvider {
	var opt cluster.ProviderOption
	switch rt.Name {
	case "podman":
		opt = cluster.ProviderWithPodman()
	case "nerdctl":
		opt = cluster.ProviderWithNerdctl(rt.Binary)
	default:
		opt = cluster.ProviderWithDocker()
	}
	return &KindProvider{runtime: rt, p: cluster.NewProvider(opt)}
}

// Runtime implements Provider.
func (k *KindProvider) Runtime() string { return k.runtime.Name }

// List implements Provider.
func (k *KindProvider) List() ([]string, error) {
	names, err := k.p.List()
	return names, explainRuntimeError(k.runtime.Name, err)
}

// Create implements Provider.
func (k *KindProvider) Create(name string, config []byte, wait time.Duration) error {
	err := k.p.Create(name,
		cluster.CreateWithRawConfig(config),
		cluster.CreateWithWaitForReady(wait),
		cluster.CreateWithKubeconfigPath(k.KubeconfigPath),
		cluster.CreateWithDisplayUsage(false),
		cluster.CreateWithDisplaySalutation(false),
	)
	return explainRuntimeError(k.runtime.Name, err)
}

// Delete implements Provider.
func (k *KindProvider) Delete(name string) error {
	return explainRuntimeError(k.runtime.Name, k.p.Delete(name, k.KubeconfigPath))
}

// KubeConfig implements Provider.
func (k *KindProvider) KubeConfig(name string) (string, error) {
	s, err := k.p.KubeConfig(name, false)
	return s, explainRuntimeError(k.runtime.Name, err)
}

// NodeLabels implements Provider: kind writes the configured labels into
// the node's kubeadm configuration (node-labels: "k=v,k2=v2").
func (k *KindProvider) NodeLabels(name string) (map[string]string, error) {
	nodes, err := k.p.ListInternalNodes(name)
	if err != nil {
		return nil, explainRuntimeError(k.runtime.Name, err)
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("cluster %q has no nodes", name)
	}
	var out bytes.Buffer
	if err := nodes[0].Command("cat", "/kind/kubeadm.conf").SetStdout(&out).Run(); err != nil {
		return nil, fmt.Errorf("reading node %s: %w (is it stopped? start it with `%s start %s`)", nodes[0].String(), explainRuntimeError(k.runtime.Name, err), k.runtime.Binary, nodes[0].String())
	}
	return parseNodeLabels(out.String()), nil
}

// parseNodeLabels finds the first node-labels value in a kubeadm config.
func parseNodeLabels(kubeadmConf string) map[string]string {
	labels := map[string]string{}
	lines := strings.Split(kubeadmConf, "\n")
	for i, l := range lines {
		t := strings.TrimSpace(l)
		var v string
		switch {
		case strings.HasPrefix(t, "node-labels:"): // v1beta3: map form
			v = strings.TrimSpace(strings.TrimPrefix(t, "node-labels:"))
		case strings.Contains(t, `name: "node-labels"`) || strings.Contains(t, "name: node-labels"):
			if i+1 < len(lines) {
				v = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(lines[i+1]), "value:"))
			}
		default:
			continue
		}
		for _, kv := range strings.Split(strings.Trim(v, `"'`), ",") {
			if key, val, ok := strings.Cut(kv, "="); ok {
				labels[strings.TrimSpace(key)] = strings.TrimSpace(val)
			}
		}
		return labels
	}
	return labels
}

// PortReader is a Provider that can say where a cluster's node publishes
// its ports on the host (KindProvider; a stand-in may not).
type PortReader interface {
	// PublishedAddresses lists the host addresses the first node's ports
	// are published on ("127.0.0.1", "0.0.0.0", "::").
	PublishedAddresses(name string) ([]string, error)
}

// PublishedAddresses implements PortReader with the runtime's own `port`
// command (docker, podman and nerdctl all have it).
func (k *KindProvider) PublishedAddresses(name string) ([]string, error) {
	out, err := exec.Command(k.runtime.Binary, "port", name+"-control-plane").Output()
	if err != nil {
		return nil, explainRuntimeError(k.runtime.Name, err)
	}
	return parsePortAddresses(string(out)), nil
}

// parsePortAddresses reads `docker port` lines ("80/tcp -> 127.0.0.1:80",
// "443/tcp -> [::]:443") into their host addresses, each once.
func parsePortAddresses(out string) []string {
	var addrs []string
	for _, line := range strings.Split(out, "\n") {
		_, hostPort, ok := strings.Cut(line, "->")
		if !ok {
			continue
		}
		hostPort = strings.TrimSpace(hostPort)
		i := strings.LastIndex(hostPort, ":")
		if i < 0 {
			continue
		}
		a := strings.Trim(hostPort[:i], "[]")
		if !slices.Contains(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	return addrs
}

// NodeArch implements Provider.
func (k *KindProvider) NodeArch(name string) (string, error) {
	nodes, err := k.p.ListInternalNodes(name)
	if err != nil {
		return "", explainRuntimeError(k.runtime.Name, err)
	}
	if len(nodes) == 0 {
		return "", fmt.Errorf("cluster %q has no nodes", name)
	}
	var out bytes.Buffer
	if err := nodes[0].Command("uname", "-m").SetStdout(&out).Run(); err != nil {
		return "", explainRuntimeError(k.runtime.Name, err)
	}
	return strings.TrimSpace(out.String()), nil
}

// ImageIDs implements Provider with kind's nodeutils.
func (k *KindProvider) ImageIDs(name, ref string) ([]string, error) {
	nodes, err := k.p.ListInternalNodes(name)
	if err != nil {
		return nil, explainRuntimeError(k.runtime.Name, err)
	}
	ids := make([]string, len(nodes))
	for i, n := range nodes {
		ids[i], _ = nodeutils.ImageID(n, ref) // an error means: not there
	}
	return ids, nil
}

// LoadImageArchive implements Provider with kind's nodeutils.
func (k *KindProvider) LoadImageArchive(name string, open func() (io.ReadCloser, error)) error {
	nodes, err := k.p.ListInternalNodes(name)
	if err != nil {
		return explainRuntimeError(k.runtime.Name, err)
	}
	for _, n := range nodes {
		r, err := open()
		if err != nil {
			return err
		}
		err = nodeutils.LoadImageArchive(n, r)
		r.Close()
		if err != nil {
			return fmt.Errorf("loading the image into node %s: %w", n.String(), explainRuntimeError(k.runtime.Name, err))
		}
	}
	return nil
}

// RuntimeNotRunningError is a runtime that is installed but whose daemon
// (or machine) does not answer.
type RuntimeNotRunningError struct {
	Runtime string
	Line    string // the runtime's own words, e.g. "Cannot connect to the Docker daemon …"
	Err     error
}

func (e *RuntimeNotRunningError) Error() string { return e.Message() + ": " + e.Fix() }

// Message says what is wrong, in the runtime's own words.
func (e *RuntimeNotRunningError) Message() string {
	return fmt.Sprintf("%s is installed but not running (%s)", titleRuntime(e.Runtime), e.Line)
}

// Fix says how to start the runtime.
func (e *RuntimeNotRunningError) Fix() string {
	switch e.Runtime {
	case "podman":
		return "start it with `podman machine start` (macOS/Windows) or `systemctl --user start podman.socket`"
	case "nerdctl":
		return "start containerd (`sudo systemctl start containerd`)"
	}
	return "start Docker Desktop, or on Linux `sudo systemctl start docker`"
}

func (e *RuntimeNotRunningError) Unwrap() error { return e.Err }

func titleRuntime(name string) string {
	switch name {
	case "docker":
		return "Docker"
	case "podman":
		return "Podman"
	}
	return name
}

// notRunningMarkers are the runtimes' own lines for "the daemon is down".
func notRunningMarkers() []string {
	return []string{
		"Cannot connect to the Docker daemon",
		"Is the docker daemon running",
		"Cannot connect to Podman",
		"unable to connect to Podman",
		"error during connect",
		"cannot access containerd socket",
		"failed to dial",
	}
}

// explainRuntimeError turns kind's "command … failed with error: exit status
// 1" (the useful line hidden in the *exec.RunError's Output, after a wall of
// JSON) into one clear line. Other errors pass through unchanged.
func explainRuntimeError(runtime string, err error) error {
	if err == nil {
		return nil
	}
	var re *kindexec.RunError
	if !errors.As(err, &re) {
		if r := kindexec.RunErrorForError(err); r != nil {
			re = r
		}
	}
	if re == nil {
		return err
	}
	for _, line := range strings.Split(string(re.Output), "\n") {
		line = strings.TrimSpace(line)
		for _, m := range notRunningMarkers() {
			if strings.Contains(line, m) {
				return &RuntimeNotRunningError{Runtime: runtime, Line: line, Err: err}
			}
		}
	}
	// Not a daemon problem: keep kind's error but add the runtime's last
	// output line, which is usually the reason.
	if last := lastLine(re.Output); last != "" && !strings.Contains(err.Error(), last) {
		return fmt.Errorf("%w: %s", err, last)
	}
	return err
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			if len(l) > 300 {
				l = l[:300] + "…"
			}
			return l
		}
	}
	return ""
}
