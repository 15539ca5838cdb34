package classroom

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"
)

// The server's routes, and only these; any other path is a 404 and another
// method on these paths a 405.
//
//	GET  /                          the page                    trainer token
//	GET  /api/room                  the room as JSON (a View)   trainer token
//	GET  /api/feed                  the room, live (server-sent events)  trainer token
//	GET  /api/export?format=csv|json  the export                trainer token
//	POST /api/hands/{learner}/clear lower a learner's hand      trainer token
//	POST /api/events                a learner's events          join token
//
// The trainer's token comes in "Authorization: Bearer T" or, for what a
// browser opens (the page, its feed, the export), as ?token=T. The join
// token comes only in the header. A missing or wrong token is a 401 and
// changes nothing; one token never opens the other's routes.
const (
	RoutePage   = "/"
	RouteRoom   = "/api/room"
	RouteFeed   = "/api/feed"
	RouteExport = "/api/export"
	RouteEvents = "/api/events"
)

//go:embed page.html
var pageHTML []byte

// Batch is the body of POST /api/events: the learner's events, oldest
// first.
type Batch struct {
	Events []Event `json:"events"`
}

// Answer is the body of every answer to POST /api/events.
type Answer struct {
	// Accepted counts the events of the batch the room took, in order.
	Accepted int    `json:"accepted"`
	Error    string `json:"error,omitempty"`
}

// Server serves a room.
type Server struct {
	room *Room
	csp  string
}

// NewServer returns the server of room.
func NewServer(room *Room) *Server {
	return &Server{room: room, csp: pageCSP(pageHTML)}
}

// pageCSP allows the page's one inline script and one inline style (by
// their hashes), requests to the server itself, and nothing else: no
// images, no frames, no other origin.
func pageCSP(page []byte) string {
	hash := func(open, close string) string {
		_, rest, _ := bytes.Cut(page, []byte(open))
		body, _, _ := bytes.Cut(rest, []byte(close))
		sum := sha256.Sum256(body)
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	return "default-src 'none'; script-src " + hash("<script>", "</script>") +
		"; style-src " + hash("<style>", "</style>") +
		"; connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// Handler is the server's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.trainerOnly(true, s.page))
	mux.HandleFunc("GET "+RouteRoom, s.trainerOnly(true, s.roomJSON))
	mux.HandleFunc("GET "+RouteFeed, s.trainerOnly(true, s.feed))
	mux.HandleFunc("GET "+RouteExport, s.trainerOnly(true, s.export))
	mux.HandleFunc("POST /api/hands/{learner}/clear", s.trainerOnly(false, s.clearHand))
	mux.HandleFunc("POST "+RouteEvents, s.events)
	return headers(mux)
}

// headers sets what every answer carries: nothing is cached, sniffed,
// framed, or sent on as a referrer (the page's URL holds its token).
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// TokenEqual compares a token in constant time (a sha256 of each first, so
// not even the length leaks). An empty token never matches.
func TokenEqual(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return want != "" && subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

func bearer(r *http.Request) string {
	v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return ""
	}
	return strings.TrimSpace(v)
}

// trainerOnly lets through requests with the trainer's token: in the header
// or, when inURL, as ?token=.
func (s *Server) trainerOnly(inURL bool, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := bearer(r)
		if tok == "" && inURL {
			tok = r.URL.Query().Get("token")
		}
		if !TokenEqual(tok, s.room.TrainerToken()) {
			s.unauthorized(w, "the trainer's token is needed here: open the page URL dojo classroom printed")
			return
		}
		next(w, r)
	}
}

func (s *Server) unauthorized(w http.ResponseWriter, msg string) {
	s.room.Refused(func(c *Refusals) { c.Unauthorized++ })
	w.Header().Set("WWW-Authenticate", `Bearer realm="dojo classroom"`)
	http.Error(w, "401 unauthorized: "+msg, http.StatusUnauthorized)
}

func (s *Server) page(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", s.csp)
	w.Write(pageHTML)
}

