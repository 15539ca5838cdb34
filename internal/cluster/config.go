// Package cluster is dojo's kind cluster: the configuration it generates,
// the preflight checks that run before anything is created, and create,
// side-load and delete through a Provider (kind's Go library in production,
// a stand-in in tests).
package cluster

import (
	"fmt"
	"net"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/yaml"

	"github.com/kubedojo/dojo/internal/versions"
	"github.com/kubedojo/dojo/internal/workshop"
)

// OwnerLabel is the node label dojo puts on every cluster it creates; its
// value is the cluster name. Teardown refuses clusters without it.
const OwnerLabel = "kubedojo.io/cluster"

// IngressReadyLabel selects the node Traefik runs on (its hostPorts are the
// laptop's ports 80 and 443 through kind's port mappings).
const IngressReadyLabel = "ingress-ready"

// ControllerManagerPatch makes the HPA react within seconds. It carries no
// apiVersion on purpose: kind then applies it to whichever kubeadm API it
// generates (v1beta4 for node images ≥ 1.36, where extraArgs is a list of
// name/value pairs); a patch naming kubeadm.k8s.io/v1beta3 would be silently
// ignored.
const ControllerManagerPatch = `kind: ClusterConfiguration
controllerManager:
  extraArgs:
    - name: horizontal-pod-autoscaler-sync-period
      value: "5s"
    - name: horizontal-pod-autoscaler-downscale-stabilization
      value: "20s"
`

// ConfigOptions shape the generated kind configuration.
type ConfigOptions struct {
	Name      string // cluster name (workshop.ClusterName when empty)
	NodeImage string // versions.NodeImage when empty
	HTTPPort  int32  // host port mapped to the node's 80 (80 when 0)
	HTTPSPort int32  // host port mapped to the node's 443 (443 when 0)
	// ListenAddress is the host address the two ports are published on
	// (DefaultListenAddress when empty). kind without one publishes on
	// every interface: on a shared Wi-Fi, the whole room could reach the
	// learner's producer and Prometheus.
	ListenAddress string
}

// DefaultListenAddress keeps the cluster's ports 80 and 443 on this machine:
// the workshop's host names (*.vcap.me, *.localhost) resolve to it.
const DefaultListenAddress = "127.0.0.1"

// IsLoopback says whether addr (an IP address) reaches this machine only.
func IsLoopback(addr string) bool {
	ip := net.ParseIP(addr)
	return ip != nil && ip.IsLoopback()
}

// Config builds the kind v1alpha4 configuration of a dojo cluster: one
// control-plane node labelled ingress-ready and owned by dojo, ports 80 and
// 443 published on the host's loopback (o.ListenAddress), the HPA tuned for a workshop, HPAScaleToZero on.
// Every call returns a fresh value (kind mutates the one it is given).
func Config(o ConfigOptions) *v1alpha4.Cluster {
	if o.Name == "" {
		o.Name = workshop.ClusterName
	}
	if o.NodeImage == "" {
		o.NodeImage = versions.NodeImage
	}
	if o.HTTPPort == 0 {
		o.HTTPPort = 80
	}
	if o.HTTPSPort == 0 {
		o.HTTPSPort = 443
	}
	if o.ListenAddress == "" {
		o.ListenAddress = DefaultListenAddress
	}
	return &v1alpha4.Cluster{
		TypeMeta: v1alpha4.TypeMeta{Kind: "Cluster", APIVersion: "kind.x-k8s.io/v1alpha4"},
		Name:     o.Name,
		Nodes: []v1alpha4.Node{{
			Role:  v1alpha4.ControlPlaneRole,
			Image: o.NodeImage,
			Labels: map[string]string{
				IngressReadyLabel: "true",
				OwnerLabel:        o.Name,
			},
			ExtraPortMappings: []v1alpha4.PortMapping{
				{ContainerPort: 80, HostPort: o.HTTPPort, ListenAddress: o.ListenAddress, Protocol: v1alpha4.PortMappingProtocolTCP},
				{ContainerPort: 443, HostPort: o.HTTPSPort, ListenAddress: o.ListenAddress, Protocol: v1alpha4.PortMappingProtocolTCP},
			},
		}},
		FeatureGates:         map[string]bool{"HPAScaleToZero": true},
		KubeadmConfigPatches: []string{ControllerManagerPatch},
	}
}

// RenderConfig is Config as the YAML kind reads (what dojo hands to kind's
// CreateWithRawConfig, so the tested bytes are the used bytes).
func RenderConfig(o ConfigOptions) ([]byte, error) {
	b, err := yaml.Marshal(Config(o))
	if err != nil {
		return nil, fmt.Errorf("rendering the kind configuration: %w", err)
	}
	return b, nil
}
