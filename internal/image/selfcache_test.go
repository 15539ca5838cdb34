package image

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestBinaryKeyChangesWithTheBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "dojo")
	os.WriteFile(bin, []byte("one"), 0o755)
	k1, err := binaryKey(bin, "v1", "x86_64")
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := binaryKey(bin, "v1", "amd64"); k != k1 {
		t.Fatalf("x86_64 and amd64 are one architecture: %q vs %q", k, k1)
	}
	for name, change := range map[string]func() (string, error){
		"version": func() (string, error) { return binaryKey(bin, "v2", "x86_64") },
		"arch":    func() (string, error) { return binaryKey(bin, "v1", "aarch64") },
		"content": func() (string, error) {
			os.WriteFile(bin, []byte("two!"), 0o755)
			return binaryKey(bin, "v1", "x86_64")
		},
		"mtime": func() (string, error) {
			later := time.Now().Add(time.Hour)
			os.Chtimes(bin, later, later)
			return binaryKey(bin, "v1", "x86_64")
		},
	} {
		k, err := change()
		if err != nil || k == k1 {
			t.Errorf("%s changed, key did not: %q (%v)", name, k, err)
		}
	}
}

func TestKnownRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	if _, ok := LookupKnown(dir, "k"); ok {
		t.Fatal("found something in an empty cache")
	}
	want := Known{Ref: "ghcr.io/kubedojo/dojo:dev", ID: "sha256:abc"}
	if err := RecordKnown(dir, "k", want); err != nil {
		t.Fatal(err)
	}
	if got, ok := LookupKnown(dir, "k"); !ok || got != want {
		t.Fatalf("LookupKnown = %+v %v", got, ok)
	}
	if _, ok := LookupKnown(dir, "other"); ok {
		t.Fatal("another key matched")
	}
	// A new binary replaces the record; a damaged file is no record.
	RecordKnown(dir, "k2", want)
	if _, ok := LookupKnown(dir, "k"); ok {
		t.Fatal("the old binary's record was kept")
	}
	os.WriteFile(filepath.Join(dir, knownFile), []byte("{"), 0o644)
	if _, ok := LookupKnown(dir, "k2"); ok {
		t.Fatal("a damaged record was believed")
	}
	if _, ok := LookupKnown("", "k"); ok || RecordKnown("", "k", want) != nil {
		t.Fatal("no directory must mean no record and no error")
	}
}

// BenchmarkKnownDecision is what a second dojo up spends deciding that the
// running dojo's image is the one recorded (the nodes' own image query
// excluded).
//
//	go test -run '^$' -bench KnownDecision ./internal/image
func BenchmarkKnownDecision(b *testing.B) {
	dir := b.TempDir()
	key, err := SelfKey("v0.0.0-bench", "x86_64")
	if err != nil {
		b.Fatal(err)
	}
	RecordKnown(dir, key, Known{Ref: "r", ID: "sha256:x"})
	for b.Loop() {
		k, err := SelfKey("v0.0.0-bench", "x86_64")
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := LookupKnown(dir, k); !ok {
			b.Fatal("not found")
		}
	}
}
