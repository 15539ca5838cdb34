// Package solve applies a step's reference solution: it writes the step's
// reference files into the learner's workspace (backing up every learner file
// it replaces), installs the pinned upstream chart of steps 5, 6 and 8 with
// the reference values, and upgrades the consumer from the workspace chart
// for steps 7, 9 and 10. It goes through the one installer dojo up uses.
// Running it twice changes nothing; a run that was interrupted is completed
// by the next one (files are written atomically, the installer recovers a
// release left pending).
package solve

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kubedojo/dojo/internal/helm"
	"github.com/kubedojo/dojo/internal/report"
	"github.com/kubedojo/dojo/internal/state"
	"github.com/kubedojo/dojo/internal/steps"
	"github.com/kubedojo/dojo/internal/versions"
)

// Installer is what solve installs through (*helm.Installer).
type Installer interface {
	Apply(ctx context.Context, rel helm.Release) (helm.Result, error)
	UpgradeApp(ctx context.Context, workspaceDir, name string) (helm.Result, error)
}

// Env is what a solve needs.
type Env struct {
	Embedded  fs.FS
	Workspace string
	Installer Installer
	Progress  report.Progress
	// Stamp names the backups (a UTC time, "20061102T150405").
	Stamp string
	// Starter is the workspace as dojo up first wrote it: a file still as
	// it was there is not the learner's work and needs no backup.
	Starter fs.FS
}

// FileChange is what happened to one workspace file.
type FileChange struct {
	Path string `json:"path"`
	// Written is false when the file already held the reference.
	Written bool `json:"written"`
	// Backup is where the learner's previous version went ("" when there
	// was none or it was the reference already).
	Backup string `json:"backup,omitempty"`
	// Starter says the replaced file was still the one dojo up wrote.
	Starter bool `json:"starter,omitempty"`
	// SupersededBy names a later step of the same run that writes this
	// file: this step leaves it to that one.
	SupersededBy string `json:"supersededBy,omitempty"`
	// Failed says the file could not be read or written (see the error;
	// Backup, when set, holds the learner's version).
	Failed bool `json:"failed,omitempty"`
}

// Superseded maps, for a run over todo in order, each file of an earlier
// step to the last step that writes the same path (step 10's HPA replaces
// step 9's: solving 9 then 10 must not write and deploy the file twice).
func Superseded(todo []*steps.Step) map[string]map[string]string {
	last := map[string]string{}
	for _, s := range todo {
		for _, f := range s.Solution {
			last[f.Path] = s.ID
		}
	}
	out := map[string]map[string]string{}
	for _, s := range todo {
		for _, f := range s.Solution {
			if by := last[f.Path]; by != s.ID {
				if out[s.ID] == nil {
					out[s.ID] = map[string]string{}
				}
				out[s.ID][f.Path] = by
			}
		}
	}
	return out
}

// Render is a reference file as the learner's cluster needs it: the values
// files name the hosts of the domain dojo up chose.
func Render(fsys fs.FS, s *steps.Step, f steps.SolutionFile, domain string) ([]byte, error) {
	data, err := fs.ReadFile(fsys, steps.SolutionPath(s, f))
	if err != nil {
		return nil, fmt.Errorf("the reference of %s has no %s: %w", s.ID, f.Path, err)
	}
	if strings.HasPrefix(f.Path, "values/") {
		data = []byte(steps.WithDomain(string(data), domain))
	}
	return data, nil
}

// target is what a reference file feeds: an upstream release (a values
// file named after it) or an app release (a file of its chart).
func target(f steps.SolutionFile) (upstream *versions.Chart, app string) {
	if dir, file := path.Split(f.Path); dir == "values/" {
		name := strings.TrimSuffix(file, ".yaml")
		for _, c := range versions.UpstreamCharts() {
			if c.Release == name {
				return &c, ""
			}
		}
	}
	if rest, ok := strings.CutPrefix(f.Path, "charts/"); ok {
		app, _, _ = strings.Cut(rest, "/")
		return nil, app
	}
	return nil, ""
}

