package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"runtime"
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

// BenchmarkWithdrawOne is the producer's Withdraw of one item (in process,
// against a real Redis) with a queue of 10^3, 10^5 and 10^6 items ahead of
// it (docs/benchmarks.md, "/withdraw and large queues"):
//
//	go test -run '^$' -bench WithdrawOne -benchtime 200x ./internal/app/
//
// "newest" withdraws an item just published (the case of dojo check);
// "gone" one that is no longer queued, which makes Redis walk the whole
// list. Besides time, it reports what a withdraw allocates (B/op) and how
// far the producer's heap rose above where it stood before the withdraws
// (heap-rise-KB, sampled after each).
func BenchmarkWithdrawOne(b *testing.B) {
	for _, length := range []int{1e3, 1e5, 1e6} {
		s := redistest.Start(b)
		p, _ := newProducer(b, s.Addr, nil)
		rdb := client(b, s)
		ctx := context.Background()
		for left := length; left > 0; left -= app.MaxPublish {
			if _, err := p.Publish(ctx, min(left, app.MaxPublish)); err != nil {
				b.Fatal(err)
			}
		}
		for _, c := range []string{"newest", "gone"} {
			b.Run(fmt.Sprintf("queue=%d/%s", length, c), func(b *testing.B) {
				b.ReportAllocs()
				var m runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&m)
				base, top := m.HeapInuse, m.HeapInuse
				for b.Loop() {
					b.StopTimer()
					res, err := p.Publish(ctx, 1)
					if err != nil {
						b.Fatal(err)
					}
					want := int64(1)
					if c == "gone" { // a consumer took it
						rdb.RPop(ctx, "padok")
						want = 0
					}
					b.StartTimer()
					n, err := p.Withdraw(ctx, res.FirstID, res.LastID)
					b.StopTimer()
					if err != nil || n != want {
						b.Fatalf("withdrew %d, %v; want %d", n, err, want)
					}
					runtime.ReadMemStats(&m)
					top = max(top, m.HeapInuse)
					b.StartTimer()
				}
				b.StopTimer()
				if l := rdb.LLen(ctx, "padok").Val(); l != int64(length) {
					b.Fatalf("LLEN %d, want %d", l, length)
				}
				b.ReportMetric(float64(top-base)/1024, "heap-rise-KB")
			})
		}
	}
}

// BenchmarkWithdrawOneProducerRSS is the same withdraw over HTTP against
// `dojo app producer` running as its own process (this test binary
// re-executed), as in the cluster, to read the producer's resident memory:
// rss-MB is its VmRSS after the withdraws, anon-MB the part of it that is
// the process's own memory (heap and stacks; the rest is the executable's
// pages, and this test binary is larger than dojo), peak-rss-MB its VmHWM
// (the most it ever held, start included). The queue is filled straight into Redis
// with items shaped like the producer's, so the producer's memory owes
// nothing to the filling.
//
//	go test -run '^$' -bench WithdrawOneProducerRSS -benchtime 20x ./internal/app/
func BenchmarkWithdrawOneProducerRSS(b *testing.B) {
	for _, length := range []int{1e3, 1e5, 1e6} {
		b.Run(fmt.Sprintf("queue=%d", length), func(b *testing.B) {
			s := redistest.Start(b)
			rdb := client(b, s)
			ctx := context.Background()
			batch := make([]any, 0, 10000)
			for i := range length {
				batch = append(batch, fmt.Sprintf(`{"id":"f1e2d3-%d","created":"2026-12-01T10:00:00.123456789Z"}`, i+1))
				if len(batch) == cap(batch) || i == length-1 {
					if err := rdb.RPush(ctx, "padok", batch...).Err(); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			addr := freeAddr(b)
			proc := startDojo(b, "app", "producer", "--redis-addr", s.Addr, "--listen", addr)
			base := "http://" + addr
			eventually(b, 10*time.Second, "the producer serving", func() (bool, string) {
				res, err := http.Get(base + "/livez")
				if err != nil {
					return false, err.Error()
				}
				res.Body.Close()
				return res.StatusCode == 200, res.Status
			})
			for b.Loop() {
				b.StopTimer()
				pub := do(b, "POST", base+"/publish")
				if pub.Code != 200 {
					b.Fatalf("publish: %d %s", pub.Code, pub.Body)
				}
				body := fmt.Sprintf(`{"first_id":%q,"last_id":%q}`, pub.JSON["first_id"], pub.JSON["last_id"])
				b.StartTimer()
				w := post(b, base+"/withdraw", body)
				b.StopTimer()
				if w.Code != 200 || w.JSON["withdrawn"] != 1.0 {
					b.Fatalf("withdraw: %d %s", w.Code, w.Body)
				}
				b.StartTimer()
			}
			b.StopTimer()
			status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", proc.cmd.Process.Pid))
			if err != nil {
				b.Fatal(err)
			}
			if l := rdb.LLen(ctx, "padok").Val(); l != int64(length) {
				b.Fatalf("LLEN %d, want %d", l, length)
			}
			for _, f := range []struct{ field, unit string }{{"VmRSS", "rss-MB"}, {"RssAnon", "anon-MB"}, {"VmHWM", "peak-rss-MB"}} {
				m := regexp.MustCompile(f.field + `:\s+(\d+) kB`).FindSubmatch(status)
				if m == nil {
					b.Fatalf("no %s in the producer's status", f.field)
				}
				kb, _ := strconv.Atoi(string(m[1]))
				b.ReportMetric(float64(kb)/1024, f.unit)
			}
		})
	}
}
