// Package image builds the dojo container image without Docker: an OCI
// image of a linux dojo binary on an empty base, written as an image archive
// (the `docker save` layout) that `ctr images import`, and so kind's
// nodeutils.LoadImageArchive, accept.
//
// The image holds the binary as its entrypoint, /etc/passwd and /etc/group
// with the non-root user 65532 it runs as, and the host's CA certificates
// when the host has them.
package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/kubedojo/dojo/internal/versions"
)

// Where things are inside the image, and who runs it.
const (
	BinaryPath  = "/usr/local/bin/dojo"
	CACertsPath = "/etc/ssl/certs/ca-certificates.crt"
	HomeDir     = "/home/nonroot"
	UID         = 65532
	User        = "65532"

	// HostCACerts is read when Options.CACerts is empty.
	HostCACerts = "/etc/ssl/certs/ca-certificates.crt"
	// Source is the org.opencontainers.image.source label.
	Source = "https://github.com/kubedojo/dojo"

	passwd = "root:x:0:0:root:/root:/sbin/nologin\n" +
		"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	group        = "root:x:0:\nnonroot:x:65532:\n"
	nsswitchConf = "hosts: files dns\n"
)

// Options describe one platform's image.
type Options struct {
	// Binary is the path of a linux dojo binary built for Arch.
	Binary string
	// Arch is the GOARCH of Binary: "amd64" or "arm64".
	Arch string
	// Version is the dojo version: the image tag and the version label.
	Version string
	// Revision, when known, is the org.opencontainers.image.revision label.
	Revision string
	// Created is the image's creation time (config, label and file times).
	// The zero value means the Unix epoch, so that the same inputs always
	// give the same image digest.
	Created time.Time
	// CACerts is a PEM bundle to include; empty means HostCACerts when the
	// host has it, else no certificates (the workload talks only to Redis).
	CACerts string
}

// Ref is the reference an image of version is tagged with:
// ghcr.io/kubedojo/dojo:<version>. Characters a tag cannot hold (such as
// "+") become "-".
func Ref(version string) (name.Tag, error) {
	return name.NewTag(versions.AppImageRepository+":"+Tag(version), name.StrictValidation)
}

var badTagChars = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// Tag turns a version into a valid image tag.
func Tag(version string) string {
	t := badTagChars.ReplaceAllString(version, "-")
	if t == "" || t[0] == '.' || t[0] == '-' {
		t = "v" + t
	}
	if len(t) > 128 {
		t = t[:128]
	}
	return t
}

// Build assembles the image. It reads o.Binary lazily, when the image's
// layers are written.
func Build(o Options) (v1.Image, error) {
	switch o.Arch {
	case "amd64", "arm64":
	default:
		return nil, fmt.Errorf("image: architecture %q is not supported: use amd64 or arm64", o.Arch)
	}
	if o.Version == "" {
		return nil, errors.New("image: no version given")
	}
	st, err := os.Stat(o.Binary)
	if err != nil {
		return nil, fmt.Errorf("image: the dojo binary: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("image: the dojo binary %s is not a regular file", o.Binary)
	}
	created := o.Created
	if created.IsZero() {
		created = time.Unix(0, 0)
	}
	created = created.UTC()

	certs, err := readCerts(o.CACerts)
	if err != nil {
		return nil, err
	}
	base, err := baseLayer(created, certs)
	if err != nil {
		return nil, err
	}
	bin, err := binaryLayer(o.Binary, st.Size(), created)
	if err != nil {
		return nil, err
	}

	labels := map[string]string{
		"org.opencontainers.image.title":       "dojo",
		"org.opencontainers.image.description": "The workshop \"Kubernetes autoscaling with Prometheus\": its sample producer and consumer (dojo app ...)",
		"org.opencontainers.image.version":     o.Version,
		"org.opencontainers.image.source":      Source,
		"org.opencontainers.image.created":     created.Format(time.RFC3339),
	}
	if o.Revision != "" {
		labels["org.opencontainers.image.revision"] = o.Revision
	}
	cfg := &v1.ConfigFile{
		Architecture: o.Arch,
		OS:           "linux",
		Created:      v1.Time{Time: created},
		Config: v1.Config{
			Entrypoint: []string{BinaryPath},
			User:       User,
			WorkingDir: HomeDir,
			Env: []string{
				"PATH=/usr/local/bin:/usr/bin:/bin",
				"SSL_CERT_FILE=" + CACertsPath,
			},
			Labels: labels,
		},
		RootFS: v1.RootFS{Type: "layers"},
	}
	if o.Arch == "arm64" {
		cfg.Variant = "v8"
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, err
	}
	return mutate.Append(img,
		mutate.Addendum{Layer: base, MediaType: types.OCILayer, History: v1.History{
			Created: v1.Time{Time: created}, CreatedBy: "dojo: /etc (passwd, group, CA certificates), /home/nonroot, /tmp"}},
		mutate.Addendum{Layer: bin, MediaType: types.OCILayer, History: v1.History{
			Created: v1.Time{Time: created}, CreatedBy: "dojo: " + BinaryPath}},
	)
}

// WriteArchive writes img, tagged Ref(version), as an image archive to w.
func WriteArchive(ctx context.Context, w io.Writer, version string, img v1.Image) error {
	ref, err := Ref(version)
	if err != nil {
		return err
	}
	return tarball.Write(ref, img, ctxWriter{ctx: ctx, w: w})
}

// WriteArchiveFile is WriteArchive into a new file at path.
func WriteArchiveFile(ctx context.Context, path, version string, img v1.Image) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(path)
		}
	}()
	return WriteArchive(ctx, f, version, img)
}

