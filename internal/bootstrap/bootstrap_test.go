package bootstrap

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/cluster"
	"github.com/kubedojo/dojo/internal/image"
	"github.com/kubedojo/dojo/internal/ui"
)

func upEnv(p cluster.Provider, ports cluster.PortChecker, bins map[string]string) Env {
	streams, _, _, _ := ui.Test(false, false)
	return Env{
		Preflight: cluster.PreflightEnv{
			Host: cluster.Host{
				Getenv: func(string) string { return "" },
				LookPath: func(b string) (string, error) {
					if _, ok := bins[b]; ok {
						return b, nil
					}
					return "", exec.ErrNotFound
				},
				Version: func(b string) (string, error) { return bins[b], nil },
			},
			NewProvider: func(cluster.Runtime) cluster.Provider { return p },
			Ports:       ports,
		},
		Progress:     ui.NewProgress(streams),
		Embedded:     embedded.FS(),
		WorkspaceSrc: embedded.Workspace(),
	}
}

func TestUpStopsAtPreflightBeforeCreatingAnything(t *testing.T) {
	ws := filepath.Join(t.TempDir(), "ws")
	busy := func(port int) cluster.PortUser {
		return cluster.PortUser{InUse: port == 80, Process: "nginx (pid 42)"}
	}
	for name, tc := range map[string]struct {
		bins  map[string]string
		ports cluster.PortChecker
		want  string
	}{
		"no runtime": {nil, busy, "no container runtime found"},
		"port 80":    {map[string]string{"docker": "Docker version 27"}, busy, "host port 80 is already taken by nginx (pid 42)"},
	} {
		t.Run(name, func(t *testing.T) {
			p := cluster.NewStandIn()
			env := upEnv(p, tc.ports, tc.bins)
			_, err := Up(context.Background(), Options{Workspace: ws, Version: "dev"}, env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if len(p.Created()) != 0 {
				t.Fatalf("created %v despite a failed preflight", p.Created())
			}
			if _, err := os.Stat(ws); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("the workspace was written before preflight passed")
			}
		})
	}
}

func TestUpCreatesTheClusterWithDojosConfig(t *testing.T) {
	p := cluster.NewStandIn()
	env := upEnv(p, func(int) cluster.PortUser { return cluster.PortUser{} }, map[string]string{"docker": "Docker version 27"})
	_, err := Up(context.Background(), Options{Name: "dojo", Workspace: t.TempDir(), Version: "dev"}, env)
	// The stand-in has no API server, so Up stops after creating.
	if err == nil || !strings.Contains(err.Error(), "no API server") {
		t.Fatalf("err = %v", err)
	}
	if strings.Join(p.Created(), ",") != "dojo" {
		t.Fatalf("created %v", p.Created())
	}
}

// idsProvider answers ImageIDs with fixed IDs.
type idsProvider struct {
	*cluster.StandIn
	ids []string
}

func (p *idsProvider) ImageIDs(string, string) ([]string, error) { return p.ids, nil }

