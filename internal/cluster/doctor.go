package cluster

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/versions"
	"github.com/kubedojo/dojo/internal/workshop"
)

// DoctorOptions say what dojo doctor checks.
type DoctorOptions struct {
	Name   string
	Domain string
	Ports  []int
}

// DoctorEnv is the machine, injectable for tests.
type DoctorEnv struct {
	Preflight PreflightEnv
	// Run runs a tool and returns its combined output.
	Run func(ctx context.Context, name string, args ...string) (string, error)
	// Resolve looks a host name up (net.DefaultResolver.LookupHost in
	// production; tests never resolve anything outside).
	Resolve func(ctx context.Context, host string) ([]string, error)
	// Kubernetes is the version the cluster's node runs, which kubectl's
	// is judged against ("" = the version of dojo's node image).
	Kubernetes string
}

// SystemDoctorEnv is the real machine.
func SystemDoctorEnv(machine PreflightEnv) DoctorEnv {
	return DoctorEnv{
		Preflight: machine,
		Run: func(ctx context.Context, name string, args ...string) (string, error) {
			if _, err := exec.LookPath(name); err != nil {
				return "", err
			}
			out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
			return string(out), err
		},
		Resolve: net.DefaultResolver.LookupHost,
	}
}

// tool is a command-line tool the workshop's steps use.
type tool struct {
	name     string
	args     []string
	required bool
	install  string
}

func tools() []tool {
	return []tool{
		{"kubectl", []string{"version", "--client"}, true, "install it: https://kubernetes.io/docs/tasks/tools/"},
		{"helm", []string{"version", "--short"}, true, "install Helm 4: https://helm.sh/docs/intro/install/"},
		{"jq", []string{"--version"}, false, "install it (apt install jq, brew install jq): some steps pipe JSON through it"},
		{"curl", []string{"--version"}, true, "install it (apt install curl, brew install curl): the steps publish items with it"},
	}
}

// Doctor runs the preflight checks, then looks for the tools the steps use
// and whether producer.<domain> resolves to this machine.
func Doctor(ctx context.Context, o DoctorOptions, env DoctorEnv) []check.Result {
	checks := Preflight(PreflightOptions{Name: o.Name, Ports: o.Ports}, env.Preflight).Checks
	checks = append(checks, Tools(ctx, env)...)
	return append(checks, dnsCheck(ctx, env, o.Domain))
}

// Tools looks for the tools the steps use (kubectl, helm, jq, curl); each
// result's criterion is the tool's name.
func Tools(ctx context.Context, env DoctorEnv) []check.Result {
	var out []check.Result
	for _, t := range tools() {
		out = append(out, toolCheck(ctx, env, t))
	}
	return out
}

func toolCheck(ctx context.Context, env DoctorEnv, t tool) check.Result {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := env.Run(ctx, t.name, t.args...)
	if err != nil {
		st := check.Warn
		if t.required {
			st = check.Fail
		}
		return check.Result{Criterion: t.name, Status: st, Observed: fmt.Sprintf("%s not found or not working (%s)", t.name, FirstLine(err)),
			Expected: t.name + " on PATH, answering `" + t.name + " " + strings.Join(t.args, " ") + "`", Next: t.install}
	}
	v := versionOf(out)
	if t.name == "kubectl" {
		if r, ok := kubectlSkew(v, cmp.Or(env.Kubernetes, NodeKubernetes(versions.NodeImage))); ok {
			return r
		}
	}
	if t.name == "helm" {
		if st := helmStatus(v); st != check.Pass {
			return check.Result{Criterion: t.name, Status: st, Observed: "helm " + v,
				Expected: "Helm 4, which the steps are written for (Helm 3.22, supported until 2027-02-10, works with this warning)", Next: t.install}
		}
	}
	if !strings.HasPrefix(v, t.name) {
		v = t.name + " " + v
	}
	return check.Result{Criterion: t.name, Status: check.Pass, Observed: v}
}

// helmStatus judges a `helm version --short` answer: Helm 4 passes, Helm
// 3.22 (Helm 3's last feature release) is a warning, anything else fails.
func helmStatus(v string) check.Status {
	major, rest, _ := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	minor, _, _ := strings.Cut(rest, ".")
	switch {
	case major == "4":
		return check.Pass
	case major == "3" && minor == "22":
		return check.Warn
	default:
		return check.Fail
	}
}

