package lab

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/engine"
	"sigs.k8s.io/yaml"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/testutil/reporoot"
	"github.com/kubedojo/dojo/internal/workshop"
)

// renderKPS renders the stand-in kube-prometheus-stack in the variant o, as
// release prometheus in the namespace prometheus, with default values.
func renderKPS(t *testing.T, o StandInOptions) (string, []string) {
	t.Helper()
	ch, err := loadFS(standInCharts, "charts/kube-prometheus-stack")
	if err != nil {
		t.Fatal(err)
	}
	if err := o.apply(ch); err != nil {
		t.Fatal(err)
	}
	vals, err := util.ToRenderValues(ch, nil, common.ReleaseOptions{Name: "prometheus", Namespace: "prometheus", IsInstall: true}, common.DefaultCapabilities.Copy())
	if err != nil {
		t.Fatal(err)
	}
	out, err := engine.Render(ch, vals)
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, v := range out {
		all.WriteString(v + "\n---\n")
	}
	var crds []string
	for _, f := range ch.CRDObjects() {
		crds = append(crds, filepath.Base(f.Filename))
	}
	return all.String(), crds
}

// The lab's variant leaves the operator to the lab's stand-in; the kind
// variant renders upstream's operator, its webhooks and its certificate;
// both ship the CRDs they are given, and nothing without them.
func TestStandInKubePrometheusStackVariants(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "monitoring.coreos.com_probes.yaml"), []byte("kind: CustomResourceDefinition\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lab, _ := renderKPS(t, StandInOptions{CRDDir: dir})
	for _, not := range []string{"kind: Deployment", "WebhookConfiguration", "kind: DaemonSet", "kind: ServiceMonitor"} {
		if strings.Contains(lab, not) {
			t.Errorf("the lab's variant renders a %q (the operator, an exporter or a ServiceMonitor):\n%s", not, lab)
		}
	}
	if !strings.Contains(lab, "kind: Prometheus\n") {
		t.Errorf("the lab's variant has no Prometheus resource")
	}
	real, realCRDs := renderKPS(t, StandInOptions{RealCluster: true, CRDDir: dir})
	for _, want := range []string{
		`image: "quay.io/prometheus-operator/prometheus-operator:v0.93.1"`,
		"--prometheus-config-reloader=quay.io/prometheus-operator/prometheus-config-reloader:v0.93.1",
		"--kubelet-service=kube-system/prometheus-kube-prometheus-kubelet",
		"--web.cert-file=/cert/cert",
		"secretName: prometheus-kube-prometheus-admission",
		"kind: ValidatingWebhookConfiguration",
		"path: /admission-prometheusrules/validate",
		"failurePolicy: Ignore",
		"image: registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.20.0",
		"- --resources=certificatesigningrequests,configmaps,",
		"image: quay.io/prometheus/node-exporter:v1.12.1-distroless",
		"hostNetwork: true",
		"- --collector.filesystem.fs-types-exclude=",
		"name: prometheus-kube-prometheus-kubelet\n",
		"path: /metrics/cadvisor",
		"name: prometheus-kube-prometheus-coredns\n",
		"jobLabel: node-exporter",
	} {
		if !strings.Contains(real, want) {
			t.Errorf("the kind variant lacks %q", want)
		}
	}
	if len(realCRDs) != 1 || realCRDs[0] != "monitoring.coreos.com_probes.yaml" {
		t.Errorf("the kind variant ships %v, want only the CRD given", realCRDs)
	}
	// With the operator module's real CRDs (4 MiB of YAML), what Helm
	// stores of the chart in its release still fits a Secret: the CRDs ride
	// in the subchart, which the stored chart leaves out.
	crdDir := filepath.Join(reporoot.Find(), ".cache", "promop", "crds")
	if n, _ := filepath.Glob(filepath.Join(crdDir, "*.yaml")); len(n) < 10 {
		t.Fatalf("%d CRDs in %s: run make crds", len(n), crdDir)
	}
	ch, err := loadFS(standInCharts, "charts/kube-prometheus-stack")
	if err != nil {
		t.Fatal(err)
	}
	if err := (StandInOptions{RealCluster: true, CRDDir: crdDir}).apply(ch); err != nil {
		t.Fatal(err)
	}
	if n := len(ch.CRDObjects()); n != 10 {
		t.Errorf("%d CRDs installed with the chart, want 10", n)
	}
	stored, err := json.Marshal(ch)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) > 512<<10 {
		t.Errorf("the chart as a release stores it is %d bytes; want at most 512 KiB (a release Secret holds 1 MiB, with the rendered manifest and values beside the chart)", len(stored))
	}
	for _, d := range []string{t.TempDir(), ""} {
		if _, err := renderKPSErr(StandInOptions{CRDDir: d}); err == nil || !strings.Contains(err.Error(), "make crds") {
			t.Errorf("CRD directory %q: %v, want an error that says to run make crds", d, err)
		}
	}
}

func renderKPSErr(o StandInOptions) (string, error) {
	ch, err := loadFS(standInCharts, "charts/kube-prometheus-stack")
	if err != nil {
		return "", err
	}
	return "", o.apply(ch)
}

// The Traefik stand-in refuses unknown value keys as upstream 41.3.0's schema
// does (additionalProperties: false at the top, in image, ingressClass,
// providers, updateStrategy and each port), so a misspelt key in dojo's
// values fails in the lab as it would on a laptop; dojo's own values pass.
func TestStandInTraefikValuesSchema(t *testing.T) {
	ch, err := loadFS(standInCharts, "charts/traefik")
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Schema) == 0 {
		t.Fatal("the Traefik stand-in has no values.schema.json")
	}
	raw, err := fs.ReadFile(embedded.FS(), workshop.TraefikValues)
	if err != nil {
		t.Fatal(err)
	}
	validate := func(doc string) error {
		var v map[string]any
		if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		merged, err := util.CoalesceValues(ch, v)
		if err != nil {
			t.Fatal(err)
		}
		return util.ValidateAgainstSchema(ch, merged)
	}
	if err := validate(string(raw)); err != nil {
		t.Fatalf("dojo's Traefik values fail the stand-in's schema: %v", err)
	}
	for _, tc := range []struct{ doc, key string }{
		{"hostPorts: {web: 80}\n", "hostPorts"},
		{"ports: {web: {hostport: 80}}\n", "hostport"},
		{"image: {tags: v3}\n", "tags"},
		{"ingressClass: {default: true}\n", "default"},
		{"updateStrategy: {rollingupdate: {}}\n", "rollingupdate"},
	} {
		err := validate(tc.doc)
		if err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("values %q: error %v, want one naming %q", tc.doc, err, tc.key)
		}
	}
}
