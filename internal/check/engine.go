package check

import (
	"context"
	"strings"
)

// Criterion is one thing a step's check verifies: its id, the criteria of
// the same step it needs, and its judge. A judge of a live criterion acts
// on the world (it publishes items and waits); the others only read facts
// gathered before.
type Criterion struct {
	ID    string
	Needs []string
	Live  bool
	Judge func(ctx context.Context) Result
}

// EvalOptions tune Evaluate.
type EvalOptions struct {
	// SkipLive reports live criteria as skipped instead of running them.
	SkipLive bool
	// SkipLiveHint is the command that runs them (shown when skipped).
	SkipLiveHint string
}

// Evaluate judges a step's criteria in order. A criterion whose need did not
// pass is Skipped and names the first one it waits for; a warning counts as
// passed. Each result's Criterion is "<step>/<id>".
func Evaluate(ctx context.Context, step string, cs []Criterion, o EvalOptions) []Result {
	status := map[string]Status{}
	liveSkipped := map[string]bool{}
	out := make([]Result, 0, len(cs))
	for _, c := range cs {
		id := step + "/" + c.ID
		var r Result
		live := c.Live
		for _, n := range c.Needs {
			live = live || liveSkipped[n]
		}
		if need := firstUnmet(c.Needs, status); need != "" && !liveSkipped[need] {
			r = Result{Status: Skipped, Observed: "not judged yet", WaitsFor: step + "/" + need}
		} else if live && o.SkipLive {
			// A live criterion, or one that needs a live criterion left out.
			r = Result{Status: Skipped, Observed: "live criterion not run (it publishes items and waits for the cluster to react)", Next: o.SkipLiveHint}
			liveSkipped[c.ID] = true
		} else if err := ctx.Err(); err != nil {
			r = Result{Status: Skipped, Observed: "not judged: the check was stopped"}
		} else {
			r = c.Judge(ctx)
		}
		r.Criterion = id
		if r.Status == Pass {
			r.Expected = "" // a pass says what was seen, nothing more
		}
		status[c.ID] = r.Status
		out = append(out, r)
	}
	return out
}

func firstUnmet(needs []string, status map[string]Status) string {
	for _, n := range needs {
		if s := status[n]; s != Pass && s != Warn {
			return n
		}
	}
	return ""
}

// Passed says whether every result passed or warned (skipped live criteria
// count as not passed: a step passes only when everything was judged).
func Passed(rs []Result) bool {
	for _, r := range rs {
		if r.Status != Pass && r.Status != Warn {
			return false
		}
	}
	return len(rs) > 0
}

// Failed lists the ids of the results that did not pass.
func Failed(rs []Result) []string {
	var out []string
	for _, r := range rs {
		if r.Status == Fail || r.Status == Skipped {
			out = append(out, r.Criterion)
		}
	}
	return out
}

// Short is a criterion's id without its step ("scrape-interval").
func Short(criterion string) string {
	_, id, ok := strings.Cut(criterion, "/")
	if !ok {
		return criterion
	}
	return id
}
