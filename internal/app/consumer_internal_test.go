package app

import (
	"os"
	"strings"
	"testing"
	"time"
)

func validConsumer() ConsumerOptions {
	return ConsumerOptions{CommonOptions: CommonOptions{RedisAddr: "127.0.0.1:6379", Queue: "padok", Listen: DefaultListen},
		WorkTime: time.Second, HeartbeatTTL: DefaultHeartbeatTTL}
}

// The shortest heartbeat TTL allowed is 100ms itself; anything shorter is
// refused with the value and the fix.
func TestHeartbeatTTLLowerBound(t *testing.T) {
	o := validConsumer()
	o.HeartbeatTTL = 100 * time.Millisecond
	if err := o.Validate(); err != nil {
		t.Fatalf("100ms refused: %v", err)
	}
	o.HeartbeatTTL = 99 * time.Millisecond
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "99ms") || !strings.Contains(err.Error(), "100ms or more") {
		t.Fatalf("99ms: %v", err)
	}
}

// A zero block timeout means the default (never BLMOVE's 0, which blocks
// forever and would make a stopping consumer hang); any other is kept.
func TestBlockTimeoutDefault(t *testing.T) {
	o := validConsumer()
	c, err := NewConsumer(o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.opts.BlockTimeout != defaultBlockTimeout {
		t.Fatalf("BlockTimeout 0 became %s, want %s", c.opts.BlockTimeout, defaultBlockTimeout)
	}
	o.BlockTimeout = 300 * time.Millisecond
	c2, err := NewConsumer(o)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if c2.opts.BlockTimeout != 300*time.Millisecond {
		t.Fatalf("BlockTimeout 300ms became %s", c2.opts.BlockTimeout)
	}
}

// Without --id a consumer is named after its host (its pod), so the
// processing lists in Redis say whose they are.
func TestConsumerIDFromHostname(t *testing.T) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		t.Fatalf("no hostname here: %v", err)
	}
	c, err := NewConsumer(validConsumer())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !strings.HasPrefix(c.id, host+"-") || len(c.id) <= len(host)+1 {
		t.Fatalf("id %q does not start with the hostname %q and a suffix", c.id, host)
	}
}

func TestBlockSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		250 * time.Millisecond:  "0.25",
		time.Second:             "1",
		1500 * time.Millisecond: "1.5",
	} {
		if got := blockSeconds(d); got != want {
			t.Errorf("blockSeconds(%s) = %q, want %q", d, got, want)
		}
	}
}
