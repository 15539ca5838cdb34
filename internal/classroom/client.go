package classroom

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kubedojo/dojo/internal/state"
)

// The learner's side keeps two files of its own in the workspace's .dojo
// folder (never state.json): the membership and the outbox.
const (
	// MemberFile is the classroom the workspace joined (it holds the join
	// token: readable by its owner only).
	MemberFile = "classroom.json"
	// OutboxFile holds, one JSON event a line, what could not be sent yet.
	OutboxFile = "classroom-outbox.jsonl"
	lockFile   = "classroom.lock"
	// OutboxMax is the most events the outbox keeps (the oldest go first).
	OutboxMax = 20
	// Budget is the longest a command waits for the trainer's server.
	Budget = 300 * time.Millisecond
)

// MemberVersion is the version of the membership file this dojo writes.
const MemberVersion = 1

// Member is the classroom a workspace joined.
type Member struct {
	Version int `json:"version"`
	// URL is the trainer's server ("http://192.168.1.20:7777").
	URL string `json:"url"`
	// Token is the join token.
	Token string `json:"token"`
	Name  string `json:"name"`
	// Learner is this workspace's random id in the room.
	Learner string `json:"learner"`
	// Kubernetes is the node's version the last check saw ("" before).
	Kubernetes string    `json:"kubernetes,omitempty"`
	Joined     time.Time `json:"joined"`
}

func dotDojo(workspace string) string { return filepath.Join(workspace, ".dojo") }

// MemberPath is the membership file of a workspace.
func MemberPath(workspace string) string { return filepath.Join(dotDojo(workspace), MemberFile) }

// OutboxPath is the outbox of a workspace.
func OutboxPath(workspace string) string { return filepath.Join(dotDojo(workspace), OutboxFile) }

// LoadMember reads the workspace's membership; nil when it joined none.
func LoadMember(workspace string) (*Member, error) {
	data, err := os.ReadFile(MemberPath(workspace))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the classroom membership: %w", err)
	}
	var m Member
	if err := json.Unmarshal(data, &m); err != nil || m.Version < 1 || m.URL == "" || !isLearnerID(m.Learner) {
		return nil, fmt.Errorf("%s is damaged: run dojo leave, then dojo join again", MemberPath(workspace))
	}
	return &m, nil
}

// SaveMember writes the membership atomically, readable by its owner only,
// never through a link out of the workspace.
func SaveMember(workspace string, m *Member) error {
	m.Version = MemberVersion
	if err := within(workspace, MemberPath(workspace)); err != nil {
		return err
	}
	if err := makeDotDojo(workspace); err != nil {
		return err
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return state.WriteFileAtomic(MemberPath(workspace), append(data, '\n'), 0o600)
}

// makeDotDojo makes the .dojo folder inside an existing workspace; a
// workspace that does not exist is not created (as the progress file does).
func makeDotDojo(workspace string) error {
	if fi, err := os.Stat(workspace); err != nil || !fi.IsDir() {
		return fmt.Errorf("there is no workspace at %s: dojo init or dojo up creates one, or point --workspace at yours", workspace)
	}
	if err := os.Mkdir(dotDojo(workspace), 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("cannot write in %s: %w (pass --workspace with a writable directory)", dotDojo(workspace), err)
	}
	return nil
}

// Forget removes the membership and the outbox. It says whether there was a
// membership.
func Forget(workspace string) (bool, error) {
	_, err := os.Stat(MemberPath(workspace))
	was := err == nil
	for _, p := range []string{MemberPath(workspace), OutboxPath(workspace)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return was, err
		}
	}
	return was, nil
}

func within(workspace, path string) error {
	return state.Within(workspace, path)
}

// CheckToken says whether a join token looks like one dojo classroom
// prints.
func CheckToken(tok string) error {
	ok := len(tok) >= 16 && len(tok) <= 128
	for _, c := range tok {
		ok = ok && ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_')
	}
	if !ok {
		return fmt.Errorf("the token %q is not a join token (16 to 128 letters, digits, - or _)", Truncate(tok, 40))
	}
	return nil
}

// ParseURL checks the trainer's URL: http or https, a host and a port, no
// path beyond "/", no user, query or fragment. It returns it without a
// trailing slash.
func ParseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil:
		return "", fmt.Errorf("%q is not a URL: %v", raw, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("%q is not an http:// URL", raw)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("%q names no host", raw)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/"):
		return "", fmt.Errorf("%q has more than a scheme, host and port", raw)
	}
	return u.Scheme + "://" + u.Host, nil
}

// Outcome is what happened to a send.
type Outcome struct {
	// Sent counts the events the server took; Queued those left in the
	// outbox for the next command; Dropped those the server refused for
	// good (malformed, too large, a full room) or the outbox let go.
	Sent, Queued, Dropped int
}

