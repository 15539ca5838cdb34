package deploy

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kubedojo/dojo/internal/helm"
	"github.com/kubedojo/dojo/internal/kube"
	"github.com/kubedojo/dojo/internal/ui"
)

type fakeUpgrader struct{ ws, name string }

func (f *fakeUpgrader) UpgradeApp(_ context.Context, ws, name string) (helm.Result, error) {
	f.ws, f.name = ws, name
	return helm.Result{Release: name, Action: helm.Unchanged, Revision: 3}, nil
}

// Run upgrades the named release from the workspace through the installer
// it is handed, and prints what happened.
func TestRunUpgradesThroughTheInstaller(t *testing.T) {
	io, _, out, _ := ui.Test(false, false)
	fake := &fakeUpgrader{}
	var gotTimeout time.Duration
	opts := &Options{Release: "consumer", Timeout: 42 * time.Second, IO: io,
		Workspace: func() (string, error) { return "/ws", nil },
		Access:    func() (*kube.Access, error) { return nil, nil },
		Installer: func(_ *kube.Access, timeout time.Duration) AppUpgrader { gotTimeout = timeout; return fake },
	}
	if err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if fake.ws != "/ws" || fake.name != "consumer" || gotTimeout != 42*time.Second {
		t.Fatalf("installer asked for %q in %q with timeout %s", fake.name, fake.ws, gotTimeout)
	}
	if out.String() != "consumer unchanged (revision 3)\n" {
		t.Fatalf("stdout %q", out)
	}
	// No cluster: the access error is the command's, and nothing is upgraded.
	noCluster := errors.New(`the kubeconfig has no context "kind-dojo"`)
	opts.Access = func() (*kube.Access, error) { return nil, noCluster }
	fake.name = ""
	if err := Run(context.Background(), opts); !errors.Is(err, noCluster) || fake.name != "" {
		t.Fatalf("err %v, upgraded %q", err, fake.name)
	}
}
