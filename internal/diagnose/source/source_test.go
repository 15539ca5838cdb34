package source_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kubedojo/dojo/internal/check/judge"
	"github.com/kubedojo/dojo/internal/diagnose/source"
)

// cacheDir is the repository's .cache/k8s-hpa-src, filled by `make
// hpa-sources` (a prerequisite of make test). Missing, the tests fail.
func cacheDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
	c := filepath.Join(dir, ".cache", "k8s-hpa-src")
	if _, err := source.Versions(c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTableMatchesSources: the table is what the releases' sources say,
// release for release, and it lists every release the proxy served.
func TestTableMatchesSources(t *testing.T) {
	read, err := source.ReadCache(cacheDir(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := source.Table(); !reflect.DeepEqual(got, read) {
		for i := range max(len(got), len(read)) {
			var g, r source.Line
			if i < len(got) {
				g = got[i]
			}
			if i < len(read) {
				r = read[i]
			}
			if g != r {
				t.Errorf("row %d: table %+v, sources %+v", i, g, r)
			}
		}
		t.Fatal("the table no longer matches the sources: go run ./internal/diagnose/source/gen -cache .cache/k8s-hpa-src -out internal/diagnose/source/table_gen.go")
	}
	first, newest := source.Range()
	if first != source.First || !strings.HasPrefix(newest, "v1.37.") {
		t.Errorf("table covers %s–%s, want %s to the newest v1.37 patch", first, newest, source.First)
	}
	t.Logf("MEASURE %d releases %s–%s", len(read), first, newest)
}

// TestClaimsHoldInEveryRelease: what dojo diagnose says of the controller
// is what the code of every release in the table does.
func TestClaimsHoldInEveryRelease(t *testing.T) {
	cache := cacheDir(t)
	for _, l := range source.Table() {
		calc, err := os.ReadFile(filepath.Join(cache, l.Version, filepath.Base(source.CalculatorFile)))
		if err != nil {
			t.Fatal(err)
		}
		c, err := source.Extract(calc)
		if err != nil {
			t.Fatalf("%s: %v", l.Version, err)
		}
		for name, d := range map[string]source.Division{source.ObjectFunc: c.Object, source.ExternalFunc: c.External} {
			// Claim: the average divides by the target's status replicas, unguarded.
			if d.Line == 0 || d.Guarded {
				t.Errorf("%s %s: no unguarded division by statusReplicas (%+v)", l.Version, name, d)
			}
			// Claim: the desired count is computed before, from the total.
			if !d.DesiredFirst {
				t.Errorf("%s %s: replicaCount is assigned after the division %q", l.Version, name, d.Statement)
			}
			if d.Statement != source.Statement {
				t.Errorf("%s %s: the division reads %q", l.Version, name, d.Statement)
			}
		}
		hz, err := os.ReadFile(filepath.Join(cache, l.Version, filepath.Base(source.ControllerFile)))
		if err != nil {
			t.Fatal(err)
		}
		ctl, err := source.ExtractController(hz)
		if err != nil {
			t.Fatalf("%s: %v", l.Version, err)
		}
		// Object: Value only with value (no division), AverageValue only
		// with averageValue (divides by statusReplicas), else refused.
		want := []source.Branch{
			{Cond: "metricSpec.Object.Target.Type == autoscalingv2.ValueMetricType && metricSpec.Object.Target.Value != nil", Call: "GetObjectMetricReplicas"},
			{Cond: "metricSpec.Object.Target.Type == autoscalingv2.AverageValueMetricType && metricSpec.Object.Target.AverageValue != nil", Call: "GetObjectPerPodMetricReplicas"},
		}
		checkBranches(t, l.Version, "computeStatusForObjectMetric", ctl.Object, want)
		if ctl.Refusal != judge.RefusedMessage {
			t.Errorf("%s: the refusal reads %q, dojo quotes %q", l.Version, ctl.Refusal, judge.RefusedMessage)
		}
		// External: averageValue is followed whatever the type says, and divides.
		want = []source.Branch{
			{Cond: "metricSpec.External.Target.AverageValue != nil", Call: "GetExternalPerPodMetricReplicas"},
			{Cond: "metricSpec.External.Target.Value != nil", Call: "GetExternalMetricReplicas"},
		}
		checkBranches(t, l.Version, "computeStatusForExternalMetric", ctl.External, want)
	}
}

func checkBranches(t *testing.T, version, fn string, got, want []source.Branch) {
	t.Helper()
	if len(got) < len(want) {
		t.Errorf("%s %s: branches %+v", version, fn, got)
		return
	}
	for i, w := range want {
		g := got[i]
		if g.Cond != w.Cond || g.Call != w.Call {
			t.Errorf("%s %s branch %d: if %s → %s, want if %s → %s", version, fn, i, g.Cond, g.Call, w.Cond, w.Call)
			continue
		}
		perPod := strings.Contains(w.Call, "PerPod")
		if divides := slices.Contains(g.Args, "statusReplicas"); divides != perPod {
			t.Errorf("%s %s: %s(%s): statusReplicas passed = %v", version, fn, g.Call, strings.Join(g.Args, ", "), divides)
		}
	}
}

// TestExtractSeesAFix: a release that guards the division is recorded with
// no line, so dojo diagnose would not point at it.
func TestExtractSeesAFix(t *testing.T) {
	fixed := []byte(`package podautoscaler
func (c *ReplicaCalculator) GetObjectPerPodMetricReplicas(statusReplicas int32, target int64) (replicaCount int32, usage int64) {
	replicaCount = int32(math.Ceil(float64(usage) / float64(target)))
	if statusReplicas > 0 {
		usage = int64(math.Ceil(float64(usage) / float64(statusReplicas)))
	}
	return
}
func (c *ReplicaCalculator) GetExternalPerPodMetricReplicas(statusReplicas int32, target int64) (replicaCount int32, usage int64) {
	usage = int64(math.Ceil(float64(usage) / float64(statusReplicas)))
	replicaCount = 3
	return
}
`)
	c, err := source.Extract(fixed)
	if err != nil {
		t.Fatal(err)
	}
	if c.Object.Line != 0 || !c.Object.Guarded || !c.Object.DesiredFirst {
		t.Errorf("guarded Object: %+v", c.Object)
	}
	if c.External.Line != 10 || c.External.Guarded || c.External.DesiredFirst {
		t.Errorf("unguarded External, replicaCount after: %+v", c.External)
	}
}

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		v    string
		ok   bool
		line int
	}{
		{"v1.37.2", true, 323},
		{"v1.37.0", true, 323},
		{"v1.30.5-gke.1014001", true, 301},
		{"v1.29.9", false, 0},
		{"v1.38.0", false, 0},
	} {
		l, ok := source.Lookup(tc.v)
		if ok != tc.ok || l.Object != tc.line {
			t.Errorf("Lookup(%s) = %+v, %v; want line %d, %v", tc.v, l, ok, tc.line, tc.ok)
		}
	}
	if !source.Less("v1.30.2", "v1.30.10") || source.Less("v1.31.0", "v1.30.14") {
		t.Error("Less does not order releases numerically")
	}
}
