package lab

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// ingressStandInEnv marks a process the process kubelet started as the
// INGRESS STAND-IN (for the image traefik): the lab re-executes its own
// binary (the test binary, labrun) with it, and Main runs the stand-in
// instead of the program. Launchers start processes, so the stand-in is one:
// the kubelet restarts it, stops it with its Pod and logs it like any other.
const ingressStandInEnv = "DOJO_LAB_INGRESS_STANDIN"

// runAsIngressStandIn runs the stand-in when this process was started as
// one; ok is false otherwise.
func runAsIngressStandIn() (code int, ok bool) {
	if os.Getenv(ingressStandInEnv) != "1" {
		return 0, false
	}
	if err := runIngressStandIn(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "ingress stand-in:", err)
		return 1, true
	}
	return 0, true
}

// launchIngressStandIn stands in for docker.io/traefik: this binary, re-run
// as the ingress stand-in on the pod's address. It answers GET /ping on the
// container port named traefik (the chart's readiness probe) and proxies
// HTTP on the port named web — and on its hostPort, as the node's port 80
// (in the lab the pod's address is also its hostIP) — to the Services of the
// Ingresses of its class, by Host header and path. websecure is not served.
func launchIngressStandIn(l *Lab, in launchInput) (procSpec, error) {
	self, err := os.Executable()
	if err != nil {
		return procSpec{}, err
	}
	class := "traefik"
	for _, a := range in.args {
		if v, ok := strings.CutPrefix(a, "--providers.kubernetesingress.ingressClass="); ok {
			class = v
		}
	}
	args := []string{"-ip", in.ip, "-kubeconfig", l.kubeconfig, "-class", class}
	for _, p := range in.c.Ports {
		switch p.Name {
		case "traefik":
			args = append(args, "-ping", strconv.Itoa(int(p.ContainerPort)))
		case "web":
			args = append(args, "-web", strconv.Itoa(int(p.ContainerPort)))
			if p.HostPort != 0 {
				args = append(args, "-web", strconv.Itoa(int(p.HostPort)))
			}
		}
	}
	return procSpec{path: self, args: args, env: []string{ingressStandInEnv + "=1"}}, nil
}

// IngressStandInMain runs the INGRESS STAND-IN as a container's program on a
// real cluster (the image internal/lab/cmd/ingress-standin, which the kind
// tests load under Traefik's image name): it reads the arguments the Traefik
// chart gives Traefik (--entryPoints.NAME.address=:PORT/tcp for the entry
// points traefik and web, --providers.kubernetesingress.ingressClass) and
// reads the API with the pod's service account. It returns the exit code.
func IngressStandInMain(traefikArgs []string) int {
	args := []string{"-class", "traefik"}
	for _, a := range traefikArgs {
		if v, ok := strings.CutPrefix(a, "--providers.kubernetesingress.ingressClass="); ok {
			args = append(args, "-class", v)
		}
		rest, ok := strings.CutPrefix(a, "--entryPoints.")
		name, addr, ok2 := strings.Cut(rest, ".address=")
		if !ok || !ok2 {
			continue
		}
		port := strings.TrimPrefix(strings.TrimSuffix(addr, "/tcp"), ":")
		switch name {
		case "traefik":
			args = append(args, "-ping", port)
		case "web":
			args = append(args, "-web", port)
		}
	}
	if err := runIngressStandIn(args); err != nil {
		fmt.Fprintln(os.Stderr, "ingress stand-in:", err)
		return 1
	}
	return 0
}

type portList []string

func (p *portList) String() string     { return strings.Join(*p, ",") }
func (p *portList) Set(v string) error { *p = append(*p, v); return nil }

