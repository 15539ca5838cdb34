// Package app is the workshop's sample application: a producer that pushes
// items onto a Redis list and a consumer that takes them one at a time and
// works on each. `dojo app producer` and `dojo app consumer` run them; the
// same dojo binary is the container image's entrypoint.
//
// Nothing here knows about cobra: the command package fills an options
// struct and calls RunProducer or RunConsumer with a context.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/kubedojo/dojo/internal/workshop"
)

// Defaults shared by the producer and the consumer (and their flags).
const (
	DefaultRedisAddr    = workshop.RedisAddr
	DefaultQueue        = workshop.Queue
	DefaultListen       = ":8080"
	DefaultWorkTime     = time.Second
	DefaultHeartbeatTTL = 10 * time.Second

	// MaxPublish is the largest n POST /publish/{n} accepts.
	MaxPublish = 100000

	// healthTimeout bounds the Redis PING behind /healthz.
	healthTimeout = 500 * time.Millisecond
	// shutdownTimeout bounds the HTTP server's graceful shutdown.
	shutdownTimeout = 5 * time.Second
)

// The HTTP server's timeouts (producer and consumer). No request has a body
// but /withdraw's (4 KiB at most), so reading one takes no time on a working
// connection: the read bounds only cut off a client that trickles its
// request (net/http also cancels a request's context when readTimeout
// passes during the handler, which is why a publish stops heeding its
// context once its items are on their way). An idle keep-alive connection
// is closed after idleTimeout (a proxy that reuses it reconnects).
// writeTimeout runs from the end of the request's header to the end of the
// answer, so it must outlast the slowest legitimate answer, a publish of
// MaxPublish items: waiting for room (publishWait, 5 s), then go-redis's own
// bounds (a turn in its pool 4 s, dialling 2 s, the new connection's
// handshake 3 + 3 s, writing 3 s, reading the answer 3 s) and a second of
// work, 24 s in all (TestWriteTimeoutOutlastsTheSlowestPublish).
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 10 * time.Second
)

// Item is what the producer pushes, one JSON object per list element. The
// consumer logs its id and how long it waited in the queue. Anything else
// found in the list (say, pushed by hand with redis-cli) is processed too and
// logged as it is.
type Item struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
}

// parseItem reads an element of the list; a foreign element gets its own
// text as id and no creation time.
func parseItem(raw string) Item {
	var it Item
	if err := json.Unmarshal([]byte(raw), &it); err != nil || it.ID == "" {
		const max = 64
		id := raw
		if len(id) > max {
			id = id[:max] + "…"
		}
		return Item{ID: id}
	}
	return it
}

// CommonOptions are the settings the producer and the consumer share.
type CommonOptions struct {
	// RedisAddr is host:port of the Redis server holding the queue.
	RedisAddr string
	// Queue is the Redis list items go through.
	Queue string
	// Listen is the HTTP address (host:port, host may be empty).
	Listen string
	// Listener, when set, is used instead of Listen (tests pass a
	// 127.0.0.1:0 listener and read its address).
	Listener net.Listener
	// Logger receives the structured logs; nil logs text to stderr.
	Logger *slog.Logger
}

func (o CommonOptions) validate() error {
	if err := validateHostPort("redis address", o.RedisAddr, false); err != nil {
		return err
	}
	if strings.TrimSpace(o.Queue) == "" || strings.ContainsAny(o.Queue, " \t\r\n") {
		return fmt.Errorf("queue name %q is not valid: use a non-empty Redis key without spaces, such as %q", o.Queue, DefaultQueue)
	}
	if o.Listener == nil {
		if err := validateHostPort("listen address", o.Listen, true); err != nil {
			return err
		}
	}
	return nil
}

func validateHostPort(what, v string, hostMayBeEmpty bool) error {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("%s %q is not host:port (for example %q)", what, v, exampleFor(what))
	}
	if host == "" && !hostMayBeEmpty {
		return fmt.Errorf("%s %q has no host (for example %q)", what, v, exampleFor(what))
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("%s %q: port %q is not a number from 0 to 65535", what, v, port)
	}
	return nil
}

func exampleFor(what string) string {
	if strings.HasPrefix(what, "redis") {
		return DefaultRedisAddr
	}
	return DefaultListen
}

func (o CommonOptions) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}

// newRedisClient dials lazily: nothing connects until the first command.
// Retries are ours to decide (a retried push could push twice), so the
// client does not retry commands by itself.
func newRedisClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:            addr,
		DialTimeout:     2 * time.Second,
		DialerRetries:   1,
		ReadTimeout:     3 * time.Second,
		WriteTimeout:    3 * time.Second,
		MaxRetries:      -1,
		DisableIdentity: true,
		MaintNotificationsConfig: &maintnotifications.Config{
			Mode: maintnotifications.ModeDisabled,
		},
	})
}

// pingRedis is the health probe: a PING with a short timeout.
func pingRedis(ctx context.Context, rdb *redis.Client) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	return rdb.Ping(ctx).Err()
}

// newID returns n random bytes as hex.
func newID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// listen opens the HTTP listener.
func listen(o CommonOptions) (net.Listener, error) {
	if o.Listener != nil {
		return o.Listener, nil
	}
	l, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", o.Listen, err)
	}
	return l, nil
}

// httpServer serves h on l until stop is called; stop shuts it down
// gracefully and returns the serve error, if any.
func httpServer(l net.Listener, h http.Handler, log *slog.Logger) (stop func() error) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

// writeJSON writes v as one line of JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(v)
	b = append(b, '\n')
	_, _ = w.Write(b)
}

// errorBody is every error response: {"error": "..."}.
type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, format string, a ...any) {
	writeJSON(w, status, errorBody{Error: fmt.Sprintf(format, a...)})
}

// allowMethods answers 405 unless r uses one of methods.
func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeError(w, http.StatusMethodNotAllowed, "method %s is not allowed on %s: use %s", r.Method, r.URL.Path, strings.Join(methods, " or "))
	return false
}

// statusRecorder remembers the status code for the request metrics.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// handleLive answers the liveness probe: the process serves HTTP. It asks
// nothing of Redis, so a Redis outage makes the pod unready (/healthz), never
// restarted.
func handleLive(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "alive"})
}
