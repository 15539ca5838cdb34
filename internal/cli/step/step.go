// Package step is the `dojo step N` command.
package step

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/internal/cli/stepargs"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/course"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/state"
	"github.com/kubedojo/dojo/internal/steps"
	"github.com/kubedojo/dojo/internal/ui"
)

// Options are the arguments of `dojo step`.
type Options struct {
	Step string
}

// NewCmd builds `dojo step N`.
func NewCmd(f *factory.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "step N",
		Short: "Show one step of the workshop",
		Long: `Show one step: its goal, what to do, how to get hints, what the check
verifies and where the solution is. On a terminal the step is laid out for
reading; piped, it is printed as Markdown.

N is a step number (1 to 10) or cleanup; step-5 and Step5 work too.
Opening a step starts its clock in ` + "`dojo status`" + `.`,
		Example: `  dojo step 5
  dojo step step-7
  dojo step cleanup
  dojo step 9 > step-9.md`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cmdutil.Usagef("dojo step takes one step, got %d arguments: name one of step-1 … step-10 or cleanup, e.g. `dojo step 5`", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Step = args[0]
			return Run(f, opts)
		},
	}
	stepargs.Use(cmd, stepargs.Step(f.Catalog, nil))
	return cmd
}

// Run shows the step and records that it was opened.
func Run(f *factory.Factory, opts *Options) error {
	s, err := f.Step(opts.Step)
	if err != nil {
		return err
	}
	store, err := f.State()
	if err != nil {
		return err
	}
	// Record: a progress file from a newer dojo is left alone, with a
	// warning, and the step is still shown.
	st, err := store.Record(func(st *state.State) error {
		st.Open(s.ID, f.Now())
		return nil
	})
	if err != nil {
		return err
	}
	progress, _ := st.Lookup(s.ID)
	out, err := ui.Markdown(steps.WithDomain(course.StepMarkdown(s, progress), st.Domain), f.IO)
	if err != nil {
		return fmt.Errorf("rendering %s: %w", s.ID, err)
	}
	_, err = fmt.Fprint(f.IO.Out, out)
	return err
}
