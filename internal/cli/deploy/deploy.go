// Package deploy is the `dojo deploy` command.
package deploy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/helm"
	"github.com/kubedojo/dojo/internal/report"
	"github.com/kubedojo/dojo/internal/ui"
	"github.com/kubedojo/dojo/internal/workshop"
)

// Options are the flags of `dojo deploy`.
type Options struct {
	Release string
	Timeout time.Duration
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
			return Run(cmd, f, opts)
		},
	}
	f.AddClusterFlags(cmd.Flags())
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 5*time.Minute, "give up after this long")
	return cmd
}

// Run upgrades the release.
func Run(cmd *cobra.Command, f *factory.Factory, opts *Options) error {
	ws, err := f.Workspace()
	if err != nil {
		return err
	}
	access, err := f.Access()
	if err != nil {
		return err
	}
	inst := helm.New(access, helm.Options{Timeout: opts.Timeout})
	pr := ui.NewProgress(f.IO)
	defer pr.Close()
	res, err := report.Phase(pr, opts.Release, func(report.Task) (helm.Result, error) {
		return inst.UpgradeApp(cmd.Context(), ws, opts.Release)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "%s %s (revision %d)\n", res.Release, res.Action, res.Revision)
	return nil
}
