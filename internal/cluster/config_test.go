package cluster

import (
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/yaml"

	"github.com/kubedojo/dojo/internal/versions"
	"github.com/kubedojo/dojo/internal/workshop"
)

func TestConfigDecodesStrictlyIntoKindV1Alpha4AndRoundTrips(t *testing.T) {
	raw, err := RenderConfig(ConfigOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got v1alpha4.Cluster
	if err := yaml.UnmarshalStrict(raw, &got); err != nil {
		t.Fatalf("kind v1alpha4 rejects the generated config: %v\n%s", err, raw)
	}
	if !reflect.DeepEqual(&got, Config(ConfigOptions{})) {
		t.Fatalf("round trip changed the config:\n%s", raw)
	}
	again, err := yaml.Marshal(&got)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(raw) {
		t.Fatalf("re-encoding differs:\n%s\n---\n%s", raw, again)
	}

	if got.Kind != "Cluster" || got.APIVersion != "kind.x-k8s.io/v1alpha4" || got.Name != workshop.ClusterName {
		t.Fatalf("type/name: %+v", got.TypeMeta)
	}
	if len(got.Nodes) != 1 {
		t.Fatalf("nodes = %d, want 1", len(got.Nodes))
	}
	n := got.Nodes[0]
	if n.Role != v1alpha4.ControlPlaneRole || n.Image != versions.NodeImage {
		t.Fatalf("node role/image = %s %s", n.Role, n.Image)
	}
	if n.Labels["ingress-ready"] != "true" || n.Labels[OwnerLabel] != workshop.ClusterName {
		t.Fatalf("node labels = %v", n.Labels)
	}
	ports := map[int32]int32{}
	for _, m := range n.ExtraPortMappings {
		ports[m.ContainerPort] = m.HostPort
	}
	if ports[80] != 80 || ports[443] != 443 {
		t.Fatalf("port mappings = %v", n.ExtraPortMappings)
	}
	if !got.FeatureGates["HPAScaleToZero"] {
		t.Fatalf("featureGates = %v", got.FeatureGates)
	}
}

func TestConfigRejectsUnknownFieldsSoTheStrictCheckMeansSomething(t *testing.T) {
	raw, _ := RenderConfig(ConfigOptions{})
	bad := strings.Replace(string(raw), "featureGates:", "featureGatez:", 1)
	var c v1alpha4.Cluster
	if err := yaml.UnmarshalStrict([]byte(bad), &c); err == nil {
		t.Fatal("an unknown field was accepted")
	}
}

func TestKubeadmPatchIsV1Beta4ListFormWithoutAPIVersion(t *testing.T) {
	c := Config(ConfigOptions{})
	if len(c.KubeadmConfigPatches) != 1 {
		t.Fatalf("patches = %d", len(c.KubeadmConfigPatches))
	}
	var patch struct {
		APIVersion        *string `json:"apiVersion"`
		Kind              string  `json:"kind"`
		ControllerManager struct {
			ExtraArgs []struct {
				Name  string `json:"name"`
				Value string `json:"value"`
			} `json:"extraArgs"`
		} `json:"controllerManager"`
	}
	if err := yaml.UnmarshalStrict([]byte(c.KubeadmConfigPatches[0]), &patch); err != nil {
		t.Fatalf("patch is not the v1beta4 list form: %v", err)
	}
	if patch.APIVersion != nil {
		t.Fatalf("patch carries apiVersion %q: kind would ignore it on a v1beta4 node", *patch.APIVersion)
	}
	if patch.Kind != "ClusterConfiguration" {
		t.Fatalf("kind = %q", patch.Kind)
	}
	args := map[string]string{}
	for _, a := range patch.ControllerManager.ExtraArgs {
		args[a.Name] = a.Value
	}
	want := map[string]string{
		"horizontal-pod-autoscaler-sync-period":             "5s",
		"horizontal-pod-autoscaler-downscale-stabilization": "20s",
	}
	if !reflect.DeepEqual(args, want) {
		t.Fatalf("extraArgs = %v, want %v", args, want)
	}
}

func TestConfigIsFreshEachCall(t *testing.T) {
	a := Config(ConfigOptions{Name: "x"})
	a.Nodes[0].Labels["ingress-ready"] = "mutated"
	if Config(ConfigOptions{Name: "x"}).Nodes[0].Labels["ingress-ready"] != "true" {
		t.Fatal("Config shares state between calls")
	}
}

func TestParseNodeLabelsBothKubeadmForms(t *testing.T) {
	v1beta4 := `nodeRegistration:
  kubeletExtraArgs:
    - name: "node-ip"
      value: "172.18.0.2"
    - name: "node-labels"
      value: "ingress-ready=true,kubedojo.io/cluster=dojo"
`
	v1beta3 := `nodeRegistration:
  kubeletExtraArgs:
    node-labels: "ingress-ready=true,kubedojo.io/cluster=dojo"
`
	for name, conf := range map[string]string{"v1beta4": v1beta4, "v1beta3": v1beta3} {
		got := parseNodeLabels(conf)
		if got[OwnerLabel] != "dojo" || got["ingress-ready"] != "true" {
			t.Errorf("%s: labels = %v", name, got)
		}
	}
}

// kind publishes a port mapping without a listen address on every
// interface: the room's Wi-Fi could reach the learner's producer. dojo's
// default keeps both ports on loopback; another address is taken as given.
func TestPortMappingsListenOnLoopbackUnlessToldOtherwise(t *testing.T) {
	for _, c := range []struct {
		give, want string
	}{{"", "127.0.0.1"}, {"0.0.0.0", "0.0.0.0"}, {"192.0.2.7", "192.0.2.7"}} {
		raw, err := RenderConfig(ConfigOptions{ListenAddress: c.give})
		if err != nil {
			t.Fatal(err)
		}
		var got v1alpha4.Cluster
		if err := yaml.UnmarshalStrict(raw, &got); err != nil {
			t.Fatal(err)
		}
		ms := got.Nodes[0].ExtraPortMappings
		if len(ms) != 2 {
			t.Fatalf("port mappings = %v", ms)
		}
		for _, m := range ms {
			if m.ListenAddress != c.want {
				t.Errorf("ListenAddress %q: mapping of %d listens on %q, want %q", c.give, m.ContainerPort, m.ListenAddress, c.want)
			}
		}
	}
	if !IsLoopback("127.0.0.1") || !IsLoopback("::1") || IsLoopback("0.0.0.0") || IsLoopback("192.0.2.7") || IsLoopback("nonsense") {
		t.Fatal("IsLoopback misjudges an address")
	}
}

// docker port's lines become the addresses the node's ports are open on.
func TestParsePortAddresses(t *testing.T) {
	got := parsePortAddresses("80/tcp -> 127.0.0.1:80\n443/tcp -> 127.0.0.1:443\n6443/tcp -> 127.0.0.1:37021\n")
	if !reflect.DeepEqual(got, []string{"127.0.0.1"}) {
		t.Errorf("loopback mappings: %v", got)
	}
	got = parsePortAddresses("80/tcp -> 0.0.0.0:80\n80/tcp -> [::]:80\n6443/tcp -> 127.0.0.1:37021\n")
	if !reflect.DeepEqual(got, []string{"0.0.0.0", "::", "127.0.0.1"}) {
		t.Errorf("an old cluster's mappings: %v", got)
	}
}
