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

// pushChunk is how many items one RPUSH carries; a larger publish sends
// several RPUSH in one MULTI/EXEC, written in one round trip.
const pushChunk = 10000

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

	reg       *prometheus.Registry
	published prometheus.Counter
	errors    prometheus.Counter
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
		reg:    prometheus.NewRegistry(),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dojo_producer_items_published_total",
			Help: "Items pushed onto the queue.",
		}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dojo_producer_publish_errors_total",
			Help: "Publish requests that failed because Redis did not take the items.",
		}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dojo_producer_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route and status code.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "code"}),
	}
	p.reg.MustRegister(p.published, p.errors, p.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return p, nil
}

// Close releases the Redis connections.
func (p *Producer) Close() error { return p.rdb.Close() }

// Handler is the producer's HTTP API:
//
//	POST /publish      push one item
//	POST /publish/{n}  push n items (1..100000) in one round trip
//	GET  /livez        200 while the process serves (the liveness probe)
//	GET  /healthz      200 when Redis answers PING, else 503 (readiness)
//	GET  /queue        the queue's name and length (what dojo check reads)
//	POST /withdraw     take back items this producer pushed that still wait
//	                   ({"first_id": …, "last_id": …}; dojo check's live tests)
//	GET  /metrics      Prometheus metrics
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

func (p *Producer) publish(w http.ResponseWriter, r *http.Request, n int) {
	res, err := p.Publish(r.Context(), n)
	if err != nil {
		p.errors.Inc()
		p.log.Warn("publish failed", "items", n, "redis", p.opts.RedisAddr, "err", err)
		writeError(w, http.StatusServiceUnavailable, "redis at %s did not take the items: %v", p.opts.RedisAddr, err)
		return
	}
	p.log.Info("published", "items", n, "queue", res.Queue, "queue_length", res.QueueLength, "first", res.FirstID, "last", res.LastID)
	writeJSON(w, http.StatusOK, res)
}

// Publish pushes n new items onto the queue in one round trip: a single
// RPUSH for up to 10 000 items, else several inside one MULTI/EXEC, so a
// publish is all or nothing.
func (p *Producer) Publish(ctx context.Context, n int) (PublishResult, error) {
	if n < 1 || n > MaxPublish {
		return PublishResult{}, fmt.Errorf("n must be from 1 to %d, got %d", MaxPublish, n)
	}
	created := p.now().UTC()
	first := p.seq.Add(uint64(n)) - uint64(n) + 1
	items := p.encodeItems(first, n, created)
	var length int64
	var err error
	if n <= pushChunk {
		length, err = p.rdb.RPush(ctx, p.opts.Queue, items...).Result()
	} else {
		var cmds []redis.Cmder
		cmds, err = p.rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			for lo := 0; lo < n; lo += pushChunk {
				pipe.RPush(ctx, p.opts.Queue, items[lo:min(lo+pushChunk, n)]...)
			}
			return nil
		})
		if err == nil {
			length, err = cmds[len(cmds)-1].(*redis.IntCmd).Result()
		}
	}
	if err != nil {
		return PublishResult{}, err
	}
	p.published.Add(float64(n))
	return PublishResult{
		Published:   n,
		Queue:       p.opts.Queue,
		QueueLength: length,
		FirstID:     p.itemID(first),
		LastID:      p.itemID(first + uint64(n) - 1),
	}, nil
}

// encodeItems writes n items as JSON into one buffer, without reflection:
// ids are hex and digits and the time is RFC 3339, so nothing needs
// escaping. It is the same JSON as json.Marshal(Item{...}) gives.
func (p *Producer) encodeItems(first uint64, n int, created time.Time) []any {
	ts := created.AppendFormat(nil, time.RFC3339Nano)
	per := len(`{"id":"-","created":""}`) + len(p.prefix) + 20 + len(ts)
	buf := make([]byte, 0, n*per)
	items := make([]any, n)
	for i := range n {
		start := len(buf)
		buf = append(buf, `{"id":"`...)
		buf = append(buf, p.prefix...)
		buf = append(buf, '-')
		buf = strconv.AppendUint(buf, first+uint64(i), 10)
		buf = append(buf, `","created":"`...)
		buf = append(buf, ts...)
		buf = append(buf, `"}`...)
		items[i] = buf[start:len(buf):len(buf)]
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

// errNotPublishedHere refuses a withdraw of ids this producer did not make.
var errNotPublishedHere = errors.New("not a range of items this producer published")

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
// (another prefix) are refused.
func (p *Producer) Withdraw(ctx context.Context, first, last string) (int64, error) {
	lo, ok1 := p.seqOf(first)
	hi, ok2 := p.seqOf(last)
	if !ok1 || !ok2 || lo > hi {
		return 0, fmt.Errorf("first_id %q and last_id %q: %w (prefix %s)", first, last, errNotPublishedHere, p.prefix)
	}
	elems, err := p.rdb.LRange(ctx, p.opts.Queue, 0, -1).Result()
	if err != nil {
		return 0, err
	}
	var n int64
	for _, e := range elems {
		seq, ok := p.seqOf(parseItem(e).ID)
		if !ok || seq < lo || seq > hi {
			continue
		}
		removed, err := p.rdb.LRem(ctx, p.opts.Queue, 1, e).Result()
		if err != nil {
			return n, err
		}
		n += removed
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
		if errors.Is(err, errNotPublishedHere) {
			status = http.StatusBadRequest
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
