//go:build tools

// Package tools pins Prometheus v3.14.0 (module version v0.314.0, the image
// tag kube-prometheus-stack 88.5.3 names) for the kind node image. mk/kind.mk
// builds cmd/prometheus without the web UI's assets (its API is what dojo
// and the adapter use) and with the Kubernetes, file and http service
// discovery only (remove_all_sd,enable_kubernetes_sd: the operator's
// configuration uses Kubernetes's).
package tools

import _ "github.com/prometheus/prometheus/cmd/prometheus"
