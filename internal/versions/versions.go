// Package versions pins everything a learner's cluster pulls: the kind node
// image, every upstream chart and every image. Step texts quote these values;
// a test keeps them in step.
package versions

// Kind and its node image (kind v0.33.0's default, with digest).
const (
	Kind      = "v0.33.0"
	NodeImage = "kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5"
)

// Chart is a pinned upstream Helm chart.
type Chart struct {
	Name      string // chart name in its repository
	Repo      string // repository URL
	RepoName  string // the name learners give it in `helm repo add`
	Version   string
	Release   string // the release name the workshop uses
	Namespace string
}

// Upstream charts, pinned.
var (
	Traefik = Chart{Name: "traefik", Repo: "https://traefik.github.io/charts", RepoName: "traefik",
		Version: "41.3.0", Release: "traefik", Namespace: "traefik"}
	KubePrometheusStack = Chart{Name: "kube-prometheus-stack", Repo: "https://prometheus-community.github.io/helm-charts", RepoName: "prometheus-community",
		Version: "88.5.3", Release: "prometheus", Namespace: "prometheus"}
	RedisExporter = Chart{Name: "prometheus-redis-exporter", Repo: "https://prometheus-community.github.io/helm-charts", RepoName: "prometheus-community",
		Version: "6.29.0", Release: "prometheus-redis-exporter", Namespace: "default"}
	PrometheusAdapter = Chart{Name: "prometheus-adapter", Repo: "https://prometheus-community.github.io/helm-charts", RepoName: "prometheus-community",
		Version: "5.3.0", Release: "prometheus-adapter", Namespace: "prometheus"}
)

// Images the embedded charts run.
const (
	RedisImage = "redis:8.10.1-alpine"
	// AppImageRepository is where releases publish the dojo image; the tag is
	// the dojo version.
	AppImageRepository = "ghcr.io/kubedojo/dojo"
)

// UpstreamCharts lists every pinned upstream chart.
func UpstreamCharts() []Chart {
	return []Chart{Traefik, KubePrometheusStack, RedisExporter, PrometheusAdapter}
}
