package steps_test

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"sigs.k8s.io/yaml"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/steps"
	"github.com/kubedojo/dojo/internal/versions"
)

// maxCodeWidth is the widest line a fenced code block may hold: the blocks
// are printed in a terminal, and a wrapped diagram or command is unreadable.
const maxCodeWidth = 80

func loadCatalog(t *testing.T) *steps.Catalog {
	t.Helper()
	c, err := steps.Load(embedded.FS())
	if err != nil {
		t.Fatalf("loading the embedded steps: %v", err)
	}
	return c
}

// stepText is every piece of text a learner can see for a step.
func stepText(s *steps.Step) string {
	var b strings.Builder
	b.WriteString(s.Title + "\n" + s.Goal + "\n" + s.Body + "\n")
	for _, h := range s.Hints {
		b.WriteString(h + "\n")
	}
	for _, f := range s.Solution {
		b.WriteString(f.Path + " " + f.Note + "\n")
	}
	for _, c := range s.Checks {
		b.WriteString(c.Text + "\n")
	}
	return b.String()
}

// codeBlock is one fenced code block of a Markdown text.
type codeBlock struct {
	info  string   // the word after the opening fence: bash, text, yaml…
	lines []string // the content, without the fence's own indentation
}

// codeBlocks returns the fenced (```) code blocks of md. A block opened and
// never closed is returned too, so that the caller can see it.
func codeBlocks(md string) []codeBlock {
	var (
		blocks []codeBlock
		cur    *codeBlock
		indent string
	)
	for _, line := range strings.Split(md, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if cur == nil {
			if rest, ok := strings.CutPrefix(trimmed, "```"); ok {
				cur = &codeBlock{info: strings.TrimSpace(rest)}
				indent = line[:len(line)-len(trimmed)]
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") && strings.TrimSpace(strings.TrimLeft(trimmed, "`")) == "" {
			blocks = append(blocks, *cur)
			cur = nil
			continue
		}
		cur.lines = append(cur.lines, strings.TrimPrefix(line, indent))
	}
	if cur != nil {
		cur.info += " (unclosed)"
		blocks = append(blocks, *cur)
	}
	return blocks
}

func TestCatalogHasElevenSteps(t *testing.T) {
	c := loadCatalog(t)
	if c.Len() != steps.CleanupNumber {
		t.Fatalf("catalog has %d steps, want %d (steps 1-%d and cleanup)", c.Len(), steps.CleanupNumber, steps.LastStep)
	}
	for i, s := range c.Steps() {
		wantID := "cleanup"
		if i+1 <= steps.LastStep {
			wantID = "step-" + itoa(i+1)
		}
		if s.Number != i+1 || s.ID != wantID {
			t.Errorf("position %d: step %d with id %q, want %d %q", i+1, s.Number, s.ID, i+1, wantID)
		}
		got, err := c.Get(s.ID)
		if err != nil || got != s {
			t.Errorf("Get(%q) = %v, %v; want step %d", s.ID, got, err, s.Number)
		}
	}
}

func TestStepFilesAreNamedAfterTheirNumber(t *testing.T) {
	names, err := fs.Glob(embedded.FS(), "steps/*.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]string{}
	for _, name := range names {
		data, err := fs.ReadFile(embedded.FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		s, err := steps.Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		prefix := path.Base(name)[:3]
		if want := twoDigits(s.Number) + "-"; prefix != want {
			t.Errorf("%s holds step %d: its name should start with %q", name, s.Number, want)
		}
		if other, dup := seen[s.Number]; dup {
			t.Errorf("%s and %s both hold step %d", other, name, s.Number)
		}
		seen[s.Number] = name
	}
}

func TestHints(t *testing.T) {
	for _, s := range loadCatalog(t).Steps() {
		switch {
		case s.Number >= 5 && s.Number <= steps.LastStep:
			if len(s.Hints) != 3 {
				t.Errorf("%s has %d hints, want exactly 3 (a nudge, a pointer, nearly the answer)", s.ID, len(s.Hints))
			}
		default:
			if len(s.Hints) > 2 {
				t.Errorf("%s has %d hints, want at most 2", s.ID, len(s.Hints))
			}
		}
		for i, h := range s.Hints {
			if strings.TrimSpace(h) == "" {
				t.Errorf("%s: hint %d is empty", s.ID, i+1)
			}
		}
	}
}

var kebab = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func TestGoalsAndChecks(t *testing.T) {
	for _, s := range loadCatalog(t).Steps() {
		if len(s.Goal) < 20 {
			t.Errorf("%s: goal %q is too short to tell the learner where the step ends", s.ID, s.Goal)
		}
		if len(s.Checks) == 0 {
			t.Errorf("%s has no checks", s.ID)
		}
		ids := map[string]bool{}
		for _, c := range s.Checks {
			if !kebab.MatchString(c.ID) {
				t.Errorf("%s: check id %q is not kebab-case", s.ID, c.ID)
			}
			if ids[c.ID] {
				t.Errorf("%s: check id %q appears twice", s.ID, c.ID)
			}
			ids[c.ID] = true
			text := strings.TrimSpace(c.Text)
			if !strings.HasSuffix(text, ".") || strings.Contains(strings.TrimSuffix(text, "."), ". ") {
				t.Errorf("%s: check %s should be exactly one sentence: %q", s.ID, c.ID, text)
			}
		}
		if strings.HasPrefix(strings.TrimSpace(s.Body), "# ") {
			t.Errorf("%s: the body starts with an H1; the renderer adds the title itself", s.ID)
		}
	}
}

func TestStepsPointToTheDojoCommands(t *testing.T) {
	for _, s := range loadCatalog(t).Steps() {
		if s.Number < 5 || s.Number > steps.LastStep {
			continue
		}
		for _, cmd := range []string{"dojo check ", "dojo hint ", "dojo solve "} {
			if !strings.Contains(s.Body, cmd+s.ID) {
				t.Errorf("%s: the body does not mention %q", s.ID, cmd+s.ID)
			}
		}
	}
}

// TestStepsSuggestWatchAndLoad: where autoscaling is to be seen (steps 9
// and 10), the text offers dojo watch and dojo load.
func TestStepsSuggestWatchAndLoad(t *testing.T) {
	for _, s := range loadCatalog(t).Steps() {
		if s.Number != 9 && s.Number != 10 {
			continue
		}
		for _, cmd := range []string{"dojo watch", "dojo load burst"} {
			if !strings.Contains(s.Body, cmd) {
				t.Errorf("%s does not suggest %q", s.ID, cmd)
			}
		}
	}
}

func TestSolutionFilesExist(t *testing.T) {
	fsys := embedded.FS()
	named := map[string]bool{}
	for _, s := range loadCatalog(t).Steps() {
		if s.Number >= 5 && s.Number <= steps.LastStep && len(s.Solution) == 0 {
			t.Errorf("%s has no reference solution", s.ID)
		}
		for _, f := range s.Solution {
			p := steps.SolutionPath(s, f)
			named[p] = true
			if _, err := fs.Stat(fsys, p); err != nil {
				t.Errorf("%s names the solution file %s, but %s is not embedded", s.ID, f.Path, p)
			}
			if strings.TrimSpace(f.Note) == "" {
				t.Errorf("%s: solution file %s has no note", s.ID, f.Path)
			}
			// The reference lands in the learner's workspace: its directory
			// must be one the workspace has.
			if _, err := fs.Stat(fsys, path.Join("workspace", path.Dir(f.Path))); err != nil {
				t.Errorf("%s: solution file %s goes to a directory the workspace does not have", s.ID, f.Path)
			}
		}
	}
	err := fs.WalkDir(fsys, "solutions", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !named[p] {
			t.Errorf("%s is embedded but no step names it in its solution list", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestArchitectureDiagrams(t *testing.T) {
	c := loadCatalog(t)
	want := map[string][]string{
		"step-3": {"you", "producer", "padok", "consumer", "POST /publish"},
		"step-4": {"you", "producer", "padok", "consumer", "exporter", "Prometheus", "adapter", "HPA", "API server", "POST /publish/20"},
	}
	for id, words := range want {
		s, err := c.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		var diagram *codeBlock
		for _, b := range codeBlocks(s.Body) {
			if b.info == "text" && len(b.lines) >= 10 {
				diagram = &b
				break
			}
		}
		if diagram == nil {
			t.Errorf("%s has no diagram (a ```text block of at least 10 lines)", id)
			continue
		}
		joined := strings.Join(diagram.lines, "\n")
		for _, w := range words {
			if !strings.Contains(joined, w) {
				t.Errorf("%s: the diagram does not show %q", id, w)
			}
		}
	}
}

