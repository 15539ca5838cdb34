package cluster

import (
	"errors"
	"io"
	"slices"
	"sync"
	"time"
)

// standIn is a stand-in for kind's provider: clusters are names with node
// labels; nothing runs.
type standIn struct {
	mu       sync.Mutex
	clusters map[string]map[string]string // name → node labels
	listErr  error
	created  []string
	deleted  []string
	configs  [][]byte
}

func newStandIn() *standIn { return &standIn{clusters: map[string]map[string]string{}} }

func (s *standIn) Runtime() string { return "docker" }

func (s *standIn) List() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listErr != nil {
		return nil, s.listErr
	}
	var names []string
	for n := range s.clusters {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

func (s *standIn) Create(name string, config []byte, _ time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clusters[name]; ok {
		return errors.New("node(s) already exist for a cluster with the name " + name)
	}
	labels := Config(ConfigOptions{Name: name}).Nodes[0].Labels
	s.clusters[name] = labels
	s.created = append(s.created, name)
	s.configs = append(s.configs, config)
	return nil
}

func (s *standIn) Delete(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.clusters, name)
	s.deleted = append(s.deleted, name)
	return nil
}

func (s *standIn) KubeConfig(name string) (string, error) { return "", errors.New("stand-in: no API") }

func (s *standIn) NodeLabels(name string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.clusters[name]
	if !ok {
		return nil, errors.New("no such cluster")
	}
	return l, nil
}

func (s *standIn) NodeArch(string) (string, error) { return "x86_64", nil }

func (s *standIn) ImageIDs(string, string) ([]string, error) { return []string{""}, nil }

func (s *standIn) LoadImageArchive(string, func() (io.ReadCloser, error)) error { return nil }

var _ Provider = (*standIn)(nil)

// blockingProvider's Create never returns until block is closed.
type blockingProvider struct {
	*standIn
	block chan struct{}
}

func (b *blockingProvider) Create(string, []byte, time.Duration) error { <-b.block; return nil }
