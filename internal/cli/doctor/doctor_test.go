package doctor

import (
	"strings"
	"testing"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory/factorytest"
)

// docs/up.md: a failed doctor check exits 3 (a check ran and failed), a
// warning alone exits 0; every check is printed either way.
func TestDoctorExitCodes(t *testing.T) {
	cases := []struct {
		name   string
		checks []check.Result
		want   int
	}{
		{"all ok", []check.Result{{Criterion: "helm", Status: check.Pass, Observed: "helm v4.3.1"}}, cmdutil.ExitOK},
		{"a warning", []check.Result{{Criterion: "jq", Status: check.Warn, Observed: "jq not found", Next: "install it"}}, cmdutil.ExitOK},
		{"a failure", []check.Result{
			{Criterion: "helm", Status: check.Pass, Observed: "helm v4.3.1"},
			{Criterion: "kubectl", Status: check.Fail, Observed: "kubectl not found", Next: "install it"},
		}, cmdutil.ExitCheckFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, st := factorytest.New(t, factorytest.Options{})
			out := st.Out
			err := Render(f, &Options{}, c.checks)
			if got := cmdutil.ExitCode(err); got != c.want {
				t.Fatalf("exit %d (%v), want %d", got, err, c.want)
			}
			for _, ch := range c.checks {
				if !strings.Contains(out.String(), ch.Observed) || !strings.Contains(out.String(), ch.Next) {
					t.Errorf("check %+v not printed in %q", ch, out.String())
				}
			}
		})
	}
}
