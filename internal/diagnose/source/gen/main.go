// Command gen fetches replica_calculator.go and horizontal.go of every
// k8s.io/kubernetes release from v1.30.0 to the newest v1.37 patch the Go
// module proxy serves, into a cache directory, and writes the table of
// source.Table from them.
//
//	go run ./internal/diagnose/source/gen -cache .cache/k8s-hpa-src -fetch
//	go run ./internal/diagnose/source/gen -cache .cache/k8s-hpa-src -out internal/diagnose/source/table_gen.go
//
// Only the two files are read from each module zip, by HTTP range requests
// to the proxy (each zip is 18 MB or more; a release costs a few hundred
// kB). The cache is keyed by release: a release already there is not read
// again (a module version never changes); versions.txt lists what the
// proxy served on the last fetch.
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kubedojo/dojo/internal/diagnose/source"
)

const module = "k8s.io/kubernetes"

// The minors the table covers, and how many patch numbers in a row may be
// missing before a minor is taken as ended (the proxy skips some patches).
const (
	firstMinor, lastMinor = 30, 37
	maxGap                = 5
)

func main() {
	cache := flag.String("cache", "", "directory of the fetched sources (required)")
	fetch := flag.Bool("fetch", false, "fetch the sources and versions.txt from the module proxy")
	out := flag.String("out", "", "write the table to this Go file")
	flag.Parse()
	if *cache == "" || (!*fetch && *out == "") {
		fmt.Fprintln(os.Stderr, "usage: gen -cache DIR [-fetch] [-out table_gen.go]")
		os.Exit(2)
	}
	if err := run(*cache, *fetch, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(cache string, fetch bool, out string) error {
	if fetch {
		proxy, err := proxyURL()
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		c := &fetcher{proxy: proxy, http: &http.Client{Timeout: time.Minute}}
		start := time.Now()
		versions, err := c.versions(ctx)
		if err != nil {
			return err
		}
		n, err := c.fetchAll(ctx, cache, versions)
		if err != nil {
			return err
		}
		if err := writeAtomic(filepath.Join(cache, "versions.txt"), []byte(strings.Join(versions, "\n")+"\n")); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "gen: %d releases %s–%s served by %s; %d fetched, %d cached (%s)\n",
			len(versions), versions[0], versions[len(versions)-1], proxy, n, len(versions)-n, time.Since(start).Round(time.Millisecond))
	}
	if out == "" {
		return nil
	}
	lines, err := source.ReadCache(cache)
	if err != nil {
		return err
	}
	return writeTable(out, lines)
}

// proxyURL is the first URL of GOPROXY (the environment's, else go env's).
func proxyURL() (string, error) {
	v := os.Getenv("GOPROXY")
	if v == "" {
		b, err := exec.Command("go", "env", "GOPROXY").Output()
		if err != nil {
			return "", fmt.Errorf("go env GOPROXY: %w", err)
		}
		v = strings.TrimSpace(string(b))
	}
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '|' }) {
		if strings.HasPrefix(p, "https://") || strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "file://") {
			return strings.TrimSuffix(p, "/"), nil
		}
	}
	return "", fmt.Errorf("GOPROXY %q names no proxy URL: the sources come from a Go module proxy", v)
}

type fetcher struct {
	proxy string
	http  *http.Client
}

// served asks the proxy whether it serves release v.
func (f *fetcher) served(ctx context.Context, v string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.proxy+"/"+module+"/@v/"+v+".info", nil)
	if err != nil {
		return false, err
	}
	resp, err := f.http.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	switch {
	case resp.StatusCode == http.StatusOK:
		return true, nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone || resp.StatusCode == http.StatusForbidden:
		// 403: a proxy that refuses what it does not serve.
		return false, nil
	}
	return false, fmt.Errorf("%s@%s: the proxy answered %s", module, v, resp.Status)
}

// versions lists the releases v1.firstMinor.0 … v1.lastMinor.N the proxy
// serves, probing patch numbers until maxGap in a row are missing.
func (f *fetcher) versions(ctx context.Context) ([]string, error) {
	type res struct {
		minor, patch int
		ok           bool
		err          error
	}
	var out []string
	for minor := firstMinor; minor <= lastMinor; minor++ {
		// Probe in windows of maxGap, in parallel, until a window is empty.
		for base := 0; ; base += maxGap {
			results := make([]res, maxGap)
			var wg sync.WaitGroup
			for i := range maxGap {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := f.served(ctx, fmt.Sprintf("v1.%d.%d", minor, base+i))
					results[i] = res{minor, base + i, ok, err}
				}()
			}
			wg.Wait()
			any := false
			for _, r := range results {
				if r.err != nil {
					return nil, r.err
				}
				if r.ok {
					any = true
					out = append(out, fmt.Sprintf("v1.%d.%d", r.minor, r.patch))
				}
			}
			if !any {
				break
			}
		}
	}
	if len(out) == 0 || out[0] != source.First {
		return nil, fmt.Errorf("the proxy does not serve %s@%s: found %v", module, source.First, out)
	}
	return out, nil
}

