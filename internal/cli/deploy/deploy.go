// Package deploy is the `dojo deploy` command.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/helm"
	"github.com/kubedojo/dojo/internal/kube"
	"github.com/kubedojo/dojo/internal/report"
	"github.com/kubedojo/dojo/internal/ui"
	"github.com/kubedojo/dojo/internal/workshop"
)

// Options are the flags of `dojo deploy` and what it needs, filled from the
// factory by NewCmd (a test sets its own).
type Options struct {
	Release string
	Timeout time.Duration
	// ForceConflicts takes back fields another tool (kubectl edit) changed
	// in the release's live objects.
	ForceConflicts bool

	IO        *ui.IOStreams
	Workspace func() (string, error)
	Access    func() (*kube.Access, error)
	// Installer upgrades the release (helm.New in production).
	Installer func(a *kube.Access, o helm.Options) AppUpgrader
}

// AppUpgrader upgrades an app release from the workspace chart
// (*helm.Installer).
type AppUpgrader interface {
	UpgradeApp(ctx context.Context, workspaceDir, name string) (helm.Result, error)
}

// NewCmd builds `dojo deploy`.
func NewCmd(f *factory.Factory) *cobra.Command {
	opts := &Options{}
	valid := workshop.AppReleases()
	cmd := &cobra.Command{
		Use:   "deploy " + strings.Join(valid, "|"),
		Short: "Upgrade the producer or the consumer from your workspace chart",
		Long: `Upgrade one release of the sample app from the chart in your workspace
(charts/<name>), keeping the image and domain dojo up chose. Nothing happens
when neither the chart nor the values changed.`,
		Example:   "  dojo deploy consumer",
		ValidArgs: valid,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 || !slices.Contains(valid, args[0]) {
				got := "nothing"
				if len(args) > 0 {
					got = fmt.Sprintf("%q", strings.Join(args, " "))
				}
				return cmdutil.Usagef("dojo deploy needs one release, %s; got %s", strings.Join(valid, " or "), got)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Release = args[0]
			opts.IO, opts.Workspace, opts.Access = f.IO, f.Workspace, f.Access
			opts.Installer = func(a *kube.Access, o helm.Options) AppUpgrader { return helm.New(a, o) }
			return Run(cmd.Context(), opts)
		},
	}
	f.AddClusterFlags(cmd.Flags())
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 5*time.Minute, "give up after this long")
	cmd.Flags().BoolVar(&opts.ForceConflicts, "force-conflicts", false, "take back fields that another tool (kubectl edit, apply or replace) changed in the release's objects; that change is lost")
	return cmd
}

// Run upgrades the release.
func Run(ctx context.Context, opts *Options) error {
	ws, err := opts.Workspace()
	if err != nil {
		return err
	}
	access, err := opts.Access()
	if err != nil {
		return err
	}
	inst := opts.Installer(access, helm.Options{Timeout: opts.Timeout, TakeBackConflicts: opts.ForceConflicts})
	pr := ui.NewProgress(opts.IO)
	defer pr.Close()
	res, err := report.Phase(pr, opts.Release, func(report.Task) (helm.Result, error) {
		return inst.UpgradeApp(ctx, ws, opts.Release)
	})
	var conflict *helm.ConflictError
	if errors.As(err, &conflict) {
		return fmt.Errorf("%s: %v: dojo deploy %s --force-conflicts takes them back (the change made in the cluster is then lost: put it in charts/%s to keep it)",
			opts.Release, conflict, opts.Release, opts.Release)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "%s %s (revision %d)\n", res.Release, res.Action, res.Revision)
	for _, c := range res.TookBack {
		fmt.Fprintf(opts.IO.Out, "  took back from another tool: %s\n", c)
	}
	return nil
}
