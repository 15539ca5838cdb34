package lab

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/cli"
	"helm.sh/helm/v4/pkg/kube"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// standInCharts holds the STAND-IN upstream charts (see each Chart.yaml).
//
//go:embed all:charts
var standInCharts embed.FS

// chartRepo serves the stand-in charts as a Helm chart repository over HTTP
// on an address of the lab's namespace, so Helm's real download code runs.
type chartRepo struct {
	url string
	srv *http.Server
}

// LoadFS loads a chart from a directory of an fs.FS (e.g. embedded/).
func LoadFS(fsys fs.FS, dir string) (*chart.Chart, error) {
	var files []*archiveFile
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		files = append(files, &archiveFile{Name: strings.TrimPrefix(p, dir+"/"), Data: data})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return loader.LoadFiles(files)
}

func (l *Lab) startChartRepo(ctx context.Context) error {
	dir := filepath.Join(l.dir, "chart-repo")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	entries, err := fs.ReadDir(standInCharts, "charts")
	if err != nil {
		return err
	}
	for _, e := range entries {
		ch, err := LoadFS(standInCharts, path.Join("charts", e.Name()))
		if err != nil {
			return fmt.Errorf("stand-in chart %s: %w", e.Name(), err)
		}
		if _, err := chartutil.Save(ch, dir); err != nil {
			return err
		}
	}
	ip, err := l.allocIP(false)
	if err != nil {
		return err
	}
	url := "http://" + ip + ":8879"
	idx, err := repo.IndexDirectory(dir, url)
	if err != nil {
		return err
	}
	idx.SortEntries()
	if err := idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", ip+":8879")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	l.repo = &chartRepo{url: url, srv: srv}
	l.setAddr(ChartRepo, ip+":8879")
	return nil
}

func (r *chartRepo) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = r.srv.Shutdown(ctx)
}

// ChartRepoURL is the URL of the lab's chart repository of stand-ins for
// the pinned upstream charts (same names and versions as upstream).
func (l *Lab) ChartRepoURL() string { return l.repo.url }

// installCRDs applies the stand-in monitoring.coreos.com CRDs when the
// options ask for them.
func (l *Lab) installCRDs(ctx context.Context) error {
	if !l.opts.MonitoringCRDs {
		return nil
	}
	return l.InstallMonitoringCRDs(ctx)
}

// InstallMonitoringCRDs applies the stand-in CRDs for Prometheus,
// ServiceMonitor and PrometheusRule and waits until they are served.
func (l *Lab) InstallMonitoringCRDs(ctx context.Context) error {
	gvr := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	files, err := fs.Glob(standInCharts, "charts/kube-prometheus-stack/crds/*.yaml")
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := fs.ReadFile(standInCharts, f)
		if err != nil {
			return err
		}
		var obj map[string]any
		if err := yaml.Unmarshal(data, &obj); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		u := &unstructured.Unstructured{Object: obj}
		if _, err := l.dynamic.Resource(gvr).Create(ctx, u, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("CRD %s: %w", u.GetName(), err)
		}
	}
	return waitFor(ctx, nil, 30*time.Second, func(ctx context.Context) error {
		for _, r := range []string{"prometheuses", "servicemonitors", "prometheusrules"} {
			if _, err := l.dynamic.Resource(monitoring(r)).List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
				return err
			}
		}
		return nil
	})
}

// HelmSettings returns Helm CLI settings pointing at the lab: its
// kubeconfig, and repository config and cache under the lab's directory.
func (l *Lab) HelmSettings(namespace string) *cli.EnvSettings {
	s := cli.New()
	s.KubeConfig = l.kubeconfig
	s.SetNamespace(namespace)
	s.RepositoryConfig = filepath.Join(l.dir, "helm", "repositories.yaml")
	s.RepositoryCache = filepath.Join(l.dir, "helm", "cache")
	s.RegistryConfig = filepath.Join(l.dir, "helm", "registry.json")
	return s
}

// Release is a Helm release to install into the lab.
type Release struct {
	Name, Namespace string
	// Chart is a loaded chart; or ChartName (+ Version) from RepoURL (default
	// the lab's chart repository of stand-ins).
	Chart     *chart.Chart
	ChartName string
	Version   string
	RepoURL   string
	Values    map[string]any
	// Wait for the release's resources to be ready.
	Wait    bool
	Timeout time.Duration
}

// Install installs a release with the Helm v4 SDK (a fresh Configuration per
// release, so Capabilities see CRDs installed before), or upgrades it when
// it exists.
func (l *Lab) Install(ctx context.Context, r Release) error {
	settings := l.HelmSettings(r.Namespace)
	cfg := action.NewConfiguration()
	if err := cfg.Init(settings.RESTClientGetter(), r.Namespace, "secret"); err != nil {
		return err
	}
	ch := r.Chart
	if ch == nil {
		opts := action.ChartPathOptions{RepoURL: r.RepoURL, Version: r.Version}
		if opts.RepoURL == "" {
			opts.RepoURL = l.ChartRepoURL()
		}
		p, err := opts.LocateChart(r.ChartName, settings)
		if err != nil {
			return fmt.Errorf("locate chart %s: %w", r.ChartName, err)
		}
		if ch, err = loader.Load(p); err != nil {
			return err
		}
	}
	if r.Timeout == 0 {
		r.Timeout = 3 * time.Minute
	}
	wait := kube.HookOnlyStrategy
	if r.Wait {
		wait = kube.StatusWatcherStrategy
	}
	hist := action.NewHistory(cfg)
	hist.Max = 1
	if _, err := hist.Run(r.Name); errors.Is(err, driver.ErrReleaseNotFound) {
		inst := action.NewInstall(cfg)
		inst.ReleaseName, inst.Namespace = r.Name, r.Namespace
		inst.CreateNamespace = true
		inst.WaitStrategy = wait
		inst.Timeout = r.Timeout
		if _, err := inst.RunWithContext(ctx, ch, r.Values); err != nil {
			return fmt.Errorf("helm install %s: %w", r.Name, err)
		}
		return nil
	} else if err != nil {
		return err
	}
	up := action.NewUpgrade(cfg)
	up.Namespace = r.Namespace
	up.WaitStrategy = wait
	up.Timeout = r.Timeout
	if _, err := up.RunWithContext(ctx, r.Name, ch, r.Values); err != nil {
		return fmt.Errorf("helm upgrade %s: %w", r.Name, err)
	}
	return nil
}

type archiveFile = archive.BufferedFile
