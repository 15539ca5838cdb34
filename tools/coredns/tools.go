//go:build tools

// Package tools pins CoreDNS (github.com/coredns/coredns, the cluster DNS of
// the offline kind node image). It is never compiled; mk/kind.mk builds the
// command from this module.
package tools

import _ "github.com/coredns/coredns"
