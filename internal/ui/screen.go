package ui

import (
	"context"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// ScreenModel is a full-screen view (dojo watch's): it takes messages and
// says when it is done, and draws itself in exactly the lines it is given.
type ScreenModel interface {
	Update(msg any) (next ScreenModel, done bool)
	View() string
}

// The messages RunScreen sends to a model, beside those the caller sends.
type (
	// ResizeMsg is the terminal's size: sent once at the start and again
	// whenever the window changes.
	ResizeMsg struct{ Width, Height int }
	// KeyMsg is a key pressed: "q", "esc", "ctrl+c", or the text typed.
	KeyMsg string
)

// Screen is where a full-screen view is drawn.
type Screen struct {
	In  io.Reader
	Out io.Writer
	// Width and Height are the size used when Out is not a terminal that
	// reports one.
	Width, Height int
}

// The escape sequences of a full-screen view: the alternate screen and the
// cursor. Nothing here asks the terminal anything, so a terminal that
// never answers costs nothing.
const (
	enterScreen = "\x1b[?1049h\x1b[?25l\x1b[2J"
	leaveScreen = "\x1b[?25h\x1b[?1049l"
)

// Run draws m on the alternate screen and feeds it messages (msgs, the keys
// read from In, the window's size) until the model is done, msgs is closed
// or ctx ends. In is put in raw mode when it is a terminal, so that a key
// arrives without Enter; the terminal is restored before Run returns.
func (s Screen) Run(ctx context.Context, m ScreenModel, msgs <-chan any) ScreenModel {
	if f, ok := s.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if old, err := term.MakeRaw(int(f.Fd())); err == nil {
			defer term.Restore(int(f.Fd()), old) //nolint:errcheck
		}
	}
	io.WriteString(s.Out, enterScreen) //nolint:errcheck
	defer io.WriteString(s.Out, leaveScreen)

	keys := make(chan KeyMsg)
	stop := make(chan struct{})
	defer close(stop)
	if s.In != nil {
		go readKeys(s.In, keys, stop)
	}
	resized, stopResize := watchResize()
	defer stopResize()

	var done bool
	if m, done = m.Update(s.size()); done {
		return m
	}
	last := ""
	draw := func() {
		if v := m.View(); v != last {
			last = v
			io.WriteString(s.Out, frame(v)) //nolint:errcheck
		}
	}
	draw()
	for {
		var msg any
		select {
		case <-ctx.Done():
			return m
		case k := <-keys:
			msg = k
		case <-resized:
			msg = s.size()
		case x, ok := <-msgs:
			if !ok {
				return m
			}
			msg = x
		}
		if m, done = m.Update(msg); done {
			return m
		}
		draw()
	}
}

// size is Out's size when it is a terminal that reports one, else the
// fallback.
func (s Screen) size() ResizeMsg {
	if f, ok := s.Out.(*os.File); ok {
		if w, h, err := term.GetSize(int(f.Fd())); err == nil && w > 0 && h > 0 {
			return ResizeMsg{Width: w, Height: h}
		}
	}
	return ResizeMsg{Width: s.Width, Height: s.Height}
}

// frame redraws the whole view from the top-left corner, clearing what the
// previous frame left beyond each line and below the last. Lines end in
// "\r\n": in raw mode the terminal does not add the carriage return.
func frame(view string) string {
	var b strings.Builder
	b.WriteString("\x1b[H")
	for i, line := range strings.Split(view, "\n") {
		if i > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString(line)
		b.WriteString("\x1b[K")
	}
	b.WriteString("\x1b[J")
	return b.String()
}

// readKeys turns what In delivers into keys until it ends or stop closes.
// A read of In cannot be interrupted, so on a terminal this goroutine
// outlives the view by one read; dojo exits right after.
func readKeys(in io.Reader, keys chan<- KeyMsg, stop <-chan struct{}) {
	buf := make([]byte, 64)
	for {
		n, err := in.Read(buf)
		for _, k := range parseKeys(buf[:n]) {
			select {
			case keys <- k:
			case <-stop:
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// parseKeys names the keys in one read: Ctrl-C, a lone Esc (an escape
// sequence such as an arrow key is read whole and is not Esc), or the
// characters typed.
func parseKeys(b []byte) []KeyMsg {
	if len(b) == 0 {
		return nil
	}
	if b[0] == 0x1b {
		if len(b) == 1 {
			return []KeyMsg{"esc"}
		}
		return nil
	}
	var keys []KeyMsg
	for _, r := range string(b) {
		switch r {
		case 0x03:
			keys = append(keys, "ctrl+c")
		case 0x1b:
			return keys
		default:
			keys = append(keys, KeyMsg(string(r)))
		}
	}
	return keys
}
