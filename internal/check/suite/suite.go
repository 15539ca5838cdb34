// Package suite is dojo check's table: for every step, the facts to gather
// (probes, in parallel) and its criteria in the order of the step file, each
// with the criteria it needs and its judge. It decides nothing itself.
package suite

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/check/judge"
	"github.com/kubedojo/dojo/internal/check/probe"
	"github.com/kubedojo/dojo/internal/cluster"
	"github.com/kubedojo/dojo/internal/versions"
	"github.com/kubedojo/dojo/internal/workshop"
)

// Options tune a run.
type Options struct {
	// SkipLive reports the live criteria (they publish items and wait) as
	// skipped.
	SkipLive bool
	// Say tells the learner, on stderr, what a live criterion does and how
	// long it may take.
	Say func(format string, a ...any)
	// Machine is what step 1 and cleanup read.
	Machine Machine
	// Cluster is the kind cluster's name (cleanup).
	Cluster string
	// LiveBound caps a live criterion's wait (60 s when 0).
	LiveBound time.Duration
}

// Machine is the learner's machine: its tools, its container runtime and
// its kubeconfig.
type Machine struct {
	Doctor cluster.DoctorEnv
	// Contexts lists the kubeconfig's contexts.
	Contexts func() ([]string, error)
}

// facts is everything the probes of one step read.
type facts struct {
	domain string

	version    string
	versionErr error
	traefik    judge.Workload
	class      judge.Object
	port80     judge.HTTPAnswer
	appRels    []judge.Release
	appWls     []judge.Workload
	producerOK judge.HTTPAnswer
	consumer   judge.Workload
	queue      judge.Queue

	release judge.Release
	// valuesFile is the learner's values file of the step's release.
	valuesFile map[string]any
	promCR     judge.Object
	promCfg    judge.Config
	ingresses  judge.Ingresses
	promUI     judge.HTTPAnswer

	exporterMetrics judge.HTTPAnswer
	targets         judge.Targets
	monitor         judge.Object
	key             judge.Query

	rules     judge.PrometheusRules
	loaded    judge.Rules
	recorded  judge.Query
	svc       judge.ServicePorts
	apisvc    judge.APIService
	metric    judge.CustomMetric
	hpa       judge.HPA
	tools     []check.Result
	runtime   check.Result
	clusters  []string
	clusterE  error
	contexts  []string
	contextsE error
}

type step struct {
	gather   func(ctx context.Context, w *probe.World, o Options, f *facts)
	criteria func(w *probe.World, o Options, f *facts) []check.Criterion
}

// IDs are the ids of a step's criteria, in order ("scrape-interval", …).
func IDs(stepID string) []string {
	s, ok := table()[stepID]
	if !ok {
		return nil
	}
	var ids []string
	for _, c := range s.criteria(&probe.World{}, Options{}, &facts{}) {
		ids = append(ids, c.ID)
	}
	return ids
}

// Run checks one step against w.
func Run(ctx context.Context, stepID string, w *probe.World, o Options) ([]check.Result, error) {
	s, ok := table()[stepID]
	if !ok {
		return nil, fmt.Errorf("no checks for %s", stepID)
	}
	if o.Say == nil {
		o.Say = func(string, ...any) {}
	}
	if o.LiveBound == 0 {
		o.LiveBound = time.Minute
	}
	f := &facts{domain: workshop.Domain}
	s.gather(ctx, w, o, f)
	return check.Evaluate(ctx, stepID, s.criteria(w, o, f), check.EvalOptions{
		SkipLive: o.SkipLive, SkipLiveHint: "dojo check " + stepID + " (without --static) runs it"}), nil
}

// parallel runs fns at once and waits for all.
func parallel(fns ...func()) {
	var wg sync.WaitGroup
	for _, fn := range fns {
		wg.Go(fn)
	}
	wg.Wait()
}

func static(id string, needs []string, j func() check.Result) check.Criterion {
	return check.Criterion{ID: id, Needs: needs, Judge: func(context.Context) check.Result { return j() }}
}

func needs(ids ...string) []string { return ids }

// domainOf reads the domain dojo up chose from the producer's values.
func domainOf(ctx context.Context, w *probe.World, f *facts) {
	f.domain = workshop.DomainOf(probe.Release(ctx, w, workshop.ProducerRelease, workshop.AppNamespace).Values)
}

