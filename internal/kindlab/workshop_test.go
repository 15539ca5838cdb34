package kindlab_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/diagnose"
	"github.com/kubedojo/dojo/internal/kindlab"
	"github.com/kubedojo/dojo/internal/steps"
	"github.com/kubedojo/dojo/internal/watch"
	"github.com/kubedojo/dojo/internal/workshop"
)

// workshopOnKind is the acceptance run of the workshop's chain on a real
// kind cluster right after dojo up: dojo solve --until 10 through the real
// Prometheus operator (v0.93.1, built from its module) and the real
// monitoring.coreos.com CRDs, Prometheus v3.14.0 and the adapter built from
// their modules, Debian's Redis exporter; dojo check --all passing, live
// criteria included (step 1's tools on PATH, step 3 through the ingress on
// port 80, step 10's wake-up from zero); dojo diagnose finding −2^63 at zero
// replicas; dojo watch --record around dojo load burst telling the story,
// with the controller's timings dojo up set.
func workshopOnKind(t *testing.T, ctx context.Context, e *kindlab.Env, cs kubernetes.Interface, chartRepo string) {
	dojo := func(t *testing.T, timeout time.Duration, args ...string) (string, int) {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		out, err := e.DojoCommand(cctx, args...).CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("dojo %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out), code
	}

	t.Run("a learner's real dojo check step-5 reaches a dojo classroom", func(t *testing.T) {
		classroomOnKind(t, ctx, e, dojo)
	})

	kubectl := func(t *testing.T, args ...string) {
		t.Helper()
		out, err := e.Command(ctx, "kubectl", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// Solved in two parts, with a learner's kubectl edit of the live
	// PrometheusRule between them (an update by another field manager, as
	// kubectl edit makes): step 9's upgrade of the consumer meets it.
	start := time.Now()
	out, code := dojo(t, 8*time.Minute, "solve", "--until", "8", "--chart-repo", chartRepo)
	t.Logf("dojo solve --until 8 on kind (exit %d)\n%s", code, out)
	if code != 0 {
		dumpPods(t, ctx, cs)
		t.Fatalf("dojo solve --until 8: exit %d", code)
	}
	kubectl(t, "-n", workshop.AppNamespace, "patch", "prometheusrule", workshop.ConsumerRelease, "--field-manager", "kubectl-edit",
		"--type", "json", "-p", `[{"op":"replace","path":"/spec/groups/0/rules/0/expr","value":"vector(7)"}]`)
	out, code = dojo(t, 8*time.Minute, "solve", "--until", "10", "--chart-repo", chartRepo)
	t.Logf("MEASURE dojo solve --until 8, then --until 10, on kind: %s (exit %d)\n%s", time.Since(start).Round(time.Second), code, out)
	if code != 0 {
		dumpPods(t, ctx, cs)
		t.Fatalf("dojo solve --until 10 after a kubectl edit of the rule: exit %d", code)
	}
	t.Run("dojo solve takes back what a kubectl edit changed, and says so", func(t *testing.T) {
		for _, want := range []string{"took back from another tool: PrometheusRule default/consumer", `(changed by "kubectl-edit")`} {
			if !strings.Contains(out, want) {
				t.Errorf("dojo solve's output lacks %q", want)
			}
		}
		raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/apis/monitoring.coreos.com/v1/namespaces/default/prometheusrules/consumer").DoRaw(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), "vector(7)") || !strings.Contains(string(raw), "clamp_max(absent(") {
			t.Errorf("the live rule is not the reference again:\n%s", raw)
		}
	})
	t.Run("dojo deploy names a kubectl edit's conflict and --force-conflicts takes it back", func(t *testing.T) {
		kubectl(t, "-n", workshop.AppNamespace, "patch", "hpa", workshop.ConsumerRelease, "--field-manager", "kubectl-edit",
			"--type", "merge", "-p", `{"spec":{"maxReplicas":7}}`)
		// A change in the learner's chart, so that dojo deploy upgrades.
		values := filepath.Join(e.Home, "dojo-workspace", "charts", workshop.ConsumerRelease, "values.yaml")
		orig, err := os.ReadFile(values)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(values, append(slices.Clone(orig), "\n# a learner's note\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
		out, code := dojo(t, 3*time.Minute, "deploy", workshop.ConsumerRelease)
		t.Logf("dojo deploy consumer (exit %d):\n%s", code, out)
		if code != 1 {
			t.Errorf("dojo deploy over a kubectl edit: exit %d, want 1", code)
		}
		for _, want := range []string{"HorizontalPodAutoscaler default/consumer", ".spec.maxReplicas", `"kubectl-edit"`, "dojo deploy consumer --force-conflicts"} {
			if !strings.Contains(out, want) {
				t.Errorf("dojo deploy's message lacks %q", want)
			}
		}
		if strings.Contains(out, "running dojo solve again") || strings.Contains(out, "Apply failed") {
			t.Errorf("dojo deploy gives the raw error or the rerun advice")
		}
		out, code = dojo(t, 3*time.Minute, "deploy", workshop.ConsumerRelease, "--force-conflicts")
		t.Logf("dojo deploy consumer --force-conflicts (exit %d):\n%s", code, out)
		if code != 0 || !strings.Contains(out, "took back from another tool: HorizontalPodAutoscaler default/consumer: .spec.maxReplicas") {
			t.Errorf("dojo deploy --force-conflicts: exit %d", code)
		}
		hpa, err := cs.AutoscalingV2().HorizontalPodAutoscalers(workshop.AppNamespace).Get(ctx, workshop.ConsumerRelease, metav1.GetOptions{})
		if err != nil || hpa.Spec.MaxReplicas != 20 {
			t.Errorf("the HPA after --force-conflicts: %v, maxReplicas %d, want 20", err, hpa.Spec.MaxReplicas)
		}
		// The learner's chart as it was, deployed again.
		if err := os.WriteFile(values, orig, 0o644); err != nil {
			t.Fatal(err)
		}
		if out, code := dojo(t, 3*time.Minute, "deploy", workshop.ConsumerRelease); code != 0 {
			t.Fatalf("dojo deploy consumer: exit %d\n%s", code, out)
		}
	})

	// The real operator made the Prometheus: its StatefulSet, with the
	// config reloader beside Prometheus, on the images the chart names.
	sts, err := cs.AppsV1().StatefulSets(workshop.PrometheusNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=prometheus-operator"})
	if err != nil || len(sts.Items) != 1 {
		t.Fatalf("StatefulSets the operator manages in %s: %v %d", workshop.PrometheusNamespace, err, len(sts.Items))
	}
	var images []string
	for _, c := range sts.Items[0].Spec.Template.Spec.Containers {
		images = append(images, c.Image)
	}
	if got := strings.Join(images, " "); got != "quay.io/prometheus/prometheus:v3.14.0-distroless quay.io/prometheus-operator/prometheus-config-reloader:v0.93.1" {
		t.Errorf("the operator's Prometheus runs %s", got)
	}

	// What kube-prometheus-stack runs by default, real on the real cluster:
	// kube-state-metrics and node-exporter (built from their modules; the
	// node exporter on the node's network and PID namespace with its /proc,
	// /sys and / mounted), and Prometheus scraping them, the kubelet through
	// the Service the operator made, the API server, CoreDNS, the operator
	// and itself with the chart's TLS settings. The other control-plane
	// jobs listen on the node's 127.0.0.1 on kind, as on any laptop: logged.
	t.Run("Prometheus scrapes the chart's default targets", func(t *testing.T) {
		for _, d := range []struct{ kind, name, image string }{
			{"Deployment", "prometheus-kube-state-metrics", "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.20.0"},
			{"DaemonSet", "prometheus-prometheus-node-exporter", "quay.io/prometheus/node-exporter:v1.12.1-distroless"},
		} {
			var image string
			var ready bool
			switch d.kind {
			case "Deployment":
				o, err := cs.AppsV1().Deployments(workshop.PrometheusNamespace).Get(ctx, d.name, metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				image, ready = o.Spec.Template.Spec.Containers[0].Image, o.Status.ReadyReplicas == 1
			case "DaemonSet":
				o, err := cs.AppsV1().DaemonSets(workshop.PrometheusNamespace).Get(ctx, d.name, metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				image, ready = o.Spec.Template.Spec.Containers[0].Image, o.Status.NumberReady == 1
			}
			if image != d.image || !ready {
				t.Errorf("%s %s: image %s, ready %v", d.kind, d.name, image, ready)
			}
		}
		want := []string{"kube-state-metrics", "node-exporter", "kubelet", "apiserver", "coredns",
			"prometheus-kube-prometheus-operator", "prometheus-kube-prometheus-prometheus"}
		var seen map[string][]string
		waitFor(t, 3*time.Minute, "every default job up in Prometheus", func() (bool, string) {
			raw, err := cs.CoreV1().Services(workshop.PrometheusNamespace).
				ProxyGet("http", workshop.PrometheusName, "9090", "/api/v1/query", map[string]string{"query": "up"}).DoRaw(ctx)
			if err != nil {
				return false, err.Error()
			}
			var r struct {
				Data struct {
					Result []struct {
						Metric map[string]string `json:"metric"`
						Value  [2]any            `json:"value"`
					} `json:"result"`
				} `json:"data"`
			}
			if err := json.Unmarshal(raw, &r); err != nil {
				return false, err.Error()
			}
			seen = map[string][]string{}
			for _, s := range r.Data.Result {
				job := s.Metric["job"]
				seen[job] = append(seen[job], fmt.Sprint(s.Value[1]))
			}
			for _, j := range want {
				if len(seen[j]) == 0 || slices.ContainsFunc(seen[j], func(v string) bool { return v != "1" }) {
					return false, fmt.Sprintf("up by job: %v", seen)
				}
			}
			return len(seen["kubelet"]) == 3, fmt.Sprintf("up by job: %v (want the kubelet's 3 endpoints)", seen)
		})
		t.Logf("up by job: %v", seen)
	})

	// A learner's `helm upgrade` of the release (dojo itself skips an
	// unchanged one) keeps the webhook certificate Helm made at install
	// (upstream makes it once, with a Job), so the running operator's CA
	// never changes under it.
	t.Run("upgrading kube-prometheus-stack keeps the webhook certificate", func(t *testing.T) {
		ca := func() string {
			s, err := cs.CoreV1().Secrets(workshop.PrometheusNamespace).Get(ctx, "prometheus-kube-prometheus-admission", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return string(s.Data["ca"])
		}
		before := ca()
		uctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
		defer cancel()
		out, err := e.Command(uctx, filepath.Join(e.LearnerBin, "helm"), "upgrade", "prometheus", "kube-prometheus-stack", "--repo", chartRepo,
			"--version", "88.5.3", "--namespace", workshop.PrometheusNamespace, "--reuse-values", "--wait").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "has been upgraded") {
			t.Fatalf("helm upgrade prometheus: %v\n%s", err, out)
		}
		if after := ca(); after != before || before == "" {
			t.Errorf("the admission CA changed on upgrade (%d bytes before, %d after)", len(before), len(after))
		}
	})

	// dojo check: every step 5–10 passes, judged on the real chain.
	for _, id := range []string{"step-5", "step-6", "step-7", "step-8", "step-9", "step-10"} {
		passes(t, dojo, id, 3*time.Minute, "--static")
	}
	// Then every step in order, live criteria included: step 1's tools on
	// PATH, step 3 publishing through the ingress on port 80, step 9
	// following the queue, step 10 waiting out the downscale window after
	// that burst and waking up from zero. Every criterion of steps 1–10
	// passes; cleanup's fails, the cluster being there (the teardown below
	// makes it pass).
	start = time.Now()
	cctx, cancel := context.WithTimeout(ctx, 8*time.Minute)
	all := e.DojoCommand(cctx, "check", "--all", "--json")
	var stdout, stderr strings.Builder
	all.Stdout, all.Stderr = &stdout, &stderr
	err = all.Run()
	cancel()
	t.Logf("MEASURE dojo check --all on kind: %s (%v)\n%s%s", time.Since(start).Round(time.Second), err, stderr.String(), stdout.String())
	var results []struct{ Criterion, Status, Observed string }
	if err := json.Unmarshal([]byte(stdout.String()), &results); err != nil {
		t.Fatalf("dojo check --all --json: %v", err)
	}
	passed, failed := 0, []string{}
	for _, r := range results {
		switch {
		case r.Status == "pass" && strings.HasPrefix(r.Criterion, "step-"):
			passed++
		case r.Criterion == "cleanup/cluster-deleted" && r.Status == "fail":
		default:
			failed = append(failed, r.Criterion+" "+r.Status+": "+r.Observed)
		}
	}
	cat, lerr := steps.Load(embedded.FS())
	if lerr != nil {
		t.Fatal(lerr)
	}
	want := 0
	for _, s := range cat.Steps() {
		if strings.HasPrefix(s.ID, "step-") {
			want += len(s.Checks)
		}
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 || len(failed) > 0 || passed != want {
		t.Fatalf("dojo check --all: %v; %d of the %d criteria of steps 1–10 passed; not as expected: %v", err, passed, want, failed)
	}

	t.Run("dojo diagnose finds the sentinel at zero replicas", func(t *testing.T) {
		var r diagnose.Report
		waitFor(t, 2*time.Minute, "the consumer at zero replicas with the sentinel in the HPA's status", func() (bool, string) {
			out, code := dojo(t, time.Minute, "diagnose", "--json")
			if code != 0 {
				return false, fmt.Sprintf("exit %d: %s", code, out)
			}
			r = diagnose.Report{}
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				return false, err.Error()
			}
			return r.Target.StatusReplicas == 0 && len(r.Metrics) > 0 && r.Metrics[0].Anomaly == diagnose.MinInt64,
				fmt.Sprintf("target %+v, metrics %+v", r.Target, r.Metrics)
		})
		if r.ServerVersion != "v1.37.2" {
			t.Errorf("server %s, target %+v", r.ServerVersion, r.Target)
		}
		if len(r.Findings) == 0 {
			t.Fatalf("dojo diagnose --json: no findings, metrics %+v", r.Metrics)
		}
		f := r.Findings[0]
		if f.ID != diagnose.MinInt64 || f.Source == nil || f.Source.Function != "GetObjectPerPodMetricReplicas" {
			t.Errorf("first finding %+v", f)
		}
		out, code := dojo(t, time.Minute, "diagnose")
		t.Logf("dojo diagnose:\n%s", out)
		if code != 0 || !strings.Contains(out, "-9223372036854775808m in the Object metric redis_items_in_queue is not a") {
			t.Errorf("dojo diagnose: exit %d", code)
		}
	})

	t.Run("dojo watch --record around dojo load burst tells the story", func(t *testing.T) {
		file := filepath.Join(e.Dir, "session.jsonl")
		wctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
		defer cancel()
		w := e.DojoCommand(wctx, "watch", "--record", file, "--for", "100s")
		var wout strings.Builder
		w.Stdout, w.Stderr = &wout, &wout
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		if out, code := dojo(t, time.Minute, "load", "burst", "60"); code != 0 {
			cancel()
			_ = w.Wait()
			t.Fatalf("dojo load burst 60: exit %d\n%s", code, out)
		}
		if err := w.Wait(); err != nil {
			t.Fatalf("dojo watch: %v\n%s", err, wout.String())
		}
		rec, err := watch.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var maxQueue float64
		var maxReady int32
		for _, s := range rec.Samples {
			if s.Queue != nil {
				maxQueue = max(maxQueue, *s.Queue)
			}
			maxReady = max(maxReady, s.Ready)
		}
		t.Logf("MEASURE 100 s recording on kind: %d samples, queue up to %g, ready consumers up to %d, header %+v", len(rec.Samples), maxQueue, maxReady, rec.Header)
		// dojo up's kubeadm patch reached the controller: read back from
		// its pod.
		if rec.Header.SyncPeriod != "5s" || rec.Header.DownscaleStabilization != "20s" {
			t.Errorf("header %+v: want the 5s and 20s dojo up sets", rec.Header)
		}
		if len(rec.Samples) < 90 || maxQueue < 40 || maxReady < 2 {
			t.Errorf("the recording does not tell the story: %d samples, queue up to %g, ready up to %d\n%s", len(rec.Samples), maxQueue, maxReady, wout.String())
		}
	})
}

// passes runs dojo check id until it passes (exit 0) or timeout.
func passes(t *testing.T, dojo func(*testing.T, time.Duration, ...string) (string, int), id string, timeout time.Duration, flags ...string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out, code := dojo(t, timeout, append([]string{"check", id}, flags...)...)
		if code == 0 {
			return
		}
		if code != 3 || time.Now().After(deadline) {
			t.Fatalf("dojo check %s %s: exit %d\n%s", id, strings.Join(flags, " "), code, out)
		}
		time.Sleep(3 * time.Second)
	}
}

// dumpPods logs every pod's phase and waiting reason, for a failed run.
func dumpPods(t *testing.T, ctx context.Context, cs kubernetes.Interface) {
	t.Helper()
	pods, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Logf("pods: %v", err)
		return
	}
	for _, p := range pods.Items {
		var states []string
		for _, c := range p.Status.ContainerStatuses {
			if c.State.Waiting != nil {
				states = append(states, c.Name+" "+c.State.Waiting.Reason+": "+c.State.Waiting.Message)
			}
		}
		t.Logf("pod %s/%s %s %v", p.Namespace, p.Name, p.Status.Phase, states)
	}
}

// classroomOnKind runs a trainer's dojo classroom on this namespace's
// loopback, joins the kind learner's workspace to it, and runs the
// learner's real checks against the cluster right after dojo up: steps 1 to
// 4 pass, step 5 fails (no Prometheus yet). The room, read as the trainer's
// page reads it, shows that learner on step 5 with step 5's failing
// criterion and what the check observed.
func classroomOnKind(t *testing.T, ctx context.Context, e *kindlab.Env, dojo func(*testing.T, time.Duration, ...string) (string, int)) {
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	srv := e.DojoCommand(cctx, "classroom", "--listen", "127.0.0.1:0", "--state", filepath.Join(e.Dir, "room.json"))
	srv.Cancel = func() error { return srv.Process.Signal(syscall.SIGINT) }
	pipe, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stop(); _ = srv.Wait() }()
	joinRE := regexp.MustCompile(`dojo join (http://\S+) --token (\S+)`)
	pageRE := regexp.MustCompile(`(http://\S+)/\?token=(\S+)`)
	var joinURL, joinToken, pageURL, trainerToken string
	sc := bufio.NewScanner(pipe)
	for sc.Scan() && (joinURL == "" || pageURL == "") {
		line := sc.Text()
		t.Logf("dojo classroom: %s", line)
		if m := joinRE.FindStringSubmatch(line); m != nil {
			joinURL, joinToken = m[1], m[2]
		} else if m := pageRE.FindStringSubmatch(line); m != nil {
			pageURL, trainerToken = m[1], m[2]
		}
	}
	if joinURL == "" || pageURL == "" {
		t.Fatalf("dojo classroom printed no join command or page URL (%v)", sc.Err())
	}
	go func() { _, _ = io.Copy(io.Discard, pipe) }()
	if out, code := dojo(t, time.Minute, "join", joinURL, "--token", joinToken, "--name", "Ada"); code != 0 {
		t.Fatalf("dojo join: exit %d\n%s", code, out)
	}
	defer func() {
		if out, code := dojo(t, time.Minute, "leave"); code != 0 {
			t.Errorf("dojo leave: exit %d\n%s", code, out)
		}
	}()
	for _, step := range []string{"step-1", "step-2", "step-3", "step-4"} {
		if out, code := dojo(t, 2*time.Minute, "check", step); code != 0 {
			t.Fatalf("dojo check %s right after dojo up: exit %d\n%s", step, code, out)
		}
	}
	// stdout alone: the results as data.
	check := e.DojoCommand(ctx, "check", "step-5", "--json")
	var stderr strings.Builder
	check.Stderr = &stderr
	out, err := check.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Fatalf("dojo check step-5 before Prometheus: %v, want exit 3\n%s\n%s", err, out, stderr.String())
	}
	var results []struct {
		Criterion, Status, Observed string
	}
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("dojo check step-5 --json: %v\n%s", err, out)
	}
	firstFailing := ""
	for _, r := range results {
		if r.Status == "fail" {
			firstFailing = r.Criterion
			break
		}
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, pageURL+"/api/room", nil)
	req.Header.Set("Authorization", "Bearer "+trainerToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var view struct {
		Learners []struct {
			Name       string
			Step       int
			Kubernetes string
			Failing    *struct{ Criterion, Observed string }
		}
	}
	if err := json.Unmarshal(raw, &view); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the room as the page reads it: HTTP %d %v\n%s", resp.StatusCode, err, raw)
	}
	t.Logf("the room: %s", raw)
	if len(view.Learners) != 1 {
		t.Fatalf("%d learners in the room, want Ada alone", len(view.Learners))
	}
	l := view.Learners[0]
	if l.Name != "Ada" || l.Step != 5 || l.Failing == nil || firstFailing == "" ||
		!strings.Contains(l.Failing.Criterion, firstFailing) || l.Failing.Observed == "" {
		t.Errorf("the room shows %+v (failing %+v), want Ada on step 5 failing %q with what was observed", l, l.Failing, firstFailing)
	}
	if !strings.HasPrefix(l.Kubernetes, "v1.37") {
		t.Errorf("the room says the node runs %q, want the kind node's v1.37", l.Kubernetes)
	}
}
