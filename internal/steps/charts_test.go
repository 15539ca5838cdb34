package steps_test

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	"helm.sh/helm/v4/pkg/ignore"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/versions"
	"github.com/kubedojo/dojo/internal/workshop"
)

const monitoringAPI = "monitoring.coreos.com/v1"

// loadChart loads an embedded workspace chart the way Helm loads a chart
// directory: .helmignore applies. overlay adds or replaces files (paths
// relative to the chart), as `dojo solve` and the learner do.
func loadChart(t *testing.T, name string, overlay map[string][]byte) *chartv2.Chart {
	t.Helper()
	fsys, err := fs.Sub(embedded.FS(), path.Join("workspace/charts", name))
	if err != nil {
		t.Fatal(err)
	}
	ignoreFile, err := fs.ReadFile(fsys, ".helmignore")
	if err != nil {
		t.Fatalf("chart %s: %v", name, err)
	}
	rules, err := ignore.Parse(strings.NewReader(string(ignoreFile)))
	if err != nil {
		t.Fatalf("chart %s: .helmignore: %v", name, err)
	}
	rules.AddDefaults()

	files := map[string][]byte{}
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if rules.Ignore(p, info) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		files[p] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, data := range overlay {
		if rules.Ignore(p, fakeFile(path.Base(p))) {
			continue
		}
		files[p] = data
	}
	var buffered []*archive.BufferedFile
	for p, data := range files {
		buffered = append(buffered, &archive.BufferedFile{Name: p, Data: data})
	}
	ch, err := loader.LoadFiles(buffered)
	if err != nil {
		t.Fatalf("chart %s: %v", name, err)
	}
	return ch
}

// solutionFile reads an embedded reference file, relative to the chart
// it belongs to.
func solutionFile(t *testing.T, stepID, workspacePath string) []byte {
	t.Helper()
	data, err := fs.ReadFile(embedded.FS(), path.Join("solutions", stepID, workspacePath))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

type renderOpts struct {
	namespace string
	values    map[string]any
	apis      []string // API versions the cluster knows besides the built-in ones
}

// render renders a chart as Helm would install it, strict about missing
// values, and returns every object it produced.
func render(t *testing.T, ch *chartv2.Chart, o renderOpts) []map[string]any {
	t.Helper()
	if o.namespace == "" {
		o.namespace = "default"
	}
	caps := common.DefaultCapabilities.Copy()
	caps.APIVersions = append(slices.Clone(caps.APIVersions), o.apis...)
	vals, err := util.ToRenderValues(ch, o.values, common.ReleaseOptions{
		Name: ch.Name(), Namespace: o.namespace, Revision: 1, IsInstall: true,
	}, caps)
	if err != nil {
		t.Fatal(err)
	}
	out, err := engine.Engine{Strict: true}.Render(ch, vals)
	if err != nil {
		t.Fatalf("rendering %s: %v", ch.Name(), err)
	}
	var objs []map[string]any
	for name, manifest := range out {
		if strings.HasSuffix(name, "NOTES.txt") || path.Ext(name) == ".tpl" {
			continue
		}
		for _, doc := range docSeparator.Split(manifest, -1) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			var obj map[string]any
			if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
				t.Fatalf("%s is not valid YAML: %v\n%s", name, err, doc)
			}
			if len(obj) == 0 {
				continue // a document of comments only
			}
			objs = append(objs, obj)
		}
	}
	return objs
}

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// find returns the rendered object of that kind and name, or nil.
func find(objs []map[string]any, kind, name string) map[string]any {
	for _, o := range objs {
		if o["kind"] == kind && dig(o, "metadata.name") == name {
			return o
		}
	}
	return nil
}

func kinds(objs []map[string]any) []string {
	var ks []string
	for _, o := range objs {
		ks = append(ks, o["kind"].(string)+"/"+dig(o, "metadata.name").(string))
	}
	slices.Sort(ks)
	return ks
}

