package judge

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/versions"
	"github.com/kubedojo/dojo/internal/workshop"
)

// PrometheusValues is the learner's values file for kube-prometheus-stack.
const PrometheusValues = "values/prometheus.yaml"

// PrometheusReady judges the Prometheus custom resource and whether the
// server answers through its Service.
func PrometheusReady(cr Object, cfg Config) check.Result {
	name := workshop.PrometheusNamespace + "/" + workshop.PrometheusName
	expected := "the Prometheus " + name + " exists and its server answers"
	switch {
	case cr.Err != nil:
		return fail("could not read the Prometheus "+name+": "+firstLine(cr.Err), expected, "install step 5's release first")
	case !cr.Found:
		return fail("no Prometheus "+name, expected, "install kube-prometheus-stack as release prometheus: "+ReleaseInstall(versions.KubePrometheusStack, PrometheusValues))
	case cfg.Err != nil:
		return fail("the Prometheus server does not answer: "+firstLine(cfg.Err), expected,
			fmt.Sprintf("look at its pod: kubectl get pods -n %s -l app.kubernetes.io/name=prometheus", workshop.PrometheusNamespace))
	}
	return pass("Prometheus %s answers", name)
}

// ScrapeInterval judges the global scrape interval Prometheus runs with
// (its effective configuration), explained with what the custom resource
// asks for.
func ScrapeInterval(cfg Config, specInterval string, want time.Duration) check.Result {
	expected := fmt.Sprintf("global scrape_interval %s in the configuration Prometheus runs with", want)
	next := fmt.Sprintf("set prometheus.prometheusSpec.scrapeInterval: %s in %s and upgrade the release", want, PrometheusValues)
	if cfg.Err != nil {
		return fail("could not read Prometheus's configuration: "+firstLine(cfg.Err), expected, next)
	}
	var c struct {
		Global struct {
			ScrapeInterval string `json:"scrape_interval"`
		} `json:"global"`
	}
	if err := yaml.Unmarshal([]byte(cfg.YAML), &c); err != nil {
		return fail("Prometheus's configuration does not parse: "+firstLine(err), expected, next)
	}
	got := c.Global.ScrapeInterval
	d, err := time.ParseDuration(got)
	if err == nil && d == want {
		return pass("Prometheus scrapes every %s", got)
	}
	if got == "" {
		got = "unset"
	}
	obs := "Prometheus runs with scrape_interval " + got
	switch {
	case specInterval == "":
		obs += " (scrapeInterval is not set on the Prometheus resource, so the operator's default applies)"
	default:
		if sd, err := time.ParseDuration(specInterval); err == nil && sd == want {
			obs += " although the Prometheus resource asks for " + specInterval + " (the operator has not reloaded it yet)"
			next = "wait a few seconds and check again; if it stays, look at the operator's logs: kubectl logs -n prometheus deploy/prometheus-kube-prometheus-operator"
		} else {
			obs += " (the Prometheus resource asks for " + specInterval + ")"
		}
	}
	return fail(obs, expected, next)
}

// sampleLabelSets are labels that objects of any learner might carry: a
// selector that selects "every" object must match each of them.
var sampleLabelSets = []map[string]string{
	{"app.kubernetes.io/instance": "consumer", "app.kubernetes.io/managed-by": "Helm"}, // what the consumer chart gives
	{},
	{"app": "consumer"},
	{"release": "consumer"},
}

// sampleNamespaces are namespaces' labels (kube sets the name label).
var sampleNamespaces = []map[string]string{
	{"kubernetes.io/metadata.name": "default"},
	{"kubernetes.io/metadata.name": "team-a", "team": "a"},
}

