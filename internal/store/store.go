// Package store is trek's embedded event store: every event, grouped by
// customer key and kept in time order, inside one directory of the data
// directory (DATA/events).
//
// New events go to a write-ahead log (package wal) and to an in-memory
// head; when the head passes a threshold it is folded, in the background,
// into an immutable column file: events sorted by (key, time, arrival),
// in blocks of columns, each compressed. A MANIFEST, replaced atomically,
// lists the column files and the log position they cover, so that after a
// crash every event is in exactly one place: a listed column file, or a
// log record at or past that position, which Open replays into the head.
// docs/storage.md describes the files.
//
// Queries (Journeys, Events, the exports) merge the head and the column
// files as they stream, holding one block per file: their memory grows
// with the head and the blocks they read, not with what is stored.
package store

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/wal"
)

// Record is one event and the customer key it is stored under: an
// identity-graph node id assigned by the ingest layer. One customer's
// events may sit under several keys; queries merge them.
type Record struct {
	Key   uint64
	Event event.Event
}

// Options configure a store. The zero value is usable.
type Options struct {
	// Sync is the log's fsync policy: SyncAlways (the default: Append
	// returns once its events are on disk) or SyncNever (bulk import into
	// a stopped server; Flush and Close make everything durable).
	Sync wal.SyncPolicy
	// HeadEvents is how many events the head holds before it is folded
	// into a column file (default 1<<20). Appends wait while the head is
	// at twice this and a fold is still running.
	HeadEvents int
	// FirstFold, if set below HeadEvents, is the size of the first
	// background fold; each later one doubles it up to HeadEvents. A bulk
	// import sets it so that column files are written while it still
	// reads, on the core the reader leaves, instead of all at its end;
	// the folds grow so that a long import does not leave many small
	// files to compact.
	FirstFold int
	// ParallelFold writes column files on two goroutines, one building
	// each block while the other compresses the one before: a fold then
	// takes about half the time on two cores. Bulk imports set it. A
	// serving store leaves it off, so that a fold in the background uses
	// one core and leaves the other to collection.
	ParallelFold bool
	// NoLog keeps appended events in the head only, without writing them
	// to the log: they are durable once folded into a column file (by a
	// background fold, Flush or Close, which folds what is left). A bulk
	// import into a stopped server sets it: it acknowledges nothing before
	// its final flush, and writing every event to a log that the fold
	// then deletes doubled its disk writes. If the process dies before,
	// what the head held is lost and the import is run again; what the
	// folds wrote is recognised by messageId. Records the log already
	// holds are replayed and folded as usual.
	NoLog bool
	// FS is the file system of the write-ahead log (default: the real
	// one). Tests pass a *wal.FaultFS to fail writes and fsyncs; column
	// files and the manifest always live on the real one.
	FS wal.FS
	// OmitContext, if not empty, is a key of the events' context that
	// Append does not store. The ingest layer drops client addresses this
	// way: an event's context map may be shared with other events, and
	// copying it to delete one key costs more than leaving the key out
	// while encoding.
	OmitContext string
	Logger      *slog.Logger
	Now         func() time.Time
}

// DefaultHeadEvents is the fold threshold when Options.HeadEvents is 0.
const DefaultHeadEvents = 1 << 20

// compactFiles is the number of column files past which a fold is
// followed by a compaction, which merges the smallest files into one.
var compactFiles = 8

// foldRetry is how long the store waits before trying again a background
// fold that failed (a full disk, say).
const foldRetry = 10 * time.Second

var errSimulatedCrash = errors.New("simulated crash")

// writeAheadLog is what the store needs of package wal.
type writeAheadLog interface {
	Replay(fn func(lsn uint64, rec []byte) error) error
	Append(ctx context.Context, rec []byte) (uint64, error)
	Sync() error
	TruncateBefore(lsn uint64) error
	Roll() error
	Close() error
}