// decode converts a rendered object into a typed one, refusing unknown
// fields so that a misspelt key fails the test.
func decode[T any](t *testing.T, obj map[string]any) *T {
	t.Helper()
	if obj == nil {
		t.Fatalf("object not rendered")
	}
	data, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var v T
	if err := yaml.UnmarshalStrict(data, &v); err != nil {
		t.Fatalf("decoding %s %s: %v", obj["kind"], dig(obj, "metadata.name"), err)
	}
	return &v
}

func mustDeployment(t *testing.T, objs []map[string]any, name string) *appsv1.Deployment {
	t.Helper()
	o := find(objs, "Deployment", name)
	if o == nil {
		t.Fatalf("no Deployment %s among %v", name, kinds(objs))
	}
	d := decode[appsv1.Deployment](t, o)
	if d.APIVersion != "apps/v1" {
		t.Errorf("Deployment %s: apiVersion %s", name, d.APIVersion)
	}
	sel := d.Spec.Selector.MatchLabels
	if len(sel) == 0 {
		t.Errorf("Deployment %s has no selector", name)
	}
	for k, v := range sel {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("Deployment %s: selector %s=%s does not match its pod template", name, k, v)
		}
	}
	if len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("Deployment %s has %d containers, want 1", name, len(d.Spec.Template.Spec.Containers))
	}
	return d
}

func mustService(t *testing.T, objs []map[string]any, name string, podLabels map[string]string) *corev1.Service {
	t.Helper()
	o := find(objs, "Service", name)
	if o == nil {
		t.Fatalf("no Service %s among %v", name, kinds(objs))
	}
	s := decode[corev1.Service](t, o)
	for k, v := range s.Spec.Selector {
		if podLabels[k] != v {
			t.Errorf("Service %s selects %s=%s, which its pods do not carry", name, k, v)
		}
	}
	if len(s.Spec.Selector) == 0 {
		t.Errorf("Service %s selects nothing", name)
	}
	return s
}

func envOf(c corev1.Container) map[string]string {
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	return env
}

func containerPort(c corev1.Container, name string) int32 {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

func checkHealthProbes(t *testing.T, name string, c corev1.Container) {
	t.Helper()
	// Readiness asks whether the app can reach Redis (/healthz); liveness
	// only whether the process answers (/livez), so a Redis outage makes the
	// pods unready and never restarts them.
	// The startup probe (/livez, every second) lets readiness be asked as
	// soon as the process answers.
	for kind, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe, "startup": c.StartupProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("%s: no HTTP %s probe", name, kind)
			continue
		}
		port := p.HTTPGet.Port.IntValue()
		if p.HTTPGet.Port.StrVal != "" {
			port = int(containerPort(c, p.HTTPGet.Port.StrVal))
		}
		want := map[string]string{"readiness": "/healthz", "liveness": "/livez", "startup": "/livez"}[kind]
		if p.HTTPGet.Path != want || port != 8080 {
			t.Errorf("%s: %s probe on %s port %d, want %s on 8080", name, kind, p.HTTPGet.Path, port, want)
		}
	}
	if p := c.StartupProbe; p != nil && (p.PeriodSeconds != 1 || p.PeriodSeconds*p.FailureThreshold < 10) {
		t.Errorf("%s: startup probe every %d s, %d times: want every second, for 10 s or more", name, p.PeriodSeconds, p.FailureThreshold)
	}
}

func checkAppSecurity(t *testing.T, name string, d *appsv1.Deployment) {
	t.Helper()
	c := d.Spec.Template.Spec.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != 65532 ||
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("%s: container securityContext %+v is not locked down (non-root 65532, read-only root, no escalation, drop ALL)", name, sc)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
		t.Errorf("%s: no CPU and memory requests", name)
	}
	if c.ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("%s: imagePullPolicy %s, want IfNotPresent", name, c.ImagePullPolicy)
	}
}

