package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kubedojo/dojo/internal/app"
	"github.com/kubedojo/dojo/internal/testutil/redistest"
)

// leftovers lists the processing lists that still hold items.
func leftovers(t testing.TB, s *redistest.Server) map[string]int64 {
	t.Helper()
	rdb := client(t, s)
	ctx := context.Background()
	keys := rdb.Keys(ctx, "padok:processing:*").Val()
	out := map[string]int64{}
	for _, k := range keys {
		if n := rdb.LLen(ctx, k).Val(); n > 0 {
			out[k] = n
		}
	}
	return out
}

func TestThreeConsumersDrain300ExactlyOnce(t *testing.T) {
	s := redistest.Start(t)
	p, _ := newProducer(t, s.Addr, nil)
	book := newLogBook()
	cs := []*app.Consumer{
		runConsumer(t, s.Addr, book.logger(), nil),
		runConsumer(t, s.Addr, book.logger(), nil),
		runConsumer(t, s.Addr, book.logger(), nil),
	}
	// Publish once all three are registered, so each can take a share even
	// on a busy machine.
	rdb := client(t, s)
	eventually(t, 10*time.Second, "3 consumers registered", func() (bool, string) {
		n := rdb.SCard(context.Background(), "padok:consumers").Val()
		return n == 3, fmt.Sprintf("%d registered", n)
	})
	for range 3 {
		if _, err := p.Publish(context.Background(), 100); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 20*time.Second, "300 items done", func() (bool, string) {
		d, total := book.doneCount()
		return total >= 300, fmt.Sprintf("%d done (%d distinct)", total, d)
	})
	eventually(t, 5*time.Second, "queue and processing lists empty", func() (bool, string) {
		n := rdb.LLen(context.Background(), "padok").Val()
		l := leftovers(t, s)
		return n == 0 && len(l) == 0, fmt.Sprintf("padok %d, processing %v", n, l)
	})
	book.mu.Lock()
	defer book.mu.Unlock()
	if len(book.done) != 300 {
		t.Fatalf("%d distinct items done, want 300", len(book.done))
	}
	for id, n := range book.done {
		if n != 1 || book.arrived[id] != 1 {
			t.Errorf("item %s arrived %d times and was done %d times, want once", id, book.arrived[id], n)
		}
	}
	for i, c := range cs {
		if c.Processed() == 0 {
			t.Errorf("consumer %d took no item: the work is not shared", i)
		}
	}
}

