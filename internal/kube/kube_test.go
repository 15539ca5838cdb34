package kube

import (
	"strings"
	"testing"
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
	a, err := FromKubeconfig([]byte(twoClusters), KindContext("dojo"))
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
	_, err := FromKubeconfig([]byte(twoClusters), KindContext("other"))
	if err == nil {
		t.Fatal("want an error for a missing context")
	}
	if want := `no context "kind-other"`; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not contain %q", err, want)
	}
}
