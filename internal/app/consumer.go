package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
)

// Backoff while Redis does not answer: doubled from minBackoff up to maxBackoff.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 2 * time.Second
	// defaultBlockTimeout is how long one BLMOVE waits for an item; it bounds
	// how long an idle consumer takes to notice SIGTERM.
	defaultBlockTimeout = time.Second
	// maxBlockTimeout stays under the client's read timeout (3 s).
	maxBlockTimeout = 2 * time.Second
)

// requeueScript moves every item of a consumer's processing list back to the
// head of the queue, oldest first, in one atomic step. Unless ARGV[2] is
// "force", it does nothing while the consumer's heartbeat key exists, and
// after moving the items it drops the consumer from the set. Two consumers
// recovering the same dead one at once are safe: the script runs atomically,
// so the second finds the list empty.
//
// KEYS: queue, processing list, heartbeat key, consumers set. ARGV: consumer
// id, "force" or "".
const requeueScript = `
if ARGV[2] ~= "force" and redis.call("EXISTS", KEYS[3]) == 1 then
  return -1
end
local n = 0
while redis.call("LMOVE", KEYS[2], KEYS[1], "RIGHT", "LEFT") do
  n = n + 1
end
if ARGV[2] ~= "force" then
  redis.call("SREM", KEYS[4], ARGV[1])
end
return n
`

// ConsumerOptions configure the consumer.
type ConsumerOptions struct {
	CommonOptions
	// WorkTime is how long the consumer works on each item (0: no work).
	WorkTime time.Duration
	// HeartbeatTTL is how long the consumer's heartbeat key lives; it is
	// refreshed every third of it. When it lapses (the consumer was killed),
	// other consumers move the consumer's unfinished items back to the queue.
	// They look for such items every HeartbeatTTL.
	HeartbeatTTL time.Duration
	// ID names this consumer instance; empty means hostname plus a random
	// suffix, so two restarts never share a processing list.
	ID string
	// BlockTimeout is how long one BLMOVE waits; 0 means 1 s.
	BlockTimeout time.Duration
}

// Validate names the first bad value.
func (o ConsumerOptions) Validate() error {
	if err := o.validate(); err != nil {
		return err
	}
	if o.WorkTime < 0 {
		return fmt.Errorf("work time %s is negative: use 0 or more, such as %s", o.WorkTime, DefaultWorkTime)
	}
	if o.HeartbeatTTL < 100*time.Millisecond {
		return fmt.Errorf("heartbeat TTL %s is too short: use 100ms or more (default %s)", o.HeartbeatTTL, DefaultHeartbeatTTL)
	}
	if o.BlockTimeout < 0 || o.BlockTimeout > maxBlockTimeout {
		return fmt.Errorf("block timeout %s is out of range: use 0 (default %s) up to %s", o.BlockTimeout, defaultBlockTimeout, maxBlockTimeout)
	}
	return nil
}

// Consumer takes items from the queue one at a time, at least once: an item
// stays in the consumer's own processing list until its work is done.
type Consumer struct {
	opts   ConsumerOptions
	log    *slog.Logger
	rdb    *redis.Client
	id     string
	keys   consumerKeys
	script *redis.Script

	inFlight  atomic.Int64
	processed atomic.Int64
	reg       *prometheus.Registry
	consumed  prometheus.Counter
	gauge     prometheus.Gauge
	seconds   prometheus.Histogram
	recovered prometheus.Counter
	redisErrs prometheus.Counter
}

type consumerKeys struct {
	queue, processing, heartbeat, consumers string
}

func keysFor(queue, id string) consumerKeys {
	return consumerKeys{
		queue:      queue,
		processing: queue + ":processing:" + id,
		heartbeat:  queue + ":heartbeat:" + id,
		consumers:  queue + ":consumers",
	}
}

