package cluster

import (
	"fmt"
	"strings"
)

// NameRule is kind's rule for a cluster name, in words and as kind writes
// it: kind v0.33.0 refuses any name that does not match `^[a-z0-9.-]+$`
// (validNameRE in sigs.k8s.io/kind/pkg/internal/apis/config/validate.go).
const NameRule = "lowercase letters, digits, '.' and '-' only, as kind requires (^[a-z0-9.-]+$)"

// ValidateName refuses a cluster name kind would refuse, before anything
// is named or written after it: the name becomes the markers' file names,
// the context kind-<name> and the node <name>-control-plane. The error
// states the rule; the caller names the value (pflag does).
func ValidateName(name string) error {
	ok := name != ""
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			ok = false
			break
		}
	}
	if !ok {
		return fmt.Errorf("a kind cluster name is %s", NameRule)
	}
	return nil
}

// plainFileName refuses a name that is not one plain file name: the
// markers are <dir>/clusters/<name>.<kind>, and a name with a separator or
// a parent reference would put them elsewhere. --name is validated at the
// flag; this is the second line of defence for any other caller.
func plainFileName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`+"\x00") {
		return fmt.Errorf("cluster name %q is not a plain file name, so dojo keeps no marker for it: a kind cluster name is %s", name, NameRule)
	}
	return nil
}
