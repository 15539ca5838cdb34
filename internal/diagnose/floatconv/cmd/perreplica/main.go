// Command perreplica prints floatconv.Measure as JSON: the proof, built for
// another GOARCH and run under qemu-user, of what that CPU's conversion gives.
package main

import (
	"encoding/json"
	"os"

	"github.com/kubedojo/dojo/internal/diagnose/floatconv"
)

func main() {
	if err := json.NewEncoder(os.Stdout).Encode(floatconv.Measure()); err != nil {
		os.Exit(1)
	}
}
