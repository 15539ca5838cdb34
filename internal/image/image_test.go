package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type file struct {
	mode     int64
	uid      int
	typ      byte
	contents []byte
}

// readArchive loads the image tagged ref from an archive and lists the files
// of all its layers.
func readArchive(t *testing.T, path, ref string) (v1.Image, *v1.ConfigFile, map[string]file) {
	t.Helper()
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(path, &tag)
	if err != nil {
		t.Fatalf("reading %s from the archive: %v", ref, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]file{}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(tr)
			files["/"+strings.TrimSuffix(h.Name, "/")] = file{mode: h.Mode, uid: h.Uid, typ: h.Typeflag, contents: b}
		}
		rc.Close()
	}
	return img, cfg, files
}

func TestBuildArchiveBothArchitectures(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "dojo")
	binary := bytes.Repeat([]byte("not really an ELF binary\n"), 1000)
	if err := os.WriteFile(bin, binary, 0o755); err != nil {
		t.Fatal(err)
	}
	certs := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(certs, []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			img, err := Build(Options{Binary: bin, Arch: arch, Version: "v1.2.3", Revision: "abc123", Created: created, CACerts: certs})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, arch+".tar")
			if err := WriteArchiveFile(context.Background(), path, "v1.2.3", img); err != nil {
				t.Fatal(err)
			}
			back, cfg, files := readArchive(t, path, "ghcr.io/kubedojo/dojo:v1.2.3")

			if cfg.OS != "linux" || cfg.Architecture != arch {
				t.Errorf("platform %s/%s, want linux/%s", cfg.OS, cfg.Architecture, arch)
			}
			if arch == "arm64" && cfg.Variant != "v8" {
				t.Errorf("arm64 variant %q, want v8", cfg.Variant)
			}
			if got := cfg.Config.Entrypoint; len(got) != 1 || got[0] != "/usr/local/bin/dojo" {
				t.Errorf("entrypoint %q", got)
			}
			if cfg.Config.User != "65532" {
				t.Errorf("user %q, want 65532", cfg.Config.User)
			}
			wantLabels := map[string]string{
				"org.opencontainers.image.version":  "v1.2.3",
				"org.opencontainers.image.source":   "https://github.com/kubedojo/dojo",
				"org.opencontainers.image.title":    "dojo",
				"org.opencontainers.image.created":  "2026-11-01T12:00:00Z",
				"org.opencontainers.image.revision": "abc123",
			}
			for k, v := range wantLabels {
				if cfg.Config.Labels[k] != v {
					t.Errorf("label %s = %q, want %q", k, cfg.Config.Labels[k], v)
				}
			}
			if !cfg.Created.Time.Equal(created) {
				t.Errorf("created %s, want %s", cfg.Created.Time, created)
			}

			b, ok := files["/usr/local/bin/dojo"]
			if !ok || b.typ != tar.TypeReg || !bytes.Equal(b.contents, binary) {
				t.Fatalf("/usr/local/bin/dojo missing or not the binary (%d bytes)", len(b.contents))
			}
			if b.mode&0o111 != 0o111 {
				t.Errorf("/usr/local/bin/dojo mode %o is not executable by all", b.mode)
			}
			if p := string(files["/etc/passwd"].contents); !strings.Contains(p, "nonroot:x:65532:65532:") {
				t.Errorf("/etc/passwd has no user 65532:\n%s", p)
			}
			if g := string(files["/etc/group"].contents); !strings.Contains(g, "nonroot:x:65532:") {
				t.Errorf("/etc/group has no group 65532:\n%s", g)
			}
			if c := files["/etc/ssl/certs/ca-certificates.crt"]; !bytes.Contains(c.contents, []byte("BEGIN CERTIFICATE")) {
				t.Errorf("CA certificates missing")
			}
			if h := files["/home/nonroot"]; h.typ != tar.TypeDir || h.uid != 65532 {
				t.Errorf("/home/nonroot: %+v, want a directory owned by 65532", h)
			}
			if tmp := files["/tmp"]; tmp.mode&0o1777 != 0o1777 {
				t.Errorf("/tmp mode %o, want 1777", tmp.mode)
			}
			// What was written is what was built: same config, same layers.
			// (The archive's manifest.json is the docker-save layout, so the
			// manifest itself is rebuilt on reading.)
			c1, _ := img.ConfigName()
			c2, _ := back.ConfigName()
			if c1 != c2 {
				t.Errorf("config digest changed through the archive: %s vs %s", c1, c2)
			}
			l1, _ := img.Layers()
			l2, _ := back.Layers()
			if len(l1) != 2 || len(l2) != 2 {
				t.Fatalf("%d layers built, %d read back; want 2", len(l1), len(l2))
			}
			for i := range l1 {
				d1, _ := l1[i].Digest()
				d2, _ := l2[i].Digest()
				if d1 != d2 {
					t.Errorf("layer %d digest changed through the archive: %s vs %s", i, d1, d2)
				}
			}
		})
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "dojo")
	if err := os.WriteFile(bin, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	digest := func() v1.Hash {
		img, err := Build(Options{Binary: bin, Arch: "amd64", Version: "v1"})
		if err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if a, b := digest(), digest(); a != b {
		t.Fatalf("two builds of the same inputs: %s and %s", a, b)
	}
}

func TestBuildRejectsBadInput(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "dojo")
	_ = os.WriteFile(bin, []byte("x"), 0o755)
	for _, o := range []Options{
		{Binary: bin, Arch: "riscv64", Version: "v1"},
		{Binary: bin, Arch: "amd64"},
		{Binary: filepath.Join(t.TempDir(), "missing"), Arch: "amd64", Version: "v1"},
	} {
		if _, err := Build(o); err == nil {
			t.Errorf("Build(%+v) succeeded", o)
		}
	}
}

