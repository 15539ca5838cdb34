package course

import (
	"strings"
	"testing"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/steps"
)

// Every step that names reference files can show them all.
func TestEverySolutionRenders(t *testing.T) {
	cat, err := steps.Load(embedded.FS())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range cat.Steps() {
		if len(s.Solution) == 0 {
			continue
		}
		n++
		md, err := SolutionMarkdown(s, embedded.FS())
		if err != nil {
			t.Errorf("%s: %v", s.ID, err)
			continue
		}
		if got := strings.Count(md, "\n## `"); got != len(s.Solution) {
			t.Errorf("%s: %d files shown, want %d", s.ID, got, len(s.Solution))
		}
	}
	if n != 6 {
		t.Fatalf("%d steps with a reference, want 6 (steps 5 to 10)", n)
	}
}
