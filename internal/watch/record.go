// Package watch follows the workshop's autoscaling as it happens: the
// queue's length and the HPA's metric from Prometheus, the HPA's desired
// and the Deployment's ready replicas from the Kubernetes API (watched, not
// polled), and the HPA's events and condition changes. dojo watch draws it,
// records it as JSON lines, and dojo plot charts a recording.
package watch

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Sample is the state at one instant. A pointer field is nil when its
// source had no value (Prometheus unreachable, no series yet, …).
type Sample struct {
	Time time.Time `json:"t"`
	// Queue is redis_key_size of padok, Metric redis_items_in_queue
	// (Prometheus); HPAMetric is the HPA's own status value, as text
	// ("-9223372036854775808m" included).
	Queue     *float64 `json:"queue,omitempty"`
	Metric    *float64 `json:"metric,omitempty"`
	HPAMetric string   `json:"hpaMetric,omitempty"`
	// Desired is the HPA's desiredReplicas; Replicas and Ready the
	// Deployment's status.
	Desired  int32 `json:"desired"`
	Replicas int32 `json:"replicas"`
	Ready    int32 `json:"ready"`
}

// Event is something that happened: an HPA event in the controller's words,
// or a condition that changed.
type Event struct {
	Time time.Time `json:"t"`
	// Kind: "scale" (the HPA's desiredReplicas changed), "condition" (a
	// condition's status or reason changed), "event" (a Kubernetes event
	// of the HPA, in the controller's words).
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// Header opens a recording: what was watched and the controller's timings.
type Header struct {
	Started                time.Time `json:"started"`
	HPA                    string    `json:"hpa"`
	SyncPeriod             string    `json:"syncPeriod"`
	DownscaleStabilization string    `json:"downscaleStabilization"`
}

// line is one line of a recording: exactly one field set.
type line struct {
	Header *Header `json:"header,omitempty"`
	Sample *Sample `json:"sample,omitempty"`
	Event  *Event  `json:"event,omitempty"`
}

// Recorder writes a recording, one JSON line per write, straight to the
// file: a watch killed with SIGKILL leaves every line it wrote.
type Recorder struct {
	w   io.Writer
	err error
}

// NewRecorder writes to w (an *os.File: unbuffered, each line reaches the
// kernel as it is written).
func NewRecorder(w io.Writer) *Recorder { return &Recorder{w: w} }

func (r *Recorder) write(l line) {
	if r == nil || r.err != nil {
		return
	}
	b, err := json.Marshal(l)
	if err == nil {
		_, err = r.w.Write(append(b, '\n'))
	}
	r.err = err
}

// Header records the header.
func (r *Recorder) Header(h Header) { r.write(line{Header: &h}) }

// Sample records a sample.
func (r *Recorder) Sample(s Sample) { r.write(line{Sample: &s}) }

// Event records an event.
func (r *Recorder) Event(e Event) { r.write(line{Event: &e}) }

// Err is the first write error.
func (r *Recorder) Err() error { return r.err }

// Recording is a recording read back.
type Recording struct {
	Header  Header
	Samples []Sample
	Events  []Event
}

// ReadFile reads a recording. A last line cut short (a watch killed in
// the middle of a write) is dropped; any other bad line is an error.
func ReadFile(path string) (*Recording, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path)
}

// Read reads a recording from r (name for messages).
func Read(r io.Reader, name string) (*Recording, error) {
	rec := &Recording{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	var pending error
	for sc.Scan() {
		n++
		if pending != nil {
			return nil, pending
		}
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			pending = fmt.Errorf("%s line %d is not a recording line: %v", name, n, err)
			continue
		}
		switch {
		case l.Header != nil:
			rec.Header = *l.Header
		case l.Sample != nil:
			rec.Samples = append(rec.Samples, *l.Sample)
		case l.Event != nil:
			rec.Events = append(rec.Events, *l.Event)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if rec.Header.HPA == "" {
		return nil, fmt.Errorf("%s is not a dojo watch recording (no header line): record one with dojo watch --record %s", name, name)
	}
	return rec, nil
}

// Notable says whether an event is one a learner watches for: a rescale,
// a limit, a hold, scaling to zero, a failure. The AbleToScale flips
// between ReadyForNewScale and SucceededRescale that follow every rescale,
// and the controller's SuccessfulRescale events (a "scale" event says the
// same), are recorded but not shown.
func Notable(e Event) bool {
	switch e.Kind {
	case "scale":
		return true
	case "event":
		// The controller's SuccessfulRescale repeats a "scale" event.
		return !strings.HasPrefix(e.Text, "SuccessfulRescale:")
	}
	f := strings.Fields(e.Text)
	if len(f) < 3 {
		return true
	}
	typ, status, reason := f[0], f[1], strings.TrimSuffix(f[2], ":")
	switch {
	case status == "False" && typ != "ScalingLimited" && typ != "ScaledToZero":
		return true
	case typ == "ScalingLimited" || typ == "ScaledToZero":
		return status == "True"
	case reason == "ScaleDownStabilized":
		return true
	}
	return false
}
