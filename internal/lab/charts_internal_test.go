package lab

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/engine"

	"github.com/kubedojo/dojo/internal/testutil/reporoot"
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
	if strings.Contains(lab, "kind: Deployment") || strings.Contains(lab, "WebhookConfiguration") {
		t.Errorf("the lab's variant renders the operator:\n%s", lab)
	}
	if !strings.Contains(lab, "kind: Prometheus\n") {
		t.Errorf("the lab's variant has no Prometheus resource")
	}
	real, realCRDs := renderKPS(t, StandInOptions{RealOperator: true, CRDDir: dir})
	for _, want := range []string{
		`image: "quay.io/prometheus-operator/prometheus-operator:v0.93.1"`,
		"--prometheus-config-reloader=quay.io/prometheus-operator/prometheus-config-reloader:v0.93.1",
		"--kubelet-service=kube-system/prometheus-kube-prometheus-kubelet",
		"--web.cert-file=/cert/cert",
		"secretName: prometheus-kube-prometheus-admission",
		"kind: ValidatingWebhookConfiguration",
		"path: /admission-prometheusrules/validate",
		"failurePolicy: Ignore",
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
	if err := (StandInOptions{RealOperator: true, CRDDir: crdDir}).apply(ch); err != nil {
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
		t.Errorf("the chart as a release stores it is %d bytes; a release Secret holds at most 1 MiB", len(stored))
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
