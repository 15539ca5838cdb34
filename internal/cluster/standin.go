package cluster

import (
	"errors"
	"io"
	"slices"
	"sync"
	"time"
)

// StandIn is a stand-in for kind's provider, for tests of what dojo asks of
// kind: clusters are names with node labels, nothing runs, and it has no API
// server. It records what was created and deleted.
type StandIn struct {
	mu       sync.Mutex
	clusters map[string]map[string]string // name → node labels
	halfMade map[string]bool              // listed, but the node cannot be read
	// Block, when set, makes Create wait for it to close (kind's create
	// cannot be cancelled).
	Block chan struct{}
	// Revive is how many deletes of a cluster leave it there (kind's
	// in-flight command of an interrupted create bringing the node back).
	Revive  int
	created []string
	deleted []string
}

var _ Provider = (*StandIn)(nil)

// NewStandIn returns a stand-in with no clusters.
func NewStandIn() *StandIn {
	return &StandIn{clusters: map[string]map[string]string{}, halfMade: map[string]bool{}}
}

// Add makes a cluster exist with these node labels (nil: the labels dojo
// gives the clusters it creates).
func (s *StandIn) Add(name string, labels map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if labels == nil {
		labels = Config(ConfigOptions{Name: name}).Nodes[0].Labels
	}
	s.clusters[name] = labels
}

// AddHalfMade makes a cluster exist as kind leaves a create interrupted
// before it wrote the node's kubeadm configuration (seen on a real kind
// cluster: TestUpOnKind): kind lists it, but its node says nothing, so its
// labels cannot be read.
func (s *StandIn) AddHalfMade(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clusters[name] = nil
	s.halfMade[name] = true
}

// Created and Deleted are the names passed to Create and Delete, in order.
func (s *StandIn) Created() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.created)
}

// Deleted: see Created.
func (s *StandIn) Deleted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deleted)
}

func (s *StandIn) Runtime() string { return "docker" }

func (s *StandIn) List() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for n := range s.clusters {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

func (s *StandIn) Create(name string, _ []byte, _ time.Duration) error {
	if s.Block != nil {
		<-s.Block
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clusters[name]; ok {
		return errors.New("node(s) already exist for a cluster with the name " + name)
	}
	s.clusters[name] = Config(ConfigOptions{Name: name}).Nodes[0].Labels
	s.created = append(s.created, name)
	return nil
}

func (s *StandIn) Delete(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleted = append(s.deleted, name)
	if s.Revive > 0 {
		s.Revive--
		return nil
	}
	delete(s.clusters, name)
	delete(s.halfMade, name)
	return nil
}

func (s *StandIn) KubeConfig(string) (string, error) {
	return "", errors.New("stand-in: no API server")
}

func (s *StandIn) NodeLabels(name string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.clusters[name]
	if !ok {
		return nil, errors.New("no such cluster")
	}
	if s.halfMade[name] {
		return nil, errors.New(`failed to get role for node: command "docker inspect --format '{{ index .Config.Labels "io.x-k8s.kind.role"}}' ` + name + `-control-plane" failed with error: exit status 1`)
	}
	return l, nil
}

func (s *StandIn) NodeArch(string) (string, error) { return "x86_64", nil }

func (s *StandIn) ImageIDs(string, string) ([]string, error) { return []string{""}, nil }

func (s *StandIn) LoadImageArchive(string, func() (io.ReadCloser, error)) error { return nil }
