package steps

import (
	"regexp"
	"strings"
	"testing"

	"github.com/kubedojo/dojo/embedded"
)

func TestWithDomain(t *testing.T) {
	for _, c := range []struct{ in, domain, want string }{
		{"curl http://producer.vcap.me/healthz", "", "curl http://producer.vcap.me/healthz"},
		{"curl http://producer.vcap.me/healthz", "vcap.me", "curl http://producer.vcap.me/healthz"},
		{"curl http://producer.vcap.me/healthz", "localhost", "curl http://producer.localhost/healthz"},
		{"hosts: [prometheus.vcap.me]\n      - prometheus.vcap.me\n", "localhost", "hosts: [prometheus.localhost]\n      - prometheus.localhost\n"},
		// The default's name itself, and names that only contain it, stay.
		{"the default domain, vcap.me, and `vcap.me`", "localhost", "the default domain, vcap.me, and `vcap.me`"},
		{"producer.vcap.mexico", "localhost", "producer.vcap.mexico"},
		// A diagram keeps its boxes aligned, either way.
		{" +-----+  producer.vcap.me  +---+", "localhost", " +-----+ producer.localhost +---+"},
		{" +-----+  producer.vcap.me  +---+", "lan", " +-----+  producer.lan      +---+"},
		{"  producer.vcap.me  |", "localhost", "  producer.localhost |"},
		{"a.vcap.me  b.vcap.me  |", "localhost", "a.localhost b.localhost |"},
	} {
		if got := WithDomain(c.in, c.domain); got != c.want {
			t.Errorf("WithDomain(%q, %q) = %q, want %q", c.in, c.domain, got, c.want)
		}
	}
}

// Every host name of every text dojo shows follows the domain, and the
// diagrams of steps 3 and 4 keep their width line by line.
func TestEveryTextFollowsTheDomain(t *testing.T) {
	cat, err := Load(embedded.FS())
	if err != nil {
		t.Fatal(err)
	}
	host := regexp.MustCompile(`[a-z0-9-]\.vcap\.me\b`)
	seen := 0
	for _, s := range cat.Steps() {
		texts := append([]string{s.Goal, s.Body}, s.Hints...)
		for _, c := range s.Checks {
			texts = append(texts, c.Text)
		}
		for _, f := range s.Solution {
			texts = append(texts, f.Note)
		}
		for _, text := range texts {
			seen += len(host.FindAllString(text, -1))
			got := WithDomain(text, "localhost")
			if host.MatchString(got) {
				t.Errorf("%s: a host of vcap.me is left: %q", s.ID, host.FindString(got))
			}
			if s.Number != 3 && s.Number != 4 {
				continue
			}
			before, after := strings.Split(text, "\n"), strings.Split(got, "\n")
			for i := range before {
				if strings.Contains(before[i], "+---") && len(before[i]) != len(after[i]) {
					t.Errorf("%s: the diagram line %q became %q", s.ID, before[i], after[i])
				}
			}
		}
	}
	if seen < 15 {
		t.Fatalf("only %d host names of vcap.me in the texts: the test reads the wrong texts", seen)
	}
}
