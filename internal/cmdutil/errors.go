// Package cmdutil holds what every command package shares: the error kinds
// that cli.Main maps to exit codes.
package cmdutil

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// Exit codes, mapped from errors in one place (cli.Main).
const (
	ExitOK          = 0
	ExitError       = 1
	ExitUsage       = 2
	ExitCheckFailed = 3
)

// UsageError is bad input from the command line: an unknown step, a hint index
// out of range, a malformed flag. It exits 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef builds a UsageError.
func Usagef(format string, a ...any) error { return &UsageError{Msg: fmt.Sprintf(format, a...)} }

// NoArgs is cobra.NoArgs as a usage error.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return Usagef("%s takes no arguments, got %q: see `%s --help`", cmd.CommandPath(), args, cmd.CommandPath())
	}
	return nil
}

// ErrCheckFailed is returned by a command whose check ran and did not pass.
// The results were already printed; it exits 3 with no further message.
var ErrCheckFailed = errors.New("a check ran and failed")

// ExitCode maps an error to the process exit code.
func ExitCode(err error) int {
	var ue *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, ErrCheckFailed):
		return ExitCheckFailed
	case errors.As(err, &ue):
		return ExitUsage
	default:
		return ExitError
	}
}

// A value longer than TooLong characters is quoted in a message by its
// first Shown characters only: no path or name a learner types is that
// long, a pasted blob is.
const (
	TooLong = 200
	Shown   = 60
)

// Cut is a value as a message shows it: whole up to TooLong characters,
// else its first Shown, an ellipsis and its length, so a pasted
// 100 000-character argument costs one line.
func Cut(v string) string {
	r := []rune(v)
	if len(r) <= TooLong {
		return v
	}
	return fmt.Sprintf("%s… (%d characters)", string(r[:Shown]), len(r))
}