func (s *Server) roomJSON(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.room.View())
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// feed sends the room at once, then after every change, as server-sent
// events; a comment every 15 s keeps the connection open.
func (s *Server) feed(w http.ResponseWriter, r *http.Request) {
	changed, done := s.room.Subscribe()
	if changed == nil {
		http.Error(w, fmt.Sprintf("429 too many pages: at most %d pages follow the room at once; close one", s.room.Limits().MaxFeeds), http.StatusTooManyRequests)
		return
	}
	defer done()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func() error {
		data, err := json.Marshal(s.room.View())
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "data: %s\n\n", data); err != nil {
			return err
		}
		return rc.Flush()
	}
	if send() != nil {
		return
	}
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-changed:
			if send() != nil {
				return
			}
		case <-ping.C:
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}

func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "json"
	}
	if format != "csv" && format != "json" {
		http.Error(w, fmt.Sprintf("400 format %q is not csv or json", Truncate(format, 20)), http.StatusBadRequest)
		return
	}
	ex := ExportOf(s.room, s.room.now())
	ct := map[string]string{"csv": "text/csv; charset=utf-8", "json": "application/json"}[format]
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="classroom-%s.%s"`, ex.Exported.Format("20060102-1504"), format))
	WriteExport(w, ex, format)
}

func (s *Server) clearHand(w http.ResponseWriter, r *http.Request) {
	found, err := s.room.ClearHand(r.PathValue("learner"))
	switch {
	case err != nil:
		http.Error(w, "500 "+err.Error(), http.StatusInternalServerError)
	case !found:
		http.Error(w, "404 no such learner", http.StatusNotFound)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// events takes a learner's batch. Past a bound it answers 413 (too large),
// 429 (too many a minute; Retry-After) or 403 (the room is full), with how
// many events of the batch it took.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	if !TokenEqual(bearer(r), s.room.JoinToken()) {
		s.unauthorized(w, "the join token is needed here, in an Authorization: Bearer header (dojo join --token)")
		return
	}
	lim := s.room.Limits()
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		s.room.Refused(func(c *Refusals) { c.Invalid++ })
		writeJSON(w, http.StatusUnsupportedMediaType, Answer{Error: "events are sent as application/json"})
		return
	}
	tooLarge := func() {
		s.room.Refused(func(c *Refusals) { c.TooLarge++ })
		writeJSON(w, http.StatusRequestEntityTooLarge, Answer{Error: fmt.Sprintf("a request carries at most %d bytes and %d events", lim.MaxBody, lim.MaxBatch)})
	}
	if r.ContentLength > lim.MaxBody {
		tooLarge()
		return
	}
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(10 * time.Second))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, lim.MaxBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		tooLarge()
		return
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, Answer{Error: "the request was not read whole: " + err.Error()})
		return
	}
	var b Batch
	if err := json.Unmarshal(body, &b); err != nil || len(b.Events) == 0 {
		s.room.Refused(func(c *Refusals) { c.Invalid++ })
		writeJSON(w, http.StatusBadRequest, Answer{Error: `the body is {"events": [ … ]} with at least one event`})
		return
	}
	if len(b.Events) > lim.MaxBatch {
		tooLarge()
		return
	}
	n, err := s.room.Apply(b.Events)
	var be *BatchError
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, Answer{Accepted: n})
	case errors.As(err, &be) && errors.Is(err, ErrRateLimited):
		w.Header().Set("Retry-After", "60")
		writeJSON(w, http.StatusTooManyRequests, Answer{Accepted: n, Error: err.Error()})
	case errors.As(err, &be) && errors.Is(err, ErrFull):
		writeJSON(w, http.StatusForbidden, Answer{Accepted: n, Error: err.Error()})
	case errors.As(err, &be):
		writeJSON(w, http.StatusBadRequest, Answer{Accepted: n, Error: err.Error()})
	default:
		writeJSON(w, http.StatusInternalServerError, Answer{Accepted: n, Error: err.Error()})
	}
}

// Serve serves h on ln until ctx ends, then shuts down (open pages are
// closed: their requests end with ctx).
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
		<-errc
		return nil
	}
}
