package lab

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	repo "helm.sh/helm/v4/pkg/repo/v1"
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

// StandInRepo serves the stand-in charts as a Helm chart repository over HTTP
// on an address of the lab's namespace, so Helm's real download code runs.
type StandInRepo struct {
	url string
	srv *http.Server
}

// loadFS loads a chart from a directory of an fs.FS.
func loadFS(fsys fs.FS, dir string) (*chart.Chart, error) {
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
	ip, err := l.allocIP(false)
	if err != nil {
		return err
	}
	r, err := ServeStandInCharts(filepath.Join(l.dir, "chart-repo"), ip+":8879", StandInOptions{CRDDir: l.bins.crds})
	if err != nil {
		return err
	}
	l.repo = r
	l.setAddr(ChartRepo, ip+":8879")
	return nil
}

// StandInChartFiles is the stand-in charts' source (charts/NAME/...), for
// tests that read what a stand-in declares.
func StandInChartFiles() fs.FS { return standInCharts }

// StandInOptions says which variant of the stand-in charts to serve.
type StandInOptions struct {
	// RealCluster serves kube-prometheus-stack with what upstream renders
	// for a real cluster whose node holds the images: the Prometheus
	// operator (its Deployment, RBAC, Service, admission webhooks), the
	// kube-state-metrics and node-exporter subcharts, and the ServiceMonitors
	// of the cluster's own components. Without it all of that is left out:
	// the lab's operator stand-in plays the operator, and the process
	// kubelet runs neither exporter.
	RealCluster bool
	// CRDDir holds the monitoring.coreos.com CRDs the chart ships (the
	// operator module's real ones, which `make crds` copies to
	// .cache/promop/crds), in a subchart crds as upstream ships them.
	// Required.
	CRDDir string
}

// realClusterTemplates are where the stand-in kube-prometheus-stack keeps
// what only a real cluster gets, and realClusterSubcharts its subcharts of
// that kind.
var (
	realClusterTemplates = []string{"templates/prometheus-operator/", "templates/exporters/"}
	realClusterSubcharts = []string{"kube-state-metrics", "prometheus-node-exporter"}
)

// ServeStandInCharts packages the stand-in charts into dir and serves them
// as a Helm chart repository on addr (host:port), so Helm's real download
// code runs against them: the lab's repository, and the kind tests' (which
// have no way to the upstream ones).
func ServeStandInCharts(dir, addr string, o StandInOptions) (*StandInRepo, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(standInCharts, "charts")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		ch, err := loadFS(standInCharts, path.Join("charts", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("stand-in chart %s: %w", e.Name(), err)
		}
		if e.Name() == "kube-prometheus-stack" {
			if err := o.apply(ch); err != nil {
				return nil, err
			}
		}
		if _, err := chartutil.Save(ch, dir); err != nil {
			return nil, err
		}
	}
	url := "http://" + addr
	idx, err := repo.IndexDirectory(dir, url)
	if err != nil {
		return nil, err
	}
	idx.SortEntries()
	if err := idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &StandInRepo{url: url, srv: srv}, nil
}

// apply makes the kube-prometheus-stack stand-in the variant o asks for.
func (o StandInOptions) apply(ch *chart.Chart) error {
	if !o.RealCluster {
		kept := ch.Templates[:0]
		for _, t := range ch.Templates {
			if !slices.ContainsFunc(realClusterTemplates, func(dir string) bool { return strings.HasPrefix(t.Name, dir) }) {
				kept = append(kept, t)
			}
		}
		ch.Templates = kept
		var subs []*chart.Chart
		for _, d := range ch.Dependencies() {
			if !slices.Contains(realClusterSubcharts, d.Name()) {
				subs = append(subs, d)
			}
		}
		ch.SetDependencies(subs...)
		ch.Metadata.Dependencies = slices.DeleteFunc(ch.Metadata.Dependencies, func(d *chart.Dependency) bool {
			return slices.Contains(realClusterSubcharts, d.Name)
		})
	}
	if o.CRDDir == "" {
		return fmt.Errorf("the stand-in kube-prometheus-stack needs the operator's CRDs: run make crds")
	}
	crds, err := filepath.Glob(filepath.Join(o.CRDDir, "*.yaml"))
	if err != nil {
		return err
	}
	if len(crds) == 0 {
		return fmt.Errorf("no CRDs in %s: run make crds", o.CRDDir)
	}
	// As upstream: in a subchart crds (condition crds.enabled), whose files
	// Helm leaves out of the release it stores (the CRDs would not fit in
	// its 1 MiB Secret), installed before the templates.
	files := ch.Files[:0]
	for _, f := range ch.Files {
		if !strings.HasPrefix(f.Name, "crds/") {
			files = append(files, f)
		}
	}
	ch.Files = files
	sub := &chart.Chart{Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: "crds", Version: ch.Metadata.Version,
		Description: "STAND-IN: the operator module's monitoring.coreos.com CRDs, as kube-prometheus-stack's crds subchart ships them"}}
	for _, c := range crds {
		data, err := os.ReadFile(c)
		if err != nil {
			return err
		}
		sub.Files = append(sub.Files, &common.File{Name: "crds/" + filepath.Base(c), Data: data})
	}
	ch.AddDependency(sub)
	ch.Metadata.Dependencies = append(ch.Metadata.Dependencies, &chart.Dependency{Name: "crds", Version: sub.Metadata.Version, Condition: "crds.enabled"})
	return nil
}

// URL is the repository's URL (for --chart-repo or DOJO_CHART_REPO).
func (r *StandInRepo) URL() string { return r.url }

// Close stops serving.
func (r *StandInRepo) Close() { r.close() }

func (r *StandInRepo) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = r.srv.Shutdown(ctx)
}

// ChartRepoURL is the URL of the lab's chart repository of stand-ins for
// the pinned upstream charts (same names and versions as upstream).
func (l *Lab) ChartRepoURL() string { return l.repo.url }

// installCRDs applies the monitoring.coreos.com CRDs when the options ask
// for them.
func (l *Lab) installCRDs(ctx context.Context) error {
	if !l.opts.MonitoringCRDs {
		return nil
	}
	return l.InstallMonitoringCRDs(ctx)
}

// InstallMonitoringCRDs applies the operator module's monitoring.coreos.com
// CRDs (the ones kube-prometheus-stack installs) and waits until
// Prometheus, ServiceMonitor and PrometheusRule are served.
func (l *Lab) InstallMonitoringCRDs(ctx context.Context) error {
	gvr := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	files, err := filepath.Glob(filepath.Join(l.bins.crds, "*.yaml"))
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
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

type archiveFile = archive.BufferedFile
