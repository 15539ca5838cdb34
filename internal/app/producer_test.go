package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kubedojo/dojo/internal/app"
	"github.com/kubedojo/dojo/internal/testutil/redistest"
)

// commandCalls reads how many times Redis ran cmd since the last CONFIG RESETSTAT.
func commandCalls(t *testing.T, s *redistest.Server, cmd string) int {
	t.Helper()
	info, err := client(t, s).Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`cmdstat_` + cmd + `:calls=(\d+)`).FindStringSubmatch(info)
	if m == nil {
		return 0
	}
	n := 0
	for _, c := range m[1] {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestPublishOne(t *testing.T) {
	s := redistest.Start(t)
	_, srv := newProducer(t, s.Addr, nil)
	before := time.Now().UTC()

	r := do(t, http.MethodPost, srv.URL+"/publish")
	if r.Code != http.StatusOK || r.JSON["published"] != 1.0 || r.JSON["queue_length"] != 1.0 || r.JSON["queue"] != "padok" {
		t.Fatalf("POST /publish = %d %s, want 200 with published 1, queue padok, queue_length 1", r.Code, r.Body)
	}
	items, err := client(t, s).LRange(context.Background(), "padok", 0, -1).Result()
	if err != nil || len(items) != 1 {
		t.Fatalf("padok = %q, %v; want one item", items, err)
	}
	var it app.Item
	if err := json.Unmarshal([]byte(items[0]), &it); err != nil {
		t.Fatalf("item %q is not JSON: %v", items[0], err)
	}
	if it.ID == "" || it.ID != r.JSON["first_id"] || it.Created.Before(before.Add(-time.Second)) {
		t.Fatalf("item %+v: want the id the answer named (%v) and a creation time", it, r.JSON["first_id"])
	}
}

func TestPublish10000InOneCommand(t *testing.T) {
	s := redistest.Start(t)
	_, srv := newProducer(t, s.Addr, nil)
	rdb := client(t, s)
	ctx := context.Background()
	rdb.RPush(ctx, "padok", "already-there")
	rdb.ConfigResetStat(ctx)

	r := do(t, http.MethodPost, srv.URL+"/publish/10000")
	if r.Code != http.StatusOK || r.JSON["published"] != 10000.0 || r.JSON["queue_length"] != 10001.0 {
		t.Fatalf("POST /publish/10000 = %d %s, want 200, published 10000, queue_length 10001", r.Code, r.Body)
	}
	if n := rdb.LLen(ctx, "padok").Val(); n != 10001 {
		t.Fatalf("LLEN padok = %d, want 10001", n)
	}
	if calls := commandCalls(t, s, "rpush"); calls != 1 {
		t.Fatalf("Redis ran RPUSH %d times for 10000 items, want 1", calls)
	}
	// Ids are distinct and run from first_id to last_id.
	items := rdb.LRange(ctx, "padok", 1, -1).Val()
	seen := map[string]bool{}
	for _, raw := range items {
		var it app.Item
		_ = json.Unmarshal([]byte(raw), &it)
		seen[it.ID] = true
	}
	if len(seen) != 10000 {
		t.Fatalf("%d distinct ids among 10000 items", len(seen))
	}
	var first, last app.Item
	_ = json.Unmarshal([]byte(items[0]), &first)
	_ = json.Unmarshal([]byte(items[len(items)-1]), &last)
	if first.ID != r.JSON["first_id"] || last.ID != r.JSON["last_id"] {
		t.Fatalf("first/last ids %s/%s, answer said %v/%v", first.ID, last.ID, r.JSON["first_id"], r.JSON["last_id"])
	}
}

func TestPublishMaxIsOneTransaction(t *testing.T) {
	s := redistest.Start(t)
	_, srv := newProducer(t, s.Addr, nil)
	rdb := client(t, s)
	rdb.ConfigResetStat(context.Background())

	r := do(t, http.MethodPost, srv.URL+"/publish/100000")
	if r.Code != http.StatusOK || r.JSON["queue_length"] != 100000.0 {
		t.Fatalf("POST /publish/100000 = %d %s", r.Code, r.Body)
	}
	if m, x, p := commandCalls(t, s, "multi"), commandCalls(t, s, "exec"), commandCalls(t, s, "rpush"); m != 1 || x != 1 || p != 10 {
		t.Fatalf("MULTI %d, EXEC %d, RPUSH %d times; want one transaction of 10 RPUSH", m, x, p)
	}
	// Every item is whole and in order (they are encoded as they are written).
	first, _ := r.JSON["first_id"].(string)
	prefix, n0 := first[:strings.LastIndexByte(first, '-')+1], 0
	fmt.Sscan(first[len(prefix):], &n0)
	var created time.Time
	for i, raw := range rdb.LRange(context.Background(), "padok", 0, -1).Val() {
		var it app.Item
		if err := json.Unmarshal([]byte(raw), &it); err != nil || it.ID != fmt.Sprintf("%s%d", prefix, n0+i) || (i > 0 && !it.Created.Equal(created)) {
			t.Fatalf("item %d is %s (%v)", i, raw, err)
		}
		created = it.Created
	}
}

func TestProducerBadRequests(t *testing.T) {
	s := redistest.Start(t)
	_, srv := newProducer(t, s.Addr, nil)
	cases := []struct {
		method, path string
		code         int
		msg          []string // substrings of the error message
	}{
		{"POST", "/publish/0", 400, []string{`"0"`, "1 to 100000"}},
		{"POST", "/publish/100001", 400, []string{`"100001"`, "1 to 100000"}},
		{"POST", "/publish/-5", 400, []string{`"-5"`, "1 to 100000"}},
		{"POST", "/publish/abc", 400, []string{`"abc"`, "1 to 100000"}},
		{"POST", "/publish/1.5", 400, []string{`"1.5"`, "1 to 100000"}},
		{"POST", "/publish/99999999999999999999", 400, []string{`"99999999999999999999"`}},
		{"GET", "/publish", 405, []string{"GET", "POST"}},
		{"PUT", "/publish/5", 405, []string{"PUT", "POST"}},
		{"DELETE", "/publish/abc", 405, []string{"DELETE"}},
		{"POST", "/healthz", 405, []string{"POST", "GET"}},
		{"POST", "/metrics", 405, []string{"POST", "GET"}},
		{"POST", "/nope", 404, []string{"/nope", "POST /publish"}},
		{"POST", "/publish/5/6", 404, []string{"/publish/5/6"}},
	}
	for _, c := range cases {
		r := do(t, c.method, srv.URL+c.path)
		msg, _ := r.JSON["error"].(string)
		if r.Code != c.code || msg == "" {
			t.Errorf("%s %s = %d %q, want %d with an error message", c.method, c.path, r.Code, r.Body, c.code)
			continue
		}
		for _, want := range c.msg {
			if !strings.Contains(msg, want) {
				t.Errorf("%s %s: message %q does not mention %s", c.method, c.path, msg, want)
			}
		}
	}
	if n := client(t, s).LLen(context.Background(), "padok").Val(); n != 0 {
		t.Fatalf("bad requests pushed %d items", n)
	}
}

func TestProducerRedisDownAndBack(t *testing.T) {
	s := redistest.Start(t)
	_, srv := newProducer(t, s.Addr, nil)
	if r := do(t, "GET", srv.URL+"/healthz"); r.Code != 200 || r.JSON["status"] != "ok" {
		t.Fatalf("/healthz with Redis up = %d %s", r.Code, r.Body)
	}
	s.Stop()
	if r := do(t, "GET", srv.URL+"/healthz"); r.Code != 503 || r.JSON["status"] != "unhealthy" || !strings.Contains(r.Body, s.Addr) {
		t.Fatalf("/healthz with Redis down = %d %s, want 503 naming %s", r.Code, r.Body, s.Addr)
	}
	start := time.Now()
	r := do(t, "POST", srv.URL+"/publish/3")
	if msg, _ := r.JSON["error"].(string); r.Code != 503 || !strings.Contains(msg, s.Addr) || !strings.Contains(msg, "no item was queued") {
		t.Fatalf("POST /publish/3 with Redis down = %d %s, want 503 naming %s and saying no item was queued", r.Code, r.Body, s.Addr)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("a publish with Redis down took %s to fail", d)
	}
	s.Restart()
	eventually(t, 10*time.Second, "healthy again", func() (bool, string) {
		r := do(t, "GET", srv.URL+"/healthz")
		return r.Code == 200, r.Body
	})
	if r := do(t, "POST", srv.URL+"/publish/3"); r.Code != 200 || r.JSON["queue_length"] != 3.0 {
		t.Fatalf("POST /publish/3 after Redis came back = %d %s", r.Code, r.Body)
	}
	m := do(t, "GET", srv.URL+"/metrics").Body
	for _, want := range []string{
		"dojo_producer_items_published_total 3",
		"dojo_producer_publish_errors_total 1",
		`dojo_producer_request_duration_seconds_count{code="503",route="/publish/{n}"} 1`,
		`dojo_producer_request_duration_seconds_count{code="200",route="/publish/{n}"} 1`,
		"go_goroutines",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestProducerQueueLength(t *testing.T) {
	s := redistest.Start(t)
	_, srv := newProducer(t, s.Addr, nil)
	if r := do(t, "GET", srv.URL+"/queue"); r.Code != 200 || r.JSON["queue"] != "padok" || r.JSON["length"] != float64(0) {
		t.Fatalf("GET /queue on an empty queue = %d %s", r.Code, r.Body)
	}
	if r := do(t, "POST", srv.URL+"/publish/7"); r.Code != 200 {
		t.Fatalf("POST /publish/7 = %d %s", r.Code, r.Body)
	}
	if r := do(t, "GET", srv.URL+"/queue"); r.Code != 200 || r.JSON["length"] != float64(7) {
		t.Fatalf("GET /queue after 7 items = %d %s, want length 7", r.Code, r.Body)
	}
	if r := do(t, "POST", srv.URL+"/queue"); r.Code != 405 {
		t.Fatalf("POST /queue = %d, want 405", r.Code)
	}
	s.Stop()
	if r := do(t, "GET", srv.URL+"/queue"); r.Code != 503 || !strings.Contains(r.Body, s.Addr) {
		t.Fatalf("GET /queue with Redis down = %d %s, want 503 naming %s", r.Code, r.Body, s.Addr)
	}
}

func TestProducerWithdrawTakesBackOnlyItsWaitingItems(t *testing.T) {
	s := redistest.Start(t)
	_, srv := newProducer(t, s.Addr, nil)
	rdb := client(t, s)
	ctx := context.Background()
	rdb.RPush(ctx, "padok", "foreign")
	first := do(t, "POST", srv.URL+"/publish/3")
	second := do(t, "POST", srv.URL+"/publish/2")
	if first.Code != 200 || second.Code != 200 {
		t.Fatalf("publish: %d %s / %d %s", first.Code, first.Body, second.Code, second.Body)
	}
	// a consumer took the first item of the first batch
	if _, err := rdb.LRem(ctx, "padok", 1, rdb.LIndex(ctx, "padok", 1).Val()).Result(); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"first_id":%q,"last_id":%q}`, first.JSON["first_id"], first.JSON["last_id"])
	resp, err := http.Post(srv.URL+"/withdraw", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(got), `"withdrawn":2`) {
		t.Fatalf("withdraw = %d %s, want 2 withdrawn", resp.StatusCode, got)
	}
	left := rdb.LRange(ctx, "padok", 0, -1).Val()
	if len(left) != 3 || left[0] != "foreign" || !strings.Contains(left[1], second.JSON["first_id"].(string)) {
		t.Fatalf("queue after withdraw = %q, want the foreign item and the second batch", left)
	}
	resp, err = http.Post(srv.URL+"/withdraw", "application/json", strings.NewReader(`{"first_id":"zz-1","last_id":"zz-2"}`))
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(got), "zz-1") {
		t.Fatalf("withdraw of foreign ids = %d %s, want 400 naming them", resp.StatusCode, got)
	}
}
