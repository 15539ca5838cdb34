package classroom

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

type testServer struct {
	*httptest.Server
	room *Room
	path string
	c    *clock
}

func newServer(t *testing.T, limits Limits) *testServer {
	t.Helper()
	r, c, path := newRoom(t, limits)
	s := httptest.NewServer(NewServer(r).Handler())
	t.Cleanup(s.Close)
	return &testServer{Server: s, room: r, path: path, c: c}
}

func (s *testServer) do(t *testing.T, method, path, token string, body []byte) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	// A timeout: a route that wrongly opens (the feed never ends) fails
	// the test instead of hanging it.
	c := &http.Client{Transport: s.Client().Transport, Timeout: 5 * time.Second}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res, string(data)
}

func batch(t testing.TB, es ...Event) []byte {
	data, err := Body(es)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// learnersOf is what the room holds, without the clock or the refusals.
func learnersOf(r *Room) string {
	v := r.View()
	data, _ := json.Marshal(v.Learners)
	return string(data)
}

func TestAWrongOrMissingTokenIsA401AndChangesNothing(t *testing.T) {
	s := newServer(t, DefaultLimits())
	join, trainer := s.room.JoinToken(), s.room.TrainerToken()
	if res, _ := s.do(t, "POST", "/api/events", join, batch(t, ev(1, "Ada", 3, 10))); res.StatusCode != 200 {
		t.Fatalf("the join token: %d", res.StatusCode)
	}
	before, _ := os.ReadFile(s.path)
	beforeRoom := learnersOf(s.room)
	wrong := strings.Repeat("0", 32)
	nearlyJoin := join[:31] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", join[31])+1)%16])
	up := ev(1, "Mallory", 9, 0)
	up.Hand = &Hand{Message: "pwned"}
	cases := []struct {
		name, method, path, token string
		body                      []byte
	}{
		{"event, no token", "POST", "/api/events", "", batch(t, up)},
		{"event, wrong token", "POST", "/api/events", wrong, batch(t, up)},
		{"event, the join token but one character", "POST", "/api/events", nearlyJoin, batch(t, up)},
		{"event, the trainer's token", "POST", "/api/events", trainer, batch(t, up)},
		{"event, join token in the URL", "POST", "/api/events?token=" + join, "", batch(t, up)},
		{"page, no token", "GET", "/", "", nil},
		{"page, join token", "GET", "/?token=" + join, "", nil},
		{"page, join token in the header", "GET", "/", join, nil},
		{"feed, join token", "GET", "/api/feed?token=" + join, "", nil},
		{"feed, no token", "GET", "/api/feed", "", nil},
		{"room, join token", "GET", "/api/room", join, nil},
		{"export, join token", "GET", "/api/export?format=json&token=" + join, "", nil},
		{"export, wrong token", "GET", "/api/export?format=csv&token=" + wrong, "", nil},
		{"clear, join token", "POST", "/api/hands/" + id(1) + "/clear", join, nil},
		{"clear, trainer token in the URL only", "POST", "/api/hands/" + id(1) + "/clear?token=" + trainer, "", nil},
	}
	for _, c := range cases {
		res, body := s.do(t, c.method, c.path, c.token, c.body)
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", c.name, res.StatusCode)
		}
		if strings.Contains(body, "Ada") || strings.Contains(body, id(1)) {
			t.Errorf("%s: the 401 carries the room: %s", c.name, body)
		}
	}
	after, _ := os.ReadFile(s.path)
	if !bytes.Equal(before, after) || learnersOf(s.room) != beforeRoom {
		t.Fatal("a refused request changed the room")
	}
	if n := s.room.View().Refused.Unauthorized; n != len(cases) {
		t.Fatalf("refused unauthorized = %d, want %d", n, len(cases))
	}
	// The trainer's token opens the trainer's routes.
	for _, p := range []string{"/", "/api/room", "/api/export?format=csv"} {
		if res, _ := s.do(t, "GET", p, trainer, nil); res.StatusCode != 200 {
			t.Errorf("GET %s with the trainer's token: %d", p, res.StatusCode)
		}
		if res, _ := s.do(t, "GET", p+map[bool]string{true: "&", false: "?"}[strings.Contains(p, "?")]+"token="+trainer, "", nil); res.StatusCode != 200 {
			t.Errorf("GET %s with ?token=: %d", p, res.StatusCode)
		}
	}
}

