package pods

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestPodReason(t *testing.T) {
	p := &corev1.Pod{Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
		Name: "producer", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 10s"}},
	}}}}
	if r, ready := Reason(p); ready || r != "container producer CrashLoopBackOff: back-off 10s" {
		t.Fatalf("%q %v", r, ready)
	}
	p = &corev1.Pod{Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Message: "0/1 nodes are available"}}}}
	if r, _ := Reason(p); r != "Unschedulable: 0/1 nodes are available" {
		t.Fatalf("%q", r)
	}
	p = &corev1.Pod{Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}
	if _, ready := Reason(p); !ready {
		t.Fatal("ready pod reported")
	}
}

// A Traefik-like manifest: the chart labels its pods
// app.kubernetes.io/instance=<release>-<namespace>, so only the workload's
// own selector finds them.
const traefikManifest = `---
# Source: traefik/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: traefik
  namespace: traefik
spec:
  selector:
    app.kubernetes.io/name: traefik
---
# Source: traefik/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: traefik
  namespace: traefik
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: traefik
      app.kubernetes.io/instance: traefik-traefik
---
apiVersion: v1
kind: Pod
metadata:
  name: traefik-test
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: broken
spec: {}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: traefik-migrate
  namespace: traefik
spec:
  template: {}
`

func TestFromManifestFindsWorkloadSelectors(t *testing.T) {
	got := FromManifest(traefikManifest, "traefik")
	want := []Selector{
		{Namespace: "traefik", Labels: "app.kubernetes.io/instance=traefik-traefik,app.kubernetes.io/name=traefik"},
		{Namespace: "traefik", Pod: "traefik-test"},
		{Namespace: "traefik", Labels: "batch.kubernetes.io/job-name=traefik-migrate"},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("FromManifest = %+v, want %+v", got, want)
	}
}

func TestNotReadyReportsReasonsEventsAndCrashLogs(t *testing.T) {
	labels := map[string]string{"app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": "traefik-traefik"}
	pod := func(name string, st corev1.PodStatus) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "traefik", Labels: labels}, Status: st}
	}
	cs := fake.NewClientset(
		pod("ready", corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}),
		pod("pull", corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "traefik",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: `Back-off pulling image "traefik:v3.9": not found`}}}}}),
		pod("crash", corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "traefik",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 20s"}}}}}),
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "traefik", Labels: map[string]string{"app.kubernetes.io/instance": "traefik"}}},
		&corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e1", Namespace: "traefik"},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "pull"}, Type: "Warning", Reason: "Failed", Message: `Failed to pull image "traefik:v3.9"`},
	)
	got := NotReady(context.Background(), cs, FromManifest(traefikManifest, "traefik"))
	byName := map[string]Report{}
	for _, r := range got {
		byName[r.Name] = r
	}
	if len(got) != 2 {
		t.Fatalf("reports %+v: want pull and crash only (ready is ready, other is not the release's)", got)
	}
	if r := byName["pull"]; r.Reason != `container traefik ImagePullBackOff: Back-off pulling image "traefik:v3.9": not found` {
		t.Errorf("pull reason %q", r.Reason)
	}
	// The fake clientset's events list ignores field selectors, so only the
	// presence of the pull event is checked.
	if r := byName["pull"]; len(r.Events) == 0 || r.Events[len(r.Events)-1] != `Warning Failed: Failed to pull image "traefik:v3.9"` {
		t.Errorf("pull events %q", r.Events)
	}
	if r := byName["crash"]; len(r.Logs) == 0 {
		t.Errorf("crash-looping pod without its log lines: %+v", r)
	}
}
