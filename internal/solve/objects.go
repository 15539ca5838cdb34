package solve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"

	"github.com/kubedojo/dojo/internal/helm"
	"github.com/kubedojo/dojo/internal/steps"
	"github.com/kubedojo/dojo/internal/workshop"
)

// liveResource is where the API serves a kind whose live objects dojo diff
// compares with the reference.
func liveResource(gk schema.GroupKind) (schema.GroupVersionResource, bool) {
	switch gk {
	case schema.GroupKind{Group: "monitoring.coreos.com", Kind: "PrometheusRule"}:
		return schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "prometheusrules"}, true
	case schema.GroupKind{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"}:
		return schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}, true
	}
	return schema.GroupVersionResource{}, false
}

// ReferenceObjects renders the objects a step's reference templates make
// for the consumer release (its values in the cluster): the workshop's
// consumer chart with the step's reference templates in it, as Helm would
// render it on a cluster that serves the Prometheus operator's API. Steps
// without a chart template give none.
func ReferenceObjects(fsys fs.FS, s *steps.Step, values map[string]any) ([]*unstructured.Unstructured, error) {
	overrides := map[string][]byte{}
	var wanted []string
	for _, f := range s.Solution {
		rest, ok := strings.CutPrefix(f.Path, "charts/"+workshop.ConsumerRelease+"/")
		if !ok || !strings.HasPrefix(rest, "templates/") || strings.HasPrefix(path.Base(rest), "_") {
			continue
		}
		data, err := Render(fsys, s, f, "")
		if err != nil {
			return nil, err
		}
		overrides[rest] = data
		wanted = append(wanted, rest)
	}
	if len(wanted) == 0 {
		return nil, nil
	}
	out, err := helm.Render{
		Source:      helm.Source{FS: fsys, Path: "workspace/charts/" + workshop.ConsumerRelease},
		Overrides:   overrides,
		Values:      values,
		Release:     workshop.ConsumerRelease,
		Namespace:   workshop.AppNamespace,
		APIVersions: []string{"monitoring.coreos.com/v1"},
	}.Templates()
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, p := range wanted {
		dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(out[p]), 4096)
		for {
			var m map[string]any
			if err := dec.Decode(&m); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return nil, fmt.Errorf("the reference %s of %s renders no valid YAML: %w", p, s.ID, err)
			}
			if len(m) == 0 {
				continue
			}
			u := &unstructured.Unstructured{Object: m}
			if u.GetNamespace() == "" {
				u.SetNamespace(workshop.AppNamespace)
			}
			objs = append(objs, u)
		}
	}
	return objs, nil
}

// LiveDiff is how one live object differs from its reference.
type LiveDiff struct {
	Kind, Namespace, Name string
	// Missing: the cluster has no such object (or not its API).
	Missing bool
	// NoAPI: the cluster does not serve the kind at all.
	NoAPI bool
	Diffs []FieldDiff
}

// CompareLive fetches the live object a reference describes and compares
// their specs by meaning. Server defaults do not show: the reference is
// sent to the API server as a dry-run create (under another name, nothing
// is stored), so that it comes back with the same defaults the live object
// got. Managed fields, metadata and status are not compared, lists of
// objects are compared whatever their order, and PromQL expressions are
// compared as the PromQL parser reads them.
func CompareLive(ctx context.Context, dyn dynamic.Interface, ref *unstructured.Unstructured) (LiveDiff, error) {
	gvk := ref.GroupVersionKind()
	ld := LiveDiff{Kind: gvk.Kind, Namespace: ref.GetNamespace(), Name: ref.GetName()}
	gvr, ok := liveResource(gvk.GroupKind())
	if !ok {
		return ld, fmt.Errorf("dojo diff does not compare live %s objects", gvk.Kind)
	}
	ri := dyn.Resource(gvr).Namespace(ref.GetNamespace())
	live, err := ri.Get(ctx, ref.GetName(), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		ld.Missing = true
		// A resource type the server does not serve answers 404 too; a list
		// tells the two apart.
		if _, lerr := ri.List(ctx, metav1.ListOptions{Limit: 1}); apierrors.IsNotFound(lerr) {
			ld.NoAPI = true
		}
		return ld, nil
	case err != nil:
		return ld, fmt.Errorf("reading %s %s/%s: %w", gvk.Kind, ref.GetNamespace(), ref.GetName(), err)
	}
	probe := ref.DeepCopy()
	probe.SetName(dryRunName(ref.GetName()))
	probe.SetResourceVersion("")
	defaulted, err := ri.Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		return ld, fmt.Errorf("the API server refused the reference %s (dry run): %w", gvk.Kind, err)
	}
	yours, _, _ := unstructured.NestedMap(live.Object, "spec")
	reference, _, _ := unstructured.NestedMap(defaulted.Object, "spec")
	ld.Diffs = SpecDiff(yours, reference)
	return ld, nil
}

