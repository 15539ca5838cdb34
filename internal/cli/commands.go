package cli

import (
	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/internal/cli/app"
	"github.com/kubedojo/dojo/internal/factory"
)

// commands lists every sub-command constructor, in help order.
func commands() []func(*factory.Factory) *cobra.Command {
	return []func(*factory.Factory) *cobra.Command{
		app.NewCmd,
	}
}
