package diagnose_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/diagnose/floatconv"
	"github.com/kubedojo/dojo/internal/diagnose/source"
	"github.com/kubedojo/dojo/internal/steps"
)

// TestStep10AgreesWithDiagnose: the step's text and hints point at dojo
// diagnose and say what it says: the line at each version they name, the
// function, the statement and each architecture's numbers.
func TestStep10AgreesWithDiagnose(t *testing.T) {
	cat, err := steps.Load(embedded.FS())
	if err != nil {
		t.Fatal(err)
	}
	var s *steps.Step
	for _, st := range cat.Steps() {
		if st.Number == 10 {
			s = st
		}
	}
	if s == nil {
		t.Fatal("no step 10")
	}
	flat := func(x string) string { return strings.Join(strings.Fields(x), " ") }
	body, hints := flat(s.Body), flat(strings.Join(s.Hints, "\n"))
	last := flat(s.Hints[len(s.Hints)-1])
	for _, want := range []string{"dojo diagnose", "dojo diagnose --explain"} {
		if !strings.Contains(body, want) || !strings.Contains(last, want) {
			t.Errorf("the body or the last hint does not mention %q", want)
		}
	}
	lines := regexp.MustCompile(`(?i)line (\d+) at (v1\.\d+\.\d+)`).FindAllStringSubmatch(hints, -1)
	if len(lines) < 2 {
		t.Fatalf("the hints name %d line numbers, want the kind node's and the lab's", len(lines))
	}
	for _, m := range lines {
		n, _ := strconv.Atoi(m[1])
		l, ok := source.Lookup(m[2])
		if !ok || l.Object != n {
			t.Errorf("the hints say line %d at %s; the table says %d (%v)", n, m[2], l.Object, ok)
		}
	}
	for _, want := range []string{source.ObjectFunc, source.Statement[len("usage = "):]} {
		if !strings.Contains(hints, want) {
			t.Errorf("the hints do not quote %q", want)
		}
	}
	milli := func(v int64) string {
		if v == 0 {
			return "0"
		}
		return fmt.Sprintf("%dm", v)
	}
	amd, _ := floatconv.Known("amd64")
	arm, _ := floatconv.Known("arm64")
	for _, want := range []string{
		milli(amd.ZeroByZero),
		"an empty queue shows `" + milli(arm.ZeroByZero) + "`",
		"shows `" + milli(arm.ItemsByZero) + "`",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the body does not say %q", want)
		}
	}
	for _, want := range []string{
		fmt.Sprintf("the result is %d", amd.ZeroByZero),
		fmt.Sprintf("+Inf gives %d", arm.ItemsByZero),
		fmt.Sprintf("NaN gives %d", arm.ZeroByZero),
	} {
		if !strings.Contains(last, want) {
			t.Errorf("the last hint does not say %q", want)
		}
	}
}
