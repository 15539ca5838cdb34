package check

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	goldenfile "github.com/kubedojo/dojo/internal/testutil/golden"

	"github.com/kubedojo/dojo/internal/check/probe"
	"github.com/kubedojo/dojo/internal/check/suite"
	"github.com/kubedojo/dojo/internal/cluster"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/factory/factorytest"
	"github.com/kubedojo/dojo/internal/state"
)

func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, name+".golden", []byte(got))
}

// standInTools is a machine with stand-in tools: versions answered from the
// map, a missing entry is a tool not on PATH.
func standInTools(versions map[string]string, runtime bool, clusters ...string) suite.Machine {
	p := cluster.NewStandIn()
	for _, c := range clusters {
		p.Add(c, nil)
	}
	host := cluster.Host{
		Getenv: func(string) string { return "" },
		LookPath: func(bin string) (string, error) {
			if bin == "docker" && runtime {
				return "/usr/bin/docker", nil
			}
			return "", errors.New("not found")
		},
		Version: func(string) (string, error) { return "Docker version 29.0.1, build stand-in", nil },
	}
	return suite.Machine{
		Doctor: cluster.DoctorEnv{
			Preflight: cluster.PreflightEnv{Host: host, NewProvider: func(cluster.Runtime) cluster.Provider { return p }},
			Run: func(_ context.Context, name string, _ ...string) (string, error) {
				v, ok := versions[name]
				if !ok {
					return "", errors.New(`exec: "` + name + `": executable file not found in $PATH`)
				}
				return v, nil
			},
		},
		Contexts: func() ([]string, error) { return []string{"kind-other"}, nil },
	}
}

func options(f *factory.Factory, m suite.Machine) *Options {
	return &Options{
		IO: f.IO, Catalog: f.Catalog, State: f.State, Now: f.Now,
		World: func() *probe.World {
			return &probe.World{Context: "kind-dojo", AccessErr: errors.New(`kubeconfig /nonexistent has no context "kind-dojo" (it has: none): create the cluster with dojo up, or name one of those with --context`)}
		},
		Suite: suite.Options{Machine: m, Cluster: "dojo"},
	}
}

var allTools = map[string]string{"kubectl": "Client Version: v1.37.2\nKustomize Version: v5.7.1", "helm": "v4.3.1+g1234567", "jq": "jq-1.7.1", "curl": "curl 8.11.1 (x86_64-pc-linux-gnu) libcurl/8.11.1"}

