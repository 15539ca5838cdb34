package lab_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"helm.sh/helm/v4/pkg/action"
	helmkube "helm.sh/helm/v4/pkg/kube"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubedojo/dojo/internal/bootstrap"
	"github.com/kubedojo/dojo/internal/helm"
	"github.com/kubedojo/dojo/internal/lab"
	"github.com/kubedojo/dojo/internal/ui"
	"github.com/kubedojo/dojo/internal/versions"
	"github.com/kubedojo/dojo/internal/workshop"
)

// TestUpOnLab is the proof of the install phase of `dojo up` (bootstrap.Up on
// an existing cluster) against the lab's real API server: Traefik (stand-in
// chart and ingress stand-in), Redis, producer and consumer installed and
// working; a second run that changes nothing; and a run interrupted while
// installing, completed by the next one.
func TestUpOnLab(t *testing.T) {
	t0 := time.Now()
	l := lab.Start(t, lab.Options{})
	t.Logf("MEASURE lab up: %s", time.Since(t0).Round(time.Millisecond))
	cs := l.Client()
	ws := filepath.Join(t.TempDir(), "workshop")
	cacheDir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cacheDir) // the installer's chart cache: fresh, not the user's

	run := func(ctx context.Context, what string) (*bootstrap.Result, string, error) {
		streams, _, _, errOut := ui.Test(false, false)
		pr := ui.NewProgress(streams)
		start := time.Now()
		o, env := l.UpOptions(ws)
		env.Progress = pr
		res, err := bootstrap.Up(ctx, o, env)
		pr.Close()
		t.Logf("MEASURE %s: %s", what, time.Since(start).Round(time.Millisecond))
		return res, errOut.String(), err
	}
	releases := append([]string{versions.Traefik.Release, workshop.RedisRelease}, workshop.AppReleases()...)
	namespaceOf := map[string]string{versions.Traefik.Release: versions.Traefik.Namespace}
	for _, r := range releases[1:] {
		namespaceOf[r] = workshop.AppNamespace
	}
	// revisions reads Helm's storage (secrets owner=helm) from the API
	// server: release → latest revision and its status.
	revisions := func(ctx context.Context) (map[string]string, error) {
		out := map[string]string{}
		for _, rel := range releases {
			list, err := cs.CoreV1().Secrets(namespaceOf[rel]).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm,name=" + rel})
			if err != nil {
				return nil, err
			}
			best := -1
			for _, s := range list.Items {
				var v int
				fmt.Sscan(s.Labels["version"], &v)
				if v > best {
					best = v
					out[rel] = s.Labels["version"] + "/" + s.Labels["status"]
				}
			}
		}
		return out, nil
	}
	allDeployed := func(revs map[string]string) error {
		for _, rel := range releases {
			if !strings.HasSuffix(revs[rel], "/deployed") {
				return fmt.Errorf("release %s: %q, want deployed (all: %v)", rel, revs[rel], revs)
			}
		}
		return nil
	}
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(format+"\n%s", append(args, l.Logs(20))...)
	}

	// (a) the first install
	ctx := context.Background()
	res, progress, err := run(ctx, "first install (traefik, redis, producer, consumer)")
	if err != nil {
		fail("dojo up: %v\nprogress:\n%s", err, progress)
	}
	t.Logf("progress:\n%s", progress)
	revs, err := revisions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := allDeployed(revs); err != nil {
		fail("%v", err)
	}
	if _, err := os.Stat(filepath.Join(workshop.AppChartDir(ws, workshop.ProducerRelease), "Chart.yaml")); err != nil {
		t.Errorf("workspace not written: %v", err)
	}
	if _, err := cs.CoreV1().Services(workshop.AppNamespace).Get(ctx, workshop.RedisService, metav1.GetOptions{}); err != nil {
		t.Errorf("Service redis-master: %v", err)
	}
	svc, err := cs.CoreV1().Services("traefik").Get(ctx, "traefik", metav1.GetOptions{})
	if err != nil || svc.Spec.Type != "NodePort" {
		t.Errorf("Service traefik/traefik: %v (type %v), want NodePort", err, svc.Spec.Type)
	}
	ic, err := cs.NetworkingV1().IngressClasses().Get(ctx, "traefik", metav1.GetOptions{})
	if err != nil || ic.Spec.Controller != "traefik.io/ingress-controller" || ic.Annotations["ingressclass.kubernetes.io/is-default-class"] != "true" {
		t.Errorf("IngressClass traefik: %v %+v", err, ic)
	}
	if res.ProducerURL != "http://producer.localhost" {
		t.Errorf("ProducerURL %q", res.ProducerURL)
	}

	// The learner's `curl -X POST http://producer.localhost/publish`: to the
	// node's port 80 (the hostPort of Traefik's pod; in the lab the pod's
	// address), Host producer.localhost, through the ingress stand-in.
	pods, err := cs.CoreV1().Pods("traefik").List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=traefik"})
	if err != nil || len(pods.Items) != 1 || pods.Items[0].Status.HostIP == "" {
		fail("traefik pod: %v %d", err, len(pods.Items))
	}
	node := net.JoinHostPort(pods.Items[0].Status.HostIP, "80")
	post := func(path string) (string, error) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+node+path, nil)
		req.Host = "producer.localhost"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			return "", fmt.Errorf("POST %s: %s: %s", path, resp.Status, body)
		}
		return string(body), nil
	}
	redisAddr, err := l.ServiceAddr(ctx, workshop.AppNamespace, workshop.RedisService, workshop.RedisPort, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	if body, err := post("/publish"); err != nil {
		fail("through the ingress: %v", err)
	} else {
		t.Logf("POST producer.localhost/publish via %s: %s", node, strings.TrimSpace(body))
	}
	if _, err := post("/publish/19"); err != nil {
		fail("through the ingress: %v", err)
	}
	n, err := rdb.LLen(ctx, workshop.Queue).Result()
	if err != nil || n < 5 {
		fail("queue after publishing 20: %d %v, want ≥ 5", n, err)
	}
	t.Logf("queue length after 20 published: %d", n)
	eventually(t, l, "the consumer drains the queue", 2*time.Minute, func(ctx context.Context) error {
		n, err := rdb.LLen(ctx, workshop.Queue).Result()
		if err == nil && n > 0 {
			err = fmt.Errorf("%d items left", n)
		}
		return err
	})

	// (b) a second run changes nothing
	res2, progress, err := run(ctx, "second run (nothing to do)")
	if err != nil {
		fail("second dojo up: %v\nprogress:\n%s", err, progress)
	}
	if len(res2.Releases) != len(releases) {
		t.Errorf("second run reported %d releases, want %d: %+v", len(res2.Releases), len(releases), res2.Releases)
	}
	for _, r := range res2.Releases {
		if r.Action != helm.Unchanged {
			t.Errorf("second run: %s %s, want %s", r.Release, r.Action, helm.Unchanged)
		}
	}
	revs2, err := revisions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(revs2) != fmt.Sprint(revs) {
		t.Errorf("second run changed Helm revisions: %v → %v", revs, revs2)
	}

	// (c) an interrupted install is completed by the next run: uninstall the
	// producer so there is work, cancel while its install is under way
	// (Helm's storage says pending-install), run again.
	access, err := l.Access()
	if err != nil {
		t.Fatal(err)
	}
	cfg := action.NewConfiguration()
	if err := cfg.Init(access.ForNamespace(workshop.AppNamespace), workshop.AppNamespace, "secret"); err != nil {
		t.Fatal(err)
	}
	un := action.NewUninstall(cfg)
	un.WaitStrategy = helmkube.HookOnlyStrategy
	if _, err := un.Run(workshop.ProducerRelease); err != nil {
		t.Fatalf("uninstall producer: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	seen := make(chan string, 1)
	go func() {
		defer cancel()
		deadline := time.Now().Add(2 * time.Minute)
		for time.Now().Before(deadline) && cctx.Err() == nil {
			list, err := cs.CoreV1().Secrets(workshop.AppNamespace).List(cctx, metav1.ListOptions{LabelSelector: "owner=helm,name=" + workshop.ProducerRelease})
			if err == nil {
				for _, s := range list.Items {
					if st := s.Labels["status"]; st != "" && st != "uninstalled" {
						seen <- st
						return
					}
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		seen <- "(none before the deadline)"
	}()
	_, progress, err = run(cctx, "interrupted run")
	status := <-seen
	t.Logf("cancelled when the producer release was %s; dojo up returned: %v", status, err)
	if err == nil {
		t.Errorf("the interrupted run returned no error (cancelled at producer status %s)", status)
	} else if !strings.Contains(err.Error(), "run dojo up again") {
		t.Errorf("the interrupted run's error does not say to run again: %v", err)
	}
	mid, _ := revisions(ctx)
	t.Logf("after the interruption: %v", mid)
	if allDeployed(mid) == nil {
		t.Errorf("the interruption left nothing to do (%v): it came too late to prove recovery", mid)
	}

	res3, progress, err := run(ctx, "recovery run")
	if err != nil {
		fail("dojo up after the interruption: %v\nprogress:\n%s", err, progress)
	}
	t.Logf("recovery progress:\n%s", progress)
	revs3, err := revisions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := allDeployed(revs3); err != nil {
		fail("after recovery: %v", err)
	}
	var actions []string
	for _, r := range res3.Releases {
		actions = append(actions, fmt.Sprintf("%s=%s%s", r.Release, r.Action, map[bool]string{true: " (recovered from " + r.Recovered + ")"}[r.Recovered != ""]))
	}
	sort.Strings(actions)
	t.Logf("recovery run: %s; revisions %v", strings.Join(actions, ", "), revs3)
	if _, err := post("/publish"); err != nil {
		fail("producer after recovery, through the ingress: %v", err)
	}
}
