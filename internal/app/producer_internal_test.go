package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kubedojo/dojo/internal/testutil/redistest"
)

// The hand-written encoding is exactly what encoding/json gives.
func TestEncodeItemsMatchesJSON(t *testing.T) {
	p := &Producer{prefix: "a1b2c3"}
	for _, created := range []time.Time{
		time.Date(2026, 11, 27, 13, 49, 34, 61000000, time.UTC),
		time.Date(2026, 11, 27, 13, 49, 34, 0, time.UTC),
		time.Date(2026, 11, 27, 13, 49, 34, 123456789, time.FixedZone("x", 3600)),
	} {
		items := p.encodeItems(98, 3, created)
		for i, it := range items {
			want, _ := json.Marshal(Item{ID: p.itemID(98 + uint64(i)), Created: created.UTC()})
			if it != string(want) {
				t.Errorf("item %d = %s, want %s", i, it, want)
			}
			enc := newItemEncoder(p.prefix, created)
			lazy, _ := (&lazyItem{enc: enc, seq: 98 + uint64(i)}).MarshalBinary()
			if string(lazy) != it {
				t.Errorf("item %d as go-redis writes it = %s, want %s", i, lazy, it)
			}
		}
	}
}

// The log gives the spans of a range across publishes, and refuses a range
// it no longer (or never) holds whole.
func TestPublishLogFind(t *testing.T) {
	l := newPublishLog(3)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.add(1, 10, t0)
	l.add(11, 5, t0.Add(time.Second))
	spans, ok := l.find(8, 12)
	if !ok || len(spans) != 2 || spans[0] != (itemSpan{8, 10, t0}) || spans[1] != (itemSpan{11, 12, t0.Add(time.Second)}) {
		t.Fatalf("find(8, 12) = %v, %v", spans, ok)
	}
	if _, ok := l.find(14, 16); ok {
		t.Fatal("find(14, 16) found items never published")
	}
	l.add(16, 1, t0)
	l.add(17, 1, t0) // the first publish is forgotten
	if _, ok := l.find(8, 12); ok {
		t.Fatal("find(8, 12) found items of a forgotten publish")
	}
	if spans, ok := l.find(11, 17); !ok || len(spans) != 3 {
		t.Fatalf("find(11, 17) = %v, %v", spans, ok)
	}
}

