// Package teardown is the `dojo teardown` command.
package teardown

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/internal/cluster"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/ui"
	"github.com/kubedojo/dojo/internal/workshop"
)

// Options are the flags of `dojo teardown`.
type Options struct {
	Purge bool
	Yes   bool

	// What teardown needs, filled from the factory by NewCmd (a test sets
	// its own).
	IO        *ui.IOStreams
	Cluster   factory.ClusterFlags // Name set
	Workspace func() (string, error)
	Machine   func() cluster.PreflightEnv
	StateDir  string // per-machine markers (factory.MachineStateDir)
}

// NewCmd builds `dojo teardown`.
func NewCmd(f *factory.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "teardown",
		Short: "Delete the dojo's kind cluster (your workspace stays)",
		Long: `Delete the kind cluster dojo created and its kubeconfig entries, and nothing
else. dojo refuses a cluster it did not create. Your workspace stays unless
--purge, which asks first (or pass --yes).`,
		Example: `  dojo teardown
  dojo teardown --purge --yes   # also delete the workspace, no question`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO, opts.Workspace, opts.Machine, opts.StateDir = f.IO, f.Workspace, f.Machine, f.MachineStateDir()
			opts.Cluster = f.Cluster
			opts.Cluster.Name = f.ClusterName()
			return Run(opts)
		},
	}
	f.AddClusterFlags(cmd.Flags())
	cmd.Flags().BoolVar(&opts.Purge, "purge", false, "also delete the workspace (asks first)")
	cmd.Flags().BoolVar(&opts.Yes, "yes", false, "do not ask before --purge")
	return cmd
}

// Run deletes the cluster, then, with --purge, the workspace.
func Run(opts *Options) error {
	name := opts.Cluster.Name
	if c := opts.Cluster.Context; c != "" && c != workshop.KindContext(name) {
		return cmdutil.Usagef("dojo teardown deletes only the kind cluster dojo created (context %s); --context %q names another cluster, which dojo leaves alone: remove what dojo installed there with `helm uninstall`", workshop.KindContext(name), c)
	}
	ws, err := opts.Workspace()
	if err != nil {
		return err
	}
	if opts.Purge && !opts.Yes {
		// Ask before anything is deleted, so a "no" changes nothing.
		ok, err := confirm(opts.IO, fmt.Sprintf("Delete the workspace %s and everything you wrote in it? [y/N] ", ws))
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("nothing deleted")
		}
	}
	if err := deleteCluster(opts.IO, name, opts.Machine(), opts.StateDir); err != nil {
		var nf *cluster.NotFoundError
		if !opts.Purge || !errors.As(err, &nf) {
			return err
		}
		// Already gone: the workspace can still be purged as asked.
		fmt.Fprintf(opts.IO.ErrOut, "%s\n", err)
	}
	if !opts.Purge {
		fmt.Fprintf(opts.IO.Out, "Your workspace stays in %s (dojo up reuses it; --purge deletes it).\n", ws)
		return nil
	}
	if err := purge(ws); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "Deleted the workspace %s.\n", ws)
	return nil
}

func deleteCluster(io *ui.IOStreams, name string, env cluster.PreflightEnv, stateDir string) error {
	rt, err := cluster.DetectRuntime(env.Host)
	if err != nil {
		return err
	}
	p := env.NewProvider(rt)
	pr := ui.NewProgress(io)
	defer pr.Close()
	t := pr.Start("delete cluster " + name)
	err = cluster.Teardown(p, name, cluster.WasCreating(stateDir, name))
	t.Done(err)
	if err != nil {
		return err
	}
	if err := cluster.ForgetReady(stateDir, name); err != nil {
		io.Warn(err.Error())
	}
	fmt.Fprintf(io.Out, "Deleted the kind cluster %q and its kubeconfig entries.\n", name)
	return nil
}

// purge deletes the workspace, but only a directory dojo init made (it holds
// .dojo and the workspace's charts), and never the home or root directory.
func purge(ws string) error {
	if _, err := os.Stat(ws); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	abs, err := filepath.Abs(ws)
	if err != nil {
		return err
	}
	home, _ := os.UserHomeDir()
	if abs == filepath.Dir(abs) || (home != "" && abs == filepath.Clean(home)) {
		return fmt.Errorf("refusing to delete %s: it is your home or the root directory, not a workspace; delete the workshop files by hand", abs)
	}
	for _, marker := range []string{".dojo", filepath.Join("charts", "consumer", "Chart.yaml")} {
		if _, err := os.Stat(filepath.Join(abs, marker)); err != nil {
			return fmt.Errorf("%s does not look like a dojo workspace (no %s): not deleting it", abs, marker)
		}
	}
	return os.RemoveAll(abs)
}

// confirm asks on stderr and reads a line from stdin; with no input to read
// (closed, /dev/null, CI) it refuses and says to pass --yes.
func confirm(streams *ui.IOStreams, question string) (bool, error) {
	fmt.Fprint(streams.ErrOut, question)
	line, err := bufio.NewReader(streams.In).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	if err != nil && line == "" {
		fmt.Fprintln(streams.ErrOut)
		return false, cmdutil.Usagef("--purge deletes your workspace and needs an answer, but there is nothing to read it from: pass --yes")
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}
