package deploy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"sigs.k8s.io/yaml"

	"github.com/kubedojo/dojo/internal/cluster"
	"github.com/kubedojo/dojo/internal/image"
	"github.com/kubedojo/dojo/internal/kube"
	"github.com/kubedojo/dojo/internal/ui"
	"github.com/kubedojo/dojo/internal/versions"
	"github.com/kubedojo/dojo/internal/workshop"
	"github.com/kubedojo/dojo/internal/workspace"
)

// UpOptions are dojo up's inputs.
type UpOptions struct {
	Name   string // kind cluster name
	Domain string // producer.<Domain>
	Image  string // repository:tag of the app image; "" = decide
	// Existing installs onto the cluster of UpEnv.Access instead of
	// creating a kind cluster (the lab, a cluster of the learner's own).
	Existing  bool
	Timeout   time.Duration // the whole run
	ChartRepo string        // see Options.ChartRepo
	Workspace string        // the learner's workspace directory
	Version   string        // dojo's version: the published image's tag
	Ports     []int         // host ports preflight checks (80, 443)
	// StateDir keeps the cluster's ready marker (cluster.DefaultStateDir);
	// "" means an unanswering existing cluster is never recreated.
	StateDir string
}

// UpEnv is what Up needs from the machine.
type UpEnv struct {
	Preflight cluster.PreflightEnv
	// Access is the existing cluster (UpOptions.Existing): the factory's
	// one resolution of --context, --kubeconfig and --name.
	Access   func() (*kube.Access, error)
	Progress *ui.Progress
	// Embedded is the embedded tree (platform/…, workspace/charts/redis).
	Embedded fs.FS
	// WorkspaceSrc is what workspace.Init copies (embedded.Workspace()).
	WorkspaceSrc fs.FS
	// SelfImage packages the running dojo for the node's architecture
	// (image.SelfImage); nil never side-loads.
	SelfImage func(ctx context.Context, version, nodeArch string) (*image.Archive, error)
}

// UpResult is what Up did.
type UpResult struct {
	Cluster     string
	Context     string
	Domain      string
	ProducerURL string
	Image       string
	SideLoaded  bool
	Workspace   *workspace.Result
	Releases    []Result
	Warnings    []string
}

// Up brings the workshop up: preflight, the kind cluster, the workspace,
// the app image, then Traefik, Redis, the producer and the consumer. It
// converges: a second run creates nothing and upgrades only what changed,
// and a run interrupted anywhere is completed by the next one.
func Up(ctx context.Context, o UpOptions, env UpEnv) (*UpResult, error) {
	if o.Name == "" {
		o.Name = workshop.ClusterName
	}
	if o.Domain == "" {
		o.Domain = workshop.Domain
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Minute
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	deadline := ctx
	res := &UpResult{Cluster: o.Name, Domain: o.Domain, ProducerURL: "http://producer." + o.Domain}
	pr := env.Progress

	var access *kube.Access
	var provider cluster.Provider
	var err error
	if o.Existing {
		access, err = phase(pr, "cluster (existing)", func(t *ui.Task) (*kube.Access, error) {
			a, err := env.Access()
			if err != nil {
				return nil, err
			}
			t.Status(a.Context())
			return a, a.WaitReady(ctx, 30*time.Second)
		})
	} else {
		provider, access, err = upKind(ctx, o, env, res)
	}
	if err != nil {
		return res, interrupted(parent, err)
	}
	res.Context = access.Context()

	wsRes, err := phase(pr, "workspace", func(*ui.Task) (*workspace.Result, error) {
		return workspace.Init(o.Workspace, env.WorkspaceSrc, workspace.Options{})
	})
	if err != nil {
		return res, err
	}
	res.Workspace = wsRes

	traefikValues, err := embeddedValues(env.Embedded, workshop.TraefikValues)
	if err != nil {
		return res, err
	}
	d := New(access, Options{ChartRepo: o.ChartRepo, Timeout: o.Timeout})
	traefik := versions.Traefik

	// Traefik, Redis and the image are independent; the producer and the
	// consumer start once Redis and their image are there.
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var mu sync.Mutex
	var errs []error
	record := func(r Result, err error) {
		mu.Lock()
		defer mu.Unlock()
		if r.Release != "" && err == nil {
			res.Releases = append(res.Releases, r)
		}
		if err != nil {
			errs = append(errs, err)
			stop(err)
		}
	}
	apply := func(rel Release) error {
		r, err := phase(pr, rel.Name, func(t *ui.Task) (Result, error) {
			r, err := d.Apply(ctx, rel)
			if err == nil && r.Recovered != "" {
				t.Status("recovered from " + r.Recovered)
			}
			return r, err
		})
		record(r, err)
		return err
	}
	var wg, first sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = apply(Release{Name: traefik.Release, Namespace: traefik.Namespace,
			Source: Source{Upstream: &traefik}, Values: traefikValues})
	}()
	first.Add(2)
	var redisErr, imgErr error
	go func() {
		defer first.Done()
		redisErr = apply(Release{Name: workshop.RedisRelease, Namespace: workshop.AppNamespace,
			Source: Source{FS: env.Embedded, Path: workshop.RedisChart}})
	}()
	go func() {
		defer first.Done()
		imgErr = resolveImage(ctx, o, env, provider, res)
		if imgErr != nil {
			record(Result{}, imgErr)
		}
	}()
	first.Wait()
	if redisErr == nil && imgErr == nil {
		repo, tag := splitImage(res.Image)
		imageVals := map[string]any{"repository": repo, "tag": tag}
		for _, name := range workshop.AppReleases() {
			vals := map[string]any{"image": imageVals}
			if name == workshop.ProducerRelease {
				vals["domain"] = o.Domain
			}
			rel := Release{Name: name, Namespace: workshop.AppNamespace,
				Source: Source{Dir: workshop.AppChartDir(o.Workspace, name)}, Values: vals}
			wg.Add(1)
			go func() { defer wg.Done(); _ = apply(rel) }()
		}
	}
	wg.Wait()
	if len(errs) > 0 {
		if errors.Is(deadline.Err(), context.DeadlineExceeded) && parent.Err() == nil {
			errs = append(errs, fmt.Errorf("dojo up did not finish within --timeout %s; run it again to continue", o.Timeout))
		}
		return res, interrupted(parent, errors.Join(dedupe(errs)...))
	}
	return res, nil
}

