package hint

import (
	"errors"
	"testing"

	"github.com/kubedojo/dojo/internal/cmdutil"
)

func TestParseArgs(t *testing.T) {
	step, k, err := ParseArgs([]string{"step-5", "2"})
	if err != nil || step != "step-5" || k != 2 {
		t.Fatalf("ParseArgs(step-5 2) = %q %d %v", step, k, err)
	}
	step, k, err = ParseArgs([]string{"Step7"})
	if err != nil || step != "Step7" || k != 0 {
		t.Fatalf("ParseArgs(Step7) = %q %d %v", step, k, err)
	}
	for _, args := range [][]string{{}, {"5", "0"}, {"5", "-1"}, {"5", "x"}, {"5", "1", "2"}, {"step-99", "1"}, {"", "1"}} {
		_, _, err := ParseArgs(args)
		var ue *cmdutil.UsageError
		if !errors.As(err, &ue) {
			t.Errorf("ParseArgs(%q) = %v; want a usage error", args, err)
		}
	}
}

func FuzzParseHintArgs(f *testing.F) {
	f.Add("step-5", "1", 2)
	f.Add("7", "", 1)
	f.Add("", "", 0)
	f.Add("cleanup", "99999999999999999999", 2)
	f.Add("Step7", "-3", 2)
	f.Fuzz(func(t *testing.T, a, b string, n int) {
		var args []string
		switch n % 4 {
		case 1:
			args = []string{a}
		case 2:
			args = []string{a, b}
		case 3:
			args = []string{a, b, a}
		}
		step, k, err := ParseArgs(args)
		if err != nil {
			var ue *cmdutil.UsageError
			if !errors.As(err, &ue) || ue.Msg == "" {
				t.Fatalf("ParseArgs(%q): %v is not a usage error with a message", args, err)
			}
			return
		}
		if step != args[0] {
			t.Fatalf("ParseArgs(%q) lost the step: %q", args, step)
		}
		if len(args) == 2 && k < 1 {
			t.Fatalf("ParseArgs(%q) accepted hint number %d", args, k)
		}
	})
}
