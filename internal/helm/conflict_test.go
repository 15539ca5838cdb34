package helm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	kubefake "helm.sh/helm/v4/pkg/kube/fake"
)

// The API server's words for a server-side apply conflict (the forms of
// k8s.io/apimachinery/pkg/util/managedfields at v0.37.2), as Helm wraps and
// joins them, become objects, managers and fields.
func TestParseConflicts(t *testing.T) {
	one := `conflict occurred while applying object default/consumer monitoring.coreos.com/v1, Kind=PrometheusRule: Apply failed with 1 conflict: conflict with "kubectl-replace" using monitoring.coreos.com/v1: .spec.groups[name="redis-queue"].rules`
	many := `conflict occurred while applying object default/consumer autoscaling/v2, Kind=HorizontalPodAutoscaler: Apply failed with 3 conflicts: conflicts with "kubectl-edit" using autoscaling/v2:
- .spec.maxReplicas
- .spec.minReplicas
conflicts with "other" with subresource "scale" using autoscaling/v2 at 2026-12-06T07:00:00Z:
- .spec.metrics`
	cases := []struct {
		name string
		err  error
		want []Conflict
	}{
		{"one field", fmt.Errorf("upgrade failed: %s", one), []Conflict{{Object: "default/consumer", Kind: "monitoring.coreos.com/v1, Kind=PrometheusRule",
			Managers: []ManagerFields{{Manager: "kubectl-replace", Fields: []string{`.spec.groups[name="redis-queue"].rules`}}}}}},
		{"two managers, three fields", errors.New(many), []Conflict{{Object: "default/consumer", Kind: "autoscaling/v2, Kind=HorizontalPodAutoscaler",
			Managers: []ManagerFields{{Manager: "kubectl-edit", Fields: []string{".spec.maxReplicas", ".spec.minReplicas"}}, {Manager: "other", Fields: []string{".spec.metrics"}}}}}},
		{"two objects joined by Helm", errors.New(one + " && " + many), []Conflict{
			{Object: "default/consumer", Kind: "monitoring.coreos.com/v1, Kind=PrometheusRule",
				Managers: []ManagerFields{{Manager: "kubectl-replace", Fields: []string{`.spec.groups[name="redis-queue"].rules`}}}},
			{Object: "default/consumer", Kind: "autoscaling/v2, Kind=HorizontalPodAutoscaler",
				Managers: []ManagerFields{{Manager: "kubectl-edit", Fields: []string{".spec.maxReplicas", ".spec.minReplicas"}}, {Manager: "other", Fields: []string{".spec.metrics"}}}}}},
		{"no conflict", errors.New(`server-side apply failed for object default/consumer: admission webhook denied`), nil},
		{"nil", nil, nil},
	}
	for _, c := range cases {
		if got := ParseConflicts(c.err); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %#v\nwant %#v", c.name, got, c.want)
		}
	}
	got := ParseConflicts(errors.New(one))[0].String()
	if want := `PrometheusRule default/consumer: .spec.groups[name="redis-queue"].rules (changed by "kubectl-replace")`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// conflictOnce refuses its first Update as the API server refuses a
// server-side apply over a kubectl edit, then accepts.
type conflictOnce struct {
	*kubefake.FailingKubeClient
	updates int
}

func (c *conflictOnce) Update(orig, mod kube.ResourceList, o ...kube.ClientUpdateOption) (*kube.Result, error) {
	c.updates++
	if c.updates == 1 {
		return &kube.Result{}, errors.New(`conflict occurred while applying object default/producer apps/v1, Kind=Deployment: Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas`)
	}
	return c.FailingKubeClient.Update(orig, mod, o...)
}

// An upgrade that meets another field manager fails with a ConflictError
// naming it, unless the installer takes conflicts back: then it applies
// again and says what it took.
func TestApplyConflictIsNamedOrTakenBack(t *testing.T) {
	for _, takeBack := range []bool{false, true} {
		kc := &conflictOnce{FailingKubeClient: &kubefake.FailingKubeClient{PrintingKubeClient: kubefake.PrintingKubeClient{Out: io.Discard}}}
		d, store, _ := memDeployer(t, nil)
		inner := d.newConfig
		d.newConfig = func(ns string) (*action.Configuration, error) {
			cfg, err := inner(ns)
			if err == nil {
				cfg.KubeClient = kc
			}
			return cfg, err
		}
		d.opts.TakeBackConflicts = takeBack
		ctx := context.Background()
		if _, err := d.Apply(ctx, producer(map[string]any{"domain": "a"})); err != nil {
			t.Fatal(err)
		}
		r, err := d.Apply(ctx, producer(map[string]any{"domain": "b"}))
		var ce *ConflictError
		switch {
		case !takeBack && (!errors.As(err, &ce) || len(ce.Conflicts) != 1 || ce.Conflicts[0].Managers[0].Manager != "kubectl-edit"):
			t.Errorf("without taking back: err %v, want a ConflictError naming kubectl-edit", err)
		case takeBack && (err != nil || r.Action != Upgraded || len(r.TookBack) != 1 || kc.updates != 2 ||
			r.TookBack[0].String() != `Deployment default/producer: .spec.replicas (changed by "kubectl-edit")`):
			t.Errorf("taking back: err %v, result %+v after %d updates", err, r, kc.updates)
		case takeBack && last(t, store, "producer").Info.Status != "deployed":
			t.Errorf("taking back: the last revision is %s", last(t, store, "producer").Info.Status)
		}
	}
}
