// Package check is the `dojo check` command.
package check

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/check/probe"
	"github.com/kubedojo/dojo/internal/check/suite"
	"github.com/kubedojo/dojo/internal/cli/stepargs"
	"github.com/kubedojo/dojo/internal/cluster"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/course"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/helm"
	"github.com/kubedojo/dojo/internal/prom"
	"github.com/kubedojo/dojo/internal/state"
	"github.com/kubedojo/dojo/internal/steps"
	"github.com/kubedojo/dojo/internal/ui"
	"github.com/kubedojo/dojo/internal/workshop"
)

// Options are the arguments and flags of `dojo check`.
type Options struct {
	Step          string
	All           bool
	JSON          bool
	Static        bool
	Watch         bool
	Why           bool
	PrometheusURL string
	IngressAddr   string

	// What check needs, filled from the factory by NewCmd (a test sets its
	// own).
	IO      *ui.IOStreams
	Catalog func() (*steps.Catalog, error)
	State   func() (*state.Store, error)
	Now     func() time.Time
	// World builds the cluster side (called once, only when a step needs it).
	World func() *probe.World
	// Suite is the machine side (step 1, cleanup) and the cluster name.
	Suite suite.Options
	// Checked receives each step's results as they are recorded (the
	// classroom event reads them); nil ignores them.
	Checked func(step string, rs []check.Result)
	// Changed runs in --watch each time the results on screen changed
	// (the classroom's event; nil: nothing).
	Changed func(ctx context.Context)
}

// NewCmd builds `dojo check [STEP]`.
func NewCmd(f *factory.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "check [STEP]",
		Short: "Check a step against your cluster: what is right, what is not, what to do",
		Long: `Judge a step's criteria against the live cluster, one line each: what was
observed, what was expected and what to do next. Without a step, the first
step you have not passed. A criterion that needs another one that failed is
skipped and names it.

Live criteria (step 3's queue drains, step 9's HPA follows the queue, step
10's wake-up) publish a few items through the producer, wait for the cluster
to react and take back whatever of their items still waits; --static skips
them. Exit status 3 means a criterion failed.`,
		Example: `  dojo check
  dojo check step-7
  dojo check 9 --static
  dojo check --all --json
  dojo check step-5 --watch
  dojo check --why`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return cmdutil.Usagef("dojo check takes at most one step, got %d arguments: e.g. `dojo check step-7`", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Step = args[0]
			}
			if opts.PrometheusURL == "" {
				opts.PrometheusURL = f.Getenv("DOJO_PROMETHEUS_URL")
			}
			if opts.IngressAddr == "" {
				opts.IngressAddr = f.Getenv("DOJO_INGRESS_ADDR")
			}
			opts.IO, opts.Catalog, opts.State, opts.Now = f.IO, f.Catalog, f.State, f.Now
			opts.Checked = f.Checks.Record
			opts.Changed = f.Checks.Changed
			opts.World = func() *probe.World { return world(f, opts) }
			opts.Suite.Cluster = f.ClusterName()
			opts.Suite.Machine = suite.Machine{
				Doctor:   cluster.SystemDoctorEnv(f.Machine()),
				Contexts: func() ([]string, error) { return contexts(f) },
			}
			return Run(cmd.Context(), opts)
		},
	}
	f.AddClusterFlags(cmd.Flags())
	fl := cmd.Flags()
	fl.BoolVar(&opts.All, "all", false, "check every step in order")
	fl.BoolVar(&opts.JSON, "json", false, "print the results as a JSON array, one object per criterion")
	fl.BoolVar(&opts.Static, "static", false, "skip the live criteria (they publish items and wait)")
	fl.BoolVar(&opts.Watch, "watch", false, "check again until the step passes (Ctrl-C stops)")
	fl.BoolVar(&opts.Why, "why", false, "walk the chain exporter → Prometheus → rule → adapter → HPA → replicas and stop at the first broken link (also shown when a criterion of steps 8–10 fails)")
	fl.StringVar(&opts.PrometheusURL, "prometheus-url", "", "reach Prometheus at this URL instead of through the API server's service proxy (or DOJO_PROMETHEUS_URL)")
	fl.StringVar(&opts.IngressAddr, "ingress-addr", "", "where this machine's port 80 is, for the Ingress criteria (default 127.0.0.1:80, or DOJO_INGRESS_ADDR)")
	stepargs.Use(cmd, stepargs.Step(f.Catalog, nil))
	return cmd
}

