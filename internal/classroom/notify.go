package classroom

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/state"
	"github.com/kubedojo/dojo/internal/steps"
)

// Notice is what a learner's command hands over after it ran, for the
// event it sends.
type Notice struct {
	Workspace string
	Member    *Member
	Catalog   *steps.Catalog
	State     *state.State
	// Checked are the results the command produced, by step id.
	Checked map[string][]check.Result
	Now     time.Time
	Dojo    string
	// NodeVersion reads the node's Kubernetes version (nil: the version
	// the membership remembers). It gets a third of the budget.
	NodeVersion func(context.Context) (string, error)
	Hand        *Hand
	Client      *Client
}

// Notify builds the learner's event and sends it with what the outbox
// holds, within ctx's deadline. An error says why something was not sent;
// the caller prints it and goes on.
func Notify(ctx context.Context, n Notice) (Outcome, error) {
	m := n.Member
	if n.NodeVersion != nil {
		vctx := ctx
		if dl, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			vctx, cancel = context.WithDeadline(ctx, time.Now().Add(time.Until(dl)/3))
			defer cancel()
		}
		if v, err := n.NodeVersion(vctx); err == nil && v != "" && v != m.Kubernetes {
			m.Kubernetes = Truncate(v, MaxVersion)
			_ = SaveMember(n.Workspace, m) // only a cache: the next check reads it again
		}
	}
	e := NewEvent(Input{Member: m, Catalog: n.Catalog, State: n.State, Checked: n.Checked, Now: n.Now,
		Dojo: n.Dojo, Kubernetes: m.Kubernetes, Hand: n.Hand})
	c := n.Client
	if c == nil {
		c = &Client{}
	}
	return c.Send(ctx, n.Workspace, m, &e)
}

// Describe is the line a command prints about a send that did not go
// through ("" when everything went).
func Describe(m *Member, out Outcome, err error) string {
	switch {
	case err == nil && out.Dropped == 0:
		return ""
	case errors.Is(err, ErrRefused):
		return fmt.Sprintf("classroom: the trainer's server at %s refused the join token; nothing is queued. Ask the trainer for the join command and run it again", m.URL)
	case err == nil:
		return fmt.Sprintf("classroom: %d old events were let go (the outbox keeps %d)", out.Dropped, OutboxMax)
	case out.Queued > 0:
		return fmt.Sprintf("classroom: %v; %d events wait in .dojo/%s and go with your next dojo command", err, out.Queued, OutboxFile)
	default:
		return fmt.Sprintf("classroom: %v", err)
	}
}
