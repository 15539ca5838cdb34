//go:build linkall

// This file exists for the start-up benchmark only (docs/benchmarks.md):
// built with -tags linkall, the binary also links the libraries later issues
// bring in (the PromQL engine for the check engine, gonum/plot for dojo
// watch), so start-up time and memory are measured against the final set.
package main

import (
	_ "github.com/charmbracelet/bubbletea"
	_ "github.com/google/go-containerregistry/pkg/v1/tarball"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/prometheus/promql"
	_ "github.com/redis/go-redis/v9"
	_ "gonum.org/v1/plot"
	_ "helm.sh/helm/v4/pkg/action"
	_ "k8s.io/client-go/kubernetes"
	_ "sigs.k8s.io/kind/pkg/cluster"
)