func runIngressStandIn(argv []string) error {
	fs := flag.NewFlagSet("ingress-standin", flag.ContinueOnError)
	ip := fs.String("ip", "", "address to listen on")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the lab (none: the pod's service account)")
	class := fs.String("class", "traefik", "IngressClass served")
	ping := fs.String("ping", "8080", "port of /ping")
	var web portList
	fs.Var(&web, "web", "port of the web entry point (repeatable)")
	if err := fs.Parse(argv); err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	r := &ingressRouter{cs: cs, class: *class}
	pingMux := http.NewServeMux()
	pingMux.HandleFunc("/ping", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "OK") })
	servers := map[string]http.Handler{*ping: pingMux}
	for _, p := range web {
		servers[p] = r
	}
	errc := make(chan error, len(servers))
	for port, h := range servers {
		ln, err := net.Listen("tcp", net.JoinHostPort(*ip, port))
		if err != nil {
			return err
		}
		log.Printf("lab ingress stand-in (for traefik, class %s) listening on %s", *class, ln.Addr())
		go func() { errc <- (&http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}).Serve(ln) }()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case s := <-sig:
		log.Printf("%v: stopping", s)
		return nil
	case err := <-errc:
		return err
	}
}

// ingressRouter routes a request as an ingress controller does: the rule
// whose host equals the request's Host and whose path is the longest prefix,
// among the Ingresses of its class (or without a class: the stand-in's class
// is the default one), to a ready endpoint of the backend Service. It reads
// the API server on every request (the lab is small; no cache to go stale).
type ingressRouter struct {
	cs    kubernetes.Interface
	class string
}

func (r *ingressRouter) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	target, err := r.route(req.Context(), req)
	if err != nil {
		log.Printf("%s %s%s: %v", req.Method, req.Host, req.URL.Path, err)
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	log.Printf("%s %s%s → %s", req.Method, req.Host, req.URL.Path, target)
	httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, req)
}

func (r *ingressRouter) route(ctx context.Context, req *http.Request) (*url.URL, error) {
	host := req.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ings, err := r.cs.NetworkingV1().Ingresses("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	type match struct {
		ns      string
		path    string
		backend networkingv1.IngressServiceBackend
	}
	var ms []match
	for _, ing := range ings.Items {
		if c := ing.Spec.IngressClassName; c != nil && *c != r.class {
			continue
		}
		for _, rule := range ing.Spec.Rules {
			if rule.Host != "" && !strings.EqualFold(rule.Host, host) || rule.HTTP == nil {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				prefix := p.Path
				if prefix == "" {
					prefix = "/"
				}
				ok := strings.HasPrefix(req.URL.Path, prefix)
				if p.PathType != nil && *p.PathType == networkingv1.PathTypeExact {
					ok = req.URL.Path == prefix
				}
				if ok && p.Backend.Service != nil {
					ms = append(ms, match{ing.Namespace, prefix, *p.Backend.Service})
				}
			}
		}
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("no Ingress of class %s for host %q", r.class, host)
	}
	sort.SliceStable(ms, func(i, j int) bool { return len(ms[i].path) > len(ms[j].path) })
	m := ms[0]
	addr, err := r.endpoint(ctx, m.ns, m.backend)
	if err != nil {
		return nil, err
	}
	return &url.URL{Scheme: "http", Host: addr}, nil
}

// endpoint maps a Service port (by number or name) to a ready endpoint's
// address and port, from the Service's EndpointSlices.
func (r *ingressRouter) endpoint(ctx context.Context, ns string, b networkingv1.IngressServiceBackend) (string, error) {
	svc, err := r.cs.CoreV1().Services(ns).Get(ctx, b.Name, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	var sp *corev1.ServicePort
	for i, p := range svc.Spec.Ports {
		if b.Port.Name != "" && p.Name == b.Port.Name || b.Port.Name == "" && p.Port == b.Port.Number {
			sp = &svc.Spec.Ports[i]
		}
	}
	if sp == nil {
		return "", fmt.Errorf("Service %s/%s has no port %v", ns, b.Name, b.Port)
	}
	slices, err := r.cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + b.Name})
	if err != nil {
		return "", err
	}
	for _, s := range slices.Items {
		port := 0
		for _, p := range s.Ports {
			if p.Port != nil && (p.Name == nil && sp.Name == "" || p.Name != nil && *p.Name == sp.Name) {
				port = int(*p.Port)
			}
		}
		if port == 0 {
			continue
		}
		for _, ep := range s.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready || len(ep.Addresses) == 0 {
				continue
			}
			return net.JoinHostPort(ep.Addresses[0], strconv.Itoa(port)), nil
		}
	}
	return "", errors.New("Service " + ns + "/" + b.Name + " has no ready endpoint")
}
