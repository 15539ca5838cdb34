package solve

import (
	"strings"
	"testing"
)

func TestUnifiedShowsOnlyTheChangedLinesWithContext(t *testing.T) {
	a := []byte("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\no\n")
	b := []byte("a\nb\nc\nd\nE\nf\ng\nh\ni\nj\nk\nl\nm\nn\no\np\n")
	got := Unified("yours", "reference", a, b)
	want := `--- yours
+++ reference
@@ -2,7 +2,7 @@
 b
 c
 d
-e
+E
 f
 g
 h
@@ -13,3 +13,4 @@
 m
 n
 o
+p
`
	if got != want {
		t.Fatalf("diff:\n%s\nwant:\n%s", got, want)
	}
	// Changes closer than twice the context share one hunk.
	if d := Unified("a", "b", []byte("1\n2\n3\n4\n5\n"), []byte("1\nX\n3\n4\nY\n")); strings.Count(d, "@@") != 2 {
		t.Fatalf("close changes in two hunks:\n%s", d)
	}
	if Unified("a", "b", a, a) != "" {
		t.Fatal("equal files have a diff")
	}
	if d := Unified("a", "b", nil, []byte("x\n")); !strings.Contains(d, "+x") {
		t.Fatalf("a new file: %q", d)
	}
}

func TestValuesDiffIsByMeaning(t *testing.T) {
	yours := map[string]any{"prometheus": map[string]any{"prometheusSpec": map[string]any{"scrapeInterval": "30s", "ruleSelector": map[string]any{}}}, "grafana": map[string]any{"enabled": false}}
	ref := map[string]any{"grafana": map[string]any{"enabled": false}, "prometheus": map[string]any{"prometheusSpec": map[string]any{"scrapeInterval": "5s"}}}
	d := ValuesDiff(yours, ref)
	if len(d) != 2 || d[0].Path != "prometheus.prometheusSpec.ruleSelector" || d[0].Yours != "{}" || d[0].Reference != "" ||
		d[1].Path != "prometheus.prometheusSpec.scrapeInterval" || d[1].Yours != `"30s"` || d[1].Reference != `"5s"` {
		t.Fatalf("diff %+v", d)
	}
	// Numbers from YAML (int) and from Helm's JSON record (float64) agree.
	if d := ValuesDiff(map[string]any{"port": 9090}, map[string]any{"port": float64(9090)}); len(d) != 0 {
		t.Fatalf("9090 vs 9090.0: %+v", d)
	}
}
