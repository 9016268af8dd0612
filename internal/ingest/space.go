package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/trekhq/trek/internal/datadir"
	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/identity"
	"github.com/trekhq/trek/internal/journey"
	"github.com/trekhq/trek/internal/meta"
	"github.com/trekhq/trek/internal/store"
	"github.com/trekhq/trek/internal/wal"
)

// maxGroup bounds how many requests one group commit takes, so that one
// group's latency stays bounded under a flood.
const maxGroup = 256

// snapshotEvery is how many identity-log records pass between snapshots.
const snapshotEvery = 4096

type reqKind int

const (
	reqCollect reqKind = iota
	reqErase
)

type request struct {
	kind  reqKind
	src   meta.Source
	batch event.Batch
	// erase
	customer uint64
	by       string

	res    Result
	erased meta.Erasure
	err    error
	done   chan struct{}
}

type seenKey struct{ source, message string }

// space is one workspace's event store, identity graph and dedup index,
// owned by one writer goroutine.
type space struct {
	p     *Pipeline
	ws    string
	dir   string
	store *store.Store
	idlog *wal.Log
	graph *identity.Graph

	reqs chan *request
	stop chan struct{}
	done chan struct{}

	// Owned by the writer goroutine.
	seen       map[seenKey]time.Time
	lastPrune  time.Time
	sinceSnap  int
	lastIDLSN  uint64
	broken     error
	changesBuf []byte
}

func openSpace(ctx context.Context, p *Pipeline, wsID string) (*space, error) {
	dir := filepath.Join(p.cfg.Dir, wsID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create workspace directory %s: %w", dir, err)
	}
	sp := &space{p: p, ws: wsID, dir: dir, reqs: make(chan *request, p.cfg.QueueDepth),
		stop: make(chan struct{}), done: make(chan struct{}), seen: map[seenKey]time.Time{}}
	if err := sp.loadIdentity(); err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, filepath.Join(dir, "events"), store.Options{Sync: p.cfg.Sync, HeadEvents: p.cfg.HeadEvents, FS: p.cfg.FS, Logger: p.cfg.Logger})
	if err != nil {
		sp.idlog.Close()
		return nil, fmt.Errorf("open event store of workspace %s: %w", wsID, err)
	}
	sp.store = st
	since := p.cfg.Now().Add(-p.cfg.DedupWindow)
	if err := st.Messages(ctx, since, func(src, msg string, at time.Time) {
		sp.seen[seenKey{strings.Clone(src), strings.Clone(msg)}] = at
	}); err != nil {
		st.Close()
		sp.idlog.Close()
		return nil, fmt.Errorf("rebuild dedup index of workspace %s: %w", wsID, err)
	}
	sp.lastPrune = p.cfg.Now()
	go sp.run()
	return sp, nil
}

// loadIdentity reads the graph's snapshot and replays the identity log
// after it.
func (sp *space) loadIdentity() error {
	cfg := identity.Config{Secret: sp.p.secret, MaxAnonymousIDs: sp.p.cfg.MaxAnonymousIDs}
	snap := filepath.Join(sp.dir, "identity.snapshot")
	f, err := os.Open(snap)
	switch {
	case err == nil:
		g, lerr := identity.Load(bufio.NewReader(f), cfg)
		f.Close()
		if lerr != nil {
			return fmt.Errorf("load identity snapshot %s: %w", snap, lerr)
		}
		sp.graph = g
	case errors.Is(err, os.ErrNotExist):
		g, nerr := identity.New(cfg)
		if nerr != nil {
			return nerr
		}
		sp.graph = g
	default:
		return fmt.Errorf("open identity snapshot %s: %w", snap, err)
	}
	log, err := wal.Open(filepath.Join(sp.dir, "identity"), wal.Options{Sync: sp.p.cfg.Sync, FS: sp.p.cfg.FS, Logger: sp.p.cfg.Logger})
	if err != nil {
		return fmt.Errorf("open identity log of workspace %s: %w", sp.ws, err)
	}
	err = log.Replay(func(lsn uint64, rec []byte) error {
		changes, err := identity.DecodeChanges(rec)
		if err != nil {
			return fmt.Errorf("%w: %v", wal.ErrCorrupt, err)
		}
		sp.lastIDLSN = lsn
		return sp.graph.Apply(changes)
	})
	if err != nil {
		log.Close()
		return fmt.Errorf("replay identity log of workspace %s: %w", sp.ws, err)
	}
	sp.idlog = log
	return nil
}

