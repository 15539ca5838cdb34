package classroom_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/classroom"
	"github.com/kubedojo/dojo/internal/cli"
	classroomcmd "github.com/kubedojo/dojo/internal/cli/classroom"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory"
)

const token = "0123456789abcdef0123456789abcdef"

func TestBadInputIsOneClearLineAndExit2(t *testing.T) {
	l := newLearner(t)
	cases := []struct {
		args     []string
		mentions []string
	}{
		{[]string{"join", "--token", token, "--name", "Ada"}, []string{"URL", "dojo classroom printed"}},
		{[]string{"join", "192.168.1.20:7777", "--token", token, "--name", "Ada"}, []string{`"192.168.1.20:7777"`, "http://ADDRESS:PORT"}},
		{[]string{"join", "http://10.0.0.1:7777/api/events", "--token", token, "--name", "Ada"}, []string{`"http://10.0.0.1:7777/api/events"`}},
		{[]string{"join", "http://10.0.0.1:7777", "--name", "Ada"}, []string{"--token"}},
		{[]string{"join", "http://10.0.0.1:7777", "--token", "abc!", "--name", "Ada"}, []string{`"abc!"`, "join command"}},
		{[]string{"join", "http://10.0.0.1:7777", "--token", token}, []string{"--name", "Ada"}},
		{[]string{"join", "http://10.0.0.1:7777", "--token", token, "--name", strings.Repeat("n", 41)}, []string{"41 characters", "at most 40"}},
		{[]string{"join", "http://10.0.0.1:7777", "Ada", "--token", token}, []string{"one URL", "--name"}},
		{[]string{"raise-hand", strings.Repeat("m", 201)}, []string{"201 characters", "at most 200"}},
		{[]string{"classroom", "--listen", "nonsense"}, []string{`"nonsense"`, "0.0.0.0:7777"}},
		{[]string{"classroom", "--listen", "10.0.0.1"}, []string{`"10.0.0.1"`, "HOST:PORT"}},
		{[]string{"classroom", "--listen", "wifi:7777"}, []string{`"wifi"`, "IP address"}},
		{[]string{"classroom", "--listen", "0.0.0.0:99999"}, []string{"99999"}},
		{[]string{"classroom", "--max-learners", "0"}, []string{"--max-learners 0", "1 to 1000"}},
		{[]string{"classroom", "export", "--format", "xml"}, []string{`"xml"`, "csv or json"}},
		{[]string{"classroom", "extra"}, []string{"extra"}},
		{[]string{"leave", "now"}, []string{"now"}},
	}
	for _, c := range cases {
		r := l.run(c.args...)
		if r.code != cmdutil.ExitUsage {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", c.args, r.code, r.errOut)
			continue
		}
		if strings.Count(strings.TrimSpace(r.errOut), "\n") != 0 {
			t.Errorf("%q: want one line on stderr, got:\n%s", c.args, r.errOut)
		}
		mustContain(t, strings.Join(c.args, " "), r.errOut, c.mentions...)
	}
	if _, err := os.Stat(classroom.MemberPath(l.ws)); err == nil {
		t.Fatal("a refused dojo join left a membership")
	}
}

