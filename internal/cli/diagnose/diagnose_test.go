package diagnose

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/diagnose"
	"github.com/kubedojo/dojo/internal/testutil/golden"
	"github.com/kubedojo/dojo/internal/ui"
)

// cluster is a fake API server holding the workshop's HPA at zero
// replicas, as a kind cluster on amd64 serves it: the v1 view and the
// Deployment's scale answered by reactors (the fake tracker stores one
// version of an object and has no scale subresource).
func cluster(t *testing.T) kubernetes.Interface {
	sentinel := resource.MustParse("-9223372036854775808m")
	h := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "consumer"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "consumer"},
			MinReplicas:    ptr.To[int32](0), MaxReplicas: 20,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
				DescribedObject: autoscalingv2.CrossVersionObjectReference{APIVersion: "v1", Kind: "Service", Name: "prometheus-redis-exporter"},
				Metric:          autoscalingv2.MetricIdentifier{Name: "redis_items_in_queue"},
				Target:          autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr.To(resource.MustParse("20"))},
			}}},
		},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{
			CurrentMetrics: []autoscalingv2.MetricStatus{{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricStatus{
				Metric: autoscalingv2.MetricIdentifier{Name: "redis_items_in_queue"}, Current: autoscalingv2.MetricValueStatus{AverageValue: &sentinel}}}},
			Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.ScaledToZero, Status: corev1.ConditionTrue, Reason: "ScaledToZero", Message: "the HPA controller scaled the workload to zero"}},
		},
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "dojo-control-plane", Labels: map[string]string{corev1.LabelArchStable: "amd64", corev1.LabelOSStable: "linux"}},
		Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{Architecture: "amd64", OperatingSystem: "linux"}}}
	kcm := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kube-controller-manager-dojo-control-plane", Labels: map[string]string{"component": "kube-controller-manager"}},
		Spec: corev1.PodSpec{NodeName: "dojo-control-plane", Containers: []corev1.Container{{Name: "kube-controller-manager", Command: []string{
			"kube-controller-manager", "--horizontal-pod-autoscaler-sync-period=5s", "--horizontal-pod-autoscaler-downscale-stabilization=20s", "--leader-elect=true"}}}}}
	cs := fake.NewClientset(h, node, kcm)
	cs.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{GitVersion: "v1.37.0"}
	cs.PrependReactor("get", "horizontalpodautoscalers", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetResource().Version != "v1" {
			return false, nil, nil
		}
		return true, &autoscalingv1.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "consumer", Annotations: map[string]string{
			diagnose.V1MetricsAnnotation: `[{"type":"Object","object":{"target":{"kind":"Service","name":"prometheus-redis-exporter","apiVersion":"v1"},"metricName":"redis_items_in_queue","currentValue":"0","averageValue":"-9223372036854775808m"}}]`}}}, nil
	})
	cs.PrependReactor("get", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "scale" {
			return false, nil, nil
		}
		return true, &autoscalingv1.Scale{Spec: autoscalingv1.ScaleSpec{Replicas: 0}, Status: autoscalingv1.ScaleStatus{Replicas: 0}}, nil
	})
	return cs
}

func run(t *testing.T, opts Options) (string, error) {
	t.Helper()
	io, _, out, _ := ui.Test(false, false)
	opts.IO = io
	if opts.Kube == nil {
		cs := cluster(t)
		opts.Kube = func() (kubernetes.Interface, error) { return cs, nil }
	}
	if opts.Namespace == "" {
		opts.Namespace, opts.Name = "default", "consumer"
	}
	opts.Conversion = diagnose.NewConversion
	err := Run(context.Background(), &opts)
	return out.String(), err
}

// TestDiagnoseReadsTheClusterAndExplains: through the API as a kind cluster
// serves it, the report names the sentinel in both views, the line at the
// server's release, the node's architecture and the controller's flags.
func TestDiagnoseReadsTheClusterAndExplains(t *testing.T) {
	out, err := run(t, Options{})
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "consumer-at-zero.golden", []byte(out))
	js, err := run(t, Options{JSON: true})
	if err != nil {
		t.Fatal(err)
	}
	var r diagnose.Report
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatal(err)
	}
	m := r.Metrics[0]
	if m.Anomaly != diagnose.MinInt64 || m.CurrentV1 != "averageValue -9223372036854775808m" || r.Architecture != "amd64" ||
		r.Controller.SyncPeriod != "5s" || r.Findings[0].Source.Line != 323 || r.Findings[0].Source.Version != "v1.37.0" {
		t.Errorf("report: %s", js)
	}
}

func TestDiagnoseMissingHPA(t *testing.T) {
	_, err := run(t, Options{Namespace: "default", Name: "nope"})
	var nf *diagnose.NotFoundError
	if !errors.As(err, &nf) || cmdutil.ExitCode(err) != cmdutil.ExitError || !strings.Contains(err.Error(), "kubectl get hpa -A") {
		t.Errorf("err = %v", err)
	}
	empty := fake.NewClientset()
	_, err = run(t, Options{Kube: func() (kubernetes.Interface, error) { return empty, nil }})
	if err == nil || !strings.Contains(err.Error(), "no HorizontalPodAutoscaler consumer in namespace default: the consumer's HPA comes with step 9") {
		t.Errorf("err = %v", err)
	}
}

// TestExplainNeedsNoCluster: --explain never asks for the cluster.
func TestExplainNeedsNoCluster(t *testing.T) {
	out, err := run(t, Options{Explain: true, JSON: true, Kube: func() (kubernetes.Interface, error) {
		t.Fatal("--explain asked for the cluster")
		return nil, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	var c diagnose.Conversion
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	if c.Here.Arch == c.Other.Arch || c.Other.Arch == "" {
		t.Errorf("conversion %+v", c)
	}
}

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		name string
		bad  string
	}{
		{nil, "", ""},
		{[]string{"hpa"}, "", ""},
		{[]string{"hpa", "web"}, "web", ""},
		{[]string{"hpa/web"}, "web", ""},
		{[]string{"HorizontalPodAutoscaler", "web"}, "web", ""},
		{[]string{"pod", "web"}, "", `"pod" is not a kind dojo diagnoses`},
		{[]string{"web"}, "", `"web" is not an HPA reference`},
		{[]string{"hpa", "a", "b"}, "", "at most two arguments, got 3"},
	} {
		name, err := parseArgs(tc.args)
		switch {
		case tc.bad == "" && (err != nil || name != tc.name):
			t.Errorf("%q: %q, %v", tc.args, name, err)
		case tc.bad != "" && (err == nil || cmdutil.ExitCode(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), tc.bad)):
			t.Errorf("%q: err %v, want usage error %q", tc.args, err, tc.bad)
		}
	}
}
