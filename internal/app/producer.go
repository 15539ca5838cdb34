package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
)

const (
	// pushChunk is how many items one RPUSH carries; a larger publish sends
	// several RPUSH in one MULTI/EXEC, written in one round trip.
	pushChunk = 10000

	// publishBudget is how many items all publishes in progress may hold at
	// once: two of the largest. A publish in progress holds 32 bytes per
	// item (lazyItem), so this bounds them to 6.4 MB together; ten
	// concurrent POST /publish/100000 held about 12 MB each before.
	publishBudget = 2 * MaxPublish
	// publishWait is how long a publish waits for room in publishBudget
	// before it is answered 503 (nothing sent).
	publishWait = 5 * time.Second

	// MaxWithdraw is the most items one POST /withdraw may name. Each costs
	// Redis one LREM, which stops at the item, searching from the end
	// nearer to it; an item no longer queued costs a walk of the whole list
	// (about 30-50 ms for a million items on the 2-core CI machine), so 100
	// bounds the worst withdraw to a few seconds of Redis's time, spread
	// over withdrawChunk-sized round trips. dojo check names at most 60.
	MaxWithdraw = 100
	// withdrawChunk is how many LREM one round trip carries, so Redis
	// serves other clients between them.
	withdrawChunk = 10
)

// ProducerOptions configure the producer.
type ProducerOptions struct {
	CommonOptions
}

// Validate names the first bad value.
func (o ProducerOptions) Validate() error { return o.validate() }

// Producer serves the publish API. Build it with NewProducer and serve
// Handler; RunProducer does both.
type Producer struct {
	opts   ProducerOptions
	log    *slog.Logger
	rdb    *redis.Client
	prefix string
	seq    atomic.Uint64
	now    func() time.Time

	// budget bounds the items publishes hold at once; wait is how long a
	// publish waits for room.
	budget *itemBudget
	wait   time.Duration
	// recent remembers the latest publishes, for /withdraw.
	recent *publishLog

	reg       *prometheus.Registry
	published prometheus.Counter
	errors    prometheus.Counter
	inDoubt   prometheus.Counter
	duration  *prometheus.HistogramVec
}

// NewProducer validates o and prepares a producer. It does not dial Redis.
func NewProducer(o ProducerOptions) (*Producer, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	p := &Producer{
		opts:   o,
		log:    o.logger(),
		rdb:    newRedisClient(o.RedisAddr),
		prefix: newID(3),
		now:    time.Now,
		budget: newItemBudget(publishBudget),
		wait:   publishWait,
		recent: newPublishLog(rememberedPublishes),
		reg:    prometheus.NewRegistry(),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dojo_producer_items_published_total",
			Help: "Items pushed onto the queue.",
		}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dojo_producer_publish_errors_total",
			Help: "Publish requests answered 503: no item was queued (Redis refused or could not be reached, or the producer was busy).",
		}),
		inDoubt: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dojo_producer_publish_in_doubt_total",
			Help: "Publish requests answered 504: the items were sent and Redis did not answer, so they may or may not be queued.",
		}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dojo_producer_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route and status code.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "code"}),
	}
	p.rdb.AddHook(setupHook{})
	p.reg.MustRegister(p.published, p.errors, p.inDoubt, p.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return p, nil
}

// Close releases the Redis connections.
func (p *Producer) Close() error { return p.rdb.Close() }

// Handler is the producer's HTTP API:
//
//	POST /publish      push one item
//	POST /publish/{n}  push n items (1..100000) in one round trip; 503 when
//	                   none was queued, 504 when they may or may not be
//	GET  /livez        200 while the process serves (the liveness probe)
//	GET  /healthz      200 when Redis answers PING, else 503 (readiness)
//	GET  /queue        the queue's name and length (what dojo check reads)
//	POST /withdraw     take back items this producer pushed that still wait
//	                   ({"first_id": …, "last_id": …}, at most 100 items;
//	                   dojo check's live tests)
//	GET  /metrics      Prometheus metrics
//
// docs/app.md says what each status code guarantees.
func (p *Producer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/publish", p.instrument("/publish", http.HandlerFunc(p.handlePublishOne)))
	mux.Handle("/publish/{n}", p.instrument("/publish/{n}", http.HandlerFunc(p.handlePublishN)))
	mux.Handle("/livez", p.instrument("/livez", http.HandlerFunc(handleLive)))
	mux.Handle("/healthz", p.instrument("/healthz", http.HandlerFunc(p.handleHealth)))
	mux.Handle("/queue", p.instrument("/queue", http.HandlerFunc(p.handleQueue)))
	mux.Handle("/withdraw", p.instrument("/withdraw", http.HandlerFunc(p.handleWithdraw)))
	mux.Handle("/metrics", p.instrument("/metrics", methods(promhttp.HandlerFor(p.reg, promhttp.HandlerOpts{Registry: p.reg}), http.MethodGet, http.MethodHead)))
	mux.Handle("/", p.instrument("other", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint %s: use POST /publish, POST /publish/{n}, GET /livez, GET /healthz, GET /queue, POST /withdraw or GET /metrics", r.URL.Path)
	})))
	return mux
}

