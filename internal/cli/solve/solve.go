// Package solve is the `dojo solve` command.
package solve

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/cli/stepargs"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/course"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/helm"
	"github.com/kubedojo/dojo/internal/kube"
	"github.com/kubedojo/dojo/internal/solve"
	"github.com/kubedojo/dojo/internal/state"
	"github.com/kubedojo/dojo/internal/steps"
	"github.com/kubedojo/dojo/internal/ui"
	"github.com/kubedojo/dojo/internal/workshop"
)

// Options are the arguments and flags of `dojo solve` and what it needs,
// filled from the factory by NewCmd (a test sets its own).
type Options struct {
	Step      string
	Until     string
	ChartRepo string
	Timeout   time.Duration

	IO        *ui.IOStreams
	Catalog   func() (*steps.Catalog, error)
	State     func() (*state.Store, error)
	Workspace func() (string, error)
	Now       func() time.Time
	Getenv    func(string) string
	Access    func() (*kube.Access, error)
	// Embedded is the workshop tree (the references); Starter the workspace
	// dojo up writes (embedded.Workspace()).
	Embedded, Starter fs.FS
	// Installer installs and reads releases (helm.New in production).
	Installer func(a *kube.Access, o helm.Options) Installer
}

// Installer is what solve needs of the installer.
type Installer interface {
	solve.Installer
	Last(ctx context.Context, name, ns string) (*helm.Deployed, error)
}

// NewCmd builds `dojo solve [STEP] [--until N]`.
func NewCmd(f *factory.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "solve [STEP]",
		Short: "Apply a step's reference solution (your files are backed up first)",
		Long: `Catch up on a step: write its reference files into your workspace, backing
up each file of yours it replaces next to it (<file>.<time>.bak), install
the step's pinned chart with the reference values (steps 5, 6, 8) or upgrade
the consumer from your workspace chart (steps 7, 9, 10). The values are
written for the domain dojo up chose. Without a step: the first step you have
not passed; --until N: every step up to N, in order.

A second run changes nothing; a run that was interrupted is completed by the
next. The step is recorded as solved, not passed: dojo check decides that.`,
		Example: `  dojo solve step-5
  dojo solve --until 10
  dojo solution step-7   # read the reference without applying it`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return cmdutil.Usagef("dojo solve takes at most one step, got %d arguments: e.g. `dojo solve step-7`", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Step = args[0]
			}
			opts.IO, opts.Catalog, opts.State, opts.Workspace, opts.Now, opts.Getenv, opts.Access = f.IO, f.Catalog, f.State, f.Workspace, f.Now, f.Getenv, f.Access
			opts.Embedded, opts.Starter = f.Embedded, embedded.Workspace()
			opts.Installer = func(a *kube.Access, o helm.Options) Installer { return helm.New(a, o) }
			return Run(cmd.Context(), opts)
		},
	}
	f.AddClusterFlags(cmd.Flags())
	fl := cmd.Flags()
	fl.StringVar(&opts.Until, "until", "", "solve every step up to this one, in order (e.g. --until 10)")
	fl.StringVar(&opts.ChartRepo, "chart-repo", "", "chart repository for the upstream charts instead of their pinned ones (env "+helm.ChartRepoEnv+")")
	fl.DurationVar(&opts.Timeout, "timeout", 5*time.Minute, "give up on a release after this long")
	stepargs.Use(cmd, stepargs.Step(f.Catalog, stepargs.HasReference))
	return cmd
}

// chosen are the steps to solve.
func chosen(opts *Options, cat *steps.Catalog, store *state.Store) ([]*steps.Step, error) {
	if opts.Until != "" {
		if opts.Step != "" {
			return nil, cmdutil.Usagef("give a step (%s) or --until %s, not both", opts.Step, opts.Until)
		}
		return course.ReferenceSteps(cat, opts.Until)
	}
	st, err := store.Load()
	if err != nil {
		return nil, err
	}
	s, err := course.ReferenceStep(cat, st, opts.Now(), opts.Step, "solve")
	if err != nil {
		return nil, err
	}
	return []*steps.Step{s}, nil
}

