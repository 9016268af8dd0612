// Package ingest is trek's collection pipeline, free of HTTP: validated
// events are deduplicated by (source, messageId), stitched to customers in
// the identity graph, and made durable in the workspace's event store;
// invalid ones go to the quarantine. One writer goroutine per workspace
// takes every request waiting at that moment as one group, so a single
// pair of fsyncs (identity log, event log) acknowledges many requests.
//
// Layout: DIR/<workspace id>/events (the event store), DIR/<workspace
// id>/identity (the identity log) and identity.snapshot beside it.
package ingest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/trekhq/trek/internal/datadir"
	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/identity"
	"github.com/trekhq/trek/internal/journeys"
	"github.com/trekhq/trek/internal/meta"
	"github.com/trekhq/trek/internal/store"
	"github.com/trekhq/trek/internal/wal"
)

// BulkFirstFold is the FirstFold of bulk writers (trek import and gen
// into a stopped server's data directory): column files are written while
// the reader still runs instead of all at the end, which made an import
// of BPIC 2012 10-20 % faster (docs/benchmarks.md). The folds then
// double, up to the store's usual head.
const BulkFirstFold = 1 << 16

// BulkGCPercent is the garbage collector's target (GOGC) for a bulk
// import into a stopped server's data directory: the heap may grow to five
// times what is live between collections instead of twice. An import is a
// batch job; most of what it allocates (parsed events, records) dies within
// one batch, so fewer collections cost less CPU and fewer mark assists slow
// the reader and the writer.
const BulkGCPercent = 400

// DefaultDedupWindow is how long a messageId is remembered per source.
const DefaultDedupWindow = 7 * 24 * time.Hour

// Config configures the pipeline.
type Config struct {
	// Dir holds one directory per workspace.
	Dir string
	// Sync is the fsync policy of the logs: wal.SyncAlways (default; every
	// acknowledged group is on disk) or wal.SyncNever (offline import).
	Sync wal.SyncPolicy
	// HeadEvents is the event store's fold threshold (0: its default).
	HeadEvents int
	// FirstFold is the event store's first background fold (see
	// store.Options.FirstFold; 0: HeadEvents).
	FirstFold int
	// ParallelFold writes column files on two goroutines (see
	// store.Options.ParallelFold): bulk writers set it.
	ParallelFold bool
	// NoLog keeps events out of the event log until they are folded
	// (see store.Options.NoLog): bulk imports into a stopped server.
	NoLog bool
	// DedupWindow is how long a (source, messageId) pair is remembered.
	DedupWindow time.Duration
	// Identity says which traits identify a customer.
	Identity event.IdentifierRules
	// MaxAnonymousIDs caps the anonymous ids of one customer (0: default).
	MaxAnonymousIDs int
	// KeepClientIP keeps context.ip, truncated to its network (/24 for
	// IPv4, /48 for IPv6). By default client addresses are not stored.
	KeepClientIP bool
	// QueueDepth bounds the requests waiting for a workspace's writer;
	// past it Collect answers Unavailable at once instead of queueing
	// without bound.
	QueueDepth int
	// FS is the file system of the event and identity logs (default: the
	// real one). Tests pass a *wal.FaultFS to inject I/O errors and a full
	// disk; snapshots and column files stay on the real one.
	FS wal.FS
	// Journeys configures each workspace's analytics index (Journeys).
	Journeys journeys.CacheOptions
	Logger   *slog.Logger
	Now      func() time.Time
}

// Result says what became of a request's events.
type Result struct {
	Accepted    int `json:"accepted"`
	Duplicates  int `json:"duplicates"`
	Quarantined int `json:"quarantined"`
	Suppressed  int `json:"suppressed"`
}

// Pipeline collects events into every workspace's store.
type Pipeline struct {
	cfg       Config
	meta      meta.Store
	secret    []byte
	seenSeeds [2]maphash.Seed // of the dedup indexes' keys

	mu     sync.Mutex
	spaces map[string]*space
	caches map[string]*journeys.Cache // by workspace, made on first use
	closed bool
}