func methods(h http.Handler, allowed ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allowMethods(w, r, allowed...) {
			h.ServeHTTP(w, r)
		}
	})
}

func (p *Producer) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		p.duration.WithLabelValues(route, strconv.Itoa(rec.code)).Observe(time.Since(start).Seconds())
	})
}

// PublishResult is the answer to a successful publish.
type PublishResult struct {
	// Published is how many items this request pushed.
	Published int `json:"published"`
	// Queue is the list they went to.
	Queue string `json:"queue"`
	// QueueLength is the list's length right after the push. Items that
	// consumers are working on are not in the list, so not counted.
	QueueLength int64 `json:"queue_length"`
	// FirstID and LastID are the ids of the first and last items pushed.
	FirstID string `json:"first_id"`
	LastID  string `json:"last_id"`
}

func (p *Producer) handlePublishOne(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPost) {
		return
	}
	p.publish(w, r, 1)
}

func (p *Producer) handlePublishN(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPost) {
		return
	}
	raw := r.PathValue("n")
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > MaxPublish {
		writeError(w, http.StatusBadRequest, "n must be a whole number from 1 to %d, got %q", MaxPublish, raw)
		return
	}
	p.publish(w, r, n)
}

// inDoubtBody is the answer 504: the error and the ids of the items that
// may or may not be queued (they can be withdrawn with these ids).
type inDoubtBody struct {
	Error   string `json:"error"`
	FirstID string `json:"first_id"`
	LastID  string `json:"last_id"`
}

func (p *Producer) publish(w http.ResponseWriter, r *http.Request, n int) {
	res, err := p.Publish(r.Context(), n)
	if err == nil {
		p.log.Info("published", "items", n, "queue", res.Queue, "queue_length", res.QueueLength, "first", res.FirstID, "last", res.LastID)
		writeJSON(w, http.StatusOK, res)
		return
	}
	var pe *PublishError
	switch {
	case errors.As(err, &pe) && pe.InDoubt:
		p.inDoubt.Inc()
		p.log.Warn("publish in doubt", "items", n, "first", pe.FirstID, "last", pe.LastID, "redis", p.opts.RedisAddr, "err", err)
		writeJSON(w, http.StatusGatewayTimeout, inDoubtBody{
			Error: fmt.Sprintf("redis at %s did not answer after the %d item(s) %s..%s were sent, so they may or may not have been queued: "+
				"do not send them again blindly; GET /queue shows the queue's length, and POST /withdraw with these ids takes back those that wait (%v)",
				p.opts.RedisAddr, n, pe.FirstID, pe.LastID, pe.Err),
			FirstID: pe.FirstID, LastID: pe.LastID,
		})
	case errors.As(err, &pe) && pe.Busy:
		p.errors.Inc()
		p.log.Warn("publish refused: busy", "items", n, "err", err)
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "%v; nothing was sent to Redis and no item was queued: try again", err)
	default:
		p.errors.Inc()
		p.log.Warn("publish failed", "items", n, "redis", p.opts.RedisAddr, "err", err)
		writeError(w, http.StatusServiceUnavailable, "redis at %s did not take the items, no item was queued: %v", p.opts.RedisAddr, err)
	}
}

// Publish pushes n new items onto the queue in one round trip: a single
// RPUSH for up to 10 000 items, else several inside one MULTI/EXEC, so a
// publish is all or nothing.
//
// It first waits (up to 5 s, or until ctx ends) for room in the budget
// that bounds the items all publishes hold at once. Once the items are on
// their way, ctx no longer stops the push: only Redis's answer says whether
// they are queued. A failure is a *PublishError saying whether the items
// may be queued all the same (InDoubt).
func (p *Producer) Publish(ctx context.Context, n int) (PublishResult, error) {
	if n < 1 || n > MaxPublish {
		return PublishResult{}, fmt.Errorf("n must be from 1 to %d, got %d", MaxPublish, n)
	}
	wctx, cancel := context.WithTimeout(ctx, p.wait)
	err := p.budget.acquire(wctx, n)
	cancel()
	if err != nil {
		why := fmt.Sprintf("none left room for %d more within %s", n, p.wait)
		if ctx.Err() != nil {
			why = fmt.Sprintf("the request ended while it waited for room for %d more", n)
		}
		return PublishResult{}, &PublishError{Busy: true, Err: fmt.Errorf(
			"the producer is busy: the publishes in progress hold %d of the %d items it sends at once, and %s",
			p.budget.inUse(), publishBudget, why)}
	}
	defer p.budget.release(n)

	created := p.now().UTC()
	first := p.seq.Add(uint64(n)) - uint64(n) + 1
	p.recent.add(first, n, created)
	res := PublishResult{
		Published: n,
		Queue:     p.opts.Queue,
		FirstID:   p.itemID(first),
		LastID:    p.itemID(first + uint64(n) - 1),
	}
	rctx, tracker := withTracker(context.WithoutCancel(ctx))
	length, err := p.push(rctx, first, n, created)
	if err != nil {
		return PublishResult{}, classify(err, tracker, res.FirstID, res.LastID)
	}
	p.published.Add(float64(n))
	res.QueueLength = length
	return res, nil
}

