// Package doctor is the `dojo doctor` command.
package doctor

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/cluster"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/ui"
	"github.com/kubedojo/dojo/internal/versions"
	"github.com/kubedojo/dojo/internal/workshop"
)

// Options are the flags of `dojo doctor`.
type Options struct {
	Domain string
	JSON   bool
}

// NewCmd builds `dojo doctor`.
func NewCmd(f *factory.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check this machine for the workshop",
		Long: `Run dojo up's preflight checks (container runtime, ports 80 and 443, an
existing cluster, memory) and look for kubectl, helm, jq and curl, and whether
producer.<domain> resolves to this machine. Each problem comes with its fix.

Every check that can run does, so one round shows every problem: with Docker
stopped the ports and the memory are still checked, and a check that needs
what is missing is marked "-" (not run) and names what it waits for.
A kubectl more than one minor version away from the Kubernetes of dojo's
node (` + cluster.NodeKubernetes(versions.NodeImage) + `) is a warning: Kubernetes supports kubectl only within one
minor version of its API server.`,
		Example: `  dojo doctor
  dojo doctor --domain localhost`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			checks := cluster.Doctor(cmd.Context(), cluster.DoctorOptions{Name: f.ClusterName(), Domain: opts.Domain}, cluster.SystemDoctorEnv(f.Machine()))
			return Render(f, opts, checks)
		},
	}
	f.AddNameFlag(cmd.Flags())
	cmd.Flags().StringVar(&opts.Domain, "domain", workshop.Domain, "the domain dojo up will use")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the checks as JSON")
	return cmd
}

// Render prints the results (text or JSON, the renderers every check
// shares); any failure exits 3 (a check ran and failed), like dojo check.
func Render(f *factory.Factory, opts *Options, results []check.Result) error {
	if opts.JSON {
		if err := check.JSON(f.IO.Out, results); err != nil {
			return err
		}
	} else {
		check.Text(f.IO.Out, f.IO.Styles(), results)
	}
	if n := check.Count(results, check.Fail); n > 0 {
		return fmt.Errorf("%s failed: %w", ui.Count(n, "check", "checks"), cmdutil.ErrCheckFailed)
	}
	return nil
}
