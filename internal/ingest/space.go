package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"iter"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"syscall"
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

// After a failed identity-log append the writer rebuilds the graph from the
// disk at once; if that fails too, it tries again on a later request, no
// sooner than this backoff, which doubles up to its maximum. Short, because
// every request meanwhile is refused; bounded below, because a disk that
// just failed is rarely back within microseconds and each attempt reads the
// whole snapshot.
const (
	minRecoverWait = 100 * time.Millisecond
	maxRecoverWait = 2 * time.Second
)

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

// seenKey stands for a (source, messageId) pair in the dedup index: two
// 64-bit hashes of the pair, with seeds drawn at random by each process
// (the index is rebuilt from the store when a workspace opens). A 16-byte
// key without pointers keeps the index small (about 30 bytes per id
// instead of the ids' text) and out of the garbage collector's scans. Two
// different pairs share a key with probability 2^-128, far below any
// disk's error rate, and a sender cannot aim at a collision without the
// seeds.
type seenKey [2]uint64

// seenPair is what seenKey hashes.
type seenPair struct{ source, message string }

func (p *Pipeline) seenKey(source, message string) seenKey {
	pair := seenPair{source, message}
	return seenKey{maphash.Comparable(p.seenSeeds[0], pair), maphash.Comparable(p.seenSeeds[1], pair)}
}

// space is one workspace's event store, identity graph and dedup index,
// owned by one writer goroutine.
type space struct {
	p     *Pipeline
	ws    string
	dir   string
	store *store.Store
	idlog *wal.Log
	// graph is swapped whole when it is rebuilt after a storage failure;
	// readers on other goroutines load it once per query.
	graph atomic.Pointer[identity.Graph]

	reqs chan *request
	stop chan struct{}
	done chan struct{}

	// Owned by the writer goroutine.
	seen       map[seenKey]int64 // arrival, Unix nanoseconds: no pointers
	lastPrune  time.Time
	pruning    *pruneSweep
	keysBuf    []uint64
	eventsBuf  []*event.Event
	sinceSnap  int
	lastIDLSN  uint64
	changesBuf []byte
	addedBuf   []seenKey
	idsBuf     []identity.Identifier
	eventIDs   []event.Identifier
	// stale is set while the graph in memory may be ahead of the identity
	// log (an append failed and rebuilding it has not yet worked): every
	// write is refused with it, since stitching on that graph could file
	// events under keys that no durable record explains.
	stale       error
	recoverAt   time.Time // no rebuild before this
	recoverWait time.Duration
}

