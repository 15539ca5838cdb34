package helm

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	kubefake "helm.sh/helm/v4/pkg/kube/fake"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/pods"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	k8sfake "k8s.io/client-go/kubernetes/fake"
)

// memDeployer is a Installer over Helm's in-memory release storage and its
// fake kube client: the convergence logic runs for real, nothing is applied.
func memDeployer(t *testing.T, kc *kubefake.FailingKubeClient) (*Installer, *storage.Storage, *int) {
	t.Helper()
	mem := driver.NewMemory()
	store := storage.Init(mem)
	configs := 0
	d := New(nil, Options{CacheDir: t.TempDir()})
	if kc == nil {
		kc = &kubefake.FailingKubeClient{PrintingKubeClient: kubefake.PrintingKubeClient{Out: io.Discard}}
	}
	d.newConfig = func(ns string) (*action.Configuration, error) {
		configs++
		mem.SetNamespace(ns)
		cfg := action.NewConfiguration()
		cfg.Releases = store
		cfg.KubeClient = kc
		cfg.Capabilities = common.DefaultCapabilities
		return cfg, nil
	}
	return d, store, &configs
}

func producer(vals map[string]any) Release {
	return Release{Name: "producer", Namespace: "default",
		Source: Source{FS: embedded.FS(), Path: "workspace/charts/producer"}, Values: vals}
}

func last(t *testing.T, store *storage.Storage, name string) *release.Release {
	t.Helper()
	r, err := store.Last(name)
	if err != nil {
		t.Fatal(err)
	}
	return r.(*release.Release)
}

func TestApplyInstallsThenSkipsThenUpgradesOnChange(t *testing.T) {
	d, store, configs := memDeployer(t, nil)
	ctx := context.Background()
	vals := map[string]any{"domain": "vcap.me", "image": map[string]any{"repository": "r", "tag": "t"}}

	r, err := d.Apply(ctx, producer(vals))
	if err != nil {
		t.Fatal(err)
	}
	if r.Action != Installed || r.Revision != 1 {
		t.Fatalf("first apply: %+v", r)
	}
	if last(t, store, "producer").Labels[DigestLabel] == "" {
		t.Fatal("the release carries no digest label")
	}

	r, err = d.Apply(ctx, producer(map[string]any{"image": map[string]any{"tag": "t", "repository": "r"}, "domain": "vcap.me"}))
	if err != nil {
		t.Fatal(err)
	}
	if r.Action != Unchanged || r.Revision != 1 {
		t.Fatalf("same chart and values (keys in another order): %+v", r)
	}

	r, err = d.Apply(ctx, producer(map[string]any{"domain": "localhost", "image": map[string]any{"repository": "r", "tag": "t"}}))
	if err != nil {
		t.Fatal(err)
	}
	if r.Action != Upgraded || r.Revision != 2 {
		t.Fatalf("changed values: %+v", r)
	}
	if *configs != 3 {
		t.Fatalf("%d Helm configurations for 3 applies: want a fresh one each", *configs)
	}
}

