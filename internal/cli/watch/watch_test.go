package watch

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/prom"
	"github.com/kubedojo/dojo/internal/ui"
	"github.com/kubedojo/dojo/internal/watch"
)

type queue struct{}

func (queue) Query(context.Context, string) ([]prom.Sample, error) {
	return []prom.Sample{{Value: 42}}, nil
}

func cluster() kubernetes.Interface {
	cs := fake.NewClientset(
		&autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "consumer"},
			Spec:   autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 20, ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "consumer"}},
			Status: autoscalingv2.HorizontalPodAutoscalerStatus{DesiredReplicas: 3}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "consumer"}, Status: appsv1.DeploymentStatus{Replicas: 3, ReadyReplicas: 2}},
	)
	// The fake tracker has no scale subresource (diagnose reads it).
	cs.PrependReactor("get", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "scale" {
			return false, nil, nil
		}
		return true, &autoscalingv1.Scale{Spec: autoscalingv1.ScaleSpec{Replicas: 3}, Status: autoscalingv1.ScaleStatus{Replicas: 3}}, nil
	})
	return cs
}

// TestPlainLinesAndRecording: off a terminal, a line a second; --record
// keeps the same samples behind a header; an existing recording is never
// overwritten.
func TestPlainLinesAndRecording(t *testing.T) {
	io, _, out, errOut := ui.Test(false, false)
	file := filepath.Join(t.TempDir(), "s.jsonl")
	cs := cluster()
	opts := &Options{Record: file, For: 2500 * time.Millisecond, IO: io, Clock: watch.RealClock{},
		Cluster: func() (kubernetes.Interface, watch.Querier, error, error) { return cs, queue{}, nil, nil }}
	if err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 2 || !strings.Contains(lines[len(lines)-1], "queue 42 metric 42 hpa - desired 3 replicas 3 ready 2") {
		t.Errorf("stdout:\n%s", out.String())
	}
	rec, err := watch.ReadFile(file)
	if err != nil || len(rec.Samples) != len(lines) || rec.Header.HPA != "default/consumer" || rec.Header.SyncPeriod != "15s" {
		t.Errorf("recording %+v, %v (stdout had %d lines)", rec, err, len(lines))
	}
	if !strings.Contains(errOut.String(), "dojo plot "+file+" --out chart.png") {
		t.Errorf("stderr %q", errOut.String())
	}
	before, _ := os.ReadFile(file)
	err = Run(context.Background(), opts)
	after, _ := os.ReadFile(file)
	if cmdutil.ExitCode(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), "does not overwrite a recording") || string(before) != string(after) {
		t.Errorf("second run: %v", err)
	}
}

// A link planted at the --record name is not followed: the recording is
// refused as an existing file and the link's target is never created. (This
// held before issue 27 too, by O_EXCL; the test keeps it so.)
func TestRecordDoesNotFollowAPlantedLink(t *testing.T) {
	io, _, _, _ := ui.Test(false, false)
	dir, outside := t.TempDir(), t.TempDir()
	target := filepath.Join(outside, "victim")
	file := filepath.Join(dir, "s.jsonl")
	if err := os.Symlink(target, file); err != nil {
		t.Fatal(err)
	}
	cs := cluster()
	opts := &Options{Record: file, For: 100 * time.Millisecond, IO: io, Clock: watch.RealClock{},
		Cluster: func() (kubernetes.Interface, watch.Querier, error, error) { return cs, queue{}, nil, nil }}
	err := Run(context.Background(), opts)
	if cmdutil.ExitCode(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("--record over a planted link: %v; want the usage error for an existing file", err)
	}
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Fatalf("the link's target was created: %v", err)
	}
}

// On a terminal dojo watch draws its chart on the alternate screen, each
// frame from the top-left corner, and --for ends it with the terminal given
// back (the view dojo draws itself, asking the terminal nothing).
func TestTerminalViewEndsAtFor(t *testing.T) {
	io, _, out, _ := ui.Test(true, false)
	cs := cluster()
	opts := &Options{For: 2500 * time.Millisecond, IO: io, Clock: watch.RealClock{},
		Cluster: func() (kubernetes.Interface, watch.Querier, error, error) { return cs, queue{}, nil, nil }}
	start := time.Now()
	if err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("--for 2.5s took %s", d)
	}
	got := out.String()
	for _, want := range []string{"\x1b[?1049h", "dojo watch  HPA default/consumer", "queue 42", "d desired 3", "\x1b[?1049l"} {
		if !strings.Contains(got, want) {
			t.Errorf("the terminal view lacks %q:\n%q", want, got)
		}
	}
	if !strings.HasSuffix(got, "\x1b[?25h\x1b[?1049l") {
		t.Errorf("the terminal is not given back at the end: %q", got[max(len(got)-80, 0):])
	}
}
