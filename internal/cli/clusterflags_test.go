package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kubedojo/dojo/internal/cluster"
	"github.com/kubedojo/dojo/internal/factory/factorytest"
)

// apiServer stands in for a cluster's API server: it records the paths it
// was asked for and answers nothing useful (/readyz says not ready, the rest
// 404), so a command that reached it fails after the first request.
type apiServer struct {
	*httptest.Server
	mu    sync.Mutex
	paths []string
}

func newAPIServer(t *testing.T) *apiServer {
	s := &apiServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.paths = append(s.paths, r.URL.Path)
		s.mu.Unlock()
		if r.URL.Path == "/readyz" {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *apiServer) asked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.paths...)
}

// kubeconfig writes a kubeconfig whose contexts each point at their server.
func kubeconfig(t *testing.T, current string, contexts map[string]*apiServer) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Config\nusers:\n- {name: u, user: {token: t}}\nclusters:\n")
	for name, s := range contexts {
		fmt.Fprintf(&b, "- {name: %s, cluster: {server: %q}}\n", name, s.URL)
	}
	b.WriteString("contexts:\n")
	for name := range contexts {
		fmt.Fprintf(&b, "- {name: %s, context: {cluster: %s, user: u}}\n", name, name)
	}
	fmt.Fprintf(&b, "current-context: %s\n", current)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Every command that talks to a cluster's API resolves --kubeconfig,
// $KUBECONFIG, --context and --name the same way: the context is --context,
// else kind-<name>, never the kubeconfig's current-context.
func TestClusterFlagsMeanTheSameInEveryCommand(t *testing.T) {
	commands := map[string][]string{
		"up":     {"up", "--skip-cluster", "--timeout", "1s"},
		"deploy": {"deploy", "producer", "--timeout", "3s"},
	}
	for name, args := range commands {
		t.Run(name, func(t *testing.T) {
			kindDojo, kindOther, mine, current := newAPIServer(t), newAPIServer(t), newAPIServer(t), newAPIServer(t)
			path := kubeconfig(t, "current", map[string]*apiServer{
				"kind-dojo": kindDojo, "kind-other": kindOther, "mine": mine, "current": current})
			cases := []struct {
				how   string
				env   map[string]string
				flags []string
				want  *apiServer
			}{
				{"--kubeconfig and --context", nil, []string{"--kubeconfig", path, "--context", "mine"}, mine},
				{"$KUBECONFIG, kind-<default name>", map[string]string{"KUBECONFIG": path}, nil, kindDojo},
				{"$KUBECONFIG and --name", map[string]string{"KUBECONFIG": path}, []string{"--name", "other"}, kindOther},
				{"--kubeconfig over $KUBECONFIG", map[string]string{"KUBECONFIG": "/nonexistent"}, []string{"--kubeconfig", path}, kindDojo},
			}
			for _, c := range cases {
				before := map[*apiServer]int{}
				for _, s := range []*apiServer{kindDojo, kindOther, mine, current} {
					before[s] = len(s.asked())
				}
				env := map[string]string{"DOJO_WORKSPACE": filepath.Join(t.TempDir(), "ws")}
				for k, v := range c.env {
					env[k] = v
				}
				f, _ := factorytest.New(t, factorytest.Options{Env: env})
				if name == "deploy" {
					// deploy upgrades from the workspace chart.
					if code := Run(context.Background(), f, []string{"init"}); code != 0 {
						t.Fatal("init failed")
					}
					f, _ = factorytest.New(t, factorytest.Options{Env: env})
				}
				Run(context.Background(), f, append(append([]string{}, args...), c.flags...))
				for _, s := range []*apiServer{kindDojo, kindOther, mine, current} {
					asked := len(s.asked()) > before[s]
					if s == c.want && !asked {
						t.Errorf("%s: the server of the expected context was never asked", c.how)
					}
					if s != c.want && asked {
						t.Errorf("%s: another context's server was asked: %v", c.how, s.asked()[before[s]:])
					}
				}
			}
			// A context the kubeconfig lacks is named in one error line.
			f, st := factorytest.New(t, factorytest.Options{Env: map[string]string{"DOJO_WORKSPACE": filepath.Join(t.TempDir(), "ws")}})
			code := Run(context.Background(), f, append(append([]string{}, args...), "--kubeconfig", path, "--context", "absent"))
			if msg := st.ErrOut.String(); code != 1 || !strings.Contains(msg, "kubeconfig "+path+` has no context "absent"`) ||
				!strings.Contains(msg, "it has: current, kind-dojo, kind-other, mine") || !strings.Contains(msg, "--context") {
				t.Fatalf("--context absent: exit %d, stderr %q", code, st.ErrOut.String())
			}
		})
	}
}

// teardown deletes the kind cluster of --name, hands kind the kubeconfig
// --kubeconfig names (else none: kind's own $KUBECONFIG rule), and refuses a
// --context that is not that cluster's.
func TestTeardownHonoursTheClusterFlags(t *testing.T) {
	p := cluster.NewStandIn()
	p.Add("dojo", nil)
	p.Add("other", nil)
	f, _ := factorytest.New(t, factorytest.Options{Env: map[string]string{"DOJO_WORKSPACE": t.TempDir()}})
	f.NewMachine = func() cluster.PreflightEnv { return standInMachine(p) }
	if code := Run(context.Background(), f, []string{"teardown", "--name", "other"}); code != 0 {
		t.Fatalf("teardown --name other: exit %d", code)
	}
	if got := p.Deleted(); len(got) != 1 || got[0] != "other" {
		t.Fatalf("deleted %v, want [other]", got)
	}
	f, st := factorytest.New(t, factorytest.Options{})
	f.NewMachine = func() cluster.PreflightEnv { return standInMachine(p) }
	if code := Run(context.Background(), f, []string{"teardown", "--context", "kind-other2"}); code != 2 || len(p.Deleted()) != 1 {
		t.Fatalf("teardown --context kind-other2: exit %d, deleted %v, stderr %q", code, p.Deleted(), st.ErrOut.String())
	}

	for _, c := range []struct {
		env   string
		flags []string
		want  string
	}{
		{"", []string{"--kubeconfig", "/tmp/a"}, "/tmp/a"},
		{"/tmp/b" + string(filepath.ListSeparator) + "/tmp/c", nil, ""},
		{"/tmp/b", []string{"--kubeconfig", "/tmp/a"}, "/tmp/a"},
	} {
		f, _ := factorytest.New(t, factorytest.Options{Env: map[string]string{"KUBECONFIG": c.env}})
		cmd := NewRootCmd(f)
		td, _, err := cmd.Find([]string{"teardown"})
		if err != nil {
			t.Fatal(err)
		}
		if err := td.ParseFlags(c.flags); err != nil {
			t.Fatal(err)
		}
		kp, ok := f.Machine().NewProvider(cluster.Runtime{Name: "docker", Binary: "docker"}).(*cluster.KindProvider)
		if !ok || kp.KubeconfigPath != c.want {
			t.Errorf("KUBECONFIG=%q %v: kind writes %q, want %q", c.env, c.flags, kp.KubeconfigPath, c.want)
		}
	}
}

func standInMachine(p cluster.Provider) cluster.PreflightEnv {
	return cluster.PreflightEnv{
		Host:        cluster.Host{Getenv: func(string) string { return "" }, LookPath: func(b string) (string, error) { return b, nil }, Version: func(string) (string, error) { return "Docker version 28", nil }},
		NewProvider: func(cluster.Runtime) cluster.Provider { return p },
	}
}
