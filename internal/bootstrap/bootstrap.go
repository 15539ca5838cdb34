// Package bootstrap is what dojo up does, as a list of phases (see phases):
// the cluster (preflight, then kind's cluster or an existing one), the
// workspace, the app image, then the releases (Traefik, Redis, the producer
// and the consumer) through the one installer, internal/helm. It converges:
// a second run creates nothing and upgrades only what changed, and a run
// interrupted anywhere is completed by the next.
package bootstrap

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"sigs.k8s.io/yaml"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/cluster"
	"github.com/kubedojo/dojo/internal/helm"
	"github.com/kubedojo/dojo/internal/image"
	"github.com/kubedojo/dojo/internal/kube"
	"github.com/kubedojo/dojo/internal/report"
	"github.com/kubedojo/dojo/internal/versions"
	"github.com/kubedojo/dojo/internal/workshop"
	"github.com/kubedojo/dojo/internal/workspace"
)

// Options are dojo up's inputs.
type Options struct {
	Name   string // kind cluster name
	Domain string // producer.<Domain>
	Image  string // repository:tag of the app image; "" = decide
	// Existing installs onto the cluster of Env.Access instead of creating
	// a kind cluster (the lab, a cluster of the learner's own).
	Existing  bool
	Timeout   time.Duration // the whole run
	ChartRepo string        // see helm.Options.ChartRepo
	Workspace string        // the learner's workspace directory
	Version   string        // dojo's version: the published image's tag
	Ports     []int         // host ports preflight checks (80, 443)
	// NodeImage is the kind node image a new cluster is made from
	// ("" = versions.NodeImage); it says which Kubernetes the cluster runs.
	NodeImage string
	// ListenAddress is where a new cluster publishes ports 80 and 443
	// (cluster.DefaultListenAddress when empty).
	ListenAddress string
	// StateDir keeps the cluster's ready marker (cluster.DefaultStateDir);
	// "" means an unanswering existing cluster is never recreated.
	StateDir string
}

// Env is what Up needs from the machine.
type Env struct {
	Preflight cluster.PreflightEnv
	// Access is the existing cluster (Options.Existing): the factory's one
	// resolution of --context, --kubeconfig and --name.
	Access   func() (*kube.Access, error)
	Progress report.Progress
	// Embedded is the embedded tree (platform/…, workspace/charts/redis).
	Embedded fs.FS
	// WorkspaceSrc is what workspace.Init copies (embedded.Workspace()).
	WorkspaceSrc fs.FS
	// SelfImage packages the running dojo for the node's architecture
	// (image.SelfImage); nil never side-loads.
	SelfImage func(ctx context.Context, version, nodeArch string) (*image.Archive, error)
	// SelfKey names the image SelfImage would build (image.SelfKey); with
	// Options.StateDir it lets a second run skip packaging when the nodes
	// have that image already. nil: always package.
	SelfKey func(version, nodeArch string) (string, error)
}

// Result is what Up did.
type Result struct {
	Cluster     string
	Context     string
	Domain      string
	ProducerURL string
	Image       string
	SideLoaded  bool
	Workspace   *workspace.Result
	Releases    []helm.Result
}

// phase is one step of dojo up. It starts once every phase it needs has
// succeeded; phases that do not need each other run at the same time. A
// failed phase stops only the phases that need it.
type phase struct {
	name  string
	needs []string
	run   func(ctx context.Context) error
}

// phases is dojo up, in order.
func (u *run) phases() []phase {
	release := func(name string) func(context.Context) error {
		return func(ctx context.Context) error { return u.release(ctx, name) }
	}
	return []phase{
		{name: "cluster", run: u.cluster},
		{name: "workspace", needs: []string{"cluster"}, run: u.workspace},
		{name: "image", needs: []string{"cluster"}, run: u.image},
		// Traefik and Redis come from pinned and embedded charts; the
		// producer and the consumer from the learner's workspace charts.
		{name: versions.Traefik.Release, needs: []string{"cluster"}, run: release(versions.Traefik.Release)},
		{name: workshop.RedisRelease, needs: []string{"cluster"}, run: release(workshop.RedisRelease)},
		{name: workshop.ProducerRelease, needs: []string{"workspace", workshop.RedisRelease, "image"}, run: release(workshop.ProducerRelease)},
		{name: workshop.ConsumerRelease, needs: []string{"workspace", workshop.RedisRelease, "image"}, run: release(workshop.ConsumerRelease)},
	}
}

