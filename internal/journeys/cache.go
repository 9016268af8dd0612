package journeys

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/trekhq/trek/internal/analytics"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/identity"
	"github.com/trekhq/trek/internal/store"
)

// Generation identifies the state of a Source's data: the store's and the
// graph's change counters. Every counter only grows, so one Generation
// covers another when it counts at least as much of each.
type Generation struct {
	Store store.Generation
	// GraphSeq is the graph's last change (new identifiers, merges,
	// erasures); GraphErased the customers it erased.
	GraphSeq, GraphErased uint64
	// graph is the graph read: the ingest layer replaces a workspace's
	// graph whole when it rebuilds it, and counters of two graphs do not
	// compare.
	graph *identity.Graph
}

// Generation reads the Source's change counters. Read before a Scan, it
// counts nothing the Scan does not see.
func (s *Source) Generation() Generation {
	g := s.graph()
	gs := g.Stats()
	return Generation{Store: s.store.Generation(), GraphSeq: gs.Seq, GraphErased: gs.Erased, graph: g}
}

// Covers reports whether g counts every change o counts.
func (g Generation) Covers(o Generation) bool {
	return g.graph == o.graph &&
		g.Store.Appends >= o.Store.Appends && g.Store.Erasures >= o.Store.Erasures &&
		g.GraphSeq >= o.GraphSeq && g.GraphErased >= o.GraphErased
}

// ErasedSince reports whether anything may have been erased between o and
// g (a later Generation). A replaced graph counts as an erasure: its
// counters say nothing about the old one's.
func (g Generation) ErasedSince(o Generation) bool {
	return g.graph != o.graph || g.Store.Erasures > o.Store.Erasures || g.GraphErased > o.GraphErased
}

// DefaultStaleness is how old an Index the server serves, by default,
// while a newer one is built (its --analytics-staleness flag).
const DefaultStaleness = time.Minute

// CacheOptions configure a Cache.
type CacheOptions struct {
	// Staleness is how long after it was built an Index may still be
	// served when the data has changed since (a rebuild then starts in
	// the background). 0 means never: every Get reflects every change
	// made before it (tests, small workspaces). Whatever it is, an Index
	// built before an erasure is never served after it.
	Staleness time.Duration
	// KeepTraits builds the Index with customers' traits, for trait
	// filters and breakdowns without going to the store.
	KeepTraits bool
	// FullUpTo makes the Index keep the events themselves (properties,
	// context) and traits while the store holds at most this many events,
	// so that every query of a small workspace (the demo, a pilot) runs
	// at memory speed; a bigger store gets the compact Index and sends
	// queries on properties to the store. 0 means never.
	FullUpTo int64
	// FullContext makes that full Index keep the events' context as well
	// (most of an event's size); without it, queries on context go to the
	// store.
	FullContext bool
	Logger      *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Cache keeps one analytics.Index of a Source for queries, rebuilding it
// when the data changed under the staleness policy of CacheOptions. At
// most one build runs at a time; callers that must wait for one share it.
// Queries that need the events themselves (analytics.Need.Events) do not
// use the Index: they Scan the Source.
type Cache struct {
	src  *Source
	opts CacheOptions
	log  *slog.Logger

	// bg runs the builds: a caller that stops waiting does not stop the
	// build others may be waiting for. Close cancels it.
	bg     context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	cur    *built
	flight *flight
	closed bool
	builds int
}

type built struct {
	ix  *analytics.Index
	gen Generation
	at  time.Time
}

// flight is one build; done is closed when res or err is set.
type flight struct {
	done chan struct{}
	gen  Generation
	res  *built
	err  error
}

// NewCache returns a Cache of src; it builds nothing before the first Get.
func NewCache(src *Source, opts CacheOptions) *Cache {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = src.log
	}
	c := &Cache{src: src, opts: opts, log: opts.Logger}
	c.bg, c.cancel = context.WithCancel(context.Background())
	return c
}

// Source is the streaming Source the Index is built from, for queries
// that need what the Index does not keep.
func (c *Cache) Source() *Source { return c.src }

// Staleness is the policy the cache was made with.
func (c *Cache) Staleness() time.Duration { return c.opts.Staleness }

// Get returns an Index and the time it reflects (when its build began):
// the current one if nothing changed since it was built; the current one
// if something changed but it is younger than the staleness, while a
// rebuild starts in the background; else a new one, waiting for it. ctx
// bounds the wait, not the build.
func (c *Cache) Get(ctx context.Context) (*analytics.Index, time.Time, error) {
	arrival := c.src.Generation()
	c.mu.Lock()
	for {
		if c.closed {
			c.mu.Unlock()
			return nil, time.Time{}, fault.New(fault.Unavailable, "trek is shutting down")
		}
		if b := c.cur; b != nil {
			if b.gen.Covers(arrival) {
				c.mu.Unlock()
				return b.ix, b.at, nil
			}
			if c.opts.Staleness > 0 && !arrival.ErasedSince(b.gen) && c.opts.Now().Sub(b.at) < c.opts.Staleness {
				if c.flight == nil {
					c.startLocked()
				}
				c.mu.Unlock()
				return b.ix, b.at, nil
			}
		}
		f := c.flight
		if f == nil {
			f = c.startLocked()
		}
		c.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return nil, time.Time{}, err
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, time.Time{}, ctx.Err()
		}
		// A build begun after this call saw everything it must reflect;
		// one begun before may not have: then go round again.
		if f.err != nil && f.gen.Covers(arrival) {
			return nil, time.Time{}, f.err
		}
		if f.res != nil && f.gen.Covers(arrival) {
			return f.res.ix, f.res.at, nil
		}
		c.mu.Lock()
	}
}

// startLocked starts a build; c.mu is held.
func (c *Cache) startLocked() *flight {
	// The counters are read before the scan begins, so the Index reflects
	// at least what they count.
	f := &flight{done: make(chan struct{}), gen: c.src.Generation()}
	at := c.opts.Now()
	c.flight = f
	c.builds++
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		start := time.Now()
		opts := analytics.IndexOptions{KeepTraits: c.opts.KeepTraits, Parts: c.src.Parts()}
		if c.opts.FullUpTo > 0 && c.src.store.Stats().Events <= c.opts.FullUpTo {
			opts.KeepEvents, opts.KeepContext, opts.KeepTraits = true, c.opts.FullContext, true
		}
		ix, err := analytics.BuildIndex(c.bg, c.src, opts)
		c.mu.Lock()
		if err != nil {
			f.err = fmt.Errorf("build the analytics index: %w", err)
		} else {
			f.res = &built{ix: ix, gen: f.gen, at: at}
			c.cur = f.res
		}
		c.flight = nil
		c.mu.Unlock()
		close(f.done)
		if err != nil {
			if c.bg.Err() == nil {
				c.log.Error("journeys: analytics index build failed", "err", err)
			}
			return
		}
		c.log.Debug("journeys: analytics index built", "customers", ix.Customers(), "events", ix.Events(), "took", time.Since(start))
	}()
	return f
}

// Builds is how many builds the cache has started.
func (c *Cache) Builds() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.builds
}

// Close stops a running build and waits for it; Get then fails.
func (c *Cache) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
}