// push sends items first..first+n-1 and returns the list's length after
// them. The items are encoded as go-redis writes them (lazyItem).
func (p *Producer) push(ctx context.Context, first uint64, n int, created time.Time) (int64, error) {
	enc := newItemEncoder(p.prefix, created)
	refs := make([]lazyItem, n)
	for i := range refs {
		refs[i] = lazyItem{enc: enc, seq: first + uint64(i)}
	}
	vals := make([]any, min(n, pushChunk)) // go-redis copies them: reused per chunk
	chunk := func(lo int) []any {
		v := vals[:min(lo+pushChunk, n)-lo]
		for i := range v {
			v[i] = &refs[lo+i]
		}
		return v
	}
	if n <= pushChunk {
		return p.rdb.RPush(ctx, p.opts.Queue, chunk(0)...).Result()
	}
	cmds, err := p.rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		for lo := 0; lo < n; lo += pushChunk {
			pipe.RPush(ctx, p.opts.Queue, chunk(lo)...)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return cmds[len(cmds)-1].(*redis.IntCmd).Result()
}

// encodeItems returns the exact text of items first..first+n-1 created at
// created: what /withdraw names to Redis.
func (p *Producer) encodeItems(first uint64, n int, created time.Time) []string {
	enc := newItemEncoder(p.prefix, created)
	items := make([]string, n)
	var buf []byte
	for i := range n {
		buf = enc.appendItem(buf[:0], first+uint64(i))
		items[i] = string(buf)
	}
	return items
}

func (p *Producer) itemID(seq uint64) string { return p.prefix + "-" + strconv.FormatUint(seq, 10) }

// HealthBody is the answer of /healthz.
type HealthBody struct {
	Status string `json:"status"` // "ok" or "unhealthy"
	Redis  string `json:"redis"`
	Error  string `json:"error,omitempty"`
	// Consumer is the consumer's instance id (consumer only).
	Consumer string `json:"consumer,omitempty"`
	// InFlight is the number of items being worked on (consumer only).
	InFlight *int64 `json:"in_flight,omitempty"`
}

func (p *Producer) handleHealth(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	if err := pingRedis(r.Context(), p.rdb); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, HealthBody{Status: "unhealthy", Redis: p.opts.RedisAddr,
			Error: fmt.Sprintf("redis at %s does not answer: %v", p.opts.RedisAddr, err)})
		return
	}
	writeJSON(w, http.StatusOK, HealthBody{Status: "ok", Redis: p.opts.RedisAddr})
}

// QueueBody is the answer of GET /queue.
type QueueBody struct {
	Queue string `json:"queue"`
	// Length counts the items waiting (not those a consumer works on).
	Length int64 `json:"length"`
}

func (p *Producer) handleQueue(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	n, err := p.rdb.LLen(r.Context(), p.opts.Queue).Result()
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "redis at %s does not answer: %v", p.opts.RedisAddr, err)
		return
	}
	writeJSON(w, http.StatusOK, QueueBody{Queue: p.opts.Queue, Length: n})
}

// Errors of a withdraw that names items it may not take back.
var (
	// errNotPublishedHere: ids this producer did not make (another prefix,
	// or numbers it never gave).
	errNotPublishedHere = errors.New("not a range of items this producer published")
	// errTooMany: more than MaxWithdraw items.
	errTooMany = errors.New("too many items for one withdraw")
	// errForgotten: a publish older than the producer remembers.
	errForgotten = errors.New("the producer no longer remembers these items")
)

// WithdrawRequest names a range of items a publish returned.
type WithdrawRequest struct {
	FirstID string `json:"first_id"`
	LastID  string `json:"last_id"`
}

// WithdrawResult says how many of them were still waiting and were removed.
type WithdrawResult struct {
	Withdrawn int64 `json:"withdrawn"`
}

