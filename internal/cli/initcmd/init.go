// Package initcmd is the `dojo init [DIR]` command.
package initcmd

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/ui"
	"github.com/kubedojo/dojo/internal/workspace"
)

// Options are the arguments and flags of `dojo init`.
type Options struct {
	Dir   string
	Reset bool
	JSON  bool
}

// NewCmd builds `dojo init`.
func NewCmd(f *factory.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Write your workspace: the charts and values you will edit",
		Long: `Write the workshop's workspace: the charts of the sample application
(redis, producer, consumer) and the values files you fill in during the steps.

DIR defaults to --workspace, then DOJO_WORKSPACE, then ./dojo-workspace.
Running init again adds missing files and never touches a file you changed;
with --reset, changed files are restored and your version is kept next to each
as <file>.<timestamp>.bak. ` + "`dojo up`" + ` runs init for you.`,
		Example: `  dojo init
  dojo init ~/dojo
  dojo init --reset   # restore the original files, keeping backups`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return cmdutil.Usagef("dojo init takes at most one directory, got %d: %q", len(args), args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Dir = args[0]
			}
			return Run(f, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Reset, "reset", false, "restore files you changed (each is backed up first)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print what was written as JSON")
	return cmd
}

// Run writes the workspace.
func Run(f *factory.Factory, opts *Options) error {
	dir := opts.Dir
	if dir == "" {
		ws, err := f.Workspace()
		if err != nil {
			return err
		}
		dir = ws
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	res, err := workspace.Init(dir, embedded.Workspace(), workspace.Options{Reset: opts.Reset, Now: f.Now})
	if err != nil {
		return err
	}
	if opts.JSON {
		return cmdutil.WriteJSON(f.IO.Out, res)
	}
	Print(f, res)
	return nil
}

// Print summarises an Init result for people.
func Print(f *factory.Factory, res *workspace.Result) {
	st := f.IO.Styles()
	out := f.IO.Out
	fmt.Fprintf(out, "Workspace: %s\n", res.Dir)
	fmt.Fprintf(out, "  %s written, %d already up to date", ui.Count(len(res.Written)-len(res.BackedUp), "file", "files"), len(res.Unchanged))
	if len(res.BackedUp) > 0 {
		fmt.Fprintf(out, ", %d restored", len(res.BackedUp))
	}
	fmt.Fprintln(out)
	for _, p := range res.Written {
		if b, ok := res.BackedUp[p]; ok {
			fmt.Fprintf(out, "  %s %s (your version: %s)\n", st.Warn.Render("restored"), p, b)
		}
	}
	if len(res.Kept) > 0 {
		kept := "files you changed were kept as they are"
		if len(res.Kept) == 1 {
			kept = "file you changed was kept as it is"
		}
		fmt.Fprintf(out, "  %d %s:\n", len(res.Kept), kept)
		for _, p := range res.Kept {
			fmt.Fprintf(out, "    %s\n", p)
		}
		fmt.Fprintf(out, "  %s restores them (your versions are backed up first).\n", st.Code.Render("dojo init --reset"))
	}
}
