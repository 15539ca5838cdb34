// Package helm installs the workshop's Helm releases with the Helm v4 SDK:
// embedded charts, the learner's workspace charts and pinned upstream charts.
// Every release gets a fresh action.Configuration (Helm caches the cluster's
// capabilities per Configuration), an explicit wait strategy, and on failure
// an error naming the release, the pod and its last events. Apply converges:
// it installs what is missing, upgrades what changed, skips what did not, and
// recovers a release left pending by an interrupted run.
package helm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/cli"
	helmkube "helm.sh/helm/v4/pkg/kube"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/kubedojo/dojo/internal/kube"
	"github.com/kubedojo/dojo/internal/pods"
	"github.com/kubedojo/dojo/internal/versions"
	"github.com/kubedojo/dojo/internal/workshop"
)

// DigestLabel is the Helm release label holding a digest of the chart and
// values a release was made from; an equal digest means nothing to do.
const DigestLabel = "dojo-digest"

// ChartRepoEnv overrides the repository URL of every pinned upstream chart
// (the lab serves stand-in charts from a local repository; a mirror works
// too).
const ChartRepoEnv = "DOJO_CHART_REPO"

// Source is where a release's chart comes from: exactly one of Dir (a chart
// directory on disk, e.g. the learner's workspace), FS+Path (an embedded
// chart) or Upstream (a pinned chart from its repository).
type Source struct {
	Dir      string
	FS       fs.FS
	Path     string
	Upstream *versions.Chart
}

func (s Source) String() string {
	switch {
	case s.Upstream != nil:
		return s.Upstream.Name + " " + s.Upstream.Version
	case s.Dir != "":
		return s.Dir
	default:
		return "embedded " + s.Path
	}
}

// Release is one desired Helm release.
type Release struct {
	Name      string
	Namespace string
	Source    Source
	// Values are the user-supplied values. With KeepValues and an existing
	// release, the release's last supplied values are used instead.
	Values     map[string]any
	KeepValues bool
	// MustExist refuses to install: the release must have been installed
	// before (dojo deploy upgrades what dojo up installed).
	MustExist bool
}

// Action is what Apply did.
type Action string

// The actions.
const (
	Installed Action = "installed"
	Upgraded  Action = "upgraded"
	Unchanged Action = "unchanged"
)

// Result is the outcome of one Apply.
type Result struct {
	Release   string
	Namespace string
	Action    Action
	Revision  int
	Recovered string // the pending status an interrupted run left, if any
	// TookBack lists the fields another field manager owned that the
	// upgrade took back (Options.TakeBackConflicts).
	TookBack []Conflict
}

// Options tune a Installer.
type Options struct {
	// ChartRepo replaces every upstream chart's repository URL ("" = the
	// pinned ones).
	ChartRepo string
	// Timeout bounds each release's apply-and-wait (5 min when 0).
	Timeout time.Duration
	// Wait is Helm's wait strategy (the watcher when empty).
	Wait helmkube.WaitStrategy
	// CacheDir holds downloaded charts and repository indexes (a dojo
	// directory under the user's cache dir when empty; never Helm's own).
	CacheDir string
	// Log receives Helm's log lines (discarded when nil).
	Log slog.Handler
	// TakeBackConflicts: when an upgrade finds fields of the chart's objects
	// owned by another field manager (a kubectl edit of a live object), apply
	// again forcing them back, and say which in Result.TookBack. Without it
	// such an upgrade fails with a *ConflictError.
	TakeBackConflicts bool
}

// FieldManager is the server-side-apply field manager dojo applies with:
// the Helm CLI's own ("helm", the base name of its binary), so that a learner
// can move between `helm upgrade` and dojo (up, deploy, solve) on the same
// release without "Apply failed with 1 conflict: conflict with \"dojo\"".
// Helm keeps it in a variable of its own; UseHelmFieldManager sets it once,
// from the process's entry point (cli.Main, the lab's Main).
const FieldManager = "helm"

// UseHelmFieldManager makes this process apply as the Helm CLI does (see
// FieldManager). Call it before any install, from main.
func UseHelmFieldManager() { helmkube.ManagedFieldsManager = FieldManager }

// Installer applies releases to one cluster.
type Installer struct {
	access *kube.Access
	opts   Options
	// newConfig builds the per-release Helm configuration (tests swap in
	// Helm's in-memory storage and fake kube client).
	newConfig func(ns string) (*action.Configuration, error)
	// newClientset reads pods on a failure (tests: a fake clientset).
	newClientset func() (kubernetes.Interface, error)
}

