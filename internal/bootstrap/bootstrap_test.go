package bootstrap

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/cluster"
	"github.com/kubedojo/dojo/internal/image"
	"github.com/kubedojo/dojo/internal/report"
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
	if archiveID(arc) != id.String() {
		t.Fatalf("archiveID = %q, want %s", archiveID(arc), id)
	}
	if !nodesHave(&idsProvider{ids: []string{id.String()}}, "dojo", arc.Ref, id.String()) {
		t.Fatal("same image ID on the node: should skip the load")
	}
	if nodesHave(&idsProvider{ids: []string{id.String(), ""}}, "dojo", arc.Ref, id.String()) {
		t.Fatal("a node without the image: must load")
	}
	if nodesHave(&idsProvider{ids: []string{"sha256:0000"}}, "dojo", arc.Ref, id.String()) {
		t.Fatal("an older image under the tag: must load")
	}
	if nodesHave(&idsProvider{ids: []string{""}}, "dojo", arc.Ref, "") {
		t.Fatal("an unknown ID matched a node without the image")
	}
}

// A second dojo up with the same binary decides from what the first one
// recorded and the nodes' image IDs, without packaging the binary again; a
// different binary (another key) packages and loads.
func TestImagePhaseSkipsPackagingAKnownLoadedImage(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "dojo")
	if err := os.WriteFile(bin, []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	packaged := 0
	selfImage := func(ctx context.Context, version, arch string) (*image.Archive, error) {
		packaged++
		img, err := image.Build(image.Options{Binary: bin, Arch: "amd64", Version: version})
		if err != nil {
			return nil, err
		}
		path := filepath.Join(t.TempDir(), "img.tar")
		if err := image.WriteArchiveFile(ctx, path, version, img); err != nil {
			return nil, err
		}
		return &image.Archive{Path: path, Ref: "ghcr.io/kubedojo/dojo:v0.0.0-test", Arch: "amd64"}, nil
	}
	key := "k1"
	stateDir := t.TempDir()
	nodes := &loadingProvider{StandIn: cluster.NewStandIn()}
	up := func() *Result {
		t.Helper()
		u := &run{o: Options{Name: "dojo", Version: "v0.0.0-test", StateDir: stateDir}, pr: report.Discard{}, res: &Result{},
			provider: nodes, env: Env{SelfImage: selfImage, SelfKey: func(string, string) (string, error) { return key, nil }}}
		if err := u.image(context.Background()); err != nil {
			t.Fatal(err)
		}
		return u.res
	}
	if r := up(); !r.SideLoaded || packaged != 1 || nodes.loads != 1 {
		t.Fatalf("first run: sideloaded %v, packaged %d, loads %d", r.SideLoaded, packaged, nodes.loads)
	}
	if r := up(); !r.SideLoaded || r.Image != "ghcr.io/kubedojo/dojo:v0.0.0-test" || packaged != 1 || nodes.loads != 1 {
		t.Fatalf("second run, same binary: sideloaded %v image %q, packaged %d, loads %d; want no packaging", r.SideLoaded, r.Image, packaged, nodes.loads)
	}
	key = "k2" // another binary
	if up(); packaged != 2 {
		t.Fatalf("a new binary was not packaged (packaged %d)", packaged)
	}
	nodes.id = "sha256:gone" // the node lost the image (cluster recreated)
	key = "k2"
	if up(); packaged != 3 || nodes.loads != 2 {
		t.Fatalf("a node without the recorded image: packaged %d, loads %d; want a new load", packaged, nodes.loads)
	}
}

// loadingProvider remembers the ID of the last archive loaded and reports it
// as every node's image.
type loadingProvider struct {
	*cluster.StandIn
	id    string
	loads int
}

func (p *loadingProvider) ImageIDs(string, string) ([]string, error) { return []string{p.id}, nil }

func (p *loadingProvider) LoadImageArchive(_ string, open func() (io.ReadCloser, error)) error {
	img, err := tarball.Image(open, nil)
	if err != nil {
		return err
	}
	id, err := img.ConfigName()
	if err != nil {
		return err
	}
	p.id, p.loads = id.String(), p.loads+1
	return nil
}

// BenchmarkSideLoadArchive measures what dojo up spends packaging the
// running binary (DOJO_BENCH_BINARY, else this test binary) into the image
// archive it loads into the nodes, and the ID check of a second run.
//
//	go test -run '^$' -bench SideLoadArchive -benchtime 5x ./internal/bootstrap
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
		if nodesHave(&idsProvider{ids: []string{""}}, "dojo", arc.Ref, archiveID(arc)) {
			b.Fatal("loaded")
		}
		os.Remove(path)
	}
}

// TestUpAfterCtrlCDuringCreateRecreatesTheHalfMadeCluster: Ctrl-C while kind
// creates returns at once with what to do; kind's half-made cluster (there,
// not answering, its node not yet labelled) is dojo's by the creating marker
// the interrupted run left, and is deleted and made anew by the next run.
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

	// What kind leaves behind when the process dies mid-create: a node that
	// says nothing yet (as seen on a real kind cluster).
	p2 := cluster.NewStandIn()
	p2.AddHalfMade("dojo")
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

