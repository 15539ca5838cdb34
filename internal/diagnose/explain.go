package diagnose

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kubedojo/dojo/internal/check/judge"
	"github.com/kubedojo/dojo/internal/diagnose/floatconv"
	"github.com/kubedojo/dojo/internal/diagnose/source"
)

// The anomalies a metric's averageValue can show.
const (
	MinInt64 = "min-int64" // -9223372036854775808m: NaN or ±Inf on amd64
	MaxInt64 = "max-int64" // 9223372036854775807m: +Inf on arm64, or External's overflow guard
	NaNZero  = "nan-zero"  // 0 at zero replicas on arm64: NaN turned into 0
)

// The controller's defaults, for a cluster whose flags dojo cannot read.
const (
	defaultSyncPeriod      = "15s"
	defaultStabilization   = "5m0s"
	syncPeriodFlag         = "horizontal-pod-autoscaler-sync-period"
	downscaleStabilization = "horizontal-pod-autoscaler-downscale-stabilization"
)

// Explain turns the facts into a report. It reads nothing.
func Explain(f Facts) Report {
	r := Report{HPA: f.Namespace + "/" + f.Name, ServerVersion: f.ServerVersion, Nodes: f.Nodes}
	r.Architecture, r.ArchitectureFrom = architecture(f)
	r.Controller = timing(f.ControllerFlags)
	h := f.HPA
	if h == nil {
		return r
	}
	r.Target = TargetView{Kind: h.Spec.ScaleTargetRef.Kind, Name: h.Spec.ScaleTargetRef.Name, Found: f.Target.Found,
		SpecReplicas: f.Target.SpecReplicas, StatusReplicas: f.Target.StatusReplicas}
	if f.Target.Err != nil {
		r.Target.Error = f.Target.Err.Error()
	}
	r.MinReplicas = 1
	if h.Spec.MinReplicas != nil {
		r.MinReplicas = *h.Spec.MinReplicas
	}
	r.MaxReplicas, r.CurrentReplicas, r.DesiredReplicas = h.Spec.MaxReplicas, h.Status.CurrentReplicas, h.Status.DesiredReplicas
	for _, c := range h.Status.Conditions {
		r.Conditions = append(r.Conditions, Condition{Type: string(c.Type), Status: string(c.Status), Reason: c.Reason, Message: c.Message})
	}
	v1 := v1Metrics(f.V1CurrentMetrics)
	for i, spec := range h.Spec.Metrics {
		r.Metrics = append(r.Metrics, metric(spec, status(h.Status.CurrentMetrics, spec, i), v1, i, f, r.Architecture))
	}

	for _, m := range r.Metrics {
		if m.Anomaly != "" {
			r.Findings = append(r.Findings, anomaly(f, r, m))
		}
	}
	r.Findings = append(r.Findings, conditions(f, r)...)
	r.Findings = append(r.Findings, notes(f, r)...)
	return r
}

// architecture is the CPU the controller runs on: its node's, else the
// one architecture every node shares.
func architecture(f Facts) (string, string) {
	for _, n := range f.Nodes {
		if n.Name == f.ControllerNode && n.arch() != "" {
			return n.arch(), "node " + n.Name + ", where kube-controller-manager runs"
		}
	}
	archs := map[string]bool{}
	for _, n := range f.Nodes {
		if n.arch() != "" {
			archs[n.arch()] = true
		}
	}
	if len(archs) == 1 {
		for a := range archs {
			from := "every node (no kube-controller-manager pod is visible)"
			if len(f.Nodes) == 1 {
				from = "the only node, " + f.Nodes[0].Name + " (no kube-controller-manager pod is visible)"
			}
			return a, from
		}
	}
	return "", "unknown: the nodes differ and no kube-controller-manager pod is visible"
}

