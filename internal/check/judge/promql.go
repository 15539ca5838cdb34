package judge

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/workshop"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// The criteria RecordingRule judges.
const (
	CriterionCopiesExporter = "copies-exporter"
	CriterionZeroWhenAbsent = "zero-when-absent"
)

// Where the learner writes the rule, for the messages.
const (
	recordingRuleName = workshop.RecordedMetric
	recordingRuleFile = RuleFile
)

// The exporter's series the rule must copy. exporterValue is the value the
// constructed inputs give it: distinct from every other series' value, so a
// rule that picks the wrong series shows it.
const (
	exporterMetric = "redis_key_size"
	exporterValue  = 37.0
)

// requiredLabels are the labels the recorded series must carry, in the order
// the messages name them. The metrics adapter finds the Service
// prometheus-redis-exporter through namespace and service; key tells the
// queue apart from the other keys the exporter watches.
var requiredLabels = []labels.Label{
	{Name: "service", Value: "prometheus-redis-exporter"},
	{Name: "namespace", Value: "default"},
	{Name: "key", Value: "padok"},
}

// Evaluation settings. The instant query runs at evalTime, every series has
// a sample every sampleStep over the sampledSpan before it, and the engine is
// bounded so that an expression that would compute a great deal fails
// quickly instead of hanging the check.
var evalTime = time.Date(2024, time.March, 1, 12, 0, 0, 0, time.UTC)

const (
	sampleStep     = 5 * time.Second
	sampledSpan    = time.Minute
	lookbackDelta  = 5 * time.Minute
	queryTimeout   = 2 * time.Second
	maxQuerySample = 50_000
	// subqueryStep is the step of a subquery that gives none, Prometheus'
	// default evaluation interval.
	subqueryStep = time.Minute
	// maxSubquerySteps bounds the evaluation steps of nested subqueries: the
	// engine allocates for every step before it counts samples, so a
	// subquery like [100000d:1ms] would exhaust memory before any limit
	// applied.
	maxSubquerySteps = 100_000
)

// promqlParser parses the expression exactly as the engine will.
var promqlParser = parser.NewParser(parser.Options{})

// ruleEngine is built once: building it allocates its metrics, and it is safe for
// concurrent queries.
var ruleEngine = sync.OnceValue(func() *promql.Engine {
	return promql.NewEngine(promql.EngineOpts{
		MaxSamples:           maxQuerySample,
		Timeout:              queryTimeout,
		LookbackDelta:        lookbackDelta,
		EnableAtModifier:     true,
		EnableNegativeOffset: true,
		NoStepSubqueryIntervalFn: func(int64) int64 {
			return subqueryStep.Milliseconds()
		},
		Parser: promqlParser,
	})
})

// A ruleInput is a named set of series the expression is evaluated on. with is
// the phrase that opens a message about it ("with the exporter's series
// absent, the expression returned nothing").
type ruleInput struct {
	with   string
	series []fixedSeries
}

// A fixedSeries holds one value over the whole sampled span.
type fixedSeries struct {
	lset  labels.Labels
	value float64
}

// exporterLabels returns the labels of a redis_key_size series as the
// exporter's ServiceMonitor scrapes them, with the given namespace and key.
func exporterLabels(namespace, key string) labels.Labels {
	return labels.FromStrings(
		labels.MetricName, exporterMetric,
		"container", "prometheus-redis-exporter",
		"db", "db0",
		"endpoint", "redis-exporter",
		"instance", "10.244.0.7:9121",
		"job", "prometheus-redis-exporter",
		"key", key,
		"namespace", namespace,
		"pod", "prometheus-redis-exporter-5d9c7-abcde",
		"service", "prometheus-redis-exporter",
	)
}

// The series around the exporter's: the same key in another namespace,
// another key in the same namespace, and another metric of the exporter.
var (
	exporterSeries = fixedSeries{exporterLabels("default", "padok"), exporterValue}
	stagingSeries  = fixedSeries{exporterLabels("staging", "padok"), 5}
	otherKeySeries = fixedSeries{exporterLabels("default", "other"), 9}
	upSeries       = fixedSeries{labels.FromStrings(
		labels.MetricName, "redis_up",
		"container", "prometheus-redis-exporter",
		"endpoint", "redis-exporter",
		"instance", "10.244.0.7:9121",
		"job", "prometheus-redis-exporter",
		"namespace", "default",
		"pod", "prometheus-redis-exporter-5d9c7-abcde",
		"service", "prometheus-redis-exporter",
	), 1}
)

