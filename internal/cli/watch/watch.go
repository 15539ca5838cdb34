// Package watch is the `dojo watch` command.
package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/diagnose"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/prom"
	"github.com/kubedojo/dojo/internal/ui"
	"github.com/kubedojo/dojo/internal/watch"
	"github.com/kubedojo/dojo/internal/workshop"
)

// Options are the flags of `dojo watch` and what it needs.
type Options struct {
	Record        string
	For           time.Duration
	PrometheusURL string

	IO *ui.IOStreams
	// Cluster is the Kubernetes side and Prometheus (nil Querier when it
	// cannot be reached, with the reason).
	Cluster func() (kubernetes.Interface, watch.Querier, error, error)
	Clock   watch.Clock
}

// NewCmd builds `dojo watch`.
func NewCmd(f *factory.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Watch autoscaling happen: queue, metric, replicas and the HPA's events, live",
		Long: `Follow the workshop's autoscaling live: the queue's length and
redis_items_in_queue from Prometheus, the HPA's desired replicas and the
Deployment consumer's ready ones from the Kubernetes API (watched, not
polled), and the HPA's events and condition changes, with the controller's
sync period and downscale stabilization window. On a terminal it draws a
chart that follows the window's size (q quits); otherwise it prints one line
a second.

--record FILE writes everything seen as JSON lines, each line as it comes, so
that even a killed watch leaves a recording; dojo plot FILE charts it.`,
		Example: `  dojo watch
  dojo watch --record session.jsonl --for 3m
  dojo load burst 200   # in another terminal`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO, opts.Clock = f.IO, watch.RealClock{}
			opts.Cluster = func() (kubernetes.Interface, watch.Querier, error, error) {
				a, err := f.Access()
				if err != nil {
					return nil, nil, nil, err
				}
				cs, err := a.Clientset()
				if err != nil {
					return nil, nil, nil, err
				}
				if opts.PrometheusURL != "" {
					c, err := prom.URL(opts.PrometheusURL)
					return cs, c, nil, err
				}
				cfg, err := a.ToRESTConfig()
				if err != nil {
					return nil, nil, nil, err
				}
				c, perr := prom.ServiceProxy(cfg, workshop.PrometheusNamespace, workshop.PrometheusName, workshop.PrometheusPort)
				if perr != nil {
					return cs, nil, perr, nil
				}
				return cs, c, nil, nil
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Record, "record", "", "write what is seen to FILE as JSON lines (for dojo plot)")
	cmd.Flags().DurationVar(&opts.For, "for", 0, "stop after this long (e.g. 150s); 0 watches until q or Ctrl-C")
	cmd.Flags().StringVar(&opts.PrometheusURL, "prometheus-url", "", "reach Prometheus at this URL instead of through the API server's service proxy")
	f.AddClusterFlags(cmd.Flags())
	return cmd
}

// Run watches until --for, q, Ctrl-C or SIGTERM.
func Run(ctx context.Context, opts *Options) error {
	if opts.For < 0 {
		return cmdutil.Usagef("--for %s is negative: give a duration such as 150s, or 0 to watch until q", opts.For)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	cs, pq, perr, err := opts.Cluster()
	if err != nil {
		return err
	}
	ns, name := workshop.AppNamespace, workshop.ConsumerRelease
	facts, err := diagnose.Read(ctx, cs, ns, name)
	if err != nil {
		return err
	}
	rep := diagnose.Explain(facts)
	header := watch.Header{Started: opts.Clock.Now(), HPA: ns + "/" + name, SyncPeriod: rep.Controller.SyncPeriod, DownscaleStabilization: rep.Controller.DownscaleStabilization}
	if perr != nil {
		opts.IO.Warn("Prometheus cannot be reached (" + perr.Error() + "): no queue and no metric, only the HPA and the Deployment")
	}
	var rec *watch.Recorder
	if opts.Record != "" {
		f, err := os.OpenFile(opts.Record, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			return cmdutil.Usagef("--record %s exists: dojo watch does not overwrite a recording; name a new file or remove it", opts.Record)
		}
		if err != nil {
			return err
		}
		defer f.Close()
		rec = watch.NewRecorder(f)
		rec.Header(header)
	}
	if opts.For > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.For)
		defer cancel()
	}
	src := watch.Sources{Kube: cs, Prometheus: pq, Namespace: ns, HPA: name, Deployment: name,
		Queries: watch.Queries{Queue: "redis_key_size" + workshop.QueueSelector, Metric: workshop.RecordedMetric + `{namespace="` + ns + `",key="` + workshop.Queue + `"}`}}
	if opts.IO.IsStdoutTTY() {
		err = tui(ctx, opts, src, header, facts.HPA.Spec.MaxReplicas, rec)
	} else {
		err = plain(ctx, opts.IO.Out, opts, src, rec)
	}
	if rec != nil {
		if rerr := rec.Err(); rerr != nil && err == nil {
			err = fmt.Errorf("writing %s: %w", opts.Record, rerr)
		}
		fmt.Fprintf(opts.IO.ErrOut, "recorded in %s: dojo plot %s --out chart.png\n", opts.Record, opts.Record)
	}
	return err
}

func plain(ctx context.Context, out io.Writer, opts *Options, src watch.Sources, rec *watch.Recorder) error {
	return watch.Watch(ctx, src, opts.Clock, func(s watch.Sample) {
		rec.Sample(s)
		fmt.Fprintln(out, watch.Plain(s))
	}, func(e watch.Event) {
		rec.Event(e)
		fmt.Fprintln(out, watch.PlainEvent(e))
	})
}

func tui(ctx context.Context, opts *Options, src watch.Sources, h watch.Header, maxReplicas int32, rec *watch.Recorder) error {
	m := watch.Model{Header: h, MaxReplicas: maxReplicas, Styles: opts.IO.Styles()}
	msgs := make(chan any)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	var werr error
	send := func(msg any) {
		select {
		case msgs <- msg:
		case <-ctx.Done():
		}
	}
	go func() {
		defer wg.Done()
		werr = watch.Watch(ctx, src, opts.Clock, func(s watch.Sample) {
			rec.Sample(s)
			send(watch.SampleMsg(s))
		}, func(e watch.Event) {
			rec.Event(e)
			send(watch.EventMsg(e))
		})
		send(watch.DoneMsg{Err: werr})
	}()
	screen := ui.Screen{In: opts.IO.In, Out: opts.IO.Out, Width: opts.IO.Width(), Height: 24}
	screen.Run(ctx, m, msgs)
	cancel()
	wg.Wait()
	return werr
}
