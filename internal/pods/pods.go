// Package pods says why pods are not ready: each pod's reason (an image that
// cannot be pulled, a crash loop, a failing probe) and its last events. A
// failed Helm release reports with it (and the coming dojo diagnose will).
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
	"sigs.k8s.io/yaml"
)

// Report is one pod that is not ready.
type Report struct {
	Name   string
	Reason string   // e.g. "container traefik ImagePullBackOff: Back-off pulling image …"
	Events []string // its last events, oldest first
	// Logs are the last lines of a crash-looping container's previous run.
	Logs []string
}

// Selector finds the pods of one workload: a namespace and a label
// selector, or one pod by name.
type Selector struct {
	Namespace string
	Labels    string // a label selector ("app=x,tier=y"); "" with Pod set
	Pod       string
}

// FromManifest returns the selectors of every workload a rendered manifest
// creates (Deployments, StatefulSets, DaemonSets and ReplicaSets by their pod
// selector, Jobs by the job-name label, bare Pods by name): the pods a release made, whatever
// labels its chart chose. ns is the release's namespace, for objects that
// name none.
func FromManifest(manifest, ns string) []Selector {
	var out []Selector
	for _, doc := range strings.Split(manifest, "\n---") {
		var obj struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
			Spec struct {
				Selector *metav1.LabelSelector `json:"selector"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil || obj.Kind == "" {
			continue
		}
		objNS := obj.Metadata.Namespace
		if objNS == "" {
			objNS = ns
		}
		switch obj.Kind {
		case "Job":
			// The API server writes a Job's selector; its pods carry the
			// Job's name.
			out = append(out, Selector{Namespace: objNS, Labels: "batch.kubernetes.io/job-name=" + obj.Metadata.Name})
		case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet":
			if obj.Spec.Selector == nil {
				continue
			}
			sel, err := metav1.LabelSelectorAsSelector(obj.Spec.Selector)
			if err != nil || sel.Empty() {
				continue
			}
			out = append(out, Selector{Namespace: objNS, Labels: sel.String()})
		case "Pod":
			out = append(out, Selector{Namespace: objNS, Pod: obj.Metadata.Name})
		}
	}
	return out
}

// LogLines is how many lines of a crash-looping container's log a Report
// keeps.
const LogLines = 5

// NotReady reports the pods the selectors find that are not ready, each with
// its reason, its last three events and, for a container in
// CrashLoopBackOff, the last lines of its previous run's log.
func NotReady(ctx context.Context, cs kubernetes.Interface, sels []Selector) []Report {
	var out []Report
	seen := map[string]bool{}
	for _, sel := range sels {
		var items []corev1.Pod
		if sel.Pod != "" {
			p, err := cs.CoreV1().Pods(sel.Namespace).Get(ctx, sel.Pod, metav1.GetOptions{})
			if err != nil {
				continue
			}
			items = []corev1.Pod{*p}
		} else {
			list, err := cs.CoreV1().Pods(sel.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.Labels})
			if err != nil {
				continue
			}
			items = list.Items
		}
		for _, p := range items {
			if seen[p.Namespace+"/"+p.Name] {
				continue
			}
			seen[p.Namespace+"/"+p.Name] = true
			if r, ok := report(ctx, cs, &p); ok {
				out = append(out, r)
			}
		}
	}
	return out
}

func report(ctx context.Context, cs kubernetes.Interface, p *corev1.Pod) (Report, bool) {
	reason, ready := Reason(p)
	if ready {
		return Report{}, false
	}
	pr := Report{Name: p.Name, Reason: reason}
	evs, err := cs.CoreV1().Events(p.Namespace).List(ctx, metav1.ListOptions{
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
	for _, c := range p.Status.ContainerStatuses {
		if w := c.State.Waiting; w != nil && w.Reason == "CrashLoopBackOff" {
			tail := int64(LogLines)
			raw, err := cs.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: c.Name, Previous: true, TailLines: &tail}).DoRaw(ctx)
			if err == nil {
				for _, l := range strings.Split(strings.TrimRight(string(raw), "\n"), "\n") {
					if l != "" {
						pr.Logs = append(pr.Logs, l)
					}
				}
			}
			break
		}
	}
	return pr, true
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
