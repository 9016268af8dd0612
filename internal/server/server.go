// Package server is trek's HTTP adapter: the JSON API under /api/v1, health
// and Prometheus metrics, authentication (bearer tokens and session
// cookies), roles, cross-site request forgery protection and size limits.
// It translates requests into calls on the domain and the stores, and
// errors into statuses through one table; it holds no business rules.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/meta"
)

// Defaults for Config's limits, documented in docs/api.md.
const (
	DefaultMaxBody    = 2 << 20 // a map with hundreds of steps fits easily
	DefaultSessionTTL = 7 * 24 * time.Hour
	// DefaultMaxImportBytes bounds an uploaded import; bigger histories are
	// imported offline with 'trek import --data'.
	DefaultMaxImportBytes = 1 << 30
	// DefaultQueryTimeout bounds one analytics query.
	DefaultQueryTimeout = 60 * time.Second
)

// Config is what the server needs besides its stores.
type Config struct {
	MaxBody int64 // largest accepted JSON request body, bytes
	// MaxImportBytes caps an event file uploaded to POST /api/v1/import
	// (as sent; gzip inflates within its own limits).
	MaxImportBytes int64
	SessionTTL     time.Duration // lifetime of a browser session
	// InsecureCookies drops the Secure flag from the session cookie, for
	// plain HTTP on a trusted network (the demo). Off by default.
	InsecureCookies bool
	// LoginRate limits login attempts per client address.
	LoginRate  rate.Limit
	LoginBurst int
	// QueryTimeout bounds one analytics query (default 60 s) and
	// MaxQueries how many run at once (default the number of cores), so
	// that analytics cannot starve collection.
	QueryTimeout time.Duration
	MaxQueries   int
	Logger       *slog.Logger
	Now          func() time.Time
}

// Server serves trek's HTTP API.
type Server struct {
	cfg     Config
	meta    meta.Store
	log     *slog.Logger
	mux     *http.ServeMux
	routes  []route
	reg     *prometheus.Registry
	reqs    *prometheus.CounterVec
	latency *prometheus.HistogramVec
	cop     *http.CrossOriginProtection
	collect *collection // nil until EnableCollection
	// querySlots holds a token per running analytics query.
	querySlots chan struct{}
	web        http.Handler // the embedded web app, for every path outside the API

	touchMu sync.Mutex
	touched map[string]time.Time // token id → when its use was last recorded

	loginMu     sync.Mutex
	loginLimits map[string]*rate.Limiter
	hashSlots   chan struct{} // bounds concurrent password hashing (64 MiB each)
	dummyOnce   sync.Once
	dummyHash   string // checked for unknown users so timing does not reveal them
}

// New builds a server over a metadata store.
func New(cfg Config, store meta.Store) (*Server, error) {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxImportBytes <= 0 {
		cfg.MaxImportBytes = DefaultMaxImportBytes
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.LoginRate == 0 {
		cfg.LoginRate = rate.Every(6 * time.Second)
	}
	if cfg.LoginBurst == 0 {
		cfg.LoginBurst = 10
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = DefaultQueryTimeout
	}
	if cfg.MaxQueries <= 0 {
		cfg.MaxQueries = runtime.GOMAXPROCS(0)
	}
	s := &Server{
		querySlots:  make(chan struct{}, cfg.MaxQueries),
		cfg:         cfg,
		meta:        store,
		log:         cfg.Logger,
		mux:         http.NewServeMux(),
		reg:         prometheus.NewRegistry(),
		cop:         http.NewCrossOriginProtection(),
		loginLimits: map[string]*rate.Limiter{},
		touched:     map[string]time.Time{},
		hashSlots:   make(chan struct{}, 4),
	}
	s.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trek_http_requests_total", Help: "HTTP requests by route and status code.",
	}, []string{"route", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "trek_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
	}, []string{"route"})
	s.reg.MustRegister(s.reqs, s.latency, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	s.mux.Handle("GET /healthz", s.instrument("GET /healthz", http.HandlerFunc(s.healthz)))
	s.mux.Handle("GET /metrics", s.instrument("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})))
	s.routes = s.apiRoutes()
	for _, rt := range s.routes {
		s.mux.Handle(rt.method+" "+rt.pattern, s.instrument(rt.method+" "+rt.pattern, s.handle(rt)))
	}
	s.mux.Handle("/api/", s.instrument("unmatched", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, fault.New(fault.NotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
	})))
	if err := s.mountWeb(); err != nil {
		return nil, err
	}
	return s, nil
}

// Registry is where other components register their Prometheus metrics.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
	if isAppPath(r.URL.Path) {
		s.web.ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// instrument counts requests by route pattern (never by raw path, which
// would let clients create unbounded label values).
func (s *Server) instrument(name string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		s.reqs.WithLabelValues(name, strconv.Itoa(sw.status)).Inc()
		s.latency.WithLabelValues(name).Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Serve runs an HTTP server on addr until ctx is cancelled, then shuts down
// gracefully, letting requests in flight finish for up to grace.
func Serve(ctx context.Context, lnAddr string, h http.Handler, log *slog.Logger, ready func(addr string)) error {
	ln, err := listen(lnAddr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", "30s")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down http: %w", err)
	}
	return nil
}

func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}
