// Package diff is the `dojo diff` command.
package diff

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/kubedojo/dojo/internal/cli/stepargs"
	"github.com/kubedojo/dojo/internal/cluster"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/course"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/helm"
	"github.com/kubedojo/dojo/internal/solve"
	"github.com/kubedojo/dojo/internal/state"
	"github.com/kubedojo/dojo/internal/steps"
	"github.com/kubedojo/dojo/internal/ui"
	"github.com/kubedojo/dojo/internal/versions"
	"github.com/kubedojo/dojo/internal/workshop"
)

// Releases reads releases (*helm.Installer).
type Releases interface {
	Last(ctx context.Context, name, ns string) (*helm.Deployed, error)
}

// Options are the arguments of `dojo diff` and what it needs, filled from
// the factory by NewCmd (a test sets its own).
type Options struct {
	Step string

	IO        *ui.IOStreams
	Catalog   func() (*steps.Catalog, error)
	State     func() (*state.Store, error)
	Workspace func() (string, error)
	Embedded  fs.FS
	Now       func() time.Time
	// Releases reads the cluster's releases; nil or failing, only the files
	// are compared.
	Releases func() (Releases, error)
	// Dynamic reads the live objects the consumer chart makes (the
	// PrometheusRule of step 7, the HPA of steps 9 and 10).
	Dynamic func() (dynamic.Interface, error)
}

// NewCmd builds `dojo diff [STEP]`.
func NewCmd(f *factory.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "diff [STEP]",
		Short: "Compare your work on a step with the reference solution",
		Long: `Compare your workspace files of a step with its reference (a unified diff,
coloured on a terminal); for the steps that install a chart (5, 6 and 8),
the values of your release in the cluster with the reference values, field
by field, whatever their order, comments or layout; and for the steps that
add a template to the consumer chart (7, 9 and 10), the PrometheusRule or
HPA in the cluster with the object the reference template makes, ignoring
server defaults, managed fields and order. Without a step: the first step
you have not passed. Nothing is changed.`,
		Example: `  dojo diff step-5
  dojo diff 9`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return cmdutil.Usagef("dojo diff takes at most one step, got %d arguments: e.g. `dojo diff step-5`", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Step = args[0]
			}
			opts.IO, opts.Catalog, opts.State, opts.Workspace, opts.Embedded, opts.Now = f.IO, f.Catalog, f.State, f.Workspace, f.Embedded, f.Now
			opts.Releases = func() (Releases, error) {
				a, err := f.Access()
				if err != nil {
					return nil, err
				}
				return helm.New(a, helm.Options{}), nil
			}
			opts.Dynamic = func() (dynamic.Interface, error) {
				a, err := f.Access()
				if err != nil {
					return nil, err
				}
				return a.Dynamic()
			}
			return Run(cmd.Context(), opts)
		},
	}
	f.AddClusterFlags(cmd.Flags())
	stepargs.Use(cmd, stepargs.Step(f.Catalog, stepargs.HasReference))
	return cmd
}

func chosen(opts *Options) (*steps.Step, error) {
	cat, err := opts.Catalog()
	if err != nil {
		return nil, err
	}
	store, err := opts.State()
	if err != nil {
		return nil, err
	}
	st, err := store.Load()
	if err != nil {
		return nil, err
	}
	return course.ReferenceStep(cat, st, opts.Now(), opts.Step, "diff")
}

