package source

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Cached says whether release v's sources are in the cache directory.
func Cached(cache, v string) bool {
	_, err := os.Stat(filepath.Join(cache, v, filepath.Base(CalculatorFile)))
	return err == nil
}

// Versions reads versions.txt: the releases the proxy served at the last
// fetch.
func Versions(cache string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(cache, "versions.txt"))
	if err != nil {
		return nil, fmt.Errorf("the Kubernetes sources are not fetched (%w): make hpa-sources", err)
	}
	return strings.Fields(string(b)), nil
}

// ReadCache extracts the table's rows from every release of versions.txt.
func ReadCache(cache string) ([]Line, error) {
	versions, err := Versions(cache)
	if err != nil {
		return nil, err
	}
	var out []Line
	for _, v := range versions {
		src, err := os.ReadFile(filepath.Join(cache, v, filepath.Base(CalculatorFile)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w (make hpa-sources)", v, err)
		}
		c, err := Extract(src)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v, err)
		}
		out = append(out, Line{Version: v, Object: c.Object.Line, External: c.External.Line})
	}
	return out, nil
}

// Less orders releases "v1.30.2" < "v1.30.10" < "v1.31.0".
func Less(a, b string) bool {
	pa, pb := parts(a), parts(b)
	for i := range pa {
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	return false
}

func parts(v string) [3]int {
	var p [3]int
	for i, s := range strings.SplitN(strings.TrimPrefix(Base(v), "v"), ".", 3) {
		p[i], _ = strconv.Atoi(s)
	}
	return p
}