// SelectsAll judges one pair of Prometheus selectors (ruleSelector and
// ruleNamespaceSelector, or the ServiceMonitor pair) as the operator reads
// them: a null selector selects nothing (a null namespace selector: only
// Prometheus's own namespace), an empty one everything. kind is
// "PrometheusRule" or "ServiceMonitor"; field its selector field's name.
func SelectsAll(cr Object, kind, field string, sel, nsSel *metav1.LabelSelector, nilUsesHelmValues string) check.Result {
	expected := fmt.Sprintf("%s and %sNamespaceSelector select every %s in every namespace", field, strings.TrimSuffix(field, "Selector"), kind)
	next := fmt.Sprintf("set prometheus.prometheusSpec.%s: false in %s (or give %s a selector such as {matchLabels: {}}) and upgrade the release", nilUsesHelmValues, PrometheusValues, field)
	switch {
	case cr.Err != nil:
		return fail("could not read the Prometheus resource: "+firstLine(cr.Err), expected, next)
	case !cr.Found:
		return fail("no Prometheus resource", expected, next)
	}
	if sel == nil {
		return fail(fmt.Sprintf("%s is not set: the operator then selects no %s at all", field, kind), expected, next)
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return fail(fmt.Sprintf("%s does not parse: %v", field, err), expected, next)
	}
	for _, ls := range sampleLabelSets {
		if !s.Matches(labels.Set(ls)) {
			obs := fmt.Sprintf("%s is %s: a %s %s is ignored", field, describeSelector(s), kind, describeLabels(ls))
			if _, ok := sel.MatchLabels["release"]; ok {
				obs += " (the chart puts release: prometheus there when the selector is empty and " + nilUsesHelmValues + " is true, its default)"
			}
			return fail(obs, expected, next)
		}
	}
	nsField := strings.TrimSuffix(field, "Selector") + "NamespaceSelector"
	if nsSel == nil {
		return fail(fmt.Sprintf("%s is not set: only %ss in the namespace %s are read", nsField, kind, workshop.PrometheusNamespace), expected,
			fmt.Sprintf("set prometheus.prometheusSpec.%s: {} in %s", nsField, PrometheusValues))
	}
	ns, err := metav1.LabelSelectorAsSelector(nsSel)
	if err != nil {
		return fail(fmt.Sprintf("%s does not parse: %v", nsField, err), expected, next)
	}
	for _, ls := range sampleNamespaces {
		if !ns.Matches(labels.Set(ls)) {
			return fail(fmt.Sprintf("%s is %s: %ss in the namespace %s are ignored", nsField, describeSelector(ns), kind, ls["kubernetes.io/metadata.name"]), expected,
				fmt.Sprintf("set prometheus.prometheusSpec.%s: {} in %s", nsField, PrometheusValues))
		}
	}
	return pass("%s and %s select every %s in every namespace", field, nsField, kind)
}

func describeSelector(s labels.Selector) string {
	if s.Empty() {
		return "{}"
	}
	return s.String()
}

func describeLabels(ls map[string]string) string {
	if len(ls) == 0 {
		return "with no labels"
	}
	return "labelled " + labels.Set(ls).String()
}

// PrometheusIngress judges the Ingress of the Prometheus UI and an answer
// through it.
func PrometheusIngress(ings Ingresses, domain string, answer HTTPAnswer) check.Result {
	host := "prometheus." + domain
	expected := fmt.Sprintf("an Ingress of class traefik for %s to %s:%d, answering", host, workshop.PrometheusName, workshop.PrometheusPort)
	next := fmt.Sprintf("set prometheus.ingress.enabled: true, ingressClassName: traefik and hosts: [%s] in %s", host, PrometheusValues)
	if ings.Err != nil {
		return fail("could not list Ingresses in "+workshop.PrometheusNamespace+": "+firstLine(ings.Err), expected, next)
	}
	var found *Ingress
	var hosts []string
	for i, in := range ings.Items {
		for _, h := range in.Hosts {
			hosts = append(hosts, h)
			if h == host {
				found = &ings.Items[i]
			}
		}
	}
	switch {
	case found == nil && len(hosts) == 0:
		return fail("no Ingress in the namespace "+workshop.PrometheusNamespace, expected, next)
	case found == nil:
		return fail("the Ingresses of "+workshop.PrometheusNamespace+" serve "+strings.Join(hosts, ", ")+", not "+host, expected,
			fmt.Sprintf("set prometheus.ingress.hosts: [%s] in %s (dojo up chose the domain %s)", host, PrometheusValues, domain))
	case !slices.Contains(found.Backends, fmt.Sprintf("%s:%d", workshop.PrometheusName, workshop.PrometheusPort)):
		return fail(fmt.Sprintf("the Ingress %s sends %s to %s", found.Name, host, strings.Join(found.Backends, ", ")), expected,
			"leave the Ingress to the chart (prometheus.ingress in "+PrometheusValues+"): it points at the right Service")
	case found.Class != "" && found.Class != "traefik":
		return fail(fmt.Sprintf("the Ingress %s has class %s: no controller serves it", found.Name, found.Class), expected,
			"set prometheus.ingress.ingressClassName: traefik in "+PrometheusValues)
	}
	if r := HTTPOK(answer, expected, "the Ingress exists but Prometheus does not answer through it: kubectl describe ingress -n prometheus"); r.Status != check.Pass {
		return r
	}
	return pass("Ingress %s serves %s and Prometheus answers through it", found.Name, host)
}