func timing(flags map[string]string) Timing {
	t := Timing{SyncPeriod: flags[syncPeriodFlag], DownscaleStabilization: flags[downscaleStabilization], From: "kube-controller-manager flags"}
	if flags == nil {
		t.From = "Kubernetes defaults (no kube-controller-manager pod to read flags from)"
	}
	if t.SyncPeriod == "" {
		t.SyncPeriod = defaultSyncPeriod
	}
	if t.DownscaleStabilization == "" {
		t.DownscaleStabilization = defaultStabilization
	}
	return t
}

// status finds spec's metric in the status: by type and name, else by index.
func status(list []autoscalingv2.MetricStatus, spec autoscalingv2.MetricSpec, i int) *autoscalingv2.MetricStatus {
	for j := range list {
		if list[j].Type == spec.Type && metricName(list[j]) == specName(spec) {
			return &list[j]
		}
	}
	if i < len(list) && list[i].Type == spec.Type {
		return &list[i]
	}
	return nil
}

func specName(s autoscalingv2.MetricSpec) string {
	switch {
	case s.Object != nil:
		return s.Object.Metric.Name
	case s.External != nil:
		return s.External.Metric.Name
	case s.Pods != nil:
		return s.Pods.Metric.Name
	case s.Resource != nil:
		return string(s.Resource.Name)
	case s.ContainerResource != nil:
		return string(s.ContainerResource.Name)
	}
	return ""
}

func metricName(s autoscalingv2.MetricStatus) string {
	switch {
	case s.Object != nil:
		return s.Object.Metric.Name
	case s.External != nil:
		return s.External.Metric.Name
	case s.Pods != nil:
		return s.Pods.Metric.Name
	case s.Resource != nil:
		return string(s.Resource.Name)
	case s.ContainerResource != nil:
		return string(s.ContainerResource.Name)
	}
	return ""
}

// v1Metrics parses the autoscaling/v1 annotation (nil when absent or not JSON).
func v1Metrics(raw string) []autoscalingv1.MetricStatus {
	var out []autoscalingv1.MetricStatus
	if raw == "" || json.Unmarshal([]byte(raw), &out) != nil {
		return nil
	}
	return out
}

// v1Current is the averageValue the v1 annotation carries for a metric.
func v1Current(list []autoscalingv1.MetricStatus, typ autoscalingv2.MetricSourceType, name string) string {
	for _, m := range list {
		switch {
		case typ == autoscalingv2.ObjectMetricSourceType && m.Object != nil && m.Object.MetricName == name:
			if m.Object.AverageValue != nil {
				return "averageValue " + m.Object.AverageValue.String()
			}
			return "value " + m.Object.CurrentValue.String()
		case typ == autoscalingv2.ExternalMetricSourceType && m.External != nil && m.External.MetricName == name:
			if m.External.CurrentAverageValue != nil {
				return "averageValue " + m.External.CurrentAverageValue.String()
			}
			return "value " + m.External.CurrentValue.String()
		}
	}
	return ""
}

func target(t autoscalingv2.MetricTarget) string {
	var parts []string
	parts = append(parts, string(t.Type))
	if t.Value != nil {
		parts = append(parts, "value "+t.Value.String())
	}
	if t.AverageValue != nil {
		parts = append(parts, "averageValue "+t.AverageValue.String())
	}
	if t.AverageUtilization != nil {
		parts = append(parts, fmt.Sprintf("averageUtilization %d%%", *t.AverageUtilization))
	}
	return strings.Join(parts, ", ")
}

func current(v autoscalingv2.MetricValueStatus) string {
	var parts []string
	if v.AverageValue != nil {
		parts = append(parts, "averageValue "+v.AverageValue.String())
	}
	if v.Value != nil {
		parts = append(parts, "value "+v.Value.String())
	}
	if v.AverageUtilization != nil {
		parts = append(parts, fmt.Sprintf("averageUtilization %d%%", *v.AverageUtilization))
	}
	return strings.Join(parts, ", ")
}