// interrupted adds what to do after Ctrl-C to err.
func interrupted(parent context.Context, err error) error {
	if parent.Err() == nil {
		return err
	}
	return fmt.Errorf("%w\ninterrupted: run dojo up again, it continues where this run stopped", err)
}

// upKind runs preflight and makes sure the kind cluster exists and answers.
func upKind(ctx context.Context, o UpOptions, env UpEnv, res *UpResult) (cluster.Provider, *kube.Access, error) {
	pr := env.Progress
	rep, err := phase(pr, "preflight", func(*ui.Task) (*cluster.Report, error) {
		rep := cluster.Preflight(cluster.PreflightOptions{Name: o.Name, Ports: o.Ports}, env.Preflight)
		return rep, rep.Err()
	})
	for _, c := range rep.Checks {
		if c.Status == cluster.Warn {
			res.Warnings = append(res.Warnings, c.String())
			pr.Println("! " + c.String())
		}
	}
	if err != nil {
		return nil, nil, err
	}
	p := rep.Provider
	cfg := cluster.ConfigOptions{Name: o.Name}
	label := "cluster " + o.Name
	if !rep.Exists {
		label = "create cluster " + o.Name
	}
	access, err := phase(pr, label, func(t *ui.Task) (*kube.Access, error) {
		if !rep.Exists {
			if err := cluster.ForgetReady(o.StateDir, o.Name); err != nil {
				return nil, err
			}
			t.Status("kind create (node image " + shortImage(versions.NodeImage) + ")")
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
			if rerr := cluster.Recreate(ctx, p, cfg); rerr != nil {
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

// resolveImage decides the app image: --image; else the running dojo
// side-loaded into the nodes when it can run there; else the published
// image tagged with dojo's version.
func resolveImage(ctx context.Context, o UpOptions, env UpEnv, p cluster.Provider, res *UpResult) error {
	if o.Image != "" {
		res.Image = o.Image
		return nil
	}
	published := versions.AppImageRepository + ":" + image.Tag(o.Version)
	res.Image = published
	defer func() {
		if !res.SideLoaded && !strings.HasPrefix(o.Version, "v") {
			res.Warnings = append(res.Warnings, fmt.Sprintf("this dojo (version %s) is not a release, so %s is probably not published: if the pods cannot pull it, pass --image", o.Version, published))
		}
	}()
	if p == nil || env.SelfImage == nil {
		return nil
	}
	_, err := phase(env.Progress, "image", func(t *ui.Task) (struct{}, error) {
		arch, err := p.NodeArch(o.Name)
		if err != nil {
			return struct{}{}, err
		}
		t.Status("packaging this dojo for linux/" + image.NormalizeArch(arch))
		arc, err := env.SelfImage(ctx, o.Version, arch)
		var notSelf *image.NotSelfError
		if errors.As(err, &notSelf) {
			res.Warnings = append(res.Warnings, notSelf.Error())
			t.Status("using the published image")
			return struct{}{}, nil
		}
		if err != nil {
			return struct{}{}, err
		}
		defer arc.Remove()
		if loaded(p, o.Name, arc) {
			t.Status("already in the nodes")
			res.Image, res.SideLoaded = arc.Ref, true
			return struct{}{}, nil
		}
		t.Status("loading into the nodes")
		if err := p.LoadImageArchive(o.Name, arc.Open); err != nil {
			return struct{}{}, err
		}
		res.Image, res.SideLoaded = arc.Ref, true
		return struct{}{}, nil
	})
	return err
}

// loaded reports whether every node already has the archive's image under
// its tag (a second dojo up then skips the slow import).
func loaded(p cluster.Provider, name string, arc *image.Archive) bool {
	img, err := tarball.ImageFromPath(arc.Path, nil)
	if err != nil {
		return false
	}
	id, err := img.ConfigName()
	if err != nil {
		return false
	}
	ids, err := p.ImageIDs(name, arc.Ref)
	if err != nil || len(ids) == 0 {
		return false
	}
	for _, have := range ids {
		if have != id.String() {
			return false
		}
	}
	return true
}

// phase runs fn as one progress task.
func phase[T any](pr *ui.Progress, name string, fn func(*ui.Task) (T, error)) (T, error) {
	t := pr.Start(name)
	v, err := fn(t)
	t.Done(err)
	return v, err
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

func dedupe(errs []error) []error {
	var out []error
	for _, e := range errs {
		if errors.Is(e, context.Canceled) && len(errs) > 1 {
			continue // a sibling's failure cancelled this one
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return errs
	}
	return out
}

// App upgrades one app release (producer or consumer) from the learner's
// workspace chart, keeping the values dojo up gave it (image, domain).
func App(ctx context.Context, d *Deployer, workspaceDir, name string, pr *ui.Progress) (Result, error) {
	return phase(pr, name, func(*ui.Task) (Result, error) {
		return d.Apply(ctx, Release{Name: name, Namespace: workshop.AppNamespace,
			Source: Source{Dir: workshop.AppChartDir(workspaceDir, name)}, KeepValues: true, MustExist: true})
	})
}