func quietProducer(t *testing.T, addr string) (*Producer, *httptest.Server) {
	t.Helper()
	p, err := NewProducer(ProducerOptions{CommonOptions: CommonOptions{
		RedisAddr: addr, Queue: DefaultQueue, Listen: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(func() { srv.Close(); _ = p.Close() })
	return p, srv
}

func postJSON(t *testing.T, url, body string) (int, string, http.Header) {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

// A withdraw of a publish the producer no longer remembers is a 410 that
// says so; nothing is removed.
func TestWithdrawOfAForgottenPublishIsGone(t *testing.T) {
	s := redistest.Start(t)
	p, srv := quietProducer(t, s.Addr)
	p.recent = newPublishLog(2)
	ctx := context.Background()
	old, err := p.Publish(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := p.Publish(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	code, body, _ := postJSON(t, srv.URL+"/withdraw", fmt.Sprintf(`{"first_id":%q,"last_id":%q}`, old.FirstID, old.LastID))
	if code != http.StatusGone || !strings.Contains(body, "no longer remembers") || !strings.Contains(body, old.FirstID) {
		t.Fatalf("withdraw of a forgotten publish = %d %s, want 410 saying so", code, body)
	}
	if n := p.rdb.LLen(ctx, DefaultQueue).Val(); n != 5 {
		t.Fatalf("LLEN %d, want 5", n)
	}
}

// With its budget held by publishes in progress, the producer answers a
// new publish 503 with words and Retry-After, and queues nothing of it.
func TestBusyProducerRefusesWithWords(t *testing.T) {
	s := redistest.Start(t)
	p, srv := quietProducer(t, s.Addr)
	p.wait = 50 * time.Millisecond
	if err := p.budget.acquire(context.Background(), publishBudget-4); err != nil {
		t.Fatal(err)
	}
	code, body, h := postJSON(t, srv.URL+"/publish/5", "")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "busy") || !strings.Contains(body, "no item was queued") || h.Get("Retry-After") != "1" {
		t.Fatalf("publish with the budget held = %d %s (Retry-After %q), want 503 busy, nothing queued", code, body, h.Get("Retry-After"))
	}
	if code, body, _ := postJSON(t, srv.URL+"/publish/4", ""); code != 200 {
		t.Fatalf("publish that fits = %d %s", code, body)
	}
	p.budget.release(publishBudget - 4)
	if code, body, _ := postJSON(t, srv.URL+"/publish/5", ""); code != 200 {
		t.Fatalf("publish after the budget is free = %d %s", code, body)
	}
	if n := p.rdb.LLen(context.Background(), DefaultQueue).Val(); n != 9 {
		t.Fatalf("LLEN %d, want 9", n)
	}
	if used := p.budget.inUse(); used != 0 {
		t.Fatalf("%d units of the budget still taken", used)
	}
}

// A waiter that gives up leaves the budget whole, and one behind it is
// served.
func TestBudgetWaiterGivesUp(t *testing.T) {
	b := newItemBudget(10)
	if err := b.acquire(context.Background(), 8); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := b.acquire(ctx, 5); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire past the budget = %v", err)
	}
	got := make(chan error, 1)
	go func() { got <- b.acquire(context.Background(), 10) }()
	time.Sleep(10 * time.Millisecond)
	b.release(8)
	select {
	case err := <-got:
		if err != nil || b.inUse() != 10 {
			t.Fatalf("acquire(10) = %v, in use %d", err, b.inUse())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter was never served")
	}
}

// The server's write timeout outlasts the slowest publish that can still
// succeed: the wait for room, then every bound go-redis applies on the way.
func TestWriteTimeoutOutlastsTheSlowestPublish(t *testing.T) {
	p, err := NewProducer(ProducerOptions{CommonOptions: CommonOptions{RedisAddr: "127.0.0.1:1", Queue: DefaultQueue, Listen: ":0"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	o := p.rdb.Options()
	slowest := p.wait + o.PoolTimeout + time.Duration(o.DialerRetries)*o.DialTimeout +
		2*o.WriteTimeout + 2*o.ReadTimeout + // the handshake, then the push
		time.Second // building and encoding
	if slowest >= writeTimeout || readTimeout < readHeaderTimeout || idleTimeout <= 0 || idleTimeout >= 40*time.Second {
		t.Fatalf("the slowest publish takes up to %s, the write timeout is %s; read %s (header %s), idle %s", slowest, writeTimeout, readTimeout, readHeaderTimeout, idleTimeout)
	}
}

type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}

// What nothingSent calls sent and not sent.
func TestNothingSent(t *testing.T) {
	failed := &sendTracker{}
	failed.setupFailed.Store(true)
	for _, c := range []struct {
		name string
		err  error
		t    *sendTracker
		want bool
	}{
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connect: connection refused")}, nil, true},
		{"write timeout", fmt.Errorf("x: %w", &net.OpError{Op: "write", Err: os.ErrDeadlineExceeded}), nil, true},
		{"error reply", replyError("OOM command not allowed when used memory > 'maxmemory'"), nil, true},
		{"client closed", redis.ErrClosed, nil, true},
		{"pool timeout", redis.ErrPoolTimeout, nil, true},
		{"handshake failed", &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, failed, true},
		{"read timeout", &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, &sendTracker{}, false},
		{"connection lost", io.EOF, nil, false},
		{"context", context.DeadlineExceeded, nil, false},
	} {
		if got := nothingSent(c.err, c.t); got != c.want {
			t.Errorf("%s: nothingSent = %v, want %v", c.name, got, c.want)
		}
	}
}