func TestTokensAreComparedByValue(t *testing.T) {
	want := strings.Repeat("ab", 16)
	for got, ok := range map[string]bool{want: true, "": false, want[:31]: false, want + "a": false, strings.ToUpper(want): false} {
		if TokenEqual(got, want) != ok {
			t.Errorf("TokenEqual(%q) = %v", got, !ok)
		}
	}
	if TokenEqual("", "") {
		t.Error("an empty token matched an empty one")
	}
}

func TestTheServerAnswersItsBoundsClearly(t *testing.T) {
	lim := DefaultLimits()
	lim.MaxLearners, lim.PerMinute = 2, 3
	s := newServer(t, lim)
	join := s.room.JoinToken()
	post := func(body []byte) (*http.Response, Answer) {
		res, text := s.do(t, "POST", "/api/events", join, body)
		var a Answer
		json.Unmarshal([]byte(text), &a)
		return res, a
	}
	big := ev(1, "Ada", 3, 0)
	big.Failing = &Failing{Criterion: "step-3/x", Observed: strings.Repeat("x", int(lim.MaxBody))}
	if res, a := post(batch(t, big)); res.StatusCode != 413 || !strings.Contains(a.Error, "bytes") {
		t.Fatalf("a body past %d bytes: %d %q, want 413 naming the bound", lim.MaxBody, res.StatusCode, a.Error)
	}
	many := make([]Event, lim.MaxBatch+1)
	for i := range many {
		many[i] = ev(1, "Ada", 1, 0)
	}
	if res, a := post(batch(t, many...)); res.StatusCode != 413 || !strings.Contains(a.Error, "events") {
		t.Fatalf("%d events in one request: %d %q, want 413", len(many), res.StatusCode, a.Error)
	}
	if len(s.room.View().Learners) != 0 {
		t.Fatal("a refused batch reached the room")
	}
	res, a := post(batch(t, ev(1, "Ada", 1, 0), ev(1, "Ada", 2, 0), ev(1, "Ada", 3, 0), ev(1, "Ada", 4, 0)))
	if res.StatusCode != 429 || a.Accepted != 3 || res.Header.Get("Retry-After") == "" || !strings.Contains(a.Error, "a minute") {
		t.Fatalf("4 events where 3 a minute fit: %d, accepted %d, %q", res.StatusCode, a.Accepted, a.Error)
	}
	post(batch(t, ev(2, "Alan", 1, 0)))
	if res, a := post(batch(t, ev(3, "Grace", 1, 0))); res.StatusCode != 403 || !strings.Contains(a.Error, "full") {
		t.Fatalf("a third learner in a room of 2: %d %q, want 403", res.StatusCode, a.Error)
	}
	if res, _ := post([]byte(`{"events": "no"}`)); res.StatusCode != 400 {
		t.Fatalf("a malformed body: %d", res.StatusCode)
	}
	req, _ := http.NewRequest("POST", s.URL+"/api/events", strings.NewReader(string(batch(t, ev(2, "Alan", 2, 0)))))
	req.Header.Set("Authorization", "Bearer "+join)
	req.Header.Set("Content-Type", "text/plain")
	if res, _ := s.Client().Do(req); res.StatusCode != 415 {
		t.Fatalf("text/plain: %d, want 415", res.StatusCode)
	}
	// A body that does not say its length is cut at the bound too.
	req, _ = http.NewRequest("POST", s.URL+"/api/events", io.MultiReader(bytes.NewReader(batch(t, big))))
	req.Header.Set("Authorization", "Bearer "+join)
	req.Header.Set("Content-Type", "application/json")
	if res, _ := s.Client().Do(req); res.StatusCode != 413 || req.ContentLength != 0 {
		t.Fatalf("a chunked body past the bound: %d (length %d), want 413", res.StatusCode, req.ContentLength)
	}
}

