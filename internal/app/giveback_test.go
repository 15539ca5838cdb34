package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kubedojo/dojo/internal/app"
	"github.com/kubedojo/dojo/internal/testutil/redistest"
)

// docs/app.md: a consumer told to stop while it waits for an item gives the
// item that then arrives back to the queue untouched. Made to happen, not
// hoped for: the consumer is seen blocked in BLMOVE (Redis reports one
// blocked client), it is told to stop, and only then the item is pushed, so
// the blocked BLMOVE (which is never cancelled) receives it after the stop.
func TestStopWhileWaitingGivesTheItemBack(t *testing.T) {
	s := redistest.Start(t)
	rdb := client(t, s)
	book := newLogBook()
	c, err := app.NewConsumer(app.ConsumerOptions{
		CommonOptions: app.CommonOptions{RedisAddr: s.Addr, Queue: app.DefaultQueue, Listen: "127.0.0.1:0", Logger: book.logger()},
		WorkTime:      time.Millisecond,
		HeartbeatTTL:  app.DefaultHeartbeatTTL,
		BlockTimeout:  2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()

	eventually(t, 10*time.Second, "the consumer blocked in BLMOVE", func() (bool, string) {
		info := rdb.Info(context.Background(), "clients").Val()
		return strings.Contains(info, "blocked_clients:1\r\n"), info
	})
	cancel()
	const raw = `{"id":"give-back-1","payload":"untouched"}`
	if err := rdb.RPush(context.Background(), app.DefaultQueue, raw).Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the consumer did not stop within 10s")
	}

	if got := rdb.LRange(context.Background(), app.DefaultQueue, 0, -1).Val(); len(got) != 1 || got[0] != raw {
		t.Fatalf("queue after the stop = %q, want exactly the item given back untouched %q", got, raw)
	}
	if l := leftovers(t, s); len(l) != 0 {
		t.Fatalf("items left in processing lists: %v", l)
	}
	// The item reached the consumer after the stop and was given back: the
	// path under test ran (not a block timeout that let the loop end first).
	book.mu.Lock()
	all := strings.Join(book.all, "\n")
	book.mu.Unlock()
	if !strings.Contains(all, "stopping: item given back to the queue") {
		t.Fatalf("the consumer never received the item after its stop (no give-back logged); its log:\n%s", all)
	}
	if n := c.Processed(); n != 0 {
		t.Fatalf("the consumer processed %d item(s) after it was told to stop, want 0", n)
	}
}
