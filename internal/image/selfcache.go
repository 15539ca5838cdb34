package image

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/kubedojo/dojo/internal/state"
)

// SelfKey names the image SelfImage would build from the running dojo for
// version and a node of nodeArch: the binary's path, size and modification
// time, the version and the architecture. Equal keys build the same image,
// so its ID can be remembered instead of packaging the binary again.
func SelfKey(version, nodeArch string) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	return binaryKey(exe, version, nodeArch)
}

func binaryKey(exe, version, nodeArch string) (string, error) {
	st, err := os.Stat(exe)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s|%d|%d|%s|%s/%s", exe, st.Size(), st.ModTime().UnixNano(), version, runtime.GOOS, NormalizeArch(nodeArch)), nil
}

// Known is an image dojo built before: its reference and its ID (the digest
// of its config, as the nodes' runtime reports it).
type Known struct {
	Ref string `json:"ref"`
	ID  string `json:"id"`
}

const knownFile = "self-images.json"

// LookupKnown returns what was recorded for key in dir ("" dir: nothing).
func LookupKnown(dir, key string) (Known, bool) {
	if dir == "" {
		return Known{}, false
	}
	data, err := os.ReadFile(filepath.Join(dir, knownFile))
	if err != nil {
		return Known{}, false
	}
	m := map[string]Known{}
	if json.Unmarshal(data, &m) != nil {
		return Known{}, false
	}
	k, ok := m[key]
	return k, ok && k.ID != "" && k.Ref != ""
}

// RecordKnown remembers k for key in dir, keeping only that one entry (a new
// binary makes the old entries useless).
func RecordKnown(dir, key string, k Known) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(map[string]Known{key: k}, "", "  ")
	if err != nil {
		return err
	}
	return state.WriteFileAtomic(filepath.Join(dir, knownFile), append(data, '\n'), 0o644)
}