// Run prints the differences.
func Run(ctx context.Context, opts *Options) error {
	s, err := chosen(opts)
	if err != nil {
		return err
	}
	ws, err := opts.Workspace()
	if err != nil {
		return err
	}
	st := opts.IO.Styles()
	out := opts.IO.Out
	fmt.Fprintf(out, "%s %s\n", st.Heading.Render(s.ID), s.Title)

	// The cluster, for the domain and the releases' values.
	var rels Releases
	domain := workshop.Domain
	if opts.Releases != nil {
		if rels, err = opts.Releases(); err == nil {
			if prod, perr := rels.Last(ctx, workshop.ProducerRelease, workshop.AppNamespace); perr == nil && prod != nil {
				domain = workshop.DomainOf(prod.Values)
			} else {
				err = perr
				if err == nil {
					err = fmt.Errorf("no release producer: run dojo up")
				}
			}
		}
		if err != nil {
			opts.IO.Warn(fmt.Sprintf("comparing files only, for the domain %s: the cluster could not be read (%v)", domain, cluster.FirstLine(err)))
			rels = nil
		}
	}

	differences := 0
	chartFilesDiffer := false
	for _, f := range s.Solution {
		ref, err := solve.Render(opts.Embedded, s, f, domain)
		if err != nil {
			return err
		}
		yours, err := os.ReadFile(filepath.Join(ws, filepath.FromSlash(f.Path)))
		switch {
		case os.IsNotExist(err):
			fmt.Fprintf(out, "\n%s: you have no such file yet (dojo solution %s shows the reference)\n", f.Path, s.ID)
			differences++
			continue
		case err != nil:
			return fmt.Errorf("reading %s: %w", f.Path, err)
		}
		c := upstreamOf(f)
		d := solve.Unified("yours: "+f.Path, "reference: "+f.Path, yours, ref)
		switch {
		case d == "":
			fmt.Fprintf(out, "\n%s: the same as the reference\n", f.Path)
		case c != nil && sameValues(yours, ref):
			fmt.Fprintf(out, "\n%s: means the same as the reference (only comments, order or layout differ)\n", f.Path)
			d = ""
		}
		if d != "" {
			differences++
			chartFilesDiffer = chartFilesDiffer || c == nil
			fmt.Fprintf(out, "\n%s: your file against the reference\n", f.Path)
			printDiff(opts, d)
		}
		// A values file: the release's values in the cluster, by meaning.
		if c != nil && rels != nil {
			differences += releaseDiff(ctx, opts, rels, *c, ref)
		}
	}
	if rels != nil && opts.Dynamic != nil {
		differences += liveDiff(ctx, opts, rels, s, chartFilesDiffer)
	}
	fmt.Fprintln(out)
	if differences == 0 {
		fmt.Fprintln(out, "Your work matches the reference: no difference worth worrying about.")
		return nil
	}
	fmt.Fprintf(out, "Are these differences mistakes, or is your approach better or worse, and why? %s explains the reference; %s judges your work.\n",
		st.Code.Render("dojo solution "+s.ID), st.Code.Render("dojo check "+s.ID))
	return nil
}

// printDiff prints a unified diff, coloured on a terminal.
func printDiff(opts *Options, d string) {
	st := opts.IO.Styles()
	for _, line := range strings.Split(strings.TrimSuffix(d, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "+++"), strings.HasPrefix(line, "---"), strings.HasPrefix(line, "@@"):
			line = st.Muted.Render(line)
		case strings.HasPrefix(line, "+"):
			line = st.Pass.Render(line)
		case strings.HasPrefix(line, "-"):
			line = st.Fail.Render(line)
		}
		fmt.Fprintln(opts.IO.Out, line)
	}
}

// sameValues says whether two values files mean the same.
func sameValues(a, b []byte) bool {
	x, y := map[string]any{}, map[string]any{}
	if yaml.Unmarshal(a, &x) != nil || yaml.Unmarshal(b, &y) != nil {
		return false
	}
	return len(solve.ValuesDiff(x, y)) == 0
}

// upstreamOf is the pinned chart a values file feeds, nil for other files.
func upstreamOf(f steps.SolutionFile) *versions.Chart {
	name, ok := strings.CutPrefix(f.Path, "values/")
	if !ok {
		return nil
	}
	name = strings.TrimSuffix(name, ".yaml")
	for _, c := range versions.UpstreamCharts() {
		if c.Release == name {
			return &c
		}
	}
	return nil
}

