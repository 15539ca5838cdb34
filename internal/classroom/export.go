package classroom

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Export is the room for the retrospective: per learner, the steps passed
// with their times and hints, and the hints used in all.
type Export struct {
	Exported time.Time       `json:"exported"`
	Steps    []string        `json:"steps"`
	Learners []ExportLearner `json:"learners"`
}

// ExportLearner is one learner of the export.
type ExportLearner struct {
	Name string `json:"name"`
	ID   string `json:"id"`
	// Step is where the learner stands (DoneStep: finished).
	Step int `json:"step"`
	// StepsPassed counts the steps passed; HintsUsed the hints revealed on
	// every step passed and the current one.
	StepsPassed int          `json:"stepsPassed"`
	HintsUsed   int          `json:"hintsUsed"`
	Steps       []ExportStep `json:"steps"`
	Joined      time.Time    `json:"joined"`
	LastSeen    time.Time    `json:"lastSeen"`
}

// ExportStep is a step passed: the learner's time on it and its hints, and
// when the room heard it passed.
type ExportStep struct {
	Step     int       `json:"step"`
	ID       string    `json:"id"`
	Seconds  int64     `json:"seconds"`
	Hints    int       `json:"hints"`
	PassedAt time.Time `json:"passedAt"`
}

// ExportOf lays the room out for the export.
func ExportOf(r *Room, now time.Time) Export {
	ex := Export{Exported: now.UTC(), Learners: []ExportLearner{}}
	ids := map[int]string{}
	for _, s := range r.Steps() {
		ex.Steps = append(ex.Steps, s.ID)
		ids[s.Number] = s.ID
	}
	for _, l := range r.Learners() {
		el := ExportLearner{Name: l.Name, ID: l.ID, Step: l.Step, Joined: l.Joined, LastSeen: l.Seen, Steps: []ExportStep{}}
		for _, p := range l.Passed {
			el.Steps = append(el.Steps, ExportStep{Step: p.Step, ID: ids[p.Step], Seconds: p.Seconds, Hints: p.Hints, PassedAt: p.At})
			el.StepsPassed++
			el.HintsUsed += p.Hints
		}
		if !l.passed(l.Step) {
			el.HintsUsed += l.Hints
		}
		ex.Learners = append(ex.Learners, el)
	}
	return ex
}

// WriteJSON writes the export as indented JSON.
func (ex Export) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(ex)
}

// WriteCSV writes one row per learner: name, id, current step, steps
// passed, hints used, then each step's seconds (empty when not passed). A
// cell a spreadsheet would read as a formula is quoted with a leading '.
func (ex Export) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := []string{"name", "learner", "current step", "steps passed", "hints used"}
	for _, id := range ex.Steps {
		head = append(head, id+" seconds")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, l := range ex.Learners {
		current := strconv.Itoa(l.Step)
		if l.Step > len(ex.Steps) {
			current = "done"
		}
		row := []string{cell(l.Name), l.ID, current, strconv.Itoa(l.StepsPassed), strconv.Itoa(l.HintsUsed)}
		for i := range ex.Steps {
			v := ""
			for _, s := range l.Steps {
				if s.Step == i+1 {
					v = strconv.FormatInt(s.Seconds, 10)
				}
			}
			row = append(row, v)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// cell keeps a learner's text from being read as a spreadsheet formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteExport writes the export in format ("csv" or "json").
func WriteExport(w io.Writer, ex Export, format string) error {
	switch format {
	case "csv":
		return ex.WriteCSV(w)
	case "json":
		return ex.WriteJSON(w)
	}
	return fmt.Errorf("format %q is not csv or json", format)
}