func TestRedisChart(t *testing.T) {
	objs := render(t, loadChart(t, "redis", nil), renderOpts{})
	if got := kinds(objs); !slices.Equal(got, []string{"Deployment/redis-master", "Service/redis-master"}) {
		t.Errorf("redis renders %v", got)
	}
	d := mustDeployment(t, objs, "redis-master")
	c := d.Spec.Template.Spec.Containers[0]
	if c.Image != versions.RedisImage {
		t.Errorf("redis image %s, want %s", c.Image, versions.RedisImage)
	}
	want := []string{"redis-server", "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--dir", "/data",
		"--maxmemory", "190mb", "--maxmemory-policy", "noeviction"}
	if !slices.Equal(c.Args, want) || len(c.Command) != 0 {
		t.Errorf("redis command %q args %q, want the image's entrypoint with args %q", c.Command, c.Args, want)
	}
	// The append-only file in /data, on the node: a new pod finds it.
	vols := d.Spec.Template.Spec.Volumes
	if len(vols) != 1 || vols[0].HostPath == nil || vols[0].HostPath.Path != "/var/local/dojo/redis" ||
		len(c.VolumeMounts) != 1 || c.VolumeMounts[0].Name != vols[0].Name || c.VolumeMounts[0].MountPath != "/data" {
		t.Errorf("redis volumes %+v mounts %+v: want /data on the node's /var/local/dojo/redis", vols, c.VolumeMounts)
	}
	// The chart's own numbers are the ones dojo up computes and sets.
	if got := c.Resources.Limits.Memory().String(); got != fmt.Sprintf("%dMi", workshop.RedisMemoryLimitMiB) {
		t.Errorf("the chart's memory limit %s differs from workshop.RedisMemoryLimitMiB %d", got, workshop.RedisMemoryLimitMiB)
	}
	if fmt.Sprintf("%dmb", workshop.RedisMaxMemoryMiB) != "190mb" {
		t.Errorf("the chart's maxmemory 190mb differs from workshop.RedisMaxMemoryMiB %d", workshop.RedisMaxMemoryMiB)
	}
	// dojo up's values reach the chart; without a node path the file stays in the pod.
	vals := workshop.RedisValues()
	vals["persistence"] = map[string]any{"hostPath": ""}
	d = mustDeployment(t, render(t, loadChart(t, "redis", nil), renderOpts{values: vals}), "redis-master")
	if vols := d.Spec.Template.Spec.Volumes; len(vols) != 1 || vols[0].EmptyDir == nil {
		t.Errorf("redis without persistence.hostPath: volumes %+v, want an emptyDir", vols)
	}
	// A queue as large as dojo load makes, twice over, fits under maxmemory,
	// and maxmemory under the container's limit.
	if 2*workshop.MaxLoadItems*workshop.QueuedItemBytes > workshop.RedisMaxMemoryMiB<<20+(1<<20) ||
		workshop.RedisMaxMemoryMiB >= workshop.RedisMemoryLimitMiB {
		t.Errorf("maxmemory %d MiB, limit %d MiB do not hold two loads of %d items", workshop.RedisMaxMemoryMiB, workshop.RedisMemoryLimitMiB, workshop.MaxLoadItems)
	}
	if c.ReadinessProbe == nil || (c.ReadinessProbe.Exec == nil && c.ReadinessProbe.TCPSocket == nil) {
		t.Errorf("redis has no readiness probe")
	}
	if d.Spec.Template.Labels["app.kubernetes.io/name"] != "redis" {
		t.Errorf("redis pods labelled %v", d.Spec.Template.Labels)
	}
	s := mustService(t, objs, "redis-master", d.Spec.Template.Labels)
	if len(s.Spec.Ports) != 1 || s.Spec.Ports[0].Port != 6379 || s.Spec.Ports[0].Name != "redis" ||
		containerPort(c, s.Spec.Ports[0].TargetPort.StrVal) != 6379 {
		t.Errorf("Service redis-master ports %+v, want redis 6379 → the container's 6379", s.Spec.Ports)
	}
}