// The inputs of each criterion.
var (
	copiesInputs = []ruleInput{
		{"with the exporter's series alone", []fixedSeries{exporterSeries}},
		{"with the exporter's series alongside other namespaces' and keys' series",
			[]fixedSeries{exporterSeries, stagingSeries, otherKeySeries, upSeries}},
	}
	zeroInputs = []ruleInput{
		{"with the exporter's series absent", []fixedSeries{stagingSeries, otherKeySeries, upSeries}},
		{"with nothing at all", nil},
	}
)

// RecordingRule judges a recording rule's expression by evaluating it with
// the PromQL engine on constructed inputs. It returns the results of the
// criteria "copies-exporter" and "zero-when-absent" (Criterion field = those ids).
//
// copies-exporter passes when, with the exporter's series alone and among
// other series, the expression returns exactly one sample: the exporter's
// value with the labels service, namespace and key. zero-when-absent passes
// when, without the exporter's series, it returns exactly one sample of
// value 0 with those labels. Extra labels are allowed.
func RecordingRule(expr string) (copies, zero check.Result) {
	copies = check.Result{Criterion: CriterionCopiesExporter, Expected: copiesExpected()}
	zero = check.Result{Criterion: CriterionZeroWhenAbsent, Expected: zeroExpected()}

	parsed, err := promqlParser.ParseExpr(expr)
	if err != nil {
		observed := "the expression does not parse: " + err.Error()
		next := "fix the expr of the rule " + recordingRuleName + " in " + recordingRuleFile
		return ruleFailed(copies, observed, next), ruleFailed(zero, observed, next)
	}
	if t := parsed.Type(); t != parser.ValueTypeVector {
		observed := "the expression " + nonVectorKind(t)
		next := "make the expression an instant vector, starting from the selector " + exporterSelector()
		return ruleFailed(copies, observed, next), ruleFailed(zero, observed, next)
	}

	if n := subquerySteps(parsed); n > maxSubquerySteps {
		observed := fmt.Sprintf("the expression's subqueries would evaluate %.0f steps, more than the %d this check allows", n, maxSubquerySteps)
		next := "the rule needs no subquery: fix the expr of the rule " + recordingRuleName + " in " + recordingRuleFile
		return ruleFailed(copies, observed, next), ruleFailed(zero, observed, next)
	}

	copies = judgeRuleInputs(copies, expr, copiesInputs, exporterValue, copiesFix)
	zero = judgeRuleInputs(zero, expr, zeroInputs, 0, zeroFix)
	if copies.Status == check.Pass {
		copies.Observed = fmt.Sprintf("with the exporter's series alone and alongside other namespaces' and keys' series, the expression returned one sample of value %s with %s",
			promValue(exporterValue), requiredLabelList())
	}
	if zero.Status == check.Pass {
		zero.Observed = "with the exporter's series absent and with nothing at all, the expression returned one sample of value 0 with " + requiredLabelList()
	}
	return copies, zero
}

// judgeRuleInputs evaluates expr on each input in turn and fails r on the first
// input whose result is not one sample of value want with the required
// labels; fix gives the Next for what went wrong.
func judgeRuleInputs(r check.Result, expr string, inputs []ruleInput, want float64, fix func(ruleFlaws, int) string) check.Result {
	for i, in := range inputs {
		v, err := evalRule(expr, in)
		if err != nil {
			return ruleFailed(r, in.with+", evaluating the expression failed: "+err.Error(),
				"fix the expr of the rule "+recordingRuleName+" in "+recordingRuleFile)
		}
		f, observed := examineResult(v, want)
		if f.none() {
			continue
		}
		return ruleFailed(r, in.with+", the expression returned "+observed, fix(f, i))
	}
	r.Status = check.Pass
	return r
}

