package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubedojo/dojo/internal/app"
	"github.com/kubedojo/dojo/internal/testutil/redistest"
)

// ---- docs/app.md, "What the producer guarantees": 504 is in doubt ----

// A Redis that stalls after the push was written (SIGSTOP) leaves the
// outcome unknown: the answer is 504 with words saying the items may or may
// not be queued, and indeed they are, once Redis resumes.
func TestPublishToAPausedRedisIsInDoubt(t *testing.T) {
	t.Parallel() // waits on timeouts: overlap them
	s := redistest.Start(t)
	_, srv := newProducer(t, s.Addr, nil)
	if r := do(t, "POST", srv.URL+"/publish"); r.Code != 200 {
		t.Fatalf("POST /publish = %d %s", r.Code, r.Body) // leaves a pooled connection
	}
	resume := pauseRedis(t, s)
	start := time.Now()
	r := do(t, "POST", srv.URL+"/publish/3")
	took := time.Since(start)
	msg, _ := r.JSON["error"].(string)
	if r.Code != http.StatusGatewayTimeout || !strings.Contains(msg, "may or may not have been queued") || !strings.Contains(msg, s.Addr) {
		t.Fatalf("POST /publish/3 to a paused Redis = %d %s, want 504 saying the items may or may not have been queued", r.Code, r.Body)
	}
	first, _ := r.JSON["first_id"].(string)
	last, _ := r.JSON["last_id"].(string)
	if first == "" || last == "" || !strings.Contains(msg, first) {
		t.Fatalf("the 504 does not name the items' ids: %s", r.Body)
	}
	if took > 10*time.Second {
		t.Errorf("the answer took %s", took)
	}
	resume()
	rdb := client(t, s)
	eventually(t, 10*time.Second, "the in-doubt items queued after Redis resumed", func() (bool, string) {
		n := rdb.LLen(context.Background(), "padok").Val()
		return n == 4, fmt.Sprintf("LLEN %d", n)
	})
	items := rdb.LRange(context.Background(), "padok", 1, -1).Val()
	var a, b app.Item
	_ = json.Unmarshal([]byte(items[0]), &a)
	_ = json.Unmarshal([]byte(items[2]), &b)
	if a.ID != first || b.ID != last {
		t.Fatalf("queued %q, the 504 named %s..%s", items, first, last)
	}
	m := do(t, "GET", srv.URL+"/metrics").Body
	for _, want := range []string{"dojo_producer_publish_in_doubt_total 1", "dojo_producer_publish_errors_total 0"} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// The other side of the line: when the connection fails before the push is
// written (here a new connection's handshake to the paused Redis times out),
// the answer is 503 "no item was queued", and none is, after Redis resumes.
func TestPublishThatNeverLeftIsNotQueued(t *testing.T) {
	t.Parallel() // waits on timeouts: overlap them
	s := redistest.Start(t)
	_, srv := newProducer(t, s.Addr, nil) // no connection yet
	resume := pauseRedis(t, s)
	r := do(t, "POST", srv.URL+"/publish/3")
	if msg, _ := r.JSON["error"].(string); r.Code != http.StatusServiceUnavailable || !strings.Contains(msg, "no item was queued") {
		t.Fatalf("POST /publish/3 on a new connection to a paused Redis = %d %s, want 503 saying no item was queued", r.Code, r.Body)
	}
	resume()
	rdb := client(t, s)
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if n := rdb.LLen(context.Background(), "padok").Val(); n != 0 {
		t.Fatalf("%d items queued after a 503", n)
	}
}

// ---- the HTTP server's timeouts (producer and consumer share them) ----

// An idle keep-alive connection and a request that trickles in are both cut
// off; before, both stayed open for as long as the client liked.
func TestServerClosesIdleAndTricklingConnections(t *testing.T) {
	t.Parallel() // waits on timeouts: overlap them
	s := redistest.Start(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- app.RunProducer(ctx, app.ProducerOptions{CommonOptions: app.CommonOptions{
			RedisAddr: s.Addr, Queue: app.DefaultQueue, Listener: l,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		}})
	}()
	t.Cleanup(func() { cancel(); <-done })
	addr := l.Addr().String()

	// closedWithin reads c until the server closes it or limit passes.
	closedWithin := func(c net.Conn, limit time.Duration) (time.Duration, bool) {
		start := time.Now()
		_ = c.SetReadDeadline(start.Add(limit))
		_, err := io.Copy(io.Discard, c)
		// nil at EOF; a reset is a close too (the server closed with
		// unread bytes); the deadline's error means still open.
		return time.Since(start), !errors.Is(err, os.ErrDeadlineExceeded)
	}
	t.Run("idle", func(t *testing.T) {
		t.Parallel()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReader(c)
		res, err := http.ReadResponse(br, nil)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("GET /livez: %v %v", res, err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		// The connection is now idle, kept alive.
		if took, closed := closedWithin(c, 25*time.Second); !closed {
			t.Fatalf("an idle connection was still open after %s", took.Round(time.Second))
		}
	})
	t.Run("trickling", func(t *testing.T) {
		t.Parallel()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /withdraw HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
		stop := make(chan struct{})
		defer close(stop)
		go func() { // one byte a second, never the whole body
			tk := time.NewTicker(time.Second)
			defer tk.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tk.C:
					if _, err := c.Write([]byte(" ")); err != nil {
						return
					}
				}
			}
		}()
		if took, closed := closedWithin(c, 25*time.Second); !closed {
			t.Fatalf("a request trickling in one byte a second was still open after %s", took.Round(time.Second))
		}
	})
}

