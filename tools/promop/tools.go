//go:build tools

// Package tools pins the Prometheus operator v0.93.1 (the appVersion of
// kube-prometheus-stack 88.5.3) and its config reloader for the kind node
// image. A module of its own: the operator's k8s.io modules differ from the
// ones dojo uses. mk/kind.mk builds both commands from here.
package tools

import (
	_ "github.com/prometheus-operator/prometheus-operator/cmd/operator"
	_ "github.com/prometheus-operator/prometheus-operator/cmd/prometheus-config-reloader"
)
