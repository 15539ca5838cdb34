// Package completion is the `dojo completion SHELL` command.
package completion

import (
	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory"
)

// NewCmd builds `dojo completion`.
func NewCmd(f *factory.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print a shell completion script",
		Long: `Print the completion script for your shell. Load it in the current shell,
or save it where your shell looks for completions.`,
		Example: `  source <(dojo completion bash)
  dojo completion zsh > "${fpath[1]}/_dojo"
  dojo completion fish > ~/.config/fish/completions/dojo.fish`,
		ValidArgs: []string{"bash", "zsh", "fish"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cmdutil.Usagef("name one shell: bash, zsh or fish (e.g. `dojo completion bash`)")
			}
			root, out := cmd.Root(), f.IO.Out
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, true)
			default:
				return cmdutil.Usagef("unknown shell %q: choose bash, zsh or fish", args[0])
			}
		},
	}
}