// Run solves the chosen steps in order, printing what changed.
func Run(ctx context.Context, opts *Options) error {
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
	ws, err := opts.Workspace()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(workshop.AppChartDir(ws, workshop.ConsumerRelease), "Chart.yaml")); err != nil {
		return fmt.Errorf("no workspace at %s (charts/consumer/Chart.yaml: %v): run dojo up or dojo init there, or give --workspace", ws, err)
	}
	access, err := opts.Access()
	if err != nil {
		return err
	}
	repo := opts.ChartRepo
	if repo == "" {
		repo = opts.Getenv(helm.ChartRepoEnv)
	}
	// dojo solve applies the reference the learner asked for: fields a
	// kubectl edit took over are taken back, and said.
	inst := opts.Installer(access, helm.Options{ChartRepo: repo, Timeout: opts.Timeout, TakeBackConflicts: true})
	// The domain dojo up chose is in the producer's values.
	prod, err := inst.Last(ctx, workshop.ProducerRelease, workshop.AppNamespace)
	if err != nil {
		return fmt.Errorf("reading the producer release to learn your domain: %w", err)
	}
	if prod == nil {
		return fmt.Errorf("the release producer is not installed in context %s: run dojo up first", access.Context())
	}
	domain := workshop.DomainOf(prod.Values)
	if errs := validation.IsDNS1123Subdomain(domain); len(errs) > 0 {
		return fmt.Errorf("the producer release's domain %q is not a DNS name (%s): run dojo up --domain with a name such as localhost", domain, errs[0])
	}
	pr := ui.NewProgress(opts.IO)
	defer pr.Close()
	env := solve.Env{Embedded: opts.Embedded, Starter: opts.Starter, Workspace: ws, Installer: inst, Progress: pr,
		Stamp: opts.Now().UTC().Format("20060102T150405")}
	st := opts.IO.Styles()
	out := opts.IO.Out
	var solved []string
	superseded, later := solve.Superseded(todo), solve.UpgradedLater(todo)
	// First every file of every chosen step, printed before any install: a
	// run stopped during an install has already said where the learner's
	// files went, and no install renders a learner file a later step of
	// the run replaces.
	for i, s := range todo {
		if i > 0 {
			fmt.Fprintln(out)
		}
		fmt.Fprintf(out, "%s %s\n", st.Heading.Render(s.ID), s.Title)
		files, err := solve.Files(s, domain, env, superseded[s.ID])
		for _, fc := range files {
			switch {
			case fc.Failed && fc.Backup != "":
				fmt.Fprintf(out, "  failed    %s (yours is kept in %s)\n", fc.Path, fc.Backup)
			case fc.Failed:
				fmt.Fprintf(out, "  failed    %s\n", fc.Path)
			case fc.SupersededBy != "":
				fmt.Fprintf(out, "  skipped   %s (%s writes its own)\n", fc.Path, fc.SupersededBy)
			case !fc.Written:
				fmt.Fprintf(out, "  unchanged %s\n", fc.Path)
			case fc.Backup != "":
				fmt.Fprintf(out, "  wrote     %s (yours is kept in %s)\n", fc.Path, fc.Backup)
			case fc.Starter:
				fmt.Fprintf(out, "  wrote     %s (over the starter file, which you had not changed)\n", fc.Path)
			default:
				fmt.Fprintf(out, "  wrote     %s\n", fc.Path)
			}
		}
		if err != nil {
			return fmt.Errorf("solving %s: %w", s.ID, err)
		}
	}
	// Then the releases, step by step.
	fmt.Fprintf(out, "\n%s\n", st.Heading.Render("releases"))
	for _, s := range todo {
		releases, err := solve.Install(ctx, s, env, superseded[s.ID], later[s.ID])
		for _, r := range releases {
			note := ""
			if r.Recovered != "" {
				note = ", completing what an interrupted run left " + r.Recovered
			}
			fmt.Fprintf(out, "  %-9s release %s in %s (revision %d%s) for %s\n", r.Action, r.Release, r.Namespace, r.Revision, note, s.ID)
			for _, c := range r.TookBack {
				fmt.Fprintf(out, "            took back from another tool: %s\n", c)
			}
		}
		if err != nil {
			if interruptedOrTimedOut(ctx, err) {
				return fmt.Errorf("solving %s: %w (an interrupted or timed-out install is completed by running dojo solve again)", s.ID, err)
			}
			return fmt.Errorf("solving %s: %w", s.ID, err)
		}
		now := opts.Now().UTC()
		if _, err := store.Update(func(p *state.State) error {
			ss := p.Step(s.ID)
			ss.MarkStarted(now)
			t := now
			ss.Solved = &t
			return nil
		}); err != nil {
			opts.IO.Warn(fmt.Sprintf("could not record %s as solved: %v", s.ID, err))
		}
		solved = append(solved, s.ID)
	}
	fmt.Fprintf(out, "\nSolved %s. %s says whether a step passes.\n", strings.Join(solved, ", "),
		st.Code.Render("dojo check "+todo[len(todo)-1].ID))
	return nil
}

// interruptedOrTimedOut says whether err ended an install midway (Ctrl-C,
// --timeout, Helm's wait running out): then a second dojo solve completes
// it. Helm's wait errors do not always wrap the context's, hence the words.
func interruptedOrTimedOut(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "context deadline exceeded") || strings.Contains(msg, "timed out waiting")
}
