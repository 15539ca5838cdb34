// Package raisehand is the `dojo raise-hand [MESSAGE]` command.
package raisehand

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/internal/classroom"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/state"
	"github.com/kubedojo/dojo/internal/steps"
	"github.com/kubedojo/dojo/internal/ui"
)

// Budget is how long dojo raise-hand waits for the trainer's server.
const Budget = 2 * time.Second

// Options are the arguments of `dojo raise-hand` and what it needs.
type Options struct {
	Message string

	IO        *ui.IOStreams
	Workspace func() (string, error)
	Catalog   func() (*steps.Catalog, error)
	Now       func() time.Time
	Version   string
	Client    *classroom.Client
	Budget    time.Duration
}

// NewCmd builds `dojo raise-hand [MESSAGE]`.
func NewCmd(f *factory.Factory) *cobra.Command {
	opts := &Options{}
	return &cobra.Command{
		Use:   "raise-hand [MESSAGE]",
		Short: "Ask the trainer for help: your row goes to the top of the trainer's page",
		Long: fmt.Sprintf(`Raise your hand in the classroom you joined, with an optional message (at
most %d characters). The trainer's page shows it, at the top, until the
trainer clears it or your step passes.`, classroom.MaxMessage),
		Example: `  dojo raise-hand
  dojo raise-hand "the adapter lists no external metric"`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Message = strings.TrimSpace(strings.Join(args, " "))
			opts.IO, opts.Workspace, opts.Catalog, opts.Now, opts.Version = f.IO, f.Workspace, f.Catalog, f.Now, f.Build.Version
			return Run(cmd.Context(), opts)
		},
	}
}

// Run raises the hand.
func Run(ctx context.Context, opts *Options) error {
	if n := utf8.RuneCountInString(opts.Message); n > classroom.MaxMessage {
		return cmdutil.Usagef("the message has %d characters, at most %d fit: say it shorter", n, classroom.MaxMessage)
	}
	ws, err := opts.Workspace()
	if err != nil {
		return err
	}
	m, err := classroom.LoadMember(ws)
	if err != nil {
		return err
	}
	if m == nil {
		return fmt.Errorf("this workspace (%s) is in no classroom: join first with dojo join URL --token T --name NAME, as the trainer shows it", ws)
	}
	cat, err := opts.Catalog()
	if err != nil {
		return err
	}
	st, err := state.NewStore(ws, opts.Now).Load()
	if err != nil {
		return err
	}
	budget := opts.Budget
	if budget == 0 {
		budget = Budget
	}
	sctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	out, err := classroom.Notify(sctx, classroom.Notice{Workspace: ws, Member: m, Catalog: cat, State: st, Now: opts.Now(),
		Dojo: opts.Version, Hand: &classroom.Hand{Message: classroom.Truncate(opts.Message, classroom.MaxMessage)}, Client: opts.Client})
	switch {
	case errors.Is(err, classroom.ErrRefused):
		return fmt.Errorf("the trainer's server at %s refused the join token: ask the trainer for the join command and run it again", m.URL)
	case err != nil && out.Queued > 0:
		fmt.Fprintf(opts.IO.Out, "The trainer's server did not answer (%v): your raised hand waits in .dojo/%s and goes with your next dojo command.\n", err, classroom.OutboxFile)
		return nil
	case err != nil:
		return fmt.Errorf("your hand did not reach the trainer: %w", err)
	}
	fmt.Fprintln(opts.IO.Out, "Your hand is up: the trainer sees it until they clear it or your step passes.")
	return nil
}
