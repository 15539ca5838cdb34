package helm

import (
	"fmt"
	"regexp"
	"strings"
)

// Conflict is one object whose fields another field manager owns: server-side
// apply refused to change them (a learner's kubectl edit, replace or apply of
// a live object makes one).
type Conflict struct {
	// Object is "namespace/name", Kind its group/version and kind as the
	// API server named them.
	Object string
	Kind   string
	// Managers lists, per field manager, the fields it owns that the chart
	// sets (in the API server's path notation).
	Managers []ManagerFields
}

// ManagerFields are the fields one field manager owns.
type ManagerFields struct {
	Manager string
	Fields  []string
}

func (c Conflict) String() string {
	var parts []string
	for _, m := range c.Managers {
		parts = append(parts, fmt.Sprintf("%s (changed by %q)", strings.Join(m.Fields, ", "), m.Manager))
	}
	return fmt.Sprintf("%s %s: %s", kindName(c.Kind), c.Object, strings.Join(parts, "; "))
}

// kindName is the kind alone from the API server's "group/version, Kind=X".
func kindName(gvk string) string {
	if _, k, ok := strings.Cut(gvk, "Kind="); ok {
		return k
	}
	return gvk
}

// ConflictError is an install or upgrade that server-side apply refused
// because other field managers own fields the chart sets.
type ConflictError struct {
	Conflicts []Conflict
	Err       error
}

func (e *ConflictError) Error() string {
	var objs []string
	for _, c := range e.Conflicts {
		objs = append(objs, c.String())
	}
	return "fields changed in the cluster by another tool: " + strings.Join(objs, "; ")
}

func (e *ConflictError) Unwrap() error { return e.Err }

var (
	// Helm's wrapping of the API server's refusal, one per object (several
	// are joined with " && ").
	conflictObjectRE = regexp.MustCompile(`conflict occurred while applying object (\S+) ([^:]+): Apply failed with \d+ conflicts?: `)
	// "conflict with "kubectl-edit" using autoscaling/v2: .spec.maxReplicas"
	// (one) or "conflicts with "kubectl-edit" using …:" then "- path" lines.
	managerRE = regexp.MustCompile(`^conflicts? with ("(?:[^"\\]|\\.)*")(?: with subresource "[^"]*")?(?: using \S+)?(?: at \S+)?:(.*)$`)
)

// ParseConflicts reads the objects, managers and fields out of Helm's error
// for a server-side apply conflict. Helm joins its errors in a type that
// does not unwrap, so the API server's structured causes are out of reach:
// the message, whose form the API server fixes
// (k8s.io/apimachinery/pkg/util/managedfields), is what is left. nil when
// err is no conflict.
func ParseConflicts(err error) []Conflict {
	if err == nil {
		return nil
	}
	msg := err.Error()
	locs := conflictObjectRE.FindAllStringSubmatchIndex(msg, -1)
	var out []Conflict
	for i, loc := range locs {
		end := len(msg)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		body := strings.TrimSuffix(strings.TrimSpace(msg[loc[1]:end]), "&&")
		c := Conflict{Object: msg[loc[2]:loc[3]], Kind: strings.TrimSpace(msg[loc[4]:loc[5]])}
		var cur *ManagerFields
		for _, line := range strings.Split(body, "\n") {
			line = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(line), "&&"))
			if m := managerRE.FindStringSubmatch(line); m != nil {
				name := m[1]
				if unq, err := unquote(name); err == nil {
					name = unq
				}
				c.Managers = append(c.Managers, ManagerFields{Manager: name})
				cur = &c.Managers[len(c.Managers)-1]
				if f := strings.TrimSpace(m[2]); f != "" {
					cur.Fields = append(cur.Fields, firstField(f))
				}
				continue
			}
			if f, ok := strings.CutPrefix(line, "- "); ok && cur != nil {
				cur.Fields = append(cur.Fields, firstField(f))
			}
		}
		if len(c.Managers) > 0 {
			out = append(out, c)
		}
	}
	return out
}

// firstField cuts what Helm or a wrapper appended after a field path.
func firstField(s string) string {
	if i := strings.Index(s, " && "); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

func unquote(s string) (string, error) {
	var out string
	_, err := fmt.Sscanf(s, "%q", &out)
	return out, err
}
