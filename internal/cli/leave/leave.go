// Package leave is the `dojo leave` command.
package leave

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/internal/classroom"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/ui"
)

// Options are what `dojo leave` needs.
type Options struct {
	IO        *ui.IOStreams
	Workspace func() (string, error)
}

// NewCmd builds `dojo leave`.
func NewCmd(f *factory.Factory) *cobra.Command {
	opts := &Options{}
	return &cobra.Command{
		Use:   "leave",
		Short: "Leave the classroom: dojo sends the trainer nothing more",
		Long: `Forget the classroom this workspace joined (.dojo/classroom.json) and the
events still waiting to be sent (.dojo/classroom-outbox.jsonl). The trainer's
page keeps what it already received.`,
		Example: "  dojo leave",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO, opts.Workspace = f.IO, f.Workspace
			return Run(opts)
		},
	}
}

// Run forgets the classroom.
func Run(opts *Options) error {
	ws, err := opts.Workspace()
	if err != nil {
		return err
	}
	m, _ := classroom.LoadMember(ws)
	was, err := classroom.Forget(ws)
	if err != nil {
		return err
	}
	switch {
	case m != nil:
		fmt.Fprintf(opts.IO.Out, "Left the classroom at %s: dojo sends nothing more.\n", m.URL)
	case was:
		fmt.Fprintln(opts.IO.Out, "Forgot a damaged classroom membership: dojo sends nothing more.")
	default:
		fmt.Fprintf(opts.IO.Out, "This workspace (%s) is in no classroom: nothing to leave.\n", ws)
	}
	return nil
}
