// Package stepargs is what the commands that take a step (dojo step, hint,
// check, solve, solution, diff) share about their positional arguments:
// shell completion offers the step names (and dojo hint's hint numbers),
// and a negative number, which the flag parser would take for an unknown
// flag (`dojo step -1`: "unknown shorthand flag"), is judged as the
// argument it was meant to be.
package stepargs

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/steps"
)

// Arg is one positional argument of a command.
type Arg struct {
	// Complete lists the values shell completion offers, given the
	// arguments before this one; a value may carry a description after a
	// tab.
	Complete func(prev []string) []string
	// Reject is the error for value, a negative number given where this
	// argument goes.
	Reject func(prev []string, value string) error
}

// Catalog is where the steps come from (the factory's Catalog).
type Catalog func() (*steps.Catalog, error)

// Step is an argument naming a step; keep, when not nil, says which steps
// completion offers (dojo solve: those with a reference solution).
func Step(catalog Catalog, keep func(*steps.Step) bool) Arg {
	return Arg{
		Complete: func([]string) []string {
			cat, err := catalog()
			if err != nil {
				return nil
			}
			var out []string
			for _, s := range cat.Steps() {
				if keep == nil || keep(s) {
					out = append(out, s.ID+"\t"+s.Title)
				}
			}
			return out
		},
		Reject: func(_ []string, value string) error {
			cat, err := catalog()
			if err != nil {
				return err
			}
			if _, err := cat.Get(value); err != nil {
				return cmdutil.Usagef("%s", err)
			}
			return nil
		},
	}
}

// HintNumber is dojo hint's K, after the step: completion offers the step's
// hint numbers; reject judges a value as the command does.
func HintNumber(catalog Catalog, reject func(prev []string, value string) error) Arg {
	return Arg{
		Complete: func(prev []string) []string {
			cat, err := catalog()
			if err != nil || len(prev) == 0 {
				return nil
			}
			s, err := cat.Get(prev[0])
			if err != nil {
				return nil
			}
			var out []string
			for i := range s.Hints {
				out = append(out, fmt.Sprintf("%d\thint %d of %d", i+1, i+1, len(s.Hints)))
			}
			return out
		},
		Reject: reject,
	}
}

// Use declares cmd's positional arguments, in order: their completion, and
// a negative number where one of them goes judged by it.
func Use(cmd *cobra.Command, args ...Arg) {
	cmd.ValidArgsFunction = func(_ *cobra.Command, prev []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(prev) >= len(args) || args[len(prev)].Complete == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, c := range args[len(prev)].Complete(prev) {
			if strings.HasPrefix(c, toComplete) {
				out = append(out, c)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if value, ok := negativeNumber(err); ok {
			prev := c.Flags().Args()
			if i := len(prev); i < len(args) && args[i].Reject != nil {
				if rerr := args[i].Reject(prev, value); rerr != nil {
					return rerr
				}
			}
		}
		return &cmdutil.UsageError{Msg: err.Error()}
	})
}

var number = regexp.MustCompile(`^-[0-9]+([.,][0-9]*)?$`)

// negativeNumber is the argument when err is the flag parser's refusal of
// a negative number ("unknown shorthand flag: '1' in -1").
func negativeNumber(err error) (string, bool) {
	var ne *pflag.NotExistError
	if !errors.As(err, &ne) || ne.GetSpecifiedShortnames() == "" {
		return "", false
	}
	value := "-" + ne.GetSpecifiedShortnames()
	return value, number.MatchString(value)
}

// HasReference keeps the steps with a reference solution (dojo solution,
// solve and diff work on those).
func HasReference(s *steps.Step) bool { return len(s.Solution) > 0 }
