package check

import (
	"bytes"
	"testing"

	goldenfile "github.com/kubedojo/dojo/internal/testutil/golden"

	"github.com/kubedojo/dojo/internal/ui"
)

func sample() []Result {
	return []Result{
		{Criterion: "runtime", Status: Pass, Observed: "docker is running"},
		{Criterion: "memory", Status: Warn, Observed: "2.0 GiB of memory", Expected: "at least 4.0 GiB for the whole workshop", Next: "give Docker more memory (Docker Desktop: Settings → Resources)"},
		{Criterion: "port-80", Status: Fail, Observed: "host port 80 is already taken by nginx (pid 42)", Expected: "host port 80 free for Traefik", Next: "stop nginx, or free the port"},
		{Criterion: "cluster", Status: Skipped, Observed: "not checked", WaitsFor: "runtime"},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, "golden/"+name, got)
}

func TestTextGolden(t *testing.T) {
	for name, colour := range map[string]bool{"text.golden": false, "text-colour.golden": true} {
		var b bytes.Buffer
		Text(&b, ui.NewStyles(colour), sample())
		golden(t, name, b.Bytes())
	}
}

func TestJSONGolden(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, sample()); err != nil {
		t.Fatal(err)
	}
	golden(t, "results.json.golden", b.Bytes())
	b.Reset()
	if err := JSON(&b, nil); err != nil || b.String() != "[]\n" {
		t.Fatalf("no results: %q %v, want []", b.String(), err)
	}
}

func TestCountAndString(t *testing.T) {
	rs := sample()
	if Count(rs, Fail) != 1 || Count(rs, Warn) != 1 || Count(rs, Pass) != 1 || Count(rs, Skipped) != 1 {
		t.Fatalf("counts wrong for %+v", rs)
	}
	if s := rs[1].String(); s != "2.0 GiB of memory: give Docker more memory (Docker Desktop: Settings → Resources)" {
		t.Fatalf("String() = %q", s)
	}
	if s := rs[0].String(); s != "docker is running" {
		t.Fatalf("a pass with nothing to do: %q", s)
	}
}
