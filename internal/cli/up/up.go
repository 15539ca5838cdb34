// Package up is the `dojo up` command.
package up

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/bootstrap"
	"github.com/kubedojo/dojo/internal/cluster"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/course"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/helm"
	"github.com/kubedojo/dojo/internal/image"
	"github.com/kubedojo/dojo/internal/ui"
	"github.com/kubedojo/dojo/internal/workshop"
)

// Options are the flags of `dojo up`.
type Options struct {
	Domain      string
	Image       string
	SkipCluster bool
	ChartRepo   string
	Timings     bool
	Timeout     time.Duration
}

// NewCmd builds `dojo up`.
func NewCmd(f *factory.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Create the kind cluster with Traefik, Redis and the sample app",
		Long: `Create a local kind cluster and install everything the workshop starts from:
Traefik (ingress on ports 80 and 443), Redis, the producer and the consumer.
The producer and consumer charts come from your workspace, so your edits count.

dojo up converges: run it again to finish an interrupted run or to apply
changes; it creates only what is missing and upgrades only what changed.
It never touches your kubeconfig's current context: it talks to kind-<name>.

Install onto a cluster of your own instead with --context (its kubeconfig
with --kubeconfig), or onto an existing kind-<name> with --skip-cluster.`,
		Example: `  dojo up
  dojo up --domain localhost        # where *.vcap.me does not resolve
  dojo up --timings                 # where the time goes
  dojo up --context my-cluster --kubeconfig ./lab.kubeconfig`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return Run(cmd, f, opts) },
	}
	fl := cmd.Flags()
	f.AddClusterFlags(fl)
	fl.StringVar(&opts.Domain, "domain", workshop.Domain, "the producer answers on producer.<domain>")
	fl.StringVar(&opts.Image, "image", "", "the app image (repository:tag) instead of this dojo's")
	fl.BoolVar(&opts.SkipCluster, "skip-cluster", false, "install onto the existing cluster of the context (kind-<name> or --context) instead of creating one")
	fl.StringVar(&opts.ChartRepo, "chart-repo", "", "chart repository for Traefik instead of its pinned one (env "+helm.ChartRepoEnv+")")
	fl.BoolVar(&opts.Timings, "timings", false, "print how long each phase took")
	fl.DurationVar(&opts.Timeout, "timeout", 10*time.Minute, "give up after this long")
	return cmd
}

// Run brings the workshop up.
func Run(cmd *cobra.Command, f *factory.Factory, opts *Options) error {
	if opts.Timeout <= 0 {
		return cmdutil.Usagef("--timeout must be positive, got %s", opts.Timeout)
	}
	ws, err := f.Workspace()
	if err != nil {
		return err
	}
	chartRepo := opts.ChartRepo
	if chartRepo == "" {
		chartRepo = f.Getenv(helm.ChartRepoEnv)
	}
	pr := ui.NewProgress(f.IO)
	defer pr.Close()
	res, err := bootstrap.Up(cmd.Context(), bootstrap.Options{
		Name:      f.ClusterName(),
		Domain:    opts.Domain,
		Image:     opts.Image,
		Existing:  opts.SkipCluster || f.Cluster.Context != "",
		Timeout:   opts.Timeout,
		ChartRepo: chartRepo,
		Workspace: ws,
		Version:   f.Build.Version,
		StateDir:  cluster.DefaultStateDir(),
	}, bootstrap.Env{
		Preflight:    f.Machine(),
		Access:       f.Access,
		Progress:     pr,
		Embedded:     f.Embedded,
		WorkspaceSrc: embedded.Workspace(),
		SelfImage:    image.SelfImage,
	})
	if opts.Timings {
		PrintTimings(f.IO.ErrOut, pr.Timings())
	}
	if err != nil {
		return err
	}
	PrintNext(f.IO.Out, f.IO.Styles(), res, nextStep(f))
	return nil
}

// PrintTimings writes each phase's duration, in finishing order.
func PrintTimings(w io.Writer, ts []ui.Timing) {
	fmt.Fprintln(w, "timings:")
	for _, t := range ts {
		mark := ""
		if t.Err != nil {
			mark = " (failed)"
		}
		fmt.Fprintf(w, "  %-24s %8s%s\n", t.Name, t.Duration.Round(100*time.Millisecond), mark)
	}
}

// nextStep is where the learner goes after dojo up: the first step not yet
// passed, from step 3 on (steps 1 and 2 are what dojo up just did), or 0 when
// every step passed. Unreadable progress means a fresh start: step 3.
func nextStep(f *factory.Factory) int {
	cat, st, err := f.Progress()
	if err != nil {
		return 3
	}
	n := course.NextStep(course.Rows(cat, st, f.Now()))
	if n == 0 {
		return 0
	}
	return max(n, 3)
}

// PrintNext tells the learner what they got and what to do next (step next,
// or all steps done when next is 0).
func PrintNext(w io.Writer, st ui.Styles, r *bootstrap.Result, next int) {
	fmt.Fprintln(w, st.PassMark()+" "+st.Bold.Render("dojo is up")+st.Muted.Render(" (context "+r.Context+")"))
	for _, rel := range r.Releases {
		fmt.Fprintf(w, "  %-9s %s (revision %d)\n", rel.Release, rel.Action, rel.Revision)
	}
	if r.Workspace != nil {
		fmt.Fprintf(w, "  workspace %s", r.Workspace.Dir)
		if n := len(r.Workspace.Kept); n > 0 {
			fmt.Fprintf(w, " (%d of your changed files kept)", n)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  image     %s", r.Image)
	if r.SideLoaded {
		fmt.Fprint(w, " (this dojo, loaded into the cluster)")
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Producer: "+st.Code.Render(r.ProducerURL))
	fmt.Fprintln(w, "Try it:   "+st.Code.Render("curl -X POST "+r.ProducerURL+"/publish"))
	if next == 0 {
		fmt.Fprintln(w, "Next:     every step passed: "+st.Code.Render("dojo steps")+" shows them")
		return
	}
	fmt.Fprintln(w, "Next:     "+st.Code.Render(fmt.Sprintf("dojo step %d", next)))
}
