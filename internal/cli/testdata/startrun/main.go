// Command startrun runs a command N times and prints the median wall time
// and the peak resident memory of the runs, as JSON. BenchmarkStartup uses it
// because a child's ru_maxrss counts the memory of the process that started
// it (exec after a vfork-style clone inherits the parent's high-water mark):
// started from this small program, the number is the child's own.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 20, "runs")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: startrun -n N -- command [args]")
		os.Exit(2)
	}
	var walls []time.Duration
	var peak int64
	for range *n {
		cmd := exec.Command(args[0], args[1:]...)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "%v: %v\n%s", args, err, out)
			os.Exit(1)
		}
		walls = append(walls, time.Since(start))
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			peak = max(peak, ru.Maxrss)
		}
	}
	slices.Sort(walls)
	json.NewEncoder(os.Stdout).Encode(map[string]float64{
		"medianMs":  float64(walls[len(walls)/2].Microseconds()) / 1000,
		"minMs":     float64(walls[0].Microseconds()) / 1000,
		"peakRSSMi": float64(peak) / 1024,
	})
}