func TestProducerChart(t *testing.T) {
	ch := loadChart(t, "producer", nil)
	objs := render(t, ch, renderOpts{})
	if got := kinds(objs); !slices.Equal(got, []string{"Deployment/producer", "Ingress/producer", "Service/producer"}) {
		t.Errorf("producer renders %v", got)
	}
	d := mustDeployment(t, objs, "producer")
	c := d.Spec.Template.Spec.Containers[0]
	if want := versions.AppImageRepository + ":dev"; c.Image != want {
		t.Errorf("producer image %s, want %s (the chart's appVersion)", c.Image, want)
	}
	if !slices.Equal(c.Args, []string{"app", "producer"}) {
		t.Errorf("producer args %q", c.Args)
	}
	env := envOf(c)
	for k, v := range map[string]string{"DOJO_REDIS_ADDR": "redis-master:6379", "DOJO_QUEUE": "padok", "DOJO_LISTEN": ":8080"} {
		if env[k] != v {
			t.Errorf("producer env %s=%q, want %q", k, env[k], v)
		}
	}
	if d.Spec.Template.Labels["app.kubernetes.io/name"] != "producer" {
		t.Errorf("producer pods labelled %v", d.Spec.Template.Labels)
	}
	checkHealthProbes(t, "producer", c)
	checkAppSecurity(t, "producer", d)

	s := mustService(t, objs, "producer", d.Spec.Template.Labels)
	if len(s.Spec.Ports) != 1 || s.Spec.Ports[0].Port != 80 || s.Spec.Ports[0].Name != "http" ||
		containerPort(c, s.Spec.Ports[0].TargetPort.StrVal) != 8080 {
		t.Errorf("Service producer ports %+v, want http 80 → the container's 8080", s.Spec.Ports)
	}

	ing := decode[networkingv1.Ingress](t, find(objs, "Ingress", "producer"))
	if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "traefik" {
		t.Errorf("Ingress producer class %v, want traefik", ing.Spec.IngressClassName)
	}
	if len(ing.Spec.Rules) != 1 || ing.Spec.Rules[0].Host != "producer.vcap.me" || ing.Spec.Rules[0].HTTP == nil ||
		len(ing.Spec.Rules[0].HTTP.Paths) != 1 {
		t.Fatalf("Ingress producer rules %+v, want one for producer.vcap.me", ing.Spec.Rules)
	}
	p := ing.Spec.Rules[0].HTTP.Paths[0]
	if p.Path != "/" || p.PathType == nil || *p.PathType != networkingv1.PathTypePrefix ||
		p.Backend.Service == nil || p.Backend.Service.Name != "producer" || p.Backend.Service.Port.Name != "http" {
		t.Errorf("Ingress producer path %+v, want / Prefix → Service producer port http", p)
	}

	// dojo up --domain localhost, and dojo passing its own image tag.
	objs = render(t, ch, renderOpts{values: map[string]any{
		"domain": "localhost",
		"image":  map[string]any{"tag": "v1.2.3"},
	}})
	ing = decode[networkingv1.Ingress](t, find(objs, "Ingress", "producer"))
	if h := ing.Spec.Rules[0].Host; h != "producer.localhost" {
		t.Errorf("with domain localhost the host is %s", h)
	}
	d = mustDeployment(t, objs, "producer")
	if img := d.Spec.Template.Spec.Containers[0].Image; img != versions.AppImageRepository+":v1.2.3" {
		t.Errorf("with image.tag v1.2.3 the image is %s", img)
	}
}

func checkConsumerDeployment(t *testing.T, objs []map[string]any) {
	t.Helper()
	d := mustDeployment(t, objs, "consumer")
	c := d.Spec.Template.Spec.Containers[0]
	if d.Labels["app.kubernetes.io/name"] != "consumer" || d.Spec.Template.Labels["app.kubernetes.io/name"] != "consumer" {
		t.Errorf("consumer labels %v, pods %v: want app.kubernetes.io/name=consumer", d.Labels, d.Spec.Template.Labels)
	}
	if !slices.Equal(c.Args, []string{"app", "consumer"}) {
		t.Errorf("consumer args %q, want [app consumer]", c.Args)
	}
	if c.Image != versions.AppImageRepository+":dev" {
		t.Errorf("consumer image %s", c.Image)
	}
	env := envOf(c)
	for k, v := range map[string]string{"DOJO_REDIS_ADDR": "redis-master:6379", "DOJO_QUEUE": "padok", "DOJO_LISTEN": ":8080", "DOJO_WORK_TIME": "1s"} {
		if env[k] != v {
			t.Errorf("consumer env %s=%q, want %q", k, env[k], v)
		}
	}
	if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g == nil || *g != 30 {
		t.Errorf("consumer terminationGracePeriodSeconds %v, want 30", g)
	}
	// Left out on purpose: the API server starts it at 1, and Helm never
	// fights the HPA over it.
	if d.Spec.Replicas != nil {
		t.Errorf("consumer sets replicas %d; the field must stay unset so that the HPA owns it", *d.Spec.Replicas)
	}
	checkHealthProbes(t, "consumer", c)
	checkAppSecurity(t, "consumer", d)
}

