// Package cli wires the dojo commands together and maps errors to exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/helm"
)

// Build information, set by the linker (-X) in release builds.
var (
	version = "dev"
	commit  = ""
	date    = ""
)

// Main runs dojo with the process's arguments and exits.
func Main() {
	helm.UseHelmFieldManager()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	f := factory.New(factory.BuildInfo{Version: version, Commit: commit, Date: date})
	code := Run(ctx, f, os.Args[1:])
	stop()
	os.Exit(code)
}

// IssuesURL is where a learner reports a bug in dojo (the repository's
// issues page).
const IssuesURL = "https://github.com/kubedojo/dojo/issues"

// DebugEnv set to anything but "" or "0" adds the stack to the report of a
// bug (a panic).
const DebugEnv = "DOJO_DEBUG"

// Run executes one dojo command line and returns the exit code: 0 ok, 1 error,
// 2 usage, 3 a check ran and failed. Every error is printed here, once. A
// panic is a bug in dojo: it exits 1 with one line saying where to report it
// (the stack only under DOJO_DEBUG=1), never with Go's trace.
func Run(ctx context.Context, f *factory.Factory, args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			code = reportBug(f, r, debug.Stack())
		}
	}()
	root := NewRootCmd(f)
	root.SetArgs(args)
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	err := root.ExecuteContext(ctx)
	if err != nil && strings.HasPrefix(err.Error(), "unknown command") {
		// cobra's own word for a mistyped command; it is a usage error.
		err = &cmdutil.UsageError{Msg: strings.SplitN(err.Error(), "\n", 2)[0] + ": see `dojo --help`"}
	}
	if err == nil {
		return cmdutil.ExitOK
	}
	if !errors.Is(err, cmdutil.ErrCheckFailed) { // a failed check has printed its results
		st := f.IO.ErrStyles()
		fmt.Fprintf(f.IO.ErrOut, "%s %s\n", st.Fail.Render("error:"), cutArgs(err.Error(), args))
	}
	return cmdutil.ExitCode(err)
}

// cutArgs shortens, wherever msg quotes one, each argument longer than
// cmdutil.TooLong characters (cmdutil.Cut): whatever command or library
// wrote the message, a pasted blob is never echoed whole. An argument is
// looked for as given, without its leading dashes, as a --flag=value's
// value, and as %q escapes it.
func cutArgs(msg string, args []string) string {
	var long []string
	for _, a := range args {
		forms := []string{a, strings.TrimLeft(a, "-")}
		if _, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(a, "-") {
			forms = append(forms, v)
		}
		for _, v := range forms {
			q := strconv.Quote(v)
			for _, form := range []string{v, q[1 : len(q)-1]} {
				if utf8.RuneCountInString(form) > cmdutil.TooLong {
					long = append(long, form)
				}
			}
		}
	}
	// The longest first: a shorter form may be part of a longer one.
	slices.SortFunc(long, func(a, b string) int { return len(b) - len(a) })
	for _, v := range long {
		if strings.Contains(msg, v) {
			msg = strings.ReplaceAll(msg, v, cmdutil.Cut(v))
		}
	}
	return msg
}

// reportBug prints one line for a panic, and the stack when DOJO_DEBUG asks
// for it.
func reportBug(f *factory.Factory, r any, stack []byte) int {
	what := strings.Join(strings.Fields(fmt.Sprint(r)), " ")
	debugOn := f.Getenv != nil && f.Getenv(DebugEnv) != "" && f.Getenv(DebugEnv) != "0"
	hint := fmt.Sprintf(" (run it again with %s=1 to print where it happened)", DebugEnv)
	if debugOn {
		hint = ""
	}
	st := f.IO.ErrStyles()
	fmt.Fprintf(f.IO.ErrOut, "%s this is a bug in dojo (%s): please report it, with the command you ran, at %s%s\n",
		st.Fail.Render("error:"), what, IssuesURL, hint)
	if debugOn {
		f.IO.ErrOut.Write(stack)
	}
	return cmdutil.ExitError
}
