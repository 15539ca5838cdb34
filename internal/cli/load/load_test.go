package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubedojo/dojo/internal/load"
	"github.com/kubedojo/dojo/internal/ui"
)

type stepClock struct{ t time.Time }

func (c *stepClock) Now() time.Time { return c.t }
func (c *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	c.t = c.t.Add(d)
	return ctx.Err()
}

// The summary counts the items of a batch the producer answered 504 apart,
// "in doubt", and the run does not send them again.
func TestSummaryCountsItemsInDoubt(t *testing.T) {
	var requests, items atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/livez" {
			return
		}
		n, _ := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/publish/"), 10, 64)
		items.Add(n)
		if requests.Add(1) == 2 {
			w.WriteHeader(http.StatusGatewayTimeout)
			_, _ = w.Write([]byte(`{"error":"the items may or may not have been queued"}`))
		}
	}))
	defer srv.Close()
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
	io, _, out, _ := ui.Test(false, false)
	err := Run(context.Background(), &Options{
		Args: []string{"rate", "10"}, For: time.Second, Timeout: time.Minute,
		IngressAddr: strings.TrimPrefix(srv.URL, "http://"),
		IO:          io,
		Kube:        func() (kubernetes.Interface, error) { return cs, nil },
		Clock:       &stepClock{t: time.Unix(0, 0)},
		Connect: func(ctx context.Context, cs kubernetes.Interface, addr string) (load.Publisher, string, error) {
			p, err := load.Connect(ctx, cs, "default", "producer", 80, addr)
			if err != nil {
				return nil, "", err
			}
			return p, p.FellBack(), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "sent 9 of 10 items") || !strings.Contains(out.String(), "1 item in doubt") {
		t.Errorf("summary:\n%s\nwant 9 of 10 sent and 1 item in doubt", out)
	}
	if items.Load() != 10 {
		t.Errorf("the producer was asked for %d items, the plan has 10", items.Load())
	}
}
