package classroom

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// freeAddr is a loopback address nobody listens on (yet).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func workspace(t *testing.T) string {
	t.Helper()
	ws := t.TempDir()
	os.MkdirAll(filepath.Join(ws, ".dojo"), 0o755)
	return ws
}

func outboxLines(t *testing.T, ws string) int {
	t.Helper()
	data, err := os.ReadFile(OutboxPath(ws))
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	return strings.Count(string(data), "\n")
}

func send(t *testing.T, ws string, m *Member, e *Event, budget time.Duration) (Outcome, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	return (&Client{}).Send(ctx, ws, m, e)
}

func TestAnUnreachableTrainerGetsTheEventsOnTheNextCommand(t *testing.T) {
	addr := freeAddr(t)
	r, _, _ := newRoom(t, DefaultLimits())
	ws := workspace(t)
	m := member()
	m.URL, m.Token = "http://"+addr, r.JoinToken()
	for step := 1; step <= 3; step++ {
		e := ev(0, "Ada", step, int64(step))
		e.Learner = m.Learner
		out, err := send(t, ws, m, &e, Budget)
		if err == nil || out.Queued != step || out.Sent != 0 {
			t.Fatalf("send %d to nobody: %+v, %v; want it queued behind the others", step, out, err)
		}
	}
	if n := outboxLines(t, ws); n != 3 {
		t.Fatalf("outbox holds %d events, want 3", n)
	}
	if fi, _ := os.Stat(OutboxPath(ws)); fi.Mode().Perm() != 0o600 {
		t.Fatalf("outbox mode %v", fi.Mode().Perm())
	}
	// The trainer's server comes up (on a port of its own: the test does
	// not race for the old one); the next command sends everything, in
	// order.
	srv := httptest.NewServer(NewServer(r).Handler())
	defer srv.Close()
	m.URL = srv.URL
	e := ev(0, "Ada", 4, 4)
	e.Learner = m.Learner
	out, err := send(t, ws, m, &e, Budget)
	if err != nil || out.Sent != 4 || out.Queued != 0 {
		t.Fatalf("next command: %+v, %v; want the 3 queued events and its own sent", out, err)
	}
	if _, err := os.Stat(OutboxPath(ws)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the outbox is still there after everything was sent")
	}
	v := r.View()
	if len(v.Learners) != 1 || v.Learners[0].Step != 4 {
		t.Fatalf("the room shows %+v, want Ada at step 4 (the last event last)", v.Learners)
	}
}

func TestASilentTrainerCostsAtMostTheBudget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accepts and never answers
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ws := workspace(t)
	m := member()
	m.URL = "http://" + ln.Addr().String()
	e := ev(0, "Ada", 2, 0)
	e.Learner = m.Learner
	start := time.Now()
	out, err := send(t, ws, m, &e, Budget)
	took := time.Since(start)
	if err == nil || out.Queued != 1 {
		t.Fatalf("a silent server: %+v, %v; want the event queued", out, err)
	}
	if took > Budget+150*time.Millisecond {
		t.Fatalf("the send took %v, the budget is %v", took, Budget)
	}
}

func TestTheOutboxIsBounded(t *testing.T) {
	ws := workspace(t)
	m := member()
	m.URL = "http://" + freeAddr(t)
	for i := 1; i <= OutboxMax+5; i++ {
		e := ev(0, "Ada", 1, int64(i))
		e.Learner = m.Learner
		out, _ := send(t, ws, m, &e, Budget)
		if i > OutboxMax && out.Dropped != 1 {
			t.Fatalf("send %d: %+v, want the oldest let go", i, out)
		}
	}
	q, err := readOutbox(OutboxPath(ws))
	if err != nil || len(q) != OutboxMax || q[0].Seconds != 6 || q[OutboxMax-1].Seconds != OutboxMax+5 {
		t.Fatalf("outbox = %d events (%v), want the newest %d: 6 to %d", len(q), err, OutboxMax, OutboxMax+5)
	}
}