// NewConsumer validates o and prepares a consumer. It does not dial Redis.
func NewConsumer(o ConsumerOptions) (*Consumer, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.BlockTimeout == 0 {
		o.BlockTimeout = defaultBlockTimeout
	}
	id := o.ID
	if id == "" {
		host, _ := os.Hostname()
		if host == "" {
			host = "consumer"
		}
		id = host + "-" + newID(3)
	}
	c := &Consumer{
		opts:   o,
		log:    o.logger().With("consumer", id),
		rdb:    newRedisClient(o.RedisAddr),
		id:     id,
		keys:   keysFor(o.Queue, id),
		script: redis.NewScript(requeueScript),
		reg:    prometheus.NewRegistry(),
		consumed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dojo_consumer_items_consumed_total",
			Help: "Items this consumer finished working on.",
		}),
		gauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dojo_consumer_items_in_flight",
			Help: "Items this consumer is working on now (0 or 1).",
		}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "dojo_consumer_processing_seconds",
			Help:    "Time from taking an item to having finished it.",
			Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 1.1, 1.5, 2, 5},
		}),
		recovered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dojo_consumer_items_recovered_total",
			Help: "Items this consumer moved back to the queue from consumers whose heartbeat had expired.",
		}),
		redisErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dojo_consumer_redis_errors_total",
			Help: "Redis commands that failed (the consumer retries with backoff).",
		}),
	}
	c.reg.MustRegister(c.consumed, c.gauge, c.seconds, c.recovered, c.redisErrs,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return c, nil
}

// ID is the consumer's instance id; its processing list is
// "<queue>:processing:<id>".
func (c *Consumer) ID() string { return c.id }

// Processed is how many items this consumer has finished.
func (c *Consumer) Processed() int64 { return c.processed.Load() }

// Close releases the Redis connections.
func (c *Consumer) Close() error { return c.rdb.Close() }

// Handler serves GET /livez, GET /healthz and GET /metrics.
func (c *Consumer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/livez", handleLive)
	mux.HandleFunc("/healthz", c.handleHealth)
	mux.Handle("/metrics", methods(promhttp.HandlerFor(c.reg, promhttp.HandlerOpts{Registry: c.reg}), http.MethodGet, http.MethodHead))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint %s: the consumer serves GET /livez, GET /healthz and GET /metrics", r.URL.Path)
	})
	return mux
}

func (c *Consumer) handleHealth(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	inFlight := c.inFlight.Load()
	if err := pingRedis(r.Context(), c.rdb); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, HealthBody{Status: "unhealthy", Redis: c.opts.RedisAddr,
			Error:    fmt.Sprintf("redis at %s does not answer: %v", c.opts.RedisAddr, err),
			Consumer: c.id, InFlight: &inFlight})
		return
	}
	writeJSON(w, http.StatusOK, HealthBody{Status: "ok", Redis: c.opts.RedisAddr, Consumer: c.id, InFlight: &inFlight})
}

// RunConsumer serves /healthz and /metrics and consumes until ctx is done.
// Then it takes no new item, finishes the current one, and returns nil.
func RunConsumer(ctx context.Context, o ConsumerOptions) error {
	c, err := NewConsumer(o)
	if err != nil {
		return err
	}
	defer c.Close()
	l, err := listen(o.CommonOptions)
	if err != nil {
		return err
	}
	stop := httpServer(l, c.Handler(), c.log)
	c.log.Info("consumer started", "listen", l.Addr().String(), "redis", o.RedisAddr, "queue", o.Queue,
		"work_time", c.opts.WorkTime, "heartbeat_ttl", c.opts.HeartbeatTTL)
	c.Run(ctx)
	if err := stop(); err != nil {
		return err
	}
	c.log.Info("consumer stopped")
	return nil
}

// Run consumes until ctx is done (without the HTTP server).
func (c *Consumer) Run(ctx context.Context) {
	// Register before taking anything: an item must never sit in a
	// processing list that has no heartbeat, or it would be "recovered"
	// while being worked on.
	b := c.newBackoff()
	for ctx.Err() == nil {
		if err := c.beat(ctx); err != nil {
			b.fail(ctx, "registering the consumer", err)
			continue
		}
		b.ok()
		break
	}
	if ctx.Err() != nil {
		c.log.Info("stopped before registering")
		return
	}

	bg, stopBg := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{}, 2)
	go func() { c.heartbeatLoop(bg); done <- struct{}{} }()
	go func() { c.recoverLoop(bg); done <- struct{}{} }()

	c.consumeLoop(ctx)

	stopBg()
	<-done
	<-done
	c.deregister()
}

