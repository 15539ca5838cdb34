// Package hint is the `dojo hint step-N [K]` command.
package hint

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/internal/cli/stepargs"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/course"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/state"
	"github.com/kubedojo/dojo/internal/steps"
	"github.com/kubedojo/dojo/internal/ui"
)

// Options are the arguments and flags of `dojo hint`.
type Options struct {
	Step string
	// Upto is K: show hints 1..K. Zero means "the next one".
	Upto int
	All  bool
	JSON bool
}

// NewCmd builds `dojo hint`.
func NewCmd(f *factory.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "hint STEP [K]",
		Short: "Reveal the hints of a step, one at a time",
		Long: `Reveal the next hint of a step. Hints go from a gentle nudge to the answer,
so take them one at a time. dojo remembers what you have revealed:
with K, hints 1 to K are shown (again); with --all, every hint.`,
		Example: `  dojo hint step-5        # the next hint of step 5
  dojo hint 5 2           # hints 1 and 2 of step 5
  dojo hint Step7 --all   # every hint of step 7
  dojo hint 8 --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			step, k, err := ParseArgs(args)
			if err != nil {
				return err
			}
			opts.Step, opts.Upto = step, k
			if opts.All && k > 0 {
				return cmdutil.Usagef("give either a hint number (%d) or --all, not both", k)
			}
			return Run(f, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.All, "all", false, "reveal every hint of the step")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the revealed hints as JSON")
	stepargs.Use(cmd, stepargs.Step(f.Catalog, nil), stepargs.HintNumber(f.Catalog, func(prev []string, k string) error {
		_, _, err := ParseArgs(append(prev, k))
		return err
	}))
	return cmd
}

// ParseArgs splits `dojo hint` arguments into the step and K (0 when absent).
// The step itself is validated against the catalog later; K must be a
// positive whole number.
func ParseArgs(args []string) (string, int, error) {
	switch len(args) {
	case 0:
		return "", 0, cmdutil.Usagef("name a step: `dojo hint step-5` (steps step-1 … step-10 and cleanup)")
	case 1:
		return args[0], 0, nil
	case 2:
		if _, err := steps.ParseRef(args[0]); err != nil {
			return "", 0, cmdutil.Usagef("%s", err)
		}
		k, err := strconv.Atoi(strings.TrimSpace(args[1]))
		if err != nil || k < 1 {
			return "", 0, cmdutil.Usagef("hint number %q is not a whole number from 1 up: e.g. `dojo hint %s 1`", args[1], args[0])
		}
		return args[0], k, nil
	default:
		return "", 0, cmdutil.Usagef("dojo hint takes a step and at most one hint number, got %d arguments: %q", len(args), args)
	}
}

// Result is the --json output.
type Result struct {
	Step     string `json:"step"`
	Total    int    `json:"total"`
	Revealed int    `json:"revealed"`
	Hints    []Hint `json:"hints"`
}

// Hint is one revealed hint.
type Hint struct {
	Number int    `json:"number"`
	Text   string `json:"text"`
}

// Run reveals the hints and remembers how far the learner went.
func Run(f *factory.Factory, opts *Options) error {
	s, err := f.Step(opts.Step)
	if err != nil {
		return err
	}
	total := len(s.Hints)
	if total == 0 {
		if opts.Upto > 0 {
			return cmdutil.Usagef("hint %d does not exist: %s has no hints (its text says all there is: `dojo step %d`)", opts.Upto, s.ID, s.Number)
		}
		fmt.Fprintf(f.IO.Out, "%s has no hints: everything you need is in `dojo step %d`.\n", course.StepTitle(s), s.Number)
		return nil
	}
	if opts.Upto > total && total == 1 {
		return cmdutil.Usagef("hint %d does not exist: %s has one hint, hint 1", opts.Upto, s.ID)
	}
	if opts.Upto > total {
		return cmdutil.Usagef("hint %d does not exist: %s has hints 1 to %d", opts.Upto, s.ID, total)
	}
	store, err := f.State()
	if err != nil {
		return err
	}
	var from, to, revealedNow int
	// Record: a progress file from a newer dojo is left alone, with a
	// warning, and the hints are still shown (from the first).
	st, err := store.Record(func(st *state.State) error {
		p := st.Open(s.ID, f.Now())
		revealed := min(p.HintsRevealed, total)
		switch {
		case opts.All:
			from, to = 1, total
		case opts.Upto > 0:
			from, to = 1, opts.Upto
		case revealed == total:
			from, to = 1, total // nothing new left: show them all again
		default:
			from, to = revealed+1, revealed+1
		}
		p.HintsRevealed = max(revealed, to)
		revealedNow = p.HintsRevealed
		return nil
	})
	if err != nil {
		return err
	}
	if opts.JSON {
		res := Result{Step: s.ID, Total: total, Revealed: revealedNow}
		for i := from; i <= to; i++ {
			res.Hints = append(res.Hints, Hint{Number: i, Text: steps.WithDomain(s.Hints[i-1], st.Domain)})
		}
		return cmdutil.WriteJSON(f.IO.Out, res)
	}
	out, err := ui.Markdown(steps.WithDomain(course.HintMarkdown(s, from, to, revealedNow), st.Domain), f.IO)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(f.IO.Out, out)
	return err
}