func table() map[string]step {
	return map[string]step{
		"step-1":  {gatherTools, toolCriteria},
		"step-2":  {gatherBootstrap, bootstrapCriteria},
		"step-3":  {gatherExplore, exploreCriteria},
		"step-4":  {gatherArchitecture, architectureCriteria},
		"step-5":  {gatherPrometheus, prometheusCriteria},
		"step-6":  {gatherExporter, exporterCriteria},
		"step-7":  {gatherRule, ruleCriteria},
		"step-8":  {gatherAdapter, adapterCriteria},
		"step-9":  {gatherHPA, hpaCriteria},
		"step-10": {gatherZero, zeroCriteria},
		"cleanup": {gatherCleanup, cleanupCriteria},
	}
}

// Pipeline is the chain from the exporter to the replicas
// (`dojo check --why`): each link needs the one before, so the first broken
// link fails and the rest wait for it.
func Pipeline(ctx context.Context, w *probe.World) []check.Result {
	f := &facts{}
	parallel(
		func() { f.targets = probe.Targets(ctx, w) },
		func() { f.key = probe.Query(ctx, w, "redis_key_size"+workshop.QueueSelector) },
		func() { f.recorded = probe.Query(ctx, w, workshop.RecordedMetric+workshop.QueueSelector) },
		func() { f.metric = probe.CustomMetric(ctx, w, judge.CustomMetricPath) },
		func() { f.hpa = probe.HPA(ctx, w, workshop.AppNamespace, workshop.ConsumerRelease) },
		func() { f.consumer = probe.Deployment(ctx, w, workshop.AppNamespace, workshop.ConsumerRelease) },
	)
	return check.Evaluate(ctx, PipelineID, []check.Criterion{
		static("exporter-scraped", nil, func() check.Result { return judge.ExporterUp(f.targets) }),
		static("queue-measured", needs("exporter-scraped"), func() check.Result {
			return judge.SeriesPresent(f.key, "the exporter must watch the key padok (step 6)")
		}),
		static("rule-recorded", needs("queue-measured"), func() check.Result {
			return judge.SeriesPresent(f.recorded, "Prometheus must load the rule (step 7)")
		}),
		static("metric-served", needs("rule-recorded"), func() check.Result { return judge.CustomMetricLink(f.metric) }),
		static("hpa-reads-metric", needs("metric-served"), func() check.Result { return judge.HPAActive(f.hpa) }),
		static("replicas-follow", needs("hpa-reads-metric"), func() check.Result { return judge.Replicas(f.hpa, f.consumer) }),
	}, check.EvalOptions{})
}

// PipelineID prefixes the pipeline doctor's results.
const PipelineID = "pipeline"

// Step 1: the tools.

func gatherTools(ctx context.Context, _ *probe.World, o Options, f *facts) {
	parallel(
		func() { f.runtime = cluster.RuntimeCheck(o.Machine.Doctor.Preflight) },
		func() { f.tools = cluster.Tools(ctx, o.Machine.Doctor) },
	)
}

func toolCriteria(_ *probe.World, _ Options, f *facts) []check.Criterion {
	tool := func(name string) func() check.Result {
		return func() check.Result {
			for _, r := range f.tools {
				if r.Criterion == name {
					return r
				}
			}
			return check.Result{Status: check.Fail, Observed: name + " was not looked for"}
		}
	}
	return []check.Criterion{
		static("container-engine", nil, func() check.Result { return f.runtime }),
		static("kubectl-installed", nil, tool("kubectl")),
		static("helm-installed", nil, tool("helm")),
		static("jq-installed", nil, tool("jq")),
		static("curl-installed", nil, tool("curl")),
	}
}

// Step 2: dojo up's result.

