package solve

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/helm"
	"github.com/kubedojo/dojo/internal/report"
	"github.com/kubedojo/dojo/internal/steps"
)

// recorder stands in for the installer: it records what it was asked.
type recorder struct {
	applied  []helm.Release
	upgraded []string
}

func (r *recorder) Apply(_ context.Context, rel helm.Release) (helm.Result, error) {
	r.applied = append(r.applied, rel)
	return helm.Result{Release: rel.Name, Namespace: rel.Namespace, Action: helm.Installed, Revision: 1}, nil
}

func (r *recorder) UpgradeApp(_ context.Context, _, name string) (helm.Result, error) {
	r.upgraded = append(r.upgraded, name)
	return helm.Result{Release: name, Namespace: "default", Action: helm.Upgraded, Revision: 2}, nil
}

// applied is what apply did: what the command does for one step, Files
// then Install.
type applied struct {
	Files    []FileChange
	Releases []helm.Result
}

func apply(ctx context.Context, s *steps.Step, domain string, env Env) (applied, error) {
	files, err := Files(s, domain, env, nil)
	if err != nil {
		return applied{Files: files}, err
	}
	rs, err := Install(ctx, s, env, nil, nil)
	return applied{Files: files, Releases: rs}, err
}

func step(t *testing.T, id string) *steps.Step {
	cat, err := steps.Load(embedded.FS())
	if err != nil {
		t.Fatal(err)
	}
	s, err := cat.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSolveStep5BacksUpAndTemplatesTheDomain(t *testing.T) {
	ws := t.TempDir()
	values := filepath.Join(ws, "values", "prometheus.yaml")
	if err := os.MkdirAll(filepath.Dir(values), 0o755); err != nil {
		t.Fatal(err)
	}
	mine := []byte("# my attempt\nprometheus: {prometheusSpec: {scrapeInterval: 30s}}\n")
	if err := os.WriteFile(values, mine, 0o644); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	env := Env{Embedded: embedded.FS(), Workspace: ws, Installer: rec, Progress: report.Discard{}, Stamp: "20261202T100000"}
	res, err := apply(context.Background(), step(t, "step-5"), "localhost", env)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 || !res.Files[0].Written || res.Files[0].Backup != "values/prometheus.yaml.20261202T100000.bak" {
		t.Fatalf("files: %+v", res.Files)
	}
	if kept, _ := os.ReadFile(filepath.Join(ws, res.Files[0].Backup)); string(kept) != string(mine) {
		t.Fatalf("the backup holds %q, want the learner's file", kept)
	}
	got, _ := os.ReadFile(values)
	if !strings.Contains(string(got), "- prometheus.localhost") || strings.Contains(string(got), "vcap.me") {
		t.Fatalf("the values are not written for the domain localhost:\n%s", got)
	}
	if len(rec.applied) != 1 || rec.applied[0].Name != "prometheus" || rec.applied[0].Namespace != "prometheus" || rec.applied[0].Source.Upstream == nil {
		t.Fatalf("installed %+v", rec.applied)
	}
	hosts := rec.applied[0].Values["prometheus"].(map[string]any)["ingress"].(map[string]any)["hosts"].([]any)
	if hosts[0] != "prometheus.localhost" {
		t.Fatalf("installed with hosts %v", hosts)
	}

	// A second run writes nothing and makes no second backup.
	res, err = apply(context.Background(), step(t, "step-5"), "localhost", env)
	if err != nil || res.Files[0].Written || res.Files[0].Backup != "" {
		t.Fatalf("second run: %+v %v", res.Files, err)
	}
	baks, _ := filepath.Glob(values + ".*.bak")
	if len(baks) != 1 {
		t.Fatalf("backups after two runs: %v", baks)
	}
}

func TestSolveConsumerStepsUpgradeTheWorkspaceChart(t *testing.T) {
	ws := t.TempDir()
	rec := &recorder{}
	env := Env{Embedded: embedded.FS(), Workspace: ws, Installer: rec, Progress: report.Discard{}, Stamp: "x"}
	for _, id := range []string{"step-7", "step-9", "step-10"} {
		if _, err := apply(context.Background(), step(t, id), "vcap.me", env); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(rec.upgraded, ",") != "consumer,consumer,consumer" || len(rec.applied) != 0 {
		t.Fatalf("upgraded %v, applied %v", rec.upgraded, rec.applied)
	}
	hpa, _ := os.ReadFile(filepath.Join(ws, "charts", "consumer", "templates", "horizontalpodautoscaler.yaml"))
	if !strings.Contains(string(hpa), "minReplicas: 0") {
		t.Fatalf("step 10's HPA not written after step 9's:\n%s", hpa)
	}
	// Step 9's HPA, replaced by step 10's, is kept.
	if baks, _ := filepath.Glob(filepath.Join(ws, "charts", "consumer", "templates", "*.bak")); len(baks) != 1 {
		t.Fatalf("backups: %v", baks)
	}
}

func TestStepsWithoutReferenceAreRefused(t *testing.T) {
	if _, err := apply(context.Background(), step(t, "step-3"), "", Env{}); err == nil || !strings.Contains(err.Error(), "step-3") {
		t.Fatalf("step-3: %v", err)
	}
}

// The starter file dojo up wrote, untouched, is not the learner's work: it is
// replaced without a backup, and said so.
func TestStarterFileNeedsNoBackup(t *testing.T) {
	ws := t.TempDir()
	starter, err := fs.ReadFile(embedded.Workspace(), "values/prometheus-adapter.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(ws, "values", "prometheus-adapter.yaml")
	_ = os.MkdirAll(filepath.Dir(dst), 0o755)
	if err := os.WriteFile(dst, starter, 0o644); err != nil {
		t.Fatal(err)
	}
	env := Env{Embedded: embedded.FS(), Starter: embedded.Workspace(), Workspace: ws, Installer: &recorder{}, Progress: report.Discard{}, Stamp: "x"}
	files, err := Files(step(t, "step-8"), "vcap.me", env, nil)
	if err != nil || len(files) != 1 || !files[0].Written || !files[0].Starter || files[0].Backup != "" {
		t.Fatalf("files %+v, %v", files, err)
	}
	if baks, _ := filepath.Glob(dst + ".*.bak"); len(baks) != 0 {
		t.Fatalf("backups of the starter file: %v", baks)
	}
}

func TestSupersededFilesAreLeftToTheLaterStep(t *testing.T) {
	todo := []*steps.Step{step(t, "step-7"), step(t, "step-9"), step(t, "step-10")}
	sup := Superseded(todo)
	if len(sup) != 1 || sup["step-9"]["charts/consumer/templates/horizontalpodautoscaler.yaml"] != "step-10" {
		t.Fatalf("superseded: %v", sup)
	}
	ws := t.TempDir()
	rec := &recorder{}
	env := Env{Embedded: embedded.FS(), Workspace: ws, Installer: rec, Progress: report.Discard{}, Stamp: "x"}
	files, err := Files(todo[1], "vcap.me", env, sup["step-9"])
	if err != nil || len(files) != 1 || files[0].Written || files[0].SupersededBy != "step-10" {
		t.Fatalf("step 9's files: %+v %v", files, err)
	}
	if rs, err := Install(context.Background(), todo[1], env, sup["step-9"], nil); err != nil || len(rs) != 0 || len(rec.upgraded) != 0 {
		t.Fatalf("step 9 installed %v %v", rs, rec.upgraded)
	}
	// The consumer is upgraded once, by the last step of the run that
	// writes one of its files.
	later := UpgradedLater(todo)
	if !later["step-7"]["consumer"] || !later["step-9"]["consumer"] || later["step-10"]["consumer"] {
		t.Fatalf("upgraded later: %v", later)
	}
	if rs, err := Install(context.Background(), todo[0], env, sup["step-7"], later["step-7"]); err != nil || len(rs) != 0 {
		t.Fatalf("step 7 under --until 10 installed %v %v", rs, err)
	}
	if rs := UpgradedLater(todo[:1]); len(rs) != 0 {
		t.Fatalf("step 7 alone upgrades later: %v", rs)
	}
}

// dojo solve keeps the mode of the learner's file it replaces, in the backup
// and in the reference written in its place. (Before: both 0644.)
func TestSolveKeepsTheModeOfTheLearnersFile(t *testing.T) {
	ws := t.TempDir()
	values := filepath.Join(ws, "values", "prometheus.yaml")
	os.MkdirAll(filepath.Dir(values), 0o755)
	if err := os.WriteFile(values, []byte("password: hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := Env{Embedded: embedded.FS(), Workspace: ws, Installer: &recorder{}, Progress: report.Discard{}, Stamp: "20261202T100000"}
	files, err := Files(step(t, "step-5"), "vcap.me", env, nil)
	if err != nil || len(files) != 1 || files[0].Backup == "" {
		t.Fatalf("files %+v, %v", files, err)
	}
	for _, p := range []string{filepath.Join(ws, files[0].Backup), values} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v (%v); want 0600 kept", p, fi.Mode().Perm(), err)
		}
	}
}

// dojo solve does not write through a workspace folder that is a link out of
// the workspace: it stops naming the link, and nothing appears outside.
func TestSolveRefusesALinkOutOfTheWorkspace(t *testing.T) {
	ws, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(ws, "values")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(outside, "prometheus.yaml"), []byte("mine\n"), 0o644)
	env := Env{Embedded: embedded.FS(), Workspace: ws, Installer: &recorder{}, Progress: report.Discard{}, Stamp: "x"}
	files, err := Files(step(t, "step-5"), "vcap.me", env, nil)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(ws, "values")+" is a link to") || len(files) != 1 || !files[0].Failed {
		t.Fatalf("files %+v, %v; want a refusal naming the link", files, err)
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 1 {
		t.Fatalf("outside the workspace: %v; want only the learner's file", entries)
	}
	if data, _ := os.ReadFile(filepath.Join(outside, "prometheus.yaml")); string(data) != "mine\n" {
		t.Fatalf("the file outside was replaced: %q", data)
	}
}