// Store is an open event store. It is safe for concurrent use.
type Store struct {
	dir  string
	opts Options
	log  *slog.Logger
	wal  writeAheadLog

	// appendMu is held shared by each Append from the moment it takes
	// its sequence numbers until its events are in the head, and
	// exclusively by a checkpoint while it cuts the head: then every
	// record the log holds below the cut is in the cut-off head.
	appendMu sync.RWMutex
	nextSeq  atomic.Uint64
	// eventBytes is the encoded size of an event in the last batch, to
	// size the next one's buffers (Options.NoLog).
	eventBytes atomic.Int64

	mu       sync.Mutex
	head     *head
	frozen   []*head    // cut off, being written to a column file
	files    []*colFile // in manifest order
	infos    []fileInfo // parallel to files
	hidden   map[uint64]bool
	endLSN   uint64 // one past the last log record in the heads
	cpLSN    uint64 // the manifest's WALLSN
	closed   bool
	folding  bool
	foldDone chan struct{}
	// compacting: a compaction started by Flush is running.
	compacting bool
	// bg is the context of background folds and compactions; Close
	// cancels it so as not to wait for a long compaction.
	bg       context.Context
	bgCancel context.CancelFunc
	retryAt  time.Time
	// foldAt is the head size that starts the next background fold:
	// Options.FirstFold, doubling up to HeadEvents.
	foldAt int
	keys   keysCache
	// appends and erasures count what changed the store's contents, for
	// readers that cache what they derived from it (see Generation).
	appends, erasures uint64 // guarded by mu

	// crashAt, set by tests, simulates a crash at a named point of a
	// checkpoint: the checkpoint stops there, leaving the disk as a
	// crash would.
	crashAt func(point string) bool

	maint    sync.Mutex // one checkpoint or compaction at a time
	nextFile uint64     // guarded by maint
	wg       sync.WaitGroup
}

type keysCache struct {
	files    []*colFile
	headN    int
	frozenN  int
	n        int64
	computed bool
}

// Open opens the store in dir, creating it if needed: it reads the
// manifest, opens the column files it lists (deleting any file a crash
// left unlisted), and replays the log records the files do not cover
// into the head.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	if opts.HeadEvents <= 0 {
		opts.HeadEvents = DefaultHeadEvents
	}
	if opts.FirstFold <= 0 || opts.FirstFold > opts.HeadEvents {
		opts.FirstFold = opts.HeadEvents
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open event store: %w", err)
	}
	m, err := readManifest(dir)
	if err != nil {
		return nil, fmt.Errorf("open event store %s: %w", dir, err)
	}
	if err := removeUnlisted(dir, m, opts.Logger); err != nil {
		return nil, fmt.Errorf("open event store %s: %w", dir, err)
	}
	s := &Store{dir: dir, opts: opts, log: opts.Logger, head: newHead(),
		endLSN: m.WALLSN, cpLSN: m.WALLSN, nextFile: m.NextFile, foldAt: opts.FirstFold}
	s.nextSeq.Store(m.NextSeq)
	s.bg, s.bgCancel = context.WithCancel(context.Background())
	for _, fi := range m.Files {
		f, err := openColFile(filepath.Join(dir, fi.Name))
		if err != nil {
			s.closeFiles()
			return nil, fmt.Errorf("open event store %s: %w", dir, err)
		}
		f.refs.Store(1)
		s.files = append(s.files, f)
		s.infos = append(s.infos, fi)
		s.nextFile = max(s.nextFile, fileNumber(fi.Name)+1)
	}
	var checkpoint uint64
	if m.WALLSN > 0 {
		checkpoint = m.WALLSN - 1
	}
	w, err := wal.Open(filepath.Join(dir, "wal"), wal.Options{Sync: opts.Sync, FS: opts.FS, Logger: opts.Logger, Checkpoint: checkpoint})
	if err != nil {
		s.closeFiles()
		return nil, fmt.Errorf("open event store %s: %w", dir, err)
	}
	s.wal = w
	replayed := 0
	err = w.Replay(func(lsn uint64, rec []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if lsn < m.WALLSN {
			return nil // in the column files already
		}
		rec = slices.Clone(rec) // the head keeps it; the log may reuse its buffer
		keys, entries, maxSeq, err := parseRecord(rec)
		if errors.Is(err, errCorrupt) {
			// Its checksum held, yet it is not a record this store
			// wrote: the log cuts it (and what follows) as corrupt.
			return fmt.Errorf("log record %d: %w: %w", lsn, wal.ErrCorrupt, err)
		}
		if err != nil {
			return fmt.Errorf("log record %d: %w", lsn, err)
		}
		s.head.insert(rec, keys, entries)
		if len(entries) > 0 && maxSeq >= s.nextSeq.Load() {
			s.nextSeq.Store(maxSeq + 1)
		}
		s.endLSN = max(s.endLSN, lsn+1)
		replayed++
		return nil
	})
	if err != nil {
		w.Close()
		s.closeFiles()
		return nil, fmt.Errorf("open event store %s: replay log: %w", dir, err)
	}
	s.log.Info("event store open", "dir", dir, "columnFiles", len(s.files),
		"replayedRecords", replayed, "headEvents", s.head.n)
	if s.head.n >= s.foldAt {
		s.startFold()
	}
	return s, nil
}