func TestARefusedTokenQueuesNothing(t *testing.T) {
	s := newServer(t, DefaultLimits())
	ws := workspace(t)
	m := member()
	m.URL, m.Token = s.URL, strings.Repeat("f", 32)
	e := ev(0, "Ada", 1, 0)
	e.Learner = m.Learner
	out, err := send(t, ws, m, &e, time.Second)
	if !errors.Is(err, ErrRefused) || out.Queued != 0 || outboxLines(t, ws) != 0 {
		t.Fatalf("a wrong token: %+v, %v; want ErrRefused and an empty outbox", out, err)
	}
	if !strings.Contains(Describe(m, out, err), "refused the join token") {
		t.Fatalf("Describe = %q", Describe(m, out, err))
	}
}

func TestARateLimitedSendKeepsTheRest(t *testing.T) {
	lim := DefaultLimits()
	lim.PerMinute = 2
	s := newServer(t, lim)
	ws := workspace(t)
	m := member()
	m.URL, m.Token = s.URL, s.room.JoinToken()
	var es []Event
	for i := 1; i <= 3; i++ {
		e := ev(0, "Ada", i, 0)
		e.Learner = m.Learner
		es = append(es, e)
	}
	if err := writeOutbox(OutboxPath(ws), es[:2]); err != nil {
		t.Fatal(err)
	}
	out, err := send(t, ws, m, &es[2], time.Second)
	if err == nil || out.Sent != 2 || out.Queued != 1 {
		t.Fatalf("3 events where 2 a minute fit: %+v, %v; want 2 sent and 1 kept", out, err)
	}
	q, _ := readOutbox(OutboxPath(ws))
	if len(q) != 1 || q[0].Step != 3 {
		t.Fatalf("outbox = %+v, want the third event", q)
	}
}

func TestMembershipFile(t *testing.T) {
	ws := workspace(t)
	if m, err := LoadMember(ws); m != nil || err != nil {
		t.Fatalf("no membership: %v %v", m, err)
	}
	m := member()
	if err := SaveMember(ws, m); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(MemberPath(ws))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("membership mode %v (%v), want 0600: it holds the join token", fi.Mode().Perm(), err)
	}
	back, err := LoadMember(ws)
	if err != nil || *back != *m {
		t.Fatalf("read back %+v (%v), want %+v", back, err, m)
	}
	if data, _ := os.ReadFile(filepath.Join(ws, ".dojo", "state.json")); data != nil {
		t.Fatal("the membership went into state.json")
	}
	os.WriteFile(OutboxPath(ws), []byte("{}\n"), 0o600)
	if was, err := Forget(ws); !was || err != nil {
		t.Fatalf("Forget: %v %v", was, err)
	}
	for _, p := range []string{MemberPath(ws), OutboxPath(ws)} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there after Forget", p)
		}
	}
	// Never written through a link out of the workspace.
	outside := t.TempDir()
	os.Symlink(filepath.Join(outside, "x.json"), MemberPath(ws))
	if err := SaveMember(ws, m); err != nil {
		// refused, or the link replaced by a file: either way nothing outside
		t.Logf("SaveMember through a link: %v", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "x.json")); err == nil {
		t.Fatal("the membership was written through a link out of the workspace")
	}
	os.WriteFile(MemberPath(ws), []byte("garbage"), 0o600)
	if _, err := LoadMember(ws); err == nil || !strings.Contains(err.Error(), "dojo leave") {
		t.Fatalf("a damaged membership: %v, want the way out", err)
	}
}

func TestParseURLAndToken(t *testing.T) {
	for raw, want := range map[string]string{"http://192.168.1.20:7777": "http://192.168.1.20:7777", "http://10.0.0.1:7777/": "http://10.0.0.1:7777", " https://room.local:7777 ": "https://room.local:7777"} {
		if got, err := ParseURL(raw); err != nil || got != want {
			t.Errorf("ParseURL(%q) = %q, %v", raw, got, err)
		}
	}
	for _, raw := range []string{"192.168.1.20:7777", "ftp://x:1", "http://", "http://u:p@x:1", "http://x:1/api/events", "http://x:1/?token=a", "http://x:1#f"} {
		if _, err := ParseURL(raw); err == nil {
			t.Errorf("ParseURL(%q) accepted", raw)
		}
	}
	if CheckToken(strings.Repeat("a", 32)) != nil || CheckToken("short") == nil || CheckToken(strings.Repeat("a", 31)+"!") == nil {
		t.Error("CheckToken")
	}
}
