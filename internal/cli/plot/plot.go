// Package plot is the `dojo plot` command.
package plot

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/plot"
	"github.com/kubedojo/dojo/internal/ui"
	"github.com/kubedojo/dojo/internal/watch"
)

// Options are the arguments and flags of `dojo plot`.
type Options struct {
	File, Out string
	IO        *ui.IOStreams
}

// NewCmd builds `dojo plot FILE --out chart.png`.
func NewCmd(f *factory.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "plot FILE --out chart.png",
		Short: "Chart a dojo watch recording as a PNG or SVG",
		Long: `Chart a recording made by dojo watch --record: the queue's length and
redis_items_in_queue above, the HPA's desired and the consumer's ready
replicas below, the HPA's events marked on both. --out names the file; its
extension (.png or .svg) picks the format. Needs no cluster.`,
		Example: `  dojo plot session.jsonl --out chart.png
  dojo plot session.jsonl --out chart.svg`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cmdutil.Usagef("dojo plot takes one recording, got %d arguments: e.g. dojo plot session.jsonl --out chart.png", len(args))
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			opts.File, opts.IO = args[0], f.IO
			return Run(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Out, "out", "", "the chart to write (.png or .svg)")
	return cmd
}

// Run reads the recording and writes the chart.
func Run(opts *Options) error {
	if opts.Out == "" {
		return cmdutil.Usagef("dojo plot needs --out FILE (.png or .svg): e.g. dojo plot %s --out chart.png", opts.File)
	}
	if _, err := plot.Format(opts.Out); err != nil {
		return cmdutil.Usagef("%s", err.Error())
	}
	rec, err := watch.ReadFile(opts.File)
	if err != nil {
		return err
	}
	if err := plot.Write(rec, opts.Out); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "wrote %s: %s over %s, %s\n", opts.Out, ui.Count(len(rec.Samples), "sample", "samples"),
		rec.Samples[len(rec.Samples)-1].Time.Sub(rec.Samples[0].Time).Round(1e9), ui.Count(len(rec.Events), "event", "events"))
	return nil
}