func TestApplyUpgradesWhenTheWorkspaceChartChanges(t *testing.T) {
	d, _, _ := memDeployer(t, nil)
	dir := filepath.Join(t.TempDir(), "consumer")
	copyEmbedded(t, "workspace/charts/consumer", dir)
	rel := Release{Name: "consumer", Namespace: "default", Source: Source{Dir: dir}}
	if r, err := d.Apply(context.Background(), rel); err != nil || r.Action != Installed {
		t.Fatalf("install: %+v %v", r, err)
	}
	// A backup the learner's editor or dojo left is ignored (.helmignore).
	if err := os.WriteFile(filepath.Join(dir, "values.yaml.20260101-000000.bak"), []byte("x: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r, err := d.Apply(context.Background(), rel); err != nil || r.Action != Unchanged {
		t.Fatalf("after a .bak file: %+v %v", r, err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "values.yaml"))
	if err := os.WriteFile(filepath.Join(dir, "values.yaml"), append(b, []byte("\nworkTime: 2s\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	if r, err := d.Apply(context.Background(), rel); err != nil || r.Action != Upgraded {
		t.Fatalf("after editing values.yaml: %+v %v", r, err)
	}
}

func TestApplyRecoversAReleaseLeftPendingByAnInterruptedRun(t *testing.T) {
	for _, status := range []rcommon.Status{rcommon.StatusPendingInstall, rcommon.StatusPendingUpgrade} {
		t.Run(string(status), func(t *testing.T) {
			d, store, _ := memDeployer(t, nil)
			ctx := context.Background()
			if status == rcommon.StatusPendingUpgrade {
				if _, err := d.Apply(ctx, producer(nil)); err != nil {
					t.Fatal(err)
				}
			}
			// What Ctrl-C in the middle of Helm's install/upgrade leaves.
			ch, err := loadLocal(producer(nil).Source)
			if err != nil {
				t.Fatal(err)
			}
			stuck := &release.Release{Name: "producer", Namespace: "default", Chart: ch,
				Version: len(mustHistory(t, store, "producer")) + 1, Info: &release.Info{Status: status}}
			if err := store.Create(stuck); err != nil {
				t.Fatal(err)
			}
			r, err := d.Apply(ctx, producer(nil))
			if err != nil {
				t.Fatalf("apply after interruption: %v", err)
			}
			if r.Recovered != string(status) || r.Action != Upgraded {
				t.Fatalf("result %+v", r)
			}
			if got := last(t, store, "producer").Info.Status; got != rcommon.StatusDeployed {
				t.Fatalf("status after recovery = %s", got)
			}
			before := last(t, store, "producer")
			if r, _ := d.Apply(ctx, producer(nil)); r.Action != Unchanged {
				t.Fatalf("third run: %+v (last before: v%d %s %v)", r, before.Version, before.Info.Status, before.Labels)
			}
		})
	}
}

func mustHistory(t *testing.T, store *storage.Storage, name string) []any {
	t.Helper()
	h, err := store.History(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	out := make([]any, len(h))
	for i := range h {
		out[i] = h[i]
	}
	return out
}

func TestApplyFailureNamesTheRelease(t *testing.T) {
	kc := &kubefake.FailingKubeClient{PrintingKubeClient: kubefake.PrintingKubeClient{Out: io.Discard},
		WaitError: errors.New("resource not ready, name: producer, kind: Deployment, status: InProgress")}
	d, _, _ := memDeployer(t, kc)
	_, err := d.Apply(context.Background(), producer(nil))
	var re *ReleaseError
	if !errors.As(err, &re) || re.Release != "producer" || !strings.Contains(err.Error(), "release producer (namespace default)") {
		t.Fatalf("err = %v", err)
	}
}

// A failed release names its unready pods, found through the workloads of
// its stored manifest, with the reason in Kubernetes' words.
func TestApplyFailureShowsThePodsOfTheReleasesWorkloads(t *testing.T) {
	kc := &kubefake.FailingKubeClient{PrintingKubeClient: kubefake.PrintingKubeClient{Out: io.Discard},
		WaitError: errors.New("resource not ready, name: producer, kind: Deployment, status: InProgress")}
	d, _, _ := memDeployer(t, kc)
	cs := k8sfake.NewClientset(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "producer-5d8-x", Namespace: "default",
			Labels: map[string]string{"app.kubernetes.io/name": "producer", "app.kubernetes.io/instance": "producer"}},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "producer",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff",
				Message: `Back-off pulling image "ghcr.io/kubedojo/dojo:dev"`}}}}},
	})
	d.newClientset = func() (kubernetes.Interface, error) { return cs, nil }
	_, err := d.Apply(context.Background(), producer(nil))
	want := `pod producer-5d8-x: container producer ImagePullBackOff: Back-off pulling image "ghcr.io/kubedojo/dojo:dev"`
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "kind load docker-image") {
		t.Fatalf("err = %v\nwant it to contain %q and what to do about an image that cannot be pulled", err, want)
	}
}