func openSpace(ctx context.Context, p *Pipeline, wsID string) (*space, error) {
	dir := filepath.Join(p.cfg.Dir, wsID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create workspace directory %s: %w", dir, err)
	}
	sp := &space{p: p, ws: wsID, dir: dir, reqs: make(chan *request, p.cfg.QueueDepth),
		stop: make(chan struct{}), done: make(chan struct{}), seen: map[seenKey]int64{}}
	g, idlog, lsn, err := sp.loadIdentity()
	if err != nil {
		return nil, err
	}
	sp.graph.Store(g)
	sp.idlog, sp.lastIDLSN = idlog, lsn
	opts := store.Options{Sync: p.cfg.Sync, HeadEvents: p.cfg.HeadEvents, FirstFold: p.cfg.FirstFold, ParallelFold: p.cfg.ParallelFold, NoLog: p.cfg.NoLog, FS: p.cfg.FS, Logger: p.cfg.Logger}
	if !p.cfg.KeepClientIP {
		opts.OmitContext = clientIPKey
	}
	st, err := store.Open(ctx, filepath.Join(dir, "events"), opts)
	if err != nil {
		sp.idlog.Close()
		return nil, fmt.Errorf("open event store of workspace %s: %w", wsID, err)
	}
	sp.store = st
	since := p.cfg.Now().Add(-p.cfg.DedupWindow)
	if err := st.Messages(ctx, since, func(src, msg string, at time.Time) {
		sp.seen[p.seenKey(src, msg)] = at.UnixNano()
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
// after it. It returns the graph, the open log and the log's last LSN, and
// changes nothing in sp, so that a failed rebuild leaves the writer as it
// was.
func (sp *space) loadIdentity() (*identity.Graph, *wal.Log, uint64, error) {
	cfg := identity.Config{Secret: sp.p.secret, MaxAnonymousIDs: sp.p.cfg.MaxAnonymousIDs}
	snap := filepath.Join(sp.dir, "identity.snapshot")
	var g *identity.Graph
	f, err := os.Open(snap)
	switch {
	case err == nil:
		g, err = identity.Load(bufio.NewReader(f), cfg)
		f.Close()
		if err != nil {
			return nil, nil, 0, fmt.Errorf("load identity snapshot %s: %w", snap, err)
		}
	case errors.Is(err, os.ErrNotExist):
		if g, err = identity.New(cfg); err != nil {
			return nil, nil, 0, err
		}
	default:
		return nil, nil, 0, fmt.Errorf("open identity snapshot %s: %w", snap, err)
	}
	log, err := wal.Open(filepath.Join(sp.dir, "identity"), wal.Options{Sync: sp.p.cfg.Sync, FS: sp.p.cfg.FS, Logger: sp.p.cfg.Logger})
	if err != nil {
		return nil, nil, 0, fmt.Errorf("open identity log of workspace %s: %w", sp.ws, err)
	}
	var last uint64
	err = log.Replay(func(lsn uint64, rec []byte) error {
		changes, err := identity.DecodeChanges(rec)
		if err != nil {
			return fmt.Errorf("%w: %v", wal.ErrCorrupt, err)
		}
		last = lsn
		return g.Apply(changes)
	})
	if err != nil {
		log.Close()
		return nil, nil, 0, fmt.Errorf("replay identity log of workspace %s: %w", sp.ws, err)
	}
	return g, log, last, nil
}

// recoverIdentity throws the graph in memory away and rebuilds it from the
// snapshot and the identity log, reopened so that it starts again from what
// is durable (cutting any torn tail an append left). This is how the
// workspace comes back after a failed append without a restart: the graph
// cannot undo the changes that were not logged, and keeping it would let
// later records build on them.
func (sp *space) recoverIdentity() error {
	// The old log may be broken, or may have recovered in place; either
	// way a fresh replay is the one view of the disk that can be trusted.
	if err := sp.idlog.Close(); err != nil {
		sp.p.cfg.Logger.Warn("close identity log for recovery", "workspace", sp.ws, "err", err)
	}
	g, log, lsn, err := sp.loadIdentity()
	if err != nil {
		return err
	}
	sp.graph.Store(g)
	sp.idlog, sp.lastIDLSN = log, lsn
	sp.stale, sp.recoverWait = nil, 0
	sp.p.cfg.Logger.Info("identity graph rebuilt from disk after a storage failure", "workspace", sp.ws, "lsn", lsn)
	return nil
}

// tryRecover rebuilds a stale graph, unless the last attempt was too
// recent. It returns the error to answer with while the graph is stale.
func (sp *space) tryRecover() error {
	now := time.Now()
	if now.Before(sp.recoverAt) {
		return sp.stale
	}
	err := sp.recoverIdentity()
	if err == nil {
		return nil
	}
	sp.stale = staleError(err)
	sp.recoverWait = min(max(2*sp.recoverWait, minRecoverWait), maxRecoverWait)
	sp.recoverAt = now.Add(sp.recoverWait)
	sp.p.cfg.Logger.Error("rebuild identity graph", "workspace", sp.ws, "retry_in", sp.recoverWait, "err", err)
	return sp.stale
}

// staleError is the answer while the graph waits to be rebuilt, naming a
// full disk when that is what stands in the way.
func staleError(cause error) *fault.Error {
	return &fault.Error{Code: fault.Unavailable, Message: diskFull(cause) + "the identity log is being recovered after a storage failure; retry", Err: cause}
}

// diskFull prefixes a message when err comes from a full disk, the one
// cause an operator can act on at once.
func diskFull(err error) string {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return "disk full: "
	}
	return ""
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
		// Until the next request the group would keep the last batches'
		// events alive (an import's 8,192 events with their maps, tens
		// of MB).
		clear(group)
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
	if sp.stale != nil {
		if err := sp.tryRecover(); err != nil {
			for _, r := range group {
				r.err = err
			}
			return
		}
	}
	var collect []*request
	for _, r := range group {
		if sp.stale != nil {
			// An erasure before this one failed to log and the graph
			// could not be rebuilt.
			r.err = sp.stale
			continue
		}
		if r.kind == reqErase {
			r.erased, r.err = sp.erase(ctx, r.customer, r.by)
			continue
		}
		collect = append(collect, r)
	}
	if len(collect) == 0 || sp.stale != nil {
		return
	}
	now := sp.p.cfg.Now()
	n := 0
	for _, r := range collect {
		n += len(r.batch.Events)
	}
	// The group's events go to the store by reference, with their keys,
	// in slices reused from group to group: the store encodes each event
	// into its log record and keeps nothing of them.
	keys := slices.Grow(sp.keysBuf[:0], n)
	events := slices.Grow(sp.eventsBuf[:0], n)
	defer func() {
		clear(events) // drop the requests' events
		sp.keysBuf, sp.eventsBuf = keys[:0], events[:0]
	}()
	var quarantine []meta.QuarantineItem
	// The group's messageIds go into the dedup index as they are met, so
	// that a repeat within the group is caught by the same lookup; if the
	// group fails they are taken out again, since its events were not
	// stored.
	added := sp.addedBuf[:0]
	forget := now.Add(-sp.p.cfg.DedupWindow).UnixNano()
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
			k := sp.p.seenKey(e.SourceID, e.MessageID)
			// An id older than the window may linger until the next
			// prune; it no longer counts.
			if at, dup := sp.seen[k]; dup && at >= forget {
				r.res.Duplicates++
				continue
			}
			key := sp.stitch(e)
			if key == 0 {
				r.res.Suppressed++
				continue
			}
			// Marked with the time trek received it, not the event's own
			// receivedAt: an imported history carries old ones, and its
			// repeats must still be caught.
			sp.seen[k] = now.UnixNano()
			added = append(added, k)
			if sp.p.cfg.KeepClientIP {
				truncateIP(e)
			}
			keys = append(keys, key)
			events = append(events, e)
			r.res.Accepted++
		}
	}
	err := sp.persist(ctx, keys, events, quarantine)
	if err != nil {
		for _, k := range added {
			delete(sp.seen, k)
		}
		for _, r := range collect {
			r.res, r.err = Result{}, err
		}
	}
	sp.addedBuf = added[:0]
	if err == nil {
		sp.prune(now)
	}
}

