package diagnose

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ControllerLabel selects the kube-controller-manager static pod kubeadm
// (and so kind) makes.
const ControllerLabel = "component=kube-controller-manager"

// NotFoundError is an HPA that does not exist.
type NotFoundError struct{ Namespace, Name string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no HorizontalPodAutoscaler %s in namespace %s", e.Name, e.Namespace)
}

// Read gathers the facts about HPA ns/name. Only the HPA itself is
// required: every other read records its error in the facts.
func Read(ctx context.Context, cs kubernetes.Interface, ns, name string) (Facts, error) {
	f := Facts{Namespace: ns, Name: name}
	h, err := cs.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return f, &NotFoundError{Namespace: ns, Name: name}
	case err != nil:
		return f, fmt.Errorf("read HorizontalPodAutoscaler %s/%s through autoscaling/v2: %w", ns, name, err)
	}
	f.HPA = h
	if v1, err := cs.AutoscalingV1().HorizontalPodAutoscalers(ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
		f.V1Err = err
	} else {
		f.V1CurrentMetrics = v1.Annotations[V1MetricsAnnotation]
	}
	f.Target = readTarget(ctx, cs, ns, h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name)
	if nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err == nil {
		for _, n := range nodes.Items {
			f.Nodes = append(f.Nodes, Node{Name: n.Name, Arch: n.Labels[corev1.LabelArchStable], OS: n.Labels[corev1.LabelOSStable], InfoArch: n.Status.NodeInfo.Architecture})
		}
	}
	if pods, err := cs.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: ControllerLabel}); err == nil && len(pods.Items) > 0 {
		p := pods.Items[0]
		f.ControllerNode = p.Spec.NodeName
		f.ControllerFlags = map[string]string{}
		for _, c := range p.Spec.Containers {
			for _, a := range append(append([]string{}, c.Command...), c.Args...) {
				if k, v, ok := strings.Cut(strings.TrimPrefix(a, "--"), "="); ok && strings.HasPrefix(a, "--") {
					f.ControllerFlags[k] = v
				}
			}
		}
	}
	if v, err := cs.Discovery().ServerVersion(); err == nil {
		f.ServerVersion = v.GitVersion
	}
	return f, nil
}

// readTarget reads the scale subresource of the kinds dojo knows.
func readTarget(ctx context.Context, cs kubernetes.Interface, ns, kind, name string) Target {
	t := Target{Kind: kind, Name: name}
	var err error
	var spec, status int32
	switch kind {
	case "Deployment":
		s, e := cs.AppsV1().Deployments(ns).GetScale(ctx, name, metav1.GetOptions{})
		if err = e; e == nil {
			spec, status = s.Spec.Replicas, s.Status.Replicas
		}
	case "StatefulSet":
		s, e := cs.AppsV1().StatefulSets(ns).GetScale(ctx, name, metav1.GetOptions{})
		if err = e; e == nil {
			spec, status = s.Spec.Replicas, s.Status.Replicas
		}
	case "ReplicaSet":
		s, e := cs.AppsV1().ReplicaSets(ns).GetScale(ctx, name, metav1.GetOptions{})
		if err = e; e == nil {
			spec, status = s.Spec.Replicas, s.Status.Replicas
		}
	default:
		t.Err = fmt.Errorf("dojo reads the scale of a Deployment, StatefulSet or ReplicaSet, not of a %s", kind)
		return t
	}
	if err != nil {
		t.Err = err
		return t
	}
	t.Found, t.SpecReplicas, t.StatusReplicas = true, spec, status
	return t
}
