package app_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kubedojo/dojo/internal/app"
	"github.com/kubedojo/dojo/internal/testutil/redistest"
)

// cutProxy relays TCP between the consumer and Redis on loopback. Once
// armed, the first reply carrying an item (a bulk string) on a connection
// that sent BLMOVE is swallowed and that connection is closed: Redis has
// moved the item, the consumer never hears of it.
type cutProxy struct {
	addr  string
	armed atomic.Bool
	cut   atomic.Bool
}

func startCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{addr: l.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			var sawBLMOVE atomic.Bool
			wg.Add(2)
			go func() { // consumer → Redis
				defer wg.Done()
				relay(s, c, func(b []byte) bool {
					if bytes.Contains(bytes.ToUpper(b), []byte("BLMOVE")) {
						sawBLMOVE.Store(true)
					}
					return true
				})
			}()
			go func() { // Redis → consumer
				defer wg.Done()
				relay(c, s, func(b []byte) bool {
					item := b[0] == '$' && !bytes.HasPrefix(b, []byte("$-1"))
					if item && sawBLMOVE.Load() && p.armed.CompareAndSwap(true, false) {
						p.cut.Store(true)
						return false // the reply is lost
					}
					return true
				})
			}()
		}
	}()
	return p
}

// relay copies src to dst chunk by chunk while forward says so, then closes
// both connections.
func relay(dst, src net.Conn, forward func([]byte) bool) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !forward(buf[:n]) {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// docs/app.md: after a Redis error the consumer moves what its processing
// list may hold back to the queue before taking more. Made to happen: the
// BLMOVE reply that carries the item is dropped by a proxy, so the item sits
// in the processing list of a live consumer (whose heartbeat keeps other
// consumers from recovering it). Only the consumer's own dirty requeue can
// bring it back; the item must then be worked on exactly once.
func TestLostBLMOVEReplyIsRequeued(t *testing.T) {
	s := redistest.Start(t)
	rdb := client(t, s)
	proxy := startCutProxy(t, s.Addr)
	book := newLogBook()
	runConsumer(t, proxy.addr, book.logger(), func(o *app.ConsumerOptions) { o.BlockTimeout = 2 * time.Second })

	eventually(t, 10*time.Second, "the consumer blocked in BLMOVE", func() (bool, string) {
		info := rdb.Info(context.Background(), "clients").Val()
		return strings.Contains(info, "blocked_clients:1\r\n"), info
	})
	proxy.armed.Store(true)
	const raw = `{"id":"lost-reply-1"}`
	if err := rdb.RPush(context.Background(), app.DefaultQueue, raw).Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the BLMOVE reply cut by the proxy", func() (bool, string) {
		return proxy.cut.Load(), "not cut yet"
	})
	eventually(t, 15*time.Second, "the item requeued and worked on once", func() (bool, string) {
		_, total := book.doneCount()
		q := rdb.LLen(context.Background(), app.DefaultQueue).Val()
		l := leftovers(t, s)
		return total == 1 && q == 0 && len(l) == 0, fmt.Sprintf("%d done, queue %d, processing %v", total, q, l)
	})
	time.Sleep(300 * time.Millisecond)
	if _, total := book.doneCount(); total != 1 {
		t.Fatalf("the item was worked on %d times, want once", total)
	}
}
