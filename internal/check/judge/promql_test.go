package judge

import (
	"strings"
	"testing"
	"time"

	"github.com/kubedojo/dojo/internal/check"
)

// The exporter's series selector, written as a learner would.
const padokSelector = `redis_key_size{service="prometheus-redis-exporter",namespace="default",key="padok"}`

// relabelRequired gives e the three labels with label_replace.
func relabelRequired(e string) string {
	e = `label_replace(` + e + `, "service", "prometheus-redis-exporter", "", "")`
	e = `label_replace(` + e + `, "namespace", "default", "", "")`
	return `label_replace(` + e + `, "key", "padok", "", "")`
}

// A ruleCase is an expression and what each criterion should say of it: its
// status and words its Observed (and Next) must contain.
type ruleCase struct {
	name       string
	expr       string
	copies     check.Status
	copiesSays []string
	zero       check.Status
	zeroSays   []string
}

func TestRecordingRulePassesEquivalents(t *testing.T) {
	byLabels := `sum by (service, namespace, key) (` + padokSelector + `)`
	for _, tc := range []ruleCase{
		{name: "reference", expr: padokSelector + ` or clamp_max(absent(` + padokSelector + `), 0)`},
		{name: "sum by the three labels", expr: byLabels + ` or clamp_max(absent(` + padokSelector + `), 0)`},
		{name: "max by the three labels", expr: `max by(service,namespace,key) (` + padokSelector + `) or absent(` + padokSelector + `) * 0`},
		{name: "sum by with sum by fallback", expr: byLabels + ` or sum by (service, namespace, key) (clamp_max(absent(` + padokSelector + `), 0))`},
		{name: "or on() vector(0) relabelled", expr: padokSelector + ` or on() ` + relabelRequired(`vector(0)`)},
		{name: "aggregated and relabelled vector(0)", expr: byLabels + ` or ` + relabelRequired(`vector(0)`)},
		{name: "last_over_time", expr: `last_over_time(` + padokSelector + `[1m]) or clamp_max(absent(` + padokSelector + `), 0)`},
		{name: "subquery with the default step", expr: `max_over_time(` + padokSelector + `[5m:]) or clamp_max(absent(` + padokSelector + `), 0)`},
		{name: "spaces and newlines", expr: "\n  " + padokSelector + "\n  or\n  clamp_max(absent(" + padokSelector + "), 0)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			copies, zero := RecordingRule(tc.expr)
			for _, r := range []check.Result{copies, zero} {
				if r.Status != check.Pass {
					t.Errorf("%s: %s, want pass\n  observed: %s\n  next: %s", r.Criterion, r.Status, r.Observed, r.Next)
				}
				if r.Next != "" {
					t.Errorf("%s passed with a Next: %q", r.Criterion, r.Next)
				}
				if !strings.Contains(r.Observed, "returned one sample of value") {
					t.Errorf("%s passed saying %q", r.Criterion, r.Observed)
				}
			}
		})
	}
}

