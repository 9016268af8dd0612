package ingest

import (
	"context"

	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/journeys"
)

// Journeys returns the workspace's journey cache: the analytics Index the
// server's queries run on, kept fresh under Config.Journeys, and the
// streaming Source for queries that need the events themselves.
func (p *Pipeline) Journeys(ctx context.Context, wsID string) (*journeys.Cache, error) {
	sp, err := p.space(ctx, wsID)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, fault.New(fault.Unavailable, "trek is shutting down")
	}
	if c, ok := p.caches[wsID]; ok {
		return c, nil
	}
	if p.caches == nil {
		p.caches = map[string]*journeys.Cache{}
	}
	opts := p.cfg.Journeys
	if opts.Logger == nil {
		opts.Logger = p.cfg.Logger
	}
	src := journeys.NewSource(sp.store, sp.graph.Load, journeys.Options{Logger: p.cfg.Logger})
	c := journeys.NewCache(src, opts)
	p.caches[wsID] = c
	return c, nil
}

// closeJourneys stops the caches' builds before the stores they read close.
func (p *Pipeline) closeJourneys() {
	p.mu.Lock()
	caches := p.caches
	p.caches = nil
	p.mu.Unlock()
	for _, c := range caches {
		c.Close()
	}
}
