//go:build unix

package ui

import (
	"os"
	"os/signal"
	"syscall"
)

// watchResize delivers a value whenever the terminal's window changes size
// (SIGWINCH), until stop is called.
func watchResize() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGWINCH)
	return ch, func() { signal.Stop(ch) }
}