func TestJoinShowPrintsExactlyWhatIsSent(t *testing.T) {
	r := newRoom(t)
	l := newLearner(t)
	fixed := time.Now()
	l.now = func() time.Time { return fixed }
	// Before joining: what joining would send, and nothing is written.
	res := l.run("join", r.url, "--token", r.JoinToken(), "--name", "Ada", "--show")
	if res.code != 0 {
		t.Fatalf("join --show: %d %s", res.code, res.errOut)
	}
	mustContain(t, "join --show", res.out, "POST "+r.url+"/api/events", "Authorization: Bearer "+r.JoinToken(), `"name": "Ada"`, `"step": 1`, "Nothing else is sent")
	if _, err := os.Stat(classroom.MemberPath(l.ws)); err == nil || r.posts() != 0 {
		t.Fatal("join --show joined or sent")
	}
	if res := l.run("join", "--show"); res.code != cmdutil.ExitError || !strings.Contains(res.errOut, "no classroom") {
		t.Fatalf("join --show, not joined: %d %q", res.code, res.errOut)
	}
	if res := l.run("join", r.url, "--token", r.JoinToken(), "--name", "Ada"); res.code != 0 || !strings.Contains(res.out, "the trainer sees you") {
		t.Fatalf("join: %d %q %q", res.code, res.out, res.errOut)
	}
	res = l.run("join", "--show")
	body := res.out[strings.Index(res.out, "{"):]
	body = body[:strings.LastIndex(body, "}")+1]
	var shown classroom.Batch
	if err := json.Unmarshal([]byte(body), &shown); err != nil || len(shown.Events) != 1 {
		t.Fatalf("join --show does not print the request body: %v\n%s", err, res.out)
	}
	// What the room received from dojo join is that event, field for field.
	got := r.one(t)
	e := shown.Events[0]
	if e.Learner != got.ID || e.Name != got.Name || e.Step != got.Step || e.Dojo != got.Dojo || e.Seconds != 0 {
		t.Fatalf("shown %+v, the room got %+v", e, got)
	}
	m, _ := classroom.LoadMember(l.ws)
	if m == nil || m.Learner != e.Learner || len(m.Learner) != 32 {
		t.Fatalf("membership %+v, shown learner %q", m, e.Learner)
	}
	var keys map[string]any
	json.Unmarshal([]byte(body), &keys)
	fields := keys["events"].([]any)[0].(map[string]any)
	for k := range fields {
		if !strings.Contains(" learner name step criteria failing hints seconds passed dojo kubernetes hand ", " "+k+" ") {
			t.Errorf("join --show sends a field outside the model: %s", k)
		}
	}
}

func TestStepAndHintSendAnEvent(t *testing.T) {
	r := newRoom(t)
	l := newLearner(t)
	if res := l.run("join", r.url, "--token", r.JoinToken(), "--name", "Ada"); res.code != 0 {
		t.Fatalf("join: %d %s", res.code, res.errOut)
	}
	if res := l.run("step", "1"); res.code != 0 || r.posts() != 2 {
		t.Fatalf("step 1: exit %d, %d posts (want 2: join and step)", res.code, r.posts())
	}
	if res := l.run("hint", "step-1"); res.code != 0 || r.posts() != 3 {
		t.Fatalf("hint: exit %d, %d posts", res.code, r.posts())
	}
	if got := r.one(t); got.Hints != 1 || got.Step != 1 {
		t.Fatalf("the room shows %+v, want step 1 with 1 hint", got)
	}
	// Bad usage sends nothing; a command that is not a learner's action
	// sends nothing.
	l.run("step", "step-99")
	l.run("steps")
	l.run("status")
	if r.posts() != 3 {
		t.Fatalf("%d posts after a usage error, steps and status, want still 3", r.posts())
	}
	// dojo leave: nothing more.
	if res := l.run("leave"); res.code != 0 || !strings.Contains(res.out, "Left the classroom at "+r.url) {
		t.Fatalf("leave: %d %q", res.code, res.out)
	}
	l.run("hint", "step-1")
	if r.posts() != 3 {
		t.Fatal("an event was sent after dojo leave")
	}
	if res := l.run("leave"); res.code != 0 || !strings.Contains(res.out, "no classroom") {
		t.Fatalf("leave twice: %d %q", res.code, res.out)
	}
}

