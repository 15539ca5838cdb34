package lab_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/lab"
	"github.com/kubedojo/dojo/internal/workshop"
)

// checker runs the dojo binary's `dojo check` against the lab, as a learner
// does: the lab's kubeconfig (context kind-dojo), the workspace dojo up
// wrote, Prometheus through the API server's service proxy (no override),
// and the laptop's port 80 as the lab's node address (--ingress-addr).
type checker struct {
	t       *testing.T
	l       *lab.Lab
	ingress string
	home    string
}

func newChecker(t *testing.T, l *lab.Lab) *checker {
	addr, err := l.IngressAddr(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &checker{t: t, l: l, ingress: addr, home: t.TempDir()}
}

// run returns the results, the exit code and stderr of `dojo check args…`.
func (c *checker) run(args ...string) ([]check.Result, int, string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.l.Dojo(), append([]string{"check", "--json", "--workspace", c.l.Workspace(), "--ingress-addr", c.ingress}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.l.Kubeconfig(), "HOME="+c.home, "XDG_CACHE_HOME="+filepath.Join(c.home, "cache"), "NO_COLOR=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		c.t.Fatalf("dojo check %v: %v", args, err)
	}
	var rs []check.Result
	if err := json.Unmarshal(out.Bytes(), &rs); err != nil {
		c.t.Fatalf("dojo check %v: stdout is not the JSON results (%v):\n%s\nstderr:\n%s", args, err, out.String(), errOut.String())
	}
	return rs, code, errOut.String()
}

func show(rs []check.Result) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "  %-7s %s: %s", r.Status, r.Criterion, r.Observed)
		if r.Next != "" {
			fmt.Fprintf(&b, " → %s", r.Next)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// passes requires every criterion of step to pass (retrying for up to
// within: the cluster converges after an install); with --static, the live
// criteria may be the skipped ones.
func (c *checker) passes(step string, within time.Duration, args ...string) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	static := slices.Contains(args, "--static")
	for {
		rs, code, errOut := c.run(append([]string{step}, args...)...)
		ok := code == 0 && check.Passed(rs)
		if static && code == 0 && len(rs) > 0 && check.Count(rs, check.Fail) == 0 {
			ok = true
			for _, r := range rs {
				ok = ok && (r.Status == check.Pass || (r.Status == check.Skipped && r.WaitsFor == ""))
			}
		}
		if ok {
			c.t.Logf("%s passes:\n%s", step, show(rs))
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s does not pass within %s (exit %d):\n%s%s\n%s", step, within, code, show(rs), errOut, c.l.Logs(10))
		}
		time.Sleep(2 * time.Second)
	}
}

// fails requires step to fail (exit 3) with criterion failing and each of
// texts in its observed value, expected value or next action; the failure
// must hold for a while after an install (retrying for up to within).
func (c *checker) fails(step, criterion string, within time.Duration, texts ...string) check.Result {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for {
		rs, code, errOut := c.run(step, "--static")
		var got *check.Result
		for i := range rs {
			if rs[i].Criterion == step+"/"+criterion {
				got = &rs[i]
			}
		}
		ok := code == 3 && got != nil && got.Status == check.Fail
		all := ""
		if got != nil {
			all = got.Observed + " | " + got.Expected + " | " + got.Next
			for _, s := range texts {
				ok = ok && strings.Contains(all, s)
			}
		}
		if ok {
			c.t.Logf("%s fails as expected on %s: %s → %s", step, criterion, got.Observed, got.Next)
			return *got
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: want exit 3 with %s failing and mentioning %q; got exit %d:\n%s%s", step, criterion, texts, code, show(rs), errOut)
		}
		time.Sleep(2 * time.Second)
	}
}

