package solve

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/kubedojo/dojo/embedded"
)

func TestReferenceObjectsRenderTheConsumerTemplates(t *testing.T) {
	vals := map[string]any{"image": map[string]any{"repository": "dojo", "tag": "dev"}}
	rule, err := ReferenceObjects(embedded.FS(), step(t, "step-7"), vals)
	if err != nil || len(rule) != 1 {
		t.Fatalf("step 7: %v %v", rule, err)
	}
	if rule[0].GetKind() != "PrometheusRule" || rule[0].GetName() != "consumer" || rule[0].GetNamespace() != "default" {
		t.Errorf("step 7 renders %s %s/%s", rule[0].GetKind(), rule[0].GetNamespace(), rule[0].GetName())
	}
	groups, _, _ := unstructured.NestedSlice(rule[0].Object, "spec", "groups")
	if len(groups) != 1 || !strings.Contains(groups[0].(map[string]any)["rules"].([]any)[0].(map[string]any)["expr"].(string), `namespace="default"`) {
		t.Errorf("step 7's rule is not templated for the release's namespace: %v", groups)
	}
	hpa, err := ReferenceObjects(embedded.FS(), step(t, "step-10"), vals)
	if err != nil || len(hpa) != 1 {
		t.Fatalf("step 10: %v %v", hpa, err)
	}
	if min, _, _ := unstructured.NestedInt64(hpa[0].Object, "spec", "minReplicas"); hpa[0].GetKind() != "HorizontalPodAutoscaler" || min != 0 {
		t.Errorf("step 10 renders %s with minReplicas %d", hpa[0].GetKind(), min)
	}
	if none, err := ReferenceObjects(embedded.FS(), step(t, "step-5"), vals); err != nil || len(none) != 0 {
		t.Errorf("step 5 has no chart template, got %v %v", none, err)
	}
}

func TestSpecDiffIgnoresOrderAndPromQLLayout(t *testing.T) {
	ref := map[string]any{
		"groups": []any{
			map[string]any{"name": "a", "rules": []any{map[string]any{"record": "x", "expr": "sum(up)\n  or\nvector(0)"}}},
			map[string]any{"name": "b", "interval": "1s"},
		},
	}
	same := map[string]any{
		"groups": []any{
			map[string]any{"interval": "1s", "name": "b"},
			map[string]any{"rules": []any{map[string]any{"expr": "(sum((up)))   or (vector(0))", "record": "x"}}, "name": "a"},
		},
	}
	if d := SpecDiff(same, ref); len(d) != 0 {
		t.Errorf("the same spec in another order and layout: %+v", d)
	}
	other := map[string]any{
		"groups": []any{
			map[string]any{"name": "a", "rules": []any{map[string]any{"record": "x", "expr": "sum(up) or vector(1)"}}},
			map[string]any{"name": "b", "interval": "1s"},
		},
	}
	d := SpecDiff(other, ref)
	if len(d) != 1 || d[0].Path != "groups[a].rules[x].expr" || d[0].Yours != `"sum(up) or vector(1)"` {
		t.Errorf("a changed expression: %+v", d)
	}
	// Parentheses around an operation keep their meaning.
	if d := SpecDiff(map[string]any{"expr": "(a or b) and c"}, map[string]any{"expr": "a or b and c"}); len(d) != 1 {
		t.Errorf("(a or b) and c is not a or b and c: %+v", d)
	}
	d = SpecDiff(map[string]any{"maxReplicas": int64(10), "minReplicas": int64(1)}, map[string]any{"maxReplicas": 20})
	if len(d) != 2 || d[0].Path != "maxReplicas" || d[0].Yours != "10" || d[0].Reference != "20" || d[1].Path != "minReplicas" || d[1].Reference != "" {
		t.Errorf("maxReplicas and an extra field: %+v", d)
	}
}

func TestCompareLiveFindsTheChangedField(t *testing.T) {
	refs, err := ReferenceObjects(embedded.FS(), step(t, "step-9"), nil)
	if err != nil || len(refs) != 1 {
		t.Fatal(refs, err)
	}
	ref := refs[0]
	gvr, _ := liveResource(ref.GroupVersionKind().GroupKind())
	lists := map[schema.GroupVersionResource]string{gvr: "HorizontalPodAutoscalerList"}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), lists)
	ld, err := CompareLive(context.Background(), dyn, ref)
	if err != nil || !ld.Missing || ld.NoAPI {
		t.Fatalf("no live HPA: %+v %v", ld, err)
	}
	live := ref.DeepCopy()
	_ = unstructured.SetNestedField(live.Object, int64(10), "spec", "maxReplicas")
	dyn = dynamicfake.NewSimpleDynamicClient(runtime.NewScheme(), live)
	ld, err = CompareLive(context.Background(), dyn, ref)
	if err != nil || ld.Missing || len(ld.Diffs) != 1 || ld.Diffs[0].Path != "maxReplicas" || ld.Diffs[0].Yours != "10" || ld.Diffs[0].Reference != "20" {
		t.Errorf("an HPA with maxReplicas 10: %+v %v", ld, err)
	}
}
