// Package floatconv is the HPA controller's per-replica division and the
// float-to-int64 conversion that follows it, measured on the CPU it runs on.
//
// Go leaves the conversion of NaN and ±Inf to an integer to the hardware
// (the spec: "the behavior is implementation-dependent"), so the same
// controller writes different numbers on different nodes. Known holds what
// each architecture dojo explains gives; make test proves the amd64 row
// natively and the arm64 row under qemu-user (floatconv_test.go).
package floatconv

import (
	"math"
	"runtime"
)

// PerReplica is the statement the controller runs for an AverageValue
// target (replica_calculator.go, GetObjectPerPodMetricReplicas):
// int64(math.Ceil(float64(usage) / float64(replicas))), usage in
// milli-units. It is kept out of line so that the division happens at run
// time, on this CPU, and never in the compiler.
//
//go:noinline
func PerReplica(usage, replicas int64) int64 {
	return int64(math.Ceil(float64(usage) / float64(replicas)))
}

// Outcome is what the conversion gives on one architecture for the two
// divisions by zero replicas.
type Outcome struct {
	Arch string `json:"arch"`
	// ZeroByZero is 0/0 (NaN): an empty queue and no replica.
	ZeroByZero int64 `json:"zeroByZero"`
	// ItemsByZero is 20 items (20000 milli) / 0 (+Inf): items waiting and
	// no replica yet.
	ItemsByZero int64 `json:"itemsByZero"`
}

// Items is the queue length the n/0 case uses, in items.
const Items = 20

// Measure divides on this machine, now.
func Measure() Outcome {
	return Outcome{
		Arch:        runtime.GOARCH,
		ZeroByZero:  PerReplica(0, 0),
		ItemsByZero: PerReplica(Items*1000, 0),
	}
}

// Known is what the conversion gives on arch, for the architectures kind
// publishes node images for: amd64 writes the "integer indefinite" value
// (MinInt64) for NaN and for +Inf; arm64 saturates (+Inf to MaxInt64) and
// turns NaN into 0.
func Known(arch string) (Outcome, bool) {
	switch arch {
	case "amd64":
		return Outcome{Arch: arch, ZeroByZero: math.MinInt64, ItemsByZero: math.MinInt64}, true
	case "arm64":
		return Outcome{Arch: arch, ZeroByZero: 0, ItemsByZero: math.MaxInt64}, true
	}
	return Outcome{}, false
}

// Other is the architecture compared with arch in explanations: arm64 for
// amd64 and the reverse.
func Other(arch string) string {
	if arch == "arm64" {
		return "amd64"
	}
	return "arm64"
}
