package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"
)

// BenchmarkStartup measures the cold start of offline commands as a learner
// runs them: a fresh process each time, wall time and peak resident memory.
// It builds bin/dojo twice: as shipped, and with -tags linkall (every library
// later issues link). Rerun with `make bench-startup`.
func BenchmarkStartup(b *testing.B) {
	root, err := filepath.Abs("../..")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	ws := b.TempDir()
	for _, variant := range []struct{ name, tags string }{{"shipped", ""}, {"linkall", "linkall"}} {
		bin := filepath.Join(dir, "dojo-"+variant.name)
		build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-tags", variant.tags, "-o", bin, ".")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("building %s: %v\n%s", variant.name, err, out)
		}
		for _, args := range [][]string{{"hint", "step-5", "1"}, {"steps"}} {
			b.Run(variant.name+"/"+args[0], func(b *testing.B) {
				var walls []time.Duration
				var peak int64
				for b.Loop() {
					cmd := exec.Command(bin, args...)
					cmd.Env = append(os.Environ(), "DOJO_WORKSPACE="+ws)
					start := time.Now()
					if out, err := cmd.CombinedOutput(); err != nil {
						b.Fatalf("%v: %v\n%s", args, err, out)
					}
					walls = append(walls, time.Since(start))
					if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && runtime.GOOS == "linux" {
						peak = max(peak, ru.Maxrss) // KiB on Linux
					}
				}
				slices.Sort(walls)
				b.ReportMetric(float64(walls[len(walls)/2].Microseconds())/1000, "ms-median")
				b.ReportMetric(float64(peak)/1024, "MiB-peak-rss")
			})
		}
	}
}
