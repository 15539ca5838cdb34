// Package join is the `dojo join` command: the learner's side of a
// classroom.
package join

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/internal/classroom"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/state"
	"github.com/kubedojo/dojo/internal/steps"
	"github.com/kubedojo/dojo/internal/ui"
)

// Budget is how long dojo join waits for the trainer's server (it is the
// learner's explicit action, so longer than an event after a command).
const Budget = 2 * time.Second

// Options are the arguments and flags of `dojo join` and what it needs.
type Options struct {
	URL   string
	Token string
	Name  string
	Show  bool

	IO        *ui.IOStreams
	Workspace func() (string, error)
	Catalog   func() (*steps.Catalog, error)
	Now       func() time.Time
	Version   string
	Client    *classroom.Client
	Budget    time.Duration
}

// NewCmd builds `dojo join URL --token T --name NAME` and `dojo join --show`.
func NewCmd(f *factory.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "join URL --token T --name NAME",
		Short: "Join the trainer's classroom: after each check, hint, solve and step, the trainer sees your progress",
		Long: `Join the classroom the trainer runs with dojo classroom, with the URL and
join token it printed and the name the trainer will see. The classroom is
recorded in your workspace (.dojo/classroom.json); dojo leave forgets it.

After each dojo check, hint, solve and step, dojo sends the trainer one
event: a random id made for this workspace, your name, your step, each
criterion's id and status, the first failing criterion's observed and
expected values (cut to 160 characters), the hints you used, your time on
the step, dojo's version and your node's Kubernetes version. Nothing else:
no kubeconfig, no file contents, no host names. dojo join --show prints
exactly what is sent.

Sending never slows a command by more than 0.3 s and never fails it: when
the trainer cannot be reached, the events wait in .dojo/classroom-outbox.jsonl
(at most 20) and go with your next command.`,
		Example: `  dojo join http://192.168.1.20:7777 --token 6f1c… --name "Ada"
  dojo join --show
  dojo leave`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return cmdutil.Usagef("dojo join takes one URL, got %d arguments: %q (quote a name with spaces: --name \"Ada Lovelace\")", len(args), args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.URL = args[0]
			}
			opts.IO, opts.Workspace, opts.Catalog, opts.Now, opts.Version = f.IO, f.Workspace, f.Catalog, f.Now, f.Build.Version
			return Run(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Token, "token", "", "the join token dojo classroom printed")
	fl.StringVar(&opts.Name, "name", "", fmt.Sprintf("the name the trainer sees (at most %d characters)", classroom.MaxName))
	fl.BoolVar(&opts.Show, "show", false, "print exactly what would be sent, and send nothing")
	return cmd
}

// Check validates the arguments: one clear usage error per bad value.
func Check(opts *Options) error {
	if opts.URL == "" {
		return cmdutil.Usagef("dojo join needs the classroom's URL: dojo join http://ADDRESS:7777 --token T --name NAME, as dojo classroom printed it")
	}
	u, err := classroom.ParseURL(opts.URL)
	if err != nil {
		return cmdutil.Usagef("%v: give the http://ADDRESS:PORT that dojo classroom printed", err)
	}
	opts.URL = u
	if opts.Token == "" {
		return cmdutil.Usagef("dojo join needs --token: the join token dojo classroom printed")
	}
	if err := classroom.CheckToken(opts.Token); err != nil {
		return cmdutil.Usagef("--token: %v: copy it from the join command dojo classroom printed", err)
	}
	opts.Name = strings.TrimSpace(opts.Name)
	if opts.Name == "" {
		return cmdutil.Usagef("dojo join needs --name: the name the trainer sees, e.g. --name \"Ada\"")
	}
	if err := classroom.CheckName(opts.Name); err != nil {
		return cmdutil.Usagef("--name %q: %v: give a shorter name on one line", classroom.Truncate(opts.Name, 60), err)
	}
	return nil
}