func TestTag(t *testing.T) {
	for in, want := range map[string]string{
		"v1.2.3":                 "v1.2.3",
		"1.2.3":                  "1.2.3",
		"dev":                    "dev",
		"v0.1.0-3-gabc":          "v0.1.0-3-gabc",
		"v1.0.0+dirty":           "v1.0.0-dirty",
		"":                       "v",
		"-x":                     "v-x",
		strings.Repeat("a", 200): strings.Repeat("a", 128),
	} {
		if got := Tag(in); got != want {
			t.Errorf("Tag(%q) = %q, want %q", in, got, want)
		}
		if _, err := Ref(in); err != nil {
			t.Errorf("Ref(%q): %v", in, err)
		}
	}
}

func TestSelfImageOtherArchitecture(t *testing.T) {
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	_, err := SelfImage(context.Background(), "v1.2.3", other)
	var nse *NotSelfError
	if !errors.As(err, &nse) {
		t.Fatalf("SelfImage for a %s node: %v, want a NotSelfError", other, err)
	}
	if !strings.Contains(err.Error(), "ghcr.io/kubedojo/dojo:v1.2.3") || !strings.Contains(err.Error(), "published image") {
		t.Fatalf("message %q should say the published image will be used", err)
	}
}

// staticBinary builds a tiny static linux program for this machine's
// architecture (CGO_ENABLED=0), as release builds are.
func staticBinary(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "package main\n\nfunc main() { println(\"hello from the image\") }\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "hello")
	cmd := exec.Command(goBin, "build", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH, "GOFLAGS=-buildvcs=false")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building a static test binary: %v\n%s", err, b)
	}
	return out
}

func TestCheckBinary(t *testing.T) {
	static := staticBinary(t)
	if err := CheckBinary(static, runtime.GOARCH); err != nil {
		t.Fatalf("a static linux/%s binary: %v", runtime.GOARCH, err)
	}
	other := map[string]string{"amd64": "arm64", "arm64": "amd64"}[runtime.GOARCH]
	if err := CheckBinary(static, other); err == nil || !strings.Contains(err.Error(), "is built for") {
		t.Errorf("a %s binary for a %s node: %v", runtime.GOARCH, other, err)
	}
	text := filepath.Join(t.TempDir(), "script")
	_ = os.WriteFile(text, []byte("#!/bin/sh\n"), 0o755)
	if err := CheckBinary(text, runtime.GOARCH); err == nil || !strings.Contains(err.Error(), "not a linux ELF") {
		t.Errorf("a shell script: %v", err)
	}
	// A dynamically linked program (it has an ELF interpreter): /bin/sh.
	if err := CheckBinary("/bin/sh", runtime.GOARCH); err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Errorf("/bin/sh (dynamically linked): %v", err)
	}
}

func TestBinaryImagePackagesAStaticBinary(t *testing.T) {
	bin := staticBinary(t)
	nodeArch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
	a, err := binaryImage(context.Background(), bin, "v9.9.9", NormalizeArch(nodeArch))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Remove() })
	if a.Ref != "ghcr.io/kubedojo/dojo:v9.9.9" || a.Arch != runtime.GOARCH {
		t.Fatalf("archive %+v", a)
	}
	_, cfg, files := readArchive(t, a.Path, a.Ref)
	if cfg.Architecture != runtime.GOARCH {
		t.Errorf("architecture %s", cfg.Architecture)
	}
	want, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if got := files["/usr/local/bin/dojo"].contents; sha256.Sum256(got) != sha256.Sum256(want) {
		t.Fatalf("the image's binary (%d bytes) is not the given one (%d bytes)", len(got), len(want))
	}
	rc, err := a.Open()
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
}

// The running test binary: packaged when static, refused with a clear
// message when built with cgo (as `go test` does where gcc exists).
func TestSelfImageOfTheRunningBinary(t *testing.T) {
	a, err := SelfImage(context.Background(), "v1", runtime.GOARCH)
	var nse *NotSelfError
	switch {
	case runtime.GOOS != "linux":
		if !errors.As(err, &nse) {
			t.Fatalf("on %s: %v, want a NotSelfError", runtime.GOOS, err)
		}
	case errors.As(err, &nse):
		// A cgo-built test binary (what `go test` makes where gcc exists).
		if nse.Reason == "" || !strings.Contains(err.Error(), "CGO_ENABLED=0") ||
			!strings.Contains(err.Error(), "published image ghcr.io/kubedojo/dojo:v1 will be used") {
			t.Fatalf("message %q should say why and name the published image", err)
		}
	case err != nil:
		t.Fatal(err)
	default:
		_ = a.Remove()
	}
}

func TestSelfImageCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := binaryImage(ctx, staticBinary(t), "v1", runtime.GOARCH); !errors.Is(err, context.Canceled) {
		t.Fatalf("with a cancelled context: %v", err)
	}
}
