// Package redistest starts a real redis-server for tests: on a free loopback
// port, in a temporary directory, without persistence, stopped when the test
// ends. Only the process it started is ever signalled.
//
// A missing redis-server fails the test (it is never skipped): install it
// with `apt-get install redis-server` or `make test-deps`.
package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// startTimeout bounds how long redis-server may take to answer PING.
const startTimeout = 10 * time.Second

// Server is one redis-server process owned by a test.
type Server struct {
	// Addr is "127.0.0.1:<port>"; it stays the same across Restart.
	Addr string
	// Port is the TCP port of Addr.
	Port int

	t    testing.TB
	bin  string
	dir  string
	args []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Binary finds redis-server: $DOJO_REDIS_SERVER, then PATH, then
// /usr/bin/redis-server. It fails the test when none exists.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("DOJO_REDIS_SERVER"); p != "" {
		return p
	}
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/redis-server"); err == nil {
		return "/usr/bin/redis-server"
	}
	t.Fatal("redis-server not found: these tests run a real Redis. Install it with " +
		"`apt-get install redis-server` (or `make test-deps`), or point DOJO_REDIS_SERVER at one")
	return ""
}

// Start runs a fresh redis-server on a free 127.0.0.1 port and stops it at
// the end of the test. extraArgs are appended to the command line (for
// example "--maxmemory", "10mb").
func Start(t testing.TB, extraArgs ...string) *Server {
	t.Helper()
	s := &Server{t: t, bin: Binary(t), dir: t.TempDir(), args: extraArgs}
	var lastErr error
	// A free port can be taken by someone else between our probe and
	// redis-server's bind: try a few.
	for range 5 {
		port, err := freePort()
		if err != nil {
			t.Fatalf("redistest: finding a free port: %v", err)
		}
		s.Port = port
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if lastErr = s.start(); lastErr == nil {
			t.Cleanup(s.Stop)
			return s
		}
	}
	t.Fatalf("redistest: starting redis-server: %v", lastErr)
	return nil
}

// Restart stops the server and starts it again on the same port. The data is
// gone (nothing is persisted), as after a real Redis restart without
// persistence.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	var err error
	deadline := time.Now().Add(startTimeout)
	for {
		if err = s.start(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redistest: restarting redis-server on %s: %v", s.Addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop terminates the server (SIGTERM, then SIGKILL after 5 s) and waits for
// it. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd, s.done = nil, nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(os.Interrupt)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Running reports whether the server process is up (started and not stopped).
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

// LogPath is the server's log file, useful in failure messages.
func (s *Server) LogPath() string { return filepath.Join(s.dir, "redis.log") }

func (s *Server) start() error {
	args := []string{
		"--bind", "127.0.0.1",
		"--port", strconv.Itoa(s.Port),
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
		"--logfile", s.LogPath(),
		"--daemonize", "no",
		"--protected-mode", "yes",
	}
	args = append(args, s.args...)
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.dir
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()

	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-done:
			return fmt.Errorf("redis-server exited at start: %s", s.logTail())
		default:
		}
		if err := ping(s.Addr); err == nil {
			break
		} else if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			return fmt.Errorf("no PONG from %s after %s (%v): %s", s.Addr, startTimeout, err, s.logTail())
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	return nil
}

func (s *Server) logTail() string {
	b, err := os.ReadFile(s.LogPath())
	if err != nil {
		return "(no log)"
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}

// ping speaks just enough RESP to check the server answers.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return errors.New("unexpected reply " + strconv.Quote(line))
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