// A preflight warning is said once, on the progress stream, in the one
// warning format, and dojo up goes on (here up to the stand-in's missing API).
func TestPreflightWarningIsPrintedOnce(t *testing.T) {
	p := cluster.NewStandIn()
	env := upEnv(p, func(int) cluster.PortUser { return cluster.PortUser{} }, map[string]string{"docker": "Docker version 27"})
	env.Preflight.MemTotal = func() (uint64, bool) { return 2 << 30, true }
	streams, _, _, errOut := ui.Test(false, false)
	env.Progress = ui.NewProgress(streams)
	_, err := Up(context.Background(), Options{Name: "dojo", Workspace: t.TempDir(), Version: "dev"}, env)
	if err == nil || !strings.Contains(err.Error(), "no API server") {
		t.Fatalf("err = %v; want dojo up to go past the warning to the stand-in's missing API", err)
	}
	if n := strings.Count(errOut.String(), "! 2.0 GiB of memory"); n != 1 {
		t.Fatalf("the memory warning was printed %d times:\n%s", n, errOut)
	}
	if len(p.Created()) != 1 {
		t.Fatalf("a warning stopped dojo up: created %v", p.Created())
	}
}

// --node-image on a cluster that came up complete once is said to apply only
// to a new cluster; on a half-made one (which dojo up recreates with it) it is
// not.
func TestNodeImageWarningOnlyForACompleteCluster(t *testing.T) {
	for _, c := range []struct {
		ready bool
		warns bool
	}{{ready: true, warns: true}, {ready: false, warns: false}} {
		stateDir := t.TempDir()
		p := cluster.NewStandIn()
		if c.ready {
			p.Add("dojo", nil)
			if err := cluster.MarkReady(stateDir, "dojo"); err != nil {
				t.Fatal(err)
			}
		} else {
			p.AddHalfMade("dojo")
			if err := cluster.MarkCreating(stateDir, "dojo"); err != nil {
				t.Fatal(err)
			}
		}
		env := upEnv(p, func(int) cluster.PortUser { return cluster.PortUser{InUse: true} }, map[string]string{"docker": "Docker version 27"})
		streams, _, _, errOut := ui.Test(false, false)
		env.Progress = ui.NewProgress(streams)
		_, _ = Up(context.Background(), Options{Name: "dojo", NodeImage: "localhost/node:v1", Workspace: t.TempDir(), Version: "dev", StateDir: stateDir}, env)
		if got := strings.Contains(errOut.String(), "applies only when dojo up creates it"); got != c.warns {
			t.Errorf("ready %v: warned %v, want %v:\n%s", c.ready, got, c.warns, errOut)
		}
	}
}

// portsStandIn is the stand-in provider with the node's published addresses.
type portsStandIn struct {
	*cluster.StandIn
	addrs []string
}

func (p portsStandIn) PublishedAddresses(string) ([]string, error) { return p.addrs, nil }

// An existing cluster open beyond this machine (made before dojo published
// on loopback) is named in one warning with what to do; a --listen-address
// the existing cluster does not have is said to apply only to a new one.
func TestExistingClusterPortsAreNamedWhenOpen(t *testing.T) {
	for _, c := range []struct {
		addrs  []string
		listen string
		want   string
	}{
		{[]string{"0.0.0.0", "127.0.0.1"}, "", "publishes ports 80 and 443 on 0.0.0.0"},
		{[]string{"127.0.0.1"}, "", ""},
		{[]string{"127.0.0.1"}, "0.0.0.0", "--listen-address 0.0.0.0 applies only when dojo up creates it"},
		{[]string{"0.0.0.0"}, "0.0.0.0", ""},
	} {
		stateDir := t.TempDir()
		s := cluster.NewStandIn()
		s.Add("dojo", nil)
		if err := cluster.MarkReady(stateDir, "dojo"); err != nil {
			t.Fatal(err)
		}
		env := upEnv(portsStandIn{s, c.addrs}, func(int) cluster.PortUser { return cluster.PortUser{InUse: true} }, map[string]string{"docker": "Docker version 27"})
		streams, _, _, errOut := ui.Test(false, false)
		env.Progress = ui.NewProgress(streams)
		_, _ = Up(context.Background(), Options{Name: "dojo", ListenAddress: c.listen, Workspace: t.TempDir(), Version: "dev", StateDir: stateDir}, env)
		got := errOut.String()
		if c.want == "" && (strings.Contains(got, "publishes ports") || strings.Contains(got, "--listen-address")) {
			t.Errorf("%v, --listen-address %q: an unwanted warning:\n%s", c.addrs, c.listen, got)
		}
		if c.want != "" && strings.Count(got, c.want) != 1 {
			t.Errorf("%v, --listen-address %q: want one warning %q:\n%s", c.addrs, c.listen, c.want, got)
		}
	}
}