// Open prepares the pipeline; workspaces are opened on first use.
func Open(cfg Config, m meta.Store) (*Pipeline, error) {
	if cfg.DedupWindow <= 0 {
		cfg.DedupWindow = DefaultDedupWindow
	}
	if cfg.QueueDepth <= 0 {
		cfg.QueueDepth = 1024
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Identity.TraitKeys == nil {
		cfg.Identity.TraitKeys = event.DefaultTraitKeys
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create event directory %s: %w", cfg.Dir, err)
	}
	secret, err := loadSecret(filepath.Join(cfg.Dir, "identity.secret"))
	if err != nil {
		return nil, err
	}
	return &Pipeline{cfg: cfg, meta: m, secret: secret, spaces: map[string]*space{},
		seenSeeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}, nil
}

// loadSecret reads the installation's suppression-list key, creating it on
// first use. It never leaves this file: with it, the hashes of erased
// identifiers could be tested against guesses.
func loadSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) < identity.MinSecretLen {
			return nil, fmt.Errorf("identity secret %s is damaged (%d bytes)", path, len(b))
		}
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read identity secret %s: %w", path, err)
	}
	b = make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("make identity secret: %w", err)
	}
	if err := datadir.WriteFileAtomic(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("write identity secret: %w", err)
	}
	return b, nil
}

// space returns the open workspace, opening it on first use.
func (p *Pipeline) space(ctx context.Context, wsID string) (*space, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, fault.New(fault.Unavailable, "trek is shutting down")
	}
	if sp, ok := p.spaces[wsID]; ok {
		return sp, nil
	}
	sp, err := openSpace(ctx, p, wsID)
	if err != nil {
		return nil, err
	}
	p.spaces[wsID] = sp
	return sp, nil
}

// Collect stores a parsed batch from a source: valid events after dedup,
// stitching and suppression, rejected ones in the quarantine. It returns
// once everything it reports is durable.
func (p *Pipeline) Collect(ctx context.Context, src meta.Source, b event.Batch) (Result, error) {
	sp, err := p.space(ctx, src.WorkspaceID)
	if err != nil {
		return Result{}, err
	}
	return sp.submit(ctx, &request{kind: reqCollect, src: src, batch: b})
}

// Flush folds every open workspace's head into column files.
func (p *Pipeline) Flush(ctx context.Context) error {
	p.mu.Lock()
	spaces := make([]*space, 0, len(p.spaces))
	for _, sp := range p.spaces {
		spaces = append(spaces, sp)
	}
	p.mu.Unlock()
	for _, sp := range spaces {
		if err := sp.store.Flush(ctx); err != nil {
			return fmt.Errorf("flush workspace %s: %w", sp.ws, err)
		}
	}
	return nil
}

// Close stops every writer, snapshots the identity graphs and closes the
// stores. Requests still queued are answered Unavailable.
func (p *Pipeline) Close() error {
	p.mu.Lock()
	p.closed = true
	spaces := p.spaces
	p.spaces = map[string]*space{}
	p.mu.Unlock()
	p.closeJourneys()
	var errs []error
	for _, sp := range spaces {
		errs = append(errs, sp.close())
	}
	return errors.Join(errs...)
}

// Store returns a workspace's event store, for queries and export.
func (p *Pipeline) Store(ctx context.Context, wsID string) (*store.Store, error) {
	sp, err := p.space(ctx, wsID)
	if err != nil {
		return nil, err
	}
	return sp.store, nil
}

// Graph returns a workspace's identity graph, for queries. After a failed
// identity-log write the workspace replaces its graph with one rebuilt from
// the disk, so a query should ask for it once and not keep it.
func (p *Pipeline) Graph(ctx context.Context, wsID string) (*identity.Graph, error) {
	sp, err := p.space(ctx, wsID)
	if err != nil {
		return nil, err
	}
	return sp.graph.Load(), nil
}