// fetchAll fetches the releases not yet in the cache, four at a time.
func (f *fetcher) fetchAll(ctx context.Context, cache string, versions []string) (int, error) {
	var todo []string
	for _, v := range versions {
		if !source.Cached(cache, v) {
			todo = append(todo, v)
		}
	}
	work := make(chan string)
	errs := make(chan error, len(todo))
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range work {
				errs <- f.fetch(ctx, cache, v)
			}
		}()
	}
	for _, v := range todo {
		work <- v
	}
	close(work)
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return len(todo), errors.Join(all...)
}

// fetch reads the two files of release v from its module zip.
func (f *fetcher) fetch(ctx context.Context, cache, v string) error {
	url := f.proxy + "/" + module + "/@v/" + v + ".zip"
	ra, size, err := openRange(ctx, f.http, url)
	if err != nil {
		return err
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	want := map[string]string{
		module + "@" + v + "/" + source.CalculatorFile: filepath.Base(source.CalculatorFile),
		module + "@" + v + "/" + source.ControllerFile: filepath.Base(source.ControllerFile),
	}
	got := map[string][]byte{}
	for _, zf := range zr.File {
		name, ok := want[zf.Name]
		if !ok {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("%s %s: %w", url, zf.Name, err)
		}
		got[name] = b
	}
	if len(got) != len(want) {
		return fmt.Errorf("%s: %d of the files %v", url, len(got), want)
	}
	dir := filepath.Join(cache, v)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// The calculator last: its presence marks the release as cached.
	for _, name := range []string{filepath.Base(source.ControllerFile), filepath.Base(source.CalculatorFile)} {
		if err := writeAtomic(filepath.Join(dir, name), got[name]); err != nil {
			return err
		}
	}
	return nil
}

// rangeReader is an io.ReaderAt over HTTP range requests, in blocks it
// keeps: archive/zip reads the central directory in many small pieces,
// and one request per piece would cost a round trip each.
type rangeReader struct {
	ctx    context.Context
	c      *http.Client
	url    string
	size   int64
	blocks map[int64][]byte
}

const blockSize = 512 << 10

func openRange(ctx context.Context, c *http.Client, url string) (*rangeReader, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, 0, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ContentLength <= 0 {
		return nil, 0, fmt.Errorf("HEAD %s: %s, length %d", url, resp.Status, resp.ContentLength)
	}
	if resp.Header.Get("Accept-Ranges") != "bytes" {
		return nil, 0, fmt.Errorf("HEAD %s: the proxy does not serve byte ranges", url)
	}
	return &rangeReader{ctx: ctx, c: c, url: url, size: resp.ContentLength, blocks: map[int64][]byte{}}, resp.ContentLength, nil
}

func (r *rangeReader) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		at := off + int64(n)
		if at >= r.size {
			return n, io.EOF
		}
		b, err := r.block(at / blockSize)
		if err != nil {
			return n, err
		}
		n += copy(p[n:], b[at%blockSize:])
	}
	return n, nil
}

// block fetches block i once.
func (r *rangeReader) block(i int64) ([]byte, error) {
	if b, ok := r.blocks[i]; ok {
		return b, nil
	}
	start := i * blockSize
	end := min(start+blockSize, r.size) - 1
	req, err := http.NewRequestWithContext(r.ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Range", "bytes="+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(end, 10))
	resp, err := r.c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent {
		return nil, fmt.Errorf("GET %s bytes %d-%d: %s", r.url, start, end, resp.Status)
	}
	b := make([]byte, end-start+1)
	if _, err := io.ReadFull(resp.Body, b); err != nil {
		return nil, fmt.Errorf("GET %s bytes %d-%d: %w", r.url, start, end, err)
	}
	r.blocks[i] = b
	return b, nil
}

func writeTable(out string, lines []source.Line) error {
	var b bytes.Buffer
	b.WriteString("// Code generated by internal/diagnose/source/gen from the k8s.io/kubernetes module sources; DO NOT EDIT.\n\n")
	b.WriteString("package source\n\n")
	b.WriteString("// Table is every release from First to the newest v1.37 patch the module\n// proxy served when it was generated, oldest first.\n")
	b.WriteString("func Table() []Line {\n\treturn []Line{\n")
	sort.Slice(lines, func(i, j int) bool { return source.Less(lines[i].Version, lines[j].Version) })
	for _, l := range lines {
		fmt.Fprintf(&b, "\t\t{%q, %d, %d},\n", l.Version, l.Object, l.External)
	}
	b.WriteString("\t}\n}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		return err
	}
	return writeAtomic(out, src)
}

func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
