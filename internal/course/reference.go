package course

import (
	"strings"
	"time"

	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/state"
	"github.com/kubedojo/dojo/internal/steps"
)

// WithReference lists the ids of the steps that have a reference solution.
func WithReference(c *steps.Catalog) []string {
	var ids []string
	for _, s := range c.Steps() {
		if len(s.Solution) > 0 {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// ReferenceStep is the step `dojo solution`, `dojo solve` and `dojo diff`
// work on: the one named by arg, else the learner's current step (the first
// not passed). It must have a reference solution; every refusal is a usage
// error that names the steps that have one. command is the command's name
// ("solve"), for the messages.
func ReferenceStep(c *steps.Catalog, st *state.State, now time.Time, arg, command string) (*steps.Step, error) {
	var s *steps.Step
	why := ""
	if arg != "" {
		var err error
		if s, err = c.Get(arg); err != nil {
			return nil, cmdutil.Usagef("%v", err)
		}
	} else {
		n := NextStep(Rows(c, st, now))
		if n == 0 {
			return nil, cmdutil.Usagef("every step has passed: name the one you want, e.g. `dojo %s step-9`", command)
		}
		s, _ = c.Get(steps.IDFor(n))
		why = " (it is the first step you have not passed)"
	}
	if len(s.Solution) == 0 {
		return nil, cmdutil.Usagef("%s%s has no reference solution (you do it by running commands, not by writing files); these steps have one: %s",
			s.ID, why, strings.Join(WithReference(c), ", "))
	}
	return s, nil
}

// ReferenceSteps are the steps up to and including until that have a
// reference solution, in order (`dojo solve --until`).
func ReferenceSteps(c *steps.Catalog, until string) ([]*steps.Step, error) {
	last, err := c.Get(until)
	if err != nil {
		return nil, cmdutil.Usagef("--until %q: %v", until, err)
	}
	var out []*steps.Step
	for _, s := range c.Steps() {
		if s.Number <= last.Number && len(s.Solution) > 0 {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, cmdutil.Usagef("no step up to %s has a reference solution; these do: %s", last.ID, strings.Join(WithReference(c), ", "))
	}
	return out, nil
}