func dryRunName(name string) string {
	const suffix = "-dojo-reference"
	if len(name)+len(suffix) > 253 {
		name = name[:253-len(suffix)]
	}
	return name + suffix
}

// SpecDiff compares two object specs field by field ("metrics[0].object.
// target.averageValue", "groups[redis-queue].rules[redis_items_in_queue].
// expr"), whatever the order of keys and of lists of objects, with PromQL expressions (an "expr" field) compared by what they
// parse to.
func SpecDiff(yours, reference map[string]any) []FieldDiff {
	a, b := map[string]any{}, map[string]any{}
	pp := parser.NewParser(parser.Options{})
	flattenObject("", canonical(pp, normalize(yours)), a)
	flattenObject("", canonical(pp, normalize(reference)), b)
	return compareFlat(a, b)
}

// canonical rewrites PromQL expressions in their parsed form and sorts lists
// of objects.
func canonical(pp parser.Parser, v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			if s, ok := sub.(string); ok && k == "expr" {
				if e, err := pp.ParseExpr(s); err == nil {
					v[k] = unparen(e).String()
				} else {
					v[k] = strings.TrimSpace(s)
				}
				continue
			}
			v[k] = canonical(pp, sub)
		}
		return v
	case []any:
		allMaps := len(v) > 1
		for i, sub := range v {
			v[i] = canonical(pp, sub)
			if _, ok := v[i].(map[string]any); !ok {
				allMaps = false
			}
		}
		if allMaps {
			keyOf := func(x any) []byte { b, _ := json.Marshal(x); return b }
			sort.SliceStable(v, func(i, j int) bool { return bytes.Compare(keyOf(v[i]), keyOf(v[j])) < 0 })
		}
		return v
	}
	return v
}

func flattenObject(prefix string, v any, into map[string]any) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			break
		}
		for k, sub := range v {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flattenObject(p, sub, into)
		}
		return
	case []any:
		if len(v) == 0 {
			break
		}
		ids := identities(v)
		for i, sub := range v {
			key := fmt.Sprint(i)
			if ids != nil {
				key = ids[i]
			}
			flattenObject(fmt.Sprintf("%s[%s]", prefix, key), sub, into)
		}
		return
	}
	if prefix != "" {
		into[prefix] = v
	}
}

// identities names the elements of a list of objects by their "name",
// "record" or "alert" field (rule groups and rules), when every element
// has one and they are all different; nil otherwise.
func identities(list []any) []string {
	for _, field := range []string{"name", "record", "alert"} {
		ids := make([]string, 0, len(list))
		seen := map[string]bool{}
		for _, e := range list {
			m, ok := e.(map[string]any)
			if !ok {
				return nil
			}
			id, ok := m[field].(string)
			if !ok || id == "" || seen[id] {
				break
			}
			seen[id] = true
			ids = append(ids, id)
		}
		if len(ids) == len(list) {
			return ids
		}
	}
	return nil
}

// unparen removes the parentheses that cannot change what an expression
// means: those around a selector, a call, an aggregation, a number or
// other parentheses. Parentheses around a binary operation stay (the
// parser's printer would not put them back).
func unparen(e parser.Expr) parser.Expr {
	switch n := e.(type) {
	case *parser.ParenExpr:
		inner := unparen(n.Expr)
		if _, binary := inner.(*parser.BinaryExpr); binary {
			n.Expr = inner
			return n
		}
		return inner
	case *parser.BinaryExpr:
		n.LHS, n.RHS = unparen(n.LHS), unparen(n.RHS)
	case *parser.Call:
		for i, a := range n.Args {
			n.Args[i] = unparen(a)
		}
	case *parser.AggregateExpr:
		n.Expr = unparen(n.Expr)
		if n.Param != nil {
			n.Param = unparen(n.Param)
		}
	case *parser.UnaryExpr:
		n.Expr = unparen(n.Expr)
	case *parser.SubqueryExpr:
		n.Expr = unparen(n.Expr)
	}
	return e
}