// ruleFailed returns r as a failure with what was observed and what to do.
func ruleFailed(r check.Result, observed, next string) check.Result {
	r.Status = check.Fail
	r.Observed = observed
	r.Next = next
	return r
}

// ruleFlaws are what can be wrong with an expression's result on one input.
type ruleFlaws struct {
	empty  bool // no sample at all
	many   bool // more than one sample
	labels bool // a required label missing
	other  bool // a required label with another value: another series
	value  bool // not the value wanted
}

func (f ruleFlaws) none() bool { return f == ruleFlaws{} }

// examineResult compares a result with the one sample wanted and returns what is
// wrong with it and how to describe it after "the expression returned".
func examineResult(v promql.Vector, want float64) (ruleFlaws, string) {
	switch len(v) {
	case 0:
		return ruleFlaws{empty: true}, "nothing"
	case 1:
	default:
		return ruleFlaws{many: true}, fmt.Sprintf("%d samples: %s", len(v), promSamples(v))
	}
	s := v[0]
	var f ruleFlaws
	var notes []string
	missing, wrong := labelProblems(s.Metric)
	if len(missing) > 0 {
		f.labels = true
		notes = append(notes, "missing "+strings.Join(missing, ", "))
	}
	if len(wrong) > 0 {
		f.other = true
		notes = append(notes, wrong...)
	}
	switch {
	case s.H != nil:
		f.value = true
		notes = append(notes, "a histogram where the value "+promValue(want)+" is needed")
	case s.F != want:
		f.value = true
		notes = append(notes, "the value should be "+promValue(want))
	}
	observed := promSample(s)
	if len(notes) > 0 {
		observed += " (" + strings.Join(notes, "; ") + ")"
	}
	return f, observed
}

// labelProblems lists the required labels that lset lacks, as name="value"
// sorted by name, and describes those it has with another value.
func labelProblems(lset labels.Labels) (missing, wrong []string) {
	for _, l := range requiredLabels {
		switch {
		case !lset.Has(l.Name):
			missing = append(missing, promLabel(l))
		case lset.Get(l.Name) != l.Value:
			wrong = append(wrong, fmt.Sprintf("%s is %s, not %s", l.Name, strconv.Quote(lset.Get(l.Name)), strconv.Quote(l.Value)))
		}
	}
	slices.Sort(missing)
	return missing, wrong
}

// keepLabelsFix is the advice for a result that lost the required labels.
const keepLabelsFix = "keep the labels service, namespace and key (the adapter maps namespace and service to the Service prometheus-redis-exporter)"

// copiesFix says what to do when copies-exporter fails on copiesInputs[i].
func copiesFix(f ruleFlaws, i int) string {
	switch {
	case f.empty:
		return "select the exporter's series by its three labels: " + exporterSelector()
	case f.many && i == 0:
		// Only one redis_key_size series exists, so the extra sample comes
		// from a fallback branch that stays when the series is there.
		return "make the fallback drop out when the series exists: or matches whole label sets, so give the fallback the same labels or join with or on()"
	case f.many, f.other:
		return "filter on service, namespace and key together, so that only the exporter's series is selected"
	}
	var fixes []string
	if f.labels {
		fixes = append(fixes, keepLabelsFix+"; an aggregation needs by (service, namespace, key)")
	}
	if f.value {
		fixes = append(fixes, "return the series' value unchanged, with no arithmetic on it")
	}
	return strings.Join(fixes, "; and ")
}

// zeroFix says what to do when zero-when-absent fails on zeroInputs[i].
func zeroFix(f ruleFlaws, _ int) string {
	switch {
	case f.empty:
		return "add an absent() branch: <expr> or clamp_max(absent(<selector>), 0)"
	case f.many:
		return "filter on service, namespace and key together, so that no other series matches, and return a single fallback sample"
	case f.other:
		return "filter on service, namespace and key together, so that no other series matches, and give the fallback the values " + requiredLabelValues()
	}
	var fixes []string
	if f.labels {
		fixes = append(fixes, keepLabelsFix+"; absent() of a selector with those three labels carries them, vector(0) has none")
	}
	if f.value {
		fixes = append(fixes, "make the fallback 0: absent() returns 1, and clamp_max(absent(<selector>), 0) turns it into 0")
	}
	return strings.Join(fixes, "; and ")
}

