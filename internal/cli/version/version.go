// Package version is the `dojo version` command.
package version

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/versions"
)

// Info is what `dojo version` reports.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	Date      string `json:"date,omitempty"`
	Go        string `json:"go"`
	Platform  string `json:"platform"`
	NodeImage string `json:"nodeImage"`
}

// NewCmd builds `dojo version`.
func NewCmd(f *factory.Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print dojo's version and the Kubernetes version it installs",
		Example: "  dojo version\n  dojo version --json",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := Info{Version: f.Build.Version, Commit: f.Build.Commit, Date: f.Build.Date,
				Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, NodeImage: versions.NodeImage}
			if asJSON {
				return cmdutil.WriteJSON(f.IO.Out, info)
			}
			fmt.Fprintf(f.IO.Out, "dojo %s", info.Version)
			if info.Commit != "" {
				fmt.Fprintf(f.IO.Out, " (%s)", info.Commit)
			}
			fmt.Fprintf(f.IO.Out, " %s %s\nkind node image: %s\n", info.Go, info.Platform, info.NodeImage)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
