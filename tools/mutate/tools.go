//go:build tools

// Package tools pins gremlins, the mutation tester behind `make mutate`
// (mk/mutate.mk, docs/testing.md). A module of its own so its dependencies
// stay out of dojo's go.mod.
package tools

import _ "github.com/go-gremlins/gremlins/cmd/gremlins"