// NotSelfError says the running dojo cannot be packaged for the node: it is
// not a linux binary of the node's architecture, or (Reason set) it cannot
// run on the image's empty base. The caller then uses the published image.
type NotSelfError struct {
	GOOS, GOARCH string // of the running dojo
	NodeArch     string
	Image        string // the published image that will be used instead
	// Reason, when set, is why a linux binary of the right architecture
	// still cannot be used (for example: built with cgo).
	Reason string
}

func (e *NotSelfError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("this dojo cannot run in the cluster's linux/%s node: %s; the published image %s will be used",
			e.NodeArch, e.Reason, e.Image)
	}
	return fmt.Sprintf("this dojo is a %s/%s binary and the cluster's node is linux/%s, so it cannot run there: the published image %s will be used",
		e.GOOS, e.GOARCH, e.NodeArch, e.Image)
}

// Archive is an image archive file made by SelfImage.
type Archive struct {
	// Path of the archive (a temporary file; Remove deletes it).
	Path string
	// Ref is the tag inside the archive, ghcr.io/kubedojo/dojo:<version>.
	Ref string
	// Arch is the image's architecture.
	Arch string
}

// Open reads the archive (for nodeutils.LoadImageArchive, once per node).
func (a *Archive) Open() (io.ReadCloser, error) { return os.Open(a.Path) }

// Remove deletes the archive file.
func (a *Archive) Remove() error { return os.Remove(a.Path) }

// CheckBinary reports whether path can run in the image on a linux/arch
// node: a linux ELF executable for arch, statically linked. A dojo built with
// cgo (the default where a C compiler exists) needs the host's dynamic loader,
// which the image does not have: it would fail with "exec
// /usr/local/bin/dojo: no such file or directory". Release builds use
// CGO_ENABLED=0.
func CheckBinary(path, arch string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s is not a linux ELF executable (%v)", path, err)
	}
	defer f.Close()
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch]
	if f.Machine != want {
		return fmt.Errorf("%s is built for %s, the node is %s", path, f.Machine, arch)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked (built with cgo), and the image has no C library: build dojo with CGO_ENABLED=0", path)
		}
	}
	return nil
}

// NormalizeArch maps the names nodes report (uname -m) to GOARCH.
func NormalizeArch(arch string) string {
	switch strings.ToLower(arch) {
	case "x86_64", "x86-64", "amd64":
		return "amd64"
	case "aarch64", "arm64", "arm64/v8":
		return "arm64"
	}
	return arch
}

