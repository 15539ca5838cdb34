//go:build tools

// Package tools pins kube-state-metrics v2.20.0 (the appVersion of the
// kube-state-metrics 8.4.0 chart kube-prometheus-stack 88.5.3 depends on)
// for the kind node image. A module of its own: its k8s.io modules differ
// from dojo's. mk/kind.mk builds the command from here.
package tools

import _ "k8s.io/kube-state-metrics/v2"
