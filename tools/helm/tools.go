//go:build tools

// Package tools pins the helm command (the version dojo's own go.mod uses)
// for the kind tests: a learner's step 1 asks for Helm 4 on PATH, and dojo
// check step-1 looks for it there. A module of its own so that dojo's go.mod
// does not take in the command's extra dependencies. mk/kind.mk builds it.
package tools

import _ "helm.sh/helm/v4/cmd/helm"
