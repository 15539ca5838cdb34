// Package factory builds what commands need, lazily: nothing reads the
// workspace, parses the catalog or dials a cluster until a command asks.
package factory

import (
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/cluster"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/state"
	"github.com/kubedojo/dojo/internal/steps"
	"github.com/kubedojo/dojo/internal/ui"
)

// DefaultWorkspace is used when neither --workspace nor DOJO_WORKSPACE is set.
const DefaultWorkspace = "dojo-workspace"

// BuildInfo describes this binary.
type BuildInfo struct {
	Version string
	Commit  string
	Date    string
}

// Factory is handed to every command constructor.
type Factory struct {
	IO     *ui.IOStreams
	Getenv func(string) string
	Now    func() time.Time
	Build  BuildInfo
	// Embedded is the workshop tree (steps, workspace, solutions, platform).
	Embedded fs.FS

	// Getwd is the current directory (os.Getwd when nil).
	Getwd func() (string, error)

	// WorkspaceFlag is bound to the root's --workspace flag.
	WorkspaceFlag string
	// Cluster is bound to --name, --context and --kubeconfig (AddClusterFlags).
	Cluster ClusterFlags

	// NewMachine replaces the real machine (tests only; nil in production).
	NewMachine func() cluster.PreflightEnv
	// StateDir keeps per-machine markers (a cluster's ready marker, the
	// recorded dojo image); "" means cluster.DefaultStateDir().
	StateDir string
	clusterState

	// Checks collects the results dojo check produced in this run, for the
	// classroom event sent after the command (internal/cli/classroom).
	Checks Checks

	catalogOnce sync.Once
	catalog     *steps.Catalog
	catalogErr  error
}

// New returns the production factory.
func New(build BuildInfo) *Factory {
	return &Factory{
		IO:       ui.System(os.Getenv),
		Getenv:   os.Getenv,
		Now:      time.Now,
		Build:    build,
		Embedded: embedded.FS(),
	}
}

// Workspace is the learner's workspace directory: --workspace, else
// DOJO_WORKSPACE, else the current directory or the nearest parent holding a
// workspace (a .dojo directory: learners run helm from inside it), else
// ./dojo-workspace. The path is made absolute.
func (f *Factory) Workspace() (string, error) {
	dir, _, err := f.workspace()
	return dir, err
}

// workspace is Workspace and how it was chosen, in a phrase for the
// message that says where dojo looked ("given by --workspace").
func (f *Factory) workspace() (string, string, error) {
	if f.WorkspaceFlag != "" {
		dir, err := filepath.Abs(f.WorkspaceFlag)
		return dir, "given by --workspace", err
	}
	if env := f.Getenv("DOJO_WORKSPACE"); env != "" {
		dir, err := filepath.Abs(env)
		return dir, "given by DOJO_WORKSPACE", err
	}
	cwd, err := f.getwd()
	if err != nil {
		dir, err := filepath.Abs(DefaultWorkspace)
		return dir, "the default", err
	}
	for d := cwd; ; d = filepath.Dir(d) {
		if fi, err := os.Stat(filepath.Join(d, ".dojo")); err == nil && fi.IsDir() {
			return d, "found from " + cwd, nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return filepath.Join(cwd, DefaultWorkspace), "the default: neither " + cwd + " nor a directory above it holds a .dojo folder", nil
}

func (f *Factory) getwd() (string, error) {
	if f.Getwd != nil {
		return f.Getwd()
	}
	return os.Getwd()
}

// Catalog parses the embedded steps once.
func (f *Factory) Catalog() (*steps.Catalog, error) {
	f.catalogOnce.Do(func() { f.catalog, f.catalogErr = steps.Load(f.Embedded) })
	return f.catalog, f.catalogErr
}

// Step looks a step up by what the learner typed (5, step-5, Step5,
// cleanup); an unknown step is a usage error naming the valid ones.
func (f *Factory) Step(arg string) (*steps.Step, error) {
	cat, err := f.Catalog()
	if err != nil {
		return nil, err
	}
	s, err := cat.Get(arg)
	if err != nil {
		return nil, cmdutil.Usagef("%s", err)
	}
	return s, nil
}

// State opens the workspace's progress file.
func (f *Factory) State() (*state.Store, error) {
	ws, origin, err := f.workspace()
	if err != nil {
		return nil, err
	}
	st := state.NewStore(ws, f.Now)
	st.Warn = f.IO.Warn
	st.DojoVersion = f.Build.Version
	st.Origin = origin
	return st, nil
}

// Progress returns the catalog and the learner's recorded progress, what
// `dojo steps` and `dojo status` show.
func (f *Factory) Progress() (*steps.Catalog, *state.State, error) {
	cat, err := f.Catalog()
	if err != nil {
		return nil, nil, err
	}
	store, err := f.State()
	if err != nil {
		return nil, nil, err
	}
	st, err := store.Load()
	if err != nil {
		return nil, nil, err
	}
	return cat, st, nil
}

// Domain is the domain dojo up recorded in the workspace's progress, the
// one the texts write the workshop's host names with (steps.WithDomain);
// "" when none is recorded or the progress cannot be read, and the texts
// keep the default. It reads quietly and writes nothing.
func (f *Factory) Domain() string {
	store, err := f.State()
	if err != nil {
		return ""
	}
	store.Warn = nil
	st, err := store.Load()
	if err != nil {
		return ""
	}
	return st.Domain
}
