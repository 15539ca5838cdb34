package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Producer reaches the workshop's producer: through its Ingress (as a
// learner's curl does) when that answers, else through the API server's
// service proxy.
type Producer struct {
	cs        kubernetes.Interface
	ns, svc   string
	port      int
	http      *http.Client
	ingress   string // the Ingress's host, "" when the proxy is used
	addr      string // where port 80 is
	fellBack  string // why the proxy is used
	proxyPath string
}

// Connect finds the producer's Ingress in ns (a rule whose backend is
// Service svc) and tries it at addr ("127.0.0.1:80" when empty); the
// service proxy is the fallback. It fails only when neither answers.
func Connect(ctx context.Context, cs kubernetes.Interface, ns, svc string, port int, addr string) (*Producer, error) {
	if addr == "" {
		addr = "127.0.0.1:80"
	}
	d := &net.Dialer{Timeout: 2 * time.Second}
	p := &Producer{cs: cs, ns: ns, svc: svc, port: port, addr: addr,
		proxyPath: fmt.Sprintf("/api/v1/namespaces/%s/services/http:%s:%d/proxy", ns, svc, port),
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, addr)
			},
		}}}
	host, err := ingressHost(ctx, cs, ns, svc)
	switch {
	case err != nil:
		p.fellBack = "the Ingresses could not be listed: " + err.Error()
	case host == "":
		p.fellBack = fmt.Sprintf("no Ingress in %s routes to Service %s", ns, svc)
	default:
		code, body, err := p.viaIngress(ctx, host, http.MethodGet, "/livez")
		if err == nil && code == http.StatusOK {
			p.ingress = host
			return p, nil
		}
		p.fellBack = fmt.Sprintf("http://%s/livez at %s answered %s", host, addr, answer(code, body, err))
	}
	code, body, err := p.viaProxy(ctx, http.MethodGet, "/livez")
	if err != nil || code != http.StatusOK {
		return nil, fmt.Errorf("the producer answers neither through its Ingress (%s) nor through the API server's proxy to Service %s/%s (%s): dojo check step-2", p.fellBack, ns, svc, answer(code, body, err))
	}
	return p, nil
}

func answer(code int, body string, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("HTTP %d %s", code, strings.TrimSpace(body))
}

// FellBack says why the service proxy is used ("" when the Ingress is).
func (p *Producer) FellBack() string { return p.fellBack }

// Via says how the producer is reached.
func (p *Producer) Via() string {
	if p.ingress != "" {
		return fmt.Sprintf("its Ingress (http://%s at %s)", p.ingress, p.addr)
	}
	return fmt.Sprintf("the API server's proxy to Service %s/%s", p.ns, p.svc)
}

func ingressHost(ctx context.Context, cs kubernetes.Interface, ns, svc string) (string, error) {
	list, err := cs.NetworkingV1().Ingresses(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", err
	}
	for _, in := range list.Items {
		for _, r := range in.Spec.Rules {
			if r.HTTP == nil || r.Host == "" {
				continue
			}
			for _, path := range r.HTTP.Paths {
				if path.Backend.Service != nil && path.Backend.Service.Name == svc {
					return r.Host, nil
				}
			}
		}
	}
	return "", nil
}

func (p *Producer) viaIngress(ctx context.Context, host, method, path string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+host+path, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, string(b), nil
}

func (p *Producer) viaProxy(ctx context.Context, method, path string) (int, string, error) {
	res := p.cs.CoreV1().RESTClient().Verb(method).AbsPath(p.proxyPath + path).Do(ctx)
	body, err := res.Raw()
	var code int
	res.StatusCode(&code)
	if code != 0 {
		err = nil
	}
	return code, string(body), err
}

func (p *Producer) do(ctx context.Context, method, path string) (int, string, error) {
	if p.ingress != "" {
		return p.viaIngress(ctx, p.ingress, method, path)
	}
	return p.viaProxy(ctx, method, path)
}

// Publish pushes n items (POST /publish/{n}). The producer's 504, and a
// request that left without an answer coming back, are *InDoubtError: the
// items may be queued already.
func (p *Producer) Publish(ctx context.Context, n int) error {
	code, body, err := p.do(ctx, http.MethodPost, fmt.Sprintf("/publish/%d", n))
	switch {
	case err != nil && ctx.Err() == nil && !neverSent(err):
		return &InDoubtError{Detail: err.Error()}
	case err != nil:
		return err
	case code == http.StatusOK:
		return nil
	case code == http.StatusGatewayTimeout:
		return &InDoubtError{Code: code, Detail: strings.TrimSpace(body)}
	case code >= 400 && code < 500:
		return &RefusedError{Code: code, Body: strings.TrimSpace(body)}
	}
	return fmt.Errorf("HTTP %d: %s", code, strings.TrimSpace(body))
}

// neverSent reports whether err proves the request never reached the
// producer: the connection could not be made (refused, unreachable, a name
// that does not resolve, no free connection). Anything later may have been
// acted on.
func neverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// Queue reads the queue's length (GET /queue).
func (p *Producer) Queue(ctx context.Context) (int64, error) {
	code, body, err := p.do(ctx, http.MethodGet, "/queue")
	if err != nil {
		return 0, err
	}
	if code != http.StatusOK {
		return 0, fmt.Errorf("GET /queue answered HTTP %d: %s", code, strings.TrimSpace(body))
	}
	var q struct {
		Length *int64 `json:"length"`
	}
	if err := json.Unmarshal([]byte(body), &q); err != nil || q.Length == nil {
		return 0, fmt.Errorf("GET /queue answered %q", strings.TrimSpace(body))
	}
	return *q.Length, nil
}
