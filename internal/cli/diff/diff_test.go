package diff

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubedojo/dojo/internal/solve"
	"github.com/kubedojo/dojo/internal/steps"
	goldenfile "github.com/kubedojo/dojo/internal/testutil/golden"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"sigs.k8s.io/yaml"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory/factorytest"
	"github.com/kubedojo/dojo/internal/helm"
)

func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, name+".golden", []byte(got))
}

// standInReleases answers from a map of release name → values.
type standInReleases map[string]map[string]any

func (r standInReleases) Last(_ context.Context, name, _ string) (*helm.Deployed, error) {
	v, ok := r[name]
	if !ok {
		return nil, nil
	}
	return &helm.Deployed{Name: name, Revision: 2, Values: v}, nil
}

func reference(t *testing.T, file string) []byte {
	data, err := fs.ReadFile(embedded.FS(), "solutions/step-5/values/"+file)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func run(t *testing.T, files map[string]string, rels Releases, relErr error) (string, string) {
	ws := t.TempDir()
	for p, body := range files {
		dst := filepath.Join(ws, p)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, st := factorytest.New(t, factorytest.Options{Workspace: ws})
	o := &Options{Step: "step-5", IO: f.IO, Catalog: f.Catalog, State: f.State, Workspace: f.Workspace, Embedded: f.Embedded, Now: f.Now,
		Releases: func() (Releases, error) { return rels, relErr }}
	if err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	return st.Out.String(), st.ErrOut.String()
}

func TestDiffShowsTheChangedFieldInFileAndCluster(t *testing.T) {
	ref := string(reference(t, "prometheus.yaml"))
	mine := strings.Replace(ref, "scrapeInterval: 5s", "scrapeInterval: 30s", 1)
	vals := map[string]any{}
	if err := yaml.Unmarshal([]byte(mine), &vals); err != nil {
		t.Fatal(err)
	}
	out, _ := run(t, map[string]string{"values/prometheus.yaml": mine},
		standInReleases{"producer": {"domain": "vcap.me"}, "prometheus": vals}, nil)
	golden(t, "scrape-interval-30s", out)
}

func TestEquivalentWorkShowsNoDifference(t *testing.T) {
	// The reference without its comments and with its keys in another
	// order: the same meaning.
	vals := map[string]any{}
	if err := yaml.Unmarshal(reference(t, "prometheus.yaml"), &vals); err != nil {
		t.Fatal(err)
	}
	mine, _ := yaml.Marshal(vals)
	out, _ := run(t, map[string]string{"values/prometheus.yaml": string(mine)},
		standInReleases{"producer": {"domain": "vcap.me"}, "prometheus": vals}, nil)
	for _, want := range []string{"means the same as the reference", "mean the same as the reference", "no difference worth worrying about"} {
		if !strings.Contains(out, want) {
			t.Errorf("equivalent work: %q missing from\n%s", want, out)
		}
	}
}

func TestWithoutAClusterOnlyTheFiles(t *testing.T) {
	out, errOut := run(t, map[string]string{"values/prometheus.yaml": "prometheus: {}\n"}, nil, errors.New(`no context "kind-dojo"`))
	if !strings.Contains(errOut, "comparing files only") || !strings.Contains(errOut, `no context "kind-dojo"`) {
		t.Errorf("stderr: %q", errOut)
	}
	if !strings.Contains(out, "your file against the reference") || strings.Contains(out, "release prometheus") {
		t.Errorf("stdout:\n%s", out)
	}
}

func TestStepsWithoutReference(t *testing.T) {
	f, _ := factorytest.New(t, factorytest.Options{Workspace: t.TempDir()})
	o := &Options{Step: "step-2", IO: f.IO, Catalog: f.Catalog, State: f.State, Workspace: f.Workspace, Embedded: f.Embedded, Now: f.Now}
	if err := Run(context.Background(), o); cmdutil.ExitCode(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), "step-5") {
		t.Fatalf("step-2: %v", err)
	}
}

func TestDiffComparesTheLiveHPA(t *testing.T) {
	refs, err := solve.ReferenceObjects(embedded.FS(), mustStep(t, "step-10"), nil)
	if err != nil || len(refs) != 1 {
		t.Fatal(refs, err)
	}
	live := refs[0].DeepCopy()
	_ = unstructured.SetNestedField(live.Object, int64(10), "spec", "maxReplicas")
	ref, err := fs.ReadFile(embedded.FS(), "solutions/step-10/charts/consumer/templates/horizontalpodautoscaler.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ws := t.TempDir()
	dst := filepath.Join(ws, "charts/consumer/templates/horizontalpodautoscaler.yaml")
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, ref, 0o644); err != nil {
		t.Fatal(err)
	}
	f, st := factorytest.New(t, factorytest.Options{Workspace: ws})
	rels := standInReleases{"producer": {"domain": "vcap.me"}, "consumer": {}}
	o := &Options{Step: "step-10", IO: f.IO, Catalog: f.Catalog, State: f.State, Workspace: f.Workspace, Embedded: f.Embedded, Now: f.Now,
		Releases: func() (Releases, error) { return rels, nil },
		Dynamic: func() (dynamic.Interface, error) {
			return dynamicfake.NewSimpleDynamicClient(runtime.NewScheme(), live), nil
		}}
	if err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	golden(t, "live-hpa-maxreplicas-10", st.Out.String())
}

func mustStep(t *testing.T, id string) *steps.Step {
	t.Helper()
	cat, err := steps.Load(embedded.FS())
	if err != nil {
		t.Fatal(err)
	}
	s, err := cat.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
