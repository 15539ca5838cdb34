package doctor

import (
	"strings"
	"testing"

	"github.com/kubedojo/dojo/internal/cluster"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory/factorytest"
)

// docs/up.md: a failed doctor check exits 3 (a check ran and failed), a
// warning alone exits 0; every check is printed either way.
func TestDoctorExitCodes(t *testing.T) {
	cases := []struct {
		name   string
		checks []cluster.Check
		want   int
	}{
		{"all ok", []cluster.Check{{Name: "helm", Status: cluster.OK, Message: "helm v4.3.1"}}, cmdutil.ExitOK},
		{"a warning", []cluster.Check{{Name: "jq", Status: cluster.Warn, Message: "jq not found", Fix: "install it"}}, cmdutil.ExitOK},
		{"a failure", []cluster.Check{
			{Name: "helm", Status: cluster.OK, Message: "helm v4.3.1"},
			{Name: "kubectl", Status: cluster.Fail, Message: "kubectl not found", Fix: "install it"},
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
				if !strings.Contains(out.String(), ch.String()) {
					t.Errorf("check %q not printed in %q", ch.String(), out.String())
				}
			}
		})
	}
}
