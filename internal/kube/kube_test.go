package kube

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kubedojo/dojo/internal/workshop"
)

const twoClusters = `apiVersion: v1
kind: Config
current-context: work
clusters:
- name: work
  cluster: {server: "https://work.invalid:6443"}
- name: kind-dojo
  cluster: {server: "https://127.0.0.1:40123"}
users:
- name: u
  user: {token: t}
contexts:
- name: work
  context: {cluster: work, user: u, namespace: prod}
- name: kind-dojo
  context: {cluster: kind-dojo, user: u}
`

func TestAccessIsPinnedToItsContextNotTheCurrentOne(t *testing.T) {
	a, err := FromKubeconfig([]byte(twoClusters), workshop.KindContext("dojo"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := a.ToRESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://127.0.0.1:40123" {
		t.Fatalf("host = %q, want the kind-dojo cluster", cfg.Host)
	}
	if got := a.Server(); got != cfg.Host {
		t.Fatalf("Server() = %q", got)
	}
	ns, _, err := a.ToRawKubeConfigLoader().Namespace()
	if err != nil || ns != "default" {
		t.Fatalf("namespace = %q, %v; want default (not the current context's prod)", ns, err)
	}
	ns, _, _ = a.ForNamespace("traefik").ToRawKubeConfigLoader().Namespace()
	if ns != "traefik" {
		t.Fatalf("ForNamespace: namespace = %q", ns)
	}
}

func TestAccessUnknownContextSaysWhatToDo(t *testing.T) {
	_, err := FromKubeconfig([]byte(twoClusters), workshop.KindContext("other"))
	if err == nil {
		t.Fatal("want an error for a missing context")
	}
	if want := `no context "kind-other"`; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not contain %q", err, want)
	}
}

// TestWaitReadyPollsReadyzWithTheContextsCredentials runs against a
// loopback HTTP server standing in for the API server.
func TestWaitReadyPollsReadyzWithTheContextsCredentials(t *testing.T) {
	var calls atomic.Int32
	// TLS: clientcmd sends credentials only to https servers.
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" || r.Header.Get("Authorization") != "Bearer secret" {
			http.Error(w, "unexpected "+r.URL.Path, http.StatusForbidden)
			return
		}
		if calls.Add(1) < 3 {
			http.Error(w, "[-]etcd failed", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
current-context: elsewhere
clusters:
- {name: lab, cluster: {server: %q, insecure-skip-tls-verify: true}}
- {name: elsewhere, cluster: {server: "http://127.0.0.1:1"}}
users:
- {name: admin, user: {token: secret}}
contexts:
- {name: lab, context: {cluster: lab, user: admin}}
- {name: elsewhere, context: {cluster: elsewhere, user: admin}}
`, srv.URL)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := FromFile(path, "", "lab")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.WaitReady(context.Background(), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 {
		t.Fatalf("calls = %d, want 3", calls.Load())
	}
	// Never ready: the error names the server and the last answer.
	calls.Store(-1000)
	err = a.WaitReady(context.Background(), 1200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), srv.URL) {
		t.Fatalf("err = %v", err)
	}
}
