package judge

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubedojo/dojo/internal/prom"
)

// The facts below are what probes read. A fact carries the error its read
// met (Err) instead of a verdict: judging is left to the judges.

// Release is a Helm release's newest record.
type Release struct {
	Name, Namespace string
	// Found is false when the release has no record at all.
	Found       bool
	Status      string
	Chart       string
	Version     string
	Values      map[string]any
	Description string
	Err         error
}

// Workload is a Deployment or StatefulSet and the state of its pods.
type Workload struct {
	Kind, Namespace, Name string
	Found                 bool
	// Desired is spec.replicas; Ready counts ready replicas.
	Desired, Ready, Replicas int32
	// Pods says, for pods that are not ready, why (Kubernetes' own words).
	Pods []string
	Err  error
}

// HTTPAnswer is one HTTP exchange a probe made.
type HTTPAnswer struct {
	// Via says how it was reached ("127.0.0.1:80, Host producer.vcap.me").
	URL, Via string
	Code     int
	Body     string
	Err      error
}

// Object is any Kubernetes object read as unstructured content.
type Object struct {
	Found  bool
	Labels map[string]string
	// Annotations of the object.
	Annotations map[string]string
	Content     map[string]any
	Err         error
}

// Ingress is what matters of an Ingress.
type Ingress struct {
	Namespace, Name string
	Class           string
	Hosts           []string
	// Backends are "service:port" of its rules.
	Backends []string
}

// Ingresses lists the Ingresses of a namespace.
type Ingresses struct {
	Items []Ingress
	Err   error
}

// Query is one PromQL query and its answer.
type Query struct {
	Expr    string
	Samples []prom.Sample
	Err     error
}

// Targets are Prometheus's active scrape targets.
type Targets struct {
	Items []prom.Target
	Err   error
}

// Rules are the rule groups Prometheus has loaded.
type Rules struct {
	Groups []prom.RuleGroup
	Err    error
}

// Config is the configuration Prometheus runs with (its YAML).
type Config struct {
	YAML string
	Err  error
}

// HPA is the HorizontalPodAutoscaler as autoscaling/v2 reads it.
type HPA struct {
	Found  bool
	Object *autoscalingv2.HorizontalPodAutoscaler
	Err    error
}

// LabelSelectors are the selectors a Prometheus custom resource carries
// (nil when the field is absent).
type LabelSelectors struct {
	Rule, RuleNamespace                     *metav1.LabelSelector
	ServiceMonitor, ServiceMonitorNamespace *metav1.LabelSelector
}