// New returns a Installer for the cluster behind access.
func New(access *kube.Access, opts Options) *Installer {
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Minute
	}
	if opts.Wait == "" {
		opts.Wait = helmkube.StatusWatcherStrategy
	}
	if opts.Log == nil {
		opts.Log = slog.NewTextHandler(io.Discard, nil)
	}
	if opts.CacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		opts.CacheDir = filepath.Join(dir, "dojo", "helm")
	}
	d := &Installer{access: access, opts: opts}
	d.newConfig = d.configuration
	return d
}

func (d *Installer) contextName() string {
	if d.access == nil {
		return "(none)"
	}
	return d.access.Context()
}

// configuration is a FRESH Helm configuration for one release: Helm caches
// the cluster's capabilities per Configuration, so a shared one would miss
// CRDs installed by an earlier release.
func (d *Installer) configuration(ns string) (*action.Configuration, error) {
	if d.access == nil {
		return nil, errors.New("helm: no cluster")
	}
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(d.opts.Log))
	if err := cfg.Init(d.access.ForNamespace(ns), ns, "secret"); err != nil {
		return nil, fmt.Errorf("helm: %w", err)
	}
	return cfg, nil
}

// Apply converges one release: install when absent, upgrade when the chart
// or values changed or the last attempt did not finish, nothing otherwise.
func (d *Installer) Apply(ctx context.Context, rel Release) (Result, error) {
	res := Result{Release: rel.Name, Namespace: rel.Namespace}
	cfg, err := d.newConfig(rel.Namespace)
	if err != nil {
		return res, err
	}
	last, err := lastRelease(cfg, rel.Name)
	if err != nil {
		return res, d.fail(rel, err)
	}
	if last == nil && rel.MustExist {
		return res, fmt.Errorf("release %s is not installed in namespace %s of context %s: run dojo up first", rel.Name, rel.Namespace, d.contextName())
	}
	vals := rel.Values
	if rel.KeepValues && last != nil {
		vals = last.Config
	}
	if vals == nil {
		vals = map[string]any{}
	}

	// Upstream charts are digested by name, version and repository, so an
	// unchanged release needs no download; local charts by their files.
	var ch *chart.Chart
	var digest string
	if rel.Source.Upstream != nil {
		digest, err = digestOf(d.upstreamID(*rel.Source.Upstream), nil, vals)
	} else {
		ch, err = loadLocal(rel.Source)
		if err == nil {
			digest, err = digestOf("", ch, vals)
		}
	}
	if err != nil {
		return res, d.fail(rel, err)
	}

	if last != nil && last.Info != nil && last.Info.Status == rcommon.StatusDeployed && last.Labels[DigestLabel] == digest {
		res.Action, res.Revision = Unchanged, last.Version
		return res, nil
	}
	if last != nil && last.Info != nil && last.Info.Status.IsPending() {
		// An interrupted run (Ctrl-C, a lost connection) leaves the release
		// pending and Helm refuses to touch it; mark it failed so the
		// upgrade below redoes it.
		res.Recovered = string(last.Info.Status)
		last.SetStatus(rcommon.StatusFailed, "interrupted; dojo up retried it")
		if err := cfg.Releases.Update(last); err != nil {
			return res, d.fail(rel, fmt.Errorf("recovering from %s: %w", res.Recovered, err))
		}
	}
	if ch == nil {
		if ch, err = d.locate(*rel.Source.Upstream); err != nil {
			return res, d.fail(rel, err)
		}
	}
	labels := map[string]string{DigestLabel: digest}

	hctx, detach := helmContext(ctx)
	defer detach()
	var out *release.Release
	if last == nil {
		in := action.NewInstall(cfg)
		in.ReleaseName, in.Namespace = rel.Name, rel.Namespace
		in.CreateNamespace = true
		in.WaitStrategy, in.Timeout = d.opts.Wait, d.opts.Timeout
		in.Labels = labels
		r, err := in.RunWithContext(hctx, ch, vals)
		if err != nil {
			return res, d.failWithPods(rel, err)
		}
		out, res.Action = asRelease(r), Installed
	} else {
		up := action.NewUpgrade(cfg)
		up.Namespace = rel.Namespace
		up.WaitStrategy, up.Timeout = d.opts.Wait, d.opts.Timeout
		up.Labels = labels
		up.MaxHistory = 10
		r, err := up.RunWithContext(hctx, rel.Name, ch, vals)
		if conflicts := ParseConflicts(err); len(conflicts) > 0 {
			if !d.opts.TakeBackConflicts {
				return res, d.fail(rel, &ConflictError{Conflicts: conflicts, Err: err})
			}
			// The same upgrade, forcing: those fields become the chart's again.
			up.ForceConflicts = true
			if r, err = up.RunWithContext(hctx, rel.Name, ch, vals); err == nil {
				res.TookBack = conflicts
			}
		}
		if err != nil {
			return res, d.failWithPods(rel, err)
		}
		out, res.Action = asRelease(r), Upgraded
	}
	if out != nil {
		res.Revision = out.Version
	}
	return res, nil
}