func TestRecordingRuleFailures(t *testing.T) {
	absentZero := ` or clamp_max(absent(` + padokSelector + `), 0)`
	notParsing := []string{"does not parse", "fix the expr of the rule redis_items_in_queue in charts/consumer/templates/prometheusrule.yaml"}
	for _, tc := range []ruleCase{
		{
			name: "or vector(0) loses the labels when absent",
			expr: padokSelector + ` or vector(0)`,
			// or matches whole label sets, so vector(0) stays beside the
			// series when the series exists.
			copies:     check.Fail,
			copiesSays: []string{"with the exporter's series alone, the expression returned 2 samples: ", "} 37; {} 0", "or on()"},
			zero:       check.Fail,
			zeroSays: []string{
				`with the exporter's series absent, the expression returned {} 0 (missing key="padok", namespace="default", service="prometheus-redis-exporter")`,
				"keep the labels service, namespace and key",
			},
		},
		{
			name:     "no absent branch",
			expr:     padokSelector,
			copies:   check.Pass,
			zero:     check.Fail,
			zeroSays: []string{"with the exporter's series absent, the expression returned nothing", "add an absent() branch", "clamp_max(absent("},
		},
		{
			name:       "sum without by loses the labels",
			expr:       `sum(` + padokSelector + `)` + absentZero,
			copies:     check.Fail,
			copiesSays: []string{"with the exporter's series alone, the expression returned {} 37 (missing", "keep the labels service, namespace and key", "by (service, namespace, key)"},
			zero:       check.Pass,
		},
		{
			name:   "no namespace filter selects the staging series too",
			expr:   `redis_key_size{key="padok"}` + absentZero,
			copies: check.Fail,
			copiesSays: []string{
				"with the exporter's series alongside other namespaces' and keys' series, the expression returned 2 samples: ",
				`namespace="staging"`, `} 5`, `} 37`,
				"filter on service, namespace and key",
			},
			zero:     check.Fail,
			zeroSays: []string{"with the exporter's series absent, the expression returned 2 samples: ", `namespace="staging"`, "filter on service, namespace and key"},
		},
		{
			name:       "no namespace filter and no fallback",
			expr:       `redis_key_size{key="padok"}`,
			copies:     check.Fail,
			copiesSays: []string{"2 samples"},
			zero:       check.Fail,
			zeroSays: []string{
				`with the exporter's series absent, the expression returned redis_key_size{`,
				`} 5 (namespace is "staging", not "default"; the value should be 0)`,
				"filter on service, namespace and key together",
			},
		},
		{
			name:       "doubled value",
			expr:       padokSelector + ` * 2` + absentZero,
			copies:     check.Fail,
			copiesSays: []string{"with the exporter's series alone, the expression returned", `key="padok"`, "} 74 (the value should be 37)", "value unchanged"},
			zero:       check.Pass,
		},
		{
			name:     "absent alone is 1",
			expr:     padokSelector + ` or absent(` + padokSelector + `)`,
			copies:   check.Pass,
			zero:     check.Fail,
			zeroSays: []string{`returned {key="padok", namespace="default", service="prometheus-redis-exporter"} 1 (the value should be 0)`, "make the fallback 0"},
		},
		{
			name:       "relabelled fallback joined without on()",
			expr:       padokSelector + ` or ` + relabelRequired(`vector(0)`),
			copies:     check.Fail,
			copiesSays: []string{"with the exporter's series alone, the expression returned 2 samples", "or on()"},
			zero:       check.Pass,
		},
		{
			name:       "fallback with a wrong namespace",
			expr:       padokSelector + ` or clamp_max(absent(redis_key_size{service="prometheus-redis-exporter",namespace="staging",key="padok"}), 0)`,
			copies:     check.Fail,
			copiesSays: []string{"with the exporter's series alone, the expression returned 2 samples: ", `{key="padok", namespace="staging", service="prometheus-redis-exporter"} 0`},
			zero:       check.Fail,
			zeroSays:   []string{"with the exporter's series absent, the expression returned nothing"},
		},
		{
			name:       "parse error",
			expr:       padokSelector + ` or clamp_max(absent(` + padokSelector + `), 0`,
			copies:     check.Fail,
			copiesSays: notParsing,
			zero:       check.Fail,
			zeroSays:   notParsing,
		},
		{
			name:       "empty",
			expr:       "",
			copies:     check.Fail,
			copiesSays: notParsing,
			zero:       check.Fail,
			zeroSays:   notParsing,
		},
		{
			name:       "scalar",
			expr:       `1`,
			copies:     check.Fail,
			copiesSays: []string{"returns a scalar, not an instant vector"},
			zero:       check.Fail,
			zeroSays:   []string{"returns a scalar, not an instant vector"},
		},
		{
			name:       "string",
			expr:       `"padok"`,
			copies:     check.Fail,
			copiesSays: []string{"returns a string, not an instant vector"},
			zero:       check.Fail,
			zeroSays:   []string{"returns a string, not an instant vector"},
		},
		{
			name:       "range vector",
			expr:       padokSelector + `[1m]`,
			copies:     check.Fail,
			copiesSays: []string{"returns a range vector, not an instant vector"},
			zero:       check.Fail,
			zeroSays:   []string{"returns a range vector, not an instant vector"},
		},
		{
			name:       "another metric",
			expr:       `redis_up{service="prometheus-redis-exporter",namespace="default"}` + absentZero,
			copies:     check.Fail,
			copiesSays: []string{"with the exporter's series alone, the expression returned nothing", "select the exporter's series by its three labels"},
			zero:       check.Fail,
			zeroSays:   []string{"with the exporter's series absent, the expression returned 2 samples: redis_up{", "} 1; {"},
		},
		{
			name:   "aggregation without the key label",
			expr:   `sum by (service, namespace) (` + padokSelector + `)` + absentZero,
			copies: check.Fail,
			copiesSays: []string{
				`with the exporter's series alone, the expression returned {namespace="default", service="prometheus-redis-exporter"} 37 (missing key="padok")`,
				"by (service, namespace, key)",
			},
			zero: check.Pass,
		},
		{
			name:       "too many samples",
			expr:       `count_over_time(redis_key_size[1m:1ms])`,
			copies:     check.Fail,
			copiesSays: []string{"with the exporter's series alone, evaluating the expression failed: ", "too many samples"},
			zero:       check.Fail,
			zeroSays:   []string{"with the exporter's series absent, evaluating the expression failed: ", "too many samples"},
		},
		{
			name:       "evaluation error",
			expr:       padokSelector + ` or on() (redis_key_size{key="padok"} * on() redis_up)`,
			copies:     check.Fail,
			copiesSays: []string{"with the exporter's series alongside other namespaces' and keys' series, evaluating the expression failed: ", "fix the expr of the rule redis_items_in_queue"},
			zero:       check.Fail,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			copies, zero := RecordingRule(tc.expr)
			expectRuleResult(t, copies, CriterionCopiesExporter, tc.copies, tc.copiesSays)
			expectRuleResult(t, zero, CriterionZeroWhenAbsent, tc.zero, tc.zeroSays)
		})
	}
}

