package suite

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/check/probe"
	"github.com/kubedojo/dojo/internal/steps"
)

// The step files declare the criteria learners read; the suite judges them.
// The two lists must be the same, in the same order.
func TestEveryDeclaredCriterionIsJudged(t *testing.T) {
	cat, err := steps.Load(embedded.FS())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cat.Steps() {
		var declared []string
		for _, c := range s.Checks {
			declared = append(declared, c.ID)
		}
		if got := IDs(s.ID); !slices.Equal(got, declared) {
			t.Errorf("%s: the suite judges %v, the step file declares %v", s.ID, got, declared)
		}
	}
}

// Without a cluster every step answers with one failure that says why, and
// skips what depends on it.
func TestNoClusterIsOneClearFailure(t *testing.T) {
	w := &probe.World{AccessErr: errors.New(`kubeconfig has no context "kind-dojo"`)}
	for _, id := range []string{"step-2", "step-5", "step-9"} {
		rs, err := Run(context.Background(), id, w, Options{SkipLive: true})
		if err != nil {
			t.Fatal(err)
		}
		if rs[0].Status != check.Fail || !contains(rs[0].Observed, `no context "kind-dojo"`) {
			t.Errorf("%s: first result %+v, want a failure naming the missing context", id, rs[0])
		}
		for _, r := range rs[1:] {
			if r.Status == check.Pass {
				t.Errorf("%s: %s passed without a cluster", id, r.Criterion)
			}
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
