package steps

import (
	"fmt"
	"strconv"
	"strings"
)

// LastStep is the highest numbered step; cleanup comes after it.
const LastStep = 10

// RefError is an argument that names no step.
type RefError struct{ Arg string }

func (e *RefError) Error() string {
	if strings.TrimSpace(e.Arg) == "" {
		return "no step given: name one of step-1 … step-10 or cleanup (5, step-5 and Step5 all work)"
	}
	return fmt.Sprintf("unknown step %q: name one of step-1 … step-10 or cleanup (5, step-5 and Step5 all work)", e.Arg)
}

// ParseRef turns what a learner typed into a step number. It accepts "7",
// "step-7", "step7", "Step7", "STEP_7", "step 7" and "cleanup"; cleanup is
// CleanupNumber.
func ParseRef(arg string) (int, error) {
	s := strings.ToLower(strings.TrimSpace(arg))
	if s == "cleanup" || s == "clean-up" {
		return CleanupNumber, nil
	}
	if rest, ok := strings.CutPrefix(s, "step"); ok {
		s = strings.TrimLeft(rest, "-_ ")
		if len(rest) == len(s) && rest != "" && (rest[0] < '0' || rest[0] > '9') {
			return 0, &RefError{Arg: arg}
		}
	}
	if s == "" || len(s) > 2 {
		return 0, &RefError{Arg: arg}
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, &RefError{Arg: arg}
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > LastStep {
		return 0, &RefError{Arg: arg}
	}
	return n, nil
}