func gatherBootstrap(ctx context.Context, w *probe.World, _ Options, f *facts) {
	ns := workshop.AppNamespace
	f.appRels = make([]judge.Release, 3)
	f.appWls = make([]judge.Workload, 3)
	parallel(
		func() {
			if w.Kube == nil {
				f.versionErr = w.AccessErr
				if f.versionErr == nil {
					f.versionErr = fmt.Errorf("no cluster access")
				}
				return
			}
			v, err := w.Kube.Discovery().ServerVersion()
			f.versionErr = err
			if err == nil {
				f.version = v.GitVersion
			}
		},
		func() {
			f.traefik = probe.Deployment(ctx, w, versions.Traefik.Namespace, versions.Traefik.Release)
		},
		func() { f.class = probe.IngressClass(ctx, w, "traefik") },
		func() { f.appRels[0] = probe.Release(ctx, w, workshop.RedisRelease, ns) },
		func() {
			f.appRels[1] = probe.Release(ctx, w, workshop.ProducerRelease, ns)
			f.domain = workshop.DomainOf(f.appRels[1].Values)
			parallel(
				func() { f.port80 = probe.Ingress(ctx, w, http.MethodGet, "dojo-check."+f.domain, "/") },
				func() { f.producerOK = probe.Ingress(ctx, w, http.MethodGet, "producer."+f.domain, "/healthz") },
			)
		},
		func() { f.appRels[2] = probe.Release(ctx, w, workshop.ConsumerRelease, ns) },
		func() { f.appWls[0] = probe.Deployment(ctx, w, ns, workshop.RedisService) },
		func() { f.appWls[1] = probe.Deployment(ctx, w, ns, workshop.ProducerRelease) },
		func() { f.appWls[2] = probe.Deployment(ctx, w, ns, workshop.ConsumerRelease) },
		func() { f.hpa = probe.HPA(ctx, w, ns, workshop.ConsumerRelease) },
	)
}

func bootstrapCriteria(w *probe.World, _ Options, f *facts) []check.Criterion {
	return []check.Criterion{
		static("cluster-reachable", nil, func() check.Result { return judge.ClusterReachable(w.Context, f.version, f.versionErr) }),
		static("ingress-ready", needs("cluster-reachable"), func() check.Result { return judge.IngressReady(f.traefik, f.class, f.port80) }),
		static("app-deployed", needs("cluster-reachable"), func() check.Result { return judge.AppDeployed(f.appRels, f.appWls, f.hpa) }),
		static("producer-reachable", needs("ingress-ready", "app-deployed"), func() check.Result {
			return judge.HTTPOK(f.producerOK, "HTTP 200 from the producer through Traefik",
				"kubectl describe ingress producer; the producer's logs: kubectl logs deploy/producer")
		}),
	}
}

// Step 3: explore (live).

func gatherExplore(ctx context.Context, w *probe.World, _ Options, f *facts) {
	parallel(
		func() { domainOf(ctx, w, f) },
		func() { f.consumer = probe.Deployment(ctx, w, workshop.AppNamespace, workshop.ConsumerRelease) },
		func() { f.hpa = probe.HPA(ctx, w, workshop.AppNamespace, workshop.ConsumerRelease) },
	)
}

// consumerReady judges the consumer for steps 3 and 4: ready, or resting at
// zero under step 10's HPA (which wakes it when items come).
func consumerReady(f *facts, fix string) check.Result {
	if judge.RestsAtZero(f.consumer, f.hpa) {
		return check.Result{Status: check.Pass, Observed: "the consumer rests at 0 replicas under the HPA's minReplicas 0 (step 10); items wake it"}
	}
	return judge.WorkloadReady(f.consumer, 1, fix)
}

func exploreCriteria(w *probe.World, o Options, f *facts) []check.Criterion {
	return []check.Criterion{
		{ID: "producer-reachable", Live: true, Judge: func(ctx context.Context) check.Result {
			host := "producer." + f.domain
			o.Say("step-3/producer-reachable: POST http://%s/publish through %s (one item, which the consumer then processes)", host, ingressAddr(w))
			a := probe.Ingress(ctx, w, http.MethodPost, host, "/publish")
			r := judge.HTTPOK(a, "the producer accepts the item (HTTP 200)", "kubectl describe ingress producer; kubectl logs deploy/producer")
			if p, ok := probe.ParsePublished(a); ok && f.consumer.Ready == 0 {
				// No consumer would take it: do not leave it behind.
				r.Observed += withdrawn(ctx, w, p)
			}
			return r
		}},
		static("consumer-ready", nil, func() check.Result {
			return consumerReady(f, "dojo up installs it; if you scaled it to 0: kubectl scale deploy consumer --replicas=1")
		}),
		{ID: "queue-drains", Live: true, Needs: needs("producer-reachable", "consumer-ready"), Judge: func(ctx context.Context) check.Result {
			return drains(ctx, w, o, f, 3)
		}},
	}
}

func ingressAddr(w *probe.World) string {
	if w.IngressAddr == "" {
		return "127.0.0.1:80"
	}
	return w.IngressAddr
}

// Step 4: a quiet start.