// expectRuleResult checks r's criterion and status, and that its Observed or
// Next contains each of says.
func expectRuleResult(t *testing.T, r check.Result, criterion string, status check.Status, says []string) {
	t.Helper()
	if r.Criterion != criterion {
		t.Errorf("criterion %q, want %q", r.Criterion, criterion)
	}
	if r.Status != status {
		t.Errorf("%s: %s, want %s\n  observed: %s\n  next: %s", criterion, r.Status, status, r.Observed, r.Next)
		return
	}
	if r.Expected == "" {
		t.Errorf("%s has no Expected", criterion)
	}
	if status == check.Fail && r.Next == "" {
		t.Errorf("%s failed without a Next (observed %q)", criterion, r.Observed)
	}
	text := r.Observed + "\n" + r.Next
	for _, s := range says {
		if !strings.Contains(text, s) {
			t.Errorf("%s does not say %q\n  observed: %s\n  next: %s", criterion, s, r.Observed, r.Next)
		}
	}
}

// A subquery that would evaluate a great many steps is refused before the
// engine runs it (the engine would allocate for every step first), quickly.
func TestRecordingRuleBounded(t *testing.T) {
	expr := `count_over_time(` + padokSelector + `[100000d:1ms]) or on() count_over_time(vector(1)[100000d:1ms])`
	start := time.Now()
	copies, zero := RecordingRule(expr)
	if took := time.Since(start); took > 4*queryTimeout*time.Duration(len(copiesInputs)+len(zeroInputs)) {
		t.Errorf("judging took %s", took)
	}
	for _, r := range []check.Result{copies, zero} {
		if r.Status != check.Fail || !strings.Contains(r.Observed, "subqueries would evaluate") {
			t.Errorf("%s: %s %q, want a refused subquery", r.Criterion, r.Status, r.Observed)
		}
	}
}

// The message names each required label once, with its value.
func TestRecordingRuleExpected(t *testing.T) {
	copies, zero := RecordingRule(padokSelector)
	for _, r := range []check.Result{copies, zero} {
		for _, l := range []string{`service="prometheus-redis-exporter"`, `namespace="default"`, `key="padok"`} {
			if strings.Count(r.Expected, l) != 1 {
				t.Errorf("%s: Expected %q should name %s once", r.Criterion, r.Expected, l)
			}
		}
	}
}
