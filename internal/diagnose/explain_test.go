package diagnose_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kubedojo/dojo/internal/check/judge"
	"github.com/kubedojo/dojo/internal/diagnose"
	"github.com/kubedojo/dojo/internal/testutil/golden"
	"github.com/kubedojo/dojo/internal/ui"
)

// hpa is the workshop's step-10 HPA with the given target and status.
func hpa(t autoscalingv2.MetricTarget, current autoscalingv2.MetricValueStatus, currentReplicas, desired int32, conds ...autoscalingv2.HorizontalPodAutoscalerCondition) *autoscalingv2.HorizontalPodAutoscaler {
	obj := autoscalingv2.ObjectMetricSource{
		DescribedObject: autoscalingv2.CrossVersionObjectReference{APIVersion: "v1", Kind: "Service", Name: "prometheus-redis-exporter"},
		Metric:          autoscalingv2.MetricIdentifier{Name: "redis_items_in_queue", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"key": "padok"}}},
		Target:          t,
	}
	h := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "consumer"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "consumer"},
			MinReplicas:    ptr.To[int32](0), MaxReplicas: 20,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ObjectMetricSourceType, Object: &obj}},
		},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: currentReplicas, DesiredReplicas: desired, Conditions: conds},
	}
	if current != (autoscalingv2.MetricValueStatus{}) {
		h.Status.CurrentMetrics = []autoscalingv2.MetricStatus{{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricStatus{
			DescribedObject: obj.DescribedObject, Metric: obj.Metric, Current: current}}}
	}
	return h
}

func cond(typ autoscalingv2.HorizontalPodAutoscalerConditionType, status corev1.ConditionStatus, reason, msg string) autoscalingv2.HorizontalPodAutoscalerCondition {
	return autoscalingv2.HorizontalPodAutoscalerCondition{Type: typ, Status: status, Reason: reason, Message: msg}
}

func q(s string) *resource.Quantity { v := resource.MustParse(s); return &v }

var (
	averageValue20 = autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q("20")}
	atZero         = []autoscalingv2.HorizontalPodAutoscalerCondition{
		cond(autoscalingv2.AbleToScale, corev1.ConditionTrue, "ReadyForNewScale", "recommended size matches current size"),
		cond(autoscalingv2.ScalingActive, corev1.ConditionTrue, "ValidMetricFound", "the HPA was able to successfully calculate a replica count from Service metric redis_items_in_queue"),
		cond(autoscalingv2.ScalingLimited, corev1.ConditionFalse, "DesiredWithinRange", "the desired count is within the acceptable range"),
		cond(autoscalingv2.ScaledToZero, corev1.ConditionTrue, "ScaledToZero", "the HPA controller scaled the workload to zero"),
	}
)

// kind is a dojo cluster: one node of arch running the controller with
// dojo's flags, at version.
func kind(h *autoscalingv2.HorizontalPodAutoscaler, arch, version string, specReplicas, statusReplicas int32, v1 string) diagnose.Facts {
	return diagnose.Facts{
		Namespace: "default", Name: "consumer", HPA: h, V1CurrentMetrics: v1,
		Target:          diagnose.Target{Kind: "Deployment", Name: "consumer", Found: true, SpecReplicas: specReplicas, StatusReplicas: statusReplicas},
		Nodes:           []diagnose.Node{{Name: "dojo-control-plane", Arch: arch, InfoArch: arch, OS: "linux"}},
		ControllerNode:  "dojo-control-plane",
		ControllerFlags: map[string]string{"horizontal-pod-autoscaler-sync-period": "5s", "horizontal-pod-autoscaler-downscale-stabilization": "20s"},
		ServerVersion:   version,
	}
}

const v1Sentinel = `[{"type":"Object","object":{"target":{"kind":"Service","name":"prometheus-redis-exporter","apiVersion":"v1"},"metricName":"redis_items_in_queue","currentValue":"0","selector":{"matchLabels":{"key":"padok"}},"averageValue":"-9223372036854775808m"}}]`

