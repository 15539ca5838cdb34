// Package plot charts a dojo watch recording (dojo plot): the queue and the
// HPA's metric above, desired and ready replicas below, the HPA's events
// marked on both, titled and labelled so that it reads without a word of
// explanation.
package plot

import (
	"fmt"
	"image/color"
	"io"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/kubedojo/dojo/internal/state"
	"github.com/kubedojo/dojo/internal/watch"
)

// Format is the output format named by a file's extension: "png" or "svg".
func Format(out string) (string, error) {
	switch ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(out), ".")); ext {
	case "png", "svg":
		return ext, nil
	default:
		return "", fmt.Errorf("--out %q: dojo plot writes .png or .svg, e.g. --out chart.png", out)
	}
}

var (
	blue   = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	orange = color.RGBA{R: 255, G: 127, B: 14, A: 255}
	green  = color.RGBA{R: 44, G: 160, B: 44, A: 255}
	grey   = color.RGBA{R: 90, G: 90, B: 90, A: 255}
	purple = color.RGBA{R: 148, G: 103, B: 189, A: 255}
)

// Write charts rec into out (PNG or SVG by its extension), 1200×800 points.
func Write(rec *watch.Recording, out string) error {
	format, err := Format(out)
	if err != nil {
		return err
	}
	if len(rec.Samples) == 0 {
		return fmt.Errorf("the recording holds no sample: record at least a second with dojo watch --record")
	}
	t0 := rec.Samples[0].Time
	sec := func(s watch.Sample) float64 { return s.Time.Sub(t0).Seconds() }

	items := plot.New()
	items.Title.Text = fmt.Sprintf("dojo watch: HPA %s, %s (sync %s, downscale stabilization %s)",
		rec.Header.HPA, t0.Format("2006-01-02 15:04:05 MST"), rec.Header.SyncPeriod, rec.Header.DownscaleStabilization)
	items.Y.Label.Text = "items"
	items.X.Label.Text = "seconds since the recording started"
	reps := plot.New()
	reps.Y.Label.Text = "replicas"
	reps.X.Label.Text = "seconds since the recording started"

	var queue, metric, desired, ready plotter.XYs
	maxItems, maxReps := 1.0, 1.0
	for _, s := range rec.Samples {
		x := sec(s)
		if s.Queue != nil {
			queue = append(queue, plotter.XY{X: x, Y: *s.Queue})
			maxItems = max(maxItems, *s.Queue)
		}
		if s.Metric != nil {
			metric = append(metric, plotter.XY{X: x, Y: *s.Metric})
			maxItems = max(maxItems, *s.Metric)
		}
		desired = append(desired, plotter.XY{X: x, Y: float64(s.Desired)})
		ready = append(ready, plotter.XY{X: x, Y: float64(s.Ready)})
		maxReps = max(maxReps, float64(s.Desired), float64(s.Ready))
	}
	add := func(p *plot.Plot, xys plotter.XYs, c color.Color, width vg.Length, dashed bool, name string) error {
		if len(xys) == 0 {
			return nil
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		l.Color, l.Width = c, width
		if dashed {
			l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		}
		p.Add(l)
		p.Legend.Add(name, l)
		return nil
	}
	for _, e := range []error{
		add(items, queue, blue, vg.Points(2), false, "queue length (redis_key_size of padok)"),
		add(items, metric, orange, vg.Points(1.5), true, "redis_items_in_queue (what the HPA reads)"),
		add(reps, desired, purple, vg.Points(2), false, "desired replicas (HPA)"),
		add(reps, ready, green, vg.Points(1.5), true, "ready replicas (Deployment consumer)"),
	} {
		if e != nil {
			return e
		}
	}
	items.Y.Min, items.Y.Max = 0, maxItems*1.15
	reps.Y.Min, reps.Y.Max = 0, maxReps*1.3+0.5
	for _, p := range []*plot.Plot{items, reps} {
		p.X.Min, p.X.Max = 0, sec(rec.Samples[len(rec.Samples)-1])
		p.Legend.Top = true
		p.Add(plotter.NewGrid())
	}

	// The events: a thin vertical line on both panels, a short label on the
	// replicas panel.
	var labels plotter.XYLabels
	i := 0
	for _, e := range rec.Events {
		x := e.Time.Sub(t0).Seconds()
		if x < 0 || x > items.X.Max || !watch.Notable(e) {
			continue
		}
		for _, p := range []*plot.Plot{items, reps} {
			l, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: p.Y.Max}})
			if err != nil {
				return err
			}
			l.Color, l.Width, l.Dashes = grey, vg.Points(0.5), []vg.Length{vg.Points(2), vg.Points(2)}
			p.Add(l)
		}
		labels.XYs = append(labels.XYs, plotter.XY{X: x, Y: reps.Y.Max * (0.95 - 0.08*float64(i%4))})
		labels.Labels = append(labels.Labels, short(e))
		i++
	}
	if len(labels.Labels) > 0 {
		lb, err := plotter.NewLabels(labels)
		if err != nil {
			return err
		}
		for i := range lb.TextStyle {
			lb.TextStyle[i].Color = grey
		}
		reps.Add(lb)
	}

	w, h := vg.Points(1200), vg.Points(800)
	c, err := draw.NewFormattedCanvas(w, h, format)
	if err != nil {
		return err
	}
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Points(10), PadBottom: vg.Points(10), PadLeft: vg.Points(10), PadRight: vg.Points(20), PadY: vg.Points(20)}
	canvases := plot.Align([][]*plot.Plot{{items}, {reps}}, tiles, dc)
	items.Draw(canvases[0][0])
	reps.Draw(canvases[1][0])
	// A temporary file created exclusively next to out, renamed over it: a
	// file or link already at any fixed temporary name is never written.
	return state.WriteAtomic(out, 0o644, func(w io.Writer) error {
		_, err := c.WriteTo(w)
		return err
	})
}

// short is an event's label on the chart: "↑ 4" for a rescale to 4, the
// condition's type and reason otherwise.
func short(e watch.Event) string {
	switch e.Kind {
	case "scale":
		if _, after, ok := strings.Cut(e.Text, "New size: "); ok {
			n, _, _ := strings.Cut(after, ";")
			return "rescale → " + n
		}
	case "condition":
		f := strings.Fields(e.Text)
		if len(f) >= 3 {
			return f[0] + " " + f[1] + " " + strings.TrimSuffix(f[2], ":")
		}
	}
	r, _, _ := strings.Cut(e.Text, ":")
	return r
}