func TestCodeBlocksFitTheTerminal(t *testing.T) {
	for _, s := range loadCatalog(t).Steps() {
		sources := map[string]string{"body": s.Body}
		for i, h := range s.Hints {
			sources["hint "+itoa(i+1)] = h
		}
		for where, md := range sources {
			for _, b := range codeBlocks(md) {
				if strings.HasSuffix(b.info, "(unclosed)") {
					t.Errorf("%s, %s: a code block is never closed", s.ID, where)
				}
				for _, line := range b.lines {
					if n := utf8.RuneCountInString(line); n > maxCodeWidth {
						t.Errorf("%s, %s: code line of %d columns (max %d):\n%s", s.ID, where, n, maxCodeWidth, line)
					}
					if strings.Contains(line, "\t") {
						t.Errorf("%s, %s: code line holds a tab: %q", s.ID, where, line)
					}
				}
			}
		}
	}
}

// helmInstall is one `helm upgrade --install` command found in a step.
type helmInstall struct {
	release, chart, version, namespace, context string
	values                                      []string
}

// helmInstalls finds the helm install commands in the bash blocks of md,
// joining lines continued with a backslash.
func helmInstalls(md string) []helmInstall {
	var out []helmInstall
	for _, b := range codeBlocks(md) {
		if b.info != "bash" {
			continue
		}
		joined := strings.ReplaceAll(strings.Join(b.lines, "\n"), "\\\n", " ")
		for _, line := range strings.Split(joined, "\n") {
			fields := strings.Fields(line)
			if len(fields) < 3 || fields[0] != "helm" || (fields[1] != "install" && fields[1] != "upgrade") {
				continue
			}
			var h helmInstall
			var args []string
			for i := 1; i < len(fields); i++ {
				f := fields[i]
				next := func() string {
					if i+1 < len(fields) {
						i++
						return fields[i]
					}
					return ""
				}
				switch f {
				case "--version":
					h.version = next()
				case "--namespace", "-n":
					h.namespace = next()
				case "--kube-context":
					h.context = next()
				case "-f", "--values":
					h.values = append(h.values, next())
				default:
					if !strings.HasPrefix(f, "-") {
						args = append(args, f)
					}
				}
			}
			// args: upgrade|install, release, chart
			if len(args) >= 3 {
				h.release, h.chart = args[1], args[2]
			}
			out = append(out, h)
		}
	}
	return out
}