// stitch files an event in the identity graph and returns its key, or 0 when
// one of its identifiers belongs to an erased customer.
func (sp *space) stitch(e *event.Event) uint64 {
	cause := identity.Cause{MessageID: e.MessageID, Type: string(e.Type), Time: e.Timestamp}
	if e.Type == event.Alias && e.PreviousID != "" && e.UserID != "" {
		key, _ := sp.graph.Load().Alias(identity.Identifier{Value: sp.p.cfg.Identity.Canonical(identity.KindUserID, e.PreviousID)},
			identity.Identifier{Kind: identity.KindUserID, Value: sp.p.cfg.Identity.Canonical(identity.KindUserID, e.UserID)}, cause)
		return key
	}
	eids := sp.p.cfg.Identity.AppendIdentifiers(sp.eventIDs[:0], e)
	gids := sp.idsBuf[:0]
	for _, id := range eids {
		gids = append(gids, identity.Identifier(id))
	}
	key, _ := sp.graph.Load().Observe(gids, cause)
	// The graph keeps what it needs; drop the strings.
	clear(eids)
	clear(gids)
	sp.eventIDs, sp.idsBuf = eids[:0], gids[:0]
	return key
}

// persist makes a group durable: quarantined events, then the identity
// changes, then the events. Identity first, so that every key an event is
// filed under is known to the graph after a crash.
func (sp *space) persist(ctx context.Context, keys []uint64, events []*event.Event, quarantine []meta.QuarantineItem) error {
	if len(quarantine) > 0 {
		if _, err := sp.p.meta.AddQuarantine(ctx, quarantine); err != nil {
			return fault.New(fault.Unavailable, "could not keep the invalid events in the quarantine; nothing was stored, retry")
		}
	}
	if err := sp.logIdentity(ctx); err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	if err := sp.store.AppendEvents(ctx, keys, events); err != nil {
		sp.p.cfg.Logger.Error("append events", "workspace", sp.ws, "events", len(events), "err", err)
		if fe, ok := fault.As(err); ok && fe.Code == fault.Unavailable {
			return fe
		}
		return &fault.Error{Code: fault.Unavailable, Message: "could not store the events; retry", Err: err}
	}
	testKillAfterAppend() // crash tests only: see testhook.go
	return nil
}