// removeUnlisted deletes column files the manifest does not list and
// temporary files: what a crash left between writing a file and listing
// it (its events are still in the log) or after unlisting one.
func removeUnlisted(dir string, m manifest, log *slog.Logger) error {
	listed := make(map[string]bool, len(m.Files))
	for _, f := range m.Files {
		listed[f.Name] = true
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		n := e.Name()
		orphan := strings.HasSuffix(n, colSuffix) && !listed[n]
		tmp := strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp-")
		if !orphan && !tmp || e.IsDir() {
			continue
		}
		log.Info("event store: removing a file a crash left behind", "file", n)
		if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

func fileNumber(name string) uint64 {
	var n uint64
	fmt.Sscanf(strings.TrimSuffix(name, colSuffix), "%d", &n)
	return n
}

// Append stores recs as one log record. It returns once they are durable
// (under SyncAlways); each event gets the next arrival sequence number,
// in the order of recs, which orders events with equal timestamps.
// Errors from the log that mean it cannot keep data now (a full disk, an
// I/O error) are *fault.Error with code fault.Unavailable, returned as
// they are.
func (s *Store) Append(ctx context.Context, recs []Record) error {
	return s.append(ctx, batchOf(recs))
}

// AppendEvents is Append for events held elsewhere: events[i] is stored
// under keys[i]. The events are read, not kept, and must not change until
// it returns.
func (s *Store) AppendEvents(ctx context.Context, keys []uint64, events []*event.Event) error {
	if len(keys) != len(events) {
		return fmt.Errorf("append events: %d keys for %d events", len(keys), len(events))
	}
	return s.append(ctx, batch{keys: keys, events: events})
}

func (s *Store) append(ctx context.Context, recs batch) error {
	if recs.len() == 0 {
		return nil
	}
	if err := s.waitForRoom(ctx); err != nil {
		return err
	}
	s.appendMu.RLock()
	defer s.appendMu.RUnlock()
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return fault.New(fault.Unavailable, "event store is closed")
	}
	n := uint64(recs.len())
	first := s.nextSeq.Add(n) - n
	offs := make([][2]int, recs.len())
	var parts [][]byte
	var part []uint32
	var lsn uint64
	if s.opts.NoLog {
		part = make([]uint32, recs.len())
		var err error
		parts, err = encodeHeadParts(recs, offs, part, s.opts.OmitContext, int(s.eventBytes.Load()))
		if err != nil {
			return &fault.Error{Code: fault.Invalid, Message: "event cannot be stored", Err: err}
		}
		size := 0
		for _, p := range parts {
			size += len(p)
		}
		s.eventBytes.Store(int64(size / recs.len()))
	} else {
		rec, err := encodeRecord(first, recs, offs, s.opts.OmitContext)
		if err != nil {
			return &fault.Error{Code: fault.Invalid, Message: "event cannot be stored", Err: err}
		}
		if lsn, err = s.wal.Append(ctx, rec); err != nil {
			return err
		}
		parts = [][]byte{rec}
	}
	if s.crashAt != nil && s.crashAt("after-log-append") {
		return errSimulatedCrash
	}
	entries := make([]headEntry, recs.len())
	for i, e := range recs.events {
		ms, sub := splitTime(e.Timestamp)
		entries[i] = headEntry{ms: ms, sub: int32(sub), seq: first + uint64(i), off: uint32(offs[i][0]), end: uint32(offs[i][1])}
	}
	s.mu.Lock()
	s.head.insertParts(parts, part, recs.keys, entries)
	s.appends++
	if !s.opts.NoLog {
		s.endLSN = max(s.endLSN, lsn+1)
	}
	full := s.head.n >= s.foldAt && !s.folding && !s.opts.Now().Before(s.retryAt)
	s.mu.Unlock()
	if full {
		s.startFold()
	}
	return nil
}

// waitForRoom makes an Append wait while the head is at twice its
// threshold and a fold is running, so that a writer faster than folding
// cannot grow memory without bound.
func (s *Store) waitForRoom(ctx context.Context) error {
	for {
		s.mu.Lock()
		if s.head.n < 2*s.opts.HeadEvents || !s.folding {
			s.mu.Unlock()
			return nil
		}
		done := s.foldDone
		s.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return &fault.Error{Code: fault.Unavailable,
				Message: "event store is busy writing column files; retry shortly", Err: ctx.Err()}
		}
	}
}