func gatherArchitecture(ctx context.Context, w *probe.World, _ Options, f *facts) {
	ns := workshop.AppNamespace
	f.appWls = make([]judge.Workload, 3)
	parallel(
		func() { f.appWls[0] = probe.Deployment(ctx, w, ns, workshop.RedisService) },
		func() { f.appWls[1] = probe.Deployment(ctx, w, ns, workshop.ProducerRelease) },
		func() { f.appWls[2] = probe.Deployment(ctx, w, ns, workshop.ConsumerRelease) },
		func() { f.queue = probe.Queue(ctx, w, ns, workshop.ProducerService, workshop.ProducerPort) },
		func() { f.hpa = probe.HPA(ctx, w, ns, workshop.ConsumerRelease) },
	)
	f.consumer = f.appWls[2]
}

func architectureCriteria(_ *probe.World, _ Options, f *facts) []check.Criterion {
	return []check.Criterion{
		static("app-ready", nil, func() check.Result {
			for _, wl := range f.appWls[:2] {
				if r := judge.WorkloadReady(wl, 1, "dojo up"); r.Status != check.Pass {
					return r
				}
			}
			if r := consumerReady(f, "dojo up"); r.Status != check.Pass {
				return r
			}
			return check.Result{Status: check.Pass, Observed: "redis-master, producer and consumer have all their replicas ready"}
		}),
		static("queue-empty", nil, func() check.Result { return judge.QueueEmpty(f.queue) }),
	}
}

// Step 5: kube-prometheus-stack.

func gatherPrometheus(ctx context.Context, w *probe.World, _ Options, f *facts) {
	c := versions.KubePrometheusStack
	parallel(
		func() { f.release = probe.Release(ctx, w, c.Release, c.Namespace) },
		func() {
			f.promCR = probe.Object(ctx, w, probe.PrometheusGVR, workshop.PrometheusNamespace, workshop.PrometheusName)
		},
		func() { f.promCfg = probe.Config(ctx, w) },
		func() { f.ingresses = probe.Ingresses(ctx, w, workshop.PrometheusNamespace) },
		func() {
			domainOf(ctx, w, f)
			f.promUI = probe.Ingress(ctx, w, http.MethodGet, "prometheus."+f.domain, "/-/ready")
		},
	)
}

func prometheusCriteria(_ *probe.World, _ Options, f *facts) []check.Criterion {
	c := versions.KubePrometheusStack
	sel, interval := probe.Selectors(f.promCR)
	return []check.Criterion{
		static("release-deployed", nil, func() check.Result {
			return judge.ReleaseDeployed(f.release, c, judge.ReleaseInstall(c, judge.PrometheusValues))
		}),
		static("prometheus-ready", needs("release-deployed"), func() check.Result { return judge.PrometheusReady(f.promCR, f.promCfg) }),
		static("scrape-interval", needs("prometheus-ready"), func() check.Result { return judge.ScrapeInterval(f.promCfg, interval, 5*time.Second) }),
		static("selects-all-rules", needs("release-deployed"), func() check.Result {
			return judge.SelectsAll(f.promCR, "PrometheusRule", "ruleSelector", sel.Rule, sel.RuleNamespace, "ruleSelectorNilUsesHelmValues")
		}),
		static("selects-all-servicemonitors", needs("release-deployed"), func() check.Result {
			return judge.SelectsAll(f.promCR, "ServiceMonitor", "serviceMonitorSelector", sel.ServiceMonitor, sel.ServiceMonitorNamespace, "serviceMonitorSelectorNilUsesHelmValues")
		}),
		static("ingress", needs("prometheus-ready"), func() check.Result { return judge.PrometheusIngress(f.ingresses, f.domain, f.promUI) }),
	}
}

// Step 6: the exporter.

const exporterValues = "values/prometheus-redis-exporter.yaml"

func gatherExporter(ctx context.Context, w *probe.World, _ Options, f *facts) {
	c := versions.RedisExporter
	parallel(
		func() { f.release = probe.Release(ctx, w, c.Release, c.Namespace) },
		func() { f.valuesFile = probe.ValuesFile(w, exporterValues) },
		func() {
			f.exporterMetrics = probe.ServiceProxy(ctx, w, http.MethodGet, workshop.AppNamespace, workshop.ExporterService, workshop.ExporterPort, "/metrics")
		},
		func() { f.targets = probe.Targets(ctx, w) },
		func() {
			f.monitor = probe.Object(ctx, w, probe.ServiceMonitorGVR, workshop.AppNamespace, workshop.ExporterService)
		},
		func() { f.key = probe.Query(ctx, w, "redis_key_size"+workshop.QueueSelector) },
	)
}

