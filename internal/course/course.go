// Package course is the workshop as a learner goes through it: where they
// stand on each step (the rows of dojo steps and dojo status, and their
// --json form), the next step to do, and the Markdown of a step and its hints.
package course

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/kubedojo/dojo/internal/ui"

	"github.com/kubedojo/dojo/internal/state"
	"github.com/kubedojo/dojo/internal/steps"
)

// StepTitle is "Step 5: Deploy Prometheus", or "Cleanup: …".
func StepTitle(s *steps.Step) string {
	if s.Number == steps.CleanupNumber {
		return "Cleanup: " + s.Title
	}
	return fmt.Sprintf("Step %d: %s", s.Number, s.Title)
}

// StepMarkdown composes the Markdown of one step as `dojo step N` shows it:
// the title, the goal, the body, how to get hints, what the check verifies
// and how to see the solution. Hints themselves are not shown.
func StepMarkdown(s *steps.Step, st state.StepState) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", StepTitle(s))
	fmt.Fprintf(&b, "**Goal:** %s\n\n", s.Goal)
	b.WriteString(s.Body)
	if len(s.Hints) > 0 {
		b.WriteString("\n## Stuck?\n\n")
		switch {
		case st.HintsRevealed == 0 && len(s.Hints) == 1:
			fmt.Fprintf(&b, "This step has one hint: `dojo hint %s` reveals it.\n", s.ID)
		case st.HintsRevealed == 0:
			fmt.Fprintf(&b, "This step has %d hints, from a nudge to the answer. Reveal them one at a time with `dojo hint %s`.\n", len(s.Hints), s.ID)
		case st.HintsRevealed < len(s.Hints):
			fmt.Fprintf(&b, "You have revealed %d of %d hints. `dojo hint %s` shows the next one; `dojo hint %s %d` shows them again.\n", st.HintsRevealed, len(s.Hints), s.ID, s.ID, st.HintsRevealed)
		case len(s.Hints) == 1:
			fmt.Fprintf(&b, "You have revealed its hint; `dojo hint %s` shows it again.\n", s.ID)
		default:
			fmt.Fprintf(&b, "You have revealed all %d hints; `dojo hint %s --all` shows them again.\n", len(s.Hints), s.ID)
		}
	}
	if len(s.Checks) > 0 {
		fmt.Fprintf(&b, "\n## What `dojo check %s` verifies\n\n", s.ID)
		for _, c := range s.Checks {
			fmt.Fprintf(&b, "- %s\n", c.Text)
		}
	}
	if len(s.Solution) > 0 {
		b.WriteString("\n## Solution\n\nCompare your work with the reference once you are done: ")
		fmt.Fprintf(&b, "`dojo solution %s` shows these files, without changing anything:\n\n", s.ID)
		for _, f := range s.Solution {
			if f.Note != "" {
				fmt.Fprintf(&b, "- `%s`: %s\n", f.Path, f.Note)
			} else {
				fmt.Fprintf(&b, "- `%s`\n", f.Path)
			}
		}
	}
	return b.String()
}

// StepStatus is where a learner stands on one step.
type StepStatus string

// Step statuses.
const (
	StatusNotStarted StepStatus = "not-started"
	StatusStarted    StepStatus = "started"
	StatusPassed     StepStatus = "passed"
)

// StepRow is one line of `dojo steps` and `dojo status`.
type StepRow struct {
	Number        int           `json:"number"`
	ID            string        `json:"id"`
	Title         string        `json:"title"`
	Status        StepStatus    `json:"status"`
	HintsRevealed int           `json:"hintsRevealed"`
	Hints         int           `json:"hints"`
	TimeSpent     time.Duration `json:"-"`
	Seconds       int64         `json:"timeSpentSeconds"`
	Solved        bool          `json:"solved,omitempty"`
}

// Rows joins the catalog with the recorded progress; each row's time is
// Spent's.
func Rows(c *steps.Catalog, st *state.State, now time.Time) []StepRow {
	rows := make([]StepRow, 0, c.Len())
	spent := Spent(c, st, now)
	for _, s := range c.Steps() {
		p, _ := st.Lookup(s.ID)
		r := StepRow{Number: s.Number, ID: s.ID, Title: s.Title, Status: StatusNotStarted,
			HintsRevealed: min(p.HintsRevealed, len(s.Hints)), Hints: len(s.Hints), Solved: p.Solved != nil}
		switch {
		case p.Passed != nil:
			r.Status = StatusPassed
		case p.Started != nil:
			r.Status = StatusStarted
		}
		r.TimeSpent = spent[s.ID].Round(time.Second)
		r.Seconds = int64(r.TimeSpent / time.Second)
		rows = append(rows, r)
	}
	return rows
}

