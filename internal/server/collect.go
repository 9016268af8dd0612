package server

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/ingest"
	"github.com/trekhq/trek/internal/journey"
	"github.com/trekhq/trek/internal/meta"
)

// collection is the Segment-compatible collection API: /v1/track, /v1/batch
// and the rest, authenticated by a source's write key.
type collection struct {
	s       *Server
	ingest  *ingest.Pipeline
	limits  event.Limits
	slots   chan struct{} // bounds requests being read and parsed at once
	keys    sync.Map      // write key → cachedSource
	counts  *prometheus.CounterVec
	keysTTL time.Duration
	// received counts each source's events since collection started, for
	// the sources page's live count (Prometheus has the same numbers, but
	// a workspace's admin may not read /metrics of every workspace).
	received sync.Map // source id → *sourceCounts
	started  time.Time
}

type sourceCounts struct {
	accepted, deduplicated, quarantined, suppressed atomic.Int64
	last                                            atomic.Int64 // Unix nanoseconds of the last request with events
}

type cachedSource struct {
	src meta.Source
	at  time.Time
}

// collectPaths maps each collection endpoint to its call type; batch is "".
var collectPaths = map[string]event.Type{
	"/v1/track": event.Track, "/v1/identify": event.Identify, "/v1/page": event.Page,
	"/v1/screen": event.Screen, "/v1/group": event.Group, "/v1/alias": event.Alias, "/v1/batch": "",
}

// collectAliases are the short paths analytics.js (Segment's browser
// library) posts to; they behave exactly like the long ones.
var collectAliases = map[string]string{
	"/v1/t": "/v1/track", "/v1/i": "/v1/identify", "/v1/p": "/v1/page",
	"/v1/s": "/v1/screen", "/v1/g": "/v1/group", "/v1/a": "/v1/alias", "/v1/b": "/v1/batch",
}

// EnableCollection mounts the collection endpoints on the server and lets
// the API reach customers, the quarantine and imports.
func (s *Server) EnableCollection(p *ingest.Pipeline, limits event.Limits, maxInFlight int) {
	if maxInFlight <= 0 {
		maxInFlight = 256
	}
	limits = limits.WithDefaults()
	col := &collection{s: s, ingest: p, limits: limits, slots: make(chan struct{}, maxInFlight), keysTTL: 10 * time.Second, started: s.cfg.Now()}
	col.counts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trek_collect_events_total", Help: "Events received by the collection API, by source and outcome (accepted, deduplicated, quarantined, suppressed).",
	}, []string{"source", "outcome"})
	s.reg.MustRegister(col.counts)
	s.collect = col
	for path := range collectPaths {
		s.mux.Handle("POST "+path, s.instrument("POST "+path, http.HandlerFunc(col.handle)))
		s.mux.Handle("OPTIONS "+path, s.instrument("OPTIONS "+path, http.HandlerFunc(col.preflight)))
	}
	for short, long := range collectAliases {
		s.mux.Handle("POST "+short, s.instrument("POST "+long, http.HandlerFunc(col.handle)))
		s.mux.Handle("OPTIONS "+short, s.instrument("OPTIONS "+long, http.HandlerFunc(col.preflight)))
	}
}

// cors lets browser senders (analytics.js and its kin) post from any site:
// the write key, not a cookie, is the credential, so no origin is trusted
// more than another.
func cors(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding")
	h.Set("Access-Control-Max-Age", "86400")
}

func (c *collection) preflight(w http.ResponseWriter, r *http.Request) {
	cors(w)
	w.WriteHeader(http.StatusNoContent)
}

type collectResponse struct {
	Success     bool `json:"success"`
	Accepted    int  `json:"accepted"`
	Duplicates  int  `json:"duplicates"`
	Quarantined int  `json:"quarantined"`
	Suppressed  int  `json:"suppressed,omitempty"`
}

func (c *collection) handle(w http.ResponseWriter, r *http.Request) {
	cors(w)
	if err := c.serve(w, r); err != nil {
		if fault.CodeOf(err) == fault.Unauthenticated {
			w.Header().Set("WWW-Authenticate", `Basic realm="trek collection"`)
		}
		c.s.writeError(w, r, err)
	}
}

