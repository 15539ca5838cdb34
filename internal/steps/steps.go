// Package steps is the workshop catalog: the embedded step files parsed into
// data, and the parser for the step arguments learners type.
package steps

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// CleanupNumber is the number the cleanup step sorts under.
const CleanupNumber = 11

// Step is one step of the workshop.
type Step struct {
	Number   int            `json:"number"`
	ID       string         `json:"id"`
	Title    string         `json:"title"`
	Goal     string         `json:"goal"`
	Hints    []string       `json:"-"`
	Solution []SolutionFile `json:"solution,omitempty"`
	Checks   []Criterion    `json:"checks,omitempty"`
	// Body is the Markdown after the front matter: context and tasks.
	Body string `json:"-"`
}

// SolutionFile is one file of the reference solution, relative to the
// workspace. Its reference content is embedded under solutions/<id>/<path>.
type SolutionFile struct {
	Path string `json:"path"`
	Note string `json:"note,omitempty"`
}

// Criterion is one thing `dojo check` verifies for a step.
type Criterion struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

type frontMatter struct {
	Number   int            `json:"number"`
	Title    string         `json:"title"`
	Goal     string         `json:"goal"`
	Hints    []string       `json:"hints"`
	Solution []SolutionFile `json:"solution"`
	Checks   []Criterion    `json:"checks"`
}

// Catalog holds every step, in order.
type Catalog struct {
	steps []*Step
}

// Load reads every steps/*.md file of fsys.
func Load(fsys fs.FS) (*Catalog, error) {
	names, err := fs.Glob(fsys, "steps/*.md")
	if err != nil {
		return nil, err
	}
	c := &Catalog{}
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		s, err := Parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		c.steps = append(c.steps, s)
	}
	sort.Slice(c.steps, func(i, j int) bool { return c.steps[i].Number < c.steps[j].Number })
	for i, s := range c.steps {
		if s.Number != i+1 {
			return nil, fmt.Errorf("steps are not numbered 1..%d: found %d at position %d", len(c.steps), s.Number, i+1)
		}
	}
	return c, nil
}

// Parse reads one step file: YAML front matter between two "---" lines, then
// the Markdown body.
func Parse(data []byte) (*Step, error) {
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	if !bytes.HasPrefix(data, []byte("---\n")) {
		return nil, fmt.Errorf("missing front matter: the file must start with a line \"---\"")
	}
	rest := data[4:]
	end := bytes.Index(rest, []byte("\n---\n"))
	if end < 0 {
		return nil, fmt.Errorf("front matter is not closed by a line \"---\"")
	}
	var fm frontMatter
	if err := yaml.UnmarshalStrict(rest[:end+1], &fm); err != nil {
		return nil, fmt.Errorf("front matter: %w", err)
	}
	if fm.Number < 1 || fm.Number > CleanupNumber {
		return nil, fmt.Errorf("number %d is outside 1..%d", fm.Number, CleanupNumber)
	}
	if strings.TrimSpace(fm.Title) == "" || strings.TrimSpace(fm.Goal) == "" {
		return nil, fmt.Errorf("step %d needs a title and a goal", fm.Number)
	}
	s := &Step{
		Number:   fm.Number,
		ID:       IDFor(fm.Number),
		Title:    strings.TrimSpace(fm.Title),
		Goal:     strings.TrimSpace(fm.Goal),
		Solution: fm.Solution,
		Checks:   fm.Checks,
		Body:     strings.TrimSpace(string(rest[end+5:])) + "\n",
	}
	for _, h := range fm.Hints {
		s.Hints = append(s.Hints, strings.TrimSpace(h))
	}
	for _, f := range s.Solution {
		if f.Path == "" || path.IsAbs(f.Path) || strings.Contains(f.Path, "..") {
			return nil, fmt.Errorf("step %d: solution path %q must be relative to the workspace", fm.Number, f.Path)
		}
	}
	return s, nil
}

// IDFor is the canonical id of a step number: "step-5", or "cleanup".
func IDFor(n int) string {
	if n == CleanupNumber {
		return "cleanup"
	}
	return fmt.Sprintf("step-%d", n)
}

// Steps returns every step in order.
func (c *Catalog) Steps() []*Step { return c.steps }

// Len is the number of steps, cleanup included.
func (c *Catalog) Len() int { return len(c.steps) }

// Get returns the step a learner named (see ParseRef).
func (c *Catalog) Get(arg string) (*Step, error) {
	n, err := ParseRef(arg)
	if err != nil {
		return nil, err
	}
	if n > len(c.steps) {
		return nil, &RefError{Arg: arg}
	}
	return c.steps[n-1], nil
}

// SolutionPath is where a solution file of a step is embedded.
func SolutionPath(s *Step, f SolutionFile) string {
	return path.Join("solutions", s.ID, f.Path)
}