func exporterCriteria(_ *probe.World, _ Options, f *facts) []check.Criterion {
	c := versions.RedisExporter
	return []check.Criterion{
		static("release-deployed", nil, func() check.Result {
			// The release's values, or, when Helm could not even record a
			// release, the learner's values file.
			vals := f.release.Values
			if !f.release.Found {
				vals = f.valuesFile
			}
			if r, ok := judge.ExporterEnv(vals); !ok {
				return r
			}
			return judge.ReleaseDeployed(f.release, c, judge.ReleaseInstall(c, exporterValues))
		}),
		static("redis-connected", needs("release-deployed"), func() check.Result {
			return judge.ExporterConnected(f.exporterMetrics, f.release.Values)
		}),
		static("scraped", needs("release-deployed"), func() check.Result { return judge.Scraped(f.targets, f.monitor, f.release.Values) }),
		static("key-watched", needs("redis-connected", "scraped"), func() check.Result { return judge.KeyWatched(f.key, f.release.Values) }),
	}
}

// Step 7: the recording rule.

func gatherRule(ctx context.Context, w *probe.World, _ Options, f *facts) {
	parallel(
		func() { f.rules = probe.RecordingRules(ctx, w, workshop.RecordedMetric) },
		func() { f.loaded = probe.Rules(ctx, w) },
		func() { f.recorded = probe.Query(ctx, w, workshop.RecordedMetric+workshop.QueueSelector) },
	)
}

func ruleCriteria(_ *probe.World, _ Options, f *facts) []check.Criterion {
	installed, rule := judge.RuleInstalled(f.rules)
	var copies, zero check.Result
	evaluated := false
	evaluate := func() {
		if !evaluated {
			expr := ""
			if rule != nil {
				expr = rule.Expr
			}
			copies, zero = judge.RecordingRule(expr)
			evaluated = true
		}
	}
	group := ""
	if rule != nil {
		group = rule.Group
	}
	return []check.Criterion{
		static("rule-installed", nil, func() check.Result { return installed }),
		static("rule-loaded", needs("rule-installed"), func() check.Result { return judge.RuleLoaded(f.loaded, group, time.Second) }),
		static("copies-exporter", needs("rule-installed"), func() check.Result { evaluate(); return copies }),
		static("zero-when-absent", needs("rule-installed"), func() check.Result { evaluate(); return zero }),
		static("live-value", needs("rule-loaded"), func() check.Result { return judge.LiveValue(f.recorded) }),
	}
}

// Step 8: the adapter.

func gatherAdapter(ctx context.Context, w *probe.World, _ Options, f *facts) {
	c := versions.PrometheusAdapter
	parallel(
		func() {
			f.release = probe.Release(ctx, w, c.Release, c.Namespace)
			f.valuesFile = probe.ValuesFile(w, judge.AdapterValues)
			raw, _ := judge.AdapterURL(adapterValues(f))
			if ns, name, ok := judge.ServiceOf(raw); ok {
				f.svc = probe.Service(ctx, w, ns, name)
			}
		},
		func() { f.apisvc = probe.APIService(ctx, w, workshop.CustomMetricsAPIService) },
		func() { f.metric = probe.CustomMetric(ctx, w, judge.CustomMetricPath) },
		func() { f.recorded = probe.Query(ctx, w, workshop.RecordedMetric+workshop.QueueSelector) },
	)
}

func adapterCriteria(_ *probe.World, _ Options, f *facts) []check.Criterion {
	c := versions.PrometheusAdapter
	return []check.Criterion{
		static("release-deployed", nil, func() check.Result {
			return judge.ReleaseDeployed(f.release, c, judge.ReleaseInstall(c, judge.AdapterValues))
		}),
		// The URL is judged on the values whatever became of the release: a
		// wrong URL can be the reason it did not deploy.
		static("prometheus-url", nil, func() check.Result { return judge.PrometheusURL(adapterValues(f), f.release.Found, f.svc) }),
		static("apiservice-available", needs("release-deployed"), func() check.Result { return judge.APIServiceAvailable(f.apisvc) }),
		static("metric-served", needs("apiservice-available"), func() check.Result { return judge.MetricServed(f.metric) }),
		static("value-matches", needs("metric-served"), func() check.Result { return judge.ValueMatches(f.metric, f.recorded) }),
	}
}

// adapterValues are the adapter release's values, or the learner's values
// file when there is no release yet.
func adapterValues(f *facts) map[string]any {
	if f.release.Found {
		return f.release.Values
	}
	return f.valuesFile
}

// Step 9: the HPA.