// consumeLoop takes one item at a time until ctx is done.
func (c *Consumer) consumeLoop(ctx context.Context) {
	b := c.newBackoff()
	// dirty: a Redis error happened, so the processing list may hold an item
	// that was moved but whose reply never arrived. Move it back before
	// taking more.
	dirty := false
	// BLMOVE runs with a context that is not cancelled: cancelling it midway
	// could leave an item moved into the processing list without our knowing.
	// The block timeout bounds how long SIGTERM waits.
	cmdCtx := context.WithoutCancel(ctx)
	for ctx.Err() == nil {
		if dirty {
			if _, err := c.requeueOwn(cmdCtx); err != nil {
				b.fail(ctx, "moving our unfinished items back to the queue", err)
				continue
			}
			dirty = false
		}
		raw, err := c.take(cmdCtx)
		if errors.Is(err, redis.Nil) {
			b.ok()
			continue // nothing arrived within the block timeout
		}
		if err != nil {
			dirty = true
			b.fail(ctx, "waiting for an item", err)
			continue
		}
		b.ok()
		if ctx.Err() != nil {
			// Told to stop while waiting: give the item back untouched.
			c.log.Info("stopping: item given back to the queue", "item", parseItem(raw).ID)
			dirty = true
			break
		}
		if !c.process(ctx, raw) {
			dirty = true
		}
	}
	if dirty {
		ctx, cancel := context.WithTimeout(cmdCtx, 2*time.Second)
		defer cancel()
		if _, err := c.requeueOwn(ctx); err != nil {
			c.log.Warn("could not move our unfinished items back; another consumer will once our heartbeat expires", "err", err)
		}
	}
}

// take moves the oldest item of the queue to our processing list, waiting
// up to BlockTimeout (redis.Nil when none came). go-redis's BLMove rounds a
// timeout under 1 s up to 1 s; Redis itself takes fractions of a second.
func (c *Consumer) take(ctx context.Context) (string, error) {
	return c.rdb.Do(ctx, "BLMOVE", c.keys.queue, c.keys.processing, "LEFT", "RIGHT", blockSeconds(c.opts.BlockTimeout)).Text()
}

// blockSeconds is BLMOVE's timeout argument: seconds, with as many decimals
// as d needs (250ms is "0.25", not rounded to a whole second).
func blockSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// process works on one item, then removes it from the processing list. It
// reports false when the removal failed (the item stays in the list).
func (c *Consumer) process(ctx context.Context, raw string) bool {
	it := parseItem(raw)
	start := time.Now()
	c.inFlight.Add(1)
	c.gauge.Inc()
	attrs := []any{"item", it.ID}
	if !it.Created.IsZero() {
		attrs = append(attrs, "waited", start.Sub(it.Created).Round(time.Millisecond))
	}
	c.log.Info("item arrived", attrs...)

	if c.opts.WorkTime > 0 {
		// The work is not interrupted by SIGTERM: the item is finished first.
		time.Sleep(c.opts.WorkTime)
	}

	removed := false
	b := c.newBackoff()
	cmdCtx := context.WithoutCancel(ctx)
	for {
		n, err := c.rdb.LRem(cmdCtx, c.keys.processing, 1, raw).Result()
		if err == nil {
			removed = true
			if n == 0 {
				c.log.Warn("item was no longer in our processing list (Redis restarted, or our heartbeat lapsed and another consumer requeued it: it may be processed twice)", "item", it.ID)
			}
			break
		}
		if ctx.Err() != nil {
			c.log.Warn("could not mark the item done before stopping; it will be processed again", "item", it.ID, "err", err)
			break
		}
		b.fail(ctx, "marking the item done", err)
	}
	took := time.Since(start)
	c.inFlight.Add(-1)
	c.gauge.Dec()
	c.consumed.Inc()
	c.processed.Add(1)
	c.seconds.Observe(took.Seconds())
	c.log.Info("item done", "item", it.ID, "took", took.Round(time.Millisecond))
	return removed
}