// A check's results reach the room as data, and a failed check keeps its
// exit code: the event goes whatever the command returned.
func TestACheckSendsItsResultsAndKeepsItsExitCode(t *testing.T) {
	r := newRoom(t)
	l := newLearner(t)
	l.run("join", r.url, "--token", r.JoinToken(), "--name", "Grace")
	f, _, errOut := l.factory()
	standIn := func(f *factory.Factory) *cobra.Command {
		return &cobra.Command{Use: "check", RunE: func(*cobra.Command, []string) error {
			f.Checks.Record("step-1", []check.Result{
				{Criterion: "step-1/container-engine", Status: check.Pass, Observed: "docker answers"},
				{Criterion: "step-1/kubectl-installed", Status: check.Fail, Observed: "kubectl is not on your PATH", Expected: "kubectl on PATH", Next: "install kubectl"},
			})
			return cmdutil.ErrCheckFailed
		}}
	}
	cmd := classroomcmd.Reports(standIn, false)(f)
	cmd.SetContext(context.Background())
	if err := cmd.RunE(cmd, nil); !errors.Is(err, cmdutil.ErrCheckFailed) {
		t.Fatalf("the wrapped command returned %v, want its own ErrCheckFailed", err)
	}
	got := r.one(t)
	if got.Failing == nil || got.Failing.Criterion != "step-1/kubectl-installed" || got.Failing.Observed != "kubectl is not on your PATH" ||
		got.Failing.Text != "The kubectl command is installed and on your PATH." || got.Failed != 1 || got.Checked != 2 {
		t.Fatalf("the room shows %+v (failing %+v), want step 1's kubectl-installed in the step's words", got, got.Failing)
	}
	if errOut.String() != "" {
		t.Fatalf("a sent event printed %q", errOut.String())
	}
	// A usage error sends nothing.
	before := r.posts()
	bad := classroomcmd.Reports(func(*factory.Factory) *cobra.Command {
		return &cobra.Command{Use: "step", RunE: func(*cobra.Command, []string) error { return cmdutil.Usagef("no") }}
	}, false)(f)
	bad.SetContext(context.Background())
	bad.RunE(bad, nil)
	if r.posts() != before {
		t.Fatal("a usage error sent an event")
	}
}

func TestAnUnreachableTrainerGetsTheEventsWithTheNextCommand(t *testing.T) {
	addr := freeAddr(t)
	l := newLearner(t)
	res := l.run("join", "http://"+addr, "--token", token, "--name", "Ada")
	if res.code != 0 || !strings.Contains(res.out, "did not answer") || !strings.Contains(res.out, "classroom-outbox.jsonl") {
		t.Fatalf("join with the trainer away: %d %q %q", res.code, res.out, res.errOut)
	}
	res = l.run("hint", "step-1")
	if res.code != 0 || !strings.Contains(res.errOut, "2 events wait in .dojo/classroom-outbox.jsonl") {
		t.Fatalf("hint with the trainer away: exit %d, stderr %q; want 0 and one line saying 2 events wait", res.code, res.errOut)
	}
	if n := classroom.Queued(l.ws); n != 2 {
		t.Fatalf("%d events queued, want 2", n)
	}
	// The trainer's server comes up at that address.
	cat := mustCatalog(t)
	rm, _, err := classroom.Open(filepath.Join(t.TempDir(), "room.json"), classroom.StepsOf(cat), classroom.DefaultLimits(), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	// The membership's token must be the room's: the trainer printed it.
	m, _ := classroom.LoadMember(l.ws)
	m.Token = rm.JoinToken()
	classroom.SaveMember(l.ws, m)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening again on %s: %v", addr, err)
	}
	srv := &http.Server{Handler: classroom.NewServer(rm).Handler()}
	go srv.Serve(ln)
	defer srv.Close()
	res = l.run("step", "1")
	if res.code != 0 || res.errOut != "" {
		t.Fatalf("step 1: %d %q", res.code, res.errOut)
	}
	if n := classroom.Queued(l.ws); n != 0 {
		t.Fatalf("%d events still queued", n)
	}
	v := rm.View()
	if len(v.Learners) != 1 || v.Learners[0].Hints != 1 || v.Learners[0].Name != "Ada" {
		t.Fatalf("the room shows %+v, want Ada with her hint", v.Learners)
	}
}

