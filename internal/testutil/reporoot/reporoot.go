// Package reporoot finds the dojo checkout the tests and their harnesses
// (internal/lab, internal/kindlab) run from, for the binaries and caches they
// need (bin/dojo, .cache/).
package reporoot

import (
	"os"
	"path/filepath"
	"strings"
)

// Find returns the dojo checkout from the working directory up, or "".
func Find() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(data), "module github.com/kubedojo/dojo\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
