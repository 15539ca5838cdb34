// Package prom reads a Prometheus server's HTTP API: instant queries, the
// configuration it runs with, its rule groups and its scrape targets. The
// server is reached through the Kubernetes API server's service proxy by
// default (it works before any Ingress exists and needs no port-forward), or
// at a URL a learner gives.
package prom

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"
)

// Querier is what dojo asks a Prometheus. Tests fake it.
type Querier interface {
	// Query evaluates an instant query now; a result that is not a vector
	// is an error.
	Query(ctx context.Context, expr string) ([]Sample, error)
	// Config is the YAML configuration the server runs with
	// (/api/v1/status/config).
	Config(ctx context.Context) (string, error)
	// Rules are the rule groups the server has loaded.
	Rules(ctx context.Context) ([]RuleGroup, error)
	// Targets are the active scrape targets.
	Targets(ctx context.Context) ([]Target, error)
	// Where says how the server is reached, for messages.
	Where() string
}

// Sample is one element of an instant vector.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// String is the sample in PromQL's notation: {a="b"} 3.
func (s Sample) String() string {
	return FormatLabels(s.Labels) + " " + strconv.FormatFloat(s.Value, 'g', -1, 64)
}

// FormatLabels writes labels as {a="b", c="d"}, sorted, __name__ first as a
// metric name.
func FormatLabels(ls map[string]string) string {
	keys := make([]string, 0, len(ls))
	for k := range ls {
		if k != "__name__" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Quote(ls[k])
	}
	return ls["__name__"] + "{" + strings.Join(parts, ", ") + "}"
}

// RuleGroup is a loaded rule group.
type RuleGroup struct {
	Name     string  `json:"name"`
	File     string  `json:"file"`
	Interval float64 `json:"interval"` // seconds
	Rules    []Rule  `json:"rules"`
}

// Rule is one rule of a group.
type Rule struct {
	Name      string `json:"name"`
	Query     string `json:"query"`
	Type      string `json:"type"` // "recording" or "alerting"
	Health    string `json:"health"`
	LastError string `json:"lastError"`
}

// Target is an active scrape target.
type Target struct {
	Labels     map[string]string `json:"labels"`
	ScrapePool string            `json:"scrapePool"`
	ScrapeURL  string            `json:"scrapeUrl"`
	Health     string            `json:"health"` // "up", "down", "unknown"
	LastError  string            `json:"lastError"`
}

// Client is a Querier over HTTP.
type Client struct {
	base  string
	where string
	http  *http.Client
}

// ServiceProxy reaches the Prometheus behind Service ns/name:port through the
// API server of cfg.
func ServiceProxy(cfg *rest.Config, ns, name string, port int) (*Client, error) {
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		return nil, err
	}
	host := strings.TrimSuffix(cfg.Host, "/")
	if !strings.Contains(host, "://") {
		host = "https://" + host
	}
	base := fmt.Sprintf("%s/api/v1/namespaces/%s/services/http:%s:%d/proxy", host, ns, name, port)
	return &Client{base: base, where: fmt.Sprintf("Service %s/%s:%d through the API server's service proxy", ns, name, port),
		http: &http.Client{Transport: rt, Timeout: 20 * time.Second}}, nil
}

// URL reaches a Prometheus at a URL (--prometheus-url).
func URL(u string) (*Client, error) {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return nil, fmt.Errorf("prometheus URL %q is not an http(s) URL: give one like http://prometheus.vcap.me", u)
	}
	return &Client{base: strings.TrimSuffix(u, "/"), where: u, http: &http.Client{Timeout: 20 * time.Second}}, nil
}

// Where says how the server is reached.
func (c *Client) Where() string { return c.where }

type envelope struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

func (c *Client) get(ctx context.Context, path string, q url.Values, into any) error {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("prometheus (%s): %w", c.where, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("prometheus (%s): %w", c.where, err)
	}
	var env envelope
	if jerr := json.Unmarshal(body, &env); jerr != nil || env.Status == "" {
		return &HTTPError{Where: c.where, Code: resp.StatusCode, Body: firstLine(string(body))}
	}
	if env.Status != "success" {
		return fmt.Errorf("prometheus (%s): %s: %s", c.where, env.ErrorType, env.Error)
	}
	return json.Unmarshal(env.Data, into)
}

// HTTPError is an answer that is not Prometheus's: typically the service
// proxy's 503 when no Prometheus pod is ready, or a 404 for a missing Service.
type HTTPError struct {
	Where string
	Code  int
	Body  string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("prometheus (%s) answered HTTP %d: %s", e.Where, e.Code, e.Body)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Query evaluates expr at the server's now.
func (c *Client) Query(ctx context.Context, expr string) ([]Sample, error) {
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := c.get(ctx, "/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("prometheus: %s returned a %s, not a vector", expr, data.ResultType)
	}
	out := make([]Sample, 0, len(data.Result))
	for _, r := range data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("prometheus: value %v of %s: %w", r.Value[1], expr, err)
		}
		out = append(out, Sample{Labels: r.Metric, Value: v})
	}
	return out, nil
}

// Config is the configuration the server runs with.
func (c *Client) Config(ctx context.Context) (string, error) {
	var data struct {
		YAML string `json:"yaml"`
	}
	err := c.get(ctx, "/api/v1/status/config", nil, &data)
	return data.YAML, err
}

// Rules are the loaded rule groups.
func (c *Client) Rules(ctx context.Context) ([]RuleGroup, error) {
	var data struct {
		Groups []RuleGroup `json:"groups"`
	}
	err := c.get(ctx, "/api/v1/rules", nil, &data)
	return data.Groups, err
}

// Targets are the active scrape targets.
func (c *Client) Targets(ctx context.Context) ([]Target, error) {
	var data struct {
		Active []Target `json:"activeTargets"`
	}
	err := c.get(ctx, "/api/v1/targets", url.Values{"state": {"active"}}, &data)
	return data.Active, err
}
