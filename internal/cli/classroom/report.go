package classroom

import (
	"context"
	"errors"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubedojo/dojo/internal/classroom"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/state"
)

// Reports wraps a command constructor so that, once the command ran (passed
// or failed, but not refused as bad usage), the learner's event goes to the
// classroom the workspace joined. commands.go wraps check, hint, solve and
// step with it: this is the one place events are sent from. readsCluster
// says the command talked to the cluster, so the node's version may be read
// too.
func Reports(newCmd func(*factory.Factory) *cobra.Command, readsCluster bool) func(*factory.Factory) *cobra.Command {
	return func(f *factory.Factory) *cobra.Command {
		cmd := newCmd(f)
		run := cmd.RunE
		if run == nil {
			return cmd
		}
		cmd.RunE = func(c *cobra.Command, args []string) error {
			// A long command (dojo check --watch) reports each change as
			// it goes, not only when it ends.
			f.Checks.OnChange = func(ctx context.Context) { Report(ctx, f, readsCluster) }
			err := run(c, args)
			var ue *cmdutil.UsageError
			if !errors.As(err, &ue) {
				Report(c.Context(), f, readsCluster)
			}
			return err
		}
		return cmd
	}
}

// Report sends the learner's event when the workspace joined a classroom:
// progress from the state file, the results the command recorded in
// f.Checks. It takes at most classroom.Budget, never fails, and says in one
// warning line what did not go.
func Report(ctx context.Context, f *factory.Factory, readsCluster bool) {
	ws, err := f.Workspace()
	if err != nil {
		return
	}
	m, err := classroom.LoadMember(ws)
	if err != nil {
		f.IO.Warn(err.Error())
		return
	}
	if m == nil {
		return
	}
	if ctx == nil {
		ctx = context.Background()
	}
	// Even after Ctrl-C the event goes (or is queued), within the budget.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), classroom.Budget)
	defer cancel()
	cat, err := f.Catalog()
	if err != nil {
		return
	}
	st, err := state.NewStore(ws, f.Now).Load() // no Warn: the command has said it
	if err != nil {
		return
	}
	n := classroom.Notice{Workspace: ws, Member: m, Catalog: cat, State: st, Checked: f.Checks.ByStep(),
		Now: f.Now(), Dojo: f.Build.Version}
	if readsCluster {
		n.NodeVersion = func(ctx context.Context) (string, error) { return nodeVersion(ctx, f) }
	}
	out, err := classroom.Notify(ctx, n)
	if msg := classroom.Describe(m, out, err); msg != "" {
		f.IO.Warn(msg)
	}
}

// nodeVersion is the kubelet version of the cluster's first node.
func nodeVersion(ctx context.Context, f *factory.Factory) (string, error) {
	a, err := f.Access()
	if err != nil {
		return "", err
	}
	cs, err := a.Clientset()
	if err != nil {
		return "", err
	}
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil || len(nodes.Items) == 0 {
		return "", err
	}
	return nodes.Items[0].Status.NodeInfo.KubeletVersion, nil
}