// submit queues a request for the writer and waits for its answer.
func (sp *space) submit(ctx context.Context, r *request) (Result, error) {
	r.done = make(chan struct{})
	select {
	case sp.reqs <- r:
	case <-sp.stop:
		return Result{}, fault.New(fault.Unavailable, "trek is shutting down")
	default:
		return Result{}, fault.New(fault.Unavailable, "trek is receiving more events than it can store; retry shortly")
	}
	select {
	case <-r.done:
		return r.res, r.err
	case <-ctx.Done():
		// The writer still finishes the request; the client will retry and
		// the retry is deduplicated by messageId.
		return Result{}, ctx.Err()
	}
}

func (sp *space) run() {
	defer close(sp.done)
	group := make([]*request, 0, maxGroup)
	for {
		var first *request
		select {
		case first = <-sp.reqs:
		case <-sp.stop:
			sp.drain(fault.New(fault.Unavailable, "trek is shutting down"))
			return
		}
		group = append(group[:0], first)
	more:
		for len(group) < maxGroup {
			select {
			case r := <-sp.reqs:
				group = append(group, r)
			default:
				break more
			}
		}
		sp.process(group)
		for _, r := range group {
			close(r.done)
		}
	}
}

func (sp *space) drain(err error) {
	for {
		select {
		case r := <-sp.reqs:
			r.err = err
			close(r.done)
		default:
			return
		}
	}
}

// process handles one group: erasures one by one, collection requests
// together in one durable write.
func (sp *space) process(group []*request) {
	ctx := context.Background()
	if sp.broken != nil {
		for _, r := range group {
			r.err = sp.broken
		}
		return
	}
	var collect []*request
	for _, r := range group {
		if r.kind == reqErase {
			r.erased, r.err = sp.erase(ctx, r.customer, r.by)
			continue
		}
		collect = append(collect, r)
	}
	if len(collect) == 0 {
		return
	}
	now := sp.p.cfg.Now()
	var recs []store.Record
	var quarantine []meta.QuarantineItem
	pending := map[seenKey]time.Time{}
	for _, r := range collect {
		for _, rej := range r.batch.Rejected {
			quarantine = append(quarantine, meta.QuarantineItem{WorkspaceID: sp.ws, SourceID: r.src.ID, Reason: rej.Reason,
				Raw: append([]byte(nil), rej.Raw...), ReceivedAt: now})
			r.res.Quarantined++
		}
		for i := range r.batch.Events {
			e := &r.batch.Events[i]
			if e.ReceivedAt.IsZero() {
				// The dedup window is measured from arrival; an event
				// built in Go rather than parsed may not carry it.
				e.ReceivedAt = now
			}
			if e.MessageID == "" {
				e.MessageID = journey.NewID("msg")
			}
			k := seenKey{e.SourceID, e.MessageID}
			if _, dup := sp.seen[k]; dup {
				r.res.Duplicates++
				continue
			}
			if _, dup := pending[k]; dup {
				r.res.Duplicates++
				continue
			}
			key := sp.stitch(e)
			if key == 0 {
				r.res.Suppressed++
				continue
			}
			pending[k] = e.ReceivedAt
			scrubIP(e, sp.p.cfg.KeepClientIP)
			recs = append(recs, store.Record{Key: key, Event: *e})
			r.res.Accepted++
		}
	}
	err := sp.persist(ctx, recs, quarantine)
	if err != nil {
		for _, r := range collect {
			r.res, r.err = Result{}, err
		}
		return
	}
	for k, at := range pending {
		// Clone: the parsed ids point into their whole request body, which
		// the index would otherwise keep alive for the dedup window.
		sp.seen[seenKey{strings.Clone(k.source), strings.Clone(k.message)}] = at
	}
	sp.prune(now)
}

// stitch files an event in the identity graph and returns its key, or 0 when
// one of its identifiers belongs to an erased customer.
func (sp *space) stitch(e *event.Event) uint64 {
	cause := identity.Cause{MessageID: e.MessageID, Type: string(e.Type), Time: e.Timestamp}
	if e.Type == event.Alias && e.PreviousID != "" && e.UserID != "" {
		key, _ := sp.graph.Alias(identity.Identifier{Value: sp.p.cfg.Identity.Canonical(identity.KindUserID, e.PreviousID)},
			identity.Identifier{Kind: identity.KindUserID, Value: sp.p.cfg.Identity.Canonical(identity.KindUserID, e.UserID)}, cause)
		return key
	}
	ids := sp.p.cfg.Identity.Identifiers(e)
	gids := make([]identity.Identifier, len(ids))
	for i, id := range ids {
		gids[i] = identity.Identifier{Kind: id.Kind, Value: id.Value}
	}
	key, _ := sp.graph.Observe(gids, cause)
	return key
}