// editConsumer rewrites a template of the learner's consumer chart (old must
// occur once), upgrades the release from the workspace (dojo deploy's code)
// and returns a function that puts the file back and upgrades again. The
// upgrade's error is returned: some mistakes are refused by the API.
func editConsumer(t *testing.T, l *lab.Lab, file, old, new string) (error, func()) {
	t.Helper()
	path := filepath.Join(workshop.AppChartDir(l.Workspace(), workshop.ConsumerRelease), "templates", file)
	ref, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(ref, []byte(old)) != 1 {
		t.Fatalf("%s: %q occurs %d times", file, old, bytes.Count(ref, []byte(old)))
	}
	if err := os.WriteFile(path, bytes.Replace(ref, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	inst, err := l.Installer()
	if err != nil {
		t.Fatal(err)
	}
	_, upErr := inst.UpgradeApp(context.Background(), l.Workspace(), workshop.ConsumerRelease)
	return upErr, func() {
		t.Helper()
		if err := os.WriteFile(path, ref, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := inst.UpgradeApp(context.Background(), l.Workspace(), workshop.ConsumerRelease); err != nil {
			t.Fatalf("putting %s back: %v", file, err)
		}
	}
}

func setPath(vals map[string]any, path string, v any) {
	keys := strings.Split(path, ".")
	m := vals
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = v
}

// The lab's domain is localhost; the embedded step 5 reference names
// prometheus.vcap.me (dojo solve templates it the same way).
func onLocalhost(vals map[string]any) {
	setPath(vals, "prometheus.ingress.hosts", []any{"prometheus.localhost"})
}

// TestCheckOnLab is dojo check's proof on the lab: steps 2–4 pass right after
// dojo up and fail when what they read is broken; each of steps 5–10 fails
// on the state before it, naming the criterion that should fail, and passes
// on its reference state; the learner mistakes of the issue fail with the
// field, the value and the fix. Every judgement comes from the dojo binary
// reading the real API server, Helm's records, the real Prometheus (through
// the service proxy) and the real HPA controller.
func TestCheckOnLab(t *testing.T) {
	l := lab.Start(t, lab.Options{DownscaleStabilization: 5 * time.Second})
	ctx := context.Background()
	cs := l.Client()
	if err := l.InstallApp(ctx); err != nil {
		t.Fatalf("dojo up: %v\n%s", err, l.Logs(20))
	}
	c := newChecker(t, l)
	scale := func(n int32) {
		t.Helper()
		s, err := cs.AppsV1().Deployments(workshop.AppNamespace).GetScale(ctx, workshop.ConsumerRelease, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s.Spec.Replicas = n
		if _, err := cs.AppsV1().Deployments(workshop.AppNamespace).UpdateScale(ctx, workshop.ConsumerRelease, s, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("steps 2-4 after dojo up", func(t *testing.T) {
		c.t = t
		c.passes("step-2", time.Minute)
		start := time.Now()
		rs, code, errOut := c.run("step-3")
		if code != 0 || !check.Passed(rs) {
			t.Fatalf("step-3 (live) exit %d:\n%s%s", code, show(rs), errOut)
		}
		t.Logf("MEASURE step-3 with its live criteria: %s; stderr: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(errOut))
		if !strings.Contains(errOut, "step-3/queue-drains: published 3 items") {
			t.Errorf("the live criterion does not say what it does on stderr: %q", errOut)
		}
		c.passes("step-4", 30*time.Second)
		c.fails("step-5", "release-deployed", 0, "no release prometheus", "helm upgrade --install prometheus")
	})

	t.Run("steps 2-4 fail when what they read is broken", func(t *testing.T) {
		c.t = t
		scale(0)
		c.fails("step-4", "app-ready", 30*time.Second, "Deployment default/consumer wants 0 replica(s)", "kubectl scale deployment consumer")
		c.fails("step-3", "consumer-ready", 0, "consumer")
		// An item stuck in the queue while no consumer runs.
		raw, err := cs.CoreV1().RESTClient().Post().AbsPath("/api/v1/namespaces/default/services/http:producer:80/proxy/publish").DoRaw(ctx)
		if err != nil {
			t.Fatalf("publish: %v %s", err, raw)
		}
		c.fails("step-4", "queue-empty", 0, "1 item(s) wait in padok")
		scale(1)
		c.passes("step-4", time.Minute)
		// The producer's Ingress deleted: the producer no longer answers
		// on the laptop's port 80.
		ing, err := cs.NetworkingV1().Ingresses(workshop.AppNamespace).Get(ctx, workshop.ProducerRelease, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := cs.NetworkingV1().Ingresses(workshop.AppNamespace).Delete(ctx, ing.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		c.fails("step-2", "producer-reachable", 30*time.Second, "http://producer.localhost/healthz", "HTTP 404")
		ing.ResourceVersion = ""
		if _, err := cs.NetworkingV1().Ingresses(workshop.AppNamespace).Create(ctx, ing, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		c.passes("step-2", 30*time.Second)
	})

	t.Run("step 5", func(t *testing.T) {
		c.t = t
		// A learner who kept the chart's 30s and its release selectors.
		if err := l.InstallStep(ctx, 5, func(v map[string]any) {
			onLocalhost(v)
			setPath(v, "prometheus.prometheusSpec.scrapeInterval", "30s")
			setPath(v, "prometheus.prometheusSpec.ruleSelectorNilUsesHelmValues", true)
			setPath(v, "prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValues", true)
		}); err != nil {
			t.Fatalf("install step 5 (mistakes): %v\n%s", err, l.Logs(20))
		}
		c.fails("step-5", "scrape-interval", 2*time.Minute, "scrape_interval 30s", "prometheus.prometheusSpec.scrapeInterval: 5s")
		c.fails("step-5", "selects-all-rules", 0, "release=prometheus", "ruleSelectorNilUsesHelmValues: false")
		c.fails("step-5", "selects-all-servicemonitors", 0, "release=prometheus", "serviceMonitorSelectorNilUsesHelmValues: false")
		if err := l.InstallStep(ctx, 5, onLocalhost); err != nil {
			t.Fatalf("install step 5: %v\n%s", err, l.Logs(20))
		}
		c.passes("step-5", 2*time.Minute)
		c.fails("step-6", "release-deployed", 0, "no release prometheus-redis-exporter")
	})

	t.Run("step 6", func(t *testing.T) {
		c.t = t
		// env given as a map, in the learner's values file: the chart
		// writes it into the container's env, and Helm refuses what it
		// renders, so no release is even recorded; the check reads the
		// workspace's file.
		envMap := map[string]any{"REDIS_EXPORTER_CHECK_SINGLE_KEYS": "padok"}
		valuesFile := filepath.Join(l.Workspace(), "values", "prometheus-redis-exporter.yaml")
		learner, err := yaml.Marshal(map[string]any{"redisAddress": "redis://redis-master.default:6379", "serviceMonitor": map[string]any{"enabled": true}, "env": envMap})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(valuesFile, learner, 0o644); err != nil {
			t.Fatal(err)
		}
		err = l.InstallStep(ctx, 6, func(v map[string]any) { v["env"] = envMap })
		t.Logf("install with env as a map: %v", err)
		c.fails("step-6", "release-deployed", 0, "env is a map", "[{name: REDIS_EXPORTER_CHECK_SINGLE_KEYS, value: padok}]")
		if err := l.InstallStep(ctx, 6, nil); err != nil {
			t.Fatalf("install step 6: %v\n%s", err, l.Logs(20))
		}
		c.passes("step-6", 2*time.Minute)
		c.fails("step-7", "rule-installed", 0, "no PrometheusRule records redis_items_in_queue")
	})

	t.Run("step 7", func(t *testing.T) {
		c.t = t
		if err := l.InstallApp(ctx, 7); err != nil {
			t.Fatalf("consumer with the rule: %v\n%s", err, l.Logs(20))
		}
		c.passes("step-7", 2*time.Minute)
		// A rule without its absent() branch.
		const absentBranch = `
            or
            clamp_max(absent(redis_key_size{service="prometheus-redis-exporter",namespace="{{ .Release.Namespace }}",key="padok"}), 0)`
		err, restore := editConsumer(t, l, "prometheusrule.yaml", absentBranch, "")
		if err != nil {
			t.Fatalf("deploy the rule without absent(): %v", err)
		}
		c.fails("step-7", "zero-when-absent", 30*time.Second, "absent", "returned nothing", "add an absent() branch")
		restore()
		c.passes("step-7", time.Minute)
		c.fails("step-8", "release-deployed", 0, "no release prometheus-adapter")
	})

	t.Run("step 8", func(t *testing.T) {
		c.t = t
		// The adapter pointed at a Service that does not exist. A real
		// adapter starts anyway and fails its queries; the lab's process
		// kubelet waits for the Service, so the pod is not ready and the
		// install is cut short here: either way the URL is judged on the
		// release's values.
		wrongCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := l.InstallStep(wrongCtx, 8, func(v map[string]any) {
			setPath(v, "prometheus.url", "http://prometheus-server.prometheus.svc")
		})
		cancel()
		t.Logf("install step 8 with a wrong URL: %v", err)
		c.fails("step-8", "prometheus-url", 0, "prometheus-server", "does not exist", "prometheus.url: http://prometheus-kube-prometheus-prometheus.prometheus.svc")
		if err := l.InstallStep(ctx, 8, nil); err != nil {
			t.Fatalf("install step 8: %v\n%s", err, l.Logs(20))
		}
		c.passes("step-8", 2*time.Minute)
		c.fails("step-9", "hpa-exists", 0, "no HorizontalPodAutoscaler consumer")
	})

	t.Run("step 9", func(t *testing.T) {
		c.t = t
		// The seed's solution: type Value with averageValue. The API takes
		// it; the real controller refuses the metric.
		if err := l.InstallApp(ctx, 7, 9); err != nil {
			t.Fatal(err)
		}
		hpaFile := filepath.Join(workshop.AppChartDir(l.Workspace(), workshop.ConsumerRelease), "templates", "horizontalpodautoscaler.yaml")
		ref, err := os.ReadFile(hpaFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(hpaFile, bytes.Replace(ref, []byte("type: AverageValue"), []byte("type: Value"), 1), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := l.InstallApp(ctx); err != nil {
			t.Fatal(err)
		}
		c.fails("step-9", "average-value-target", 0, "type Value with averageValue 20", "target.type: AverageValue")
		r := c.fails("step-9", "metric-readable", time.Minute, "ScalingActive False, FailedGetObjectMetric", "neither a value target nor an average value target was set")
		t.Logf("the real controller's words: %s", r.Observed)
		if err := os.WriteFile(hpaFile, ref, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := l.InstallApp(ctx); err != nil {
			t.Fatal(err)
		}
		c.passes("step-9", time.Minute, "--static")
		// A Pods metric: the API takes it, no series describes a pod.
		err, restore := editConsumer(t, l, "horizontalpodautoscaler.yaml", `    - type: Object
      object:
        describedObject:
          apiVersion: v1
          kind: Service
          name: prometheus-redis-exporter
        metric:`, `    - type: Pods
      pods:
        metric:`)
		if err != nil {
			t.Fatalf("deploy an HPA with a Pods metric: %v", err)
		}
		c.fails("step-9", "object-metric", 0, "Pods metric redis_items_in_queue", "type: Object")
		restore()
		c.passes("step-9", time.Minute, "--static")
		start := time.Now()
		rs, code, errOut := c.run("step-9")
		if code != 0 || !check.Passed(rs) {
			t.Fatalf("step-9 with its live criterion: exit %d\n%s%s\n%s", code, show(rs), errOut, l.Logs(10))
		}
		t.Logf("MEASURE step-9 follows-queue: %s; %s", time.Since(start).Round(time.Millisecond), rs[len(rs)-1].Observed)
		// It took back what its consumers had not taken yet: right after
		// the check the queue holds none of its 60 items.
		if raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/api/v1/namespaces/default/services/http:producer:80/proxy/queue").DoRaw(ctx); err != nil || !strings.Contains(string(raw), `"length":0`) {
			t.Errorf("right after follows-queue the queue is %s (%v), want empty", raw, err)
		}
		c.fails("step-10", "min-replicas-zero", 0, "minReplicas is 1", "minReplicas: 0")
		// minReplicas 0 with only a Resource metric: the API refuses the
		// upgrade; the old HPA stays and the check quotes the refusal.
		cur, err := os.ReadFile(hpaFile)
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.Index(cur, []byte("  metrics:"))
		if i < 0 {
			t.Fatalf("no metrics in the HPA template:\n%s", cur)
		}
		resourceOnly := append(bytes.Replace(cur[:i:i], []byte("minReplicas: 1"), []byte("minReplicas: 0"), 1), []byte(`  metrics:
    - type: Resource
      resource:
        name: cpu
        target: {type: Utilization, averageUtilization: 80}
`)...)
		err, restore = editConsumer(t, l, "horizontalpodautoscaler.yaml", string(cur), string(resourceOnly))
		if err == nil || !strings.Contains(err.Error(), "scaling to zero") {
			t.Fatalf("the API took minReplicas 0 with only a Resource metric: %v", err)
		}
		c.fails("step-10", "min-replicas-zero", 0, "minReplicas is 1", "Forbidden", "only with an Object or External metric")
		restore()
	})

	t.Run("step 10", func(t *testing.T) {
		c.t = t
		if err := l.InstallApp(ctx, 7, 10); err != nil {
			t.Fatal(err)
		}
		// The HPA brings the consumer to zero once the queue is empty and
		// the stabilization window has passed.
		c.passes("step-10", 3*time.Minute, "--static")
		start := time.Now()
		rs, code, errOut := c.run("step-10")
		if code != 0 || !check.Passed(rs) {
			t.Fatalf("step-10 with its live criterion: exit %d\n%s%s\n%s", code, show(rs), errOut, l.Logs(10))
		}
		t.Logf("MEASURE step-10 wakes-up: %s; %s", time.Since(start).Round(time.Millisecond), rs[len(rs)-1].Observed)
	})

	// The finished workshop (step 10's state, consumer at rest at zero)
	// still passes every step from 2 to 10: doing a later step does not
	// undo an earlier one.
	t.Run("the finished workshop passes steps 2-10", func(t *testing.T) {
		c.t = t
		for _, step := range []string{"step-2", "step-3", "step-4", "step-5", "step-6", "step-7", "step-8", "step-9", "step-10"} {
			c.passes(step, time.Minute, "--static")
		}
	})

	// How long a static check takes on the warm lab, the whole command
	// (process start, kubeconfig, every read): measured, not asserted; the
	// numbers go to docs/benchmarks.md.
	t.Run("timing of a static step", func(t *testing.T) {
		c.t = t
		for _, step := range []string{"step-5", "step-8"} {
			var ds []time.Duration
			for range 15 {
				start := time.Now()
				rs, code, _ := c.run(step)
				ds = append(ds, time.Since(start))
				if code != 0 || !check.Passed(rs) {
					t.Fatalf("%s on its reference state: exit %d\n%s", step, code, show(rs))
				}
			}
			slices.Sort(ds)
			t.Logf("MEASURE dojo check %s (static, all pass) over %d runs: median %s, min %s, max %s",
				step, len(ds), ds[len(ds)/2].Round(time.Millisecond), ds[0].Round(time.Millisecond), ds[len(ds)-1].Round(time.Millisecond))
		}
	})

	t.Run("the check leaves no items behind", func(t *testing.T) {
		c.t = t
		eventually(t, l, "queue empty", 2*time.Minute, func(ctx context.Context) error {
			raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/api/v1/namespaces/default/services/http:producer:80/proxy/queue").DoRaw(ctx)
			if err != nil {
				return err
			}
			if !strings.Contains(string(raw), `"length":0`) {
				return fmt.Errorf("queue: %s", raw)
			}
			return nil
		})
	})
}
