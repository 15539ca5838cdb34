package classroom_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/classroom"
	classroomcmd "github.com/kubedojo/dojo/internal/cli/classroom"
	"github.com/kubedojo/dojo/internal/state"
	"github.com/kubedojo/dojo/internal/steps"
	"github.com/kubedojo/dojo/internal/testutil/reporoot"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "write the page with 30 learners to docs/images/classroom.png")

// xssName is a learner whose name is HTML that runs a script if the page
// ever parses it.
const xssName = `<img src=x onerror=alert(1)>`

// seat is one simulated learner: steps passed, time on the next one, hints.
type seat struct {
	name   string
	passed int
	on     time.Duration
	hints  int
}

// theRoom is 30 learners. Grace is on step 7 longer than anyone, with a
// failing check; Edsger fails step 7 too, for less long; Linus finished.
func theRoom() []seat {
	s := []seat{
		{"Grace Hopper", 6, 47 * time.Minute, 2},
		{"Edsger Dijkstra", 6, 12 * time.Minute, 1},
		{"Linus Torvalds", steps.CleanupNumber, 0, 0},
		{xssName, 3, 9 * time.Minute, 0},
		{"Alan Turing", 8, 21 * time.Minute, 3},
	}
	others := []string{"Ada Lovelace", "Barbara Liskov", "Donald Knuth", "Frances Allen", "John McCarthy",
		"Margaret Hamilton", "Ken Thompson", "Dennis Ritchie", "Radia Perlman", "Tim Berners-Lee",
		"Sophie Wilson", "Niklaus Wirth", "Hedy Lamarr", "Vint Cerf", "Katherine Johnson",
		"Leslie Lamport", "Anita Borg", "Bjarne Stroustrup", "Shafi Goldwasser", "Rob Pike",
		"Evelyn Berezin", "Guido van Rossum", "Jean Sammet", "Whitfield Diffie", "Karen Spärck Jones"}
	for i, n := range others {
		s = append(s, seat{name: n, passed: 2 + i%8, on: time.Duration(1+i%19) * 2 * time.Minute, hints: i % 3})
	}
	return s
}