// SelfImage packages the running dojo into an image archive when it can run
// on the node: a static linux binary of the node's architecture. Otherwise it
// returns a *NotSelfError that names the published image to use instead.
func SelfImage(ctx context.Context, version, nodeArch string) (*Archive, error) {
	ref, err := Ref(version)
	if err != nil {
		return nil, err
	}
	arch := NormalizeArch(nodeArch)
	if runtime.GOOS != "linux" || runtime.GOARCH != arch {
		return nil, &NotSelfError{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, NodeArch: arch, Image: ref.String()}
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("image: finding the running dojo: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	return binaryImage(ctx, exe, version, arch)
}

// binaryImage is SelfImage for a given binary.
func binaryImage(ctx context.Context, exe, version, arch string) (*Archive, error) {
	ref, err := Ref(version)
	if err != nil {
		return nil, err
	}
	if err := CheckBinary(exe, arch); err != nil {
		return nil, &NotSelfError{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, NodeArch: arch, Image: ref.String(), Reason: err.Error()}
	}
	revision, created := buildInfo()
	img, err := Build(Options{Binary: exe, Arch: arch, Version: version, Revision: revision, Created: created})
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "dojo-image-*.tar")
	if err != nil {
		return nil, err
	}
	path := f.Name()
	_ = f.Close()
	if err := WriteArchiveFile(ctx, path, version, img); err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("image: writing %s: %w", path, err)
	}
	return &Archive{Path: path, Ref: ref.String(), Arch: arch}, nil
}

// buildInfo reads the commit and its time from the running binary; a
// binary built outside git has neither (created is then zero: the epoch).
func buildInfo() (revision string, created time.Time) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", time.Time{}
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.time":
			created, _ = time.Parse(time.RFC3339, s.Value)
		}
	}
	return revision, created
}

func readCerts(path string) ([]byte, error) {
	if path == "" {
		b, err := os.ReadFile(HostCACerts)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return b, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("image: CA certificates: %w", err)
	}
	return b, nil
}

// entry is one file or directory of a layer.
type entry struct {
	name     string
	mode     int64
	uid      int
	dir      bool
	contents []byte
}

func baseLayer(mtime time.Time, certs []byte) (v1.Layer, error) {
	es := []entry{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/passwd", mode: 0o644, contents: []byte(passwd)},
		{name: "etc/group", mode: 0o644, contents: []byte(group)},
		{name: "etc/nsswitch.conf", mode: 0o644, contents: []byte(nsswitchConf)},
		{name: "home/", mode: 0o755, dir: true},
		{name: "home/nonroot/", mode: 0o700, uid: UID, dir: true},
		{name: "tmp/", mode: 0o1777, dir: true},
	}
	if certs != nil {
		es = append(es,
			entry{name: "etc/ssl/", mode: 0o755, dir: true},
			entry{name: "etc/ssl/certs/", mode: 0o755, dir: true},
			entry{name: strings.TrimPrefix(CACertsPath, "/"), mode: 0o644, contents: certs})
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		if err := writeEntry(tw, e, mtime); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// binaryLayer streams the binary into a tar each time the layer is read, so
// a large binary is never held in memory.
func binaryLayer(path string, size int64, mtime time.Time) (v1.Layer, error) {
	dirs := []entry{
		{name: "usr/", mode: 0o755, dir: true},
		{name: "usr/local/", mode: 0o755, dir: true},
		{name: "usr/local/bin/", mode: 0o755, dir: true},
	}
	opener := func() (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		pr, pw := io.Pipe()
		go func() {
			defer f.Close()
			tw := tar.NewWriter(pw)
			for _, d := range dirs {
				if err := writeEntry(tw, d, mtime); err != nil {
					pw.CloseWithError(err)
					return
				}
			}
			hdr := &tar.Header{
				Typeflag: tar.TypeReg, Name: strings.TrimPrefix(BinaryPath, "/"), Mode: 0o755,
				Size: size, ModTime: mtime, Format: tar.FormatPAX,
			}
			if err := tw.WriteHeader(hdr); err != nil {
				pw.CloseWithError(err)
				return
			}
			n, err := io.Copy(tw, f)
			if err == nil && n != size {
				err = fmt.Errorf("image: %s changed size while being read (%d bytes, expected %d)", path, n, size)
			}
			if err == nil {
				err = tw.Close()
			}
			pw.CloseWithError(err)
		}()
		return pr, nil
	}
	return tarball.LayerFromOpener(opener, tarball.WithMediaType(types.OCILayer),
		tarball.WithCompressionLevel(gzip.BestSpeed))
}

func writeEntry(tw *tar.Writer, e entry, mtime time.Time) error {
	hdr := &tar.Header{
		Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.uid,
		ModTime: mtime, Format: tar.FormatPAX,
	}
	if e.dir {
		hdr.Typeflag = tar.TypeDir
	} else {
		hdr.Typeflag = tar.TypeReg
		hdr.Size = int64(len(e.contents))
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if !e.dir {
		_, err := tw.Write(e.contents)
		return err
	}
	return nil
}

// ctxWriter stops a long archive write when ctx is cancelled.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
