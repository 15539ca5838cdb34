// Package status is the `dojo status` command.
package status

import (
	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/course"
	"github.com/kubedojo/dojo/internal/factory"
)

// Options are the flags of `dojo status`.
type Options struct {
	JSON bool
}

// NewCmd builds `dojo status`.
func NewCmd(f *factory.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show your progress: steps passed, hints used, time spent",
		Long: `Show your progress through the workshop, read from your workspace:
which steps passed their check, how many hints you revealed, and how long each
step took (from the first time you opened it to the check that passed it).`,
		Example: `  dojo status
  dojo status --json
  dojo status --workspace ~/workshops/dojo`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return Run(f, opts) },
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print progress as JSON")
	return cmd
}

// Report is the --json output.
type Report struct {
	Workspace string           `json:"workspace"`
	Passed    int              `json:"passed"`
	Steps     []course.StepRow `json:"steps"`
}

// Run prints the progress.
func Run(f *factory.Factory, opts *Options) error {
	cat, st, err := f.Progress()
	if err != nil {
		return err
	}
	rows := course.Rows(cat, st, f.Now())
	if opts.JSON {
		ws, _ := f.Workspace()
		r := Report{Workspace: ws, Steps: rows}
		for _, row := range rows {
			if row.Status == course.StatusPassed {
				r.Passed++
			}
		}
		return cmdutil.WriteJSON(f.IO.Out, r)
	}
	course.RenderStatus(f.IO.Out, rows, f.IO.Styles(), f.IO.IsStdoutTTY())
	return nil
}
