package judge

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/workshop"
)

// RuleFile is where the learner writes the PrometheusRule.
const RuleFile = "charts/consumer/templates/prometheusrule.yaml"

// RecordingRuleObject is one recording rule found in a PrometheusRule.
type RecordingRuleObject struct {
	// Rule is the PrometheusRule's namespace/name; Release its Helm release
	// (empty when it was not made by Helm).
	Rule, Release string
	Group         string
	Interval      string
	Expr          string
}

// PrometheusRules are the recording rules of redis_items_in_queue found in
// the cluster's PrometheusRules.
type PrometheusRules struct {
	Found []RecordingRuleObject
	Err   error
}

// RuleInstalled judges that the release consumer carries a PrometheusRule
// recording redis_items_in_queue. It returns the rule it judged.
func RuleInstalled(rs PrometheusRules) (check.Result, *RecordingRuleObject) {
	expected := "a PrometheusRule of the release consumer in default that records " + workshop.RecordedMetric
	next := "add it to the consumer chart (" + RuleFile + ") and upgrade: dojo deploy consumer"
	if rs.Err != nil {
		obs := "could not list PrometheusRules: " + firstLine(rs.Err)
		if strings.Contains(rs.Err.Error(), "the server could not find the requested resource") {
			obs = "the cluster has no PrometheusRule kind (monitoring.coreos.com/v1)"
			next = "install kube-prometheus-stack first (step 5): its CRDs bring the kind"
		}
		return fail(obs, expected, next), nil
	}
	var other *RecordingRuleObject
	for i, r := range rs.Found {
		if r.Rule[:strings.IndexByte(r.Rule, '/')] == workshop.AppNamespace && r.Release == workshop.ConsumerRelease {
			return pass("PrometheusRule %s (release consumer) records %s in group %s", r.Rule, workshop.RecordedMetric, r.Group), &rs.Found[i]
		}
		other = &rs.Found[i]
	}
	if other != nil {
		where := "no release"
		if other.Release != "" {
			where = "the release " + other.Release
		}
		return fail(fmt.Sprintf("%s records %s but belongs to %s", other.Rule, workshop.RecordedMetric, where), expected,
			"put it in the consumer chart ("+RuleFile+") so it comes and goes with the consumer, and delete the other one"), nil
	}
	return fail("no PrometheusRule records "+workshop.RecordedMetric, expected, next), nil
}

// RuleLoaded judges that Prometheus loaded the rule of group (the group of
// the PrometheusRule rule-installed found; "" = any), evaluated every
// wantInterval.
func RuleLoaded(r Rules, group string, wantInterval time.Duration) check.Result {
	expected := fmt.Sprintf("Prometheus has a group recording %s, evaluated every %s", workshop.RecordedMetric, wantInterval)
	if r.Err != nil {
		return fail("could not read Prometheus's rules: "+firstLine(r.Err), expected, "dojo check step-5")
	}
	for _, g := range r.Groups {
		for _, rule := range g.Rules {
			if rule.Type != "recording" || rule.Name != workshop.RecordedMetric || (group != "" && g.Name != group) {
				continue
			}
			got := time.Duration(g.Interval * float64(time.Second))
			switch {
			case rule.Health == "err":
				return fail(fmt.Sprintf("Prometheus evaluates %s in group %s and it fails: %s", rule.Name, g.Name, rule.LastError), expected,
					"fix the expr in "+RuleFile)
			case got != wantInterval:
				return fail(fmt.Sprintf("the group %s is evaluated every %s", g.Name, got), expected,
					fmt.Sprintf("set interval: %s on the group in %s", durationString(wantInterval), RuleFile))
			}
			return pass("Prometheus evaluates %s every %s (group %s)", rule.Name, got, g.Name)
		}
	}
	return fail("Prometheus has loaded no rule recording "+workshop.RecordedMetric, expected,
		"Prometheus must select the rule: dojo check step-5 (selects-all-rules); a new rule loads within a minute")
}

func durationString(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.Itoa(int(d/time.Second)) + "s"
	}
	return d.String()
}

// LiveValue judges Prometheus's answer for the recorded series now.
func LiveValue(q Query) check.Result {
	expected := "a sample of " + workshop.RecordedMetric + workshop.QueueSelector
	if q.Err != nil {
		return fail("could not query Prometheus: "+firstLine(q.Err), expected, "dojo check step-5")
	}
	if len(q.Samples) == 0 {
		return fail("Prometheus has no sample of "+q.Expr, expected, "the rule is loaded but records nothing for these labels: compare its output with `dojo solution step-7`")
	}
	return pass("%s is %s", q.Expr, strconv.FormatFloat(q.Samples[0].Value, 'g', -1, 64))
}