func TestSendingCostsACommandAtMostTheBudget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // a server that accepts and never answers
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c) }()
		}
	}()
	l := newLearner(t)
	l.run("hint", "step-1") // the workspace exists, the catalog is warm
	start := time.Now()
	l.run("hint", "step-1", "1")
	alone := time.Since(start)
	m := &classroom.Member{URL: "http://" + ln.Addr().String(), Token: token, Name: "Ada", Learner: classroom.NewLearnerID()}
	if err := classroom.SaveMember(l.ws, m); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	res := l.run("hint", "step-1", "1")
	with := time.Since(start)
	if res.code != 0 || !strings.Contains(res.errOut, "did not answer") {
		t.Fatalf("hint with a silent trainer: %d %q", res.code, res.errOut)
	}
	// The promise, written out: not the constant, which a change could move.
	const promised = 300 * time.Millisecond
	if extra := with - alone; extra > promised+200*time.Millisecond {
		t.Fatalf("the event cost the command %v (%v against %v), the promise is %v", extra, with, alone, promised)
	}
	t.Logf("hint alone %v, with a silent trainer %v", alone, with)
}

func TestRaiseHand(t *testing.T) {
	r := newRoom(t)
	l := newLearner(t)
	if res := l.run("raise-hand"); res.code != cmdutil.ExitError || !strings.Contains(res.errOut, "dojo join URL") {
		t.Fatalf("raise-hand, not joined: %d %q", res.code, res.errOut)
	}
	l.run("join", r.url, "--token", r.JoinToken(), "--name", "Ada")
	res := l.run("raise-hand", "the", "adapter", "lists", "nothing")
	if res.code != 0 || !strings.Contains(res.out, "Your hand is up") {
		t.Fatalf("raise-hand: %d %q %q", res.code, res.out, res.errOut)
	}
	if h := r.one(t).Hand; h == nil || h.Message != "the adapter lists nothing" {
		t.Fatalf("hand = %+v", h)
	}
	// A wrong token is said, not queued.
	m, _ := classroom.LoadMember(l.ws)
	m.Token = token
	classroom.SaveMember(l.ws, m)
	if res := l.run("raise-hand"); res.code != cmdutil.ExitError || !strings.Contains(res.errOut, "refused the join token") {
		t.Fatalf("raise-hand with a wrong token: %d %q", res.code, res.errOut)
	}
	if res := l.run("join", r.url, "--token", token, "--name", "Ada"); res.code != cmdutil.ExitError || !strings.Contains(res.errOut, "refused the token") {
		t.Fatalf("join with a wrong token: %d %q", res.code, res.errOut)
	}
	if _, err := os.Stat(classroom.MemberPath(l.ws)); err == nil {
		t.Fatal("a refused join left a membership")
	}
}

var (
	joinLine = regexp.MustCompile(`dojo join (http://\S+) --token (\S+) --name`)
	pageLine = regexp.MustCompile(`(http://\S+/\?token=(\S+))`)
)

// serving runs `dojo classroom` until the returned stop is called, and
// returns what it printed once it printed the page's URL.
func serving(t testing.TB, args ...string) (joinURL, joinToken, page string, out *syncBuffer, stop func()) {
	t.Helper()
	l := newLearner(t)
	f, out, errOut := l.factory()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- cli.Run(ctx, f, append([]string{"classroom"}, args...)) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "Ctrl-C") {
		select {
		case code := <-done:
			t.Fatalf("dojo classroom exited %d: %s %s", code, out, errOut)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dojo classroom printed no page URL in 10 s: %s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	j := joinLine.FindStringSubmatch(out.String())
	p := pageLine.FindStringSubmatch(out.String())
	if j == nil || p == nil {
		t.Fatalf("no join command or page URL in:\n%s", out)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("dojo classroom exited %d after Ctrl-C: %s", code, errOut)
			}
		case <-time.After(5 * time.Second):
			t.Error("dojo classroom did not stop within 5 s of Ctrl-C")
		}
	}
	t.Cleanup(stop)
	return j[1], j[2], p[1], out, stop
}

