package redistest

import (
	"testing"
)

func TestStartRestartStop(t *testing.T) {
	s := Start(t)
	if err := ping(s.Addr); err != nil {
		t.Fatalf("ping after Start: %v", err)
	}
	addr := s.Addr
	s.Restart()
	if s.Addr != addr {
		t.Fatalf("Restart moved the server from %s to %s", addr, s.Addr)
	}
	if err := ping(s.Addr); err != nil {
		t.Fatalf("ping after Restart: %v", err)
	}
	s.Stop()
	if err := ping(s.Addr); err == nil {
		t.Fatalf("server still answers after Stop")
	}
	s.Stop() // idempotent
}

func TestTwoServersDoNotShareAPort(t *testing.T) {
	a, b := Start(t), Start(t)
	if a.Addr == b.Addr {
		t.Fatalf("both servers on %s", a.Addr)
	}
}