func (c *collection) serve(w http.ResponseWriter, r *http.Request) error {
	// Shed load before reading anything: a request that cannot be served
	// now is cheapest to refuse at once, and the client retries.
	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	default:
		return fault.New(fault.RateLimited, "trek is receiving more requests than it can take; retry shortly")
	}
	// A slow client must not hold a slot for long.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(15 * time.Second))

	path := r.URL.Path
	if long, ok := collectAliases[path]; ok {
		path = long
	}
	typ := collectPaths[path]
	limit := int64(c.limits.MaxBatchBytes)
	if typ != "" {
		limit = int64(c.limits.MaxEventBytes)
	}
	if r.ContentLength > limit && r.Header.Get("Content-Encoding") == "" {
		return fault.New(fault.TooLarge, "the request body is %d bytes; at most %d are accepted on %s", r.ContentLength, limit, r.URL.Path)
	}
	raw, err := readCollectBody(r, limit)
	if err != nil {
		return err
	}
	src, err := c.source(r, raw)
	if err != nil {
		return err
	}
	m := event.Meta{ReceivedAt: time.Now().UTC(), SourceID: src.ID, SourceChannel: src.Channel, NewID: func() string { return journey.NewID("msg") }}
	var b event.Batch
	if typ == "" {
		b, err = event.ParseBatch(raw, m, c.limits)
	} else {
		var ev event.Event
		ev, err = event.ParseCall(typ, raw, m, c.limits)
		if err == nil {
			b = event.Batch{Events: []event.Event{ev}}
		} else if rej, ok := event.AsRejected(err); ok {
			// A single call that fails validation is quarantined like a
			// batch member, so it can be fixed and replayed; its type
			// came from the path, so it is written into the payload.
			rej.Raw = withType(rej.Raw, typ)
			b, err = event.Batch{Rejected: []event.Rejected{rej}}, nil
		}
	}
	if err != nil {
		return err
	}
	res, err := c.ingest.Collect(r.Context(), src, b)
	if err != nil {
		return err
	}
	c.counts.WithLabelValues(src.ID, "accepted").Add(float64(res.Accepted))
	c.counts.WithLabelValues(src.ID, "deduplicated").Add(float64(res.Duplicates))
	c.counts.WithLabelValues(src.ID, "quarantined").Add(float64(res.Quarantined))
	c.counts.WithLabelValues(src.ID, "suppressed").Add(float64(res.Suppressed))
	v, _ := c.received.LoadOrStore(src.ID, &sourceCounts{})
	sc := v.(*sourceCounts)
	sc.accepted.Add(int64(res.Accepted))
	sc.deduplicated.Add(int64(res.Duplicates))
	sc.quarantined.Add(int64(res.Quarantined))
	sc.suppressed.Add(int64(res.Suppressed))
	if res.Accepted+res.Duplicates+res.Quarantined+res.Suppressed > 0 {
		sc.last.Store(c.s.cfg.Now().UnixNano())
	}
	writeJSON(w, http.StatusOK, collectResponse{Success: true, Accepted: res.Accepted, Duplicates: res.Duplicates,
		Quarantined: res.Quarantined, Suppressed: res.Suppressed})
	return nil
}

// readCollectBody reads at most limit bytes of body, inflating gzip with the
// same cap on the inflated size, so a small bomb cannot blow up memory.
func readCollectBody(r *http.Request, limit int64) ([]byte, error) {
	body := io.Reader(http.MaxBytesReader(nil, r.Body, limit))
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, fault.New(fault.Invalid, "the body is not valid gzip: %v", err)
		}
		defer zr.Close()
		body = io.LimitReader(zr, limit+1)
	default:
		return nil, fault.New(fault.Invalid, "Content-Encoding %q is not supported; send gzip or nothing", enc)
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fault.New(fault.TooLarge, "the request body is larger than %d bytes", limit)
		}
		if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fault.New(fault.Invalid, "the gzip body is damaged: %v", err)
		}
		return nil, fault.New(fault.Invalid, "could not read the request body: %v", err)
	}
	if int64(len(raw)) > limit {
		return nil, fault.New(fault.TooLarge, "the inflated request body is larger than %d bytes", limit)
	}
	return raw, nil
}

// source finds the sending source by its write key: the HTTP Basic user
// name, as Segment's libraries send it, or the body's writeKey field.
func (c *collection) source(r *http.Request, raw []byte) (meta.Source, error) {
	key := ""
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, val, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Basic") {
			return meta.Source{}, fault.New(fault.Unauthenticated, "send the write key as the user name of HTTP Basic authentication")
		}
		dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(val))
		if err != nil {
			return meta.Source{}, fault.New(fault.Unauthenticated, "the Basic authorization header is not valid base64")
		}
		key, _, _ = strings.Cut(string(dec), ":")
	}
	if key == "" {
		key = event.WriteKeyOf(raw)
	}
	if key == "" {
		return meta.Source{}, fault.New(fault.Unauthenticated, "no write key: send it as the HTTP Basic user name or as writeKey in the body")
	}
	if v, ok := c.keys.Load(key); ok {
		cs := v.(cachedSource)
		if time.Since(cs.at) < c.keysTTL {
			return c.usable(cs.src)
		}
	}
	src, err := c.s.meta.SourceByWriteKey(r.Context(), key)
	if err != nil {
		if fault.CodeOf(err) == fault.NotFound {
			return meta.Source{}, fault.New(fault.Unauthenticated, "unknown write key")
		}
		return meta.Source{}, err
	}
	c.keys.Store(key, cachedSource{src: src, at: time.Now()})
	return c.usable(src)
}

func (c *collection) usable(src meta.Source) (meta.Source, error) {
	if src.Disabled {
		return meta.Source{}, fault.New(fault.Forbidden, "source %q is disabled", src.Name)
	}
	return src, nil
}

// forget drops a write key from the cache after a rotation or a change.
func (c *collection) forget(key string) {
	if c != nil {
		c.keys.Delete(key)
	}
}

// withType adds "type" to a JSON object that lacks it.
func withType(raw []byte, typ event.Type) []byte {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return raw
	}
	if _, ok := obj["type"]; ok {
		return raw
	}
	obj["type"], _ = json.Marshal(string(typ))
	out, err := json.Marshal(obj)
	if err != nil {
		return raw
	}
	return out
}
