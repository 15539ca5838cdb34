// Package diagnose explains an HorizontalPodAutoscaler from what the cluster
// says of it: the numbers in its status (the -9223372036854775808m of a
// target at zero replicas first), its conditions, and the controller's code
// behind them at the cluster's exact release.
//
// Read (probe.go) gathers Facts through the Kubernetes API; Explain
// (explain.go) is a pure function from Facts to a Report; Text and JSON
// (render.go) print it.
package diagnose

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// V1MetricsAnnotation is where the autoscaling/v1 view of an HPA carries
// its v2 metric status.
const V1MetricsAnnotation = "autoscaling.alpha.kubernetes.io/current-metrics"

// Facts is what the cluster says, read once.
type Facts struct {
	Namespace, Name string
	// HPA is the object through autoscaling/v2 (nil when not found).
	HPA *autoscalingv2.HorizontalPodAutoscaler
	// V1CurrentMetrics is the autoscaling/v1 view's annotation, raw JSON
	// ("" when absent); V1Err its read's error.
	V1CurrentMetrics string
	V1Err            error
	// Target is the scale target's scale subresource.
	Target Target
	// Nodes are the cluster's nodes.
	Nodes []Node
	// ControllerNode is the node a kube-controller-manager pod runs on, ""
	// when none is seen (a managed control plane, or dojo's test lab).
	ControllerNode string
	// ControllerFlags are that pod's --flag=value arguments.
	ControllerFlags map[string]string
	// ServerVersion is the API server's gitVersion ("v1.37.2").
	ServerVersion string
	// Err is the error reading the HPA met.
	Err error
}

// Target is the HPA's scale target, read through its scale subresource.
type Target struct {
	Kind, Name string
	Found      bool
	// SpecReplicas and StatusReplicas are the scale's spec.replicas and
	// status.replicas: the controller divides by status.replicas.
	SpecReplicas, StatusReplicas int32
	Err                          error
}

// Node is one node's architecture, as its label and its kubelet say.
type Node struct {
	Name string
	// Arch is the kubernetes.io/arch label; InfoArch status.nodeInfo.architecture.
	Arch, InfoArch string
	OS             string
}

// arch is the node's architecture, from its kubelet first.
func (n Node) arch() string {
	if n.InfoArch != "" {
		return n.InfoArch
	}
	return n.Arch
}
