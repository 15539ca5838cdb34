package load_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubedojo/dojo/internal/load"
)

// stubProducer is the producer's HTTP API as dojo load sees it: answer
// decides what each POST /publish/{n} gets, by the request's number.
type stubProducer struct {
	mu       sync.Mutex
	requests []int
	answer   func(req int, w http.ResponseWriter)
}

func (s *stubProducer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/livez" {
		// Not kept alive: a publish after the stub closed must dial (and be
		// refused) rather than write on a connection the stub closed.
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusOK)
		return
	}
	n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/publish/"))
	if err != nil || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, n)
	req := len(s.requests)
	s.mu.Unlock()
	s.answer(req, w)
}

func (s *stubProducer) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := 0
	for _, n := range s.requests {
		t += n
	}
	return t
}

// connectStub reaches h the way dojo load reaches the producer: through an
// Ingress whose host is resolved to the server's address.
func connectStub(t *testing.T, h http.Handler) *load.Producer {
	t.Helper()
	p, _ := connectStubServer(t, h)
	return p
}

func connectStubServer(t *testing.T, h http.Handler) (*load.Producer, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	prefix := networkingv1.PathTypePrefix
	cs := fake.NewClientset(&networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "producer"},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
			Host: "producer.test",
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: "producer", Port: networkingv1.ServiceBackendPort{Number: 80}},
				}}},
			}},
		}}},
	})
	p, err := load.Connect(context.Background(), cs, "default", "producer", 80, strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	if p.FellBack() != "" {
		t.Fatalf("the stub was not reached through the Ingress: %s", p.FellBack())
	}
	return p, srv
}

// A 504 from the producer (Redis did not answer after the items were sent)
// is in doubt: dojo load counts the batch apart and does not send it again,
// so the queue gets no duplicate. Before, it was resent at the next tick.
func TestInDoubtBatchIsNotResent(t *testing.T) {
	stub := &stubProducer{answer: func(req int, w http.ResponseWriter) {
		if req == 3 {
			w.WriteHeader(http.StatusGatewayTimeout)
			_, _ = w.Write([]byte(`{"error":"redis did not answer: the items may or may not have been queued"}`))
			return
		}
		_, _ = w.Write([]byte(`{"published":1}`))
	}}
	p := connectStub(t, stub)
	plan, _ := load.ParsePlan([]string{"rate", "20"}, 2*time.Second)
	r, err := load.Publish(context.Background(), p, plan, &fakeClock{t: time.Unix(0, 0)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := stub.total(); got != plan.Total() {
		t.Errorf("the producer was asked for %d items in all, the plan has %d: the in-doubt batch was sent again", got, plan.Total())
	}
	if r.InDoubt != 2 || r.Sent != plan.Total()-2 || len(r.Failures) != 1 || !strings.Contains(r.Failures[0], "may or may not") {
		t.Errorf("result %+v: want 2 items in doubt, the rest sent, the failure in words", r)
	}
}

// A request that left and whose answer never came is in doubt too; one
// that could not connect was never sent and is retried.
func TestLostAnswerIsInDoubtRefusedConnectionIsRetried(t *testing.T) {
	stub := &stubProducer{answer: func(req int, w http.ResponseWriter) {
		if req == 2 {
			c, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				c.Close() // the request was read; no answer
			}
			return
		}
		_, _ = w.Write([]byte(`{"published":1}`))
	}}
	p := connectStub(t, stub)
	err := p.Publish(context.Background(), 5)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Publish(context.Background(), 5)
	var doubt *load.InDoubtError
	if !errors.As(err, &doubt) {
		t.Fatalf("a request whose answer was lost: %v (%T), want an *InDoubtError", err, err)
	}

	// The producer gone: its port refuses connections.
	gone, srv := connectStubServer(t, &stubProducer{answer: func(int, http.ResponseWriter) {}})
	srv.Close()
	err = gone.Publish(context.Background(), 5)
	if err == nil || errors.As(err, &doubt) {
		t.Fatalf("a refused connection: %v, want a plain error (the batch is retried)", err)
	}
}
