package cli

import (
	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory"
)

// NewRootCmd builds the command tree. Nothing here touches a cluster.
func NewRootCmd(f *factory.Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "dojo",
		Short: "A hands-on workshop: Kubernetes autoscaling with Prometheus",
		Long: `dojo runs the workshop "Kubernetes autoscaling with Prometheus" on your laptop.

It creates a local kind cluster with a small queue-based application, then
guides you step by step while you build the autoscaling chain yourself:
Prometheus, the Redis exporter, a recording rule, the Prometheus adapter, a
HorizontalPodAutoscaler, and finally scaling to zero.

Exit codes: 0 success, 1 error, 2 bad usage, 3 a check ran and failed. If
dojo reports a bug in itself, it says where to report it; DOJO_DEBUG=1 adds
the stack to that report.`,
		Example: `  dojo up            # create the cluster and the sample application
  dojo steps         # list the steps and your progress
  dojo step 5        # read step 5
  dojo hint step-5   # stuck? reveal the next hint`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.PersistentFlags().StringVar(&f.WorkspaceFlag, "workspace", "", "the workspace directory; without it $DOJO_WORKSPACE, else the current directory or the nearest one above it that holds a .dojo folder, else ./dojo-workspace. Only dojo init and dojo up create it")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &cmdutil.UsageError{Msg: err.Error()}
	})
	for _, add := range commands() {
		root.AddCommand(add(f))
	}
	return root
}