// Spent is the time the learner spent on each step, by step id. One clock
// runs at a time, for the step the learner works on: the one they last
// opened, asked a hint for or checked (a visit), while it has not passed;
// once it has passed (and before any visit) the first step not passed yet,
// cleanup aside. When every step has passed and the last visited one too,
// no clock runs. Time before the first visit counts for no step, so the
// times add up to the wall time from the first visit to now, less the time
// when everything had passed.
//
// A progress file from before visits were recorded counts as if each step
// was visited once, when it was started.
func Spent(c *steps.Catalog, st *state.State, now time.Time) map[string]time.Duration {
	visits := visitsOf(st)
	if len(visits) == 0 {
		return nil
	}
	known := map[string]bool{}
	bounds := []time.Time{now}
	for _, s := range c.Steps() {
		known[s.ID] = true
		if p, _ := st.Lookup(s.ID); p.Passed != nil {
			bounds = append(bounds, *p.Passed)
		}
	}
	for _, v := range visits {
		bounds = append(bounds, v.At)
	}
	slices.SortFunc(bounds, time.Time.Compare)
	passedBy := func(id string, at time.Time) bool {
		p, _ := st.Lookup(id)
		return p.Passed != nil && !p.Passed.After(at)
	}
	current := func(last string, at time.Time) string {
		if known[last] && !passedBy(last, at) {
			return last
		}
		for _, s := range c.Steps() {
			if s.Number != steps.CleanupNumber && !passedBy(s.ID, at) {
				return s.ID
			}
		}
		return ""
	}
	spent := map[string]time.Duration{}
	last := 0 // the visit in force: the latest at or before the segment's start
	for i := 0; i+1 < len(bounds); i++ {
		from, to := bounds[i], bounds[i+1]
		if from.Before(visits[0].At) || !to.After(from) || to.After(now) {
			continue
		}
		for last+1 < len(visits) && !visits[last+1].At.After(from) {
			last++
		}
		if id := current(visits[last].Step, from); id != "" {
			spent[id] += to.Sub(from)
		}
	}
	return spent
}

// visitsOf returns the recorded visits in time order, or for an older file
// one visit per started step, at its start.
func visitsOf(st *state.State) []state.Visit {
	var vs []state.Visit
	if len(st.Visits) > 0 {
		vs = slices.Clone(st.Visits)
	} else {
		for id, p := range st.Steps {
			if p != nil && p.Started != nil {
				vs = append(vs, state.Visit{Step: id, At: *p.Started})
			}
		}
	}
	slices.SortStableFunc(vs, func(a, b state.Visit) int {
		if c := a.At.Compare(b.At); c != 0 || len(st.Visits) > 0 {
			return c
		}
		return strings.Compare(a.Step, b.Step)
	})
	return vs
}

func mark(st ui.Styles, s StepStatus, tty bool) string {
	switch s {
	case StatusPassed:
		if tty {
			return st.PassMark()
		}
		return "[x]"
	case StatusStarted:
		if tty {
			return st.Warn.Render("▸")
		}
		return "[>]"
	default:
		if tty {
			return st.Pending.Render("·")
		}
		return "[ ]"
	}
}

// NextStep is the first step not passed yet (cleanup excluded), or 0.
func NextStep(rows []StepRow) int {
	for _, r := range rows {
		if r.Status != StatusPassed && r.Number != steps.CleanupNumber {
			return r.Number
		}
	}
	return 0
}

func passedCount(rows []StepRow) int {
	n := 0
	for _, r := range rows {
		if r.Status == StatusPassed && r.Number != steps.CleanupNumber {
			n++
		}
	}
	return n
}

func label(r StepRow) string {
	if r.Number == steps.CleanupNumber {
		return "cleanup"
	}
	return fmt.Sprintf("%2d", r.Number)
}

