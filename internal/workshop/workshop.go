// Package workshop names the things the workshop is made of: the cluster and
// its context, the releases and their namespaces, the Services the steps talk
// about, the domain and the embedded chart paths. The product, the lab and
// the tests read these names from here and nowhere else.
package workshop

import (
	"path/filepath"
	"strconv"
)

// The cluster.
const (
	// ClusterName is the kind cluster's name unless --name says otherwise.
	ClusterName = "dojo"
	// Domain is the domain of the workshop's hostnames (producer.vcap.me,
	// prometheus.vcap.me): a public wildcard that resolves to 127.0.0.1.
	Domain = "vcap.me"
)

// DefaultContext is the context of the workshop's kind cluster,
// KindContext(ClusterName).
const DefaultContext = "kind-" + ClusterName

// KindContext is the kubeconfig context kind writes for a cluster.
func KindContext(clusterName string) string { return "kind-" + clusterName }

// The sample app: its releases, their namespace and the Redis they share.
const (
	AppNamespace    = "default"
	RedisRelease    = "redis"
	ProducerRelease = "producer"
	ConsumerRelease = "consumer"

	// RedisService is the Service of the redis chart (the original
	// workshop's Bitnami name, which the steps keep).
	RedisService = "redis-master"
	RedisPort    = 6379
	// RedisAddr is Redis's in-cluster address, as the app's pods dial it
	// (RedisService:RedisPort; a test keeps the two in step).
	RedisAddr = "redis-master:6379"
	// Queue is the Redis list the producer fills and the consumer empties.
	Queue = "padok"
)

// Redis's memory and the queue it holds, computed from one another.
const (
	// QueuedItemBytes is what one queued item costs Redis, rounded up:
	// 1.1 million items took 104 MB in a measured run (95 bytes each).
	QueuedItemBytes = 100
	// MaxLoadItems is the most items one dojo load run publishes.
	MaxLoadItems = 1_000_000
	// RedisMaxMemoryMiB is Redis's maxmemory: room for two full dojo load
	// runs (2 × 1 000 000 × 100 B = 190.7 MiB, rounded down), e.g. one
	// the consumers have not drained yet and the next. Past it Redis
	// refuses writes (noeviction): the publish is answered 503, not sent.
	RedisMaxMemoryMiB = 2 * MaxLoadItems * QueuedItemBytes / (1 << 20)
	// RedisMemoryLimitMiB is the container's memory limit: maxmemory and a
	// third more (253 MiB) for what maxmemory does not count: the fork that
	// rewrites the append-only file copies the pages written meanwhile, and
	// Redis's own buffers and code.
	RedisMemoryLimitMiB = RedisMaxMemoryMiB * 4 / 3
)

// RedisValues are the redis chart's values dojo up installs it with: its
// maxmemory and memory limit from the arithmetic above.
func RedisValues() map[string]any {
	return map[string]any{
		"maxmemory": strconv.Itoa(RedisMaxMemoryMiB) + "mb",
		"resources": map[string]any{"limits": map[string]any{"memory": strconv.Itoa(RedisMemoryLimitMiB) + "Mi"}},
	}
}

// AppReleases are the app releases the learner's workspace charts make;
// `dojo deploy` accepts exactly these.
func AppReleases() []string { return []string{ProducerRelease, ConsumerRelease} }

// Embedded paths (in the tree embedded.FS returns).
const (
	// RedisChart is the embedded redis chart.
	RedisChart = "workspace/charts/redis"
	// TraefikValues are the values dojo up installs Traefik with.
	TraefikValues = "platform/traefik-values.yaml"
)

// AppChartDir is the workspace chart of an app release.
func AppChartDir(workspace, release string) string {
	return filepath.Join(workspace, "charts", release)
}

// The monitoring chain the learner builds (steps 5–10).
const (
	// ProducerService serves the producer on ProducerPort.
	ProducerService = "producer"
	ProducerPort    = 80

	// PrometheusNamespace holds kube-prometheus-stack and the adapter.
	PrometheusNamespace = "prometheus"
	// PrometheusName is both the Prometheus custom resource and its Service.
	PrometheusName = "prometheus-kube-prometheus-prometheus"
	PrometheusPort = 9090
	// PrometheusURL is where the adapter finds Prometheus (step 8).
	PrometheusURL = "http://" + PrometheusName + "." + PrometheusNamespace + ".svc"

	// ExporterService is the Redis exporter's Service (step 6).
	ExporterService = "prometheus-redis-exporter"
	ExporterPort    = 9121
	// ExporterRedisAddr is where the exporter finds Redis.
	ExporterRedisAddr = "redis://" + RedisService + "." + AppNamespace + ":6379"

	// RecordedMetric is the recording rule's name (step 7).
	RecordedMetric = "redis_items_in_queue"
	// MetricSelectorKey and the Queue name select the queue's series.
	MetricSelectorKey = "key"

	// CustomMetricsAPIService is the adapter's APIService (step 8).
	CustomMetricsAPIService = "v1beta1.custom.metrics.k8s.io"

	// TargetAverage is the HPA's target: one consumer per 20 waiting items.
	TargetAverage = 20
	// MaxReplicas bounds the HPA (step 9); MinReplicas is step 9's floor.
	MaxReplicas = 20
	MinReplicas = 1
)

// QueueSelector is the exporter's series of the queue, as the steps write it.
const QueueSelector = `{service="` + ExporterService + `",namespace="` + AppNamespace + `",key="` + Queue + `"}`

// DomainOf is the domain dojo up chose, read from the producer release's
// values (its "domain" value), Domain when they name none.
func DomainOf(producerValues map[string]any) string {
	if d, ok := producerValues["domain"].(string); ok && d != "" {
		return d
	}
	return Domain
}
