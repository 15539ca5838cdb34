package solve

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory/factorytest"
	"github.com/kubedojo/dojo/internal/helm"
	"github.com/kubedojo/dojo/internal/kube"
)

type fakeInstaller struct {
	producer *helm.Deployed
	applied  []string
}

func (f *fakeInstaller) Last(context.Context, string, string) (*helm.Deployed, error) {
	return f.producer, nil
}

func (f *fakeInstaller) Apply(_ context.Context, r helm.Release) (helm.Result, error) {
	f.applied = append(f.applied, r.Name)
	return helm.Result{Release: r.Name, Namespace: r.Namespace, Action: helm.Installed, Revision: 1}, nil
}

func (f *fakeInstaller) UpgradeApp(_ context.Context, _, name string) (helm.Result, error) {
	f.applied = append(f.applied, name)
	return helm.Result{Release: name, Namespace: "default", Action: helm.Upgraded, Revision: 2}, nil
}

const kubeconfig = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: kind-dojo, context: {cluster: c, user: u}}]
current-context: kind-dojo
`

func setup(t *testing.T, inst *fakeInstaller, withChart bool) *Options {
	ws := t.TempDir()
	if withChart {
		_ = os.MkdirAll(filepath.Join(ws, "charts", "consumer"), 0o755)
		_ = os.WriteFile(filepath.Join(ws, "charts", "consumer", "Chart.yaml"), []byte("name: consumer\n"), 0o644)
	}
	f, _ := factorytest.New(t, factorytest.Options{Workspace: ws})
	o := &Options{IO: f.IO, Catalog: f.Catalog, State: f.State, Workspace: f.Workspace, Now: f.Now, Getenv: f.Getenv,
		Access:    func() (*kube.Access, error) { return kube.FromKubeconfig([]byte(kubeconfig), "kind-dojo") },
		Installer: func(*kube.Access, helm.Options) Installer { return inst }}
	return o
}

func TestSolveRefusals(t *testing.T) {
	deployed := &helm.Deployed{Values: map[string]any{"domain": "localhost"}}
	for _, c := range []struct {
		step, until string
		inst        *fakeInstaller
		chart       bool
		code        int
		want        string
	}{
		{"step-3", "", &fakeInstaller{producer: deployed}, true, cmdutil.ExitUsage, "step-3 has no reference solution"},
		{"", "4", &fakeInstaller{producer: deployed}, true, cmdutil.ExitUsage, "no step up to step-4"},
		{"5", "7", &fakeInstaller{producer: deployed}, true, cmdutil.ExitUsage, "not both"},
		{"step-12", "", &fakeInstaller{producer: deployed}, true, cmdutil.ExitUsage, `"step-12"`},
		{"5", "", &fakeInstaller{producer: deployed}, false, cmdutil.ExitError, "no workspace"},
		{"5", "", &fakeInstaller{}, true, cmdutil.ExitError, "run dojo up first"},
	} {
		o := setup(t, c.inst, c.chart)
		o.Step, o.Until = c.step, c.until
		err := Run(context.Background(), o)
		if cmdutil.ExitCode(err) != c.code || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("solve %q --until %q: exit %d %v, want %d naming %q", c.step, c.until, cmdutil.ExitCode(err), err, c.code, c.want)
		}
		if len(c.inst.applied) != 0 {
			t.Errorf("solve %q --until %q installed %v", c.step, c.until, c.inst.applied)
		}
	}
}
