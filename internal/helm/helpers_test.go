package helm

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/versions"
)

func embeddedTraefik() versions.Chart { return versions.Traefik }

// copyEmbedded copies an embedded directory to dst, as workspace.Init does.
func copyEmbedded(t testing.TB, src, dst string) {
	t.Helper()
	err := fs.WalkDir(embedded.FS(), src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		out := filepath.Join(dst, filepath.FromSlash(strings.TrimPrefix(strings.TrimPrefix(p, src), "/")))
		if e.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		b, err := fs.ReadFile(embedded.FS(), p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