func TestHelmCommandsUseThePins(t *testing.T) {
	fsys := embedded.FS()
	pins := map[string]versions.Chart{}
	installed := map[string]bool{}
	for _, ch := range versions.UpstreamCharts() {
		pins[ch.RepoName+"/"+ch.Name] = ch
	}
	for _, s := range loadCatalog(t).Steps() {
		md := s.Body + "\n" + strings.Join(s.Hints, "\n")
		for _, h := range helmInstalls(md) {
			pin, ok := pins[h.chart]
			if !ok {
				t.Errorf("%s: helm installs %q, which is not a pinned chart", s.ID, h.chart)
				continue
			}
			installed[pin.Name] = true
			if h.release != pin.Release || h.version != pin.Version || h.namespace != pin.Namespace {
				t.Errorf("%s: helm installs %s as release %q version %q in namespace %q; the pins say %q %q %q",
					s.ID, h.chart, h.release, h.version, h.namespace, pin.Release, pin.Version, pin.Namespace)
			}
			if h.context != "kind-dojo" {
				t.Errorf("%s: the helm command for %s does not pass --kube-context kind-dojo", s.ID, h.chart)
			}
			if len(h.values) != 1 {
				t.Errorf("%s: the helm command for %s should pass one -f values/<file>.yaml, got %v", s.ID, h.chart, h.values)
			}
			for _, v := range h.values {
				if _, err := fs.Stat(fsys, path.Join("workspace", v)); err != nil || !strings.HasPrefix(v, "values/") {
					t.Errorf("%s: the helm command for %s reads %s, which the workspace does not provide", s.ID, h.chart, v)
				}
			}
		}
		// `helm repo add` must point to the pinned repository.
		for _, b := range codeBlocks(md) {
			joined := strings.ReplaceAll(strings.Join(b.lines, "\n"), "\\\n", " ")
			for _, line := range strings.Split(joined, "\n") {
				f := strings.Fields(line)
				if len(f) >= 5 && f[0] == "helm" && f[1] == "repo" && f[2] == "add" {
					ok := false
					for _, ch := range versions.UpstreamCharts() {
						ok = ok || (ch.RepoName == f[3] && ch.Repo == f[4])
					}
					if !ok {
						t.Errorf("%s: helm repo add %s %s matches no pinned repository", s.ID, f[3], f[4])
					}
				}
			}
		}
	}
	for _, ch := range versions.UpstreamCharts() {
		if ch.Name == versions.Traefik.Name {
			continue // dojo up installs it, not the learner
		}
		if !installed[ch.Name] {
			t.Errorf("no step tells the learner how to install %s", ch.Name)
		}
	}
}

