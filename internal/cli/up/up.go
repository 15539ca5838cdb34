// Package up is the `dojo up` command.
package up

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/bootstrap"
	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/cluster"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/course"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/helm"
	"github.com/kubedojo/dojo/internal/image"
	"github.com/kubedojo/dojo/internal/state"
	"github.com/kubedojo/dojo/internal/ui"
	"github.com/kubedojo/dojo/internal/versions"
	"github.com/kubedojo/dojo/internal/workshop"
)

// Options are the flags of `dojo up` and what it needs, filled from the
// factory by NewCmd (a test sets its own).
type Options struct {
	Domain      string
	Image       string
	NodeImage   string
	Listen      string
	SkipCluster bool
	ChartRepo   string
	Timings     bool
	Timeout     time.Duration

	IO        *ui.IOStreams
	Getenv    func(string) string
	Version   string
	Cluster   factory.ClusterFlags
	Workspace func() (string, error)
	StateDir  string // per-machine markers (factory.MachineStateDir)
	// Env is the machine and the cluster bootstrap.Up works with.
	Env func() bootstrap.Env
	// Up is bootstrap.Up (a test hands in its own).
	Up func(context.Context, bootstrap.Options, bootstrap.Env) (*bootstrap.Result, error)
	// NextStep is the step to suggest after a successful run.
	NextStep func() int
	// Resolve looks a host name up, for the warning when the domain's
	// names do not reach this machine (net.DefaultResolver.LookupHost; a
	// test hands in its own; nil skips the warning).
	Resolve func(ctx context.Context, host string) ([]string, error)
	// State is the workspace's progress, where the domain is recorded for
	// the texts (nil records nothing).
	State func() (*state.Store, error)
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
It always talks to kind-<name> (or --context), never to whatever your
kubeconfig's current context is; kind makes kind-<name> current when it
creates the cluster, as kind create cluster does.

Ports 80 and 443 are published on 127.0.0.1 only, so nobody else on your
network reaches your cluster; --listen-address opens them wider.

Install onto a cluster of your own instead with --context (its kubeconfig
with --kubeconfig), or onto an existing kind-<name> with --skip-cluster.`,
		Example: `  dojo up
  dojo up --domain localhost        # where *.vcap.me does not resolve
  dojo up --timings                 # where the time goes
  dojo up --context my-cluster --kubeconfig ./lab.kubeconfig`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO, opts.Getenv, opts.Version, opts.Workspace = f.IO, f.Getenv, f.Build.Version, f.Workspace
			opts.StateDir = f.MachineStateDir()
			opts.Cluster = f.Cluster
			opts.Cluster.Name = f.ClusterName()
			opts.Env = func() bootstrap.Env {
				return bootstrap.Env{Preflight: f.Machine(), Access: f.Access, Embedded: f.Embedded,
					WorkspaceSrc: embedded.Workspace(), SelfImage: image.SelfImage, SelfKey: image.SelfKey}
			}
			opts.Up = bootstrap.Up
			opts.NextStep = func() int { return nextStep(f) }
			opts.Resolve = net.DefaultResolver.LookupHost
			opts.State = f.State
			return Run(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	f.AddClusterFlags(fl)
	fl.StringVar(&opts.Domain, "domain", workshop.Domain, "the producer answers on producer.<domain>; the steps, hints and solutions show this domain")
	fl.StringVar(&opts.Image, "image", "", "the app image (repository:tag) instead of this dojo's")
	fl.StringVar(&opts.NodeImage, "node-image", "", "kind node image for a new cluster, e.g. kindest/node:v1.36.4 for another Kubernetes (default "+versions.NodeImage+")")
	fl.StringVar(&opts.Listen, "listen-address", cluster.DefaultListenAddress, "host address a new cluster publishes ports 80 and 443 on; the default keeps them on this machine, 0.0.0.0 opens them to every network you are on")
	fl.BoolVar(&opts.SkipCluster, "skip-cluster", false, "install onto the existing cluster of the context (kind-<name> or --context) instead of creating one")
	fl.StringVar(&opts.ChartRepo, "chart-repo", "", "chart repository for Traefik instead of its pinned one (env "+helm.ChartRepoEnv+")")
	fl.BoolVar(&opts.Timings, "timings", false, "print how long each phase took")
	fl.DurationVar(&opts.Timeout, "timeout", 10*time.Minute, "give up after this long")
	return cmd
}

// Run brings the workshop up.
func Run(ctx context.Context, opts *Options) error {
	if opts.Timeout <= 0 {
		return cmdutil.Usagef("--timeout must be positive, got %s", opts.Timeout)
	}
	if opts.NodeImage != "" {
		if _, err := name.ParseReference(opts.NodeImage); err != nil {
			return cmdutil.Usagef("--node-image %q is not an image reference (%v): give repository:tag or repository@sha256:digest, e.g. %s", opts.NodeImage, err, versions.NodeImage)
		}
		if opts.existing() {
			return cmdutil.Usagef("--node-image %s chooses the image of a cluster dojo up creates; with --skip-cluster or --context dojo up creates none: drop one of them", opts.NodeImage)
		}
	}
	if err := checkListen(opts); err != nil {
		return err
	}
	ws, err := opts.Workspace()
	if err != nil {
		return err
	}
	chartRepo := opts.ChartRepo
	if chartRepo == "" {
		chartRepo = opts.Getenv(helm.ChartRepoEnv)
	}
	if opts.Listen != "" && !cluster.IsLoopback(opts.Listen) {
		fmt.Fprintf(opts.IO.ErrOut, "warning: ports 80 and 443 of cluster %s will listen on %s: anyone who can reach that address (everyone on this Wi-Fi, for 0.0.0.0) can publish to your producer and read your Prometheus\n", opts.Cluster.Name, opts.Listen)
	}
	warnDomain(ctx, opts)
	pr := ui.NewProgress(opts.IO)
	defer pr.Close()
	env := opts.Env()
	env.Progress = pr
	res, err := opts.Up(ctx, bootstrap.Options{
		Name:          opts.Cluster.Name,
		Domain:        opts.Domain,
		Image:         opts.Image,
		NodeImage:     opts.NodeImage,
		ListenAddress: opts.Listen,
		Existing:      opts.existing(),
		Timeout:       opts.Timeout,
		ChartRepo:     chartRepo,
		Workspace:     ws,
		Version:       opts.Version,
		StateDir:      opts.StateDir,
	}, env)
	if opts.Timings {
		PrintTimings(opts.IO.ErrOut, pr.Timings())
	}
	recordDomain(opts, res)
	if err != nil {
		// What is up already, before the error says what is not.
		if res != nil && len(res.Releases) > 0 {
			var up []string
			for _, r := range res.Releases {
				up = append(up, fmt.Sprintf("%s %s", r.Release, r.Action))
			}
			fmt.Fprintf(opts.IO.ErrOut, "up: %s\n", strings.Join(up, ", "))
		}
		return err
	}
	PrintNext(opts.IO.Out, opts.IO.Styles(), res, opts.NextStep())
	return nil
}

// warnDomain says in one line when producer.<domain> or
// prometheus.<domain> does not resolve to this machine (dojo doctor's
// check), and what to do.
func warnDomain(ctx context.Context, opts *Options) {
	if opts.Resolve == nil {
		return
	}
	d := cmp.Or(opts.Domain, workshop.Domain)
	r := cluster.ResolvesHere(ctx, opts.Resolve, "producer."+d, "prometheus."+d)
	if r.Status != check.Pass {
		fmt.Fprintf(opts.IO.ErrOut, "warning: %s, so the workshop's addresses will not reach this machine: %s\n", r.Observed, r.Next)
	}
}

// recordDomain keeps the domain the producer was installed with in the
// workspace's progress, where dojo step, hint and solution read it.
func recordDomain(opts *Options, res *bootstrap.Result) {
	if opts.State == nil || res == nil || !slices.ContainsFunc(res.Releases, func(r helm.Result) bool { return r.Release == workshop.ProducerRelease }) {
		return
	}
	d := cmp.Or(res.Domain, opts.Domain, workshop.Domain)
	store, err := opts.State()
	if err == nil {
		_, err = store.Update(func(st *state.State) error {
			st.Domain = d
			return nil
		})
	}
	if err != nil {
		fmt.Fprintf(opts.IO.ErrOut, "warning: the domain %s is not recorded in the workspace (%v): dojo step, hint and solution may show the host names of another domain\n", d, err)
	}
}

// existing says dojo up installs onto a cluster it does not create
// (--skip-cluster or --context), where the flags that shape a new cluster
// mean nothing.
func (opts *Options) existing() bool { return opts.SkipCluster || opts.Cluster.Context != "" }

// checkListen refuses a --listen-address that is no IP address, and one
// given where dojo up creates no cluster.
func checkListen(opts *Options) error {
	if opts.Listen == "" || opts.Listen == cluster.DefaultListenAddress {
		return nil
	}
	if net.ParseIP(opts.Listen) == nil {
		return cmdutil.Usagef("--listen-address %q is not an IP address: give one of this machine's addresses, e.g. %s (the default, this machine only) or 0.0.0.0 (every network)", opts.Listen, cluster.DefaultListenAddress)
	}
	if opts.existing() {
		return cmdutil.Usagef("--listen-address %s chooses where a cluster dojo up creates publishes its ports; with --skip-cluster or --context dojo up creates none: drop one of them", opts.Listen)
	}
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
