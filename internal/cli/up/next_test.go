package up

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kubedojo/dojo/internal/factory/factorytest"
	"github.com/kubedojo/dojo/internal/state"
)

// nextStep reads the learner's recorded progress: the suggestion after
// dojo up is the first step not passed, never before step 3, and 0 once
// every step passed.
func TestNextStepFollowsRecordedProgress(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		passed []string
		want   int
	}{
		{"fresh workspace", nil, 3},
		{"steps 1 and 2 passed", []string{"step-1", "step-2"}, 3},
		{"up to step 6 passed", []string{"step-1", "step-2", "step-3", "step-4", "step-5", "step-6"}, 7},
		{"a gap at step 4", []string{"step-1", "step-2", "step-3", "step-5"}, 4},
		{"every step passed", []string{"step-1", "step-2", "step-3", "step-4", "step-5", "step-6", "step-7", "step-8", "step-9", "step-10"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ws := t.TempDir()
			store := state.NewStore(ws, func() time.Time { return now })
			if _, err := store.Update(func(s *state.State) error {
				for _, id := range c.passed {
					p := now
					s.Step(id).Passed = &p
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			f, _ := factorytest.New(t, factorytest.Options{Now: func() time.Time { return now }, Workspace: ws})
			if got := nextStep(f); got != c.want {
				t.Fatalf("nextStep with %v passed = %d, want %d", c.passed, got, c.want)
			}
		})
	}
}

// Progress that cannot be read (a directory where state.json should be)
// means a fresh start: step 3.
func TestNextStepUnreadableProgressIsStep3(t *testing.T) {
	ws := t.TempDir()
	if err := os.MkdirAll(filepath.Join(ws, ".dojo", "state.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, _ := factorytest.New(t, factorytest.Options{Workspace: ws})
	if got := nextStep(f); got != 3 {
		t.Fatalf("nextStep = %d, want 3", got)
	}
}