// ErrRefused is the server refusing the join token: nothing is queued.
var ErrRefused = errors.New("the trainer's server refused the join token")

// Client sends a workspace's events to its classroom.
type Client struct {
	// HTTP is the client (a direct one, no proxy, when nil).
	HTTP *http.Client
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	// Straight to the trainer's address: never through a proxy the
	// environment names.
	return &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
}

// Body is exactly what a send carries for events (the body of POST
// /api/events).
func Body(events []Event) ([]byte, error) {
	return json.Marshal(Batch{Events: events})
}

// Send sends what the outbox holds, then e (when not nil), within ctx (a
// command gives it Budget). What the server does not take because it
// cannot be reached, answers 5xx or asks to slow down stays in the outbox,
// at most OutboxMax events, for the next command. A refused join token
// (ErrRefused) empties the outbox. Send never blocks past ctx for the
// outbox's lock: another dojo sending at the same moment sends its own.
func (c *Client) Send(ctx context.Context, workspace string, m *Member, e *Event) (Outcome, error) {
	var out Outcome
	if err := within(workspace, OutboxPath(workspace)); err != nil {
		return out, err
	}
	if err := makeDotDojo(workspace); err != nil {
		return out, err
	}
	lock := filepath.Join(dotDojo(workspace), lockFile)
	if err := within(workspace, lock); err != nil {
		return out, err
	}
	unlock, err := lockWithin(ctx, lock)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return out, fmt.Errorf("another dojo is sending to the classroom: %w", err)
	}
	if err != nil {
		return out, fmt.Errorf("cannot lock %s: %w", lock, err)
	}
	defer unlock()
	queue, err := readOutbox(OutboxPath(workspace))
	if err != nil {
		return out, err
	}
	if e != nil {
		queue = append(queue, *e)
	}
	if over := len(queue) - OutboxMax; over > 0 {
		queue, out.Dropped = queue[over:], over
	}
	if len(queue) == 0 {
		return out, nil
	}
	sent, err := c.post(ctx, m, queue)
	out.Sent = sent
	rest := queue[sent:]
	var refusal *refusedError
	switch {
	case errors.Is(err, ErrRefused):
		out.Dropped += len(rest)
		rest = nil
	case errors.As(err, &refusal) && refusal.final:
		out.Dropped += len(rest)
		rest = nil
	}
	out.Queued = len(rest)
	if werr := writeOutbox(OutboxPath(workspace), rest); werr != nil && err == nil {
		err = werr
	}
	return out, err
}

// refusedError is an answer of the server other than 200 and 401.
type refusedError struct {
	status int
	msg    string
	// final: sending the same again would be refused again.
	final bool
}

func (e *refusedError) Error() string {
	return fmt.Sprintf("the trainer's server answered %d: %s", e.status, e.msg)
}

// post sends events in one request and returns how many the server took.
func (c *Client) post(ctx context.Context, m *Member, events []Event) (int, error) {
	body, err := Body(events)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL+RouteEvents, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+m.Token)
	res, err := c.http().Do(req)
	if err != nil {
		return 0, fmt.Errorf("the trainer's server at %s did not answer: %w", m.URL, unwrapURL(err))
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(res.Body, 4<<10))
	if res.StatusCode == http.StatusUnauthorized {
		return 0, ErrRefused
	}
	var a Answer
	_ = json.Unmarshal(data, &a)
	a.Accepted = min(max(a.Accepted, 0), len(events))
	switch {
	case res.StatusCode == http.StatusOK:
		return len(events), nil
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
		return a.Accepted, &refusedError{status: res.StatusCode, msg: answerText(a, data)}
	default:
		return a.Accepted, &refusedError{status: res.StatusCode, msg: answerText(a, data), final: true}
	}
}

func answerText(a Answer, data []byte) string {
	if a.Error != "" {
		return Truncate(a.Error, 200) // the server's words, as untrusted as its body
	}
	return Truncate(string(data), 200)
}

func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func readOutbox(path string) ([]Event, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the classroom outbox: %w", err)
	}
	defer f.Close()
	var out []Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		var e Event
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Learner != "" {
			out = append(out, e) // a damaged line is dropped
		}
	}
	return out, nil
}

// writeOutbox replaces the outbox with events (removes it when none).
func writeOutbox(path string, events []Event) error {
	if len(events) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	var b bytes.Buffer
	for _, e := range events {
		line, err := json.Marshal(e)
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return state.WriteFileAtomic(path, b.Bytes(), 0o600)
}

// Queued counts the events waiting in a workspace's outbox.
func Queued(workspace string) int {
	q, _ := readOutbox(OutboxPath(workspace))
	return len(q)
}
