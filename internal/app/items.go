package app

import (
	"slices"
	"strconv"
	"sync"
	"time"
)

// itemEncoder writes the items of one publish, without reflection: ids are
// hex and digits and the time is RFC 3339, so nothing needs escaping. It is
// the same JSON as json.Marshal(Item{...}) gives, byte for byte, which
// /withdraw relies on: it names each item to Redis by its exact text.
type itemEncoder struct {
	prefix  string
	ts      []byte // the items' creation time, RFC 3339 with nanoseconds
	scratch []byte
}

func newItemEncoder(prefix string, created time.Time) *itemEncoder {
	return &itemEncoder{prefix: prefix, ts: created.UTC().AppendFormat(nil, time.RFC3339Nano)}
}

// appendItem appends item seq's JSON to dst.
func (e *itemEncoder) appendItem(dst []byte, seq uint64) []byte {
	dst = append(dst, `{"id":"`...)
	dst = append(dst, e.prefix...)
	dst = append(dst, '-')
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `","created":"`...)
	dst = append(dst, e.ts...)
	return append(dst, `"}`...)
}

// lazyItem is one item as go-redis receives it: it is encoded only when
// go-redis writes it on the connection (go-redis calls MarshalBinary then
// and copies the bytes out at once), into the encoder's scratch buffer,
// which the next item reuses. So a publish in progress holds 32 bytes per
// item (this reference and go-redis's argument), not the items' text. The
// items of one encoder are written by one goroutine, one after the other.
type lazyItem struct {
	enc *itemEncoder
	seq uint64
}

func (it *lazyItem) MarshalBinary() ([]byte, error) {
	it.enc.scratch = it.enc.appendItem(it.enc.scratch[:0], it.seq)
	return it.enc.scratch, nil
}

// rememberedPublishes is how many publishes the producer remembers, so that
// /withdraw can rebuild their items' exact text. A record is 24 bytes: the
// log holds 384 KiB. At dojo load's busiest (ten requests a second) that is
// the last 27 minutes of publishes.
const rememberedPublishes = 16384

// publishRecord is one publish: items first..first+n-1, all created at the
// same instant.
type publishRecord struct {
	first   uint64
	n       uint32
	created int64 // Unix nanoseconds
}

// publishLog is a ring of the latest publishes, the oldest forgotten first.
type publishLog struct {
	mu   sync.Mutex
	recs []publishRecord
	next int
	full bool
}

func newPublishLog(size int) *publishLog {
	return &publishLog{recs: make([]publishRecord, size)}
}

func (l *publishLog) add(first uint64, n int, created time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs[l.next] = publishRecord{first: first, n: uint32(n), created: created.UnixNano()}
	l.next++
	if l.next == len(l.recs) {
		l.next, l.full = 0, true
	}
}

// itemSpan is a run of items lo..hi created at the same instant.
type itemSpan struct {
	lo, hi  uint64
	created time.Time
}

// find returns the spans that make up items lo..hi, in order, or false
// when the log no longer (or never) holds one of them.
func (l *publishLog) find(lo, hi uint64) ([]itemSpan, bool) {
	l.mu.Lock()
	recs := l.recs
	if !l.full {
		recs = recs[:l.next]
	}
	var spans []itemSpan
	for _, r := range recs {
		last := r.first + uint64(r.n) - 1
		if r.n == 0 || last < lo || r.first > hi {
			continue
		}
		spans = append(spans, itemSpan{lo: max(r.first, lo), hi: min(last, hi), created: time.Unix(0, r.created).UTC()})
	}
	l.mu.Unlock()
	slices.SortFunc(spans, func(a, b itemSpan) int {
		switch {
		case a.lo < b.lo:
			return -1
		case a.lo > b.lo:
			return 1
		}
		return 0
	})
	next := lo
	for _, s := range spans {
		if s.lo != next {
			return nil, false
		}
		next = s.hi + 1
	}
	return spans, len(spans) > 0 && next == hi+1
}
