// Package embedded carries the workshop inside the binary: the step files,
// the learner's workspace (charts and values), the reference solutions and
// the platform files dojo up installs.
package embedded

import (
	"embed"
	"io/fs"
)

// all: keeps files that start with "_" or "." (every _helpers.tpl and
// .helmignore), which go:embed drops otherwise.
//
//go:embed all:steps all:workspace all:solutions all:platform
var files embed.FS

// FS is the embedded tree, rooted so that paths read "steps/05-….md",
// "workspace/charts/consumer/Chart.yaml" and so on.
func FS() fs.FS { return files }

// Workspace is the tree dojo init copies into the learner's workspace.
func Workspace() fs.FS {
	sub, err := fs.Sub(files, "workspace")
	if err != nil {
		panic(err) // the directory is embedded above; this cannot fail
	}
	return sub
}
