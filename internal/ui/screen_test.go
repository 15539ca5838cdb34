package ui

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"
)

// counter counts the messages it gets and is done on "q" or a string
// message "stop".
type counter struct {
	size ResizeMsg
	n    int
}

func (c counter) Update(msg any) (ScreenModel, bool) {
	switch msg := msg.(type) {
	case ResizeMsg:
		c.size = msg
	case KeyMsg:
		if msg == "q" {
			return c, true
		}
	case string:
		if msg == "stop" {
			return c, true
		}
		c.n++
	}
	return c, false
}

func (c counter) View() string {
	return fmt.Sprintf("%dx%d\nseen %d", c.size.Width, c.size.Height, c.n)
}

// dojo watch's screen: the alternate screen on and off around the frames,
// the fallback size when the output is no terminal, a frame for each
// change, and an end on a key, on the model's word or on a cancelled
// context.
func TestScreenRunsUntilDone(t *testing.T) {
	inR, inW := io.Pipe()
	defer inW.Close()
	var out bytes.Buffer
	msgs := make(chan any)
	done := make(chan ScreenModel)
	go func() {
		done <- Screen{In: inR, Out: &out, Width: 80, Height: 24}.Run(context.Background(), counter{}, msgs)
	}()
	msgs <- "a"
	msgs <- "b"
	if _, err := inW.Write([]byte("x")); err != nil { // a key that does not quit
		t.Fatal(err)
	}
	if _, err := inW.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	var m ScreenModel
	select {
	case m = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("q did not end the screen")
	}
	if c := m.(counter); c.n != 2 || c.size != (ResizeMsg{80, 24}) {
		t.Errorf("model saw %+v, want 2 messages at 80x24", c)
	}
	got := out.String()
	if !strings.HasPrefix(got, enterScreen) || !strings.HasSuffix(got, leaveScreen) {
		t.Errorf("the screen is not entered and left: %q", got)
	}
	if !strings.Contains(got, "80x24\x1b[K\r\nseen 2\x1b[K\x1b[J") {
		t.Errorf("the last frame is not drawn line by line: %q", got)
	}
	if strings.Count(got, "seen 2") != 1 {
		t.Errorf("an unchanged view is drawn again: %q", got)
	}

	// The model's own end, and a cancelled context.
	go func() { done <- Screen{Out: io.Discard}.Run(context.Background(), counter{}, msgs) }()
	msgs <- "stop"
	<-done
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- Screen{Out: io.Discard}.Run(ctx, counter{}, msgs) }()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a cancelled context did not end the screen")
	}
}

func TestParseKeys(t *testing.T) {
	for in, want := range map[string]string{
		"q": "q", "\x03": "ctrl+c", "\x1b": "esc", "\x1b[A": "", "ab": "a b", "": "",
	} {
		var got []string
		for _, k := range parseKeys([]byte(in)) {
			got = append(got, string(k))
		}
		if strings.Join(got, " ") != want {
			t.Errorf("parseKeys(%q) = %q, want %q", in, got, want)
		}
	}
}

// On a real terminal the keys arrive raw: "q" ends the view without Enter,
// and the terminal's mode is given back as it was.
func TestScreenOnATerminalReadsKeysRaw(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("opening a pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	if err := pty.Setsize(tty, &pty.Winsize{Rows: 30, Cols: 100}); err != nil {
		t.Fatal(err)
	}
	before, err := term.GetState(int(tty.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, ptmx) // the screen's frames
	done := make(chan ScreenModel)
	go func() { done <- Screen{In: tty, Out: tty}.Run(context.Background(), counter{}, nil) }()
	time.Sleep(200 * time.Millisecond)
	if _, err := ptmx.Write([]byte("q")); err != nil { // no newline: raw mode or nothing
		t.Fatal(err)
	}
	select {
	case m := <-done:
		if c := m.(counter); c.size != (ResizeMsg{100, 30}) {
			t.Errorf("size %+v, want the terminal's 100x30", c.size)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("q without Enter did not end the view: the terminal was not in raw mode")
	}
	after, _ := term.GetState(int(tty.Fd()))
	if *after != *before {
		t.Errorf("the terminal's mode was not given back")
	}
}
