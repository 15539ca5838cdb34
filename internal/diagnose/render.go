package diagnose

import (
	"fmt"
	"io"
	"strings"

	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/diagnose/floatconv"
	"github.com/kubedojo/dojo/internal/ui"
)

// Text prints the report for a terminal of width columns (80 when 0): the
// HPA as the cluster holds it, then each finding with its explanation,
// source and next step.
func Text(w io.Writer, st ui.Styles, width int, r Report) {
	if width <= 0 {
		width = 80
	}
	arch := r.Architecture
	if arch == "" {
		arch = "unknown architecture"
	}
	version := "Kubernetes " + r.ServerVersion
	if r.ServerVersion == "" {
		version = "Kubernetes (version unknown)"
	}
	fmt.Fprintf(w, "%s  %s, controller on %s\n", st.Title.Render("HPA "+r.HPA), version, arch)
	label := func(l string) string { return "  " + st.Muted.Render(fmt.Sprintf("%-10s", l)) + " " }
	const indent = "             "
	t := r.Target
	scale := fmt.Sprintf("%s %s: %d replica(s), spec %d; bounds %d to %d; the HPA wants %d", t.Kind, t.Name, t.StatusReplicas, t.SpecReplicas, r.MinReplicas, r.MaxReplicas, r.DesiredReplicas)
	if !t.Found {
		scale = fmt.Sprintf("%s %s: not read (%s); bounds %d to %d; the HPA wants %d", t.Kind, t.Name, orUnknown(t.Error, "not found"), r.MinReplicas, r.MaxReplicas, r.DesiredReplicas)
	}
	block(w, label("target"), indent, scale, width)
	for _, m := range r.Metrics {
		head := m.Type + " " + m.Name
		if m.Object != "" {
			head += " of " + m.Object
		}
		block(w, label("metric"), indent, head, width)
		path := "target " + m.Target
		switch {
		case m.Refused:
			path += "; refused by the controller (type and field disagree)"
		case m.Divides:
			path += "; divided by replicas (" + m.Path + ")"
		case m.Path != "":
			path += "; not divided (" + m.Path + ")"
		}
		block(w, "", indent, path, width)
		block(w, label("v2 status"), indent, orUnknown(m.Current, "(none yet)"), width)
		block(w, label("v1 annot."), indent, orUnknown(m.CurrentV1, "(none)"), width)
	}
	for i, c := range r.Conditions {
		l := ""
		if i == 0 {
			l = label("conditions")
		}
		block(w, l, indent, fmt.Sprintf("%s %s %s: %s", c.Type, c.Status, c.Reason, c.Message), width)
	}
	var nodes []string
	for _, n := range r.Nodes {
		nodes = append(nodes, n.Name+" "+orUnknown(n.arch(), "?"))
	}
	block(w, label("nodes"), indent, orUnknown(strings.Join(nodes, ", "), "none read")+"; controller's CPU from "+r.ArchitectureFrom, width)
	block(w, label("sync"), indent, fmt.Sprintf("every %s, downscale stabilization %s (%s)", r.Controller.SyncPeriod, r.Controller.DownscaleStabilization, r.Controller.From), width)

	for _, f := range r.Findings {
		fmt.Fprintln(w)
		var mark string
		switch f.Severity {
		case Anomaly:
			mark = st.FailMark()
		case Problem:
			mark = st.WarnMark()
		default:
			mark = st.PassMark()
		}
		block(w, mark+" ", "  ", st.Bold.Render(f.Title), width)
		for i, p := range f.Explain {
			if i > 0 {
				fmt.Fprintln(w)
			}
			block(w, "  ", "  ", p, width)
		}
		if s := f.Source; s != nil {
			where := fmt.Sprintf("%s line %d at %s, in %s:", s.File, s.Line, s.Version, s.Function)
			if s.Line == 0 {
				where = s.Note + ":"
			} else if s.Note != "" {
				where += " (" + s.Note + ")"
			}
			block(w, "  "+st.Muted.Render("source: "), "    ", where, width)
			fmt.Fprintf(w, "    %s\n", st.Code.Render(s.Statement))
			fmt.Fprintf(w, "    %s\n", s.URL)
			block(w, "  "+st.Muted.Render("upstream: "), "    ", s.Issue+"; the 2021 workshop's link: "+s.Workshop, width)
		}
		if f.Next != "" {
			block(w, "  "+st.Muted.Render("next: "), "    ", f.Next, width)
		}
	}
}