// beat registers the consumer and refreshes its heartbeat, atomically, so
// that a consumer is in the set only with a live heartbeat (also right after
// Redis restarted empty).
func (c *Consumer) beat(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.HeartbeatTTL)
	defer cancel()
	_, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SAdd(ctx, c.keys.consumers, c.id)
		p.Set(ctx, c.keys.heartbeat, time.Now().UTC().Format(time.RFC3339Nano), c.opts.HeartbeatTTL)
		return nil
	})
	if err != nil {
		c.redisErrs.Inc()
	}
	return err
}

func (c *Consumer) heartbeatLoop(ctx context.Context) {
	t := time.NewTicker(c.opts.HeartbeatTTL / 3)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := c.beat(ctx); err != nil {
			if !failing && ctx.Err() == nil {
				c.log.Warn("heartbeat failed; retrying", "err", err)
			}
			failing = true
			continue
		}
		if failing {
			c.log.Info("heartbeat back")
		}
		failing = false
	}
}

// recoverLoop looks for dead consumers at start and every HeartbeatTTL.
func (c *Consumer) recoverLoop(ctx context.Context) {
	t := time.NewTicker(c.opts.HeartbeatTTL)
	defer t.Stop()
	for {
		if _, err := c.RecoverDead(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("looking for dead consumers failed; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RecoverDead moves the unfinished items of every consumer whose heartbeat
// has expired back to the head of the queue, and returns how many it moved.
func (c *Consumer) RecoverDead(ctx context.Context) (int64, error) {
	ids, err := c.rdb.SMembers(ctx, c.keys.consumers).Result()
	if err != nil {
		c.redisErrs.Inc()
		return 0, err
	}
	var total int64
	for _, id := range ids {
		if id == c.id {
			continue
		}
		k := keysFor(c.opts.Queue, id)
		n, err := c.script.Run(ctx, c.rdb, []string{k.queue, k.processing, k.heartbeat, k.consumers}, id, "").Int64()
		if err != nil {
			c.redisErrs.Inc()
			return total, err
		}
		if n > 0 {
			total += n
			c.recovered.Add(float64(n))
			c.log.Warn("recovered unfinished items of a dead consumer", "dead_consumer", id, "items", n)
		} else if n == 0 {
			c.log.Info("forgot a dead consumer", "dead_consumer", id)
		}
	}
	return total, nil
}

// requeueOwn moves this consumer's processing list back to the queue.
func (c *Consumer) requeueOwn(ctx context.Context) (int64, error) {
	k := c.keys
	n, err := c.script.Run(ctx, c.rdb, []string{k.queue, k.processing, k.heartbeat, k.consumers}, c.id, "force").Int64()
	if err != nil {
		c.redisErrs.Inc()
		return 0, err
	}
	if n > 0 {
		c.log.Info("moved our unfinished items back to the queue", "items", n)
	}
	return n, nil
}

// deregister removes the heartbeat and set entry on a clean stop, so nobody
// has to wait for the TTL. It stays registered while its processing list
// still holds items (giving them back failed): recovery only looks at
// registered consumers, so leaving would lose those items for good.
func (c *Consumer) deregister() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if n, err := c.rdb.LLen(ctx, c.keys.processing).Result(); err != nil || n > 0 {
		c.log.Warn("staying registered: unfinished items remain; another consumer recovers them once our heartbeat expires", "items", n, "err", err)
		return
	}
	_, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, c.keys.heartbeat)
		p.SRem(ctx, c.keys.consumers, c.id)
		return nil
	})
	if err != nil {
		c.log.Warn("could not deregister; the heartbeat will expire by itself", "err", err)
	}
}

// backoff waits between failed Redis calls and logs the outage once.
type backoff struct {
	c       *Consumer
	next    time.Duration
	failing bool
}

func (c *Consumer) newBackoff() *backoff { return &backoff{c: c, next: minBackoff} }

func (b *backoff) fail(ctx context.Context, doing string, err error) {
	b.c.redisErrs.Inc()
	if !b.failing {
		b.c.log.Warn("redis error; retrying with backoff", "doing", doing, "redis", b.c.opts.RedisAddr, "err", oneLine(err))
	}
	b.failing = true
	sleepCtx(ctx, b.next)
	b.next = min(2*b.next, maxBackoff)
}

func (b *backoff) ok() {
	if b.failing {
		b.c.log.Info("redis back", "redis", b.c.opts.RedisAddr)
	}
	b.failing = false
	b.next = minBackoff
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }
