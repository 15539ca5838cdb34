//go:build tools

// Package tools pins the Kubernetes commands the lab runs (kube-apiserver,
// kube-controller-manager, kubectl) to k8s.io/kubernetes v1.37.2. It is never
// compiled; mk/lab.mk builds the commands from this module.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