// helmContext is ctx for Helm, shielded from any cancellation after Helm
// returned. Helm v4's RunWithContext leaves a goroutine watching the context
// next to its done channel; when both are ready at once (a deferred cancel
// right after a successful install or upgrade) it may pick the context and
// mark the release it just deployed as failed — seen here as a release that
// is never "unchanged". Until detach, ctx's cancellation (Ctrl-C, --timeout)
// reaches Helm; after it, nothing cancels Helm's context. Helm's own Timeout
// bounds its waits.
func helmContext(ctx context.Context) (context.Context, func()) {
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, cancel)
	return hctx, func() { stop() }
}

// lastRelease is the newest revision of name, nil when there is none.
func lastRelease(cfg *action.Configuration, name string) (*release.Release, error) {
	r, err := cfg.Releases.Last(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rel := asRelease(r)
	if rel == nil {
		return nil, fmt.Errorf("release %s: unexpected record type %T", name, r)
	}
	return rel, nil
}

func asRelease(r any) *release.Release {
	rel, _ := r.(*release.Release)
	return rel
}

func (d *Installer) repoURL(c versions.Chart) string {
	if d.opts.ChartRepo != "" {
		return d.opts.ChartRepo
	}
	return c.Repo
}

func (d *Installer) upstreamID(c versions.Chart) string {
	return fmt.Sprintf("%s|%s|%s", d.repoURL(c), c.Name, c.Version)
}

// locate downloads a pinned upstream chart (cached under CacheDir).
func (d *Installer) locate(c versions.Chart) (*chart.Chart, error) {
	settings := cli.New()
	settings.RepositoryCache = filepath.Join(d.opts.CacheDir, "repository")
	settings.RepositoryConfig = filepath.Join(d.opts.CacheDir, "repositories.yaml")
	settings.ContentCache = filepath.Join(d.opts.CacheDir, "content")
	opts := action.ChartPathOptions{RepoURL: d.repoURL(c), Version: c.Version}
	p, err := opts.LocateChart(c.Name, settings)
	if err != nil {
		return nil, fmt.Errorf("fetching chart %s %s from %s: %w (offline? point dojo up at a reachable chart repository with --chart-repo URL or %s=URL)", c.Name, c.Version, d.repoURL(c), err, ChartRepoEnv)
	}
	ch, err := loader.Load(p)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", p, err)
	}
	return ch, nil
}

// loadLocal loads a chart from a directory (honouring .helmignore, so the
// learner's *.bak backups stay out) or from an embedded tree.
func loadLocal(s Source) (*chart.Chart, error) {
	if s.Dir != "" {
		ch, err := loader.LoadDir(s.Dir)
		if err != nil {
			return nil, fmt.Errorf("loading chart %s: %w", s.Dir, err)
		}
		return ch, nil
	}
	if s.FS == nil {
		return nil, errors.New("deploy: a release needs a chart source")
	}
	// Copy to a temporary directory so LoadDir applies .helmignore the same
	// way for embedded and workspace charts.
	tmp, err := os.MkdirTemp("", "dojo-chart-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	root := filepath.Join(tmp, path.Base(s.Path))
	err = fs.WalkDir(s.FS, s.Path, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, s.Path), "/")
		dst := filepath.Join(root, filepath.FromSlash(rel))
		if e.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := fs.ReadFile(s.FS, p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		return nil, fmt.Errorf("reading embedded chart %s: %w", s.Path, err)
	}
	return loadLocal(Source{Dir: root})
}

