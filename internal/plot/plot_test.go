package plot_test

import (
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubedojo/dojo/internal/plot"
	"github.com/kubedojo/dojo/internal/watch"
)

func recording() *watch.Recording {
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	r := &watch.Recording{Header: watch.Header{HPA: "default/consumer", SyncPeriod: "5s", DownscaleStabilization: "20s", Started: t0}}
	for i := range 90 {
		q := 0.0
		if i >= 5 && i < 45 {
			q = max(200-float64(i-5)*5, 0)
		}
		d := int32(0)
		if i >= 8 && i < 60 {
			d = min(int32(i-4)/2, 8)
		}
		r.Samples = append(r.Samples, watch.Sample{Time: t0.Add(time.Duration(i) * time.Second), Queue: &q, Metric: &q, Desired: d, Ready: max(d-1, 0)})
	}
	r.Events = []watch.Event{
		{Time: t0.Add(8 * time.Second), Kind: "scale", Text: "New size: 4; was 0 (the HPA's status)"},
		{Time: t0.Add(60 * time.Second), Kind: "scale", Text: "New size: 0; was 8 (the HPA's status)"},
		{Time: t0.Add(61 * time.Second), Kind: "condition", Text: "ScaledToZero True ScaledToZero: the HPA controller scaled the workload to zero"},
	}
	return r
}

// TestWritePNGAndSVG: the chart is a real image of the promised size with
// the series drawn in their colours, and an SVG carrying the title, the
// axis labels and the event labels.
func TestWritePNGAndSVG(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "chart.png")
	if err := plot.Write(recording(), out); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	if b.Dx() < 1200 || b.Dy() < 800 {
		t.Errorf("image %v", b)
	}
	// The queue's blue (31,119,180) and the desired replicas' purple must be drawn.
	found := map[string]bool{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			switch [3]uint32{r >> 8, g >> 8, bl >> 8} {
			case [3]uint32{31, 119, 180}:
				found["blue"] = true
			case [3]uint32{148, 103, 189}:
				found["purple"] = true
			}
		}
	}
	if !found["blue"] || !found["purple"] {
		t.Errorf("series colours drawn: %v", found)
	}
	if os.Getenv("DOJO_PLOT_KEEP") != "" {
		data, _ := os.ReadFile(out)
		_ = os.WriteFile(os.Getenv("DOJO_PLOT_KEEP"), data, 0o644)
	}

	svg := filepath.Join(dir, "chart.svg")
	if err := plot.Write(recording(), svg); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"dojo watch: HPA default/consumer", "seconds since the recording started", "replicas", "rescale → 4", "rescale → 0", "ScaledToZero True ScaledToZero", "queue length"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the SVG does not carry %q", want)
		}
	}
}

func TestBadOutAndEmptyRecording(t *testing.T) {
	if _, err := plot.Format("chart.jpg"); err == nil || !strings.Contains(err.Error(), `--out "chart.jpg": dojo plot writes .png or .svg`) {
		t.Errorf("err %v", err)
	}
	err := plot.Write(&watch.Recording{Header: watch.Header{HPA: "x"}}, filepath.Join(t.TempDir(), "a.png"))
	if err == nil || !strings.Contains(err.Error(), "no sample") {
		t.Errorf("err %v", err)
	}
	_ = fmt.Sprint()
}

// A link planted at <out>.tmp (the name dojo plot once wrote its temporary
// file to) is not followed: its target keeps its bytes, the link stays, and
// the chart lands at out with the mode of the file it replaces. (Before: the
// chart was written into the link's target.)
func TestWriteDoesNotFollowAPlantedTempLink(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	victim := filepath.Join(outside, "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "x.png")
	if err := os.Symlink(victim, out+".tmp"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(out, []byte("an older chart"), 0o600)
	if err := plot.Write(recording(), out); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "precious" {
		t.Fatalf("the planted link's target was overwritten (%d bytes)", len(data))
	}
	if target, err := os.Readlink(out + ".tmp"); err != nil || target != victim {
		t.Fatalf("the planted link was replaced: %q, %v", target, err)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() < 1000 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("out: %d bytes, mode %v; want the chart with the replaced file's 0600", fi.Size(), fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("left in the directory: %v; want x.png and the planted link", entries)
	}
}
