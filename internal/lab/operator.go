package lab

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// monitoring returns a monitoring.coreos.com/v1 resource the OPERATOR
// STAND-IN reads: prometheuses, servicemonitors, prometheusrules.
func monitoring(resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: resource}
}

// PrometheusImage is the image the operator stand-in puts in a Prometheus's
// StatefulSet; the process kubelet runs Debian's prometheus for it.
const PrometheusImage = "quay.io/prometheus/prometheus:v3.14.0-distroless"

// operator is the lab's OPERATOR STAND-IN for prometheus-operator. Every
// second it reads the Prometheus, ServiceMonitor and PrometheusRule objects in
// the API. For each Prometheus it keeps a StatefulSet prometheus-<name> (the
// process kubelet runs its pod) and the Service prometheus-operated, as the
// operator does, and writes that Prometheus's configuration: one scrape job
// per selected ServiceMonitor endpoint, whose targets carry namespace,
// service, pod, container, endpoint, job and instance as the operator's
// relabelling gives them and one rule file per selected PrometheusRule. When the
// configuration changes it POSTs /-/reload to the Prometheus pod. (The
// operator generates kubernetes_sd_configs; Debian's Prometheus has no
// Kubernetes discovery, so the stand-in resolves EndpointSlices into
// static_configs with the same target labels.)
type operator struct {
	l        *Lab
	dir      string
	reloaded map[string]string // ns/name → config hash Prometheus loaded
	podOf    map[string]string // ns/name → pod UID that loaded it
}

