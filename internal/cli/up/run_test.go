package up

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kubedojo/dojo/internal/bootstrap"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/helm"
	"github.com/kubedojo/dojo/internal/ui"
)

// Run turns the flags into bootstrap's options and prints its result; the
// test hands in a bootstrap that records what it was asked.
func TestRunHandsTheFlagsToBootstrap(t *testing.T) {
	io, _, out, errOut := ui.Test(false, false)
	var got bootstrap.Options
	var gotEnv bootstrap.Env
	opts := &Options{Domain: "localhost", Timeout: time.Minute, Timings: true,
		IO:        io,
		Getenv:    func(k string) string { return map[string]string{helm.ChartRepoEnv: "http://mirror.invalid/charts"}[k] },
		Version:   "v1.2.3",
		Cluster:   factory.ClusterFlags{Name: "other", Context: "mine"},
		Workspace: func() (string, error) { return "/ws", nil },
		Env:       func() bootstrap.Env { return bootstrap.Env{} },
		Up: func(_ context.Context, o bootstrap.Options, env bootstrap.Env) (*bootstrap.Result, error) {
			got, gotEnv = o, env
			env.Progress.Start("cluster (existing)").Done(nil)
			return &bootstrap.Result{Context: "mine", ProducerURL: "http://producer.localhost", Image: "img:1",
				Releases: []helm.Result{{Release: "redis", Action: helm.Installed, Revision: 1}}}, nil
		},
		NextStep: func() int { return 5 },
	}
	if err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if got.Name != "other" || !got.Existing || got.Domain != "localhost" || got.ChartRepo != "http://mirror.invalid/charts" ||
		got.Workspace != "/ws" || got.Version != "v1.2.3" || got.Timeout != time.Minute {
		t.Fatalf("bootstrap got %+v", got)
	}
	if gotEnv.Progress == nil {
		t.Fatal("no progress handed to bootstrap")
	}
	for _, want := range []string{"dojo is up", "(context mine)", "redis", "installed (revision 1)", "dojo step 5"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut.String(), "timings:") || !strings.Contains(errOut.String(), "cluster (existing)") {
		t.Errorf("stderr lacks the timings:\n%s", errOut)
	}

	// A failed run prints nothing on stdout and returns bootstrap's error.
	io, _, out, _ = ui.Test(false, false)
	opts.IO, opts.Timings = io, false
	boom := errors.New("traefik: boom")
	opts.Up = func(context.Context, bootstrap.Options, bootstrap.Env) (*bootstrap.Result, error) {
		return &bootstrap.Result{Releases: []helm.Result{{Release: "redis", Action: helm.Installed}}}, boom
	}
	var errOut2 *bytes.Buffer
	opts.IO, _, out, errOut2 = ui.Test(false, false)
	if err := Run(context.Background(), opts); !errors.Is(err, boom) || out.Len() != 0 {
		t.Fatalf("err %v, stdout %q", err, out)
	}
	// What did install is said before the error says what did not.
	if !strings.Contains(errOut2.String(), "up: redis installed") {
		t.Fatalf("stderr %q: want the releases that are up", errOut2)
	}
	// Without --context or --skip-cluster, dojo up creates the kind cluster.
	opts.Cluster.Context = ""
	opts.Up = func(_ context.Context, o bootstrap.Options, _ bootstrap.Env) (*bootstrap.Result, error) {
		got = o
		return &bootstrap.Result{}, nil
	}
	if err := Run(context.Background(), opts); err != nil || got.Existing {
		t.Fatalf("err %v, Existing %v: want a kind cluster", err, got.Existing)
	}
}