func TestConsumerChartStartsWithoutRuleNorHPA(t *testing.T) {
	objs := render(t, loadChart(t, "consumer", nil), renderOpts{apis: []string{monitoringAPI}})
	if got := kinds(objs); !slices.Equal(got, []string{"Deployment/consumer"}) {
		t.Errorf("the starting consumer chart renders %v, want only its Deployment", got)
	}
	checkConsumerDeployment(t, objs)
}

func TestHelmIgnoreDropsBackups(t *testing.T) {
	// dojo solve backs up a learner's file as <file>.<timestamp>.bak next to
	// it; a backup in templates/ must never be rendered.
	stale := []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stale-backup\n")
	for _, name := range []string{"redis", "producer", "consumer"} {
		ch := loadChart(t, name, map[string][]byte{
			"templates/deployment.yaml.20260101-120000.bak": stale,
			"values.yaml.20260101-120000.bak":               stale,
		})
		for _, tpl := range ch.Templates {
			if strings.HasSuffix(tpl.Name, ".bak") {
				t.Errorf("chart %s loads the backup %s", name, tpl.Name)
			}
		}
		if o := find(render(t, ch, renderOpts{}), "ConfigMap", "stale-backup"); o != nil {
			t.Errorf("chart %s renders a backup file", name)
		}
	}
}

func TestPrometheusRuleSolution(t *testing.T) {
	const p = "charts/consumer/templates/prometheusrule.yaml"
	overlay := map[string][]byte{"templates/prometheusrule.yaml": solutionFile(t, "step-7", p)}
	ch := loadChart(t, "consumer", overlay)

	// Without the operator's API, the chart still installs, without a rule.
	objs := render(t, ch, renderOpts{})
	if got := kinds(objs); !slices.Equal(got, []string{"Deployment/consumer"}) {
		t.Errorf("without %s the consumer chart renders %v, want only its Deployment", monitoringAPI, got)
	}

	for _, ns := range []string{"default", "team-a"} {
		objs := render(t, ch, renderOpts{namespace: ns, apis: []string{monitoringAPI}})
		checkConsumerDeployment(t, objs)
		rule := find(objs, "PrometheusRule", "consumer")
		if rule == nil {
			t.Fatalf("with %s in namespace %s: no PrometheusRule consumer among %v", monitoringAPI, ns, kinds(objs))
		}
		if rule["apiVersion"] != monitoringAPI {
			t.Errorf("PrometheusRule apiVersion %v", rule["apiVersion"])
		}
		groups, _ := dig(rule, "spec.groups").([]any)
		if len(groups) != 1 {
			t.Fatalf("PrometheusRule has %d groups, want 1", len(groups))
		}
		group, _ := groups[0].(map[string]any)
		if group["interval"] != "1s" {
			t.Errorf("rule group interval %v, want 1s", group["interval"])
		}
		rules, _ := group["rules"].([]any)
		if len(rules) != 1 {
			t.Fatalf("rule group has %d rules, want 1", len(rules))
		}
		r, _ := rules[0].(map[string]any)
		if r["record"] != "redis_items_in_queue" {
			t.Errorf("the rule records %v, want redis_items_in_queue", r["record"])
		}
		expr, _ := r["expr"].(string)
		selector := `redis_key_size{service="prometheus-redis-exporter",namespace="` + ns + `",key="padok"}`
		want := selector + " or clamp_max(absent(" + selector + "), 0)"
		if got := strings.Join(strings.Fields(expr), " "); got != want {
			t.Errorf("in namespace %s the rule's expression is\n%s\nwant\n%s", ns, got, want)
		}
	}
}

