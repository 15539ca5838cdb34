//go:build tools

// Package tools pins prometheus-adapter v0.12.0 for the lab. It is a module of
// its own because the adapter needs k8s.io modules v0.30, which conflict with
// the v0.37 the rest of dojo uses. mk/lab.mk builds the command from here.
package tools

import _ "sigs.k8s.io/prometheus-adapter/cmd/adapter"