func at(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestStep1WithStandInTools(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	f, st := factorytest.New(t, factorytest.Options{Workspace: t.TempDir(), Now: at(now)})
	o := options(f, standInTools(allTools, true))
	o.Step = "1"
	if err := Run(context.Background(), o); err != nil {
		t.Fatalf("step 1 with every tool: %v\n%s", err, st.Out)
	}
	golden(t, "step1-pass", st.Out.String())
	store, _ := f.State()
	s, _ := store.Load()
	if ss, ok := s.Lookup("step-1"); !ok || ss.Passed == nil || !ss.Passed.Equal(now) || ss.LastCheck == nil || !ss.LastCheck.Passed {
		t.Fatalf("step-1 not recorded as passed: %+v", ss)
	}

	// helm 3.21 and no jq: a failure and a warning; the passed date stays.
	f2, st2 := factorytest.New(t, factorytest.Options{Workspace: mustWorkspace(t, f), Now: at(now.Add(time.Hour))})
	tools := map[string]string{"kubectl": allTools["kubectl"], "helm": "v3.21.0", "curl": allTools["curl"]}
	o = options(f2, standInTools(tools, false))
	o.Step = "step-1"
	err := Run(context.Background(), o)
	if cmdutil.ExitCode(err) != cmdutil.ExitCheckFailed {
		t.Fatalf("exit %d (%v), want 3", cmdutil.ExitCode(err), err)
	}
	golden(t, "step1-fail", st2.Out.String())
	s, _ = store.Load()
	if ss, _ := s.Lookup("step-1"); ss.Passed == nil || !ss.Passed.Equal(now) || ss.LastCheck.Passed ||
		strings.Join(ss.LastCheck.Failed, ",") != "step-1/container-engine,step-1/helm-installed" {
		t.Fatalf("the failing check is not recorded, or the first pass was lost: %+v %+v", ss, ss.LastCheck)
	}
}

func mustWorkspace(t *testing.T, f *factory.Factory) string {
	ws, err := f.Workspace()
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func TestNoClusterOneFailureAndSkips(t *testing.T) {
	f, st := factorytest.New(t, factorytest.Options{Workspace: t.TempDir()})
	o := options(f, standInTools(allTools, true))
	o.Step, o.Static = "step-5", true
	err := Run(context.Background(), o)
	if cmdutil.ExitCode(err) != cmdutil.ExitCheckFailed {
		t.Fatalf("exit %d (%v), want 3", cmdutil.ExitCode(err), err)
	}
	golden(t, "step5-no-cluster", st.Out.String())
}

func TestJSONIsOneObjectPerCriterion(t *testing.T) {
	f, st := factorytest.New(t, factorytest.Options{Workspace: t.TempDir()})
	o := options(f, standInTools(allTools, true))
	o.Step, o.JSON = "cleanup", true
	if err := Run(context.Background(), o); err != nil {
		t.Fatalf("cleanup with no cluster left: %v", err)
	}
	golden(t, "cleanup-json", st.Out.String())

	f, st = factorytest.New(t, factorytest.Options{Workspace: t.TempDir()})
	o = options(f, standInTools(allTools, true, "dojo"))
	o.Step, o.JSON = "cleanup", true
	if err := Run(context.Background(), o); cmdutil.ExitCode(err) != cmdutil.ExitCheckFailed {
		t.Fatalf("cleanup with the cluster still there: exit %d (%v)", cmdutil.ExitCode(err), err)
	}
	if !strings.Contains(st.Out.String(), `"next": "dojo teardown"`) {
		t.Errorf("cleanup with the cluster there does not say dojo teardown:\n%s", st.Out)
	}
}

func TestCurrentStepIsTheFirstNotPassed(t *testing.T) {
	f, st := factorytest.New(t, factorytest.Options{Workspace: t.TempDir()})
	store, _ := f.State()
	now := time.Now()
	if _, err := store.Update(func(s *state.State) error {
		for _, id := range []string{"step-1", "step-2", "step-3"} {
			s.Step(id).Passed = &now
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	o := options(f, standInTools(allTools, true))
	o.Static = true
	_ = Run(context.Background(), o)
	if !strings.HasPrefix(st.Out.String(), "step-4 ") {
		t.Fatalf("dojo check after steps 1-3 checked:\n%s", st.Out)
	}
}

func TestBadArguments(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Step: "step-12"}, `"step-12"`},
		{Options{Step: "5", All: true}, "not both"},
		{Options{Step: "5", PrometheusURL: "prometheus:9090"}, `"prometheus:9090"`},
		{Options{Step: "5", Watch: true, JSON: true}, "--watch"},
	} {
		f, _ := factorytest.New(t, factorytest.Options{Workspace: t.TempDir()})
		o := options(f, standInTools(allTools, true))
		o.Step, o.All, o.PrometheusURL, o.Watch, o.JSON = c.o.Step, c.o.All, c.o.PrometheusURL, c.o.Watch, c.o.JSON
		err := Run(context.Background(), o)
		if cmdutil.ExitCode(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: exit %d %v, want a usage error naming %s", c.o, cmdutil.ExitCode(err), err, c.want)
		}
	}
}

// A failure in steps 8–10 brings the pipeline doctor, which stops at the
// first broken link; --why alone runs only the doctor.
func TestPipelineDoctor(t *testing.T) {
	f, st := factorytest.New(t, factorytest.Options{Workspace: t.TempDir()})
	o := options(f, standInTools(allTools, true))
	o.Step, o.Static = "step-9", true
	if err := Run(context.Background(), o); cmdutil.ExitCode(err) != cmdutil.ExitCheckFailed {
		t.Fatalf("exit %d (%v)", cmdutil.ExitCode(err), err)
	}
	golden(t, "step9-no-cluster-why", st.Out.String())

	f, st = factorytest.New(t, factorytest.Options{Workspace: t.TempDir()})
	o = options(f, standInTools(allTools, true))
	o.Step, o.Static = "step-5", true
	_ = Run(context.Background(), o)
	if strings.Contains(st.Out.String(), "pipeline") {
		t.Errorf("a step-5 failure shows the pipeline doctor:\n%s", st.Out)
	}

	f, st = factorytest.New(t, factorytest.Options{Workspace: t.TempDir()})
	o = options(f, standInTools(allTools, true))
	o.Why = true
	if err := Run(context.Background(), o); cmdutil.ExitCode(err) != cmdutil.ExitCheckFailed {
		t.Fatalf("--why with a broken chain: exit %d (%v)", cmdutil.ExitCode(err), err)
	}
	if out := st.Out.String(); !strings.HasPrefix(out, "pipeline ") || !strings.Contains(out, "The chain breaks at exporter-scraped.") {
		t.Errorf("--why alone:\n%s", out)
	}
}

// --watch stops as soon as the step passes; while nothing changes it prints
// the step once; Ctrl-C (a cancelled context) ends it, as a failed check
// (exit 3) while the step fails.
func TestWatch(t *testing.T) {
	f, st := factorytest.New(t, factorytest.Options{Workspace: t.TempDir()})
	o := options(f, standInTools(allTools, true))
	o.Step, o.Watch = "step-1", true
	if err := Run(context.Background(), o); err != nil {
		t.Fatalf("watch of a passing step: %v", err)
	}
	if n := strings.Count(st.Out.String(), "step-1 passed"); n != 1 {
		t.Fatalf("a passing step is printed %d times:\n%s", n, st.Out)
	}

	f, st = factorytest.New(t, factorytest.Options{Workspace: t.TempDir()})
	o = options(f, standInTools(map[string]string{}, true))
	o.Step, o.Watch = "step-1", true
	changed := 0 // the classroom's event goes while the watch runs
	o.Changed = func(context.Context) { changed++ }
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := Run(ctx, o); cmdutil.ExitCode(err) != cmdutil.ExitCheckFailed {
		t.Fatalf("a watch of a failing step stopped by Ctrl-C: exit %d (%v), want 3", cmdutil.ExitCode(err), err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("the watch took %s to stop", d)
	}
	if n := strings.Count(st.Out.String(), "step-1 Get your tools ready"); n != 1 {
		t.Errorf("unchanged results printed %d times, want once:\n%s", n, st.Out)
	}
	if changed != 1 {
		t.Errorf("the watch reported a change %d times, want once (when the results first showed)", changed)
	}
}

// dojo check STEP turns the clock of dojo status to that step; --all, which
// says nothing of the step a learner is on, does not.
func TestCheckAllMovesNoClock(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	f, _ := factorytest.New(t, factorytest.Options{Workspace: t.TempDir(), Now: at(now)})
	o := options(f, standInTools(allTools, true))
	o.All, o.Static = true, true
	Run(context.Background(), o)
	store, _ := f.State()
	if s, _ := store.Load(); len(s.Visits) != 0 {
		t.Fatalf("dojo check --all recorded visits %v", s.Visits)
	}
	o = options(f, standInTools(allTools, true))
	o.Step = "1"
	Run(context.Background(), o)
	if s, _ := store.Load(); len(s.Visits) != 1 || s.Visits[0].Step != "step-1" {
		t.Fatalf("dojo check step-1 recorded visits %v, want step-1", s.Visits)
	}
}