// digestOf hashes what a release is made of: an upstream id or the chart's
// files, and the supplied values. 40 hex digits fit a label value.
func digestOf(id string, ch *chart.Chart, vals map[string]any) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "id:%s\n", id)
	if ch != nil {
		hashChart(h, ch, "")
	}
	vb, err := json.Marshal(vals) // maps marshal with sorted keys
	if err != nil {
		return "", fmt.Errorf("values: %w", err)
	}
	fmt.Fprintf(h, "values:%s\n", vb)
	return hex.EncodeToString(h.Sum(nil))[:40], nil
}

func hashChart(h io.Writer, ch *chart.Chart, prefix string) {
	files := map[string][]byte{}
	for _, f := range ch.Raw {
		files[f.Name] = f.Data
	}
	if len(files) == 0 { // charts built in memory have no Raw
		mb, _ := yaml.Marshal(ch.Metadata)
		files["Chart.yaml"] = mb
		vb, _ := json.Marshal(ch.Values)
		files["values.yaml"] = vb
		for _, f := range append(append([]*common.File{}, ch.Templates...), ch.Files...) {
			files[f.Name] = f.Data
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		sum := sha256.Sum256(files[n])
		fmt.Fprintf(h, "%s%s:%x\n", prefix, n, sum)
	}
	deps := ch.Dependencies()
	for _, dep := range deps {
		hashChart(h, dep, prefix+dep.Name()+"/")
	}
}

// ReleaseError is a release that could not be applied, with what the
// cluster says about its pods.
type ReleaseError struct {
	Release   string
	Namespace string
	Err       error
	Pods      []pods.Report
}

func (e *ReleaseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "release %s (namespace %s): %v", e.Release, e.Namespace, e.Err)
	for _, p := range e.Pods {
		fmt.Fprintf(&b, "\n  pod %s: %s", p.Name, p.Reason)
		for _, ev := range p.Events {
			fmt.Fprintf(&b, "\n    %s", ev)
		}
		for _, l := range p.Logs {
			fmt.Fprintf(&b, "\n    log: %s", l)
		}
	}
	for _, p := range e.Pods {
		if strings.Contains(p.Reason, "ImagePullBackOff") || strings.Contains(p.Reason, "ErrImagePull") {
			b.WriteString("\n  the node cannot pull that image: check its name and your network; offline, load it into the cluster first (`kind load docker-image IMAGE --name <cluster>`), and for the app pass dojo up --image")
			break
		}
	}
	return b.String()
}

func (e *ReleaseError) Unwrap() error { return e.Err }

// fail wraps err with the release's name.
func (d *Installer) fail(rel Release, err error) error {
	return &ReleaseError{Release: rel.Name, Namespace: rel.Namespace, Err: err}
}

// failWithPods is fail for an install or upgrade that ran: it adds, best
// effort, the unready pods of the release and their last events (read with
// a fresh context: the run's own may be the one that expired).
func (d *Installer) failWithPods(rel Release, err error) error {
	re := &ReleaseError{Release: rel.Name, Namespace: rel.Namespace, Err: err}
	cs, cerr := d.clientset()
	if cerr != nil {
		return re
	}
	// The pods are those of the workloads the release created (its stored
	// manifest), whatever labels the chart gave them.
	manifest := ""
	if cfg, cerr := d.newConfig(rel.Namespace); cerr == nil {
		if last, _ := lastRelease(cfg, rel.Name); last != nil {
			manifest = last.Manifest
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	re.Pods = pods.NotReady(ctx, cs, pods.FromManifest(manifest, rel.Namespace))
	return re
}

// clientset is the typed client fail reads pods with (tests swap in a fake).
func (d *Installer) clientset() (kubernetes.Interface, error) {
	if d.newClientset != nil {
		return d.newClientset()
	}
	if d.access == nil {
		return nil, errors.New("no cluster")
	}
	return d.access.Clientset()
}

// UpgradeApp upgrades one app release (producer or consumer) from the
// learner's workspace chart, keeping the values dojo up gave it (image,
// domain). It refuses a release dojo up has not installed.
func (d *Installer) UpgradeApp(ctx context.Context, workspaceDir, name string) (Result, error) {
	return d.Apply(ctx, Release{Name: name, Namespace: workshop.AppNamespace,
		Source: Source{Dir: workshop.AppChartDir(workspaceDir, name)}, KeepValues: true, MustExist: true})
}