func TestLoadedSkipsAnImageEveryNodeAlreadyHas(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "dojo")
	if err := os.WriteFile(bin, []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	img, err := image.Build(image.Options{Binary: bin, Arch: "amd64", Version: "v0.0.0-test"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "img.tar")
	if err := image.WriteArchiveFile(context.Background(), path, "v0.0.0-test", img); err != nil {
		t.Fatal(err)
	}
	id, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	arc := &image.Archive{Path: path, Ref: "ghcr.io/kubedojo/dojo:v0.0.0-test", Arch: "amd64"}
	if !loaded(&idsProvider{ids: []string{id.String()}}, "dojo", arc) {
		t.Fatal("same image ID on the node: should skip the load")
	}
	if loaded(&idsProvider{ids: []string{id.String(), ""}}, "dojo", arc) {
		t.Fatal("a node without the image: must load")
	}
	if loaded(&idsProvider{ids: []string{"sha256:0000"}}, "dojo", arc) {
		t.Fatal("an older image under the tag: must load")
	}
}

// BenchmarkSideLoadArchive measures what dojo up spends packaging the
// running binary (DOJO_BENCH_BINARY, else this test binary) into the image
// archive it loads into the nodes, and the ID check of a second run.
//
//	go test -run '^$' -bench SideLoadArchive -benchtime 5x ./internal/deploy
func BenchmarkSideLoadArchive(b *testing.B) {
	bin := os.Getenv("DOJO_BENCH_BINARY")
	if bin == "" {
		bin, _ = os.Executable()
	}
	st, err := os.Stat(bin)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	dir := b.TempDir()
	for i := 0; b.Loop(); i++ {
		img, err := image.Build(image.Options{Binary: bin, Arch: "amd64", Version: "v0.0.0-bench"})
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(dir, "img.tar")
		if err := image.WriteArchiveFile(context.Background(), path, "v0.0.0-bench", img); err != nil {
			b.Fatal(err)
		}
		arc := &image.Archive{Path: path, Ref: "ghcr.io/kubedojo/dojo:v0.0.0-bench"}
		if loaded(&idsProvider{ids: []string{""}}, "dojo", arc) {
			b.Fatal("loaded")
		}
		os.Remove(path)
	}
}

// TestUpAfterCtrlCDuringCreateRecreatesTheHalfMadeCluster: Ctrl-C while kind
// creates returns at once with what to do; kind's half-made cluster (there,
// labelled as dojo's, not answering) is deleted and made anew by the next run.
func TestUpAfterCtrlCDuringCreateRecreatesTheHalfMadeCluster(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	p := cluster.NewStandIn()
	p.Block = block
	env := upEnv(p, func(int) cluster.PortUser { return cluster.PortUser{} }, map[string]string{"docker": "Docker version 27"})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	stateDir := t.TempDir()
	_, err := Up(ctx, Options{Name: "dojo", Workspace: t.TempDir(), Version: "dev", StateDir: stateDir}, env)
	if err == nil || !strings.Contains(err.Error(), "interrupted: run dojo up again") {
		t.Fatalf("err = %v", err)
	}

	// What kind leaves behind when the process dies mid-create.
	p2 := cluster.NewStandIn()
	p2.Add("dojo", nil)
	env = upEnv(p2, func(int) cluster.PortUser { return cluster.PortUser{InUse: true} }, map[string]string{"docker": "Docker version 27"})
	_, err = Up(context.Background(), Options{Name: "dojo", Workspace: t.TempDir(), Version: "dev", StateDir: stateDir}, env)
	if err == nil || !strings.Contains(err.Error(), "no API server") {
		t.Fatalf("err = %v", err)
	}
	if strings.Join(p2.Deleted(), ",") != "dojo" || strings.Join(p2.Created(), ",") != "dojo" {
		t.Fatalf("deleted %v, created %v: want the half-made cluster replaced", p2.Deleted(), p2.Created())
	}
}

// TestUpNeverRecreatesACompleteCluster: a cluster that came up complete once
// (ready marker) and does not answer now holds the learner's work; dojo up
// says what it saw and what to do, and deletes nothing.
func TestUpNeverRecreatesACompleteCluster(t *testing.T) {
	stateDir := t.TempDir()
	if err := cluster.MarkReady(stateDir, "dojo"); err != nil {
		t.Fatal(err)
	}
	p := cluster.NewStandIn()
	p.Add("dojo", nil)
	env := upEnv(p, func(int) cluster.PortUser { return cluster.PortUser{InUse: true} }, map[string]string{"docker": "Docker version 27"})
	_, err := Up(context.Background(), Options{Name: "dojo", Workspace: t.TempDir(), Version: "dev", StateDir: stateDir}, env)
	if err == nil || !strings.Contains(err.Error(), "does not answer") || !strings.Contains(err.Error(), "docker start dojo-control-plane") || !strings.Contains(err.Error(), "dojo teardown") {
		t.Fatalf("err = %v; want the observation and both ways out", err)
	}
	if len(p.Deleted()) != 0 || len(p.Created()) != 0 {
		t.Fatalf("deleted %v, created %v: a complete cluster must not be replaced", p.Deleted(), p.Created())
	}
}

func TestSplitImage(t *testing.T) {
	for in, want := range map[string][2]string{
		"ghcr.io/kubedojo/dojo:v1.2.3":  {"ghcr.io/kubedojo/dojo", "v1.2.3"},
		"localhost:5000/dojo:dev":       {"localhost:5000/dojo", "dev"},
		"localhost:5000/dojo":           {"localhost:5000/dojo", ""},
		"dojo":                          {"dojo", ""},
		"registry.example/a/b:tag-with": {"registry.example/a/b", "tag-with"},
	} {
		r, tag := splitImage(in)
		if r != want[0] || tag != want[1] {
			t.Errorf("splitImage(%q) = %q %q", in, r, tag)
		}
	}
}