func (l *Lab) startOperator(ctx context.Context) error {
	op := &operator{l: l, dir: filepath.Join(l.dir, "operator"), reloaded: map[string]string{}, podOf: map[string]string{}}
	l.bg.Add(1)
	go func() {
		defer l.bg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		lastErr := ""
		for {
			err := op.reconcile(ctx)
			if ctx.Err() != nil {
				return
			}
			if err != nil && err.Error() != lastErr {
				l.logf("operator stand-in: %v", err)
			}
			lastErr = ""
			if err != nil {
				lastErr = err.Error()
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return nil
}

func (op *operator) list(ctx context.Context, gvr schema.GroupVersionResource) ([]unstructured.Unstructured, error) {
	list, err := op.l.dynamic.Resource(gvr).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil // CRD not installed (yet)
	}
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

func (op *operator) reconcile(ctx context.Context) error {
	proms, err := op.list(ctx, monitoring("prometheuses"))
	if err != nil || len(proms) == 0 {
		return err
	}
	sms, err := op.list(ctx, monitoring("servicemonitors"))
	if err != nil {
		return err
	}
	rules, err := op.list(ctx, monitoring("prometheusrules"))
	if err != nil {
		return err
	}
	nsList, err := op.l.client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	nsLabels := map[string]labels.Set{}
	for _, ns := range nsList.Items {
		nsLabels[ns.Name] = ns.Labels
	}
	for i := range proms {
		if err := op.reconcileOne(ctx, &proms[i], sms, rules, nsLabels); err != nil {
			return fmt.Errorf("Prometheus %s/%s: %w", proms[i].GetNamespace(), proms[i].GetName(), err)
		}
	}
	return nil
}

// selects applies a label selector found at path in the Prometheus spec:
// absent selects nothing, {} everything.
func selects(spec map[string]any, field string, set labels.Set) (bool, error) {
	raw, ok := spec[field]
	if !ok || raw == nil {
		return false, nil
	}
	var ls metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw.(map[string]any), &ls); err != nil {
		return false, err
	}
	sel, err := metav1.LabelSelectorAsSelector(&ls)
	if err != nil {
		return false, err
	}
	return sel.Matches(set), nil
}

// inNamespaces applies a namespace selector: absent means the Prometheus's
// own namespace only (as the operator does), {} every namespace.
func inNamespaces(spec map[string]any, field, own, ns string, nsLabels map[string]labels.Set) (bool, error) {
	if _, ok := spec[field]; !ok || spec[field] == nil {
		return ns == own, nil
	}
	return selects(spec, field, nsLabels[ns])
}

func (op *operator) reconcileOne(ctx context.Context, prom *unstructured.Unstructured, sms, rules []unstructured.Unstructured, nsLabels map[string]labels.Set) error {
	ns, name := prom.GetNamespace(), prom.GetName()
	spec, _, _ := unstructured.NestedMap(prom.Object, "spec")
	if spec == nil {
		spec = map[string]any{}
	}
	dir := filepath.Join(op.dir, ns, name)
	ruleDir := filepath.Join(dir, "rules")
	if err := os.MkdirAll(ruleDir, 0o755); err != nil {
		return err
	}
	str := func(field, def string) string {
		if v, ok := spec[field].(string); ok && v != "" {
			return v
		}
		return def
	}
	scrapeInterval := str("scrapeInterval", "30s")

	// rule files
	want := map[string][]byte{}
	for _, r := range rules {
		okNS, err := inNamespaces(spec, "ruleNamespaceSelector", ns, r.GetNamespace(), nsLabels)
		if err != nil {
			return err
		}
		okSel, err := selects(spec, "ruleSelector", r.GetLabels())
		if err != nil {
			return err
		}
		if !okNS || !okSel {
			continue
		}
		groups, _, _ := unstructured.NestedSlice(r.Object, "spec", "groups")
		data, err := yaml.Marshal(map[string]any{"groups": groups})
		if err != nil {
			return err
		}
		want[r.GetNamespace()+"-"+r.GetName()+".yaml"] = data
	}
	hash := sha256.New()
	var names []string
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(hash, "%s\n%s\n", n, want[n])
	}
	old, _ := filepath.Glob(filepath.Join(ruleDir, "*.yaml"))
	for _, o := range old {
		if _, keep := want[filepath.Base(o)]; !keep {
			_ = os.Remove(o)
		}
	}
	for n, data := range want {
		if err := writeIfChanged(filepath.Join(ruleDir, n), data); err != nil {
			return err
		}
	}

	// scrape configs
	var jobs []any
	sort.Slice(sms, func(i, j int) bool {
		return sms[i].GetNamespace()+"/"+sms[i].GetName() < sms[j].GetNamespace()+"/"+sms[j].GetName()
	})
	for _, sm := range sms {
		okNS, err := inNamespaces(spec, "serviceMonitorNamespaceSelector", ns, sm.GetNamespace(), nsLabels)
		if err != nil {
			return err
		}
		okSel, err := selects(spec, "serviceMonitorSelector", sm.GetLabels())
		if err != nil {
			return err
		}
		if !okNS || !okSel {
			continue
		}
		smJobs, err := op.scrapeJobs(ctx, &sm, scrapeInterval)
		if err != nil {
			return err
		}
		jobs = append(jobs, smJobs...)
	}
	cfg := map[string]any{
		"global": map[string]any{
			"scrape_interval":     scrapeInterval,
			"evaluation_interval": str("evaluationInterval", "30s"),
			"external_labels":     map[string]any{"prometheus": ns + "/" + name},
		},
		"rule_files":     []any{filepath.Join(ruleDir, "*.yaml")},
		"scrape_configs": jobs,
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	hash.Write(data)
	sum := fmt.Sprintf("%x", hash.Sum(nil))
	if err := writeIfChanged(filepath.Join(dir, "prometheus.env.yaml"), data); err != nil {
		return err
	}
	if err := op.ensureWorkload(ctx, prom, spec, dir); err != nil {
		return err
	}
	return op.reload(ctx, ns, name, sum)
}

func writeIfChanged(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// scrapeJobs renders a ServiceMonitor's endpoints as scrape jobs. Debian's
// Prometheus is built without Kubernetes service discovery, so the stand-in
// resolves the targets itself: the Services in the monitor's namespaces
// that match its selector, their EndpointSlices, the ready endpoints on the
// named port; each target gets the labels the operator's relabelling gives
// (namespace, service, pod, container, endpoint, job; instance is the
// address). The configuration follows the EndpointSlices (checked every
// second, reloaded on change).
func (op *operator) scrapeJobs(ctx context.Context, sm *unstructured.Unstructured, defInterval string) ([]any, error) {
	spec, _, _ := unstructured.NestedMap(sm.Object, "spec")
	namespaces := []string{sm.GetNamespace()}
	if anyNS, _, _ := unstructured.NestedBool(spec, "namespaceSelector", "any"); anyNS {
		namespaces = []string{metav1.NamespaceAll}
	} else if names, ok, _ := unstructured.NestedStringSlice(spec, "namespaceSelector", "matchNames"); ok && len(names) > 0 {
		namespaces = names
	}
	var ls metav1.LabelSelector
	if raw, ok := spec["selector"].(map[string]any); ok {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &ls); err != nil {
			return nil, err
		}
	}
	sel, err := metav1.LabelSelectorAsSelector(&ls)
	if err != nil {
		return nil, err
	}
	jobLabel, _, _ := unstructured.NestedString(spec, "jobLabel")
	endpoints, _, _ := unstructured.NestedSlice(spec, "endpoints")

	type target struct {
		addr   string
		labels map[string]string
	}
	targetsFor := func(port string, targetPort any) ([]target, error) {
		var out []target
		for _, ns := range namespaces {
			svcs, err := op.l.client.CoreV1().Services(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
			if err != nil {
				return nil, err
			}
			for _, svc := range svcs.Items {
				slices, err := op.l.client.DiscoveryV1().EndpointSlices(svc.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=" + svc.Name})
				if err != nil {
					return nil, err
				}
				job := svc.Name
				if v := svc.Labels[jobLabel]; jobLabel != "" && v != "" {
					job = v
				}
				for _, sl := range slices.Items {
					for _, sp := range sl.Ports {
						if sp.Port == nil {
							continue
						}
						if port != "" && (sp.Name == nil || *sp.Name != port) {
							continue
						}
						if port == "" && targetPort != nil && fmt.Sprint(targetPort) != fmt.Sprint(*sp.Port) {
							continue
						}
						for _, ep := range sl.Endpoints {
							if ep.Conditions.Ready != nil && !*ep.Conditions.Ready || len(ep.Addresses) == 0 {
								continue
							}
							lbl := map[string]string{"namespace": svc.Namespace, "service": svc.Name, "job": job}
							if port != "" {
								lbl["endpoint"] = port
							} else if targetPort != nil {
								lbl["endpoint"] = fmt.Sprint(targetPort)
							}
							if ep.TargetRef != nil && ep.TargetRef.Kind == "Pod" {
								lbl["pod"] = ep.TargetRef.Name
								if pod, err := op.l.client.CoreV1().Pods(svc.Namespace).Get(ctx, ep.TargetRef.Name, metav1.GetOptions{}); err == nil {
									for _, c := range pod.Spec.Containers {
										for _, cp := range c.Ports {
											if cp.ContainerPort == *sp.Port {
												lbl["container"] = c.Name
											}
										}
									}
								}
							}
							if ep.NodeName != nil {
								lbl["node"] = *ep.NodeName
							}
							out = append(out, target{addr: fmt.Sprintf("%s:%d", ep.Addresses[0], *sp.Port), labels: lbl})
						}
					}
				}
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].addr < out[j].addr })
		return out, nil
	}

	var jobs []any
	for i, raw := range endpoints {
		ep, _ := raw.(map[string]any)
		get := func(k string) string { v, _ := ep[k].(string); return v }
		targets, err := targetsFor(get("port"), ep["targetPort"])
		if err != nil {
			return nil, err
		}
		var static []any
		for _, t := range targets {
			lbl := map[string]any{}
			for k, v := range t.labels {
				lbl[k] = v
			}
			static = append(static, map[string]any{"targets": []any{t.addr}, "labels": lbl})
		}
		if static == nil {
			static = []any{}
		}
		job := map[string]any{
			"job_name":        fmt.Sprintf("serviceMonitor/%s/%s/%d", sm.GetNamespace(), sm.GetName(), i),
			"honor_labels":    ep["honorLabels"] == true,
			"static_configs":  static,
			"scrape_interval": defInterval,
		}
		if extra, ok := ep["relabelings"].([]any); ok {
			job["relabel_configs"] = lowerRelabel(extra)
		}
		if v := get("interval"); v != "" {
			job["scrape_interval"] = v
		}
		if v := get("scrapeTimeout"); v != "" {
			job["scrape_timeout"] = v
		}
		if v := get("path"); v != "" {
			job["metrics_path"] = v
		}
		if v := get("scheme"); v != "" {
			job["scheme"] = v
		}
		if mr, ok := ep["metricRelabelings"].([]any); ok {
			job["metric_relabel_configs"] = lowerRelabel(mr)
		}
		jobs = append(jobs, job)
	}
	return jobs, nil
}

// lowerRelabel turns the CRD's camelCase relabel configs into Prometheus's
// snake_case.
func lowerRelabel(in []any) []any {
	keys := map[string]string{"sourceLabels": "source_labels", "targetLabel": "target_label"}
	var out []any
	for _, raw := range in {
		m, _ := raw.(map[string]any)
		c := map[string]any{}
		for k, v := range m {
			if nk, ok := keys[k]; ok {
				k = nk
			}
			if k == "action" {
				v = strings.ToLower(fmt.Sprint(v))
			}
			c[k] = v
		}
		out = append(out, c)
	}
	return out
}

// ensureWorkload keeps the StatefulSet and Service the operator would make.
func (op *operator) ensureWorkload(ctx context.Context, prom *unstructured.Unstructured, spec map[string]any, dir string) error {
	ns, name := prom.GetNamespace(), prom.GetName()
	owner := metav1.OwnerReference{APIVersion: "monitoring.coreos.com/v1", Kind: "Prometheus", Name: name, UID: prom.GetUID(),
		Controller: ptr(true), BlockOwnerDeletion: ptr(true)}
	podLabels := map[string]string{
		"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": name,
		"app.kubernetes.io/managed-by": "prometheus-operator", "operator.prometheus.io/name": name,
		"operator.prometheus.io/shard": "0", "prometheus": name,
	}
	sts := op.l.client.AppsV1().StatefulSets(ns)
	if _, err := sts.Get(ctx, "prometheus-"+name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		retention := "24h"
		if v, ok := spec["retention"].(string); ok && v != "" {
			retention = v
		}
		replicas := int32(1)
		obj := &appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Name: "prometheus-" + name, Namespace: ns, Labels: podLabels, OwnerReferences: []metav1.OwnerReference{owner},
				Annotations: map[string]string{"dojo.kubedojo.dev/stand-in": "made by the lab's operator stand-in, not prometheus-operator"}},
			Spec: appsv1.StatefulSetSpec{
				Replicas:    &replicas,
				ServiceName: "prometheus-operated",
				Selector:    &metav1.LabelSelector{MatchLabels: podLabels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
					Spec: corev1.PodSpec{
						Containers: []corev1.Container{{
							Name:  "prometheus",
							Image: PrometheusImage,
							Args: []string{
								"--config.file=/etc/prometheus/config_out/prometheus.env.yaml",
								"--web.enable-lifecycle",
								"--web.listen-address=:9090",
								"--storage.tsdb.path=/prometheus",
								"--storage.tsdb.retention.time=" + retention,
								"--web.route-prefix=/",
							},
							Ports: []corev1.ContainerPort{{Name: "http-web", ContainerPort: 9090}},
							ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
								Path: "/-/ready", Port: intstr.FromString("http-web")}}},
							VolumeMounts: []corev1.VolumeMount{
								{Name: "config-out", MountPath: "/etc/prometheus/config_out"},
								{Name: "prometheus-db", MountPath: "/prometheus"},
							},
						}},
						Volumes: []corev1.Volume{
							// The stand-in writes the configuration on the host; the
							// process kubelet passes this path to Prometheus.
							{Name: "config-out", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: dir}}},
							{Name: "prometheus-db", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
						},
					},
				},
			},
		}
		if _, err := sts.Create(ctx, obj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	} else if err != nil {
		return err
	}
	svcs := op.l.client.CoreV1().Services(ns)
	if _, err := svcs.Get(ctx, "prometheus-operated", metav1.GetOptions{}); apierrors.IsNotFound(err) {
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "prometheus-operated", Namespace: ns, Labels: map[string]string{"managed-by": "prometheus-operator", "operated-prometheus": "true"}},
			Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{"app.kubernetes.io/name": "prometheus"},
				Ports: []corev1.ServicePort{{Name: "http-web", Port: 9090, TargetPort: intstr.FromString("http-web")}}},
		}
		if _, err := svcs.Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	} else if err != nil {
		return err
	}
	return nil
}

// reload POSTs /-/reload to the ready Prometheus pod when the configuration
// changed since it last loaded it (or the pod is new).
func (op *operator) reload(ctx context.Context, ns, name, sum string) error {
	pods, err := op.l.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "operator.prometheus.io/name=" + name})
	if err != nil {
		return err
	}
	key := ns + "/" + name
	for _, p := range pods.Items {
		if p.Status.PodIP == "" || !podReady(&p) || p.DeletionTimestamp != nil {
			continue
		}
		if op.reloaded[key] == sum && op.podOf[key] == string(p.UID) {
			return nil
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(rctx, http.MethodPost, "http://"+p.Status.PodIP+":9090/-/reload", nil)
		if err := doOK(http.DefaultClient, req); err != nil {
			return fmt.Errorf("reload: %w", err)
		}
		op.reloaded[key], op.podOf[key] = sum, string(p.UID)
		op.l.logf("operator stand-in: Prometheus %s reloaded its configuration", key)
	}
	return nil
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func ptr[T any](v T) *T { return &v }
