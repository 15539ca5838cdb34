package pods

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
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