func TestReleaseErrorShowsPodAndEvents(t *testing.T) {
	e := &ReleaseError{Release: "consumer", Namespace: "default", Err: errors.New("context deadline exceeded"),
		Pods: []pods.Report{{Name: "consumer-7d9-abc", Reason: "container consumer ImagePullBackOff: Back-off pulling image",
			Events: []string{"Warning Failed: Failed to pull image \"ghcr.io/kubedojo/dojo:dev\""}},
			{Name: "consumer-7d9-def", Reason: "container consumer CrashLoopBackOff: back-off 10s", Logs: []string{"panic: boom"}}}}
	want := `release consumer (namespace default): context deadline exceeded
  pod consumer-7d9-abc: container consumer ImagePullBackOff: Back-off pulling image
    Warning Failed: Failed to pull image "ghcr.io/kubedojo/dojo:dev"
  pod consumer-7d9-def: container consumer CrashLoopBackOff: back-off 10s
    log: panic: boom
  the node cannot pull that image: check its name and your network; offline, load it into the cluster first (` + "`kind load docker-image IMAGE --name <cluster>`" + `), and for the app pass dojo up --image`
	if e.Error() != want {
		t.Fatalf("got\n%s\nwant\n%s", e.Error(), want)
	}
}

func TestUpstreamDigestNeedsNoDownloadAndFollowsTheRepoOverride(t *testing.T) {
	d := New(nil, Options{CacheDir: t.TempDir()})
	o := New(nil, Options{CacheDir: t.TempDir(), ChartRepo: "http://127.0.0.1:1/charts"})
	c := embeddedTraefik()
	a, _ := digestOf(d.upstreamID(c), nil, nil)
	b, _ := digestOf(o.upstreamID(c), nil, nil)
	if a == b {
		t.Fatal("the repository override does not change the digest")
	}
	if len(a) != 40 {
		t.Fatalf("digest %q does not fit a label value", a)
	}
}

// BenchmarkApplyUnchanged is dojo's own cost of deciding "nothing to do"
// for a workspace chart (load, digest, history lookup), without the API
// round trips.
//
//	go test -run '^$' -bench ApplyUnchanged ./internal/helm
func BenchmarkApplyUnchanged(b *testing.B) {
	mem := driver.NewMemory()
	store := storage.Init(mem)
	d := New(nil, Options{CacheDir: b.TempDir()})
	d.newConfig = func(ns string) (*action.Configuration, error) {
		mem.SetNamespace(ns)
		cfg := action.NewConfiguration()
		cfg.Releases, cfg.Capabilities = store, common.DefaultCapabilities
		cfg.KubeClient = &kubefake.FailingKubeClient{PrintingKubeClient: kubefake.PrintingKubeClient{Out: io.Discard}}
		return cfg, nil
	}
	dir := filepath.Join(b.TempDir(), "producer")
	copyEmbedded(b, "workspace/charts/producer", dir)
	rel := Release{Name: "producer", Namespace: "default", Source: Source{Dir: dir}}
	if _, err := d.Apply(context.Background(), rel); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if r, err := d.Apply(context.Background(), rel); err != nil || r.Action != Unchanged {
			b.Fatal(r, err)
		}
	}
}

func TestAppUpgradesKeepingDojoUpsValuesAndNeedsAnInstall(t *testing.T) {
	d, store, _ := memDeployer(t, nil)
	ws := t.TempDir()
	copyEmbedded(t, "workspace/charts/producer", filepath.Join(ws, "charts", "producer"))
	if _, err := d.UpgradeApp(context.Background(), ws, "producer"); err == nil || !strings.Contains(err.Error(), "run dojo up first") {
		t.Fatalf("deploy before up: %v", err)
	}
	vals := map[string]any{"domain": "localhost", "image": map[string]any{"repository": "r", "tag": "t"}}
	if _, err := d.Apply(context.Background(), Release{Name: "producer", Namespace: "default",
		Source: Source{Dir: filepath.Join(ws, "charts", "producer")}, Values: vals}); err != nil {
		t.Fatal(err)
	}
	if r, err := d.UpgradeApp(context.Background(), ws, "producer"); err != nil || r.Action != Unchanged {
		t.Fatalf("nothing changed: %+v %v", r, err)
	}
	p := filepath.Join(ws, "charts", "producer", "values.yaml")
	b, _ := os.ReadFile(p)
	if err := os.WriteFile(p, append(b, []byte("\nqueue: other\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := d.UpgradeApp(context.Background(), ws, "producer")
	if err != nil || r.Action != Upgraded {
		t.Fatalf("after an edit: %+v %v", r, err)
	}
	if got := last(t, store, "producer").Config["domain"]; got != "localhost" {
		t.Fatalf("domain after deploy = %v, want dojo up's localhost", got)
	}
}