func TestStepsQuoteThePinnedVersions(t *testing.T) {
	c := loadCatalog(t)
	want := map[string]versions.Chart{
		"step-5": versions.KubePrometheusStack,
		"step-6": versions.RedisExporter,
		"step-8": versions.PrometheusAdapter,
	}
	for id, pin := range want {
		s, err := c.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		text := stepText(s)
		for _, w := range []string{pin.Version, pin.Release, pin.Namespace, pin.Name} {
			if !strings.Contains(text, w) {
				t.Errorf("%s does not mention %q (chart %s)", id, w, pin.Name)
			}
		}
	}
	// Wherever a chart is named next to a version, it is the pinned one.
	for _, s := range c.Steps() {
		text := stepText(s)
		for _, pin := range versions.UpstreamCharts() {
			re := regexp.MustCompile(regexp.QuoteMeta(pin.Name) + `,? (?:chart )?(?:version )?v?(\d+\.\d+\.\d+)`)
			for _, m := range re.FindAllStringSubmatch(text, -1) {
				if m[1] != pin.Version {
					t.Errorf("%s names %s %s, but the pin is %s", s.ID, pin.Name, m[1], pin.Version)
				}
			}
		}
	}
}

func TestWorkspaceCharts(t *testing.T) {
	fsys := embedded.FS()
	for _, name := range []string{"redis", "producer", "consumer"} {
		dir := path.Join("workspace/charts", name)
		for _, f := range []string{"Chart.yaml", "values.yaml", "templates/_helpers.tpl", ".helmignore"} {
			if _, err := fs.Stat(fsys, path.Join(dir, f)); err != nil {
				t.Errorf("chart %s lacks %s (is the embed pattern still prefixed with all:?)", name, f)
			}
		}
		ignore, err := fs.ReadFile(fsys, path.Join(dir, ".helmignore"))
		if err == nil && !strings.Contains("\n"+string(ignore)+"\n", "\n*.bak\n") {
			t.Errorf("chart %s: .helmignore does not ignore *.bak, so dojo's backups would be rendered", name)
		}
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Name       string `json:"name"`
			Version    string `json:"version"`
			AppVersion string `json:"appVersion"`
		}
		data, err := fs.ReadFile(fsys, path.Join(dir, "Chart.yaml"))
		if err == nil {
			if err := yaml.Unmarshal(data, &meta); err != nil {
				t.Errorf("chart %s: Chart.yaml: %v", name, err)
			}
		}
		if meta.APIVersion != "v2" || meta.Name != name || meta.Version != "0.1.0" || meta.AppVersion != "dev" {
			t.Errorf("chart %s: Chart.yaml says %+v", name, meta)
		}
	}
	for _, f := range []string{"README.md", "values/prometheus.yaml", "values/prometheus-redis-exporter.yaml", "values/prometheus-adapter.yaml"} {
		if _, err := fs.Stat(fsys, path.Join("workspace", f)); err != nil {
			t.Errorf("the workspace lacks %s", f)
		}
	}
}

