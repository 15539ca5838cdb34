package watch

import (
	"fmt"
	"math"
	"strings"

	"github.com/kubedojo/dojo/internal/ui"
)

// History keeps what a view shows: the newest samples and events, bounded
// (a watch left running for hours holds no more than this).
type History struct {
	Samples []Sample
	Events  []Event
}

// The bounds of a History.
const (
	MaxSamples = 600 // ten minutes at one a second: wider than any terminal
	MaxEvents  = 50
)

// AddSample keeps s and drops the oldest beyond MaxSamples.
func (h *History) AddSample(s Sample) {
	h.Samples = append(h.Samples, s)
	if n := len(h.Samples); n > MaxSamples {
		h.Samples = append(h.Samples[:0], h.Samples[n-MaxSamples:]...)
	}
}

// AddEvent keeps e and drops the oldest beyond MaxEvents.
func (h *History) AddEvent(e Event) {
	h.Events = append(h.Events, e)
	if n := len(h.Events); n > MaxEvents {
		h.Events = append(h.Events[:0], h.Events[n-MaxEvents:]...)
	}
}

// The messages the view takes.
type (
	// SampleMsg is a new sample.
	SampleMsg Sample
	// EventMsg is a new event.
	EventMsg Event
	// DoneMsg ends the view (--for elapsed, or the watch failed).
	DoneMsg struct{ Err error }
)

// Model is dojo watch's terminal view.
type Model struct {
	Header Header
	// MaxReplicas tops the replicas scale (the HPA's maxReplicas).
	MaxReplicas int32
	Hist        History
	Width       int
	Height      int
	Styles      ui.Styles
	Err         error
}

// Update implements ui.ScreenModel: it takes a message and says whether
// the view is done (q, Esc, Ctrl-C, or the watch ended).
func (m Model) Update(msg any) (ui.ScreenModel, bool) {
	switch msg := msg.(type) {
	case ui.ResizeMsg:
		m.Width, m.Height = msg.Width, msg.Height
	case ui.KeyMsg:
		switch msg {
		case "q", "ctrl+c", "esc":
			return m, true
		}
	case SampleMsg:
		m.Hist.AddSample(Sample(msg))
	case EventMsg:
		if Notable(Event(msg)) {
			m.Hist.AddEvent(Event(msg))
		}
	case DoneMsg:
		m.Err = msg.Err
		return m, true
	}
	return m, false
}

// View implements ui.ScreenModel: a header, the chart, its legend and the
// newest events, in exactly Height lines of at most Width columns.
func (m Model) View() string {
	w, h := max(m.Width, 40), max(m.Height, 12)
	st := m.Styles
	var lines []string
	head := fmt.Sprintf("dojo watch  HPA %s · sync %s · downscale stabilization %s", m.Header.HPA, m.Header.SyncPeriod, m.Header.DownscaleStabilization)
	lines = append(lines, st.Title.Render(clip(head, w)))

	nEvents := min(len(m.Hist.Events), max(h/4, 2))
	chartRows := h - 4 - nEvents // header, axis, legend, events title
	const left, right = 6, 4
	cols := w - left - right
	samples := m.Hist.Samples
	if len(samples) > cols {
		samples = samples[len(samples)-cols:]
	}
	itemsTop, replTop := 10.0, float64(max(m.MaxReplicas, 1))
	for _, s := range samples {
		for _, v := range []*float64{s.Queue, s.Metric} {
			if v != nil && *v > itemsTop {
				itemsTop = *v
			}
		}
		replTop = max(replTop, float64(s.Desired), float64(s.Ready), float64(s.Replicas))
	}
	itemsTop = niceCeil(itemsTop)
	grid := make([][]string, chartRows)
	for r := range grid {
		grid[r] = make([]string, cols)
		for c := range grid[r] {
			grid[r][c] = " "
		}
	}
	row := func(v, top float64) int {
		return chartRows - 1 - int(math.Round(v/top*float64(chartRows-1)))
	}
	blocks := []string{"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"}
	off := cols - len(samples)
	for i, s := range samples {
		c := off + i
		if s.Queue != nil && *s.Queue > 0 {
			eighths := int(math.Round(*s.Queue / itemsTop * float64(chartRows) * 8))
			for r := chartRows - 1; r >= 0 && eighths > 0; r-- {
				k := min(eighths, 8)
				grid[r][c] = st.Accent.Render(blocks[k-1])
				eighths -= k
			}
		}
		if s.Metric != nil {
			grid[row(*s.Metric, itemsTop)][c] = st.Warn.Render("•")
		}
		d, rd := row(float64(s.Desired), replTop), row(float64(s.Ready), replTop)
		if d == rd {
			grid[d][c] = st.Pass.Render("*")
		} else {
			grid[d][c] = st.Bold.Render("d")
			grid[rd][c] = st.Pass.Render("r")
		}
	}
	for r := range grid {
		l, rr := "", ""
		switch r {
		case 0:
			l, rr = fmt.Sprintf("%5.0f ", itemsTop), fmt.Sprintf(" %3.0f", replTop)
		case chartRows - 1:
			l, rr = fmt.Sprintf("%5d ", 0), fmt.Sprintf(" %3d", 0)
		default:
			l, rr = "      ", "    "
		}
		lines = append(lines, st.Muted.Render(l)+strings.Join(grid[r], "")+st.Muted.Render(rr))
	}
	span := ""
	if len(samples) > 1 {
		span = fmt.Sprintf("last %s", samples[len(samples)-1].Time.Sub(samples[0].Time).Round(1e9))
	}
	lines = append(lines, st.Muted.Render(clip(fmt.Sprintf("%s%s%*s", strings.Repeat(" ", left), "items (left) · replicas (right)", max(cols-31, 0), span), w)))
	legend := "waiting for the first sample"
	if n := len(m.Hist.Samples); n > 0 {
		s := m.Hist.Samples[n-1]
		legend = fmt.Sprintf("▇ queue %s  • metric %s (HPA %s)  d desired %d  r ready %d/%d",
			num(s.Queue), num(s.Metric), orDash(s.HPAMetric), s.Desired, s.Ready, s.Replicas)
	}
	lines = append(lines, clip(legend, w))
	lines = append(lines, st.Heading.Render("events"))
	for _, e := range m.Hist.Events[len(m.Hist.Events)-nEvents:] {
		lines = append(lines, clip(fmt.Sprintf("%s %-9s %s", e.Time.Format("15:04:05"), e.Kind, e.Text), w))
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines[:h], "\n")
}

// Plain is one line for a sample, when stdout is not a terminal.
func Plain(s Sample) string {
	return fmt.Sprintf("%s queue %s metric %s hpa %s desired %d replicas %d ready %d",
		s.Time.Format("15:04:05"), num(s.Queue), num(s.Metric), orDash(s.HPAMetric), s.Desired, s.Replicas, s.Ready)
}

// PlainEvent is one line for an event.
func PlainEvent(e Event) string {
	return fmt.Sprintf("%s [%s] %s", e.Time.Format("15:04:05"), e.Kind, e.Text)
}

func num(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%g", *v)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clip cuts s to w columns.
func clip(s string, w int) string {
	r := []rune(s)
	if len(r) <= w {
		return s
	}
	return string(r[:w-1]) + "…"
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}