func orUnknown(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// block prints text wrapped to width: the first line after first (already
// styled, its visible width counted without escapes), the others after
// indent.
func block(w io.Writer, first, indent, text string, width int) {
	lead := visibleLen(first)
	lines := wrap(text, max(width-max(lead, len(indent)), 20))
	for i, l := range lines {
		if i == 0 {
			fmt.Fprintf(w, "%s%s%s\n", first, strings.Repeat(" ", max(len(indent)-lead, 0)), l)
			continue
		}
		fmt.Fprintf(w, "%s%s\n", indent, l)
	}
}

// visibleLen is the width of s without ANSI escapes.
func visibleLen(s string) int {
	n, esc := 0, false
	for _, r := range s {
		switch {
		case r == '\x1b':
			esc = true
		case esc:
			if r == 'm' {
				esc = false
			}
		default:
			n++
		}
	}
	return n
}

// wrap breaks text into lines of at most width columns at spaces (a word
// longer than width, such as a URL, gets a line of its own).
func wrap(text string, width int) []string {
	var lines []string
	var cur strings.Builder
	curLen := 0
	for _, word := range strings.Fields(text) {
		wl := visibleLen(word)
		if curLen > 0 && curLen+1+wl > width {
			lines = append(lines, cur.String())
			cur.Reset()
			curLen = 0
		}
		if curLen > 0 {
			cur.WriteByte(' ')
			curLen++
		}
		cur.WriteString(word)
		curLen += wl
	}
	if curLen > 0 || len(lines) == 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

// JSON writes the report as indented JSON (dojo's one --json format).
func JSON(w io.Writer, r Report) error { return cmdutil.WriteJSON(w, r) }

// Conversion is what --explain prints: the division by zero replicas
// computed on this machine, and what another architecture gives.
type Conversion struct {
	Statement string            `json:"statement"`
	Here      floatconv.Outcome `json:"here"`
	Other     floatconv.Outcome `json:"other"`
	// OtherFrom says where the other row comes from.
	OtherFrom string `json:"otherFrom"`
}

// NewConversion measures on this CPU now.
func NewConversion() Conversion {
	here := floatconv.Measure()
	other, _ := floatconv.Known(floatconv.Other(here.Arch))
	return Conversion{Statement: "int64(math.Ceil(float64(usage) / float64(replicas)))", Here: here, Other: other,
		OtherFrom: "dojo's table, proven by running this division built for " + other.Arch + " under qemu-user in dojo's tests"}
}

// TextConversion prints the conversion side by side.
func TextConversion(w io.Writer, st ui.Styles, width int, c Conversion) {
	if width <= 0 {
		width = 80
	}
	fmt.Fprintln(w, st.Title.Render("The HPA's average per replica, with 0 replicas"))
	block(w, "", "", "The controller computes "+c.Statement+", with usage in thousandths. With 0 replicas the float division gives NaN (0/0) or +Inf (n/0), and Go leaves their conversion to int64 to the processor.", width)
	fmt.Fprintln(w)
	row := func(arch, note, a, b string) {
		fmt.Fprintf(w, "  %-16s %-24s %s\n", arch+note, a, b)
	}
	row("", "", st.Muted.Render(fmt.Sprintf("%-24s", "empty queue (0/0)")), st.Muted.Render(fmt.Sprintf("%d items (%d000/0)", floatconv.Items, floatconv.Items)))
	row(c.Here.Arch, " (this CPU)", milli(c.Here.ZeroByZero), milli(c.Here.ItemsByZero))
	row(c.Other.Arch, "", milli(c.Other.ZeroByZero), milli(c.Other.ItemsByZero))
	fmt.Fprintln(w)
	block(w, "", "", "This CPU's row was computed just now, at run time; the "+c.Other.Arch+" row is "+c.OtherFrom+".", width)
}