// ExporterConnected judges the exporter's own redis_up, read from its /metrics.
func ExporterConnected(metrics HTTPAnswer, vals map[string]any) check.Result {
	expected := "the exporter reports redis_up 1 (it reaches " + workshop.ExporterRedisAddr + ")"
	next := "set redisAddress: " + workshop.ExporterRedisAddr + " in values/prometheus-redis-exporter.yaml"
	if metrics.Err != nil || metrics.Code != 200 {
		return HTTPOK(metrics, expected, "look at the exporter's pod: kubectl logs deploy/prometheus-redis-exporter")
	}
	up := ""
	for _, line := range strings.Split(metrics.Body, "\n") {
		if v, ok := strings.CutPrefix(line, "redis_up "); ok {
			up = strings.TrimSpace(v)
		}
	}
	switch up {
	case "1":
		return pass("the exporter reports redis_up 1")
	case "":
		return fail("the exporter's metrics have no redis_up", expected, next)
	}
	addr, _ := lookup(vals, "redisAddress")
	return fail(fmt.Sprintf("the exporter reports redis_up %s: it cannot reach Redis at %v", up, orDefault(addr, "the chart's default")), expected, next)
}

func orDefault(v any, def string) any {
	if v == nil || v == "" {
		return def
	}
	return v
}

// Scraped judges that Prometheus scrapes the exporter's Service and the
// target is up. monitor is the release's ServiceMonitor as read.
func Scraped(t Targets, monitor Object, vals map[string]any) check.Result {
	expected := fmt.Sprintf("a target of Prometheus with service=%q, namespace=%q, up", workshop.ExporterService, workshop.AppNamespace)
	if t.Err != nil {
		return fail("could not read Prometheus's targets: "+firstLine(t.Err), expected, "dojo check step-5")
	}
	for _, tg := range t.Items {
		if tg.Labels["service"] == workshop.ExporterService && tg.Labels["namespace"] == workshop.AppNamespace {
			if tg.Health == "up" {
				return pass("Prometheus scrapes %s (pool %s): up", tg.ScrapeURL, tg.ScrapePool)
			}
			return fail(fmt.Sprintf("Prometheus scrapes %s but the target is %s: %s", tg.ScrapeURL, tg.Health, tg.LastError), expected,
				"look at the exporter: kubectl logs deploy/prometheus-redis-exporter")
		}
	}
	switch {
	case monitor.Err != nil:
		return fail("Prometheus has no target for the exporter, and its ServiceMonitor could not be read: "+firstLine(monitor.Err), expected,
			"install step 5 first: the ServiceMonitor kind comes with kube-prometheus-stack")
	case !monitor.Found:
		enabled, _ := lookup(vals, "serviceMonitor.enabled")
		obs := "Prometheus has no target for the exporter: the release has no ServiceMonitor"
		if enabled != true {
			obs += fmt.Sprintf(" (serviceMonitor.enabled is %v)", orDefault(enabled, "unset"))
		}
		return fail(obs, expected, "set serviceMonitor.enabled: true in values/prometheus-redis-exporter.yaml and upgrade the release")
	}
	return fail("the ServiceMonitor exists but Prometheus has no target for it", expected,
		"check that Prometheus selects every ServiceMonitor: dojo check step-5 (selects-all-servicemonitors); a new target shows after one scrape interval")
}

// ExporterEnv judges the exporter's env value: the chart writes it verbatim
// into the container's env, which Kubernetes wants as a list.
func ExporterEnv(vals map[string]any) (check.Result, bool) {
	env, ok := lookup(vals, "env")
	if !ok {
		return check.Result{}, true
	}
	if m, isMap := env.(map[string]any); isMap {
		var parts []string
		for k, v := range m {
			parts = append(parts, fmt.Sprintf("%s: %v", k, v))
		}
		return fail("env is a map ("+strings.Join(parts, ", ")+"): the chart copies it into the container's env, which must be a list", "env as a list of {name, value}",
			"write env: [{name: REDIS_EXPORTER_CHECK_SINGLE_KEYS, value: padok}] in values/prometheus-redis-exporter.yaml"), false
	}
	return check.Result{}, true
}

// KeyWatched judges the series of the queue's length.
func KeyWatched(q Query, vals map[string]any) check.Result {
	expected := "a series redis_key_size" + workshop.QueueSelector
	if q.Err != nil {
		return fail("could not query Prometheus: "+firstLine(q.Err), expected, "dojo check step-5")
	}
	if len(q.Samples) > 0 {
		return pass("redis_key_size%s is %s", workshop.QueueSelector, strconv.FormatFloat(q.Samples[0].Value, 'g', -1, 64))
	}
	next := "set env: [{name: REDIS_EXPORTER_CHECK_SINGLE_KEYS, value: padok}] in values/prometheus-redis-exporter.yaml"
	if env, ok := lookup(vals, "env"); ok {
		if list, ok := env.([]any); ok {
			for _, e := range list {
				if m, ok := e.(map[string]any); ok && m["name"] == "REDIS_EXPORTER_CHECK_SINGLE_KEYS" {
					next = fmt.Sprintf("REDIS_EXPORTER_CHECK_SINGLE_KEYS is %q: it must name the list padok (db0 is implied)", m["value"])
				}
			}
		}
	}
	return fail("Prometheus has no series redis_key_size"+workshop.QueueSelector, expected, next)
}