// world is the cluster side of the check: the dojo's context, its Helm
// releases and its Prometheus.
func world(f *factory.Factory, opts *Options) *probe.World {
	w := &probe.World{Context: f.ContextName(), IngressAddr: opts.IngressAddr}
	if ws, err := f.Workspace(); err == nil {
		w.Workspace = ws
	}
	access, err := f.Access()
	if err != nil {
		w.AccessErr = err
		return w
	}
	cs, err := access.Clientset()
	if err != nil {
		w.AccessErr = err
		return w
	}
	cfg, err := access.ToRESTConfig()
	if err != nil {
		w.AccessErr = err
		return w
	}
	dyn, err := access.Dynamic()
	if err != nil {
		w.AccessErr = err
		return w
	}
	w.Kube, w.Dynamic = cs, dyn
	w.Releases = helm.New(access, helm.Options{})
	if opts.PrometheusURL != "" {
		c, err := prom.URL(opts.PrometheusURL)
		if err != nil {
			w.AccessErr = err
			return w
		}
		w.Prometheus = c
	} else if c, err := prom.ServiceProxy(cfg, workshop.PrometheusNamespace, workshop.PrometheusName, workshop.PrometheusPort); err == nil {
		w.Prometheus = c
	} else {
		w.PrometheusErr = err
	}
	return w
}

// contexts lists the kubeconfig's contexts (for cleanup's criterion).
func contexts(f *factory.Factory) ([]string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if p := f.KubeconfigPath(); p != "" {
		rules.ExplicitPath = p
	}
	cfg, err := rules.Load()
	if err != nil {
		return nil, err
	}
	var out []string
	for name := range cfg.Contexts {
		out = append(out, name)
	}
	return out, nil
}

