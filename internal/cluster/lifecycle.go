package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kubedojo/dojo/internal/workshop"
)

// CreateWait is how long kind waits for the control plane after creating it.
const CreateWait = 2 * time.Minute

// Create makes the cluster from dojo's configuration. kind's create cannot
// be cancelled; when ctx ends first Create returns ctx's error at once and
// leaves kind's half-made cluster behind, which the next dojo up recognises
// (by OwnerLabel, or, before kind labelled the node, by the creating marker
// the caller wrote: MarkCreating) and recreates (see Recreate).
func Create(ctx context.Context, p Provider, o ConfigOptions) error {
	if o.Name == "" {
		o.Name = workshop.ClusterName
	}
	raw, err := RenderConfig(o)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- p.Create(o.Name, raw, CreateWait) }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("creating the kind cluster %q: %w", o.Name, err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// NotOwnedError is a cluster dojo did not create; dojo will not delete it.
type NotOwnedError struct {
	Name   string
	Reason string
	// Unreadable: its node could not be read at all (no labels to go by),
	// as kind leaves a create interrupted before it labelled the node.
	Unreadable bool
}

func (e *NotOwnedError) Error() string {
	return fmt.Sprintf("cluster %q was not created by dojo (%s): dojo does not delete it; use `kind delete cluster --name %s` if you mean to", e.Name, e.Reason, e.Name)
}

// NotFoundError is a cluster name that does not exist.
type NotFoundError struct {
	Name     string
	Existing []string
}

func (e *NotFoundError) Error() string {
	if len(e.Existing) == 0 {
		return fmt.Sprintf("there is no kind cluster named %q (no kind cluster exists)", e.Name)
	}
	return fmt.Sprintf("there is no kind cluster named %q (existing: %s)", e.Name, strings.Join(e.Existing, ", "))
}

// CheckOwned returns nil when the cluster exists and carries dojo's owner
// label with its own name, a *NotFoundError or *NotOwnedError otherwise.
func CheckOwned(p Provider, name string) error {
	names, err := p.List()
	if err != nil {
		return err
	}
	if !slices.Contains(names, name) {
		return &NotFoundError{Name: name, Existing: names}
	}
	labels, err := p.NodeLabels(name)
	if err != nil {
		return &NotOwnedError{Name: name, Reason: "its node cannot be read: " + err.Error(), Unreadable: true}
	}
	switch v, ok := labels[OwnerLabel]; {
	case !ok:
		return &NotOwnedError{Name: name, Reason: "its node has no " + OwnerLabel + " label"}
	case v != name:
		return &NotOwnedError{Name: name, Reason: fmt.Sprintf("its node's %s label says %q", OwnerLabel, v)}
	}
	return nil
}

// Teardown deletes the kind cluster name and its kubeconfig entries, and
// nothing else: it refuses a cluster that does not exist or that dojo did
// not create. halfMade says dojo's own create of that name was interrupted
// (WasCreating): a node that cannot be read is then dojo's.
func Teardown(p Provider, name string, halfMade bool) error {
	if name == "" {
		name = workshop.ClusterName
	}
	if err := checkOwnedOrHalfMade(p, name, halfMade); err != nil {
		return err
	}
	if err := p.Delete(name); err != nil {
		return fmt.Errorf("deleting the kind cluster %q: %w", name, err)
	}
	return nil
}

// checkOwnedOrHalfMade is CheckOwned, except that an unreadable node of a
// cluster dojo was creating counts as dojo's.
func checkOwnedOrHalfMade(p Provider, name string, halfMade bool) error {
	err := CheckOwned(p, name)
	var no *NotOwnedError
	if halfMade && errors.As(err, &no) && no.Unreadable {
		return nil
	}
	return err
}

// Recreate deletes a dojo cluster that exists but does not work (a create
// interrupted by Ctrl-C) and creates it again. It refuses clusters dojo did
// not create; halfMade: see Teardown.
func Recreate(ctx context.Context, p Provider, o ConfigOptions, halfMade bool) error {
	if err := checkOwnedOrHalfMade(p, o.Name, halfMade); err != nil {
		var nf *NotFoundError
		if !errors.As(err, &nf) {
			return err
		}
	} else if err := deleteAndWait(ctx, p, o.Name, deleteSettle); err != nil {
		return err
	}
	return Create(ctx, p, o)
}

// deleteSettle bounds how long Recreate waits for a deleted cluster to be
// gone. A create interrupted a moment ago may still have a `docker run` of
// kind's in flight (kind's commands outlive the dojo that started them), which
// brings the node back after a first delete (seen on a real kind cluster).
const deleteSettle = 30 * time.Second

// deleteAndWait deletes the cluster until kind no longer lists it.
func deleteAndWait(ctx context.Context, p Provider, name string, settle time.Duration) error {
	deadline := time.Now().Add(settle)
	for {
		if err := p.Delete(name); err != nil {
			return fmt.Errorf("deleting the broken cluster %q: %w", name, err)
		}
		names, err := p.List()
		if err != nil {
			return err
		}
		if !slices.Contains(names, name) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the broken cluster %q is still there %s after deleting it: wait until `docker ps -a` shows no %s-control-plane, then run dojo up again", name, settle, name)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
