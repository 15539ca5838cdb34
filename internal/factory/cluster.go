package factory

import (
	"sync"

	"github.com/spf13/pflag"

	"github.com/kubedojo/dojo/internal/cluster"
	"github.com/kubedojo/dojo/internal/kube"
	"github.com/kubedojo/dojo/internal/workshop"
)

// ClusterFlags say which cluster a command talks to. Every command that
// reaches a cluster declares them with AddClusterFlags and resolves them with
// the factory's Access, so they mean the same everywhere.
type ClusterFlags struct {
	// Name is the kind cluster's name (--name); its context is kind-<name>.
	Name string
	// Context is a kubeconfig context to use instead of kind-<name>
	// (--context): a cluster of the learner's own.
	Context string
	// Kubeconfig is the kubeconfig file (--kubeconfig); else $KUBECONFIG,
	// else ~/.kube/config, as kubectl reads them.
	Kubeconfig string
}

// AddClusterFlags declares --name, --context and --kubeconfig on fs, bound
// to f.Cluster.
func (f *Factory) AddClusterFlags(fs *pflag.FlagSet) {
	f.AddNameFlag(fs)
	fs.StringVar(&f.Cluster.Context, "context", "", "a kubeconfig context to use instead of kind-<name> (a cluster of your own)")
	fs.StringVar(&f.Cluster.Kubeconfig, "kubeconfig", "", "the kubeconfig file (default $KUBECONFIG, else ~/.kube/config)")
}

// AddNameFlag declares only --name, for a command that looks at the kind
// cluster from the container runtime and never through its API (doctor).
// The name is checked against kind's rule as the flag is parsed: a name kind
// would refuse is a usage error naming it, before any command runs.
func (f *Factory) AddNameFlag(fs *pflag.FlagSet) {
	f.Cluster.Name = workshop.ClusterName
	fs.Var(&nameValue{p: &f.Cluster.Name}, "name", "the kind cluster's name (its context is kind-<name>)")
}

// nameValue is --name: a string that only takes a name kind accepts.
type nameValue struct{ p *string }

func (v *nameValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v *nameValue) Set(s string) error {
	if err := cluster.ValidateName(s); err != nil {
		return err
	}
	*v.p = s
	return nil
}

func (v *nameValue) Type() string { return "string" }

// ClusterName is --name (the workshop's cluster name when unset).
func (f *Factory) ClusterName() string {
	if f.Cluster.Name == "" {
		return workshop.ClusterName
	}
	return f.Cluster.Name
}

// ContextName is the context every command pins: --context, else
// kind-<name>. Never the kubeconfig's current-context.
func (f *Factory) ContextName() string {
	if f.Cluster.Context != "" {
		return f.Cluster.Context
	}
	return workshop.KindContext(f.ClusterName())
}

// KubeconfigPath is the file kind writes the cluster's context into and
// removes it from: --kubeconfig, else "", which leaves the choice to kind's
// own rule for $KUBECONFIG and ~/.kube/config (it merges into the first file
// of $KUBECONFIG that exists and deletes from all of them), the files
// Access reads too.
func (f *Factory) KubeconfigPath() string { return f.Cluster.Kubeconfig }

// Access is the one way into the cluster: the kubeconfig (--kubeconfig, else
// $KUBECONFIG, else ~/.kube/config) pinned to ContextName. It is resolved
// once per command run.
func (f *Factory) Access() (*kube.Access, error) {
	f.accessOnce.Do(func() {
		f.access, f.accessErr = kube.FromFile(f.Cluster.Kubeconfig, f.Getenv("KUBECONFIG"), f.ContextName())
	})
	return f.access, f.accessErr
}

// Machine is what dojo up, teardown and doctor look at: the container
// runtime and kind's provider (writing kubeconfig entries to KubeconfigPath),
// the host's ports and memory. Tests set f.NewMachine.
func (f *Factory) Machine() cluster.PreflightEnv {
	if f.NewMachine != nil {
		return f.NewMachine()
	}
	env := cluster.SystemPreflightEnv(f.Getenv)
	path := f.KubeconfigPath()
	env.NewProvider = func(rt cluster.Runtime) cluster.Provider {
		p := cluster.NewKindProvider(rt)
		p.KubeconfigPath = path
		return p
	}
	return env
}

// MachineStateDir is where dojo keeps per-machine markers: f.StateDir, else
// the user cache dir's (cluster.DefaultStateDir).
func (f *Factory) MachineStateDir() string {
	if f.StateDir != "" {
		return f.StateDir
	}
	return cluster.DefaultStateDir()
}

// clusterState is the part of the factory that Access fills in.
type clusterState struct {
	accessOnce sync.Once
	access     *kube.Access
	accessErr  error
}
