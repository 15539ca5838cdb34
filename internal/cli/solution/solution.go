// Package solution is the `dojo solution STEP` command.
package solution

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

// Options are the arguments of `dojo solution`.
type Options struct {
	Step string
}

// NewCmd builds `dojo solution STEP`.
func NewCmd(f *factory.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "solution STEP",
		Short: "Show the reference solution of a step, to compare with yours",
		Long: `Show the reference files of a step (steps 5 to 10 have one) with a note on
each, to read beside your own work. Nothing is written or applied. On a
terminal the files are laid out for reading; piped, they are Markdown.`,
		Example: `  dojo solution step-7
  dojo solution 9 > step-9-reference.md`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cmdutil.Usagef("dojo solution takes one step, got %d arguments: e.g. `dojo solution step-7`", len(args))
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Step = args[0]
			return Run(f, opts)
		},
	}
	stepargs.Use(cmd, stepargs.Step(f.Catalog, stepargs.HasReference))
	return cmd
}

// Run prints the step's reference.
func Run(f *factory.Factory, opts *Options) error {
	cat, err := f.Catalog()
	if err != nil {
		return err
	}
	// A named step needs no progress; ReferenceStep reads it only without one.
	s, err := course.ReferenceStep(cat, &state.State{}, f.Now(), opts.Step, "solution")
	if err != nil {
		return err
	}
	md, err := course.SolutionMarkdown(s, f.Embedded)
	if err != nil {
		return err
	}
	// The reference as the learner's cluster needs it: with their domain.
	out, err := ui.Markdown(steps.WithDomain(md, f.Domain()), f.IO)
	if err != nil {
		return fmt.Errorf("rendering the reference of %s: %w", s.ID, err)
	}
	_, err = fmt.Fprint(f.IO.Out, out)
	return err
}