func metric(spec autoscalingv2.MetricSpec, st *autoscalingv2.MetricStatus, v1 []autoscalingv1.MetricStatus, i int, f Facts, arch string) Metric {
	m := Metric{Type: string(spec.Type), Name: specName(spec)}
	var avg *resource.Quantity
	switch {
	case spec.Object != nil:
		o := spec.Object
		m.Object = o.DescribedObject.Kind + " " + o.DescribedObject.Name
		m.Target = target(o.Target)
		switch {
		case o.Target.Type == autoscalingv2.ValueMetricType && o.Target.Value != nil:
			m.Path = "GetObjectMetricReplicas"
		case o.Target.Type == autoscalingv2.AverageValueMetricType && o.Target.AverageValue != nil:
			m.Path, m.Divides = source.ObjectFunc, true
		default:
			m.Refused = true
		}
		if st != nil && st.Object != nil {
			m.Current = current(st.Object.Current)
			avg = st.Object.Current.AverageValue
		}
	case spec.External != nil:
		e := spec.External
		m.Target = target(e.Target)
		switch {
		case e.Target.AverageValue != nil:
			m.Path, m.Divides = source.ExternalFunc, true
		case e.Target.Value != nil:
			m.Path = "GetExternalMetricReplicas"
		}
		if st != nil && st.External != nil {
			m.Current = current(st.External.Current)
			avg = st.External.Current.AverageValue
		}
	case spec.Pods != nil:
		m.Target = target(spec.Pods.Target)
		m.Path = "GetMetricReplicas"
		if st != nil && st.Pods != nil {
			m.Current = current(st.Pods.Current)
		}
	case spec.Resource != nil:
		m.Target = target(spec.Resource.Target)
		m.Path = "GetResourceReplicas"
		if st != nil && st.Resource != nil {
			m.Current = current(st.Resource.Current)
		}
	case spec.ContainerResource != nil:
		m.Target = target(spec.ContainerResource.Target)
		m.Path = "GetResourceReplicas"
		if st != nil && st.ContainerResource != nil {
			m.Current = current(st.ContainerResource.Current)
		}
	}
	m.CurrentV1 = v1Current(v1, spec.Type, m.Name)
	if m.Divides && avg != nil {
		// By its text: Quantity.MilliValue turns -9223372036854775808m into 0.
		switch v := avg.String(); {
		case v == milli(math.MinInt64):
			m.Anomaly = MinInt64
		case v == milli(math.MaxInt64):
			m.Anomaly = MaxInt64
		case avg.IsZero() && arch == "arm64" && statusReplicas(f) == 0:
			m.Anomaly = NaNZero
		}
	}
	return m
}

// statusReplicas is what the controller divides by: the scale target's
// status.replicas (the HPA's own count when the target could not be read).
func statusReplicas(f Facts) int32 {
	if f.Target.Found {
		return f.Target.StatusReplicas
	}
	return f.HPA.Status.CurrentReplicas
}

// sourceRef points at the division in fn at the cluster's release.
func sourceRef(version, fn string) *Source {
	s := &Source{Function: fn, File: source.CalculatorFile, Version: version, Statement: source.Statement, Issue: source.Issue, Workshop: source.SeedLink}
	first, newest := source.Range()
	l, ok := source.Lookup(version)
	switch {
	case version == "":
		s.Note = "the server did not say its version: look for " + fn + " in " + source.CalculatorFile + " at your release"
	case !ok:
		s.Note = fmt.Sprintf("%s is not in dojo's table (%s to %s): look for %s in %s at that tag", version, first, newest, fn, source.CalculatorFile)
	default:
		s.Line = l.Object
		if fn == source.ExternalFunc {
			s.Line = l.External
		}
		if b := source.Base(version); b != version {
			s.Note = fmt.Sprintf("%s is a vendor build: the line is upstream %s's", version, b)
		}
	}
	tag := source.Base(version)
	if !ok {
		tag = "master"
	}
	s.URL = source.URL(tag, source.CalculatorFile, s.Line)
	return s
}

