package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/internal/app"
	cliapp "github.com/kubedojo/dojo/internal/cli/app"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/testutil/redistest"
)

// asDojoEnv makes the test binary act as `dojo app …` (the real command
// package, real signals) when set: the subprocess tests re-exec themselves
// instead of building the whole dojo binary.
const asDojoEnv = "DOJO_APP_TEST_AS_DOJO"

func TestMain(m *testing.M) {
	if os.Getenv(asDojoEnv) == "1" {
		os.Exit(runAsDojo(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// runAsDojo is what cli.Main does, for the `app` command only.
func runAsDojo(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f := factory.New(factory.BuildInfo{Version: "test"})
	cmd := cliapp.NewCmd(f)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	if len(args) > 0 && args[0] == "app" {
		args = args[1:] // the command below is `dojo app` itself
	}
	cmd.SetArgs(args)
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &cmdutil.UsageError{Msg: err.Error()} })
	err := cmd.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
	}
	return cmdutil.ExitCode(err)
}

// ---- Redis and HTTP helpers ----

func client(t testing.TB, s *redistest.Server) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, DisableIdentity: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func newProducer(t testing.TB, addr string, log *slog.Logger) (*app.Producer, *httptest.Server) {
	t.Helper()
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p, err := app.NewProducer(app.ProducerOptions{CommonOptions: app.CommonOptions{
		RedisAddr: addr, Queue: app.DefaultQueue, Listen: "127.0.0.1:0", Logger: log,
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(func() { srv.Close(); _ = p.Close() })
	return p, srv
}

type response struct {
	Code int
	Body string
	JSON map[string]any
}

func do(t testing.TB, method, url string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := response{Code: res.StatusCode, Body: string(b)}
	_ = json.Unmarshal(b, &r.JSON)
	return r
}

// eventually polls cond every 10 ms until it holds or timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, still not %s: %s", timeout, what, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ---- in-process consumers ----

// logBook collects the consumers' "item arrived"/"item done" log records.
type logBook struct {
	mu      sync.Mutex
	arrived map[string]int
	done    map[string]int
	all     []string
}

func newLogBook() *logBook {
	return &logBook{arrived: map[string]int{}, done: map[string]int{}}
}

func (b *logBook) add(msg string, attrs map[string]string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch msg {
	case "item arrived":
		b.arrived[attrs["item"]]++
	case "item done":
		b.done[attrs["item"]]++
	}
	b.all = append(b.all, fmt.Sprintf("%s %v", msg, attrs))
}

func (b *logBook) doneCount() (distinct, total int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, n := range b.done {
		distinct++
		total += n
	}
	return
}

func (b *logBook) logger() *slog.Logger { return slog.New(&bookHandler{book: b}) }

type bookHandler struct {
	book  *logBook
	attrs []slog.Attr
}

func (h *bookHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *bookHandler) Handle(_ context.Context, r slog.Record) error {
	m := map[string]string{}
	for _, a := range h.attrs {
		m[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
	h.book.add(r.Message, m)
	return nil
}
func (h *bookHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &bookHandler{book: h.book, attrs: append(append([]slog.Attr{}, h.attrs...), as...)}
}
func (h *bookHandler) WithGroup(string) slog.Handler { return h }

// runConsumer runs a consumer in this process until the test ends.
func runConsumer(t testing.TB, addr string, log *slog.Logger, mod func(*app.ConsumerOptions)) *app.Consumer {
	t.Helper()
	o := app.ConsumerOptions{
		CommonOptions: app.CommonOptions{RedisAddr: addr, Queue: app.DefaultQueue, Listen: "127.0.0.1:0", Logger: log},
		WorkTime:      2 * time.Millisecond,
		HeartbeatTTL:  app.DefaultHeartbeatTTL,
		BlockTimeout:  100 * time.Millisecond,
	}
	if mod != nil {
		mod(&o)
	}
	c, err := app.NewConsumer(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("consumer %s did not stop within 10s of cancel", c.ID())
		}
		_ = c.Close()
	})
	return c
}

// ---- consumers as processes ----

// dojoProc is `dojo app consumer` run as a real process (this test binary
// re-executed), with its stderr collected line by line.
type dojoProc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	lines  []string
	exited chan struct{}
	err    error
}

func startDojo(t testing.TB, args ...string) *dojoProc {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), asDojoEnv+"=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &dojoProc{cmd: cmd, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
		}
		close(lines)
	}()
	go func() {
		<-lines
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill() // only the process this test started
			<-p.exited
		}
		if t.Failed() {
			t.Logf("log of %v:\n%s", args, strings.Join(p.Lines(), "\n"))
		}
	})
	return p
}

func (p *dojoProc) Lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

var itemRE = regexp.MustCompile(`msg="item (arrived|done)".* item=(\S+)`)

// items returns the ids the process logged as arrived and as done.
func (p *dojoProc) items() (arrived, done []string) {
	for _, l := range p.Lines() {
		if m := itemRE.FindStringSubmatch(l); m != nil {
			if m[1] == "arrived" {
				arrived = append(arrived, m[2])
			} else {
				done = append(done, m[2])
			}
		}
	}
	return
}

func (p *dojoProc) waitExit(t testing.TB, timeout time.Duration) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		t.Fatalf("process did not exit within %s", timeout)
	}
	code := 0
	if p.err != nil {
		if ee, ok := p.err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			t.Fatalf("waiting for the process: %v", p.err)
		}
	}
	return code, time.Since(start)
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// pauseRedis freezes the test's own redis-server with SIGSTOP, as a Redis
// that stalls does: connections stay open, commands are read by nobody.
// The pid comes from the server's INFO and is checked to be a redis-server
// on s's port before any signal is sent. resume sends SIGCONT; the test's
// end resumes it too, before redistest stops it.
func pauseRedis(t *testing.T, s *redistest.Server) (resume func()) {
	t.Helper()
	info, err := client(t, s).Info(context.Background(), "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`process_id:(\d+)`).FindStringSubmatch(info)
	if m == nil {
		t.Fatalf("no process_id in INFO server: %s", info)
	}
	pid, _ := strconv.Atoi(m[1])
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), "redis-server") || !strings.Contains(string(cmdline), strconv.Itoa(s.Port)) {
		t.Fatalf("pid %d is not the test's redis-server on port %d (%q, %v)", pid, s.Port, cmdline, err)
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	resume = func() { once.Do(func() { _ = syscall.Kill(pid, syscall.SIGCONT) }) }
	t.Cleanup(resume)
	return resume
}

// post sends a POST with a body and reads the answer.
func post(t testing.TB, url, body string) response {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := response{Code: res.StatusCode, Body: string(b)}
	_ = json.Unmarshal(b, &r.JSON)
	return r
}
