package deploy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kubedojo/dojo/internal/helm"
	"github.com/kubedojo/dojo/internal/kube"
	"github.com/kubedojo/dojo/internal/ui"
)

type fakeUpgrader struct {
	ws, name string
	res      helm.Result
	err      error
}

func (f *fakeUpgrader) UpgradeApp(_ context.Context, ws, name string) (helm.Result, error) {
	f.ws, f.name = ws, name
	if f.err != nil || f.res.Release != "" {
		return f.res, f.err
	}
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
		Installer: func(_ *kube.Access, o helm.Options) AppUpgrader {
			gotTimeout = o.Timeout
			if o.TakeBackConflicts {
				t.Error("conflicts taken back without --force-conflicts")
			}
			return fake
		},
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

// A live object edited with kubectl makes the upgrade conflict: dojo deploy
// says in one message what conflicts, with whom, and the flag that takes it
// back; with the flag, the installer is told to take them back and what it
// took is printed.
func TestRunConflictNamesTheFieldsTheManagerAndTheFlag(t *testing.T) {
	raw := errors.New(`conflict occurred while applying object default/consumer autoscaling/v2, Kind=HorizontalPodAutoscaler: Apply failed with 1 conflict: conflict with "kubectl-edit" using autoscaling/v2: .spec.maxReplicas`)
	conflicts := helm.ParseConflicts(raw)
	fake := &fakeUpgrader{err: &helm.ReleaseError{Release: "consumer", Namespace: "default", Err: &helm.ConflictError{Conflicts: conflicts, Err: raw}}}
	var takeBack bool
	io, _, out, _ := ui.Test(false, false)
	opts := &Options{Release: "consumer", Timeout: time.Minute, IO: io,
		Workspace: func() (string, error) { return "/ws", nil },
		Access:    func() (*kube.Access, error) { return nil, nil },
		Installer: func(_ *kube.Access, o helm.Options) AppUpgrader { takeBack = o.TakeBackConflicts; return fake },
	}
	err := Run(context.Background(), opts)
	if err == nil {
		t.Fatal("a conflicting upgrade succeeded")
	}
	msg := err.Error()
	for _, want := range []string{"HorizontalPodAutoscaler default/consumer", ".spec.maxReplicas", `"kubectl-edit"`, "dojo deploy consumer --force-conflicts"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "\n") || strings.Contains(msg, "Apply failed") {
		t.Errorf("want one line in dojo's words, got:\n%s", msg)
	}
	fake.err, fake.res = nil, helm.Result{Release: "consumer", Action: helm.Upgraded, Revision: 4, TookBack: conflicts}
	opts.ForceConflicts = true
	if err := Run(context.Background(), opts); err != nil || !takeBack {
		t.Fatalf("--force-conflicts: err %v, installer told to take back: %v", err, takeBack)
	}
	if want := "consumer upgraded (revision 4)\n  took back from another tool: HorizontalPodAutoscaler default/consumer: .spec.maxReplicas (changed by \"kubectl-edit\")\n"; out.String() != want {
		t.Fatalf("stdout %q, want %q", out, want)
	}
}
