package factory

import (
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/kubedojo/dojo/internal/check"
)

// Checks are the results a command judged, by step id: data for what runs
// after the command (the classroom event). The zero value is ready.
type Checks struct {
	mu     sync.Mutex
	byStep map[string][]check.Result
	// OnChange, when set, runs while a long command (dojo check --watch)
	// goes on, each time what it shows changed: the classroom sends the
	// learner's event from it.
	OnChange func(ctx context.Context)
}

// Changed runs OnChange, if any.
func (c *Checks) Changed(ctx context.Context) {
	if c.OnChange != nil {
		c.OnChange(ctx)
	}
}

// Record keeps a step's results; a later check of the same step replaces
// them (dojo check --watch).
func (c *Checks) Record(step string, rs []check.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byStep == nil {
		c.byStep = map[string][]check.Result{}
	}
	c.byStep[step] = slices.Clone(rs)
}

// ByStep returns a copy of what was recorded.
func (c *Checks) ByStep() map[string][]check.Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.byStep)
}