// kubectlSkew judges kubectl's version against the node's Kubernetes: the
// version skew policy supports a kubectl within one minor version of the
// API server, older or newer. ok is false when kubectl is within it, or
// when either version cannot be read (then kubectl passes as found).
func kubectlSkew(client, server string) (check.Result, bool) {
	cMajor, cMinor, cok := majorMinor(client)
	sMajor, sMinor, sok := majorMinor(server)
	if !cok || !sok || (cMajor == sMajor && cMinor >= sMinor-1 && cMinor <= sMinor+1) {
		return check.Result{}, false
	}
	apart := "of another major version than"
	if cMajor == sMajor {
		d, way := cMinor-sMinor, "newer"
		if d < 0 {
			d, way = -d, "older"
		}
		apart = fmt.Sprintf("%d minor versions %s than", d, way)
	}
	return check.Result{Criterion: "kubectl", Status: check.Warn,
		Observed: fmt.Sprintf("kubectl %s is %s the cluster's Kubernetes %s", client, apart, server),
		Expected: fmt.Sprintf("kubectl v%d.%d to v%d.%d: Kubernetes supports a kubectl within one minor version of its API server", sMajor, sMinor-1, sMajor, sMinor+1),
		Next:     fmt.Sprintf("install kubectl v%d.%d: https://kubernetes.io/docs/tasks/tools/", sMajor, sMinor)}, true
}

// majorMinor reads "v1.37.2" (or "1.37", "v1.37.0-rc.1") as 1, 37.
func majorMinor(v string) (int, int, bool) {
	parts := strings.SplitN(strings.TrimPrefix(strings.TrimSpace(v), "v"), ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	return major, minor, err1 == nil && err2 == nil
}

// NodeKubernetes is the Kubernetes version a kind node image runs, from its
// tag: "kindest/node:v1.37.0@sha256:…" → "v1.37.0" ("" when it has no tag).
func NodeKubernetes(image string) string {
	ref, _, _ := strings.Cut(image, "@")
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return ""
	}
	return ref[i+1:]
}

// versionOf picks the version out of a tool's output: "Client Version:
// v1.37.2" → v1.37.2, "v4.3.1+g…" → v4.3.1+g…, "jq-1.7.1" → jq-1.7.1.
func versionOf(out string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	if _, v, ok := strings.Cut(line, "Version:"); ok {
		return strings.TrimSpace(v)
	}
	// curl: "curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/…" → "curl 7.88.1"
	line, _, _ = strings.Cut(line, " (")
	return strings.TrimSpace(line)
}

func dnsCheck(ctx context.Context, env DoctorEnv, domain string) check.Result {
	if domain == "" {
		domain = workshop.Domain
	}
	return ResolvesHere(ctx, env.Resolve, "producer."+domain)
}

// ResolvesHere checks that each host resolves to this machine (loopback
// addresses only), what the workshop's addresses need; the first host that
// does not is the warning, with what to do. A name under localhost passes
// without a lookup: curl and browsers send it to this machine whatever DNS
// says. resolve is net.DefaultResolver.LookupHost in production; dojo
// doctor and dojo up share this check.
func ResolvesHere(ctx context.Context, resolve func(context.Context, string) ([]string, error), hosts ...string) check.Result {
	const name = "dns"
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var seen []string
	for _, host := range hosts {
		if h := strings.ToLower(strings.TrimSuffix(host, ".")); h == "localhost" || strings.HasSuffix(h, ".localhost") {
			seen = append(seen, host+" is a .localhost name, which reaches this machine")
			continue
		}
		addrs, err := resolve(ctx, host)
		if err != nil || len(addrs) == 0 {
			why := "no address"
			if err != nil {
				why = FirstLine(err)
			}
			return check.Result{Criterion: name, Status: check.Warn, Observed: host + " does not resolve (" + why + ")", Expected: host + " resolves to this machine",
				Next: "use `dojo up --domain localhost` (*.localhost reaches this machine in curl and browsers)"}
		}
		for _, a := range addrs {
			ip := net.ParseIP(a)
			if ip == nil || !ip.IsLoopback() {
				return check.Result{Criterion: name, Status: check.Warn, Observed: fmt.Sprintf("%s resolves to %s, not to this machine", host, a), Expected: host + " resolves to this machine",
					Next: "use `dojo up --domain localhost`"}
			}
		}
		seen = append(seen, fmt.Sprintf("%s resolves to %s", host, strings.Join(addrs, ", ")))
	}
	return check.Result{Criterion: name, Status: check.Pass, Observed: strings.Join(seen, "; ")}
}

// FirstLine is the first line of err's message, for a one-line status.
func FirstLine(err error) string {
	line, _, _ := strings.Cut(strings.TrimSpace(err.Error()), "\n")
	return line
}