func TestClassroomServesPrintsAndResumes(t *testing.T) {
	state := filepath.Join(t.TempDir(), "room.json")
	joinURL, joinToken, page, out, stop := serving(t, "--listen", "127.0.0.1:0", "--state", state)
	mustContain(t, "dojo classroom", out.String(), "A new room, kept in "+state, "Only this laptop can reach", "--listen 0.0.0.0:")
	if !strings.HasPrefix(page, "http://127.0.0.1:") || strings.Contains(page, joinToken) {
		t.Fatalf("page URL %q: want loopback and the trainer's own token", page)
	}
	if res, err := http.Get(page); err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET the page: %v %v", err, res)
	}
	l := newLearner(t)
	if res := l.run("join", joinURL, "--token", joinToken, "--name", "Ada"); res.code != 0 {
		t.Fatalf("join the printed command: %d %s", res.code, res.errOut)
	}
	base := strings.SplitN(page, "/?", 2)[0]
	trainer := pageLine.FindStringSubmatch(page)[2]
	var v classroom.View
	if code := getJSON(t, base+"/api/room?token="+trainer, &v); code != 200 || len(v.Learners) != 1 {
		t.Fatalf("room: %d %+v", code, v.Learners)
	}
	stop()
	// Restarted with the same file: the same tokens and the learner.
	joinURL2, joinToken2, page2, out2, _ := serving(t, "--listen", "127.0.0.1:0", "--state", state, "--large")
	mustContain(t, "dojo classroom, again", out2.String(), "Resumed the room kept in "+state+" (1 learners)")
	if joinToken2 != joinToken || pageLine.FindStringSubmatch(page2)[2] != trainer+"&large=1" {
		t.Fatalf("tokens changed across a restart: %s %s", joinToken2, page2)
	}
	l.run("raise-hand") // still joined to the old address: queued
	m, _ := classroom.LoadMember(l.ws)
	m.URL = joinURL2
	classroom.SaveMember(l.ws, m)
	l.run("step", "1")
	base2 := strings.SplitN(page2, "/?", 2)[0]
	if code := getJSON(t, base2+"/api/room?token="+trainer, &v); code != 200 || len(v.Learners) != 1 || v.Learners[0].Hand == nil {
		t.Fatalf("after a restart: %d %+v", code, v.Learners)
	}
	_ = joinURL
	// The export reads the file.
	l2 := newLearner(t)
	res := l2.run("classroom", "export", "--state", state, "--format", "csv")
	if res.code != 0 || !strings.Contains(res.out, "\nAda,"+m.Learner+",1,0,") {
		t.Fatalf("export: %d %q %q", res.code, res.out, res.errOut)
	}
	if res := l2.run("classroom", "export", "--state", filepath.Join(t.TempDir(), "none.json")); res.code != cmdutil.ExitError || !strings.Contains(res.errOut, "no room in") {
		t.Fatalf("export of no room: %d %q", res.code, res.errOut)
	}
}

func TestTheDefaultListensOnLoopbackOnly(t *testing.T) {
	l := newLearner(t)
	f, _, _ := l.factory()
	cmd := classroomcmd.NewCmd(f)
	if def := cmd.Flags().Lookup("listen").DefValue; def != "127.0.0.1:7777" {
		t.Fatalf("--listen defaults to %q", def)
	}
	mustContain(t, "dojo classroom --help", cmd.Long, "0.0.0.0:7777", "The default, 127.0.0.1:7777", "plain HTTP")
}

func TestJoinNeedsAWorkspace(t *testing.T) {
	r := newRoom(t)
	l := newLearner(t)
	l.ws = filepath.Join(l.ws, "missing")
	res := l.run("join", r.url, "--token", r.JoinToken(), "--name", "Ada")
	if res.code != cmdutil.ExitError || !strings.Contains(res.errOut, "no workspace at "+l.ws) {
		t.Fatalf("join without a workspace: %d %q", res.code, res.errOut)
	}
	if _, err := os.Stat(l.ws); err == nil || r.posts() != 0 {
		t.Fatal("join made a workspace or sent an event")
	}
}