// run is one dojo up.
type run struct {
	o   Options
	env Env
	pr  report.Progress

	mu       sync.Mutex
	res      *Result
	access   *kube.Access
	provider cluster.Provider // nil on an existing cluster
	inst     *helm.Installer
}

// Up brings the workshop up.
func Up(ctx context.Context, o Options, env Env) (*Result, error) {
	if o.Name == "" {
		o.Name = workshop.ClusterName
	}
	if o.Domain == "" {
		o.Domain = workshop.Domain
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Minute
	}
	if env.Progress == nil {
		env.Progress = report.Discard{}
	}
	u := &run{o: o, env: env, pr: env.Progress,
		res: &Result{Cluster: o.Name, Domain: o.Domain, ProducerURL: "http://producer." + o.Domain}}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	phases := u.phases()
	errs := foldNotStarted(runPhases(ctx, phases), len(phases))
	order := map[string]int{}
	for i, p := range phases {
		order[p.name] = i
	}
	slices.SortFunc(u.res.Releases, func(a, b helm.Result) int { return order[a.Release] - order[b.Release] })
	if len(errs) > 0 {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && parent.Err() == nil {
			errs = append(errs, fmt.Errorf("dojo up did not finish within --timeout %s; run it again to continue", o.Timeout))
		}
		return u.res, interrupted(parent, errors.Join(errs...))
	}
	return u.res, nil
}