// --node-image reaches bootstrap; a value that is no image reference, or one
// given where dojo up creates no cluster, is a usage error naming it.
func TestRunNodeImage(t *testing.T) {
	var got bootstrap.Options
	opts := &Options{Timeout: time.Minute, NodeImage: "localhost/dojo-kind-node:v1.37.2",
		Getenv:    func(string) string { return "" },
		Cluster:   factory.ClusterFlags{Name: "dojo"},
		Workspace: func() (string, error) { return "/ws", nil },
		Env:       func() bootstrap.Env { return bootstrap.Env{} },
		Up: func(_ context.Context, o bootstrap.Options, _ bootstrap.Env) (*bootstrap.Result, error) {
			got = o
			return &bootstrap.Result{}, nil
		},
		NextStep: func() int { return 3 },
	}
	opts.IO, _, _, _ = ui.Test(false, false)
	if err := Run(context.Background(), opts); err != nil || got.NodeImage != "localhost/dojo-kind-node:v1.37.2" {
		t.Fatalf("err %v, bootstrap got node image %q", err, got.NodeImage)
	}
	wantUsageErrors(t, "--node-image", opts, &got, func(v string) { opts.NodeImage = v }, []usageCase{
		{value: "Kindest/Node::v1", want: `--node-image "Kindest/Node::v1" is not an image reference`},
		{value: "kindest/node:v1.36.4", skip: true, want: "dojo up creates none"},
		{value: "kindest/node:v1.36.4", context: "mine", want: "dojo up creates none"},
	})
}

// The cluster's ports stay on loopback unless --listen-address says
// otherwise; another address reaches bootstrap with one warning saying what
// it exposes, and a value that is no IP address (or is given where dojo up
// creates no cluster) is a usage error naming it.
func TestRunListenAddress(t *testing.T) {
	var got bootstrap.Options
	opts := &Options{Timeout: time.Minute, Listen: "127.0.0.1",
		Getenv:    func(string) string { return "" },
		Cluster:   factory.ClusterFlags{Name: "dojo"},
		Workspace: func() (string, error) { return "/ws", nil },
		Env:       func() bootstrap.Env { return bootstrap.Env{} },
		Up: func(_ context.Context, o bootstrap.Options, _ bootstrap.Env) (*bootstrap.Result, error) {
			got = o
			return &bootstrap.Result{}, nil
		},
		NextStep: func() int { return 3 },
	}
	var errOut *bytes.Buffer
	opts.IO, _, _, errOut = ui.Test(false, false)
	if err := Run(context.Background(), opts); err != nil || got.ListenAddress != "127.0.0.1" || strings.Contains(errOut.String(), "warning") {
		t.Fatalf("default: err %v, bootstrap got %q, stderr %q", err, got.ListenAddress, errOut)
	}
	opts.Listen = "0.0.0.0"
	opts.IO, _, _, errOut = ui.Test(false, false)
	if err := Run(context.Background(), opts); err != nil || got.ListenAddress != "0.0.0.0" {
		t.Fatalf("0.0.0.0: err %v, bootstrap got %q", err, got.ListenAddress)
	}
	if w := errOut.String(); strings.Count(w, "warning:") != 1 || !strings.Contains(w, "listen on 0.0.0.0") || !strings.Contains(w, "Wi-Fi") {
		t.Fatalf("0.0.0.0: stderr %q, want one warning saying who can reach the cluster", w)
	}
	wantUsageErrors(t, "--listen-address", opts, &got, func(v string) { opts.Listen = v }, []usageCase{
		{value: "localhost:80", want: `--listen-address "localhost:80" is not an IP address`},
		{value: "0.0.0.0", skip: true, want: "dojo up creates none"},
		{value: "0.0.0.0", context: "mine", want: "dojo up creates none"},
	})
}

// usageCase is a flag value dojo up must refuse before bootstrap runs.
type usageCase struct {
	value   string
	skip    bool
	context string
	want    string
}

// wantUsageErrors runs each case through set and Run: a usage error naming
// c.want, and bootstrap never called (got stays empty).
func wantUsageErrors(t *testing.T, flag string, opts *Options, got *bootstrap.Options, set func(string), cases []usageCase) {
	t.Helper()
	for _, c := range cases {
		*got = bootstrap.Options{}
		set(c.value)
		opts.SkipCluster, opts.Cluster.Context = c.skip, c.context
		err := Run(context.Background(), opts)
		var usage *cmdutil.UsageError
		if !errors.As(err, &usage) || !strings.Contains(err.Error(), c.want) || got.Name != "" {
			t.Errorf("%s %q (skip %v, context %q): err %v, bootstrap ran: %v; want a usage error with %q", flag, c.value, c.skip, c.context, err, got.Name != "", c.want)
		}
	}
}