// Run joins, or with --show prints what would be sent.
func Run(ctx context.Context, opts *Options) error {
	ws, err := opts.Workspace()
	if err != nil {
		return err
	}
	old, err := classroom.LoadMember(ws)
	if err != nil {
		return err
	}
	if opts.Show && opts.URL == "" && opts.Token == "" && opts.Name == "" {
		if old == nil {
			return fmt.Errorf("this workspace (%s) is in no classroom: dojo join URL --token T --name NAME joins one (add --show to see what it would send first)", ws)
		}
		return show(opts, ws, old)
	}
	if err := Check(opts); err != nil {
		return err
	}
	m := &classroom.Member{URL: opts.URL, Token: opts.Token, Name: opts.Name, Learner: classroom.NewLearnerID(), Joined: opts.Now().UTC()}
	if old != nil {
		m.Learner, m.Kubernetes = old.Learner, old.Kubernetes // the same learner, joining again
	}
	if opts.Show {
		return show(opts, ws, m)
	}
	if old != nil && (old.URL != m.URL || old.Token != m.Token) {
		if _, err := classroom.Forget(ws); err != nil { // the old room's queue is not for this one
			return err
		}
	}
	if err := classroom.SaveMember(ws, m); err != nil {
		return err
	}
	e, err := event(opts, ws, m)
	if err != nil {
		return err
	}
	budget := opts.Budget
	if budget == 0 {
		budget = Budget
	}
	sctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	c := opts.Client
	if c == nil {
		c = &classroom.Client{}
	}
	out, err := c.Send(sctx, ws, m, &e)
	switch {
	case err != nil && out.Queued == 0:
		// Refused for good (the token, a full room): not a member.
		if _, ferr := classroom.Forget(ws); ferr != nil {
			return ferr
		}
		if errors.Is(err, classroom.ErrRefused) {
			return fmt.Errorf("the trainer's server at %s refused the token %s: check it against the join command the trainer shows", m.URL, opts.Token)
		}
		return fmt.Errorf("not joined: %w", err)
	case err != nil:
		fmt.Fprintf(opts.IO.Out, "Joined the classroom at %s as %q, but the server did not answer (%v).\nYour events wait in .dojo/%s and go with your next dojo command.\n", m.URL, m.Name, err, classroom.OutboxFile)
	default:
		fmt.Fprintf(opts.IO.Out, "Joined the classroom at %s as %q: the trainer sees you.\n", m.URL, m.Name)
	}
	fmt.Fprintf(opts.IO.Out, "After each check, hint, solve and step, dojo sends your progress (dojo join --show prints it); dojo leave stops it.\n")
	return nil
}

// event is the event this workspace would send now.
func event(opts *Options, ws string, m *classroom.Member) (classroom.Event, error) {
	cat, err := opts.Catalog()
	if err != nil {
		return classroom.Event{}, err
	}
	st, err := state.NewStore(ws, opts.Now).Load()
	if err != nil {
		return classroom.Event{}, err
	}
	return classroom.NewEvent(classroom.Input{Member: m, Catalog: cat, State: st, Now: opts.Now(), Dojo: opts.Version, Kubernetes: m.Kubernetes}), nil
}

// show prints the request an event goes in: the same body the client
// sends, laid out to be read.
func show(opts *Options, ws string, m *classroom.Member) error {
	e, err := event(opts, ws, m)
	if err != nil {
		return err
	}
	body, err := classroom.Body([]classroom.Event{e})
	if err != nil {
		return err
	}
	var pretty map[string]any
	if err := json.Unmarshal(body, &pretty); err != nil {
		return err
	}
	out := opts.IO.Out
	fmt.Fprintf(out, "After each check, hint, solve and step, dojo sends (now, this event):\n\n")
	fmt.Fprintf(out, "POST %s%s\nAuthorization: Bearer %s\nContent-Type: application/json\n\n", m.URL, classroom.RouteEvents, m.Token)
	if err := cmdutil.WriteJSON(out, pretty); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nA check adds its criteria (id and status) and the first failing one's observed and expected values; dojo raise-hand adds \"hand\". Nothing else is sent.\n")
	if n := classroom.Queued(ws); n > 0 {
		fmt.Fprintf(out, "%d earlier events wait in .dojo/%s and go first.\n", n, classroom.OutboxFile)
	}
	return nil
}
