package lab_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/kubedojo/dojo/internal/check/judge"
	"github.com/kubedojo/dojo/internal/diagnose"
	"github.com/kubedojo/dojo/internal/lab"
	"github.com/kubedojo/dojo/internal/workshop"
)

// diagnoseReport runs `dojo diagnose --json` on the lab.
func diagnoseReport(t *testing.T, l *lab.Lab, home string) diagnose.Report {
	t.Helper()
	out, errOut, code := runDojo(t, l, home, "diagnose", "--json")
	if code != 0 {
		t.Fatalf("dojo diagnose --json: exit %d\n%s%s", code, out, errOut)
	}
	var r diagnose.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("dojo diagnose --json: %v\n%s", err, out)
	}
	return r
}

func findingIDs(r diagnose.Report) []string {
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, f.ID)
	}
	return ids
}

func hasFinding(r diagnose.Report, id string) bool {
	for _, f := range r.Findings {
		if f.ID == id {
			return true
		}
	}
	return false
}

// diagnoseOnLab is dojo diagnose's proof on the real kube-controller-manager
// v1.37.2, from the state TestPipeline leaves: the consumer at 0 replicas
// and the HPA showing the sentinel.
func diagnoseOnLab(t *testing.T, l *lab.Lab, rdb *redis.Client) {
	cs := l.Client()
	home := t.TempDir()
	sentinel := "-9223372036854775808m"
	if runtime.GOARCH != "amd64" {
		t.Fatalf("the lab's proof of the sentinel is written for amd64, this is %s", runtime.GOARCH)
	}

	t.Run("f/dojo diagnose finds the sentinel in both API views and explains it", func(t *testing.T) {
		r := diagnoseReport(t, l, home)
		m := r.Metrics[0]
		if m.Anomaly != diagnose.MinInt64 || m.Current != "averageValue "+sentinel || m.CurrentV1 != "averageValue "+sentinel {
			t.Errorf("metric %+v, want the sentinel in the v2 status and the v1 annotation", m)
		}
		if r.ServerVersion != "v1.37.2" || r.Architecture != "amd64" || len(r.Nodes) != 1 || r.Nodes[0].Arch != "amd64" || r.Nodes[0].InfoArch != "amd64" {
			t.Errorf("version %s, architecture %s (%s), nodes %+v", r.ServerVersion, r.Architecture, r.ArchitectureFrom, r.Nodes)
		}
		f := r.Findings[0]
		if f.ID != diagnose.MinInt64 || f.Source == nil || f.Source.Line != 323 || f.Source.Function != "GetObjectPerPodMetricReplicas" ||
			f.Source.URL != "https://github.com/kubernetes/kubernetes/blob/v1.37.2/pkg/controller/podautoscaler/replica_calculator.go#L323" {
			t.Errorf("first finding %+v", f)
		}
		if !hasFinding(r, "scaled-to-zero") || r.Target.StatusReplicas != 0 {
			t.Errorf("findings %v, target %+v", findingIDs(r), r.Target)
		}
		out, _, code := runDojo(t, l, home, "diagnose")
		if code != 0 || !strings.Contains(out, "-9223372036854775808m in the Object metric redis_items_in_queue is not a") || !strings.Contains(out, "line 323 at") {
			t.Errorf("dojo diagnose: exit %d\n%s", code, out)
		}
	})

	// The claim "only the status is wrong", on the real controller: watch
	// every status it writes while 50 items arrive at zero replicas.
	t.Run("g/the sentinel sits beside a correct desired count", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		w, err := cs.AutoscalingV2().HorizontalPodAutoscalers(workshop.AppNamespace).Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", workshop.ConsumerRelease).String()})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if err := rdb.RPush(ctx, workshop.Queue, make([]any, 50)...).Err(); err != nil {
			t.Fatal(err)
		}
		var seen []string
		for ev := range w.ResultChan() {
			h, ok := ev.Object.(*autoscalingv2.HorizontalPodAutoscaler)
			if !ok || len(h.Status.CurrentMetrics) == 0 || h.Status.CurrentMetrics[0].Object == nil || h.Status.CurrentMetrics[0].Object.Current.AverageValue == nil {
				continue
			}
			avg := h.Status.CurrentMetrics[0].Object.Current.AverageValue.String()
			seen = append(seen, fmt.Sprintf("desired %d with %s", h.Status.DesiredReplicas, avg))
			if h.Status.DesiredReplicas > 0 {
				// ceil(50 items / 20 per replica) = 3, computed from the
				// total while the average divided by 0 replicas.
				if h.Status.DesiredReplicas != 3 || avg != sentinel {
					t.Errorf("the first status asking for replicas: desired %d with averageValue %s; want 3 with %s (seen: %v)", h.Status.DesiredReplicas, avg, sentinel, seen)
				}
				t.Logf("MEASURE statuses written: %v", seen)
				return
			}
		}
		t.Fatalf("no status asked for replicas within 90 s: %v\n%s", seen, l.Logs(10))
	})

	t.Run("h/with replicas above 0 dojo diagnose reports no anomaly", func(t *testing.T) {
		var r diagnose.Report
		eventually(t, l, "an HPA status written with replicas", time.Minute, func(context.Context) error {
			r = diagnoseReport(t, l, home)
			if r.Target.StatusReplicas == 0 || r.Metrics[0].Anomaly != "" {
				return fmt.Errorf("target %+v, metric %+v", r.Target, r.Metrics[0])
			}
			return nil
		})
		if !hasFinding(r, "no-anomaly") || hasFinding(r, diagnose.MinInt64) {
			t.Errorf("findings %v at %d replicas (%s)", findingIDs(r), r.Target.StatusReplicas, r.Metrics[0].Current)
		}
		// Back to zero for the next proofs.
		eventually(t, l, "consumer back at 0 replicas", 3*time.Minute, func(ctx context.Context) error {
			d, err := cs.AppsV1().Deployments(workshop.AppNamespace).Get(ctx, workshop.ConsumerRelease, metav1.GetOptions{})
			if err == nil && (d.Status.Replicas != 0 || *d.Spec.Replicas != 0) {
				err = fmt.Errorf("%d replicas", d.Status.Replicas)
			}
			return err
		})
	})

	setTarget := func(t *testing.T, target autoscalingv2.MetricTarget) {
		t.Helper()
		ctx := context.Background()
		h, err := cs.AutoscalingV2().HorizontalPodAutoscalers(workshop.AppNamespace).Get(ctx, workshop.ConsumerRelease, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		h.Spec.Metrics[0].Object.Target = target
		if _, err := cs.AutoscalingV2().HorizontalPodAutoscalers(workshop.AppNamespace).Update(ctx, h, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	twenty := resource.MustParse("20")

	t.Run("i/at zero replicas a Value target does not divide", func(t *testing.T) {
		setTarget(t, autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: &twenty})
		var r diagnose.Report
		eventually(t, l, "the controller's status for the Value target", time.Minute, func(context.Context) error {
			r = diagnoseReport(t, l, home)
			if m := r.Metrics[0]; !strings.HasPrefix(m.Current, "value ") {
				return fmt.Errorf("current %q", m.Current)
			}
			return nil
		})
		m := r.Metrics[0]
		if m.Divides || m.Anomaly != "" || m.Path != "GetObjectMetricReplicas" || m.Current != "value 0" || !hasFinding(r, "value-target") || !hasFinding(r, "no-anomaly") || r.Target.StatusReplicas != 0 {
			t.Errorf("metric %+v, findings %v, target %+v", m, findingIDs(r), r.Target)
		}
	})

	t.Run("j/type Value with averageValue is refused, in the controller's words", func(t *testing.T) {
		setTarget(t, autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, AverageValue: &twenty})
		var r diagnose.Report
		eventually(t, l, "the controller's refusal", time.Minute, func(context.Context) error {
			r = diagnoseReport(t, l, home)
			for _, c := range r.Conditions {
				if c.Type == string(autoscalingv2.ScalingActive) && c.Status == string(corev1.ConditionFalse) && strings.Contains(c.Message, judge.RefusedMessage) {
					return nil
				}
			}
			return fmt.Errorf("conditions %+v", r.Conditions)
		})
		if !r.Metrics[0].Refused || !hasFinding(r, "target-refused") {
			t.Errorf("metric %+v, findings %v", r.Metrics[0], findingIDs(r))
		}
	})
}