// The starter values files give directions, not answers.
func TestStarterValuesAreEmpty(t *testing.T) {
	for _, f := range []string{"prometheus.yaml", "prometheus-redis-exporter.yaml", "prometheus-adapter.yaml"} {
		data, err := fs.ReadFile(embedded.FS(), "workspace/values/"+f)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := yaml.Unmarshal(data, &v); err != nil {
			t.Errorf("values/%s: %v", f, err)
		}
		if len(v) != 0 {
			t.Errorf("values/%s sets %v: the starter file should hold no answers", f, v)
		}
		if !strings.Contains(string(data), "Step ") {
			t.Errorf("values/%s does not say which step it belongs to", f)
		}
	}
}

// The reference values files say what the facts say. Their key names were
// checked against the pinned charts' values.yaml and templates.
func TestSolutionValues(t *testing.T) {
	read := func(p string) map[string]any {
		t.Helper()
		data, err := fs.ReadFile(embedded.FS(), p)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := yaml.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		return v
	}
	check := func(file string, v map[string]any, keyPath string, want any) {
		t.Helper()
		got := dig(v, keyPath)
		if !equalYAML(got, want) {
			t.Errorf("%s: %s = %#v, want %#v", file, keyPath, got, want)
		}
	}

	p5 := "solutions/step-5/values/prometheus.yaml"
	v5 := read(p5)
	check(p5, v5, "prometheus.prometheusSpec.scrapeInterval", "5s")
	check(p5, v5, "prometheus.prometheusSpec.ruleSelectorNilUsesHelmValues", false)
	check(p5, v5, "prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValues", false)
	check(p5, v5, "prometheus.prometheusSpec.podMonitorSelectorNilUsesHelmValues", false)
	check(p5, v5, "prometheus.prometheusSpec.probeSelectorNilUsesHelmValues", false)
	check(p5, v5, "prometheus.ingress.enabled", true)
	check(p5, v5, "prometheus.ingress.ingressClassName", "traefik")
	check(p5, v5, "prometheus.ingress.hosts", []any{"prometheus.vcap.me"})
	check(p5, v5, "prometheus.ingress.paths", []any{"/"})
	check(p5, v5, "prometheus.ingress.pathType", "Prefix")

	p6 := "solutions/step-6/values/prometheus-redis-exporter.yaml"
	v6 := read(p6)
	check(p6, v6, "serviceMonitor.enabled", true)
	check(p6, v6, "redisAddress", "redis://redis-master.default:6379")
	check(p6, v6, "env", []any{map[string]any{"name": "REDIS_EXPORTER_CHECK_SINGLE_KEYS", "value": "padok"}})

	p8 := "solutions/step-8/values/prometheus-adapter.yaml"
	v8 := read(p8)
	check(p8, v8, "prometheus.url", "http://prometheus-kube-prometheus-prometheus.prometheus.svc")
	check(p8, v8, "prometheus.port", float64(9090))
	check(p8, v8, "rules.default", false)
	custom, _ := dig(v8, "rules.custom").([]any)
	if len(custom) != 1 {
		t.Fatalf("%s: rules.custom has %d rules, want 1", p8, len(custom))
	}
	rule, _ := custom[0].(map[string]any)
	check(p8, rule, "seriesQuery", `{__name__=~"^redis_.*"}`)
	check(p8, rule, "metricsQuery", "<<.Series>>{<<.LabelMatchers>>}")
	check(p8, rule, "resources.overrides.namespace.resource", "namespace")
	check(p8, rule, "resources.overrides.service.resource", "service")
}

// dig follows a dotted path through nested maps.
func dig(v any, keyPath string) any {
	for _, k := range strings.Split(keyPath, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func equalYAML(a, b any) bool {
	ja, err1 := yaml.Marshal(a)
	jb, err2 := yaml.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

func itoa(n int) string { return strconv.Itoa(n) }

func twoDigits(n int) string { return fmt.Sprintf("%02d", n) }