// persist makes a group durable: quarantined events, then the identity
// changes, then the events. Identity first, so that every key an event is
// filed under is known to the graph after a crash.
func (sp *space) persist(ctx context.Context, recs []store.Record, quarantine []meta.QuarantineItem) error {
	if len(quarantine) > 0 {
		if _, err := sp.p.meta.AddQuarantine(ctx, quarantine); err != nil {
			return fault.New(fault.Unavailable, "could not keep the invalid events in the quarantine; nothing was stored, retry")
		}
	}
	if err := sp.logIdentity(ctx); err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	if err := sp.store.Append(ctx, recs); err != nil {
		sp.p.cfg.Logger.Error("append events", "workspace", sp.ws, "events", len(recs), "err", err)
		if fe, ok := fault.As(err); ok && fe.Code == fault.Unavailable {
			return fe
		}
		return &fault.Error{Code: fault.Unavailable, Message: "could not store the events; retry", Err: err}
	}
	testKillAfterAppend() // crash tests only: see testhook.go
	return nil
}

// logIdentity writes the graph's pending changes to the identity log. If
// that fails the graph in memory is ahead of the disk, and cannot be
// trusted: the workspace refuses writes until trek restarts and rebuilds it.
func (sp *space) logIdentity(ctx context.Context) error {
	sp.changesBuf = sp.graph.FlushChanges(sp.changesBuf[:0])
	if len(sp.changesBuf) == 0 || isEmptyChanges(sp.changesBuf) {
		return nil
	}
	lsn, err := sp.idlog.Append(ctx, sp.changesBuf)
	if err != nil {
		sp.broken = &fault.Error{Code: fault.Unavailable, Message: "the identity log could not be written; trek must restart", Err: err}
		sp.p.cfg.Logger.Error("append identity changes", "workspace", sp.ws, "err", err)
		return sp.broken
	}
	sp.lastIDLSN = lsn
	sp.sinceSnap++
	if sp.sinceSnap >= snapshotEvery {
		if err := sp.snapshot(); err != nil {
			sp.p.cfg.Logger.Warn("identity snapshot", "workspace", sp.ws, "err", err)
		}
	}
	return nil
}

// isEmptyChanges reports whether an encoded change list holds no change:
// a version byte and a zero count.
func isEmptyChanges(b []byte) bool { return len(b) == 2 && b[1] == 0 }

// snapshot writes the graph atomically, then drops the log segments it
// covers. With seal, the log's active segment is sealed first so that it is
// dropped too: after an erasure, no record naming the erased identifiers
// may stay on disk.
func (sp *space) snapshot(seal ...bool) error {
	path := filepath.Join(sp.dir, "identity.snapshot")
	tmp, err := os.CreateTemp(sp.dir, ".identity-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriterSize(tmp, 1<<20)
	if err := sp.graph.Snapshot(w); err != nil {
		tmp.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if err := datadir.SyncDir(sp.dir); err != nil {
		return err
	}
	sp.sinceSnap = 0
	if len(seal) > 0 && seal[0] {
		if err := sp.idlog.Roll(); err != nil {
			return err
		}
	}
	return sp.idlog.TruncateBefore(sp.lastIDLSN + 1)
}

// prune forgets messageIds older than the dedup window, now and then.
func (sp *space) prune(now time.Time) {
	if now.Sub(sp.lastPrune) < time.Minute {
		return
	}
	sp.lastPrune = now
	cut := now.Add(-sp.p.cfg.DedupWindow)
	for k, at := range sp.seen {
		if at.Before(cut) {
			delete(sp.seen, k)
		}
	}
}

func (sp *space) close() error {
	close(sp.stop)
	<-sp.done
	var errs []error
	if sp.broken == nil {
		if err := sp.snapshot(); err != nil {
			errs = append(errs, fmt.Errorf("snapshot identity of workspace %s: %w", sp.ws, err))
		}
	}
	errs = append(errs, sp.store.Close(), sp.idlog.Close())
	return errors.Join(errs...)
}