func quantityText(anomaly string) string {
	switch anomaly {
	case MinInt64:
		return milli(math.MinInt64)
	case MaxInt64:
		return milli(math.MaxInt64)
	}
	return "0"
}

// anomaly explains a number no measurement gives.
func anomaly(f Facts, r Report, m Metric) Finding {
	replicas := statusReplicas(f)
	what := m.Type + " metric " + m.Name
	fd := Finding{ID: m.Anomaly, Severity: Anomaly, Source: sourceRef(f.ServerVersion, m.Path)}
	fd.Title = fmt.Sprintf("%s in the %s is not a measurement", quantityText(m.Anomaly), what)
	if m.Anomaly == NaNZero {
		fd.Title = fmt.Sprintf("the 0 of the %s at zero replicas is not a measured average", what)
	}
	target := r.Target.Kind + " " + r.Target.Name
	divide := fmt.Sprintf("For an AverageValue target the controller divides the metric by the replicas of %s (its status.replicas: %d now) to get an average per replica, in %s.", target, replicas, m.Path)
	if replicas > 0 {
		divide = fmt.Sprintf("For an AverageValue target the controller divides the metric by the replicas of %s to get an average per replica, in %s. This status was written at a sync when %s had 0 replicas; %s has %d now, and the next sync (every %s) writes an ordinary value.",
			target, m.Path, target, target, replicas, r.Controller.SyncPeriod)
	}
	var cause string
	switch m.Anomaly {
	case MinInt64:
		cause = "With 0 replicas that division is 0/0, which is NaN, when the metric is 0, and n/0, which is +Inf, when it is above 0. Go leaves the conversion of NaN and infinities to int64 to the processor: on amd64 both come out as -9223372036854775808 (-2^63, the smallest int64). The status counts in thousandths, hence the m."
	case MaxInt64:
		cause = "With 0 replicas and a metric above 0 that division is n/0, which is +Inf. Go leaves the conversion of infinities to int64 to the processor: on arm64 it saturates to 9223372036854775807 (2^63-1, the largest int64). The status counts in thousandths, hence the m."
		if m.Path == source.ExternalFunc {
			cause += " For an External metric the same number is also written when the metric's sum overflows an int64 (a guard in the same function, which does not check for zero replicas)."
		}
	case NaNZero:
		cause = "With 0 replicas and a metric of 0 that division is 0/0, which is NaN. Go leaves the conversion of NaN to int64 to the processor: on arm64 it gives 0, so the status looks ordinary while the average was never computed. On amd64 the same statement writes -9223372036854775808m."
	}
	fd.Explain = append(fd.Explain, divide, cause)
	fd.Explain = append(fd.Explain, fmt.Sprintf("Only the status is wrong. The desired count is computed before that division, from the whole metric divided by the target (ceil(metric / target)), so scaling is not affected: this HPA wants %d replica(s).", r.DesiredReplicas))
	switch {
	case m.CurrentV1 != "" && m.CurrentV1 == m.Current:
		fd.Explain = append(fd.Explain, fmt.Sprintf("autoscaling/v2 (status.currentMetrics) and autoscaling/v1 (the annotation %s) hold the same %s: the controller wrote it, kubectl only prints it.", V1MetricsAnnotation, strings.TrimPrefix(m.Current, "averageValue ")))
	case f.V1Err != nil:
		fd.Explain = append(fd.Explain, "The autoscaling/v1 view could not be read: "+f.V1Err.Error())
	case m.CurrentV1 == "":
		fd.Explain = append(fd.Explain, "The autoscaling/v1 view has no "+V1MetricsAnnotation+" annotation for it.")
	default:
		fd.Explain = append(fd.Explain, fmt.Sprintf("The autoscaling/v1 view (the annotation %s) reads %s.", V1MetricsAnnotation, m.CurrentV1))
	}
	if other, ok := floatconv.Known(floatconv.Other(r.Architecture)); ok && r.Architecture != "" {
		gives := fmt.Sprintf("%s for an empty queue and %s while items wait", milli(other.ZeroByZero), milli(other.ItemsByZero))
		if other.ZeroByZero == other.ItemsByZero {
			gives = milli(other.ZeroByZero) + " whether the queue is empty or not"
		}
		fd.Explain = append(fd.Explain, fmt.Sprintf("On %s nodes the same statement gives %s: dojo diagnose --explain runs the conversion on this machine.", other.Arch, gives))
	}
	fd.Next = "nothing to fix in your HPA: the value clears at the first sync after " + target + " has a replica again"
	return fd
}

