//go:build tools

// Package tools pins node_exporter v1.12.1 (the appVersion of the
// prometheus-node-exporter 4.56.1 chart kube-prometheus-stack 88.5.3
// depends on) for the kind node image. mk/kind.mk builds it from here.
package tools

import _ "github.com/prometheus/node_exporter"
