package ui

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

type tick struct {
	mu sync.Mutex
	t  time.Time
}

func (c *tick) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(500 * time.Millisecond)
	return c.t
}

func TestProgressOffTerminalIsPlainLines(t *testing.T) {
	var buf bytes.Buffer
	c := &tick{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := newProgress(&buf, false, NewStyles(false), c.now)
	a := p.Start("Installing traefik")
	b := p.Start("Installing redis")
	b.Status("waiting for redis-master")
	b.Done(nil)
	a.Done(errors.New("timed out"))
	p.Close()
	want := "• Installing traefik…\n" +
		"• Installing redis…\n" +
		"  Installing redis: waiting for redis-master\n" +
		"✓ Installing redis (500ms)\n" +
		"✗ Installing traefik (1.5s)\n"
	if buf.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
	tm := p.Timings()
	if len(tm) != 2 || tm[0].Name != "Installing redis" || tm[1].Err == nil {
		t.Fatalf("timings = %+v", tm)
	}
}

func TestProgressOnTerminalOwnsOneLine(t *testing.T) {
	var buf syncBuffer
	c := &tick{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := newProgress(&buf, true, NewStyles(false), c.now)
	a := p.Start("Installing traefik")
	b := p.Start("Installing redis")
	time.Sleep(250 * time.Millisecond) // let the spinner animate a few frames
	b.Done(nil)
	p.Warn("a message from elsewhere")
	a.Done(nil)
	p.Close()
	out := buf.String()
	// Permanent lines are whole lines, each printed once, after clearing the
	// spinner line.
	for _, line := range []string{"✓ Installing redis", "a message from elsewhere\n", "✓ Installing traefik"} {
		if strings.Count(out, line) != 1 {
			t.Errorf("%q appears %d times in:\n%q", line, strings.Count(out, line), out)
		}
	}
	// The spinner line names both running tasks at once: one spinner, not two.
	if !strings.Contains(out, "Installing redis, Installing traefik") {
		t.Errorf("no shared spinner line for the two tasks:\n%q", out)
	}
	// After Close nothing is left on the spinner line.
	if !strings.HasSuffix(out, "\n") && !strings.HasSuffix(out, "\r\x1b[2K") {
		t.Errorf("spinner left drawn at the end: %q", out[max(0, len(out)-40):])
	}
}

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

// On a terminal the spinner moves while a task runs: its line is redrawn
// with the next frame on every tick, so a learner sees that dojo is alive.
func TestProgressSpinnerAdvances(t *testing.T) {
	var buf syncBuffer
	p := newProgress(&buf, true, NewStyles(false), time.Now)
	task := p.Start("Installing redis")
	defer p.Close()
	frames := []rune(spinnerFrames)
	// The first draw shows frame 0; wait (bounded) for frames 1 and 2 to be
	// drawn after it, in that order.
	want := []string{string(frames[0]) + " Installing redis", string(frames[1]) + " Installing redis", string(frames[2]) + " Installing redis"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := buf.String()
		pos, ok := 0, true
		for _, w := range want {
			i := strings.Index(out[pos:], w)
			if i < 0 {
				ok = false
				break
			}
			pos += i + len(w)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the spinner did not advance through %q within 10s; drawn:\n%q", want, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	task.Done(nil)
}

// On a terminal: a finished task's line is followed by the spinner line of
// the tasks still running; once the last one is done the spinner is gone for
// good (nothing is drawn after the final line); a status shows beside its
// task; a warning printed while nothing runs is just that line.
func TestProgressOnTerminalRedrawsAndStops(t *testing.T) {
	var buf syncBuffer
	c := &tick{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := newProgress(&buf, true, NewStyles(false), c.now)
	a := p.Start("Installing traefik")
	b := p.Start("Installing redis")
	b.Status("waiting for redis-master")
	if out := buf.String(); !strings.Contains(out, "Installing redis: waiting for redis-master, Installing traefik") {
		t.Fatalf("the status is not beside its task:\n%q", out)
	}
	b.Done(nil)
	out := buf.String()
	after := out[strings.Index(out, "✓ Installing redis"):]
	if !strings.Contains(after, "\n") || !strings.Contains(after[strings.Index(after, "\n"):], "Installing traefik") {
		t.Fatalf("the running task's spinner line was not redrawn after the finished one:\n%q", after)
	}
	a.Done(nil)
	time.Sleep(250 * time.Millisecond) // two ticks of an animation that must have stopped
	out = buf.String()
	if !strings.HasSuffix(out, "\n") {
		t.Fatalf("something was drawn after the last task finished: %q", out[max(0, len(out)-60):])
	}
	p.mu.Lock()
	stopped := p.stop == nil
	p.mu.Unlock()
	if !stopped {
		t.Fatal("the animation still runs with no task left")
	}
	n := len(out)
	p.Warn("all done")
	if got := buf.String()[n:]; got != "! all done\n" {
		t.Fatalf("Warn with nothing running wrote %q, want only the line", got)
	}
	p.Close()
}

func TestRoundDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		250*time.Millisecond + 400*time.Microsecond: "250ms",
		1260 * time.Millisecond:                     "1.3s",
		61*time.Second + 449*time.Millisecond:       "1m1.4s",
	} {
		if got := roundDuration(d); got != want {
			t.Errorf("roundDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
