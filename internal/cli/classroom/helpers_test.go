package classroom_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/classroom"
	"github.com/kubedojo/dojo/internal/cli"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/factory/factorytest"
	"github.com/kubedojo/dojo/internal/steps"
)

// syncBuffer is a buffer a server goroutine writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type result struct {
	code        int
	out, errOut string
}

// learner is one learner's workspace and clock; run is a whole dojo
// command line in it, as the CLI runs it.
type learner struct {
	t   testing.TB
	ws  string
	now func() time.Time
}

// newLearner is a learner with a workspace (dojo init made it).
func newLearner(t testing.TB) *learner {
	ws := filepath.Join(t.TempDir(), "ws")
	if err := os.Mkdir(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	return &learner{t: t, ws: ws, now: time.Now}
}

func (l *learner) factory() (*factory.Factory, *syncBuffer, *syncBuffer) {
	f, _ := factorytest.New(l.t, factorytest.Options{Env: map[string]string{"DOJO_WORKSPACE": l.ws}, Now: l.now})
	out, errOut := &syncBuffer{}, &syncBuffer{}
	f.IO.Out, f.IO.ErrOut = out, errOut
	return f, out, errOut
}

func (l *learner) run(args ...string) result {
	l.t.Helper()
	f, out, errOut := l.factory()
	code := cli.Run(context.Background(), f, args)
	return result{code: code, out: out.String(), errOut: errOut.String()}
}

// room is a trainer's server on loopback, counting the event requests.
type room struct {
	*classroom.Room
	url   string
	posts func() int
	close func()
}

func newRoom(t testing.TB) *room {
	t.Helper()
	cat, err := steps.Load(embedded.FS())
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := classroom.Open(filepath.Join(t.TempDir(), "room.json"), classroom.StepsOf(cat), classroom.DefaultLimits(), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	posts := 0
	h := classroom.NewServer(r).Handler()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == classroom.RouteEvents {
			mu.Lock()
			posts++
			mu.Unlock()
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(s.Close)
	return &room{Room: r, url: s.URL, close: s.Close, posts: func() int { mu.Lock(); defer mu.Unlock(); return posts }}
}

// one is the room's only learner.
func (r *room) one(t testing.TB) classroom.LearnerView {
	t.Helper()
	v := r.View()
	if len(v.Learners) != 1 {
		t.Fatalf("the room has %d learners, want 1", len(v.Learners))
	}
	return v.Learners[0]
}

// freeAddr is a loopback address nobody listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func mustContain(t testing.TB, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

// getJSON reads a trainer route.
func getJSON(t testing.TB, url string, v any) int {
	t.Helper()
	res, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode == 200 && v != nil {
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	return res.StatusCode
}

func mustCatalog(t testing.TB) *steps.Catalog {
	t.Helper()
	cat, err := steps.Load(embedded.FS())
	if err != nil {
		t.Fatal(err)
	}
	return cat
}
