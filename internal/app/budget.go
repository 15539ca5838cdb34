package app

import (
	"context"
	"sync"
)

// itemBudget bounds how many items all publishes in progress hold at once,
// so that the producer's memory stays bounded however many requests arrive
// together. A publish takes as many units as it has items before it builds
// anything and gives them back when Redis has answered. Waiters are served
// in arrival order, so a large publish is not starved by small ones.
type itemBudget struct {
	mu      sync.Mutex
	size    int
	free    int
	waiters []*budgetWaiter
}

type budgetWaiter struct {
	n     int
	ready chan struct{}
}

func newItemBudget(size int) *itemBudget {
	return &itemBudget{size: size, free: size}
}

// acquire takes n units, waiting until they are free or ctx ends (then it
// returns ctx's error and holds nothing). n must not exceed the budget's size.
func (b *itemBudget) acquire(ctx context.Context, n int) error {
	b.mu.Lock()
	if len(b.waiters) == 0 && b.free >= n {
		b.free -= n
		b.mu.Unlock()
		return nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-w.ready:
		// Granted while we gave up: hand the units on.
		b.free += n
	default:
		for i, x := range b.waiters {
			if x == w {
				b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
				break
			}
		}
	}
	b.grantLocked()
	return ctx.Err()
}

// release gives back n units taken by acquire.
func (b *itemBudget) release(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.free += n
	b.grantLocked()
}

// inUse is how many units are taken.
func (b *itemBudget) inUse() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.size - b.free
}

func (b *itemBudget) grantLocked() {
	for len(b.waiters) > 0 && b.waiters[0].n <= b.free {
		w := b.waiters[0]
		b.waiters[0] = nil
		b.waiters = b.waiters[1:]
		b.free -= w.n
		close(w.ready)
	}
}