// seqOf is the sequence number of an id this producer made.
func (p *Producer) seqOf(id string) (uint64, bool) {
	rest, ok := strings.CutPrefix(id, p.prefix+"-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(rest, 10, 64)
	return n, err == nil
}

// Withdraw removes from the queue the items of ids first..last (as a publish
// returned them) that no consumer has taken yet. Items of another producer
// (another prefix) are refused, and so is a range of more than MaxWithdraw
// items or one older than the producer remembers.
//
// Its cost does not depend on the queue's length on the producer's side:
// it rebuilds each item's exact text from the publish it remembers and
// sends one LREM per item (withdrawChunk to a round trip), never reading
// the list. Redis's LREM stops at the item, searching from the tail when
// the range is among the newest items (fewer items published after it than
// half the queue), else from the head; an item no longer queued costs it a
// walk of the list.
func (p *Producer) Withdraw(ctx context.Context, first, last string) (int64, error) {
	lo, ok1 := p.seqOf(first)
	hi, ok2 := p.seqOf(last)
	newest := p.seq.Load()
	if !ok1 || !ok2 || lo == 0 || lo > hi || hi > newest {
		made := "it has published nothing yet"
		if newest > 0 {
			made = fmt.Sprintf("its ids run from %s to %s", p.itemID(1), p.itemID(newest))
		}
		return 0, fmt.Errorf("first_id %q and last_id %q: %w (prefix %s; %s)", first, last, errNotPublishedHere, p.prefix, made)
	}
	if k := hi - lo + 1; k > MaxWithdraw {
		return 0, fmt.Errorf("first_id %q to last_id %q names %d items: %w, which takes at most %d: withdraw them in ranges of %d or fewer", first, last, k, errTooMany, MaxWithdraw, MaxWithdraw)
	}
	spans, ok := p.recent.find(lo, hi)
	if !ok {
		return 0, fmt.Errorf("first_id %q to last_id %q: %w (it remembers its last %d publishes), so it cannot name them to Redis; nothing was withdrawn", first, last, errForgotten, rememberedPublishes)
	}
	var items []string
	for _, s := range spans {
		items = append(items, p.encodeItems(s.lo, int(s.hi-s.lo+1), s.created)...)
	}
	length, err := p.rdb.LLen(ctx, p.opts.Queue).Result()
	if err != nil {
		return 0, err
	}
	count := int64(1) // from the head
	if after := newest - hi; after < uint64(length)/2 {
		count = -1 // from the tail
	}
	var n int64
	for lo := 0; lo < len(items); lo += withdrawChunk {
		cmds, err := p.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
			for _, it := range items[lo:min(lo+withdrawChunk, len(items))] {
				pipe.LRem(ctx, p.opts.Queue, count, it)
			}
			return nil
		})
		for _, c := range cmds {
			if v, err := c.(*redis.IntCmd).Result(); err == nil {
				n += v
			}
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (p *Producer) handleWithdraw(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPost) {
		return
	}
	var req WithdrawRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "the body must be JSON {\"first_id\": …, \"last_id\": …}: %v", err)
		return
	}
	n, err := p.Withdraw(r.Context(), req.FirstID, req.LastID)
	if err != nil {
		status := http.StatusServiceUnavailable
		switch {
		case errors.Is(err, errNotPublishedHere), errors.Is(err, errTooMany):
			status = http.StatusBadRequest
		case errors.Is(err, errForgotten):
			status = http.StatusGone
		default:
			err = fmt.Errorf("redis at %s: %w (%d item(s) withdrawn before the error)", p.opts.RedisAddr, err, n)
		}
		writeError(w, status, "%v", err)
		return
	}
	p.log.Info("withdrawn", "items", n, "first", req.FirstID, "last", req.LastID)
	writeJSON(w, http.StatusOK, WithdrawResult{Withdrawn: n})
}

// RunProducer serves the producer until ctx is done, then drains the
// requests in flight and returns nil.
func RunProducer(ctx context.Context, o ProducerOptions) error {
	p, err := NewProducer(o)
	if err != nil {
		return err
	}
	defer p.Close()
	l, err := listen(o.CommonOptions)
	if err != nil {
		return err
	}
	stop := httpServer(l, p.Handler(), p.log)
	p.log.Info("producer started", "listen", l.Addr().String(), "redis", o.RedisAddr, "queue", o.Queue)
	if err := pingRedis(ctx, p.rdb); err != nil {
		p.log.Warn("redis does not answer yet; publish answers 503 until it does", "redis", o.RedisAddr, "err", err)
	}
	<-ctx.Done()
	p.log.Info("producer stopping")
	if err := stop(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	p.log.Info("producer stopped")
	return nil
}