// Run checks the chosen steps, prints the results, records the outcome and
// returns ErrCheckFailed when a criterion failed.
func Run(ctx context.Context, opts *Options) error {
	if opts.PrometheusURL != "" {
		if _, err := prom.URL(opts.PrometheusURL); err != nil {
			return cmdutil.Usagef("--prometheus-url %q is not an http(s) URL: give one like http://prometheus.vcap.me", opts.PrometheusURL)
		}
	}
	cat, err := opts.Catalog()
	if err != nil {
		return err
	}
	store, err := opts.State()
	if err != nil {
		return err
	}
	todo, err := chosen(opts, cat, store)
	if err != nil {
		return err
	}
	if opts.Watch && (opts.All || opts.JSON || opts.Why) {
		return cmdutil.Usagef("--watch checks one step and redraws it: drop --all, --json and --why")
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	run := newRunner(opts)
	if opts.Why && opts.Step == "" && !opts.All {
		todo = nil
	}
	if opts.Watch {
		return watch(ctx, opts, store, todo[0], run)
	}
	var all []check.Result
	failed := 0
	for i, s := range todo {
		rs := run.run(ctx, s, opts.Static)
		record(opts, store, s, rs)
		all = append(all, rs...)
		failed += check.Count(rs, check.Fail)
		if !opts.JSON {
			if i > 0 {
				fmt.Fprintln(opts.IO.Out)
			}
			render(opts, s, rs, len(todo) == 1)
		}
		if ctx.Err() != nil {
			break
		}
	}
	if opts.Why || (failed > 0 && chainStepFailed(all)) {
		if !opts.JSON && len(todo) > 0 {
			fmt.Fprintln(opts.IO.Out)
		}
		rs := suite.Pipeline(ctx, run.world())
		all = append(all, rs...)
		if opts.Why {
			failed += check.Count(rs, check.Fail)
		}
		if !opts.JSON {
			renderPipeline(opts, rs)
		}
	}
	if opts.JSON {
		if err := check.JSON(opts.IO.Out, all); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return errors.New("dojo check was interrupted")
	}
	if failed > 0 {
		return fmt.Errorf("%s failed: %w", ui.Count(failed, "criterion", "criteria"), cmdutil.ErrCheckFailed)
	}
	return nil
}

// chosen are the steps to check: --all, the named one, or the learner's
// current one.
func chosen(opts *Options, cat *steps.Catalog, store *state.Store) ([]*steps.Step, error) {
	if opts.All {
		if opts.Step != "" {
			return nil, cmdutil.Usagef("give a step or --all, not both")
		}
		return cat.Steps(), nil
	}
	if opts.Step != "" {
		s, err := cat.Get(opts.Step)
		if err != nil {
			return nil, cmdutil.Usagef("%v", err)
		}
		return []*steps.Step{s}, nil
	}
	st, err := store.Load()
	if err != nil {
		return nil, err
	}
	n := course.NextStep(course.Rows(cat, st, opts.Now()))
	if n == 0 {
		n = steps.CleanupNumber
	}
	s, err := cat.Get(steps.IDFor(n))
	if err != nil {
		return nil, err
	}
	return []*steps.Step{s}, nil
}

// chainStepFailed says whether a criterion of steps 8–10 (those the whole
// chain feeds) failed: then the pipeline doctor shows which link broke.
func chainStepFailed(rs []check.Result) bool {
	for _, r := range rs {
		step, _, _ := strings.Cut(r.Criterion, "/")
		if r.Status == check.Fail && (step == "step-8" || step == "step-9" || step == "step-10") {
			return true
		}
	}
	return false
}

// renderPipeline prints the pipeline doctor.
func renderPipeline(opts *Options, rs []check.Result) {
	st := opts.IO.Styles()
	out := opts.IO.Out
	fmt.Fprintf(out, "%s from the exporter to the replicas\n", st.Heading.Render(suite.PipelineID))
	short := make([]check.Result, len(rs))
	for i, r := range rs {
		r.Criterion, r.WaitsFor = check.Short(r.Criterion), check.Short(r.WaitsFor)
		short[i] = r
	}
	check.Text(out, st, short)
	for _, r := range rs {
		if r.Status == check.Fail {
			fmt.Fprintf(out, "The chain breaks at %s.\n", check.Short(r.Criterion))
			return
		}
	}
	fmt.Fprintln(out, "Every link holds.")
}

// runner checks steps, building the cluster side once, on the first step
// that needs it.
type runner struct {
	opts *Options
	w    *probe.World
}

func newRunner(opts *Options) *runner { return &runner{opts: opts} }

func (r *runner) world() *probe.World {
	if r.w == nil {
		r.w = r.opts.World()
	}
	return r.w
}

func (r *runner) run(ctx context.Context, s *steps.Step, static bool) []check.Result {
	opts := r.opts
	world := &probe.World{}
	if s.Number != 1 && s.Number != steps.CleanupNumber {
		world = r.world()
	}
	o := opts.Suite
	o.SkipLive = static
	o.Say = func(format string, a ...any) {
		fmt.Fprintln(opts.IO.ErrOut, opts.IO.ErrStyles().Muted.Render(fmt.Sprintf(format, a...)))
	}
	rs, err := suite.Run(ctx, s.ID, world, o)
	if err != nil {
		return []check.Result{{Criterion: s.ID, Status: check.Fail, Observed: err.Error()}}
	}
	return rs
}

// record writes the outcome into the learner's progress.
func record(opts *Options, store *state.Store, s *steps.Step, rs []check.Result) {
	if opts.Checked != nil {
		opts.Checked(s.ID, rs)
	}
	now := opts.Now()
	passed := check.Passed(rs)
	_, err := store.Update(func(st *state.State) error {
		ss := st.Step(s.ID)
		if !opts.All { // --all says nothing of the step the learner is on
			st.Open(s.ID, now)
		}
		ss.MarkStarted(now)
		ss.LastCheck = &state.CheckRecord{At: now, Passed: passed, Failed: check.Failed(rs)}
		if passed && ss.Passed == nil {
			t := now
			ss.Passed = &t
		}
		return nil
	})
	if err != nil {
		opts.IO.Warn(fmt.Sprintf("could not record the check in your progress: %v", err))
	}
}

// render prints one step's results and what to do next.
func render(opts *Options, s *steps.Step, rs []check.Result, single bool) {
	st := opts.IO.Styles()
	out := opts.IO.Out
	fmt.Fprintf(out, "%s %s\n", st.Heading.Render(s.ID), s.Title)
	// Under the step's heading its criteria need no step prefix.
	short := make([]check.Result, len(rs))
	for i, r := range rs {
		r.Criterion, r.WaitsFor = check.Short(r.Criterion), check.Short(r.WaitsFor)
		short[i] = r
	}
	check.Text(out, st, short)
	pass, fail, skip := check.Count(rs, check.Pass)+check.Count(rs, check.Warn), check.Count(rs, check.Fail), check.Count(rs, check.Skipped)
	switch {
	case check.Passed(rs):
		next := fmt.Sprintf("dojo step %d", s.Number+1)
		if s.Number == steps.LastStep {
			next = "dojo step cleanup"
		}
		if s.Number == steps.CleanupNumber {
			fmt.Fprintf(out, "%s passed: the workshop is complete.\n", s.ID)
			return
		}
		fmt.Fprintf(out, "%s passed. Next: %s\n", s.ID, st.Code.Render(next))
	case fail == 0:
		fmt.Fprintf(out, "%s: %d passed, %d not run. Run %s to judge everything.\n", s.ID, pass, skip, st.Code.Render("dojo check "+s.ID))
	default:
		fmt.Fprintf(out, "%s: %d passed, %d failed, %d skipped.", s.ID, pass, fail, skip)
		if single {
			fmt.Fprintf(out, " Stuck? %s", st.Code.Render(fmt.Sprintf("dojo hint %s", s.ID)))
		}
		fmt.Fprintln(out)
	}
}

// watch re-checks a step until it passes: statics at most once a second,
// backing off to five seconds while nothing changes; the live criteria run
// once the static ones pass. Stopped (Ctrl-C) while the step fails, it
// exits as a failed check does.
func watch(ctx context.Context, opts *Options, store *state.Store, s *steps.Step, run *runner) error {
	var last string
	var shown []check.Result // the results on screen
	stopped := func() error {
		if n := check.Count(shown, check.Fail); n > 0 {
			return fmt.Errorf("%s: stopped with %s failing: %w", s.ID, ui.Count(n, "criterion", "criteria"), cmdutil.ErrCheckFailed)
		}
		return nil
	}
	delay := time.Second
	for {
		rs := run.run(ctx, s, true)
		live := false
		if static := staticPassed(rs); static && !opts.Static && check.Count(rs, check.Skipped) > 0 {
			// Once: the live criteria publish items and wait.
			rs, live = run.run(ctx, s, false), true
		}
		if ctx.Err() != nil {
			return stopped()
		}
		if key := summary(rs); key != last {
			last, delay, shown = key, time.Second, rs
			if opts.IO.IsStdoutTTY() {
				fmt.Fprint(opts.IO.Out, "\x1b[H\x1b[2J")
			}
			fmt.Fprintf(opts.IO.Out, "%s\n", opts.IO.Styles().Muted.Render(opts.Now().Format("15:04:05")))
			render(opts, s, rs, true)
			record(opts, store, s, rs)
			if opts.Changed != nil {
				opts.Changed(ctx)
			}
		} else {
			delay = min(delay*2, 5*time.Second)
		}
		if check.Passed(rs) || (opts.Static && check.Count(rs, check.Fail) == 0) {
			return nil
		}
		if live {
			// The live criteria ran and did not pass: say so and stop
			// rather than publish again every round.
			return fmt.Errorf("%s: a live criterion failed: %w", s.ID, cmdutil.ErrCheckFailed)
		}
		select {
		case <-ctx.Done():
			return stopped()
		case <-time.After(delay):
		}
	}
}

func staticPassed(rs []check.Result) bool {
	for _, r := range rs {
		if r.Status == check.Fail || (r.Status == check.Skipped && r.WaitsFor != "") {
			return false
		}
	}
	return true
}

func summary(rs []check.Result) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%s|%s|%s\n", r.Criterion, r.Status, r.Observed)
	}
	return b.String()
}
