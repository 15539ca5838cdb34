package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/kubedojo/dojo/internal/app"
	"github.com/kubedojo/dojo/internal/testutil/redistest"
)

// The numbers of docs/benchmarks.md, section "Workload":
//
//	go test -run '^$' -bench . -benchtime 20x ./internal/app/

const benchItems = 10000

// BenchmarkPublish10000 is POST /publish/10000 over HTTP (loopback) against
// a real Redis: one RPUSH of 10 000 items.
func BenchmarkPublish10000(b *testing.B) {
	s := redistest.Start(b)
	_, srv := newProducer(b, s.Addr, nil)
	rdb := client(b, s)
	ctx := context.Background()
	url := srv.URL + "/publish/" + strconv.Itoa(benchItems)
	b.ResetTimer()
	for b.Loop() {
		res, err := http.Post(url, "", nil)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("status %d", res.StatusCode)
		}
		b.StopTimer()
		rdb.Del(ctx, "padok")
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/publish")
}

// BenchmarkPublish10000RoundTripBaseline pushes the same 10 000 items the
// naive way: one RPUSH, one round trip, per item (the producer's own Publish
// with n = 1, without the HTTP request, which favours the baseline).
func BenchmarkPublish10000RoundTripBaseline(b *testing.B) {
	s := redistest.Start(b)
	p, _ := newProducer(b, s.Addr, nil)
	rdb := client(b, s)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		for range benchItems {
			if _, err := p.Publish(ctx, 1); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		rdb.Del(ctx, "padok")
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/publish")
}

// BenchmarkConsumerOverhead is one consumer with --work-time 0 draining
// 10 000 items per iteration: the cost of BLMOVE + LREM + bookkeeping.
func BenchmarkConsumerOverhead(b *testing.B) {
	s := redistest.Start(b)
	p, _ := newProducer(b, s.Addr, nil)
	ctx := context.Background()
	c, err := app.NewConsumer(app.ConsumerOptions{
		CommonOptions: app.CommonOptions{RedisAddr: s.Addr, Queue: app.DefaultQueue, Listen: ":0",
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		WorkTime:     0,
		HeartbeatTTL: app.DefaultHeartbeatTTL,
		BlockTimeout: 100 * time.Millisecond,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var consumed time.Duration
	items := 0
	for b.Loop() {
		b.StopTimer()
		if _, err := p.Publish(ctx, benchItems); err != nil {
			b.Fatal(err)
		}
		want := c.Processed() + benchItems
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		b.StartTimer()
		start := time.Now()
		go func() { c.Run(runCtx); close(done) }()
		for c.Processed() < want {
			time.Sleep(time.Millisecond)
		}
		consumed += time.Since(start)
		items += benchItems
		b.StopTimer()
		cancel()
		<-done
		b.StartTimer()
	}
	b.ReportMetric(float64(items)/consumed.Seconds(), "items/s")
	b.ReportMetric(float64(consumed.Microseconds())/float64(items), "µs/item")
}