// startFold folds the head into a column file in the background.
func (s *Store) startFold() {
	s.mu.Lock()
	if s.folding || s.closed {
		s.mu.Unlock()
		return
	}
	s.folding = true
	s.foldDone = make(chan struct{})
	s.foldAt = min(2*s.foldAt, s.opts.HeadEvents)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		start := time.Now()
		_, err := s.checkpoint(s.bg, nil)
		if err == nil {
			s.log.Info("event store: head folded into a column file", "took", time.Since(start))
			err = s.maybeCompact(s.bg)
		}
		if s.bg.Err() != nil {
			err = nil // closing: the log keeps what was not folded
		}
		s.mu.Lock()
		if err != nil {
			s.retryAt = s.opts.Now().Add(foldRetry)
		}
		s.folding = false
		close(s.foldDone)
		s.mu.Unlock()
		if err != nil {
			s.log.Error("event store: background fold failed; the events stay in the log and the head", "err", err)
		}
	}()
}

// Flush folds the head into a new column file now and checkpoints: the
// manifest then covers every event appended before the call, and the log
// is truncated before it.
func (s *Store) Flush(ctx context.Context) error {
	if err := s.wal.Sync(); err != nil {
		return fmt.Errorf("flush event store: %w", err)
	}
	if _, err := s.checkpoint(ctx, nil); err != nil {
		return err
	}
	s.startCompact()
	return nil
}

// startCompact compacts in the background when there are too many column
// files: after explicit flushes (an import flushes once per file), which
// do not go through the background fold that compacts otherwise.
func (s *Store) startCompact() {
	s.mu.Lock()
	if s.compacting || s.closed || len(s.files) <= compactFiles {
		s.mu.Unlock()
		return
	}
	s.compacting = true
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.maybeCompact(s.bg); err != nil && s.bg.Err() == nil {
			s.log.Error("event store: compaction failed; the column files stay as they are", "err", err)
		}
		s.mu.Lock()
		s.compacting = false
		s.mu.Unlock()
	}()
}

// Erase removes every event stored under keys: from the head, from the
// column files (each file holding one of them is rewritten without it and
// replaced atomically), and from what replaying the log would restore.
// It returns how many events it removed, once that is durable. Callers
// stop sending events to the keys first (the ingest layer's suppression
// list); an event appended for an erased key while Erase runs is kept.
func (s *Store) Erase(ctx context.Context, keys []uint64) (removed int, err error) {
	if len(keys) == 0 {
		return 0, nil
	}
	set := make(map[uint64]bool, len(keys))
	for _, k := range keys {
		set[k] = true
	}
	return s.checkpoint(ctx, set)
}