// releaseDiff prints how the release's values differ from the reference's,
// field by field, and returns how many differ.
func releaseDiff(ctx context.Context, opts *Options, rels Releases, c versions.Chart, ref []byte) int {
	out := opts.IO.Out
	d, err := rels.Last(ctx, c.Release, c.Namespace)
	switch {
	case err != nil:
		opts.IO.Warn(fmt.Sprintf("could not read the release %s: %v", c.Release, cluster.FirstLine(err)))
		return 0
	case d == nil:
		fmt.Fprintf(out, "release %s: not installed in %s yet\n", c.Release, c.Namespace)
		return 1
	}
	want := map[string]any{}
	if err := yaml.Unmarshal(ref, &want); err != nil {
		return 0
	}
	diffs := solve.ValuesDiff(d.Values, want)
	if len(diffs) == 0 {
		fmt.Fprintf(out, "release %s: its values in the cluster mean the same as the reference\n", c.Release)
		return 0
	}
	fmt.Fprintf(out, "release %s: its values in the cluster (revision %d) against the reference\n", c.Release, d.Revision)
	printFields(opts, "", diffs)
	return len(diffs)
}

// liveDiff compares the objects the step's reference templates make for the
// consumer release with the live ones, and returns how many fields differ
// (a missing object counts as one).
func liveDiff(ctx context.Context, opts *Options, rels Releases, s *steps.Step, filesDiffer bool) int {
	out, st := opts.IO.Out, opts.IO.Styles()
	cons, err := rels.Last(ctx, workshop.ConsumerRelease, workshop.AppNamespace)
	if err != nil || cons == nil {
		if err == nil {
			err = fmt.Errorf("no release %s: run dojo up", workshop.ConsumerRelease)
		}
		opts.IO.Warn(fmt.Sprintf("the live objects are not compared: %v", cluster.FirstLine(err)))
		return 0
	}
	refs, err := solve.ReferenceObjects(opts.Embedded, s, cons.Values)
	if err != nil {
		opts.IO.Warn(fmt.Sprintf("the live objects are not compared: %v", err))
		return 0
	}
	if len(refs) == 0 {
		return 0
	}
	dyn, err := opts.Dynamic()
	if err != nil {
		opts.IO.Warn(fmt.Sprintf("the live objects are not compared: %v", cluster.FirstLine(err)))
		return 0
	}
	n := 0
	for _, ref := range refs {
		ld, err := solve.CompareLive(ctx, dyn, ref)
		name := fmt.Sprintf("%s %s/%s", ld.Kind, ld.Namespace, ld.Name)
		switch {
		case err != nil:
			opts.IO.Warn(fmt.Sprintf("could not compare the %s: %v", name, cluster.FirstLine(err)))
		case ld.NoAPI:
			fmt.Fprintf(out, "\n%s: the cluster does not serve %s objects yet (step 5 installs the Prometheus operator's API)\n", name, ld.Kind)
			n++
		case ld.Missing:
			fmt.Fprintf(out, "\n%s: not in the cluster: %s deploys your chart\n", name, st.Code.Render("dojo deploy "+workshop.ConsumerRelease))
			n++
		case len(ld.Diffs) == 0:
			fmt.Fprintf(out, "\n%s: in the cluster, the same as the reference (server defaults aside)\n", name)
		default:
			fmt.Fprintf(out, "\n%s: in the cluster against the reference\n", name)
			printFields(opts, "spec.", ld.Diffs)
			n += len(ld.Diffs)
			if !filesDiffer {
				fmt.Fprintf(out, "  Your files match the reference, so the cluster runs another version of your chart: %s deploys the one in your workspace.\n",
					st.Code.Render("dojo deploy "+workshop.ConsumerRelease))
			}
		}
	}
	return n
}

// printFields prints one line per differing field: yours, then the
// reference's ("unset" when absent).
func printFields(opts *Options, prefix string, diffs []solve.FieldDiff) {
	st := opts.IO.Styles()
	for _, fd := range diffs {
		yours, refv := fd.Yours, fd.Reference
		if yours == "" {
			yours = "unset"
		}
		if refv == "" {
			refv = "unset"
		}
		fmt.Fprintf(opts.IO.Out, "  %s: %s, reference %s\n", st.Bold.Render(prefix+fd.Path), st.Fail.Render(yours), st.Pass.Render(refv))
	}
}