// writeProgress records a learner's progress as dojo does, in the state file.
func writeProgress(t testing.TB, ws string, s seat, now time.Time) {
	t.Helper()
	store := state.NewStore(ws, func() time.Time { return now })
	_, err := store.Update(func(st *state.State) error {
		at := now.Add(-s.on - time.Duration(s.passed)*8*time.Minute)
		for n := 1; n <= s.passed; n++ {
			start, end := at, at.Add(8*time.Minute)
			p := st.Step(steps.IDFor(n))
			p.Started, p.Passed, p.HintsRevealed = &start, &end, 1
			at = end
		}
		if s.passed < steps.CleanupNumber {
			start := now.Add(-s.on)
			p := st.Step(steps.IDFor(s.passed + 1))
			p.Started, p.HintsRevealed = &start, s.hints
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// chromium finds Debian's Chromium, or fails the test saying how to
// install it: the browser test never skips.
func chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not installed, and the classroom's browser test needs it: run `sudo bash scripts/install-test-deps.sh` (Debian package chromium; make test does it as root)")
	return ""
}

// browser starts headless Chromium for pages on 127.0.0.1 only: every other
// host name resolves to nothing, no proxy, no background traffic.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.WindowSize(1280, 800),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
	)
	if os.Geteuid() == 0 {
		// Chromium refuses to run its sandbox as root; the test only ever
		// opens the server it started on 127.0.0.1.
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser; it carries no timeout of its own.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("starting %s: %v", chromium(t), err)
	}
	return ctx
}

// pageRow is what the page shows of a learner.
type pageRow struct {
	Name  string   `json:"name"`
	Now   string   `json:"now"`
	Crit  string   `json:"crit"`
	Obs   string   `json:"obs"`
	Hand  string   `json:"hand"`
	Cells []string `json:"cells"`
}

const readRows = `Array.from(document.querySelectorAll('#rows tr')).map(tr => ({
	name: tr.querySelector('.lname').textContent,
	now: tr.querySelector('td.now').textContent,
	crit: (tr.querySelector('.crit') || {}).textContent || '',
	obs: (tr.querySelector('.obs') || {}).textContent || '',
	hand: (tr.querySelector('.handmsg') || {}).textContent || '',
	cells: Array.from(tr.querySelectorAll('td.cell')).map(td => td.className.replace('cell ', '')),
}))`

func rows(t *testing.T, ctx context.Context) []pageRow {
	t.Helper()
	rs, err := chromedp.Run(ctx, chromedp.Evaluate[[]pageRow](readRows))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestTheTrainersPageInARealBrowser runs `dojo classroom`, joins 30
// learners through the CLI, and reads the page in headless Chromium.
func TestTheTrainersPageInARealBrowser(t *testing.T) {
	began := time.Now()
	ctx := browser(t)
	t.Logf("chromium up in %v", time.Since(began).Round(time.Millisecond))
	statePath := filepath.Join(t.TempDir(), "room.json")
	joinURL, joinToken, pageURL, _, _ := serving(t, "--listen", "127.0.0.1:0", "--state", statePath)
	base := strings.SplitN(pageURL, "/?", 2)[0]
	trainer := strings.SplitN(pageURL, "token=", 2)[1]

	// 30 learners join through the CLI, each in a workspace of their own.
	now := time.Now()
	seats := theRoom()
	learners := map[string]*learner{}
	for _, s := range seats {
		l := newLearner(t)
		writeProgress(t, l.ws, s, now)
		if res := l.run("join", joinURL, "--token", joinToken, "--name", s.name); res.code != 0 || !strings.Contains(res.out, "the trainer sees you") {
			t.Fatalf("%s: join: %d %q %q", s.name, res.code, res.out, res.errOut)
		}
		learners[s.name] = l
	}
	// Grace's and Edsger's checks of step 7 fail: the results go as data
	// through the hook that follows dojo check.
	rs := []check.Result{
		{Criterion: "step-7/rule-installed", Status: check.Pass, Observed: "PrometheusRule consumer records redis_items_in_queue"},
		{Criterion: "step-7/rule-loaded", Status: check.Fail, Observed: "Prometheus has no rule group recording redis_items_in_queue", Expected: "a group evaluated every 1s", Next: "dojo hint step-7"},
		{Criterion: "step-7/copies-exporter", Status: check.Skipped, WaitsFor: "step-7/rule-loaded"},
	}
	for _, name := range []string{"Grace Hopper", "Edsger Dijkstra"} {
		f, _, errOut := learners[name].factory()
		f.Checks.Record("step-7", rs)
		classroomcmd.Report(context.Background(), f, false)
		if errOut.String() != "" {
			t.Fatalf("%s's check event: %s", name, errOut)
		}
	}
	t.Logf("30 learners joined in %v", time.Since(now).Round(time.Millisecond))

	// The page, headless, at 1280×800. A script installed before the page
	// loads counts every alert, confirm and prompt; the browser's own dialog
	// events are watched too.
	var dialogs atomic.Int32
	if err := chromedp.Listen(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			dialogs.Add(1)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__dialogs = 0; ["alert", "confirm", "prompt"].forEach(f => { window[f] = () => { window.__dialogs++; }; });`,
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatal(err)
	}
	wait := func(what, expr string, within time.Duration) {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, within+time.Second)
		defer cancel()
		if _, err := chromedp.Run(wctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(within))); err != nil {
			got, _ := json.Marshal(rows(t, ctx))
			t.Fatalf("%s: not within %v (%v); the page shows %s", what, within, err, got)
		}
	}
	wait("30 rows", `document.querySelectorAll('#rows tr').length === 30`, 10*time.Second)

	// Grace, failing step 7 longest, is first, with the failing criterion in
	// the words of step 7 and what was observed.
	got := rows(t, ctx)
	if len(got) != 30 {
		t.Fatalf("%d rows, want 30", len(got))
	}
	g := got[0]
	if g.Name != "Grace Hopper" || g.Crit != "Prometheus has loaded the rule group that records redis_items_in_queue, evaluated every 1s." ||
		!strings.Contains(g.Obs, "Prometheus has no rule group recording redis_items_in_queue") || !strings.Contains(g.Obs, "a group evaluated every 1s") {
		t.Fatalf("first row = %+v, want Grace Hopper with step 7's rule-loaded failing", g)
	}
	if !strings.HasPrefix(g.Now, "step 7 · 47m") {
		t.Fatalf("Grace's current step and time read %q, want step 7 · 47m…", g.Now)
	}
	wantCells := strings.Split("passed passed passed passed passed passed current todo todo todo todo", " ")
	if strings.Join(g.Cells, " ") != strings.Join(wantCells, " ") {
		t.Fatalf("Grace's cells = %v, want %v", g.Cells, wantCells)
	}
	for i, r := range got[1:] {
		if r.Name == "Edsger Dijkstra" && (i == 0 || !strings.HasPrefix(r.Crit, "Prometheus has loaded the rule group")) {
			t.Fatalf("Edsger (step 7 failing for 12 min) is row %d with %q: want him below the longer stuck, with his failing criterion", i+2, r.Crit)
		}
	}
	if got[29].Name != "Linus Torvalds" || got[29].Now != "done" {
		t.Fatalf("last row = %+v, want Linus, done", got[29])
	}
	// The header: how many learners are past each step.
	past, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#past th.past')).map(th => th.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= steps.CleanupNumber; n++ {
		want := 0
		for _, s := range seats {
			if s.passed >= n {
				want++
			}
		}
		if len(past) != steps.CleanupNumber || past[n-1] != fmt.Sprint(want) {
			t.Fatalf("header counts = %v; step %d: want %d past", past, n, want)
		}
	}

	// The name that is HTML made no element and ran no script (the counts
	// settle after the img's load would have failed), and it is shown as
	// text.
	time.Sleep(300 * time.Millisecond)
	made, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.querySelectorAll('img').length, window.__dialogs]`))
	if err != nil || made[0] != 0 || made[1] != 0 || dialogs.Load() != 0 {
		t.Fatalf("a learner's name ran as HTML: %v img elements, %v alerts caught in the page, %d dialogs opened (%v)", made[0], made[1], dialogs.Load(), err)
	}
	var xss *pageRow
	for i := range got {
		if got[i].Name == xssName {
			xss = &got[i]
		}
	}
	if xss == nil {
		t.Fatalf("no row reads %q as text", xssName)
	}

	// dojo raise-hand: on the page, at the top, within 2 s.
	alan := learners["Alan Turing"]
	raised := time.Now()
	if res := alan.run("raise-hand", "the HPA shows <unknown> targets"); res.code != 0 {
		t.Fatalf("raise-hand: %d %q", res.code, res.errOut)
	}
	wait("Alan's raised hand on top", `(() => { const tr = document.querySelector('#rows tr');
		return tr && tr.querySelector('.lname').textContent === 'Alan Turing' &&
			(tr.querySelector('.handmsg') || {}).textContent.includes('the HPA shows <unknown> targets'); })()`, 2*time.Second-time.Since(raised))
	t.Logf("the raised hand appeared %v after dojo raise-hand started", time.Since(raised).Round(time.Millisecond))
	if got := rows(t, ctx); got[1].Name != "Grace Hopper" {
		t.Fatalf("second row = %s, want Grace (the longest stuck after the hand)", got[1].Name)
	}

	// The page at 1280×800: nothing wider than the window.
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil || width > 1280 {
		t.Fatalf("the page is %d px wide at 1280 (%v)", width, err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil || img.Bounds().Dx() != 1280 {
		t.Fatalf("screenshot: %v, %v", err, img.Bounds())
	}
	os.WriteFile(filepath.Join(t.TempDir(), "classroom.png"), shot, 0o644)
	if *updateScreenshot {
		dst := filepath.Join(reporoot.Find(), "docs", "images", "classroom.png")
		if err := os.WriteFile(dst, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d×%d)", dst, img.Bounds().Dx(), img.Bounds().Dy())
	}

	// Large type, for a projector.
	size, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => { const a = parseFloat(getComputedStyle(document.body).fontSize);
		document.getElementById('large').click(); return [a, parseFloat(getComputedStyle(document.body).fontSize)]; })()`))
	if err != nil || size[1] < size[0]*1.4 {
		t.Fatalf("large type: font %v px (%v)", size, err)
	}

	// Wrong or missing tokens: 401, and the room does not change.
	before, _ := os.ReadFile(statePath)
	var roomBefore classroom.View
	getJSON(t, base+"/api/room?token="+trainer, &roomBefore)
	up := classroom.Event{Learner: strings.Repeat("ab", 16), Name: "Mallory", Step: 9, Dojo: "v1", Hand: &classroom.Hand{Message: "owned"}}
	body, _ := classroom.Body([]classroom.Event{up})
	for _, c := range []struct{ what, method, url, auth string }{
		{"an event with no token", "POST", base + "/api/events", ""},
		{"an event with a wrong token", "POST", base + "/api/events", strings.Repeat("0", 32)},
		{"an event with the trainer's token", "POST", base + "/api/events", trainer},
		{"the page with no token", "GET", base + "/", ""},
		{"the page with a wrong token", "GET", base + "/?token=" + strings.Repeat("0", 32), ""},
		{"the page with the join token", "GET", base + "/?token=" + joinToken, ""},
		{"the feed with the join token", "GET", base + "/api/feed?token=" + joinToken, ""},
		{"the room with the join token", "GET", base + "/api/room", joinToken},
		{"the export with the join token", "GET", base + "/api/export?format=csv&token=" + joinToken, ""},
	} {
		var rd io.Reader
		if c.method == "POST" {
			rd = bytes.NewReader(body)
		}
		req, _ := http.NewRequest(c.method, c.url, rd)
		req.Header.Set("Content-Type", "application/json")
		if c.auth != "" {
			req.Header.Set("Authorization", "Bearer "+c.auth)
		}
		res, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		text, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 401 || strings.Contains(string(text), "Grace") {
			t.Errorf("%s: %d %q, want 401 and nothing of the room", c.what, res.StatusCode, text)
		}
	}
	after, _ := os.ReadFile(statePath)
	var roomAfter classroom.View
	getJSON(t, base+"/api/room?token="+trainer, &roomAfter)
	if !bytes.Equal(before, after) || len(roomAfter.Learners) != 30 || roomAfter.Refused.Unauthorized < 9 {
		t.Fatalf("refused requests changed the room: %d learners, file changed %v", len(roomAfter.Learners), !bytes.Equal(before, after))
	}
	for i := range roomBefore.Learners {
		a, b := roomBefore.Learners[i], roomAfter.Learners[i]
		if a.ID != b.ID || a.Step != b.Step || (a.Hand == nil) != (b.Hand == nil) {
			t.Fatalf("row %d changed: %+v → %+v", i, a, b)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if got := rows(t, ctx); len(got) != 30 || got[0].Name != "Alan Turing" {
		t.Fatalf("after the refused requests the page shows %d rows, first %q", len(got), got[0].Name)
	}
	// And in the browser: the page with a wrong token is a 401.
	res, err := chromedp.Run(ctx, chromedp.NavigateResponse(base+"/?token="+strings.Repeat("0", 32)))
	if err != nil || res == nil || res.Status != 401 {
		t.Fatalf("the browser opening the page with a wrong token: %+v, %v; want 401", res, err)
	}
	t.Logf("the browser test took %v", time.Since(began).Round(time.Millisecond))
}
