// Package steps is the `dojo steps` command.
package steps

import (
	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/course"
	"github.com/kubedojo/dojo/internal/factory"
)

// Options are the flags of `dojo steps`.
type Options struct {
	JSON bool
}

// NewCmd builds `dojo steps`.
func NewCmd(f *factory.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "steps",
		Short: "List the workshop's steps and your progress",
		Long: `List every step of the workshop with a mark for your progress:
passed, started, or not started yet. Progress comes from your workspace
(.dojo/state.json): a step passes when ` + "`dojo check`" + ` says so.`,
		Example: `  dojo steps
  dojo steps --json | jq '.[] | select(.status != "passed") | .id'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return Run(f, opts) },
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the list as JSON")
	return cmd
}

// Run prints the list.
func Run(f *factory.Factory, opts *Options) error {
	cat, st, err := f.Progress()
	if err != nil {
		return err
	}
	rows := course.Rows(cat, st, f.Now())
	if opts.JSON {
		return cmdutil.WriteJSON(f.IO.Out, rows)
	}
	course.RenderStepList(f.IO.Out, rows, f.IO.Styles(), f.IO.IsStdoutTTY())
	return nil
}
