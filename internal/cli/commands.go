package cli

import (
	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/internal/cli/app"
	checkcmd "github.com/kubedojo/dojo/internal/cli/check"
	classroomcmd "github.com/kubedojo/dojo/internal/cli/classroom"
	"github.com/kubedojo/dojo/internal/cli/completion"
	deploycmd "github.com/kubedojo/dojo/internal/cli/deploy"
	diagnosecmd "github.com/kubedojo/dojo/internal/cli/diagnose"
	diffcmd "github.com/kubedojo/dojo/internal/cli/diff"
	"github.com/kubedojo/dojo/internal/cli/doctor"
	"github.com/kubedojo/dojo/internal/cli/hint"
	"github.com/kubedojo/dojo/internal/cli/initcmd"
	joincmd "github.com/kubedojo/dojo/internal/cli/join"
	"github.com/kubedojo/dojo/internal/cli/leave"
	loadcmd "github.com/kubedojo/dojo/internal/cli/load"
	plotcmd "github.com/kubedojo/dojo/internal/cli/plot"
	"github.com/kubedojo/dojo/internal/cli/raisehand"
	"github.com/kubedojo/dojo/internal/cli/solution"
	solvecmd "github.com/kubedojo/dojo/internal/cli/solve"
	"github.com/kubedojo/dojo/internal/cli/status"
	"github.com/kubedojo/dojo/internal/cli/step"
	"github.com/kubedojo/dojo/internal/cli/steps"
	"github.com/kubedojo/dojo/internal/cli/teardown"
	"github.com/kubedojo/dojo/internal/cli/up"
	versioncmd "github.com/kubedojo/dojo/internal/cli/version"
	watchcmd "github.com/kubedojo/dojo/internal/cli/watch"
	"github.com/kubedojo/dojo/internal/factory"
)

// commands lists every sub-command constructor, in help order. What
// classroomcmd.Reports wraps sends the learner's classroom event after it
// runs (true: it talked to the cluster).
func commands() []func(*factory.Factory) *cobra.Command {
	return []func(*factory.Factory) *cobra.Command{
		up.NewCmd,
		doctor.NewCmd,
		deploycmd.NewCmd,
		teardown.NewCmd,
		steps.NewCmd,
		classroomcmd.Reports(step.NewCmd, false),
		classroomcmd.Reports(hint.NewCmd, false),
		solution.NewCmd,
		classroomcmd.Reports(solvecmd.NewCmd, true),
		diffcmd.NewCmd,
		classroomcmd.Reports(checkcmd.NewCmd, true),
		diagnosecmd.NewCmd,
		loadcmd.NewCmd,
		watchcmd.NewCmd,
		plotcmd.NewCmd,
		status.NewCmd,
		joincmd.NewCmd,
		leave.NewCmd,
		raisehand.NewCmd,
		classroomcmd.NewCmd,
		initcmd.NewCmd,
		versioncmd.NewCmd,
		completion.NewCmd,
		app.NewCmd,
	}
}
