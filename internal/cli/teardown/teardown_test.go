package teardown

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubedojo/dojo/embedded"
	"github.com/kubedojo/dojo/internal/workspace"
)

func TestPurgeDeletesOnlyAWorkspace(t *testing.T) {
	ws := filepath.Join(t.TempDir(), "ws")
	if _, err := workspace.Init(ws, embedded.Workspace(), workspace.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := purge(ws); err != nil {
		t.Fatalf("purge of a real workspace: %v", err)
	}
	if _, err := os.Stat(ws); !os.IsNotExist(err) {
		t.Fatalf("workspace still there: %v", err)
	}

	// A directory with a stray .dojo but no workspace charts (a home
	// directory where dojo once ran, say) is not deleted.
	stray := t.TempDir()
	os.MkdirAll(filepath.Join(stray, ".dojo"), 0o755)
	os.WriteFile(filepath.Join(stray, "precious.txt"), []byte("mine"), 0o644)
	err := purge(stray)
	if err == nil || !strings.Contains(err.Error(), "does not look like a dojo workspace") {
		t.Fatalf("purge of a stray directory = %v", err)
	}
	if _, err := os.Stat(filepath.Join(stray, "precious.txt")); err != nil {
		t.Fatalf("stray directory touched: %v", err)
	}

	// Home is never purged, even if it looks like a workspace.
	home := t.TempDir()
	t.Setenv("HOME", home)
	if _, err := workspace.Init(home, embedded.Workspace(), workspace.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := purge(home); err == nil || !strings.Contains(err.Error(), "home") {
		t.Fatalf("purge of $HOME = %v", err)
	}
}