// runPhases runs the phases, each once the ones it needs have succeeded, and
// returns, in the list's order, the error of each phase that failed and a
// line for each phase that never started because one it needs did not
// succeed. Phases fail independently: a failure stops only what needs it.
func runPhases(ctx context.Context, phases []phase) []error {
	done := map[string]chan struct{}{}
	errOf := make([]error, len(phases))
	index := map[string]int{}
	for i, p := range phases {
		done[p.name] = make(chan struct{})
		index[p.name] = i
	}
	for _, p := range phases {
		for _, n := range p.needs {
			if _, ok := done[n]; !ok {
				return []error{fmt.Errorf("dojo up: phase %s needs %s, which is not a phase", p.name, n)}
			}
		}
	}
	var wg sync.WaitGroup
	for i, p := range phases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[p.name])
			var missing []string
			for _, n := range p.needs {
				<-done[n]
				if errOf[index[n]] != nil {
					missing = append(missing, n)
				}
			}
			switch {
			case len(missing) > 0:
				errOf[i] = &notStarted{phase: p.name, needs: missing}
			case ctx.Err() != nil:
				errOf[i] = &notStarted{phase: p.name, cause: ctx.Err()}
			default:
				errOf[i] = p.run(ctx)
			}
		}()
	}
	wg.Wait()
	var errs []error
	for _, err := range errOf {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// foldNotStarted keeps each real failure and folds the phases it kept from
// starting into one line; when nothing but the failures could run (dojo up
// stopped at the cluster), the failures say it all.
func foldNotStarted(errs []error, phases int) []error {
	var failed []error
	var waiting []string
	for _, err := range errs {
		var ns *notStarted
		if errors.As(err, &ns) && len(ns.needs) > 0 {
			waiting = append(waiting, ns.phase)
			continue
		}
		failed = append(failed, err)
	}
	if len(waiting) > 0 && len(waiting)+len(failed) < phases {
		failed = append(failed, fmt.Errorf("not started, as a phase they need failed: %s (fix what failed above and run dojo up again: it continues from there)", strings.Join(waiting, ", ")))
	}
	return failed
}

// notStarted is a phase that did not run: what it needs failed, or the run
// ended first.
type notStarted struct {
	phase string
	needs []string
	cause error
}

func (e *notStarted) Error() string {
	if len(e.needs) > 0 {
		return fmt.Sprintf("%s not started: it needs %s", e.phase, strings.Join(e.needs, " and "))
	}
	return fmt.Sprintf("%s not started: %v", e.phase, e.cause)
}

func (e *notStarted) Unwrap() error { return e.cause }

// warn prints a warning once, now, through the progress (stderr).
func (u *run) warn(msg string) { u.pr.Warn(msg) }

// warnPublishedPorts says in one line when an existing cluster publishes
// its ports beyond this machine although the learner did not ask for it (a
// cluster made by a dojo before --listen-address), or on loopback although
// --listen-address asked for more: the flag only shapes a new cluster.
func (u *run) warnPublishedPorts(p cluster.Provider) {
	pr, ok := p.(cluster.PortReader)
	if !ok {
		return
	}
	addrs, err := pr.PublishedAddresses(u.o.Name)
	if err != nil {
		return // the cluster phase reports a cluster that does not answer
	}
	var open []string
	for _, a := range addrs {
		if !cluster.IsLoopback(a) {
			open = append(open, a)
		}
	}
	asked := u.o.ListenAddress != "" && !cluster.IsLoopback(u.o.ListenAddress)
	switch {
	case len(open) > 0 && !asked:
		u.warn(fmt.Sprintf("cluster %s publishes ports 80 and 443 on %s, so anyone on your networks can reach your producer and Prometheus (a cluster from an older dojo): dojo teardown, then dojo up, keeps them on 127.0.0.1", u.o.Name, strings.Join(open, ", ")))
	case len(open) == 0 && asked:
		u.warn(fmt.Sprintf("cluster %s exists already: --listen-address %s applies only when dojo up creates it (dojo teardown, then dojo up, to change it)", u.o.Name, u.o.ListenAddress))
	}
}

// cluster makes sure the cluster exists and answers: an existing one, or
// preflight then kind's.
func (u *run) cluster(ctx context.Context) error {
	var err error
	if u.o.Existing {
		u.access, err = report.Phase(u.pr, "cluster (existing)", func(t report.Task) (*kube.Access, error) {
			a, err := u.env.Access()
			if err != nil {
				return nil, err
			}
			t.Status(a.Context())
			return a, a.WaitReady(ctx, 30*time.Second)
		})
	} else {
		u.provider, u.access, err = u.upKind(ctx)
	}
	if err != nil {
		return err
	}
	u.res.Context = u.access.Context()
	u.inst = helm.New(u.access, helm.Options{ChartRepo: u.o.ChartRepo, Timeout: releaseTimeout(u.o.Timeout)})
	return nil
}

func (u *run) workspace(context.Context) error {
	ws, err := report.Phase(u.pr, "workspace", func(report.Task) (*workspace.Result, error) {
		return workspace.Init(u.o.Workspace, u.env.WorkspaceSrc, workspace.Options{})
	})
	u.res.Workspace = ws
	return err
}

// release installs or upgrades one release of the workshop.
func (u *run) release(ctx context.Context, name string) error {
	rel := helm.Release{Name: name, Namespace: workshop.AppNamespace}
	switch name {
	case versions.Traefik.Release:
		vals, err := embeddedValues(u.env.Embedded, workshop.TraefikValues)
		if err != nil {
			return err
		}
		traefik := versions.Traefik
		rel = helm.Release{Name: name, Namespace: traefik.Namespace, Source: helm.Source{Upstream: &traefik}, Values: vals}
	case workshop.RedisRelease:
		rel.Source, rel.Values = helm.Source{FS: u.env.Embedded, Path: workshop.RedisChart}, workshop.RedisValues()
	default: // the producer and the consumer, from the learner's workspace
		repo, tag := splitImage(u.res.Image)
		vals := map[string]any{"image": map[string]any{"repository": repo, "tag": tag}}
		if name == workshop.ProducerRelease {
			vals["domain"] = u.o.Domain
		}
		rel.Source, rel.Values = helm.Source{Dir: workshop.AppChartDir(u.o.Workspace, name)}, vals
	}
	r, err := report.Phase(u.pr, name, func(t report.Task) (helm.Result, error) {
		r, err := u.inst.Apply(ctx, rel)
		if err == nil && r.Recovered != "" {
			t.Status("recovered from " + r.Recovered)
		}
		return r, err
	})
	if err == nil {
		u.mu.Lock()
		u.res.Releases = append(u.res.Releases, r)
		u.mu.Unlock()
	}
	return err
}

// releaseTimeout bounds one release's install and wait: half the run's
// deadline, at most 5 minutes, so a stuck release is reported (by name, with
// its pods) while the run still has time, and the releases after it can
// still be tried by the next run.
func releaseTimeout(run time.Duration) time.Duration {
	return max(min(run/2, 5*time.Minute), time.Second)
}

// interrupted adds what to do after Ctrl-C to err.
func interrupted(parent context.Context, err error) error {
	if parent.Err() == nil {
		return err
	}
	return fmt.Errorf("%w\ninterrupted: run dojo up again, it continues where this run stopped", err)
}

// upKind runs preflight and makes sure the kind cluster exists and answers.
func (u *run) upKind(ctx context.Context) (cluster.Provider, *kube.Access, error) {
	o, pr := u.o, u.pr
	rep, err := report.Phase(pr, "preflight", func(report.Task) (*cluster.Report, error) {
		rep := cluster.Preflight(cluster.PreflightOptions{Name: o.Name, Ports: o.Ports}, u.env.Preflight)
		return rep, rep.Err()
	})
	for _, c := range rep.Checks {
		if c.Status == check.Warn {
			u.warn(c.String())
		}
	}
	if err != nil {
		return nil, nil, err
	}
	p := rep.Provider
	cfg := cluster.ConfigOptions{Name: o.Name, NodeImage: o.NodeImage, ListenAddress: o.ListenAddress}
	nodeImage := cmp.Or(o.NodeImage, versions.NodeImage)
	if rep.Exists && o.NodeImage != "" && cluster.WasReady(o.StateDir, o.Name) {
		u.warn(fmt.Sprintf("cluster %s exists already: --node-image %s applies only when dojo up creates it (dojo teardown, then dojo up, to change it)", o.Name, o.NodeImage))
	}
	if rep.Exists {
		u.warnPublishedPorts(p)
	}
	label := "cluster " + o.Name
	if !rep.Exists {
		label = "create cluster " + o.Name
	}
	access, err := report.Phase(pr, label, func(t report.Task) (*kube.Access, error) {
		if !rep.Exists {
			if err := cluster.ForgetReady(o.StateDir, o.Name); err != nil {
				return nil, err
			}
			if err := cluster.MarkCreating(o.StateDir, o.Name); err != nil {
				return nil, err
			}
			t.Status("kind create (node image " + shortImage(nodeImage) + ")")
			if err := cluster.Create(ctx, p, cfg); err != nil {
				return nil, err
			}
		}
		a, err := kindAccess(ctx, p, o.Name)
		if err != nil && rep.Exists && ctx.Err() == nil {
			if cluster.WasReady(o.StateDir, o.Name) {
				// It was complete once: it holds the learner's work. Say what
				// was seen and let them choose; never recreate it silently.
				return nil, fmt.Errorf("cluster %q exists but does not answer (%s). If Docker restarted, start its node (`docker start %s-control-plane`) and run dojo up again; to start over, `dojo teardown` then `dojo up` (what you installed in it is lost)",
					o.Name, cluster.FirstLine(err), o.Name)
			}
			// Never complete: a create interrupted by Ctrl-C. dojo made it,
			// so make it anew.
			t.Status("not answering (" + cluster.FirstLine(err) + "): recreating")
			if rerr := cluster.Recreate(ctx, p, cfg, cluster.WasCreating(o.StateDir, o.Name)); rerr != nil {
				return nil, fmt.Errorf("cluster %q exists but does not answer (%v), and recreating it failed: %w", o.Name, err, rerr)
			}
			a, err = kindAccess(ctx, p, o.Name)
		}
		if err == nil {
			err = cluster.MarkReady(o.StateDir, o.Name)
		}
		return a, err
	})
	return p, access, err
}

func kindAccess(ctx context.Context, p cluster.Provider, name string) (*kube.Access, error) {
	kc, err := p.KubeConfig(name)
	if err != nil {
		return nil, err
	}
	a, err := kube.FromKubeconfig([]byte(kc), workshop.KindContext(name))
	if err != nil {
		return nil, err
	}
	return a, a.WaitReady(ctx, 60*time.Second)
}

// image decides the app image: --image; else the running dojo
// side-loaded into the nodes when it can run there; else the published
// image tagged with dojo's version.
func (u *run) image(ctx context.Context) error {
	o, env, p, res := u.o, u.env, u.provider, u.res
	if o.Image != "" {
		res.Image = o.Image
		return nil
	}
	published := versions.AppImageRepository + ":" + image.Tag(o.Version)
	res.Image = published
	defer func() {
		if !res.SideLoaded && !strings.HasPrefix(o.Version, "v") {
			u.warn(fmt.Sprintf("this dojo (version %s) is not a release, so %s is probably not published: if the pods cannot pull it, pass --image", o.Version, published))
		}
	}()
	if p == nil || env.SelfImage == nil {
		return nil
	}
	_, err := report.Phase(u.pr, "image", func(t report.Task) (struct{}, error) {
		arch, err := p.NodeArch(o.Name)
		if err != nil {
			return struct{}{}, err
		}
		// Seen before: the same binary's image is in every node already, so
		// there is nothing to package (the decision costs no hashing).
		key := ""
		if env.SelfKey != nil {
			key, _ = env.SelfKey(o.Version, arch)
		}
		if k, ok := image.LookupKnown(o.StateDir, key); ok && key != "" && nodesHave(p, o.Name, k.Ref, k.ID) {
			t.Status("already in the nodes")
			res.Image, res.SideLoaded = k.Ref, true
			return struct{}{}, nil
		}
		t.Status("packaging this dojo for linux/" + image.NormalizeArch(arch))
		arc, err := env.SelfImage(ctx, o.Version, arch)
		var notSelf *image.NotSelfError
		if errors.As(err, &notSelf) {
			u.warn(notSelf.Error())
			t.Status("using the published image")
			return struct{}{}, nil
		}
		if err != nil {
			return struct{}{}, err
		}
		defer arc.Remove()
		id := archiveID(arc)
		remember := func() {
			if key != "" && id != "" {
				if err := image.RecordKnown(o.StateDir, key, image.Known{Ref: arc.Ref, ID: id}); err != nil {
					u.warn("could not remember the image (the next dojo up packages it again): " + err.Error())
				}
			}
		}
		if nodesHave(p, o.Name, arc.Ref, id) {
			t.Status("already in the nodes")
			res.Image, res.SideLoaded = arc.Ref, true
			remember()
			return struct{}{}, nil
		}
		t.Status("loading into the nodes")
		if err := p.LoadImageArchive(o.Name, arc.Open); err != nil {
			return struct{}{}, err
		}
		res.Image, res.SideLoaded = arc.Ref, true
		remember()
		return struct{}{}, nil
	})
	return err
}

// archiveID is the ID (config digest) of the image in an archive, "" when
// it cannot be read.
func archiveID(arc *image.Archive) string {
	img, err := tarball.ImageFromPath(arc.Path, nil)
	if err != nil {
		return ""
	}
	id, err := img.ConfigName()
	if err != nil {
		return ""
	}
	return id.String()
}

// nodesHave reports whether every node has image ref with this ID (a
// second dojo up then skips the slow import).
func nodesHave(p cluster.Provider, name, ref, id string) bool {
	if id == "" {
		return false
	}
	ids, err := p.ImageIDs(name, ref)
	if err != nil || len(ids) == 0 {
		return false
	}
	for _, have := range ids {
		if have != id {
			return false
		}
	}
	return true
}

func embeddedValues(fsys fs.FS, p string) (map[string]any, error) {
	b, err := fs.ReadFile(fsys, p)
	if err != nil {
		return nil, fmt.Errorf("embedded %s: %w", p, err)
	}
	vals := map[string]any{}
	if err := yaml.Unmarshal(b, &vals); err != nil {
		return nil, fmt.Errorf("embedded %s: %w", p, err)
	}
	return vals, nil
}

// splitImage splits "repo[:tag]" at the tag's colon (a registry port's
// colon comes before the last slash).
func splitImage(ref string) (repo, tag string) {
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[:i], ref[i+1:]
	}
	return ref, ""
}

func shortImage(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	return ref
}
