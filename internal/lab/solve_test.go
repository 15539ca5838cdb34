package lab_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubedojo/dojo/internal/lab"
	"github.com/kubedojo/dojo/internal/workshop"
)

// dojoCmd is the dojo binary pointed at the lab as a learner's shell would
// be: the lab's kubeconfig, the workspace dojo up wrote, a home of its own.
func dojoCmd(ctx context.Context, l *lab.Lab, home string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, l.Dojo(), append(args, "--workspace", l.Workspace())...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+l.Kubeconfig(), "HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, "cache"), "NO_COLOR=1")
	return cmd
}

func runDojo(t *testing.T, l *lab.Lab, home string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := dojoCmd(ctx, l, home, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out.String(), errOut.String(), exit.ExitCode()
	}
	if err != nil {
		t.Fatalf("dojo %v: %v", args, err)
	}
	return out.String(), errOut.String(), 0
}

// TestSolveOnLab is dojo solve's proof on the lab: from the state right
// after dojo up (domain localhost), a solve killed in the middle of an
// install is completed by `dojo solve --until 10`, after which dojo check
// passes every step 5–10 (step 9 on step 10's HPA, which only lowers the
// floor to 0); the learner's edited file is kept in its backup; the Ingress
// is for prometheus.localhost; a second run changes nothing; the progress
// says solved, not passed.
func TestSolveOnLab(t *testing.T) {
	l := lab.Start(t, lab.Options{DownscaleStabilization: 5 * time.Second})
	ctx := context.Background()
	if err := l.InstallApp(ctx); err != nil {
		t.Fatalf("dojo up: %v\n%s", err, l.Logs(20))
	}
	home := t.TempDir()
	repo := "--chart-repo=" + l.ChartRepoURL()

	// Before step 5 the cluster has no PrometheusRule API: dojo diff says
	// so instead of asking for a deploy that could not create the rule.
	if out, errOut, code := runDojo(t, l, home, "diff", "step-7"); code != 0 ||
		!strings.Contains(out, "PrometheusRule default/consumer: the cluster does not serve PrometheusRule objects yet") {
		t.Errorf("dojo diff step-7 before step 5: exit %d\n%s%s", code, out, errOut)
	}

	// The learner's own attempt at step 5.
	mine := []byte("# my attempt at step 5\nprometheus:\n  prometheusSpec:\n    scrapeInterval: 30s\n")
	valuesFile := filepath.Join(l.Workspace(), "values", "prometheus.yaml")
	if err := os.WriteFile(valuesFile, mine, 0o644); err != nil {
		t.Fatal(err)
	}

	// A solve of step 5 killed while Helm installs kube-prometheus-stack.
	kctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	killed := dojoCmd(kctx, l, home, "solve", "step-5", repo)
	var killedOut bytes.Buffer
	killed.Stdout, killed.Stderr = &killedOut, io.Discard
	if err := killed.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once Helm has recorded the release as pending-install, i.e.
	// in the middle of the install and its wait.
	deadline := time.Now().Add(90 * time.Second)
	for {
		secrets, err := l.Client().CoreV1().Secrets(workshop.PrometheusNamespace).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm,name=prometheus,status=pending-install"})
		if err == nil && len(secrets.Items) > 0 {
			break
		}
		if time.Now().After(deadline) {
			_ = killed.Process.Kill()
			_ = killed.Wait()
			t.Fatalf("the release prometheus was never pending-install\n%s", killedOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = killed.Process.Signal(syscall.SIGKILL)
	_ = killed.Wait()
	t.Logf("killed a solve of step-5 while the release prometheus was pending-install")

	start := time.Now()
	out, errOut, code := runDojo(t, l, home, "solve", "--until", "10", repo)
	if code != 0 {
		t.Fatalf("dojo solve --until 10: exit %d\n%s\n%s\n%s", code, out, errOut, l.Logs(20))
	}
	t.Logf("MEASURE dojo solve --until 10 after a killed run: %s\n%s", time.Since(start).Round(time.Millisecond), out)
	if !strings.Contains(out, "completing what an interrupted run left pending-install") {
		t.Errorf("the run after the killed one does not say it completed the interrupted install:\n%s", out)
	}
	for _, id := range []string{"step-5", "step-6", "step-7", "step-8", "step-9", "step-10"} {
		if !strings.Contains("\n"+out, "\n"+id+" ") {
			t.Errorf("the output has no section for %s:\n%s", id, out)
		}
	}
	// The starter files dojo up wrote, untouched, needed no backup; the
	// consumer was upgraded once, after its last file.
	for _, f := range []string{"prometheus-redis-exporter.yaml", "prometheus-adapter.yaml"} {
		if baks, _ := filepath.Glob(filepath.Join(l.Workspace(), "values", f+".*.bak")); len(baks) != 0 {
			t.Errorf("the untouched starter %s was backed up: %v", f, baks)
		}
	}
	if n := strings.Count(out, "release consumer in default"); n != 1 {
		t.Errorf("the consumer was upgraded %d times, want once:\n%s", n, out)
	}

	// The learner's file is in its backup, named in the output.
	baks, _ := filepath.Glob(valuesFile + ".*.bak")
	if len(baks) != 1 {
		t.Fatalf("backups of values/prometheus.yaml: %v", baks)
	}
	if kept, _ := os.ReadFile(baks[0]); !bytes.Equal(kept, mine) {
		t.Fatalf("the backup holds %q", kept)
	}
	// The killed run had already said where it went: files are written
	// and reported before any install.
	if rel, _ := filepath.Rel(l.Workspace(), baks[0]); !strings.Contains(killedOut.String(), rel) {
		t.Errorf("the killed run's output does not name the backup %s:\n%s", rel, killedOut.String())
	}

	// The progress says solved, and not passed.
	raw, err := os.ReadFile(filepath.Join(l.Workspace(), ".dojo", "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Steps map[string]struct {
			Solved *time.Time `json:"solved"`
			Passed *time.Time `json:"passed"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"step-5", "step-6", "step-7", "step-8", "step-9", "step-10"} {
		if s := st.Steps[id]; s.Solved == nil || s.Passed != nil {
			t.Errorf("%s in the progress: %+v, want solved and not passed", id, s)
		}
	}

	// The Ingress is for the learner's domain.
	ings, err := l.Client().NetworkingV1().Ingresses(workshop.PrometheusNamespace).List(ctx, metav1.ListOptions{})
	if err != nil || len(ings.Items) != 1 || ings.Items[0].Spec.Rules[0].Host != "prometheus.localhost" {
		t.Fatalf("Ingresses in prometheus: %v %+v", err, ings)
	}

	// dojo check judges every step 5–10 passed.
	c := newChecker(t, l)
	// Step 10's HPA (minReplicas 0) replaces step 9's: step 9's check
	// still passes on it, so doing step 10 does not undo step 9.
	for _, id := range []string{"step-5", "step-6", "step-7", "step-8", "step-9"} {
		c.passes(id, 2*time.Minute, "--static")
	}
	c.passes("step-10", 3*time.Minute, "--static")

	// A second run changes nothing.
	out, errOut, code = runDojo(t, l, home, "solve", "--until", "10", repo)
	if code != 0 {
		t.Fatalf("second solve: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "wrote") || strings.Contains(line, "installed") || strings.Contains(line, "upgraded") {
			t.Errorf("the second run changed something: %q\n%s", line, out)
		}
	}
	// 5 files and 4 releases (step 9's HPA is left to step 10's, and the
	// consumer is upgraded once).
	if n := strings.Count(out, "unchanged"); n != 9 || !strings.Contains(out, "skipped   charts/consumer/templates/horizontalpodautoscaler.yaml (step-10 writes its own)") {
		t.Errorf("the second run reports %d unchanged things, want the 5 files and 4 releases, and step 9's HPA skipped:\n%s", n, out)
	}

	// dojo diff: nothing meaningful on the reference state; exactly the
	// changed field after a learner's edit, in the file and in the cluster.
	for _, id := range []string{"step-5", "step-7", "step-8", "step-10"} {
		out, errOut, code := runDojo(t, l, home, "diff", id)
		if code != 0 || !strings.Contains(out, "no difference worth worrying about") {
			t.Errorf("dojo diff %s on the reference state: exit %d\n%s%s", id, code, out, errOut)
		}
		if live := map[string]string{"step-7": "PrometheusRule default/consumer", "step-10": "HorizontalPodAutoscaler default/consumer"}[id]; live != "" &&
			!strings.Contains(out, live+": in the cluster, the same as the reference") {
			t.Errorf("dojo diff %s on the reference state does not compare the live %s:\n%s", id, live, out)
		}
	}
	ref, err := os.ReadFile(valuesFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(valuesFile, bytes.Replace(ref, []byte("scrapeInterval: 5s"), []byte("scrapeInterval: 30s"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l.InstallStep(ctx, 5, func(v map[string]any) {
		onLocalhost(v)
		setPath(v, "prometheus.prometheusSpec.scrapeInterval", "30s")
	}); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runDojo(t, l, home, "diff", "step-5")
	if code != 0 || !strings.Contains(out, "-    scrapeInterval: 30s\n+    scrapeInterval: 5s") ||
		!strings.Contains(out, `prometheus.prometheusSpec.scrapeInterval: "30s", reference "5s"`) || strings.Count(out, "reference \"") != 1 {
		t.Errorf("dojo diff step-5 after scrapeInterval 30s: exit %d\n%s%s", code, out, errOut)
	}
	hpaFile := filepath.Join(workshop.AppChartDir(l.Workspace(), workshop.ConsumerRelease), "templates", "horizontalpodautoscaler.yaml")
	hpa, err := os.ReadFile(hpaFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hpaFile, bytes.Replace(hpa, []byte("maxReplicas: 20"), []byte("maxReplicas: 10"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runDojo(t, l, home, "diff", "step-10")
	if code != 0 || !strings.Contains(out, "-  maxReplicas: 10\n+  maxReplicas: 20") || strings.Count(out, "\n-") != 2 {
		t.Errorf("dojo diff step-10 after maxReplicas 10: exit %d\n%s%s", code, out, errOut)
	}

	// The same edit deployed, with the target written as 20000m (the same
	// quantity): the live HPA differs in that one field only, and the
	// server's canonical quantity hides the spelling.
	hpa = bytes.Replace(hpa, []byte("maxReplicas: 20"), []byte("maxReplicas: 10"), 1)
	hpa = bytes.Replace(hpa, []byte(`averageValue: "20"`), []byte(`averageValue: 20000m`), 1)
	deployConsumerFile(t, l, home, hpaFile, hpa)
	out, errOut, code = runDojo(t, l, home, "diff", "step-10")
	if code != 0 || !strings.Contains(out, "HorizontalPodAutoscaler default/consumer: in the cluster against the reference\n  spec.maxReplicas: 10, reference 20\n") ||
		strings.Count(out, ", reference ") != 1 {
		t.Errorf("dojo diff step-10 after deploying maxReplicas 10 and 20000m: exit %d\n%s%s", code, out, errOut)
	}

	// The rule's expression on one line, deployed: the same rule.
	ruleFile := filepath.Join(workshop.AppChartDir(l.Workspace(), workshop.ConsumerRelease), "templates", "prometheusrule.yaml")
	rule, err := os.ReadFile(ruleFile)
	if err != nil {
		t.Fatal(err)
	}
	oneLine := regexp.MustCompile(`expr: \|\n\s+(\S.*)\n\s+or\n\s+(\S.*)\n`).ReplaceAll(rule, []byte("expr: ($1)   or   ($2)\n"))
	if bytes.Equal(oneLine, rule) {
		t.Fatalf("the rule's expression is not where the test expects it:\n%s", rule)
	}
	deployConsumerFile(t, l, home, ruleFile, oneLine)
	out, errOut, code = runDojo(t, l, home, "diff", "step-7")
	if code != 0 || !strings.Contains(out, "your file against the reference") ||
		!strings.Contains(out, "PrometheusRule default/consumer: in the cluster, the same as the reference") {
		t.Errorf("dojo diff step-7 with the expression on one line: exit %d\n%s%s", code, out, errOut)
	}
}

// deployConsumerFile writes a file of the learner's consumer chart and
// deploys the chart, as a learner would after an edit.
func deployConsumerFile(t *testing.T, l *lab.Lab, home, file string, data []byte) {
	t.Helper()
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := runDojo(t, l, home, "deploy", workshop.ConsumerRelease); code != 0 {
		t.Fatalf("dojo deploy consumer: exit %d\n%s%s", code, out, errOut)
	}
}