// logIdentity writes the graph's pending changes to the identity log. If
// that fails the graph in memory is ahead of the disk: it is rebuilt from
// the disk before anything else is stitched (see recoverIdentity), and the
// caller's group is refused, its events not stored and their messageIds
// not marked seen. A failed fsync is never retried: the log cuts back to
// what an fsync confirmed, and the rebuilt graph holds exactly that.
func (sp *space) logIdentity(ctx context.Context) error {
	sp.changesBuf = sp.graph.Load().FlushChanges(sp.changesBuf[:0])
	if len(sp.changesBuf) == 0 || isEmptyChanges(sp.changesBuf) {
		return nil
	}
	lsn, err := sp.idlog.Append(ctx, sp.changesBuf)
	if err != nil {
		sp.p.cfg.Logger.Error("append identity changes", "workspace", sp.ws, "err", err)
		failed := &fault.Error{Code: fault.Unavailable, Message: diskFull(err) + "the identity log could not be written; retry", Err: err}
		sp.stale = staleError(err)
		sp.recoverAt, sp.recoverWait = time.Time{}, 0
		if rerr := sp.tryRecover(); rerr == nil {
			sp.p.cfg.Logger.Info("identity log recovered in place", "workspace", sp.ws)
		}
		return failed
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
	if err := sp.graph.Load().Snapshot(w); err != nil {
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

// pruneEvery is how often a sweep of the dedup index starts, and
// pruneStep how many ids each group looks at while one runs: a sweep
// spread over many groups never holds up a group for long, however many
// ids the window holds (millions, for a busy workspace).
const (
	pruneEvery = time.Minute
	pruneStep  = 16384
)

// pruneSweep is a sweep of the dedup index in progress.
type pruneSweep struct {
	next func() (seenKey, int64, bool)
	stop func()
	cut  int64 // ids that arrived before this are forgotten
}

// prune forgets messageIds older than the dedup window, a step at a time.
// Ids added while a sweep runs may or may not be visited (as for any
// range over a map); they are young, and the next sweep finds them.
func (sp *space) prune(now time.Time) {
	if sp.pruning == nil {
		if now.Sub(sp.lastPrune) < pruneEvery {
			return
		}
		sp.lastPrune = now
		next, stop := iter.Pull2(maps.All(sp.seen))
		sp.pruning = &pruneSweep{next: next, stop: stop, cut: now.Add(-sp.p.cfg.DedupWindow).UnixNano()}
	}
	pr := sp.pruning
	for range pruneStep {
		k, at, ok := pr.next()
		if !ok {
			pr.stop()
			sp.pruning = nil
			return
		}
		if at < pr.cut {
			delete(sp.seen, k)
		}
	}
}

func (sp *space) close() error {
	close(sp.stop)
	<-sp.done
	if sp.pruning != nil {
		sp.pruning.stop()
		sp.pruning = nil
	}
	var errs []error
	// A stale graph is ahead of the disk: snapshotting it would make
	// durable what was never acknowledged.
	if sp.stale == nil {
		if err := sp.snapshot(); err != nil {
			errs = append(errs, fmt.Errorf("snapshot identity of workspace %s: %w", sp.ws, err))
		}
	}
	errs = append(errs, sp.store.Close(), sp.idlog.Close())
	return errors.Join(errs...)
}
