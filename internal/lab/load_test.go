package lab_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubedojo/dojo/internal/lab"
	"github.com/kubedojo/dojo/internal/workshop"
)

// loadOnLab is dojo load's proof: while the HPA refuses its target (no
// consumer runs, nothing pops), the queue's length counts exactly what
// arrived; then the target is repaired and drain watches the consumers
// empty it.
func loadOnLab(t *testing.T, l *lab.Lab, rdb *redis.Client) {
	home := t.TempDir()
	ctx := context.Background()
	ingress, err := l.IngressAddr(ctx)
	if err != nil {
		t.Fatal(err)
	}
	length := func(t *testing.T) int64 {
		t.Helper()
		n, err := rdb.LLen(ctx, workshop.Queue).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("k/dojo load rate 20 --for 10s publishes 200 items through the Ingress", func(t *testing.T) {
		before := length(t)
		start := time.Now()
		out, errOut, code := runDojo(t, l, home, "load", "rate", "20", "--for", "10s", "--ingress-addr", ingress)
		took := time.Since(start)
		got := length(t) - before
		t.Logf("MEASURE dojo load rate 20 --for 10s: %d items arrived, %s; %s", got, took.Round(time.Millisecond), strings.TrimSpace(out))
		if code != 0 || got < 195 || got > 205 || !strings.Contains(out, "sent 200 of 200 items") || !strings.Contains(out, "through its Ingress (http://producer.localhost") {
			t.Errorf("exit %d, %d items arrived (want 200 ± 5)\n%s%s", code, got, out, errOut)
		}
		if took < 9*time.Second || took > 20*time.Second {
			t.Errorf("took %s for a 10 s plan", took)
		}
	})

	t.Run("l/without the Ingress dojo load falls back to the service proxy and says so", func(t *testing.T) {
		before := length(t)
		out, errOut, code := runDojo(t, l, home, "load", "burst", "50")
		got := length(t) - before
		if code != 0 || got != 50 || !strings.Contains(errOut, "publishing through the API server's proxy instead") || !strings.Contains(out, "through the API server's proxy to Service default/producer") {
			t.Errorf("exit %d, %d items arrived\n%s%s", code, got, out, errOut)
		}
		_, errOut, code = runDojo(t, l, home, "load", "burst", "many")
		if code != 2 || !strings.Contains(errOut, `burst size "many"`) {
			t.Errorf("burst many: exit %d\n%s", code, errOut)
		}
	})

	t.Run("m/dojo load drain waits for the consumers to empty the queue", func(t *testing.T) {
		cs := l.Client()
		h, err := cs.AutoscalingV2().HorizontalPodAutoscalers(workshop.AppNamespace).Get(ctx, workshop.ConsumerRelease, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		twenty := resource.MustParse("20")
		h.Spec.Metrics[0].Object.Target = autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &twenty}
		if _, err := cs.AutoscalingV2().HorizontalPodAutoscalers(workshop.AppNamespace).Update(ctx, h, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		waiting := length(t)
		start := time.Now()
		out, errOut, code := runDojo(t, l, home, "load", "drain", "--timeout", "4m")
		t.Logf("MEASURE dojo load drain of %d items: %s; %s", waiting, time.Since(start).Round(time.Millisecond), strings.TrimSpace(out))
		if code != 0 || length(t) != 0 || !strings.Contains(out, fmt.Sprintf("the queue is empty: %d items drained in", waiting)) || !strings.Contains(errOut, "draining at") {
			t.Errorf("exit %d, %d left\n%s%s", code, length(t), out, errOut)
		}
	})
}