// milli prints an int64 milli-value the way a Quantity does.
func milli(v int64) string {
	if v == 0 {
		return "0"
	}
	return fmt.Sprintf("%dm", v)
}

// conditions explains the conditions that stop, limit or hold scaling.
func conditions(f Facts, r Report) []Finding {
	var out []Finding
	for _, c := range f.HPA.Status.Conditions {
		quote := fmt.Sprintf("%s %s, %s: %q", c.Type, c.Status, c.Reason, c.Message)
		switch {
		case c.Type == autoscalingv2.ScalingActive && c.Status != corev1.ConditionTrue && strings.Contains(c.Message, judge.RefusedMessage):
			out = append(out, Finding{ID: "target-refused", Severity: Problem,
				Title: "the controller refuses the Object metric's target",
				Explain: []string{quote,
					"The API accepts a target whose type and field disagree, such as type: Value with averageValue, but the controller follows an Object metric's target only when they agree (Value with value, AverageValue with averageValue). This HPA does not scale at all."},
				Next: "set target.type: AverageValue with averageValue (one replica per that many), or type: Value with value"})
		case c.Type == autoscalingv2.ScalingActive && c.Status != corev1.ConditionTrue && c.Reason == "ScalingDisabled":
			out = append(out, Finding{ID: "scaling-disabled", Severity: Problem,
				Title: fmt.Sprintf("autoscaling is off: %s %s is at 0 replicas and minReplicas is %d", r.Target.Kind, r.Target.Name, r.MinReplicas),
				Explain: []string{quote,
					"With a floor above 0 the controller leaves a target someone scaled to 0 alone."},
				Next: fmt.Sprintf("kubectl scale %s %s --replicas=1, or set minReplicas: 0 (step 10)", strings.ToLower(r.Target.Kind), r.Target.Name)})
		case c.Type == autoscalingv2.ScalingActive && c.Status != corev1.ConditionTrue:
			out = append(out, Finding{ID: "metric-unavailable", Severity: Problem,
				Title:   "the controller cannot get a metric",
				Explain: []string{quote, "While it cannot read its metric the controller leaves the replica count as it is."},
				Next:    "walk the chain exporter → rule → adapter: dojo check step-8"})
		case c.Type == autoscalingv2.AbleToScale && c.Status != corev1.ConditionTrue:
			out = append(out, Finding{ID: "unable-to-scale", Severity: Problem,
				Title:   "the controller cannot scale the target",
				Explain: []string{quote},
				Next:    fmt.Sprintf("kubectl describe hpa %s -n %s: its events say more", f.Name, f.Namespace)})
		case c.Type == autoscalingv2.AbleToScale && c.Reason == "ScaleDownStabilized":
			window := "the controller's " + r.Controller.DownscaleStabilization + " (" + r.Controller.From + ")"
			if b := f.HPA.Spec.Behavior; b != nil && b.ScaleDown != nil && b.ScaleDown.StabilizationWindowSeconds != nil {
				window = fmt.Sprintf("%d s (behavior.scaleDown.stabilizationWindowSeconds)", *b.ScaleDown.StabilizationWindowSeconds)
			}
			out = append(out, Finding{ID: "scale-down-stabilized", Severity: Note,
				Title: "a scale-down is held by the stabilization window",
				Explain: []string{quote,
					"The controller scales down only to the highest count it recommended within the window, " + window + ", so that a metric that dips for a moment does not remove replicas."},
				Next: "wait for the window to pass"})
		case c.Type == autoscalingv2.ScalingLimited && c.Status == corev1.ConditionTrue:
			fd := Finding{ID: "scaling-limited", Severity: Note, Title: "the desired count is held at a bound", Explain: []string{quote}}
			switch c.Reason {
			case "TooManyReplicas":
				fd.Title = fmt.Sprintf("the metric asks for more than maxReplicas %d", r.MaxReplicas)
				fd.Next = "raise maxReplicas if the work needs more replicas"
			case "TooFewReplicas":
				fd.Title = fmt.Sprintf("the metric asks for fewer than minReplicas %d", r.MinReplicas)
			case "ScaleUpLimit", "ScaleDownLimit":
				fd.Title = "a scaling policy limits how fast the count changes"
			}
			out = append(out, fd)
		case c.Type == autoscalingv2.ScaledToZero && c.Status == corev1.ConditionTrue:
			out = append(out, Finding{ID: "scaled-to-zero", Severity: Note,
				Title:   fmt.Sprintf("the controller scaled %s %s to zero", r.Target.Kind, r.Target.Name),
				Explain: []string{quote, "It comes back when its Object or External metric asks for a replica again."}})
		}
	}
	return out
}

