package steps

import (
	"regexp"
	"strings"

	"github.com/kubedojo/dojo/internal/workshop"
)

// hostsOfDomain matches a host name of the workshop's default domain
// (producer.vcap.me, prometheus.vcap.me) and nothing that merely contains
// it. A bare "vcap.me", as the texts name the default, is left alone.
var hostsOfDomain = regexp.MustCompile(`\b[a-z0-9-]+\.` + regexp.QuoteMeta(workshop.Domain) + `\b`)

// WithDomain is text as the learner reads it: the workshop's host names
// written with the domain dojo up used (producer.localhost after
// `dojo up --domain localhost`). An empty domain, or the default one, leaves
// text as it is. Every text dojo shows from the catalog or the reference
// solutions goes through here; a learner's own files never do.
//
// A host name set in a diagram (two spaces or more after it) keeps the
// boxes around it aligned: the gap after it, then a gap before it that
// follows other text on the line, gives or takes the difference in length,
// down to one space.
func WithDomain(text, domain string) string {
	if domain == "" || domain == workshop.Domain {
		return text
	}
	delta := len(domain) - len(workshop.Domain)
	var b strings.Builder
	last := 0
	for _, m := range hostsOfDomain.FindAllStringIndex(text, -1) {
		start, end := m[0], m[1]
		if start < last {
			continue
		}
		host := text[start:end-len(workshop.Domain)] + domain
		after := spacesFrom(text, end)
		before := spacesBefore(text, start)
		if start-before < last || start-before == 0 || text[start-before-1] == '\n' {
			before = 0 // indentation, or already written: never touched
		}
		if after < 2 {
			b.WriteString(text[last:start])
			b.WriteString(host)
			last = end
			continue
		}
		keepBefore, keepAfter := before, after
		if delta > 0 {
			cut := min(delta, after-1)
			keepAfter -= cut
			if before >= 2 {
				keepBefore -= min(delta-cut, before-1)
			}
		} else {
			keepAfter -= delta
		}
		b.WriteString(text[last : start-before])
		b.WriteString(strings.Repeat(" ", keepBefore))
		b.WriteString(host)
		b.WriteString(strings.Repeat(" ", keepAfter))
		last = end + after
	}
	b.WriteString(text[last:])
	return b.String()
}

// spacesFrom counts the spaces at text[i:].
func spacesFrom(text string, i int) int {
	n := 0
	for i+n < len(text) && text[i+n] == ' ' {
		n++
	}
	return n
}

// spacesBefore counts the spaces that end at text[i].
func spacesBefore(text string, i int) int {
	n := 0
	for i-n-1 >= 0 && text[i-n-1] == ' ' {
		n++
	}
	return n
}
