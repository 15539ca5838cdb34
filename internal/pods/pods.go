// Package pods says why pods are not ready: each pod's reason (an image that
// cannot be pulled, a crash loop, a failing probe) and its last events. A
// failed Helm release and dojo diagnose both report with it.
package pods

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
)

// Report is one pod that is not ready.
type Report struct {
	Name   string
	Reason string   // e.g. "ImagePullBackOff: Back-off pulling image …"
	Events []string // its last events, oldest first
}

// NotReady reports the pods of a release (label app.kubernetes.io/instance)
// that are not ready, each with its reason and last three events.
func NotReady(ctx context.Context, cs kubernetes.Interface, ns, releaseName string) []Report {
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + releaseName})
	if err != nil {
		return nil
	}
	var out []Report
	for _, p := range pods.Items {
		reason, ready := Reason(&p)
		if ready {
			continue
		}
		pr := Report{Name: p.Name, Reason: reason}
		evs, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{
			FieldSelector: fields.AndSelectors(
				fields.OneTermEqualSelector("involvedObject.kind", "Pod"),
				fields.OneTermEqualSelector("involvedObject.name", p.Name),
			).String(),
		})
		if err == nil {
			items := evs.Items
			sort.SliceStable(items, func(i, j int) bool { return eventTime(items[i]).Before(eventTime(items[j])) })
			if len(items) > 3 {
				items = items[len(items)-3:]
			}
			for _, ev := range items {
				pr.Events = append(pr.Events, fmt.Sprintf("%s %s: %s", ev.Type, ev.Reason, strings.TrimSpace(ev.Message)))
			}
		}
		out = append(out, pr)
	}
	return out
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	default:
		return e.CreationTimestamp.Time
	}
}

// Reason says why a pod is not ready; ready reports that it is.
func Reason(p *corev1.Pod) (reason string, ready bool) {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return "", true
		}
	}
	statuses := append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
	for _, cs := range statuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			return joinReason(cs.Name, w.Reason, w.Message), false
		}
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
			return joinReason(cs.Name, t.Reason, fmt.Sprintf("exit code %d", t.ExitCode)), false
		}
		if t := cs.LastTerminationState.Terminated; t != nil && !cs.Ready {
			return joinReason(cs.Name, "restarting after "+t.Reason, fmt.Sprintf("exit code %d", t.ExitCode)), false
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status != corev1.ConditionTrue {
			return joinReason("", "Unschedulable", c.Message), false
		}
	}
	if p.Status.Phase == "" {
		return "Pending", false
	}
	return string(p.Status.Phase) + ", not ready", false
}

func joinReason(container, reason, msg string) string {
	s := reason
	if container != "" {
		s = "container " + container + " " + reason
	}
	if msg = strings.TrimSpace(msg); msg != "" {
		s += ": " + msg
	}
	return s
}
