// Package cli wires the dojo commands together and maps errors to exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

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

// Run executes one dojo command line and returns the exit code: 0 ok, 1 error,
// 2 usage, 3 a check ran and failed. Every error is printed here, once.
func Run(ctx context.Context, f *factory.Factory, args []string) int {
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
		fmt.Fprintf(f.IO.ErrOut, "%s %s\n", st.Fail.Render("error:"), err)
	}
	return cmdutil.ExitCode(err)
}