// checkpoint cuts the head at the current log position, writes it (less
// the erased keys) to a column file, rewrites the column files that hold
// erased keys, lists the result in a new manifest and truncates the log.
// Until the manifest is written nothing on disk that matters changed, so
// a crash anywhere before leaves the old state, and anywhere after the
// new one.
func (s *Store) checkpoint(ctx context.Context, erase map[uint64]bool) (removed int, err error) {
	s.maint.Lock()
	defer s.maint.Unlock()

	s.appendMu.Lock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.appendMu.Unlock()
		return 0, fault.New(fault.Unavailable, "event store is closed")
	}
	if s.head.n > 0 {
		s.frozen = append(s.frozen, s.head)
		s.head = newHead()
	}
	frozen := slices.Clone(s.frozen)
	cpLSN := s.endLSN
	nextSeq := s.nextSeq.Load()
	files := slices.Clone(s.files)
	infos := slices.Clone(s.infos)
	if erase != nil {
		s.hidden = erase
		s.erasures++
	}
	s.mu.Unlock()
	s.appendMu.Unlock()

	var created []*colFile
	defer func() {
		if err != nil && !errors.Is(err, errSimulatedCrash) {
			for _, f := range created {
				f.close()
				os.Remove(f.name)
			}
			s.mu.Lock()
			s.hidden = nil
			s.mu.Unlock()
		}
	}()
	skip := func(k uint64) bool { return erase[k] }
	if erase == nil {
		skip = nil
	}

	newInfos := slices.Clone(infos)
	newFiles := slices.Clone(files)
	var retired []*colFile

	if len(frozen) > 0 {
		srcs := make([]source, 0, len(frozen))
		for _, h := range frozen {
			hs := newHeadSource(h.sortedFrozen(), h.recs, true, nil)
			hs.raw = true
			srcs = append(srcs, hs)
			for k, es := range h.byKey {
				if erase[k] {
					removed += len(es)
				}
			}
		}
		f, info, ok, err := s.writeMerged(ctx, srcs, skip)
		if err != nil {
			return 0, err
		}
		if ok {
			created = append(created, f)
			newFiles = append(newFiles, f)
			newInfos = append(newInfos, info)
		}
	}

	if erase != nil {
		for i := 0; i < len(files); i++ {
			f := files[i]
			has, err := f.holdsAny(erase)
			if err != nil {
				return 0, err
			}
			if !has {
				continue
			}
			nf, info, ok, err := s.writeMerged(ctx, []source{newFileSource(f, wantAll, nil)}, skip)
			if err != nil {
				return 0, err
			}
			j := slices.Index(newFiles, f)
			if ok {
				created = append(created, nf)
				newFiles[j], newInfos[j] = nf, info
				removed += int(f.rows - info.Events)
			} else {
				newFiles = slices.Delete(newFiles, j, j+1)
				newInfos = slices.Delete(newInfos, j, j+1)
				removed += int(f.rows)
			}
			retired = append(retired, f)
		}
	}

	if len(frozen) == 0 && len(retired) == 0 && cpLSN == s.cpLSN {
		s.mu.Lock()
		s.hidden = nil
		s.mu.Unlock()
		return 0, nil
	}
	if s.crashAt != nil && s.crashAt("before-manifest") {
		return 0, errSimulatedCrash
	}
	m := manifest{WALLSN: cpLSN, NextSeq: nextSeq, NextFile: s.nextFile, Files: newInfos}
	if err := writeManifest(s.dir, m); err != nil {
		return 0, fmt.Errorf("checkpoint event store: %w", err)
	}
	if s.crashAt != nil && s.crashAt("after-manifest") {
		return 0, errSimulatedCrash
	}

	s.mu.Lock()
	for _, f := range newFiles {
		if slices.Contains(created, f) {
			f.refs.Store(1)
		}
	}
	s.files, s.infos = newFiles, newInfos
	s.frozen = slices.Delete(s.frozen, 0, len(frozen))
	s.hidden = nil
	s.cpLSN = cpLSN
	s.mu.Unlock()

	s.retire(retired)
	if s.opts.Sync == wal.SyncNever {
		// The log may only be truncated at a durable position.
		if err := s.wal.Sync(); err != nil {
			return removed, fmt.Errorf("checkpoint event store: %w", err)
		}
	}
	if erase != nil {
		// The erased events are still in the log's active segment; seal it
		// so that the truncation below deletes them from the disk too.
		if err := s.wal.Roll(); err != nil {
			return removed, fmt.Errorf("erase: seal the log: %w", err)
		}
	}
	if err := s.wal.TruncateBefore(cpLSN); err != nil {
		if erase != nil {
			return removed, fmt.Errorf("erase: truncate the log: %w", err)
		}
		// Harmless for correctness: replay skips what the manifest covers.
		s.log.Warn("event store: could not truncate the log", "err", err)
	}
	return removed, nil
}

