package check

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/kubedojo/dojo/internal/ui"
)

// Text writes one line per result: its mark, the criterion and what was
// observed; under a result that did not pass, what was expected and what to
// do next; under a skipped one, what it waits for.
func Text(w io.Writer, st ui.Styles, rs []Result) {
	width := 0
	for _, r := range rs {
		width = max(width, len(r.Criterion))
	}
	indent := strings.Repeat(" ", width+3)
	for _, r := range rs {
		var mark string
		switch r.Status {
		case Pass:
			mark = st.PassMark()
		case Fail:
			mark = st.FailMark()
		case Warn:
			mark = st.WarnMark()
		case Skipped:
			mark = st.Pending.Render("-")
		default:
			mark = "?"
		}
		fmt.Fprintf(w, "%s %-*s %s\n", mark, width, r.Criterion, r.Observed)
		if r.Status == Pass {
			continue
		}
		if r.WaitsFor != "" {
			fmt.Fprintf(w, "%s%s\n", indent, st.Muted.Render("waits for "+r.WaitsFor))
		}
		if r.Expected != "" {
			fmt.Fprintf(w, "%s%s %s\n", indent, st.Muted.Render("expected:"), r.Expected)
		}
		if r.Next != "" {
			fmt.Fprintf(w, "%s%s %s\n", indent, st.Muted.Render("next:"), st.Code.Render(r.Next))
		}
	}
}

// JSON writes the results as an indented JSON array (never null).
func JSON(w io.Writer, rs []Result) error {
	if rs == nil {
		rs = []Result{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rs)
}