func TestTheServerAnswersOnlyItsRoutes(t *testing.T) {
	s := newServer(t, DefaultLimits())
	trainer := s.room.TrainerToken()
	for _, p := range []string{"/index.html", "/favicon.ico", "/api", "/api/", "/api/rooms", "/api/events/x", "/api/hands/x", "/debug/pprof/", "/.git/config"} {
		if res, _ := s.do(t, "GET", p, trainer, nil); res.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", p, res.StatusCode)
		}
	}
	for _, c := range [][2]string{{"DELETE", "/api/events"}, {"PUT", "/"}, {"POST", "/api/room"}, {"GET", "/api/events"}} {
		if res, _ := s.do(t, c[0], c[1], trainer, nil); res.StatusCode != 405 {
			t.Errorf("%s %s: %d, want 405", c[0], c[1], res.StatusCode)
		}
	}
}

func TestThePageAllowsOnlyItsOwnCode(t *testing.T) {
	s := newServer(t, DefaultLimits())
	res, body := s.do(t, "GET", "/", s.room.TrainerToken(), nil)
	csp := res.Header.Get("Content-Security-Policy")
	script := regexp.MustCompile(`(?s)<script>(.*)</script>`).FindStringSubmatch(body)
	if len(script) != 2 {
		t.Fatal("the page has no inline script")
	}
	sum := sha256.Sum256([]byte(script[1]))
	if !strings.Contains(csp, "script-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "img-src 'none'") {
		t.Fatalf("CSP = %q, want only the page's own script, no images", csp)
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(body, "http://") || strings.Contains(body, "https://") || strings.Contains(body, "<link") || strings.Contains(body, " src=") {
		t.Fatal("the page loads something from elsewhere or allows any inline code")
	}
	// Learner text goes in as text: the page never parses HTML from data.
	for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
		if strings.Contains(script[1], sink) {
			t.Errorf("the page's script uses %s", sink)
		}
	}
	for _, h := range []string{"X-Content-Type-Options", "Referrer-Policy", "Cache-Control", "X-Frame-Options"} {
		if res.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
}

func TestTheFeedSendsTheRoomThenEachChange(t *testing.T) {
	lim := DefaultLimits()
	lim.MaxFeeds = 1
	s := newServer(t, lim)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/api/feed?token="+s.room.TrainerToken(), nil)
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("feed content type %q", ct)
	}
	lines := bufio.NewReader(res.Body)
	next := func() View {
		for {
			line, err := lines.ReadString('\n')
			if err != nil {
				t.Fatalf("feed: %v", err)
			}
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				var v View
				if err := json.Unmarshal([]byte(data), &v); err != nil {
					t.Fatal(err)
				}
				return v
			}
		}
	}
	if v := next(); len(v.Learners) != 0 || len(v.Steps) != 11 {
		t.Fatalf("first view: %+v", v)
	}
	// A second page past MaxFeeds is told so.
	if r2, body := s.do(t, "GET", "/api/feed", s.room.TrainerToken(), nil); r2.StatusCode != 429 || !strings.Contains(body, "at most 1") {
		t.Fatalf("a second feed with MaxFeeds 1: %d %s", r2.StatusCode, body)
	}
	s.do(t, "POST", "/api/events", s.room.JoinToken(), batch(t, ev(1, "Ada", 4, 30)))
	if v := next(); len(v.Learners) != 1 || v.Learners[0].Name != "Ada" || v.Learners[0].Step != 4 {
		t.Fatalf("after an event: %+v", v.Learners)
	}
}

func TestTheTrainerClearsAHand(t *testing.T) {
	s := newServer(t, DefaultLimits())
	up := ev(1, "Ada", 4, 30)
	up.Hand = &Hand{Message: "help"}
	s.do(t, "POST", "/api/events", s.room.JoinToken(), batch(t, up))
	if res, _ := s.do(t, "POST", "/api/hands/"+id(1)+"/clear", s.room.TrainerToken(), nil); res.StatusCode != 204 {
		t.Fatalf("clear: %d", res.StatusCode)
	}
	if s.room.View().Learners[0].Hand != nil {
		t.Fatal("the hand is still up")
	}
	if res, _ := s.do(t, "POST", "/api/hands/"+id(2)+"/clear", s.room.TrainerToken(), nil); res.StatusCode != 404 {
		t.Fatalf("clearing a stranger's hand: %d, want 404", res.StatusCode)
	}
}

func TestServeStopsWithItsContextAndClosesOpenPages(t *testing.T) {
	r, _, _ := newRoom(t, DefaultLimits())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, NewServer(r).Handler()) }()
	res, err := http.Get("http://" + ln.Addr().String() + "/api/feed?token=" + r.TrainerToken())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return with an open page")
	}
}
