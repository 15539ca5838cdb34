// Package diagnose is the `dojo diagnose` command.
package diagnose

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/diagnose"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/ui"
	"github.com/kubedojo/dojo/internal/workshop"
)

// Options are the arguments and flags of `dojo diagnose`.
type Options struct {
	Namespace, Name string
	JSON            bool
	Explain         bool

	IO *ui.IOStreams
	// Kube is the cluster (called only when an HPA is read).
	Kube func() (kubernetes.Interface, error)
	// Conversion measures the division on this CPU (--explain).
	Conversion func() diagnose.Conversion
}

// NewCmd builds `dojo diagnose [hpa NAME]`.
func NewCmd(f *factory.Factory) *cobra.Command {
	opts := &Options{Namespace: workshop.AppNamespace, Name: workshop.ConsumerRelease}
	cmd := &cobra.Command{
		Use:   "diagnose [hpa NAME]",
		Short: "Explain an HPA's numbers and conditions, such as -9223372036854775808m",
		Long: `Read an HorizontalPodAutoscaler (the workshop's consumer unless named) as
the cluster holds it, through autoscaling/v2 and the autoscaling/v1 view,
with its target's replicas, the nodes' architecture and the server's
version, and explain it: a value no measurement gives (the
-9223372036854775808m of a target at zero replicas, or what an arm64 node
writes instead) with the line of Kubernetes at your cluster's release that
computes it, and every condition that stops, limits or holds scaling, with
what to do.

--explain needs no cluster: it runs the controller's division by zero
replicas on this machine's CPU and shows what the other architecture gives.`,
		Example: `  dojo diagnose
  dojo diagnose hpa consumer -n default
  dojo diagnose --json
  dojo diagnose --explain`,
		Args: func(_ *cobra.Command, args []string) error {
			name, err := parseArgs(args)
			if err != nil {
				return err
			}
			if name != "" {
				opts.Name = name
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO = f.IO
			opts.Kube = func() (kubernetes.Interface, error) {
				a, err := f.Access()
				if err != nil {
					return nil, err
				}
				return a.Clientset()
			}
			opts.Conversion = diagnose.NewConversion
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Namespace, "namespace", "n", opts.Namespace, "namespace of the HPA")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the report as JSON")
	cmd.Flags().BoolVar(&opts.Explain, "explain", false, "run the controller's division by zero replicas on this CPU (no cluster needed)")
	f.AddClusterFlags(cmd.Flags())
	return cmd
}

// parseArgs takes "", "hpa", "hpa NAME" or "hpa/NAME".
func parseArgs(args []string) (string, error) {
	usage := "dojo diagnose explains an HPA: `dojo diagnose` (the consumer's), `dojo diagnose hpa NAME` or `dojo diagnose hpa/NAME`"
	kind := func(k string) bool {
		switch strings.ToLower(k) {
		case "hpa", "hpas", "horizontalpodautoscaler", "horizontalpodautoscalers":
			return true
		}
		return false
	}
	switch len(args) {
	case 0:
		return "", nil
	case 1:
		if k, name, ok := strings.Cut(args[0], "/"); ok && kind(k) && name != "" {
			return name, nil
		}
		if kind(args[0]) {
			return "", nil
		}
		return "", cmdutil.Usagef("%q is not an HPA reference: %s", args[0], usage)
	case 2:
		if !kind(args[0]) {
			return "", cmdutil.Usagef("%q is not a kind dojo diagnoses: %s", args[0], usage)
		}
		return args[1], nil
	}
	return "", cmdutil.Usagef("dojo diagnose takes at most two arguments, got %d: %s", len(args), usage)
}

// Run reads and explains the HPA, or measures the conversion.
func Run(ctx context.Context, opts *Options) error {
	if opts.Explain {
		c := opts.Conversion()
		if opts.JSON {
			return cmdutil.WriteJSON(opts.IO.Out, c)
		}
		diagnose.TextConversion(opts.IO.Out, opts.IO.Styles(), opts.IO.Width(), c)
		return nil
	}
	cs, err := opts.Kube()
	if err != nil {
		return err
	}
	facts, err := diagnose.Read(ctx, cs, opts.Namespace, opts.Name)
	var nf *diagnose.NotFoundError
	if errors.As(err, &nf) {
		next := "kubectl get hpa -A lists the HPAs"
		if opts.Namespace == workshop.AppNamespace && opts.Name == workshop.ConsumerRelease {
			next = "the consumer's HPA comes with step 9: dojo step 9, then dojo check step-9"
		}
		return fmt.Errorf("%w: %s", err, next)
	}
	if err != nil {
		return err
	}
	r := diagnose.Explain(facts)
	if opts.JSON {
		return diagnose.JSON(opts.IO.Out, r)
	}
	diagnose.Text(opts.IO.Out, opts.IO.Styles(), opts.IO.Width(), r)
	return nil
}