// retire drops the store's hold on files no longer listed and deletes
// them; a query still reading one keeps its descriptor until it is done.
func (s *Store) retire(files []*colFile) {
	for _, f := range files {
		if err := os.Remove(f.name); err != nil {
			s.log.Warn("event store: could not remove a replaced column file", "file", f.name, "err", err)
		}
		f.release()
	}
}

// writeMerged writes the merged rows of srcs (less skipped keys) to a new
// column file and opens it. ok is false when there were no rows.
func (s *Store) writeMerged(ctx context.Context, srcs []source, skip func(uint64) bool) (*colFile, fileInfo, bool, error) {
	name := colFileName(s.nextFile)
	s.nextFile++
	path := filepath.Join(s.dir, name)
	w, err := createColFile(path)
	if err != nil {
		return nil, fileInfo{}, false, err
	}
	w.serial = !s.opts.ParallelFold
	m, err := newMerger(srcs)
	if err != nil {
		w.abort()
		return nil, fileInfo{}, false, err
	}
	var r row
	for n := 0; ; n++ {
		ok, err := m.next(&r)
		if err != nil {
			w.abort()
			return nil, fileInfo{}, false, err
		}
		if !ok {
			break
		}
		if n%4096 == 0 && ctx.Err() != nil {
			w.abort()
			return nil, fileInfo{}, false, ctx.Err()
		}
		if skip != nil && skip(r.sk.key) {
			continue
		}
		if n == 100 && s.crashAt != nil && s.crashAt("mid-column-file") {
			w.abort()
			return nil, fileInfo{}, false, errSimulatedCrash
		}
		if r.raw != nil {
			err = w.addEncoded(r.sk.seq, r.raw)
		} else {
			err = w.add(r.sk.key, r.sk.seq, &r.ev)
		}
		if err != nil {
			w.abort()
			return nil, fileInfo{}, false, err
		}
	}
	info, ok, err := w.finish()
	if err != nil || !ok {
		return nil, fileInfo{}, false, err
	}
	f, err := openColFile(path)
	if err != nil {
		os.Remove(path)
		return nil, fileInfo{}, false, err
	}
	return f, info, true, nil
}

// maybeCompact merges the smallest column files into one when there are
// more than compactFiles, so that queries merge few files.
func (s *Store) maybeCompact(ctx context.Context) error {
	s.maint.Lock()
	defer s.maint.Unlock()
	s.mu.Lock()
	if len(s.files) <= compactFiles || s.closed {
		s.mu.Unlock()
		return nil
	}
	idx := make([]int, len(s.files))
	for i := range idx {
		idx[i] = i
	}
	infos := slices.Clone(s.infos)
	files := slices.Clone(s.files)
	s.mu.Unlock()

	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(infos[a].Bytes, infos[b].Bytes) })
	pick := idx[:len(idx)-compactFiles/2+1]
	var srcs []source
	var old []*colFile
	for _, i := range pick {
		srcs = append(srcs, newFileSource(files[i], wantAll, nil))
		old = append(old, files[i])
	}
	start := time.Now()
	nf, info, ok, err := s.writeMerged(ctx, srcs, nil)
	if err != nil {
		return fmt.Errorf("compact event store: %w", err)
	}
	var newFiles []*colFile
	var newInfos []fileInfo
	for i, f := range files {
		if !slices.Contains(old, f) {
			newFiles = append(newFiles, f)
			newInfos = append(newInfos, infos[i])
		}
	}
	if ok {
		newFiles = append(newFiles, nf)
		newInfos = append(newInfos, info)
	}
	s.mu.Lock()
	m := manifest{WALLSN: s.cpLSN, NextSeq: s.nextSeq.Load(), NextFile: s.nextFile, Files: newInfos}
	s.mu.Unlock()
	// NextSeq may be ahead of what the files hold; it only has to be
	// larger, and the log's records carry their own sequence numbers.
	if err := writeManifest(s.dir, m); err != nil {
		if ok {
			nf.close()
			os.Remove(nf.name)
		}
		return fmt.Errorf("compact event store: %w", err)
	}
	s.mu.Lock()
	if ok {
		nf.refs.Store(1)
	}
	s.files, s.infos = newFiles, newInfos
	s.mu.Unlock()
	s.retire(old)
	s.log.Info("event store: compacted column files", "merged", len(old), "events", info.Events, "took", time.Since(start))
	return nil
}