func gatherHPA(ctx context.Context, w *probe.World, _ Options, f *facts) {
	f.hpa = probe.HPA(ctx, w, workshop.AppNamespace, workshop.ConsumerRelease)
}

func hpaCriteria(w *probe.World, o Options, f *facts) []check.Criterion {
	return []check.Criterion{
		static("hpa-exists", nil, func() check.Result { return judge.HPAExists(f.hpa) }),
		static("scale-target", needs("hpa-exists"), func() check.Result { return judge.ScaleTarget(f.hpa, workshop.MinReplicas) }),
		static("object-metric", needs("hpa-exists"), func() check.Result { return judge.ObjectMetric(f.hpa) }),
		static("average-value-target", needs("object-metric"), func() check.Result { return judge.AverageValueTarget(f.hpa) }),
		static("metric-readable", needs("hpa-exists"), func() check.Result { return judge.MetricReadable(f.hpa) }),
		{ID: "follows-queue", Live: true, Needs: needs("scale-target", "average-value-target", "metric-readable"), Judge: func(ctx context.Context) check.Result {
			return follows(ctx, w, o)
		}},
	}
}

// Step 10: scale to zero.

func gatherZero(ctx context.Context, w *probe.World, o Options, f *facts) {
	read := func(ctx context.Context) {
		parallel(
			func() { f.hpa = probe.HPA(ctx, w, workshop.AppNamespace, workshop.ConsumerRelease) },
			func() {
				f.queue = probe.Queue(ctx, w, workshop.AppNamespace, workshop.ProducerService, workshop.ProducerPort)
			},
			func() { f.consumer = probe.Deployment(ctx, w, workshop.AppNamespace, workshop.ConsumerRelease) },
		)
	}
	parallel(
		func() { f.release = probe.Release(ctx, w, workshop.ConsumerRelease, workshop.AppNamespace) },
		func() { read(ctx) },
	)
	// Just after a burst (step 9's live criterion in dojo check --all, or
	// the learner's own) the queue is empty while the HPA still holds its
	// last count for the downscale stabilization window: unless live
	// criteria are skipped, wait for the scale-down rather than fail.
	if o.SkipLive || !judge.WaitsForScaleDown(f.queue, f.consumer, f.hpa) {
		return
	}
	o.Say("step-10/scaled-to-zero: the queue is empty and the consumer still has %d replica(s); waiting up to %s for the HPA to scale it to zero (its downscale stabilization window holds the last count)",
		max(f.consumer.Desired, f.consumer.Replicas), o.LiveBound)
	// Each read is bounded by the wait; one cut off at its end would leave
	// probe errors for the judges, so a wait that ran out reads once more.
	if _, done := poll(ctx, o.LiveBound, 2*time.Second, func(ctx context.Context) bool {
		read(ctx)
		return !judge.WaitsForScaleDown(f.queue, f.consumer, f.hpa)
	}); !done {
		read(ctx)
	}
}

func zeroCriteria(w *probe.World, o Options, f *facts) []check.Criterion {
	return []check.Criterion{
		static("min-replicas-zero", nil, func() check.Result {
			if r := judge.HPAExists(f.hpa); r.Status != check.Pass {
				return r
			}
			return judge.MinReplicasZero(f.hpa, f.release)
		}),
		static("scaled-to-zero", needs("min-replicas-zero"), func() check.Result { return judge.ScaledToZero(f.queue, f.consumer, f.hpa) }),
		{ID: "wakes-up", Live: true, Needs: needs("scaled-to-zero"), Judge: func(ctx context.Context) check.Result {
			return wakes(ctx, w, o)
		}},
	}
}

// Cleanup.

func gatherCleanup(_ context.Context, _ *probe.World, o Options, f *facts) {
	parallel(
		func() {
			env := o.Machine.Doctor.Preflight
			rt, err := cluster.DetectRuntime(env.Host)
			if err != nil {
				f.clusterE = err
				return
			}
			f.clusters, f.clusterE = env.NewProvider(rt).List()
		},
		func() {
			if o.Machine.Contexts == nil {
				return
			}
			f.contexts, f.contextsE = o.Machine.Contexts()
		},
	)
}

func cleanupCriteria(_ *probe.World, o Options, f *facts) []check.Criterion {
	return []check.Criterion{
		static("cluster-deleted", nil, func() check.Result {
			name := o.Cluster
			if name == "" {
				name = workshop.ClusterName
			}
			return judge.ClusterDeleted(name, f.clusters, f.clusterE, f.contexts, f.contextsE)
		}),
	}
}