func TestConcurrentRecoveryMovesEachItemOnce(t *testing.T) {
	s := redistest.Start(t)
	rdb := client(t, s)
	ctx := context.Background()
	// A dead consumer: in the set, items in its processing list, no heartbeat.
	rdb.SAdd(ctx, "padok:consumers", "dead", "alive")
	rdb.RPush(ctx, "padok:processing:dead", "d1", "d2", "d3")
	// A live one: its heartbeat exists, so its item must stay.
	rdb.RPush(ctx, "padok:processing:alive", "a1")
	rdb.Set(ctx, "padok:heartbeat:alive", "now", time.Minute)
	rdb.RPush(ctx, "padok", "q1")

	var recs []*app.Consumer
	for i := range 8 {
		c, err := app.NewConsumer(app.ConsumerOptions{
			CommonOptions: app.CommonOptions{RedisAddr: s.Addr, Queue: "padok", Listen: ":0", Logger: newLogBook().logger()},
			HeartbeatTTL:  time.Second, ID: fmt.Sprintf("rec%d", i),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		recs = append(recs, c)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var total int64
	for _, c := range recs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := c.RecoverDead(ctx)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total != 3 {
		t.Fatalf("8 concurrent recoveries moved %d items in all, want 3", total)
	}
	if got := rdb.LRange(ctx, "padok", 0, -1).Val(); strings.Join(got, ",") != "d1,d2,d3,q1" {
		t.Fatalf("padok = %v, want the recovered items first, oldest first: d1,d2,d3,q1", got)
	}
	if got := rdb.LRange(ctx, "padok:processing:alive", 0, -1).Val(); len(got) != 1 {
		t.Fatalf("the live consumer's item was moved: %v", got)
	}
	if members := rdb.SMembers(ctx, "padok:consumers").Val(); strings.Contains(strings.Join(members, ","), "dead") {
		t.Fatalf("the dead consumer is still in the set: %v", members)
	}
}

func TestConsumerHealthAndMetrics(t *testing.T) {
	s := redistest.Start(t)
	p, _ := newProducer(t, s.Addr, nil)
	c := runConsumer(t, s.Addr, newLogBook().logger(), nil)
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)

	if _, err := p.Publish(context.Background(), 5); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "5 items done", func() (bool, string) {
		return c.Processed() == 5, fmt.Sprint(c.Processed())
	})
	r := do(t, "GET", srv.URL+"/healthz")
	if r.Code != 200 || r.JSON["consumer"] != c.ID() || r.JSON["in_flight"] != 0.0 {
		t.Fatalf("/healthz = %d %s", r.Code, r.Body)
	}
	m := do(t, "GET", srv.URL+"/metrics").Body
	for _, want := range []string{
		"dojo_consumer_items_consumed_total 5",
		"dojo_consumer_items_in_flight 0",
		"dojo_consumer_processing_seconds_count 5",
		"dojo_consumer_items_recovered_total 0",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	for _, bad := range []struct {
		method, path string
		code         int
	}{{"POST", "/healthz", 405}, {"DELETE", "/metrics", 405}, {"GET", "/publish", 404}} {
		if r := do(t, bad.method, srv.URL+bad.path); r.Code != bad.code || r.JSON["error"] == nil {
			t.Errorf("%s %s = %d %s, want %d with an error", bad.method, bad.path, r.Code, r.Body, bad.code)
		}
	}
}

func TestRedisRestartMidRun(t *testing.T) {
	s := redistest.Start(t)
	p, psrv := newProducer(t, s.Addr, nil)
	book := newLogBook()
	c1 := runConsumer(t, s.Addr, book.logger(), nil)
	runConsumer(t, s.Addr, book.logger(), nil)
	csrv := httptest.NewServer(c1.Handler())
	t.Cleanup(csrv.Close)

	if _, err := p.Publish(context.Background(), 50); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "first 50 done", func() (bool, string) {
		_, n := book.doneCount()
		return n == 50, fmt.Sprint(n)
	})

	s.Stop()
	if r := do(t, "GET", csrv.URL+"/healthz"); r.Code != 503 {
		t.Fatalf("consumer /healthz with Redis down = %d %s, want 503", r.Code, r.Body)
	}
	if r := do(t, "POST", psrv.URL+"/publish/50"); r.Code != 503 {
		t.Fatalf("publish with Redis down = %d %s, want 503", r.Code, r.Body)
	}
	// Unready, but alive: the liveness probe (/livez) never depends on Redis,
	// so an outage does not get the pods restarted.
	for name, url := range map[string]string{"consumer": csrv.URL, "producer": psrv.URL} {
		if r := do(t, "GET", url+"/livez"); r.Code != 200 || r.JSON["status"] != "alive" {
			t.Fatalf("%s /livez with Redis down = %d %s, want 200 alive", name, r.Code, r.Body)
		}
		if r := do(t, "GET", url+"/healthz"); r.Code != 503 {
			t.Fatalf("%s /healthz with Redis down = %d %s, want 503", name, r.Code, r.Body)
		}
	}
	time.Sleep(300 * time.Millisecond) // let the consumers hit the outage and back off
	s.Restart()

	// Nobody is restarted: the producer and both consumers recover by themselves.
	eventually(t, 10*time.Second, "publish accepted again", func() (bool, string) {
		r := do(t, "POST", psrv.URL+"/publish/50")
		return r.Code == 200, r.Body
	})
	eventually(t, 15*time.Second, "the 50 new items done", func() (bool, string) {
		d, _ := book.doneCount()
		return d == 100, fmt.Sprintf("%d distinct done", d)
	})
	eventually(t, 5*time.Second, "consumer healthy again", func() (bool, string) {
		r := do(t, "GET", csrv.URL+"/healthz")
		return r.Code == 200, r.Body
	})
	// Both re-registered their heartbeat after the restart emptied Redis.
	rdb := client(t, s)
	eventually(t, 10*time.Second, "both consumers registered again", func() (bool, string) {
		m := rdb.SMembers(context.Background(), "padok:consumers").Val()
		return len(m) == 2, fmt.Sprint(m)
	})
}

// ---- real processes, real signals ----

func TestSIGTERMMidItemFinishesIt(t *testing.T) {
	s := redistest.Start(t)
	p, _ := newProducer(t, s.Addr, nil)
	if _, err := p.Publish(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	// A 2 s item leaves a wide margin on a busy machine between "it arrived"
	// and the signal landing while it is still in hand.
	proc := startDojo(t, "app", "consumer", "--redis-addr", s.Addr, "--listen", freeAddr(t), "--work-time", "2s")
	eventually(t, 10*time.Second, "an item arrived", func() (bool, string) {
		a, _ := proc.items()
		return len(a) == 1, fmt.Sprint(a)
	})
	// Two more wait in the queue: the stopping consumer must not take them.
	if _, err := p.Publish(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	if err := proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code, took := proc.waitExit(t, 15*time.Second)
	if code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0", code)
	}
	if took > 10*time.Second {
		t.Errorf("took %s to stop (the item takes 2 s; Kubernetes' default grace period is 30 s)", took)
	}
	arrived, done := proc.items()
	if len(arrived) != 1 || len(done) != 1 || arrived[0] != done[0] {
		t.Fatalf("arrived %v, done %v: want the item in hand finished, and no other taken", arrived, done)
	}
	rdb := client(t, s)
	if n := rdb.LLen(context.Background(), "padok").Val(); n != 2 {
		t.Fatalf("padok holds %d items, want the 2 not taken", n)
	}
	if l := leftovers(t, s); len(l) != 0 {
		t.Fatalf("processing lists not empty: %v", l)
	}
	if m := rdb.SMembers(context.Background(), "padok:consumers").Val(); len(m) != 0 {
		t.Fatalf("consumer still registered after a clean stop: %v", m)
	}
}

func TestSIGKILLMidItemIsRecovered(t *testing.T) {
	s := redistest.Start(t)
	p, _ := newProducer(t, s.Addr, nil)
	const n, kills = 30, 2
	if _, err := p.Publish(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	args := func() []string {
		return []string{"app", "consumer", "--redis-addr", s.Addr, "--listen", freeAddr(t),
			"--work-time", "100ms", "--heartbeat-ttl", "1s"}
	}
	var procs []*dojoProc
	survivor := startDojo(t, args()...)
	procs = append(procs, survivor)
	var killed []string
	for range kills {
		victim := startDojo(t, args()...)
		procs = append(procs, victim)
		// Kill it while it works on an item (arrived, not done).
		eventually(t, 10*time.Second, "the victim working on an item", func() (bool, string) {
			a, d := victim.items()
			return len(a) > len(d), fmt.Sprintf("arrived %d, done %d", len(a), len(d))
		})
		if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		victim.waitExit(t, 5*time.Second)
		a, _ := victim.items()
		killed = append(killed, a[len(a)-1])
	}

	countAll := func() (arrived, done map[string]int) {
		arrived, done = map[string]int{}, map[string]int{}
		for _, pr := range procs {
			a, d := pr.items()
			for _, id := range a {
				arrived[id]++
			}
			for _, id := range d {
				done[id]++
			}
		}
		return
	}
	rdb := client(t, s)
	eventually(t, 30*time.Second, "every item done, nothing left in Redis", func() (bool, string) {
		_, done := countAll()
		q := rdb.LLen(context.Background(), "padok").Val()
		l := leftovers(t, s)
		return len(done) == n && q == 0 && len(l) == 0, fmt.Sprintf("%d/%d distinct done, padok %d, processing %v", len(done), n, q, l)
	})
	arrived, done := countAll()
	for _, id := range killed {
		if done[id] == 0 {
			t.Errorf("item %s, in hand when its consumer was killed, was never done", id)
		}
	}
	dups := 0
	for _, c := range arrived {
		dups += c - 1
	}
	if dups > kills {
		t.Errorf("%d items were processed more than once, want at most %d (one per kill)", dups, kills)
	}
	if !strings.Contains(strings.Join(survivor.Lines(), "\n"), "recovered unfinished items of a dead consumer") {
		t.Errorf("the survivor did not log a recovery")
	}
	// The survivor still stops cleanly.
	_ = survivor.cmd.Process.Signal(syscall.SIGTERM)
	if code, _ := survivor.waitExit(t, 10*time.Second); code != 0 {
		t.Errorf("survivor exit code %d", code)
	}
}

func TestCommandLineErrorsExit2(t *testing.T) {
	cases := []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"app", "consumer", "--work-time", "soon"}, "", `"soon"`},
		{[]string{"app", "consumer", "--work-time", "-1s"}, "", "-1s"},
		{[]string{"app", "consumer", "--heartbeat-ttl", "1ms"}, "", "1ms"},
		{[]string{"app", "producer", "--redis-addr", "redis"}, "", `"redis"`},
		{[]string{"app", "producer", "--listen", "8080"}, "", `"8080"`},
		{[]string{"app", "producer", "--queue", ""}, "", `""`},
		{[]string{"app", "consumer"}, "DOJO_WORK_TIME=later", `DOJO_WORK_TIME="later"`},
		{[]string{"app", "producer"}, "DOJO_REDIS_ADDR=nohost", `"nohost"`},
		{[]string{"app", "producer", "--nope"}, "", "--nope"},
		{[]string{"app", "frobnicate"}, "", `"frobnicate"`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args[1:], " "), func(t *testing.T) {
			if c.env != "" {
				k, v, _ := strings.Cut(c.env, "=")
				t.Setenv(k, v)
			}
			proc := startDojo(t, c.args...)
			code, _ := proc.waitExit(t, 10*time.Second)
			out := strings.Join(proc.Lines(), "\n")
			if code != 2 || !strings.Contains(out, c.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and a message naming %s", code, out, c.want)
			}
		})
	}
}

func TestEnvVarsConfigureTheConsumer(t *testing.T) {
	s := redistest.Start(t)
	p, _ := newProducer(t, s.Addr, nil)
	listen := freeAddr(t)
	t.Setenv("DOJO_REDIS_ADDR", s.Addr)
	t.Setenv("DOJO_LISTEN", listen)
	t.Setenv("DOJO_WORK_TIME", "1ms")
	t.Setenv("DOJO_QUEUE", "padok")
	proc := startDojo(t, "app", "consumer")
	eventually(t, 10*time.Second, "/healthz served on DOJO_LISTEN", func() (bool, string) {
		res, err := http.Get("http://" + listen + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		res.Body.Close()
		return res.StatusCode == 200, res.Status
	})
	if _, err := p.Publish(context.Background(), 3); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "3 items done", func() (bool, string) {
		_, d := proc.items()
		return len(d) == 3, fmt.Sprint(d)
	})
	_ = proc.cmd.Process.Signal(syscall.SIGTERM)
	if code, _ := proc.waitExit(t, 10*time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}
