package lab_test

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/redis/go-redis/v9"

	"github.com/kubedojo/dojo/internal/lab"
	"github.com/kubedojo/dojo/internal/watch"
)

// watchOnLab is dojo watch's and dojo plot's proof on the real pipeline: a
// 150 s recording around dojo load burst 200, charted; a watch killed with
// SIGKILL leaves a recording dojo plot reads.
func watchOnLab(t *testing.T, l *lab.Lab, _ *redis.Client) {
	home := t.TempDir()
	dir := t.TempDir()

	t.Run("n/a 150 s recording around dojo load burst 200 shows the story, and dojo plot charts it", func(t *testing.T) {
		file := filepath.Join(dir, "session.jsonl")
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		w := dojoCmd(ctx, l, home, "watch", "--record", file, "--for", "150s")
		var out, errOut bytes.Buffer
		w.Stdout, w.Stderr = &out, &errOut
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		if o, e, code := runDojo(t, l, home, "load", "burst", "200"); code != 0 {
			t.Fatalf("dojo load burst 200: exit %d\n%s%s", code, o, e)
		}
		if err := w.Wait(); err != nil {
			t.Fatalf("dojo watch: %v\n%s", err, errOut.String())
		}
		rec, err := watch.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var maxQueue float64
		var maxDesired int32
		for _, s := range rec.Samples {
			if s.Queue != nil {
				maxQueue = max(maxQueue, *s.Queue)
			}
			maxDesired = max(maxDesired, s.Desired)
		}
		last := rec.Samples[len(rec.Samples)-1]
		scales := 0
		for _, e := range rec.Events {
			if e.Kind == "scale" {
				scales++
			}
		}
		t.Logf("MEASURE 150 s recording: %d samples, %d events (%d rescales), queue up to %g, desired up to %d, last %s", len(rec.Samples), len(rec.Events), scales, maxQueue, maxDesired, watch.Plain(last))
		if rec.Header.SyncPeriod != "5s" || rec.Header.DownscaleStabilization != "1s" {
			t.Errorf("header %+v: want the lab controller's 5s and 1s (read from its pod)", rec.Header)
		}
		if len(rec.Samples) < 140 || maxQueue < 150 || last.Queue == nil || *last.Queue != 0 || maxDesired < 4 || last.Desired != 0 || last.Ready != 0 || scales < 2 {
			t.Errorf("the recording does not tell the story: %d samples, queue up to %g, desired up to %d, %d rescales, last %s\n%s", len(rec.Samples), maxQueue, maxDesired, scales, watch.Plain(last), out.String())
		}
		if lines := strings.Count(out.String(), "\n"); lines < 140 {
			t.Errorf("stdout is not a terminal: want a line a second, got %d lines", lines)
		}
		chart := filepath.Join(dir, "session.png")
		o, e, code := runDojo(t, l, home, "plot", file, "--out", chart)
		if code != 0 || !strings.Contains(o, "wrote "+chart) {
			t.Fatalf("dojo plot: exit %d\n%s%s", code, o, e)
		}
		f, err := os.Open(chart)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil || img.Bounds().Dx() < 1200 {
			t.Fatalf("the chart: %v, %v", err, img)
		}
		if keep := os.Getenv("DOJO_LAB_CHART"); keep != "" {
			data, _ := os.ReadFile(chart)
			_ = os.WriteFile(keep, data, 0o644)
			raw, _ := os.ReadFile(file)
			_ = os.WriteFile(strings.TrimSuffix(keep, filepath.Ext(keep))+".jsonl", raw, 0o644)
		}
	})

	t.Run("o/a watch killed with SIGKILL leaves a recording dojo plot reads", func(t *testing.T) {
		file := filepath.Join(dir, "killed.jsonl")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		w := dojoCmd(ctx, l, home, "watch", "--record", file)
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		eventually(t, l, "three samples recorded", 30*time.Second, func(context.Context) error {
			rec, err := watch.ReadFile(file)
			if err == nil && len(rec.Samples) < 3 {
				return os.ErrNotExist
			}
			return err
		})
		if err := w.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = w.Wait()
		o, e, code := runDojo(t, l, home, "plot", file, "--out", filepath.Join(dir, "killed.svg"))
		if code != 0 || !strings.Contains(o, "samples over") {
			t.Errorf("dojo plot of a killed watch's recording: exit %d\n%s%s", code, o, e)
		}
	})

	t.Run("p/on a terminal dojo watch draws the chart at the terminal's size", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		w := dojoCmd(ctx, l, home, "watch", "--for", "6s")
		w.Env = append(w.Env, "TERM=xterm-256color")
		tty, err := pty.StartWithSize(w, &pty.Winsize{Rows: 24, Cols: 80})
		if err != nil {
			t.Fatal(err)
		}
		var screen bytes.Buffer
		done := make(chan struct{})
		go func() { _, _ = screen.ReadFrom(tty); close(done) }()
		err = w.Wait()
		tty.Close()
		<-done
		got := screen.String()
		if err != nil || !strings.Contains(got, "dojo watch  HPA default/consumer · sync 5s · downscale stabilization 1s") ||
			!strings.Contains(got, "items (left) · replicas (right)") || !strings.Contains(got, "\x1b[?1049h") {
			t.Errorf("dojo watch on an 80x24 terminal: %v\n%q", err, got)
		}
	})
}
