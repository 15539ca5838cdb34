// Package check is dojo's one result vocabulary: a criterion judged against
// what was observed, with what was expected and what to do next. dojo doctor
// and dojo up's preflight report with it, and the step checks will. Results
// are data; Text and JSON render them.
package check

// Status is a criterion's verdict.
type Status string

// The verdicts. A Fail stops what depends on it (dojo up stops before
// creating anything); a Warn is printed and dojo goes on; Skipped is a
// criterion not judged because one it needs failed.
const (
	Pass    Status = "pass"
	Fail    Status = "fail"
	Warn    Status = "warn"
	Skipped Status = "skipped"
)

// Result is one criterion's verdict.
type Result struct {
	// Criterion is a stable id ("runtime", "port-80", "step-5/scrape-interval").
	Criterion string `json:"criterion"`
	Status    Status `json:"status"`
	// Observed is what was seen, in a sentence.
	Observed string `json:"observed"`
	// Expected is what passes.
	Expected string `json:"expected,omitempty"`
	// Next is what to do: a command to run or a field to set (empty on a pass).
	Next string `json:"next,omitempty"`
	// WaitsFor names the criterion a skipped result needs.
	WaitsFor string `json:"waitsFor,omitempty"`
}

// String is the result as one line: what was observed and, when there is
// something to do, what.
func (r Result) String() string {
	if r.Next == "" {
		return r.Observed
	}
	return r.Observed + ": " + r.Next
}

// Count returns how many results have status s.
func Count(rs []Result, s Status) int {
	n := 0
	for _, r := range rs {
		if r.Status == s {
			n++
		}
	}
	return n
}
