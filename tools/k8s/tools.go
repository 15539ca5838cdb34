//go:build tools

// Package tools pins the Kubernetes commands to k8s.io/kubernetes v1.37.2:
// those the lab runs (kube-apiserver, kube-controller-manager, kubectl) and
// those the offline kind node image adds (kubelet, kubeadm, kube-scheduler,
// kube-proxy). It is never compiled; mk/lab.mk and mk/kind.mk build the
// commands from this module.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubeadm"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