// Close waits for a running fold, then closes the log and the files. The
// head is not folded: the log holds it, and the next Open replays it.
func (s *Store) Close() error {
	var flushErr error
	if s.opts.NoLog {
		// The head is in no log: it must reach a column file now. If it
		// cannot, Close says so (what it held is lost) and still closes.
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if !closed {
			if err := s.Flush(context.Background()); err != nil {
				flushErr = fmt.Errorf("close event store: events not in the log could not be folded: %w", err)
			}
		}
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.bgCancel()
	s.wg.Wait()
	s.appendMu.Lock() // no Append in flight
	defer s.appendMu.Unlock()
	err := s.wal.Close()
	s.closeFiles()
	if err != nil {
		return errors.Join(flushErr, fmt.Errorf("close event store: %w", err))
	}
	return flushErr
}

func (s *Store) closeFiles() {
	s.mu.Lock()
	files := s.files
	s.files, s.infos = nil, nil
	s.mu.Unlock()
	for _, f := range files {
		f.release()
	}
}

// Stats describes what the store holds.
type Stats struct {
	Events      int64 // events stored
	Keys        int64 // distinct keys
	HeadEvents  int64 // events not yet in a column file
	HeadBytes   int64 // memory the head holds, roughly
	ColumnFiles int
	BytesOnDisk int64 // column files, log and manifest
	// CoreBytes is the compressed size of the columns every journey query
	// reads: key, time, event name, channel and source.
	CoreBytes int64
}

// Stats reports the store's size. Keys takes a pass over the key columns
// (small: runs of keys) when the store changed since the last call.
func (s *Store) Stats() Stats {
	snap := s.snapshot(nil)
	defer snap.release()
	var st Stats
	s.mu.Lock()
	for _, fi := range s.infos {
		st.Events += int64(fi.Events)
		st.BytesOnDisk += fi.Bytes
		st.CoreBytes += fi.CoreBytes
	}
	st.ColumnFiles = len(s.files)
	st.HeadEvents, st.HeadBytes = int64(s.head.n), s.head.bytes
	for _, h := range s.frozen {
		st.HeadEvents += int64(h.n)
		st.HeadBytes += h.bytes
	}
	st.Events += st.HeadEvents
	s.mu.Unlock()
	st.BytesOnDisk += dirSize(filepath.Join(s.dir, "wal"))
	if fi, err := os.Stat(filepath.Join(s.dir, manifestName)); err == nil {
		st.BytesOnDisk += fi.Size()
	}
	n, err := s.countKeys(snap)
	if err != nil {
		s.log.Error("event store: count keys", "err", err)
	}
	st.Keys = n
	return st
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// source is a stream of rows in (key, time, seq) order.
type source interface {
	next() (bool, error)
	cur() *row
}

func (s *fileSource) cur() *row { return &s.r }
func (s *headSource) cur() *row { return &s.r }

// merger merges sources into one stream in (key, time, seq) order.
type merger struct{ h srcHeap }

type srcHeap []source

func (h srcHeap) Len() int           { return len(h) }
func (h srcHeap) Less(i, j int) bool { return h[i].cur().sk.less(h[j].cur().sk) }
func (h srcHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *srcHeap) Push(x any)        { *h = append(*h, x.(source)) }
func (h *srcHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func newMerger(srcs []source) (*merger, error) {
	m := &merger{}
	for _, s := range srcs {
		ok, err := s.next()
		if err != nil {
			return nil, err
		}
		if ok {
			m.h = append(m.h, s)
		}
	}
	heap.Init(&m.h)
	return m, nil
}

// next copies the smallest row into r.
func (m *merger) next(r *row) (bool, error) {
	if len(m.h) == 0 {
		return false, nil
	}
	top := m.h[0]
	*r = *top.cur()
	ok, err := top.next()
	if err != nil {
		return false, err
	}
	if ok {
		heap.Fix(&m.h, 0)
	} else {
		heap.Pop(&m.h)
	}
	return true, nil
}
