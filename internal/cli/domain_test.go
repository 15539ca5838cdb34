package cli

import (
	"strings"
	"testing"

	"github.com/kubedojo/dojo/internal/state"
)

// After dojo up --domain localhost (which records the domain in the
// workspace), the step, its hints and its reference name the learner's
// hosts; without a recorded domain they keep vcap.me.
func TestTextsFollowTheDomainDojoUpUsed(t *testing.T) {
	commands := [][]string{{"step", "5"}, {"hint", "5", "3"}, {"hint", "5", "3", "--json"}, {"solution", "step-5"}}

	s := newSession(t)
	for _, args := range commands {
		r := s.run(false, false, args...)
		if r.code != 0 || !strings.Contains(r.out, "prometheus.vcap.me") || strings.Contains(r.out, "prometheus.localhost") {
			t.Errorf("%v with no domain recorded: exit %d, want prometheus.vcap.me:\n%s", args, r.code, r.out)
		}
	}

	s = newSession(t)
	if _, err := state.NewStore(s.ws, s.clock.now).Update(func(st *state.State) error {
		st.Domain = "localhost"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, args := range append(commands, []string{"step", "3"}, []string{"step", "2"}) {
		r := s.run(false, false, args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.errOut)
		}
		if strings.Contains(r.out, ".vcap.me") {
			t.Errorf("%v still names a host of vcap.me:\n%s", args, r.out)
		}
		if args[0] != "step" || args[1] == "5" {
			if !strings.Contains(r.out, "prometheus.localhost") {
				t.Errorf("%v does not name prometheus.localhost:\n%s", args, r.out)
			}
		} else if !strings.Contains(r.out, "producer.localhost") {
			t.Errorf("%v does not name producer.localhost:\n%s", args, r.out)
		}
	}
}
