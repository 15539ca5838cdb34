package kindlab

import (
	"strings"
	"testing"
)

// Diff names what changed and nothing else; an unchanged network is "".
func TestNetworkDiff(t *testing.T) {
	before := Network{"routes": "default via 10.0.0.1 dev eth0", "links": "1: lo"}
	if d := before.Diff(Network{"routes": "default via 10.0.0.1 dev eth0", "links": "1: lo"}); d != "" {
		t.Fatalf("no change, diff %q", d)
	}
	d := before.Diff(Network{"routes": "default via 10.0.0.1 dev eth0\n172.18.0.0/16 dev br-1", "links": "1: lo"})
	if !strings.Contains(d, "routes after") || !strings.Contains(d, "172.18.0.0/16 dev br-1") || strings.Contains(d, "links") {
		t.Fatalf("diff %q: want the routes, not the links", d)
	}
}

// What changes by itself (packet counters, lease lifetimes) is not a change;
// anything else is.
func TestNormalize(t *testing.T) {
	for _, pair := range [][2]string{
		{":INPUT ACCEPT [1234:56789]", ":INPUT ACCEPT [0:0]"},
		{"inet 10.0.2.15/24 valid_lft 86000sec preferred_lft 86000sec", "inet 10.0.2.15/24 valid_lft 85990sec preferred_lft 85990sec"},
	} {
		if normalize(pair[0]) != normalize(pair[1]) {
			t.Errorf("%q and %q differ after normalize", pair[0], pair[1])
		}
	}
	if normalize(":INPUT ACCEPT [1:1]") == normalize(":INPUT DROP [1:1]") {
		t.Error("a policy change vanished in normalize")
	}
}