func TestExplain(t *testing.T) {
	for _, tc := range []struct {
		name     string
		facts    diagnose.Facts
		anomaly  string
		findings []string
		// in the text at 80 columns
		says []string
	}{{
		name:     "amd64-at-zero",
		facts:    kind(hpa(averageValue20, autoscalingv2.MetricValueStatus{AverageValue: q("-9223372036854775808m")}, 0, 0, atZero...), "amd64", "v1.37.0", 0, 0, v1Sentinel),
		anomaly:  diagnose.MinInt64,
		findings: []string{diagnose.MinInt64, "scaled-to-zero"},
		says: []string{"replica_calculator.go line 323 at v1.37.0, in GetObjectPerPodMetricReplicas",
			"https://github.com/kubernetes/kubernetes/blob/v1.37.0/pkg/controller/podautoscaler/replica_calculator.go#L323",
			"kubernetes/kubernetes/issues/140956", "617064d7327bf455955cb785d57330c425d48b51",
			"autoscaling/v1", "On arm64 nodes the same statement gives 0 for an empty queue and 9223372036854775807m"},
	}, {
		name: "arm64-items-waiting",
		facts: kind(hpa(averageValue20, autoscalingv2.MetricValueStatus{AverageValue: q("9223372036854775807m")}, 0, 3,
			cond(autoscalingv2.ScalingActive, corev1.ConditionTrue, "ValidMetricFound", "the HPA was able to successfully calculate a replica count from Service metric redis_items_in_queue")), "arm64", "v1.37.2", 0, 0, ""),
		anomaly:  diagnose.MaxInt64,
		findings: []string{diagnose.MaxInt64},
		says:     []string{"saturates to 9223372036854775807", "this HPA wants 3 replica(s)", "On amd64 nodes the same statement gives -9223372036854775808m"},
	}, {
		name:     "arm64-empty",
		facts:    kind(hpa(averageValue20, autoscalingv2.MetricValueStatus{AverageValue: q("0")}, 0, 0, atZero...), "arm64", "v1.37.0", 0, 0, ""),
		anomaly:  diagnose.NaNZero,
		findings: []string{diagnose.NaNZero, "scaled-to-zero"},
		says:     []string{"the 0 of the Object metric redis_items_in_queue at zero replicas is not a measured average"},
	}, {
		name: "scaled-up",
		facts: kind(hpa(averageValue20, autoscalingv2.MetricValueStatus{AverageValue: q("16667m")}, 3, 3,
			cond(autoscalingv2.AbleToScale, corev1.ConditionTrue, "ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation")), "amd64", "v1.37.2", 3, 3, ""),
		findings: []string{"scale-down-stabilized", "no-anomaly"},
		says:     []string{"20s (kube-controller-manager flags)", "no anomaly"},
	}, {
		name: "value-target-at-zero",
		facts: kind(hpa(autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: q("20")}, autoscalingv2.MetricValueStatus{Value: q("0")}, 0, 0, atZero...),
			"amd64", "v1.37.2", 0, 0, ""),
		findings: []string{"scaled-to-zero", "value-target", "no-anomaly"},
		says:     []string{"never divided by replicas", "not divided (GetObjectMetricReplicas)"},
	}, {
		name: "value-with-averagevalue-refused",
		facts: kind(hpa(autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, AverageValue: q("20")}, autoscalingv2.MetricValueStatus{}, 1, 1,
			cond(autoscalingv2.ScalingActive, corev1.ConditionFalse, "FailedGetObjectMetric", "the HPA was unable to compute the replica count: "+judge.RefusedMessage)), "amd64", "v1.37.2", 1, 1, ""),
		findings: []string{"target-refused"},
		says:     []string{"refused by the controller", "set target.type: AverageValue"},
	}, {
		name: "metric-unavailable-outside-table",
		facts: func() diagnose.Facts {
			f := kind(hpa(averageValue20, autoscalingv2.MetricValueStatus{AverageValue: q("-9223372036854775808m")}, 0, 0,
				cond(autoscalingv2.ScalingActive, corev1.ConditionFalse, "FailedGetObjectMetric", `the HPA was unable to compute the replica count: unable to get metric redis_items_in_queue: Service on default prometheus-redis-exporter/unable to fetch metrics from custom metrics API: the server could not find the metric redis_items_in_queue for services prometheus-redis-exporter`)),
				"amd64", "v1.38.1", 0, 0, v1Sentinel)
			f.ControllerNode, f.ControllerFlags = "", nil
			return f
		}(),
		anomaly:  diagnose.MinInt64,
		findings: []string{diagnose.MinInt64, "metric-unavailable"},
		says:     []string{"v1.38.1 is not in dojo's table (v1.30.0 to v1.37.2): look for GetObjectPerPodMetricReplicas", "blob/master/pkg", "Kubernetes defaults", "dojo check step-8"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			r := diagnose.Explain(tc.facts)
			if got := r.Metrics[0].Anomaly; got != tc.anomaly {
				t.Errorf("anomaly %q, want %q", got, tc.anomaly)
			}
			var ids []string
			for _, f := range r.Findings {
				ids = append(ids, f.ID)
			}
			if !slices.Equal(ids, tc.findings) {
				t.Errorf("findings %v, want %v", ids, tc.findings)
			}
			var out bytes.Buffer
			diagnose.Text(&out, ui.NewStyles(false), 80, r)
			for _, s := range tc.says {
				if !strings.Contains(strings.Join(strings.Fields(out.String()), " "), s) {
					t.Errorf("the text does not say %q", s)
				}
			}
			for i, l := range strings.Split(out.String(), "\n") {
				if n := len([]rune(l)); n > 80 && !strings.HasPrefix(strings.TrimSpace(l), "https://") {
					t.Errorf("line %d is %d columns: %q", i+1, n, l)
				}
			}
			golden.Check(t, tc.name+".golden", out.Bytes())
			var js bytes.Buffer
			if err := diagnose.JSON(&js, r); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, tc.name+".json", js.Bytes())
		})
	}
}

func TestConversionText(t *testing.T) {
	c := diagnose.NewConversion()
	var out bytes.Buffer
	diagnose.TextConversion(&out, ui.NewStyles(false), 80, c)
	if c.Here.Arch != "amd64" || c.Here.ZeroByZero != -9223372036854775808 {
		t.Fatalf("this machine measured %+v", c.Here)
	}
	golden.Check(t, "explain-amd64.golden", out.Bytes())
}