// Files writes a step's reference files into the workspace, backing up each
// learner file it replaces; a file in superseded (path → later step) is left
// to that step.
func Files(s *steps.Step, domain string, env Env, superseded map[string]string) ([]FileChange, error) {
	if len(s.Solution) == 0 {
		return nil, fmt.Errorf("%s has no reference solution", s.ID)
	}
	var out []FileChange
	for _, f := range s.Solution {
		if by := superseded[f.Path]; by != "" {
			out = append(out, FileChange{Path: f.Path, SupersededBy: by})
			continue
		}
		want, err := Render(env.Embedded, s, f, domain)
		if err != nil {
			return out, err
		}
		var starter []byte
		if env.Starter != nil {
			starter, _ = fs.ReadFile(env.Starter, f.Path)
		}
		ch, err := writeFile(env.Workspace, f.Path, want, starter, env.Stamp)
		if err != nil {
			ch.Failed = true
			return append(out, ch), err
		}
		out = append(out, ch)
	}
	return out, nil
}

// UpgradedLater maps, for a run over todo, each step to the app releases a
// later step of the run upgrades anyway: the consumer is upgraded once,
// after the last of its files is written, not once per step.
func UpgradedLater(todo []*steps.Step) map[string]map[string]bool {
	sup := Superseded(todo)
	last := map[string]string{}
	for _, s := range todo {
		for _, f := range s.Solution {
			if _, app := target(f); app != "" && sup[s.ID][f.Path] == "" {
				last[app] = s.ID
			}
		}
	}
	out := map[string]map[string]bool{}
	for _, s := range todo {
		for _, f := range s.Solution {
			if _, app := target(f); app != "" && last[app] != s.ID {
				if out[s.ID] == nil {
					out[s.ID] = map[string]bool{}
				}
				out[s.ID][app] = true
			}
		}
	}
	return out
}

// Install installs what a step's reference files feed, from the workspace:
// the upstream chart of a values file, the app release of a chart file
// (none for a file in superseded, nor for an app in later).
func Install(ctx context.Context, s *steps.Step, env Env, superseded map[string]string, later map[string]bool) ([]helm.Result, error) {
	var charts []versions.Chart
	var apps []string
	for _, f := range s.Solution {
		if superseded[f.Path] != "" {
			continue
		}
		switch up, app := target(f); {
		case up == nil && app == "":
			return nil, fmt.Errorf("%s: the reference file %s feeds no release dojo knows (values/<release>.yaml or charts/<app>/…)", s.ID, f.Path)
		case up != nil:
			charts = append(charts, *up)
		case app != "" && !later[app] && !slices.Contains(apps, app):
			apps = append(apps, app)
		}
	}
	var out []helm.Result
	for _, c := range charts {
		vals, err := readValues(filepath.Join(env.Workspace, "values", c.Release+".yaml"))
		if err != nil {
			return out, err
		}
		r, err := report.Phase(env.Progress, fmt.Sprintf("%s: release %s (%s %s)", s.ID, c.Release, c.Name, c.Version), func(report.Task) (helm.Result, error) {
			return env.Installer.Apply(ctx, helm.Release{Name: c.Release, Namespace: c.Namespace, Source: helm.Source{Upstream: &c}, Values: vals})
		})
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	for _, app := range apps {
		r, err := report.Phase(env.Progress, fmt.Sprintf("%s: release %s (workspace chart)", s.ID, app), func(report.Task) (helm.Result, error) {
			return env.Installer.UpgradeApp(ctx, env.Workspace, app)
		})
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// writeFile puts want at rel in the workspace, backing up a different file
// that is there unless it is still the starter file. The backup and the
// new file keep the mode of the learner's file; nothing is written through
// a link that leads out of the workspace.
func writeFile(ws, rel string, want, starter []byte, stamp string) (FileChange, error) {
	ch := FileChange{Path: rel}
	dst := filepath.Join(ws, filepath.FromSlash(rel))
	if err := state.Within(ws, dst); err != nil {
		return ch, err
	}
	have, err := os.ReadFile(dst)
	switch {
	case err == nil && bytes.Equal(have, want):
		return ch, nil
	case err == nil && starter != nil && bytes.Equal(have, starter):
		ch.Starter = true
	case err == nil:
		b, err := state.BackupFile(dst, have, stamp, state.ModeOf(dst, 0o644))
		if err != nil {
			return ch, err
		}
		ch.Backup, _ = filepath.Rel(ws, b)
	case !os.IsNotExist(err):
		return ch, fmt.Errorf("cannot read %s (%w): move it aside and run dojo solve again", dst, err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return ch, fmt.Errorf("cannot write %s: %w", dst, err)
	}
	if err := state.WriteFileAtomic(dst, want, 0o644); err != nil {
		return ch, fmt.Errorf("cannot write %s: %w", dst, err)
	}
	ch.Written = true
	return ch, nil
}

func readValues(p string) (map[string]any, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	vals := map[string]any{}
	if err := yaml.Unmarshal(data, &vals); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return vals, nil
}