// RenderStepList prints `dojo steps`.
func RenderStepList(w io.Writer, rows []StepRow, st ui.Styles, tty bool) {
	for _, r := range rows {
		extra := ""
		if r.HintsRevealed > 0 {
			extra = fmt.Sprintf(" (hints %d/%d)", r.HintsRevealed, r.Hints)
		}
		if r.Solved {
			extra += " (solved)"
		}
		fmt.Fprintf(w, "%s %-7s %s%s\n", mark(st, r.Status, tty), label(r), r.Title, st.Muted.Render(extra))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%d of %d steps passed.", passedCount(rows), steps.LastStep)
	if n := NextStep(rows); n > 0 {
		fmt.Fprintf(w, " Next: %s\n", st.Code.Render(fmt.Sprintf("dojo step %d", n)))
	} else {
		fmt.Fprintf(w, " All done: %s tears the cluster down.\n", st.Code.Render("dojo teardown"))
	}
}

// RenderStatus prints `dojo status`: passed steps, hints used and the time
// spent on each step.
func RenderStatus(w io.Writer, rows []StepRow, st ui.Styles, tty bool) {
	pad := "   "
	if tty {
		pad = " "
	}
	fmt.Fprintf(w, "%s %-7s %-42s %6s %9s\n", pad, "step", "title", "hints", "time")
	var total time.Duration
	hints := 0
	for _, r := range rows {
		t := "-"
		if r.TimeSpent > 0 {
			t = formatSpent(r.TimeSpent)
		}
		h := "-"
		if r.Hints > 0 {
			h = fmt.Sprintf("%d/%d", r.HintsRevealed, r.Hints)
		}
		title := r.Title
		if len([]rune(title)) > 42 {
			title = string([]rune(title)[:41]) + "…"
		}
		fmt.Fprintf(w, "%s %-7s %-42s %6s %9s\n", mark(st, r.Status, tty), label(r), title, h, t)
		total += r.TimeSpent
		hints += r.HintsRevealed
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%d of %d steps passed, %s used, %s spent.\n", passedCount(rows), steps.LastStep, ui.Count(hints, "hint", "hints"), formatSpent(total))
}

func formatSpent(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	default:
		return fmt.Sprintf("%ds", s)
	}
}

// HintMarkdown is the Markdown of hints from..to (1-based, inclusive);
// revealed is how many the learner has seen in all, which decides what the
// next `dojo hint` shows.
func HintMarkdown(s *steps.Step, from, to, revealed int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "## Hint %d of %d (%s)\n\n%s\n\n", i, len(s.Hints), StepTitle(s), s.Hints[i-1])
	}
	if revealed < len(s.Hints) {
		fmt.Fprintf(&b, "_Still stuck? `dojo hint %s` reveals hint %d._\n", s.ID, revealed+1)
	} else if to < len(s.Hints) {
		fmt.Fprintf(&b, "_You have seen all %d hints: `dojo hint %s --all` shows them again._\n", len(s.Hints), s.ID)
	} else if len(s.Solution) > 0 {
		fmt.Fprintf(&b, "_That was the last hint. `dojo solution %s` shows the reference solution._\n", s.ID)
	} else {
		b.WriteString("_That was the last hint._\n")
	}
	return b.String()
}

// SolutionMarkdown composes `dojo solution STEP`: the step's reference files
// (embedded under solutions/<id>/<path>) with their notes, and the
// invitation to compare them with one's own work. It applies nothing.
func SolutionMarkdown(s *steps.Step, fsys fs.FS) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "# Reference for %s\n\n", StepTitle(s))
	b.WriteString("One way to pass this step, not the only one. Put it next to what you wrote: " +
		"where do the two differ, which would you keep, and why? " +
		"Reading it changes nothing in your workspace or your cluster.\n")
	for _, f := range s.Solution {
		data, err := fs.ReadFile(fsys, path.Join("solutions", s.ID, f.Path))
		if err != nil {
			return "", fmt.Errorf("the reference of %s lacks %s: %w", s.ID, f.Path, err)
		}
		fmt.Fprintf(&b, "\n## `%s`\n\n", f.Path)
		if f.Note != "" {
			fmt.Fprintf(&b, "%s\n\n", f.Note)
		}
		lang := strings.TrimPrefix(path.Ext(f.Path), ".")
		if lang == "yml" {
			lang = "yaml"
		}
		fmt.Fprintf(&b, "```%s\n%s", lang, data)
		if !strings.HasSuffix(string(data), "\n") {
			b.WriteString("\n")
		}
		b.WriteString("```\n")
	}
	return b.String(), nil
}
