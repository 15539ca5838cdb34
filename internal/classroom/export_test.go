package classroom

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestExportListsStepsPassedWithTimesAndHints(t *testing.T) {
	r, c, _ := newRoom(t, DefaultLimits())
	ada := ev(1, "Ada", 3, 100)
	ada.Hints = 2
	ada.Passed = []Passed{{Step: 1, Seconds: 120, Hints: 0}, {Step: 2, Seconds: 900, Hints: 3}}
	apply(t, r, ada)
	c.Add(time.Minute)
	apply(t, r, ev(2, "=HYPERLINK(\"http://x\")", 1, 5))
	ex := ExportOf(r, c.Now())

	var buf bytes.Buffer
	if err := WriteExport(&buf, ex, "csv"); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := strings.Join(rows[0], ",")
	if !strings.HasPrefix(head, "name,learner,current step,steps passed,hints used,step-1 seconds,step-2 seconds") || !strings.HasSuffix(head, "cleanup seconds") {
		t.Fatalf("CSV header = %s", head)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want a header and 2 learners", len(rows))
	}
	// Rows are ordered by name: '=' sorts before 'A'.
	formula, a := rows[1], rows[2]
	if a[0] != "Ada" || a[2] != "3" || a[3] != "2" || a[4] != "5" || a[5] != "120" || a[6] != "900" || a[7] != "" {
		t.Fatalf("Ada's row = %v, want step 3, 2 passed, 5 hints (0+3 passed, 2 on step 3), 120 and 900 s", a)
	}
	if !strings.HasPrefix(formula[0], "'=") {
		t.Fatalf("a name a spreadsheet reads as a formula is written as %q", formula[0])
	}

	buf.Reset()
	if err := WriteExport(&buf, ex, "json"); err != nil {
		t.Fatal(err)
	}
	var back Export
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	l := back.Learners[1]
	if l.Name != "Ada" || l.StepsPassed != 2 || l.HintsUsed != 5 || len(l.Steps) != 2 || l.Steps[1].ID != "step-2" || l.Steps[1].Seconds != 900 || !l.Steps[1].PassedAt.Equal(t0) {
		t.Fatalf("JSON export of Ada = %+v", l)
	}
	if err := WriteExport(&buf, ex, "xml"); err == nil {
		t.Fatal("xml accepted")
	}
}
