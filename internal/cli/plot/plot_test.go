package plot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/ui"
)

func TestPlotArguments(t *testing.T) {
	io, _, out, _ := ui.Test(false, false)
	dir := t.TempDir()
	rec := filepath.Join(dir, "s.jsonl")
	if err := os.WriteFile(rec, []byte(`{"header":{"started":"2026-12-03T09:00:00Z","hpa":"default/consumer","syncPeriod":"5s","downscaleStabilization":"20s"}}
{"sample":{"t":"2026-12-03T09:00:01Z","queue":3,"desired":1,"replicas":1,"ready":1}}
{"sample":{"t":"2026-12-03T09:00:02Z","queue":0,"desired":1,"replicas":1,"ready":1}}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		opts Options
		code int
		msg  string
	}{
		{Options{File: rec}, cmdutil.ExitUsage, "needs --out FILE"},
		{Options{File: rec, Out: filepath.Join(dir, "c.gif")}, cmdutil.ExitUsage, "writes .png or .svg"},
		{Options{File: filepath.Join(dir, "none.jsonl"), Out: filepath.Join(dir, "c.png")}, cmdutil.ExitError, "no such file"},
		{Options{File: rec, Out: filepath.Join(dir, "c.svg")}, cmdutil.ExitOK, ""},
	} {
		tc.opts.IO = io
		err := Run(&tc.opts)
		if cmdutil.ExitCode(err) != tc.code || (tc.msg != "" && !strings.Contains(err.Error(), tc.msg)) {
			t.Errorf("%+v: %v", tc.opts, err)
		}
	}
	if !strings.Contains(out.String(), "2 samples over 1s, 0 events") {
		t.Errorf("stdout %q", out.String())
	}
}
