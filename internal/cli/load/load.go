// Package load is the `dojo load` command.
package load

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/load"
	"github.com/kubedojo/dojo/internal/ui"
	"github.com/kubedojo/dojo/internal/workshop"
)

// errInterrupted is a run stopped by Ctrl-C, after printing what it sent.
var errInterrupted = errors.New("interrupted")

// Options are the arguments and flags of `dojo load`.
type Options struct {
	Args        []string
	For         time.Duration
	Timeout     time.Duration
	IngressAddr string

	IO    *ui.IOStreams
	Kube  func() (kubernetes.Interface, error)
	Clock load.Clock
	// Connect reaches the producer (load.Connect unless a test sets it).
	Connect func(ctx context.Context, cs kubernetes.Interface, addr string) (load.Publisher, string, error)
}

// NewCmd builds `dojo load`.
func NewCmd(f *factory.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "load burst N | rate R --for D | ramp R1..R2 --for D | drain",
		Short: "Publish items through the producer on a plan, or wait for the queue to drain",
		Long: `Publish items to the queue through the producer, as curl does in the steps:
through its Ingress (this machine's port 80) when it answers, else through
the API server's proxy to the Service producer.

  burst N              N items at once
  rate R --for D       R items per second for D (e.g. 20 --for 10s: 200 items)
  ramp R1..R2 --for D  from R1 to R2 items per second over D
  drain                wait until the queue is empty, showing how fast it drains

Progress goes to stderr, the summary to stdout. Ctrl-C stops and says what
was sent. A request the producer refuses (HTTP 4xx) stops the run; five
failed requests in a row do too. A request that queued nothing (HTTP 503,
or no connection) is sent again at the next tick; one whose outcome is
unknown (HTTP 504, or an answer that never came) is not, since its items
may be queued already: the summary counts them as "in doubt". Watch the
effect with dojo watch.`,
		Example: `  dojo load burst 200
  dojo load rate 20 --for 10s
  dojo load ramp 5..50 --for 1m
  dojo load drain`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args, opts.IO, opts.Clock = args, f.IO, load.RealClock{}
			if opts.IngressAddr == "" {
				opts.IngressAddr = f.Getenv("DOJO_INGRESS_ADDR")
			}
			opts.Kube = func() (kubernetes.Interface, error) {
				a, err := f.Access()
				if err != nil {
					return nil, err
				}
				return a.Clientset()
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().DurationVar(&opts.For, "for", 0, "how long a rate or a ramp lasts (e.g. 30s, 2m)")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 10*time.Minute, "how long drain waits for an empty queue")
	cmd.Flags().StringVar(&opts.IngressAddr, "ingress-addr", "", "where this machine's port 80 is (default 127.0.0.1:80, or DOJO_INGRESS_ADDR)")
	f.AddClusterFlags(cmd.Flags())
	return cmd
}

func connect(ctx context.Context, cs kubernetes.Interface, addr string) (load.Publisher, string, error) {
	p, err := load.Connect(ctx, cs, workshop.AppNamespace, workshop.ProducerService, workshop.ProducerPort, addr)
	if err != nil {
		return nil, "", err
	}
	return p, p.FellBack(), nil
}

// Run parses the plan, reaches the producer and carries the plan out.
func Run(ctx context.Context, opts *Options) error {
	plan, err := load.ParsePlan(opts.Args, opts.For)
	if err != nil {
		var ue *load.UsageError
		if errors.As(err, &ue) {
			return cmdutil.Usagef("%s", ue.Msg)
		}
		return err
	}
	if opts.Timeout <= 0 {
		return cmdutil.Usagef("--timeout %s is not a duration above 0: e.g. --timeout 5m", opts.Timeout)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	cs, err := opts.Kube()
	if err != nil {
		return err
	}
	if opts.Connect == nil {
		opts.Connect = connect
	}
	p, fellBack, err := opts.Connect(ctx, cs, opts.IngressAddr)
	if err != nil {
		return err
	}
	progress := ui.NewProgress(opts.IO)
	defer progress.Close()
	if fellBack != "" {
		progress.Warn(fellBack + ": publishing through the API server's proxy instead")
	}
	if plan.Kind == load.Drain {
		return drain(ctx, opts, p, progress)
	}
	task := progress.Start(fmt.Sprintf("publishing %s through %s", plan, p.Via()))
	var last time.Time
	r, err := load.Publish(ctx, p, plan, opts.Clock, func(r load.Result) {
		if now := opts.Clock.Now(); now.Sub(last) >= time.Second || r.Sent == r.Target {
			last = now
			task.Status(fmt.Sprintf("%d of %d items sent", r.Sent, r.Target))
		}
	})
	task.Done(err)
	for _, f := range r.Failures {
		progress.Warn("a request failed " + f)
	}
	fmt.Fprintf(opts.IO.Out, "sent %d of %d items in %s (%d requests) through %s\n", r.Sent, r.Target, r.Elapsed.Round(10*time.Millisecond), r.Batches, p.Via())
	if r.InDoubt > 0 {
		noun := "items"
		if r.InDoubt == 1 {
			noun = "item"
		}
		fmt.Fprintf(opts.IO.Out, "%d %s in doubt: the producer could not tell whether Redis queued them (HTTP 504, or the answer was lost), so they were not sent again; dojo load drain shows what waits\n", r.InDoubt, noun)
	}
	switch {
	case err != nil:
		return err
	case r.Stopped:
		return fmt.Errorf("%w: stopped after %d of %d items", errInterrupted, r.Sent, r.Target)
	}
	return nil
}

func drain(ctx context.Context, opts *Options, p load.Publisher, progress *ui.Progress) error {
	task := progress.Start("waiting for the queue to drain")
	d, err := load.WaitDrained(ctx, p, opts.Clock, opts.Timeout, func(n int64, perSecond float64) {
		task.Status(fmt.Sprintf("%d items waiting, draining at %.1f items/s", n, perSecond))
	})
	task.Done(err)
	if err != nil {
		return err
	}
	if d.Stopped {
		fmt.Fprintf(opts.IO.Out, "stopped: %d items still waiting (%d at the start, %s ago)\n", d.End, d.Start, d.Elapsed.Round(time.Second))
		return fmt.Errorf("%w: the queue still holds %d items", errInterrupted, d.End)
	}
	fmt.Fprintf(opts.IO.Out, "the queue is empty: %d items drained in %s (%.1f items/s)\n", d.Start, d.Elapsed.Round(time.Second), d.Rate)
	return nil
}