// notes says what is ordinary, so that "no anomaly" is a finding too.
func notes(f Facts, r Report) []Finding {
	var out []Finding
	anomalous := false
	for _, m := range r.Metrics {
		anomalous = anomalous || m.Anomaly != ""
	}
	for _, m := range r.Metrics {
		switch {
		case m.Refused || m.Anomaly != "":
		case !m.Divides && m.Path != "" && (m.Type == string(autoscalingv2.ObjectMetricSourceType) || m.Type == string(autoscalingv2.ExternalMetricSourceType)):
			out = append(out, Finding{ID: "value-target", Severity: Note,
				Title:   fmt.Sprintf("the %s metric %s has a Value target: it is never divided by replicas", m.Type, m.Name),
				Explain: []string{fmt.Sprintf("The controller compares the whole metric with the value (%s), so its status shows the metric itself, even at zero replicas.", m.Path)}})
		case m.Divides && m.Current == "":
			out = append(out, Finding{ID: "not-synced", Severity: Note,
				Title:   fmt.Sprintf("the status has no value yet for the %s metric %s", m.Type, m.Name),
				Explain: []string{fmt.Sprintf("The controller writes it at its next sync (every %s).", r.Controller.SyncPeriod)}})
		}
	}
	for _, m := range r.Metrics {
		if m.Type == string(autoscalingv2.ExternalMetricSourceType) && m.Divides && strings.HasPrefix(m.Target, string(autoscalingv2.ValueMetricType)) {
			out = append(out, Finding{ID: "external-type-ignored", Severity: Note,
				Title:   fmt.Sprintf("the External metric %s says type Value but has averageValue: the controller follows averageValue", m.Name),
				Explain: []string{"For External metrics the controller looks at the field, not the type: averageValue divides by replicas like an AverageValue target."}})
		}
	}
	ordinary := false
	for _, m := range r.Metrics {
		ordinary = ordinary || (!m.Refused && m.Current != "")
	}
	if !anomalous && ordinary {
		out = append(out, Finding{ID: "no-anomaly", Severity: Note,
			Title:   "no anomaly: the metrics in the status are ordinary values",
			Explain: []string{fmt.Sprintf("%s %s has %d replica(s); the HPA wants %d.", r.Target.Kind, r.Target.Name, r.Target.StatusReplicas, r.DesiredReplicas)}})
	}
	return out
}
