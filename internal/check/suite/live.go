package suite

import (
	"context"
	"fmt"
	"time"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/check/judge"
	"github.com/kubedojo/dojo/internal/check/probe"
	"github.com/kubedojo/dojo/internal/workshop"
)

// The live criteria publish a small batch through the producer, watch the
// cluster react within a bound, and take back whatever of their batch still
// waits when they end, so that no check leaves items behind.

func publish(ctx context.Context, w *probe.World, n int) (probe.Published, error) {
	return probe.Publish(ctx, w, workshop.AppNamespace, workshop.ProducerService, workshop.ProducerPort, n)
}

// takeBack withdraws what still waits of p, on a context of its own (the
// check's may be cancelled: Ctrl-C must still clean up).
func takeBack(ctx context.Context, w *probe.World, p probe.Published) (int64, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return probe.Withdraw(ctx, w, workshop.AppNamespace, workshop.ProducerService, workshop.ProducerPort, p)
}

// poll calls fn every interval until it returns true, ctx ends or bound
// passes; it returns how long it waited and whether fn said done.
func poll(ctx context.Context, bound, interval time.Duration, fn func(context.Context) bool) (time.Duration, bool) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if fn(ctx) {
			return time.Since(start), true
		}
		select {
		case <-ctx.Done():
			return time.Since(start), false
		case <-t.C:
		}
	}
}

// drains publishes n items and waits for the queue to be empty again.
func drains(ctx context.Context, w *probe.World, o Options, f *facts, n int) check.Result {
	before := probe.Queue(ctx, w, workshop.AppNamespace, workshop.ProducerService, workshop.ProducerPort)
	if before.Err != nil {
		return judge.QueueEmpty(before)
	}
	ready := max(f.consumer.Ready, 1)
	bound := min(o.LiveBound, max(15*time.Second, time.Duration(before.Length+int64(n))*1500*time.Millisecond/time.Duration(ready)+10*time.Second))
	if f.consumer.Ready == 0 {
		bound = o.LiveBound // the HPA must wake a consumer first (step 10)
	}
	p, err := publish(ctx, w, n)
	if err != nil {
		return publishFailed(err)
	}
	o.Say("step-3/queue-drains: published %d items (%d were waiting); waiting up to %s for the consumer to process them", n, before.Length, bound.Round(time.Second))
	var q judge.Queue
	waited, _ := poll(ctx, bound, 500*time.Millisecond, func(ctx context.Context) bool {
		q = probe.Queue(ctx, w, workshop.AppNamespace, workshop.ProducerService, workshop.ProducerPort)
		return q.Err == nil && q.Length == 0
	})
	r := judge.QueueDrains(n, waited.Round(100*time.Millisecond).String(), q)
	if r.Status != check.Pass {
		r.Observed += withdrawn(ctx, w, p)
	}
	return r
}

func publishFailed(err error) check.Result {
	return judge.HTTPOK(judge.HTTPAnswer{URL: "POST /publish", Via: "the service proxy", Err: err}, "the producer accepts items", "kubectl logs deploy/producer")
}

func withdrawn(ctx context.Context, w *probe.World, p probe.Published) string {
	k, err := takeBack(ctx, w, p)
	if err != nil {
		return fmt.Sprintf("; the check could not take back its items (%v)", err)
	}
	return fmt.Sprintf("; the check took back %d of its %d item(s)", k, p.N)
}

// followsBatch is what follows-queue publishes: three consumers' worth.
const followsBatch = 3 * workshop.TargetAverage

// follows publishes three consumers' worth of items and waits for the HPA
// to ask for more than one consumer.
func follows(ctx context.Context, w *probe.World, o Options) check.Result {
	// The HPA must ask for more than it did before the batch (and for at
	// least two): a count that was already high proves nothing.
	before := probe.HPA(ctx, w, workshop.AppNamespace, workshop.ConsumerRelease)
	want := int32(2)
	if before.Found {
		want = min(max(want, before.Object.Status.DesiredReplicas+1), before.Object.Spec.MaxReplicas)
	}
	p, err := publish(ctx, w, followsBatch)
	if err != nil {
		return publishFailed(err)
	}
	o.Say("step-9/follows-queue: published %d items; waiting up to %s for the HPA to ask for more consumers (one scrape, one rule evaluation and one HPA sync)", followsBatch, o.LiveBound)
	var seen int32
	waited, _ := poll(ctx, o.LiveBound, time.Second, func(ctx context.Context) bool {
		h := probe.HPA(ctx, w, workshop.AppNamespace, workshop.ConsumerRelease)
		if h.Found {
			seen = max(seen, h.Object.Status.DesiredReplicas)
		}
		return seen >= want
	})
	r := judge.FollowsQueue(followsBatch, seen, want, waited)
	r.Observed += withdrawn(ctx, w, p)
	return r
}

// wakes publishes a few items to a consumer at zero and waits for the HPA
// to bring it back.
func wakes(ctx context.Context, w *probe.World, o Options) check.Result {
	const n = 5
	p, err := publish(ctx, w, n)
	if err != nil {
		return publishFailed(err)
	}
	o.Say("step-10/wakes-up: published %d items; waiting up to %s for the HPA to start a consumer", n, o.LiveBound)
	var replicas int32
	waited, _ := poll(ctx, o.LiveBound, time.Second, func(ctx context.Context) bool {
		d := probe.Deployment(ctx, w, workshop.AppNamespace, workshop.ConsumerRelease)
		replicas = d.Desired
		return d.Found && d.Desired > 0
	})
	r := judge.WakesUp(n, replicas, waited)
	if r.Status != check.Pass {
		r.Observed += withdrawn(ctx, w, p)
	}
	return r
}
