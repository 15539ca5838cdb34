package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// PublishError is a publish that did not succeed. It says whether the
// items may be in the queue all the same.
type PublishError struct {
	// InDoubt: the push may have reached Redis and no answer came back (a
	// timeout or a connection lost after the command was written). Redis
	// may have queued the items, or not; resending them may queue them
	// twice. When false, no item of this publish is queued.
	InDoubt bool
	// Busy: the producer had no room for the items (other publishes held
	// its budget); nothing was sent to Redis.
	Busy bool
	// FirstID and LastID are the ids the items were given ("" when Busy).
	FirstID, LastID string
	Err             error
}

func (e *PublishError) Error() string { return e.Err.Error() }
func (e *PublishError) Unwrap() error { return e.Err }

// sendTracker follows one publish through go-redis: it notes when the
// connection it was given failed while go-redis was still opening it (the
// HELLO handshake), that is, before the publish's own command was written.
type sendTracker struct {
	setupFailed atomic.Bool
}

type trackerKey struct{}

func withTracker(ctx context.Context) (context.Context, *sendTracker) {
	t := &sendTracker{}
	return context.WithValue(ctx, trackerKey{}, t), t
}

// setupHook is the go-redis hook that feeds sendTracker. go-redis opens a
// new connection inside the command that needs it and with that command's
// context, so the handshake's failure is seen here with the publish's
// tracker.
type setupHook struct{}

func (setupHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (setupHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err != nil && cmd.Name() == "hello" && !isRedisReply(err) {
			// A reply error (an old server without HELLO) keeps the
			// connection; anything else closes it before our command.
			if t, ok := ctx.Value(trackerKey{}).(*sendTracker); ok {
				t.setupFailed.Store(true)
			}
		}
		return err
	}
}

func (setupHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// isRedisReply: err is an error reply from the server.
func isRedisReply(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr)
}

// nothingSent reports whether err proves that Redis ran none of the
// publish's command. Anything it cannot prove is in doubt:
//   - an error reply: Redis answered and ran nothing (a refused RPUSH, or
//     EXECABORT for a transaction with a refused command);
//   - no connection: the pool had none to give, dialling failed, or the
//     new connection failed in its handshake, before our command;
//   - a failed write: the command's last bytes never left this process,
//     and Redis runs no command it has not read whole (a transaction's EXEC
//     comes last).
//
// A failed read (a timeout, the connection lost) comes after the whole
// command was written: Redis may have run it.
func nothingSent(err error, t *sendTracker) bool {
	switch {
	case isRedisReply(err),
		errors.Is(err, redis.ErrPoolTimeout),
		errors.Is(err, redis.ErrClosed),
		t != nil && t.setupFailed.Load():
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Op == "dial" || op.Op == "write"
	}
	return false
}

// classify wraps a failed push's error.
func classify(err error, t *sendTracker, first, last string) *PublishError {
	pe := &PublishError{InDoubt: !nothingSent(err, t), FirstID: first, LastID: last, Err: err}
	if pe.InDoubt {
		pe.Err = fmt.Errorf("no answer from Redis after the items were sent: %w", err)
	}
	return pe
}
