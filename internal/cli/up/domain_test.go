package up

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubedojo/dojo/internal/bootstrap"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/helm"
	"github.com/kubedojo/dojo/internal/state"
	"github.com/kubedojo/dojo/internal/ui"
)

// domainOpts is a dojo up whose bootstrap installs the producer with the
// domain it is given, and whose resolver knows only the names in addrs: no
// test sends a query off this machine.
func domainOpts(t *testing.T, domain string, addrs map[string][]string) (*Options, *[]string, *bytes.Buffer, *state.Store) {
	ws := t.TempDir()
	store := state.NewStore(ws, time.Now)
	var asked []string
	opts := &Options{Domain: domain, Timeout: time.Minute,
		Getenv:    func(string) string { return "" },
		Cluster:   factory.ClusterFlags{Name: "dojo"},
		Workspace: func() (string, error) { return ws, nil },
		Env:       func() bootstrap.Env { return bootstrap.Env{} },
		Up: func(_ context.Context, o bootstrap.Options, _ bootstrap.Env) (*bootstrap.Result, error) {
			return &bootstrap.Result{Domain: o.Domain, Releases: []helm.Result{{Release: "producer", Action: helm.Installed, Revision: 1}}}, nil
		},
		NextStep: func() int { return 3 },
		Resolve: func(_ context.Context, host string) ([]string, error) {
			asked = append(asked, host)
			if a, ok := addrs[host]; ok {
				return a, nil
			}
			return nil, errors.New("lookup " + host + ": no such host")
		},
		State: func() (*state.Store, error) { return store, nil },
	}
	var errOut *bytes.Buffer
	opts.IO, _, _, errOut = ui.Test(false, false)
	return opts, &asked, errOut, store
}

// dojo up warns once, in one line saying what to do, when the domain's
// names do not reach this machine, and says nothing when they do.
func TestUpWarnsWhenTheDomainDoesNotReachThisMachine(t *testing.T) {
	for name, addrs := range map[string]map[string][]string{
		"unresolved":    nil,
		"producer only": {"producer.dojo.test": {"127.0.0.1"}},
		"elsewhere":     {"producer.dojo.test": {"127.0.0.1"}, "prometheus.dojo.test": {"192.0.2.7"}},
	} {
		opts, _, errOut, _ := domainOpts(t, "dojo.test", addrs)
		if err := Run(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
		w := errOut.String()
		if strings.Count(w, "warning:") != 1 || strings.Count(w, "\n") != 1 || !strings.Contains(w, "dojo up --domain localhost") || !strings.Contains(w, ".dojo.test") {
			t.Errorf("%s: stderr %q, want one warning line naming the host and --domain localhost", name, w)
		}
	}
	opts, asked, errOut, _ := domainOpts(t, "dojo.test", map[string][]string{"producer.dojo.test": {"127.0.0.1"}, "prometheus.dojo.test": {"::1"}})
	if err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if errOut.Len() != 0 || !slices.Equal(*asked, []string{"producer.dojo.test", "prometheus.dojo.test"}) {
		t.Errorf("resolving domain: stderr %q, looked up %q", errOut, *asked)
	}
	// .localhost names reach this machine in curl and browsers, whatever
	// the resolver says: no lookup, no warning.
	opts, asked, errOut, _ = domainOpts(t, "localhost", nil)
	if err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if errOut.Len() != 0 || len(*asked) != 0 {
		t.Errorf("localhost: stderr %q, looked up %q", errOut, *asked)
	}
}

// dojo up records the domain it installed the producer with in the
// workspace's progress, where dojo step, hint and solution read it.
func TestUpRecordsTheDomain(t *testing.T) {
	opts, _, _, store := domainOpts(t, "localhost", nil)
	if err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	st, err := store.Load()
	if err != nil || st.Domain != "localhost" {
		t.Fatalf("recorded domain %q (%v), want localhost", st.Domain, err)
	}
	// A run that installed no producer records nothing.
	opts, _, _, store = domainOpts(t, "lan.test", map[string][]string{"producer.lan.test": {"127.0.0.1"}, "prometheus.lan.test": {"127.0.0.1"}})
	opts.Up = func(context.Context, bootstrap.Options, bootstrap.Env) (*bootstrap.Result, error) {
		return &bootstrap.Result{}, errors.New("cluster: boom")
	}
	if err := Run(context.Background(), opts); err == nil {
		t.Fatal("no error")
	}
	if st, err := store.Load(); err != nil || st.Domain != "" {
		t.Fatalf("recorded domain %q (%v) after a run that installed no producer", st.Domain, err)
	}
}
