//go:build tools

// Package tools pins crictl (sigs.k8s.io/cri-tools, which kubeadm needs in
// the offline kind node image). It is never compiled; mk/kind.mk builds the
// command from this module.
package tools

import _ "sigs.k8s.io/cri-tools/cmd/crictl"
