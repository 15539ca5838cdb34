package steps

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRef(t *testing.T) {
	good := map[string]int{
		"7": 7, "step-7": 7, "Step7": 7, "step7": 7, "STEP-7": 7, "step_7": 7, "step 7": 7,
		" 5 ": 5, "10": 10, "step-10": 10, "01": 1, "cleanup": CleanupNumber, "Cleanup": CleanupNumber,
	}
	for in, want := range good {
		got, err := ParseRef(in)
		if err != nil || got != want {
			t.Errorf("ParseRef(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	bad := []string{"", " ", "step-99", "step-x", "0", "11", "-1", "step", "step-", "stepx7", "7a", "Ⅶ", "step--7x", "100", "+7", "1e1"}
	for _, in := range bad {
		_, err := ParseRef(in)
		var re *RefError
		if !errors.As(err, &re) {
			t.Errorf("ParseRef(%q) = %v; want a RefError", in, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "step-1 … step-10 or cleanup") {
			t.Errorf("ParseRef(%q) message %q does not name the valid steps", in, msg)
		}
		if strings.TrimSpace(in) != "" && !strings.Contains(msg, in) {
			t.Errorf("ParseRef(%q) message %q does not name the bad value", in, msg)
		}
	}
}

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"7", "step-7", "Step7", "cleanup", "", "step-99", "step-x", "step 10", "٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n, err := ParseRef(in)
		if err != nil {
			var re *RefError
			if !errors.As(err, &re) || re.Arg != in {
				t.Fatalf("ParseRef(%q): error %v is not a RefError carrying the input", in, err)
			}
			if n != 0 {
				t.Fatalf("ParseRef(%q) returned %d with an error", in, n)
			}
			return
		}
		if (n < 1 || n > LastStep) && n != CleanupNumber {
			t.Fatalf("ParseRef(%q) = %d, outside the steps", in, n)
		}
		// The canonical id of the result parses back to the same step.
		if back, err := ParseRef(IDFor(n)); err != nil || back != n {
			t.Fatalf("ParseRef(IDFor(%d)) = %d, %v", n, back, err)
		}
	})
}