func copiesExpected() string {
	return fmt.Sprintf("one sample, the exporter's value, with %s, whatever other series exist", requiredLabelList())
}

func zeroExpected() string {
	return fmt.Sprintf("one sample of value 0 with %s when the exporter's series is absent", requiredLabelList())
}

// requiredLabelList names the required labels in a sentence.
func requiredLabelList() string {
	parts := make([]string, len(requiredLabels))
	for i, l := range requiredLabels {
		parts[i] = promLabel(l)
	}
	return "the labels " + strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// requiredLabelValues lists the required labels as name="value".
func requiredLabelValues() string {
	parts := make([]string, len(requiredLabels))
	for i, l := range requiredLabels {
		parts[i] = promLabel(l)
	}
	return strings.Join(parts, ", ")
}

// exporterSelector is the selector of the exporter's series on the three
// required labels.
func exporterSelector() string {
	parts := make([]string, len(requiredLabels))
	for i, l := range requiredLabels {
		parts[i] = l.Name + "=" + strconv.Quote(l.Value)
	}
	return exporterMetric + "{" + strings.Join(parts, ",") + "}"
}

// nonVectorKind describes an expression of a type other than instant vector.
func nonVectorKind(t parser.ValueType) string {
	switch t {
	case parser.ValueTypeScalar:
		return "returns a scalar, not an instant vector: Prometheus would record it without any label"
	case parser.ValueTypeString:
		return "returns a string, not an instant vector"
	case parser.ValueTypeMatrix:
		return "returns a range vector, not an instant vector: a recording rule cannot record it"
	}
	return fmt.Sprintf("returns a %s, not an instant vector", t)
}

// subquerySteps returns the largest number of evaluation steps that a nest
// of subqueries in e asks for: the product, along each path from the root,
// of every subquery's range divided by its step.
func subquerySteps(e parser.Expr) float64 {
	most := 1.0
	parser.Inspect(e, func(node parser.Node, path []parser.Node) error {
		sq, ok := node.(*parser.SubqueryExpr)
		if !ok {
			return nil
		}
		steps := stepsOf(sq)
		for _, outer := range path {
			if o, ok := outer.(*parser.SubqueryExpr); ok {
				steps *= stepsOf(o)
			}
		}
		most = max(most, steps)
		return nil
	})
	return most
}

// stepsOf is how many steps one subquery evaluates.
func stepsOf(sq *parser.SubqueryExpr) float64 {
	step := sq.Step
	if step <= 0 {
		step = subqueryStep
	}
	return math.Ceil(float64(sq.Range)/float64(step)) + 1
}

// evalRule runs expr as an instant query at evalTime over in's series.
func evalRule(expr string, in ruleInput) (promql.Vector, error) {
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	q, err := ruleEngine().NewInstantQuery(ctx, newMemStorage(in.series), nil, expr, evalTime)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	switch v := res.Value.(type) {
	case promql.Vector:
		return v, nil
	case nil:
		return nil, errors.New("the engine returned no value")
	default:
		return nil, fmt.Errorf("the result is a %s, not an instant vector", v.Type())
	}
}

// promSamples renders a few samples of v, separated by semicolons.
func promSamples(v promql.Vector) string {
	const shown = 3
	parts := make([]string, 0, shown+1)
	for i, s := range v {
		if i == shown {
			parts = append(parts, fmt.Sprintf("and %d more", len(v)-shown))
			break
		}
		parts = append(parts, promSample(s))
	}
	return strings.Join(parts, "; ")
}

// promSample renders a sample as PromQL writes a series and its value:
// name{label="value", ...} value.
func promSample(s promql.Sample) string {
	var b strings.Builder
	b.WriteString(s.Metric.Get(labels.MetricName))
	b.WriteByte('{')
	first := true
	s.Metric.Range(func(l labels.Label) {
		if l.Name == labels.MetricName {
			return
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.WriteString(promLabel(l))
	})
	b.WriteString("} ")
	if s.H != nil {
		b.WriteString(s.H.String())
	} else {
		b.WriteString(promValue(s.F))
	}
	return b.String()
}

func promLabel(l labels.Label) string {
	return l.Name + "=" + strconv.Quote(l.Value)
}

func promValue(f float64) string {
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// memStorage is a read-only storage of a handful of series held in memory,
// enough for the engine to evaluate a query on. It does not pull in the
// TSDB's test helpers.
type memStorage []*storage.SeriesEntry

// newMemStorage gives each series a sample every sampleStep over the
// sampledSpan up to evalTime, sorted by labels as storage returns them.
func newMemStorage(series []fixedSeries) memStorage {
	end := evalTime.UnixMilli()
	start := evalTime.Add(-sampledSpan).UnixMilli()
	step := sampleStep.Milliseconds()
	m := make(memStorage, 0, len(series))
	for _, s := range series {
		var samples []chunks.Sample
		for t := start; t <= end; t += step {
			samples = append(samples, floatSample{t: t, f: s.value})
		}
		m = append(m, storage.NewListSeries(s.lset, samples))
	}
	slices.SortFunc(m, func(a, b *storage.SeriesEntry) int { return labels.Compare(a.Lset, b.Lset) })
	return m
}

// Querier implements storage.Queryable.
func (m memStorage) Querier(mint, maxt int64) (storage.Querier, error) {
	return memQuerier{series: m, mint: mint, maxt: maxt}, nil
}

// memQuerier queries a memStorage over [mint, maxt].
type memQuerier struct {
	series     memStorage
	mint, maxt int64
}

func (q memQuerier) Select(_ context.Context, _ bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	var out []storage.Series
	for _, s := range q.matching(ms) {
		out = append(out, windowedSeries(s, q.mint, q.maxt))
	}
	return &listSeriesSet{series: out, i: -1}
}

func (q memQuerier) LabelValues(_ context.Context, name string, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	var values []string
	for _, s := range q.matching(ms) {
		if v := s.Lset.Get(name); v != "" {
			values = append(values, v)
		}
	}
	slices.Sort(values)
	return slices.Compact(values), nil, nil
}

func (q memQuerier) LabelNames(_ context.Context, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	var names []string
	for _, s := range q.matching(ms) {
		s.Lset.Range(func(l labels.Label) { names = append(names, l.Name) })
	}
	slices.Sort(names)
	return slices.Compact(names), nil, nil
}

func (memQuerier) Close() error { return nil }

// matching returns the series all of whose labels satisfy ms.
func (q memQuerier) matching(ms []*labels.Matcher) []*storage.SeriesEntry {
	var out []*storage.SeriesEntry
	for _, s := range q.series {
		if matchesAllMatchers(s.Lset, ms) {
			out = append(out, s)
		}
	}
	return out
}

func matchesAllMatchers(lset labels.Labels, ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches(lset.Get(m.Name)) {
			return false
		}
	}
	return true
}

// windowedSeries returns s with only its samples in [mint, maxt].
func windowedSeries(s *storage.SeriesEntry, mint, maxt int64) storage.Series {
	var kept []chunks.Sample
	it := s.Iterator(nil)
	for vt := it.Seek(mint); vt == chunkenc.ValFloat; vt = it.Next() {
		t, f := it.At()
		if t > maxt {
			break
		}
		kept = append(kept, floatSample{t: t, f: f})
	}
	return storage.NewListSeries(s.Lset, kept)
}

// listSeriesSet iterates over a slice of series.
type listSeriesSet struct {
	series []storage.Series
	i      int
}

func (s *listSeriesSet) Next() bool {
	s.i++
	return s.i < len(s.series)
}

func (s *listSeriesSet) At() storage.Series              { return s.series[s.i] }
func (*listSeriesSet) Err() error                        { return nil }
func (*listSeriesSet) Warnings() annotations.Annotations { return nil }

// floatSample is a float sample, the only kind the inputs hold.
type floatSample struct {
	t int64
	f float64
}

func (s floatSample) T() int64                    { return s.t }
func (floatSample) ST() int64                     { return 0 }
func (s floatSample) F() float64                  { return s.f }
func (floatSample) H() *histogram.Histogram       { return nil }
func (floatSample) FH() *histogram.FloatHistogram { return nil }
func (floatSample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s floatSample) Copy() chunks.Sample         { return s }
