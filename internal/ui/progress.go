package ui

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kubedojo/dojo/internal/report"
)

// Progress is the one owner of the progress line on stderr. Any number of
// tasks may run at once (parallel installs); on a terminal they share a single
// spinner line that names every running task, and each finished task leaves a
// permanent line above it. Off a terminal there is no animation: a line when a
// task starts and one when it ends.
type Progress struct {
	w      io.Writer
	tty    bool
	styles Styles
	now    func() time.Time

	mu      sync.Mutex
	running map[*Task]struct{}
	frame   int
	drawn   bool
	stop    chan struct{}
	done    chan struct{}
	timings []Timing
}

// Timing is how long one finished task took.
type Timing struct {
	Name     string
	Duration time.Duration
	Err      error
}

// Task is one unit of work shown by Progress.
type Task struct {
	p       *Progress
	name    string
	started time.Time
	status  string
}

// spinnerFrames are the spinner's frames, one rune each.
const spinnerFrames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

// NewProgress writes to the streams' stderr.
func NewProgress(s *IOStreams) *Progress {
	return newProgress(s.ErrOut, s.IsStderrTTY(), s.ErrStyles(), time.Now)
}

func newProgress(w io.Writer, tty bool, st Styles, now func() time.Time) *Progress {
	return &Progress{w: w, tty: tty, styles: st, now: now, running: map[*Task]struct{}{}}
}

var _ report.Progress = (*Progress)(nil)

// Start begins a task.
func (p *Progress) Start(name string) report.Task {
	t := &Task{p: p, name: name, started: p.now()}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running[t] = struct{}{}
	if p.tty {
		if p.stop == nil {
			p.stop, p.done = make(chan struct{}), make(chan struct{})
			go p.animate(p.stop, p.done)
		}
		p.redrawLocked()
	} else {
		fmt.Fprintf(p.w, "• %s…\n", name)
	}
	return t
}

// Status updates the detail shown beside a running task (TTY only; off a
// terminal it is printed as its own line, since logs want every step).
func (t *Task) Status(msg string) {
	p := t.p
	p.mu.Lock()
	defer p.mu.Unlock()
	t.status = msg
	if p.tty {
		p.redrawLocked()
	} else {
		fmt.Fprintf(p.w, "  %s: %s\n", t.name, msg)
	}
}

// Done ends the task, successfully when err is nil.
func (t *Task) Done(err error) {
	p := t.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.running[t]; !ok {
		return
	}
	delete(p.running, t)
	d := p.now().Sub(t.started)
	p.timings = append(p.timings, Timing{Name: t.name, Duration: d, Err: err})
	p.clearLocked()
	mark := p.styles.PassMark()
	if err != nil {
		mark = p.styles.FailMark()
	}
	fmt.Fprintf(p.w, "%s %s %s\n", mark, t.name, p.styles.Muted.Render("("+roundDuration(d)+")"))
	if p.tty {
		if len(p.running) == 0 {
			p.stopAnimationLocked()
		} else {
			p.redrawLocked()
		}
	}
}

// Warn prints a warning, in the one warning format (WarnLine), without
// tearing the spinner.
func (p *Progress) Warn(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.printlnLocked(WarnLine(p.styles, msg))
}

func (p *Progress) printlnLocked(line string) {
	p.clearLocked()
	fmt.Fprintln(p.w, line)
	if len(p.running) > 0 && p.tty {
		p.redrawLocked()
	}
}

// Timings returns every finished task's duration, in finishing order.
func (p *Progress) Timings() []Timing {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Timing(nil), p.timings...)
}

// Close stops the animation; running tasks are left unfinished.
func (p *Progress) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	p.stopAnimationLocked()
}

func (p *Progress) stopAnimationLocked() {
	if p.stop == nil {
		return
	}
	close(p.stop)
	done := p.done
	p.stop, p.done = nil, nil
	p.mu.Unlock()
	<-done
	p.mu.Lock()
}

func (p *Progress) animate(stop, done chan struct{}) {
	defer close(done)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			p.mu.Lock()
			p.frame++
			if len(p.running) > 0 {
				p.redrawLocked()
			}
			p.mu.Unlock()
		}
	}
}

func (p *Progress) clearLocked() {
	if p.tty && p.drawn {
		fmt.Fprint(p.w, "\r\x1b[2K")
		p.drawn = false
	}
}

func (p *Progress) redrawLocked() {
	names := make([]string, 0, len(p.running))
	var oldest time.Time
	for t := range p.running {
		n := t.name
		if t.status != "" {
			n += ": " + t.status
		}
		names = append(names, n)
		if oldest.IsZero() || t.started.Before(oldest) {
			oldest = t.started
		}
	}
	sort.Strings(names)
	p.clearLocked()
	frames := []rune(spinnerFrames)
	frame := string(frames[p.frame%len(frames)])
	fmt.Fprintf(p.w, "%s %s %s", p.styles.Accent.Render(frame), strings.Join(names, ", "), p.styles.Muted.Render(roundDuration(p.now().Sub(oldest))))
	p.drawn = true
}

func roundDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(100 * time.Millisecond).String()
	}
}