// ---- /withdraw on a large queue ----

// infoField reads a numeric field of INFO section.
func infoField(t *testing.T, s *redistest.Server, section, field string) int64 {
	t.Helper()
	info, err := client(t, s).Info(context.Background(), section).Result()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + field + `:(\d+)`).FindStringSubmatch(info)
	if m == nil {
		t.Fatalf("no %s in INFO %s", field, section)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// A withdraw names its items to Redis one LREM each and never reads the
// list: with 200 000 items queued, taking back one item sends Redis one
// LREM, brings back a few bytes and allocates little in the producer. The
// old withdraw read the whole list (LRANGE 0 -1): about 14 MB from Redis
// and as much allocated in the producer.
func TestWithdrawFromALargeQueueDoesBoundedWork(t *testing.T) {
	s := redistest.Start(t)
	p, _ := newProducer(t, s.Addr, nil)
	rdb := client(t, s)
	ctx := context.Background()
	old, err := p.Publish(ctx, 100000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Publish(ctx, 100000); err != nil {
		t.Fatal(err)
	}
	newest, err := p.Publish(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}

	withdraw := func(first, last string) (int64, uint64, int64) {
		t.Helper()
		rdb.ConfigResetStat(ctx)
		out := infoField(t, s, "stats", "total_net_output_bytes")
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		n, err := p.Withdraw(ctx, first, last)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatalf("withdraw %s..%s: %v", first, last, err)
		}
		return n, after.TotalAlloc - before.TotalAlloc, infoField(t, s, "stats", "total_net_output_bytes") - out
	}

	n, alloc, sent := withdraw(newest.FirstID, newest.LastID)
	if n != 1 {
		t.Fatalf("withdrew %d of the newest item, want 1", n)
	}
	t.Logf("one item from the tail of 200 001: %d bytes allocated, %d bytes from Redis", alloc, sent)
	if alloc > 256<<10 || sent > 16<<10 {
		t.Errorf("withdrawing 1 item of 200 001 allocated %d bytes in the producer and brought %d bytes from Redis: it read the queue", alloc, sent)
	}
	if lr, lrem := commandCalls(t, s, "lrange"), commandCalls(t, s, "lrem"); lr != 0 || lrem != 1 {
		t.Errorf("Redis ran LRANGE %d and LREM %d times, want 0 and 1", lr, lrem)
	}

	// Items at the head, and a range in the middle, come back as well.
	seq := func(id string) int {
		n, _ := strconv.Atoi(id[strings.LastIndexByte(id, '-')+1:])
		return n
	}
	prefix := old.FirstID[:strings.LastIndexByte(old.FirstID, '-')+1]
	if n, _, _ := withdraw(old.FirstID, old.FirstID); n != 1 {
		t.Fatalf("withdrew %d of the oldest item, want 1", n)
	}
	mid := seq(old.FirstID) + 50000
	n, alloc, sent = withdraw(prefix+strconv.Itoa(mid), prefix+strconv.Itoa(mid+app.MaxWithdraw-1))
	if n != app.MaxWithdraw || alloc > 1<<20 || sent > 64<<10 {
		t.Fatalf("withdrawing %d items from the middle: %d withdrawn, %d bytes allocated, %d bytes from Redis", app.MaxWithdraw, n, alloc, sent)
	}
	if lrem := commandCalls(t, s, "lrem"); lrem != app.MaxWithdraw {
		t.Errorf("Redis ran LREM %d times for %d items", lrem, app.MaxWithdraw)
	}
	if l := rdb.LLen(ctx, "padok").Val(); l != 200000-1-app.MaxWithdraw {
		t.Fatalf("LLEN %d after the withdraws, want %d", l, 200000-1-app.MaxWithdraw)
	}
	// What was removed is exactly what was named.
	gone := map[string]bool{old.FirstID: true, newest.FirstID: true}
	for i := range app.MaxWithdraw {
		gone[prefix+strconv.Itoa(mid+i)] = true
	}
	for _, raw := range rdb.LRange(ctx, "padok", 0, -1).Val() {
		var it app.Item
		if err := json.Unmarshal([]byte(raw), &it); err != nil || gone[it.ID] {
			t.Fatalf("still queued: %s (%v)", raw, err)
		}
	}
}

// One withdraw names at most app.MaxWithdraw items: past that, a 400 that
// says the limit and how to split; ids this producer never gave are a 400.
func TestWithdrawRefusesTooManyItems(t *testing.T) {
	s := redistest.Start(t)
	_, srv := newProducer(t, s.Addr, nil)
	pub := do(t, "POST", srv.URL+"/publish/500")
	if pub.Code != 200 {
		t.Fatalf("publish: %d %s", pub.Code, pub.Body)
	}
	r := post(t, srv.URL+"/withdraw", fmt.Sprintf(`{"first_id":%q,"last_id":%q}`, pub.JSON["first_id"], pub.JSON["last_id"]))
	msg, _ := r.JSON["error"].(string)
	if r.Code != 400 || !strings.Contains(msg, "names 500 items") || !strings.Contains(msg, "at most "+strconv.Itoa(app.MaxWithdraw)) {
		t.Fatalf("withdraw of 500 items = %d %s, want 400 naming the limit %d", r.Code, r.Body, app.MaxWithdraw)
	}
	if n := client(t, s).LLen(context.Background(), "padok").Val(); n != 500 {
		t.Fatalf("a refused withdraw removed items: %d left", n)
	}
	last, _ := pub.JSON["last_id"].(string)
	beyond := last[:strings.LastIndexByte(last, '-')+1] + "999999"
	if r := post(t, srv.URL+"/withdraw", fmt.Sprintf(`{"first_id":%q,"last_id":%q}`, beyond, beyond)); r.Code != 400 || !strings.Contains(r.Body, "999999") {
		t.Fatalf("withdraw of an id never given = %d %s, want 400 naming it", r.Code, r.Body)
	}
}

// ---- memory: the producer holds a bounded number of items ----

// Ten concurrent POST /publish/100000 made the producer's heap grow by
// about 130 MB: each request built all its items before sending them. Now
// a publish holds 32 bytes per item and all of them together at most
// 200 000 items, so twenty concurrent ones leave the heap within 40 MB
// (about 20 MB measured; without the budget, about 70 MB). Requests beyond
// the budget wait their turn (or, past 5 s, are answered 503 "busy":
// nothing queued).
func TestConcurrentLargePublishesStayWithinABoundedHeap(t *testing.T) {
	s := redistest.Start(t)
	_, srv := newProducer(t, s.Addr, nil)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)

	stop := make(chan struct{})
	peak := make(chan uint64, 1)
	go func() {
		var m runtime.MemStats
		var top uint64
		tk := time.NewTicker(2 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				peak <- top
				return
			case <-tk.C:
				runtime.ReadMemStats(&m)
				top = max(top, m.HeapAlloc)
			}
		}
	}()
	var wg sync.WaitGroup
	codes := make([]int, 20)
	bodies := make([]string, 20)
	for i := range codes {
		wg.Go(func() {
			r := do(t, "POST", srv.URL+"/publish/100000")
			codes[i], bodies[i] = r.Code, r.Body
		})
	}
	wg.Wait()
	close(stop)
	grew := int64(<-peak) - int64(base.HeapAlloc)
	ok := 0
	for i, c := range codes {
		switch {
		case c == 200:
			ok++
		case c == 503 && strings.Contains(bodies[i], "busy"):
		default:
			t.Errorf("publish %d: %d %s", i, c, bodies[i])
		}
	}
	t.Logf("twenty concurrent POST /publish/100000: %d answered 200, heap grew by %.1f MB at most", ok, float64(grew)/1e6)
	if grew > 40e6 {
		t.Errorf("the heap grew by %.1f MB with twenty concurrent publishes of 100 000 items, want at most 40 MB", float64(grew)/1e6)
	}
	if ok == 0 {
		t.Fatal("no publish succeeded")
	}
	if n := client(t, s).LLen(context.Background(), "padok").Val(); n != int64(ok)*100000 {
		t.Fatalf("LLEN %d after %d publishes of 100 000", n, ok)
	}
}