// hpaSpec is what the reference HPA of steps 9 and 10 must say, min aside.
func checkHPA(t *testing.T, stepID string, wantMin int32) {
	t.Helper()
	const p = "charts/consumer/templates/horizontalpodautoscaler.yaml"
	overlay := map[string][]byte{
		"templates/horizontalpodautoscaler.yaml": solutionFile(t, stepID, p),
		"templates/prometheusrule.yaml":          solutionFile(t, "step-7", "charts/consumer/templates/prometheusrule.yaml"),
	}
	objs := render(t, loadChart(t, "consumer", overlay), renderOpts{apis: []string{monitoringAPI}})
	if got := kinds(objs); !slices.Equal(got, []string{"Deployment/consumer", "HorizontalPodAutoscaler/consumer", "PrometheusRule/consumer"}) {
		t.Errorf("%s: the consumer chart renders %v", stepID, got)
	}
	checkConsumerDeployment(t, objs)

	hpa := decode[autoscalingv2.HorizontalPodAutoscaler](t, find(objs, "HorizontalPodAutoscaler", "consumer"))
	if hpa.APIVersion != "autoscaling/v2" {
		t.Errorf("%s: HPA apiVersion %s, want autoscaling/v2", stepID, hpa.APIVersion)
	}
	ref := hpa.Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != "consumer" {
		t.Errorf("%s: HPA scales %+v, want apps/v1 Deployment consumer", stepID, ref)
	}
	if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas != wantMin || hpa.Spec.MaxReplicas != 20 {
		t.Errorf("%s: HPA min %v max %d, want %d and 20", stepID, hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas, wantMin)
	}
	if len(hpa.Spec.Metrics) != 1 {
		t.Fatalf("%s: HPA has %d metrics, want 1", stepID, len(hpa.Spec.Metrics))
	}
	m := hpa.Spec.Metrics[0]
	if m.Type != autoscalingv2.ObjectMetricSourceType || m.Object == nil {
		t.Fatalf("%s: HPA metric of type %s, want Object", stepID, m.Type)
	}
	o := m.Object
	if o.DescribedObject.APIVersion != "v1" || o.DescribedObject.Kind != "Service" || o.DescribedObject.Name != "prometheus-redis-exporter" {
		t.Errorf("%s: metric describes %+v, want v1 Service prometheus-redis-exporter", stepID, o.DescribedObject)
	}
	if o.Metric.Name != "redis_items_in_queue" || o.Metric.Selector == nil ||
		len(o.Metric.Selector.MatchLabels) != 1 || o.Metric.Selector.MatchLabels["key"] != "padok" ||
		len(o.Metric.Selector.MatchExpressions) != 0 {
		t.Errorf("%s: metric %+v, want redis_items_in_queue with the selector key=padok", stepID, o.Metric)
	}
	tgt := o.Target
	if tgt.Type != autoscalingv2.AverageValueMetricType || tgt.AverageValue == nil ||
		tgt.AverageValue.Cmp(resource.MustParse("20")) != 0 || tgt.Value != nil || tgt.AverageUtilization != nil {
		t.Errorf("%s: target %+v, want AverageValue with averageValue 20 and nothing else", stepID, tgt)
	}
}

func TestHPASolution(t *testing.T)         { checkHPA(t, "step-9", 1) }
func TestScaleToZeroSolution(t *testing.T) { checkHPA(t, "step-10", 0) }

// fakeFile is enough of an fs.FileInfo for ignore rules on a plain file.
type fakeFile string

func (f fakeFile) Name() string       { return string(f) }
func (f fakeFile) Size() int64        { return 0 }
func (f fakeFile) Mode() fs.FileMode  { return 0o644 }
func (f fakeFile) ModTime() time.Time { return time.Time{} }
func (f fakeFile) IsDir() bool        { return false }
func (f fakeFile) Sys() any           { return nil }
