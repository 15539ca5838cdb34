package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkStartup measures the cold start of offline commands as a learner
// runs them: a fresh process each time, median wall time and peak resident
// memory. It builds the dojo binary twice: as shipped, and with -tags linkall
// (every library later issues link), and times them with testdata/startrun.
// Rerun with `make bench-startup`.
func BenchmarkStartup(b *testing.B) {
	root, err := filepath.Abs("../..")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	build := func(out, tags, pkg string) {
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-tags", tags, "-o", out, pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("building %s: %v\n%s", pkg, err, msg)
		}
	}
	runner := filepath.Join(dir, "startrun")
	build(runner, "", "./internal/cli/testdata/startrun")
	ws := b.TempDir()
	measure := func(b *testing.B, argv ...string) {
		cmd := exec.Command(runner, append([]string{"-n", strconv.Itoa(max(b.N, 5)), "--"}, argv...)...)
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("%v: %v", argv, err)
		}
		var r map[string]float64
		if err := json.Unmarshal(out, &r); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r["medianMs"], "ms-median")
		b.ReportMetric(r["minMs"], "ms-min")
		b.ReportMetric(r["peakRSSMi"], "MiB-peak-rss")
		b.ReportMetric(0, "ns/op")
	}
	// The reference: kubectl v1.37.2's client, built by make lab-tools.
	kubectl := filepath.Join(root, ".cache", "lab", "bin", "kubectl")
	if _, err := os.Stat(kubectl); err != nil {
		b.Fatalf("%v: make bench-startup builds it (make lab-tools)", err)
	}
	b.Run("kubectl/version-client", func(b *testing.B) { measure(b, kubectl, "version", "--client") })
	for _, variant := range []struct{ name, tags string }{{"shipped", ""}, {"linkall", "linkall"}} {
		bin := filepath.Join(dir, "dojo-"+variant.name)
		build(bin, variant.tags, ".")
		for _, args := range [][]string{{"hint", "step-5", "1"}, {"steps"}} {
			b.Run(variant.name+"/"+args[0], func(b *testing.B) {
				measure(b, append([]string{bin, "--workspace", ws}, args...)...)
			})
		}
	}
}
