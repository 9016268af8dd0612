// Package wal is trek's write-ahead log: a durable, append-only sequence of
// opaque records. The event store logs every batch of events here before
// acknowledging it, and replays the log after a crash; the identity graph
// will do the same with its merges. Crash safety is the package's whole
// reason to exist, so its rules are spelled out here and in docs/wal.md.
//
// # Records and LSNs
//
// A record is any byte string up to MaxRecordBytes. Each record gets a log
// sequence number (LSN): record numbers, starting at 1, strictly
// increasing. Within a segment file they are consecutive; the log may skip
// numbers at a segment boundary (after losing records to corruption, or to
// stay above Options.Checkpoint), so that a number once acknowledged is
// never handed out again for another record. Record numbers rather than
// byte offsets so that a checkpoint ("everything up to LSN n is in column
// files") stays meaningful when a damaged tail is cut and rewritten.
//
// # Files
//
// The log is a directory of segment files, each named after the LSN of its
// first record (00000000000000000001.wal) and starting with a header that
// repeats that LSN. Appends go to the last segment; past
// Options.SegmentBytes the log rolls to a new one. A segment is only
// created after everything in the one before it is fsynced, and its header
// is fsynced (and the directory with it) before any record goes into it.
// So every segment but the last is sealed: entirely durable. A torn record
// can therefore only be at the end of the last segment; damage anywhere
// else is corruption of acknowledged data, which Replay cuts just the same
// but reports as an error and keeps (renamed aside) for inspection.
//
// # Durability and failures
//
// With SyncAlways (the default) Append returns once the record is fsynced.
// Concurrent appends are group-committed: one writer goroutine writes
// every record queued while the previous fsync ran with one write and one
// fsync. With SyncNever, Append returns once the record is written to the
// operating system, and only Sync (or Close) makes it durable.
//
// If a write or an fsync fails, no append of that group succeeds, and the
// log never retries the fsync: after a failed fsync the kernel may have
// dropped the dirty pages and would report the next fsync as a success
// (the PostgreSQL "fsyncgate" lesson). Instead it reopens the segment,
// truncates it back to the last offset an fsync confirmed, and fsyncs that.
// If that works, the failed records are gone for good and appending goes
// on; if it does not, the log is broken and every call returns
// ErrUnavailable until the process restarts and replays. Hence:
//
//   - Append returned nil: the record is durable (SyncAlways) and will be
//     replayed exactly once, at the LSN Append returned.
//   - Append returned an error other than ErrUnavailable: the record is not
//     in the log and never will be.
//   - Append returned ErrUnavailable: unknown. The record may be replayed
//     after a restart. Callers that must not double it deduplicate (trek's
//     ingest does, by messageId).
//
// A full disk is reported like any other I/O failure, as a *fault.Error
// with code fault.Unavailable whose chain holds syscall.ENOSPC.
//
// The log has a single writer by design and does no locking of its own
// across processes: the data directory's lock (package datadir) keeps a
// second trek process away.
package wal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/trekhq/trek/internal/fault"
)

// SyncPolicy says when appended records are fsynced.
type SyncPolicy int

const (
	// SyncAlways fsyncs before Append returns. One fsync serves every
	// append that was waiting for it.
	SyncAlways SyncPolicy = iota
	// SyncNever leaves fsyncing to Sync and Close: for offline bulk import,
	// where a crash means running the import again.
	SyncNever
)

// DefaultSegmentBytes is the segment size past which the log rolls to a
// new file, unless Options says otherwise.
const DefaultSegmentBytes = 64 << 20

// maxGroupBytes bounds how much one group commit writes, so that a burst
// of appends is written in pieces of reasonable size rather than buffered
// whole. A single larger record still goes in a group of its own.
const maxGroupBytes = 16 << 20

// Options configure a Log. The zero value is the production default.
type Options struct {
	// SegmentBytes: roll to a new segment file once the current one is at
	// least this large (default 64 MiB). Rolling happens between group
	// commits, so a segment can exceed it by one group.
	SegmentBytes int64
	// Sync is the fsync policy (default SyncAlways).
	Sync SyncPolicy
	// FS is the file system (default OSFS). Tests pass a *FaultFS.
	FS FS
	// Logger receives what Replay cuts and what breaks the log (default
	// slog.Default()).
	Logger *slog.Logger
	// Checkpoint is the highest LSN the caller has already recorded as
	// applied somewhere durable (the store's manifest). New records get LSNs
	// above it even if the log itself ends lower, which can only happen
	// when corruption cost it acknowledged records or its files were
	// removed: otherwise a new record could reuse a number the caller would
	// skip on its next replay as already applied.
	Checkpoint uint64
}

var (
	// ErrUnavailable is what every call returns once the log could not
	// recover from an I/O failure. Only a restart (and Replay) repairs it.
	ErrUnavailable = fault.New(fault.Unavailable, "write-ahead log unavailable after a storage failure")
	// ErrClosed is returned by calls on a closed log.
	ErrClosed = fault.New(fault.Unavailable, "write-ahead log closed")
	// ErrCorrupt is for Replay callbacks: a record whose checksum was right
	// but whose content the caller cannot decode can be rejected with an
	// error wrapping ErrCorrupt, and Replay cuts the log there as if the
	// checksum had failed. Only for content that is provably garbage: a
	// record the caller does not understand (a newer format) must fail
	// Replay instead, or a downgrade would destroy data.
	ErrCorrupt = errors.New("corrupt write-ahead log record")
)

// Log is an open write-ahead log. Its methods are safe for concurrent use,
// except Replay, which must run once, alone, before anything else.
type Log struct {
	dir  string
	fs   FS
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	truncMu  sync.Mutex // one TruncateBefore at a time; taken before mu
	wake     *sync.Cond // the writer waits here for work
	queue    []*request
	replayed bool // Replay has started; it may not run twice
	ready    bool // Replay succeeded and the writer runs
	closed   bool
	broken   bool
	segs     []*segment // in LSN order; the last is the active one
	lost     error      // SyncNever: acknowledged records a recovery dropped; reported by the next Sync
	closeErr error
	done     chan struct{} // closed when the writer goroutine exits

	// The writer's state, touched only by the writer goroutine once Replay
	// has returned (and by Replay before that).
	cur        *segment
	f          File   // the active segment, nil when broken
	size       int64  // bytes written to the active segment
	synced     int64  // of which an fsync confirmed this many
	next       uint64 // LSN the next record gets
	syncedNext uint64 // next as of the last confirmed fsync: every LSN below it is durable
	buf        []byte

	nRecords, nGroups, nSyncs atomic.Uint64
}

// segment is one segment file. end is guarded by Log.mu.
type segment struct {
	name  string
	first uint64
	end   uint64 // LSN after its last record
}

// request is one Append, AppendBatch or Sync waiting for the writer.
type request struct {
	recs  [][]byte
	crcs  []uint32
	bytes int
	sync  bool // a Sync call: make everything written so far durable
	roll  bool // a Roll call: seal the active segment after making it durable
	taken bool // the writer has it; the caller can no longer withdraw it

	lsn  uint64
	err  error
	done chan struct{}
}

// Stats are counters for metrics.
type Stats struct {
	Records  uint64 // records appended since Open
	Groups   uint64 // group commits (writes) since Open
	Syncs    uint64 // segment fsyncs since Open
	Segments int    // segment files
	NextLSN  uint64 // the LSN the next record will get
	Broken   bool   // the log gave up after an I/O failure
}

// Open opens the log in dir, creating the directory if needed. It reads
// nothing yet: call Replay, which also prepares the log for appends.
func Open(dir string, opts Options) (*Log, error) {
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = DefaultSegmentBytes
	}
	if opts.FS == nil {
		opts.FS = OSFS{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Sync != SyncAlways && opts.Sync != SyncNever {
		return nil, fmt.Errorf("open wal %s: unknown sync policy %d", dir, opts.Sync)
	}
	// 0700: the log holds every customer's events.
	if err := opts.FS.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open wal %s: %w", dir, err)
	}
	// The directory itself must survive a crash, or so would none of the
	// segments in it.
	if err := opts.FS.SyncDir(filepath.Dir(dir)); err != nil {
		return nil, fmt.Errorf("open wal %s: %w", dir, err)
	}
	if _, err := opts.FS.ReadDir(dir); err != nil {
		return nil, fmt.Errorf("open wal %s: %w", dir, err)
	}
	l := &Log{dir: dir, fs: opts.FS, opts: opts, log: opts.Logger, done: make(chan struct{})}
	l.wake = sync.NewCond(&l.mu)
	return l, nil
}

// Append writes rec and returns its LSN once it is durable (SyncAlways) or
// written (SyncNever). rec must not change until Append returns.
//
// If ctx ends while the record is still queued, Append withdraws it and
// returns ctx's error: the record is not written. Once the writer has
// taken it, Append waits for the outcome whatever ctx says, so that its
// answer is always the truth.
func (l *Log) Append(ctx context.Context, rec []byte) (lsn uint64, err error) {
	return l.AppendBatch(ctx, [][]byte{rec})
}

// AppendBatch writes recs with consecutive LSNs, in one write and (with
// SyncAlways) one fsync, and returns the first LSN. A batch is not atomic
// across a crash: each record is checksummed on its own, so a crash before
// AppendBatch returns may leave any prefix of the batch in the log. An
// empty batch returns 0 and does nothing.
func (l *Log) AppendBatch(ctx context.Context, recs [][]byte) (first uint64, err error) {
	if len(recs) == 0 {
		return 0, nil
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	req := &request{recs: recs, crcs: make([]uint32, len(recs)), done: make(chan struct{})}
	for i, rec := range recs {
		if len(rec) > MaxRecordBytes {
			return 0, fault.New(fault.TooLarge, "write-ahead log record of %d bytes exceeds the maximum of %d", len(rec), MaxRecordBytes)
		}
		req.crcs[i] = recordCRC(rec)
		req.bytes += frameSize + len(rec)
	}
	if err := l.enqueue(req); err != nil {
		return 0, err
	}
	select {
	case <-req.done:
		return req.lsn, req.err
	case <-ctx.Done():
	}
	l.mu.Lock()
	if !req.taken {
		l.withdraw(req)
		l.mu.Unlock()
		return 0, ctx.Err()
	}
	l.mu.Unlock()
	<-req.done
	return req.lsn, req.err
}

// Sync makes every record appended so far durable. With SyncAlways that
// is already so. With SyncNever, an error means that records acknowledged
// since the last successful Sync may be lost; the log itself goes on from
// what was durable (unless it is broken).
func (l *Log) Sync() error {
	req := &request{sync: true, done: make(chan struct{})}
	if err := l.enqueue(req); err != nil {
		return err
	}
	<-req.done
	return req.err
}

// Roll makes every record appended so far durable and seals the active
// segment, so that a following TruncateBefore past its end can delete it.
// Erasure needs this: records whose effect the caller has undone (an erased
// customer's events) must not linger on disk in the segment still being
// written. An empty active segment is left as it is. If the new segment
// cannot be created, Roll fails and the log goes on in the active segment;
// appends that were committed with it still succeed, since their records
// are durable before the roll is tried.
func (l *Log) Roll() error {
	req := &request{sync: true, roll: true, done: make(chan struct{})}
	if err := l.enqueue(req); err != nil {
		return err
	}
	<-req.done
	return req.err
}

func (l *Log) enqueue(req *request) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return ErrClosed
	case l.broken:
		return ErrUnavailable
	case !l.ready:
		return fault.New(fault.Internal, "write-ahead log used before Replay")
	}
	l.queue = append(l.queue, req)
	l.wake.Signal()
	return nil
}

// withdraw removes a request the writer has not taken. l.mu is held.
func (l *Log) withdraw(req *request) {
	for i, r := range l.queue {
		if r == req {
			l.queue = append(l.queue[:i], l.queue[i+1:]...)
			return
		}
	}
}

// TruncateBefore deletes the segments all of whose records have LSNs below
// lsn: the caller has made them durable elsewhere (the store, in column
// files listed in its manifest). The active segment is never deleted, so
// the log always knows where its numbering stands.
//
// The caller must only pass an LSN that is durable in the log (with
// SyncNever: Sync first) and record it as its checkpoint before calling
// this: deleted segments are gone for good. That holds when it returns an
// error too: a failure part-way leaves the segments before the one that
// could not be removed deleted, and a failed directory fsync after the
// removals does not bring them back (the process no longer sees them, and
// any later directory fsync, such as a roll's, makes their removal
// durable).
func (l *Log) TruncateBefore(lsn uint64) error {
	// The segments are taken off the list under the lock, and removed
	// and the directory fsynced outside it: deleting 64 MiB files and
	// syncing a directory can take a few hundred milliseconds, and
	// appends, which need the lock to queue, would wait all that time.
	// Truncations still run one at a time: two at once could remove a
	// later segment before an earlier one, and a crash (or a failed
	// removal, whose segments go back on the list) between the two would
	// leave a hole that replay stops at, losing the records after it.
	l.truncMu.Lock()
	defer l.truncMu.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	if !l.ready {
		l.mu.Unlock()
		return fault.New(fault.Internal, "write-ahead log used before Replay")
	}
	n := 0
	for n < len(l.segs)-1 && l.segs[n].end <= lsn {
		n++
	}
	old := l.segs[:n:n]
	l.segs = append([]*segment(nil), l.segs[n:]...)
	l.mu.Unlock()
	if n == 0 {
		return nil
	}
	// Oldest first, so that a failure part-way leaves a log without holes.
	for i, seg := range old {
		p := filepath.Join(l.dir, seg.name)
		if err := l.fs.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			// The segments still on disk go back on the list, so that a
			// later call removes them.
			l.mu.Lock()
			l.segs = append(slices.Clip(old[i:]), l.segs...)
			l.mu.Unlock()
			return fmt.Errorf("truncate wal: remove %s: %w", p, err)
		}
	}
	// Not syncing would only let the removed segments come back after a
	// crash, to be skipped again by the caller; but a log that looks as
	// its owner left it is easier to reason about.
	if err := l.fs.SyncDir(l.dir); err != nil {
		return fmt.Errorf("truncate wal: %w", err)
	}
	return nil
}

// Close writes and (whatever the policy) fsyncs what is queued, and closes
// the log. Appends after Close fail with ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	running := l.ready
	l.wake.Broadcast()
	l.mu.Unlock()
	if !running {
		return nil
	}
	<-l.done
	return l.closeErr
}

// Stats returns counters for metrics.
func (l *Log) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := Stats{
		Records:  l.nRecords.Load(),
		Groups:   l.nGroups.Load(),
		Syncs:    l.nSyncs.Load(),
		Segments: len(l.segs),
		Broken:   l.broken,
	}
	if n := len(l.segs); n > 0 {
		s.NextLSN = l.segs[n-1].end
	}
	return s
}

// run is the writer goroutine: it takes whatever is queued, writes it as
// one group, and answers every request in it.
func (l *Log) run() {
	defer close(l.done)
	for {
		l.mu.Lock()
		for len(l.queue) == 0 && !l.closed {
			l.wake.Wait()
		}
		if len(l.queue) == 0 {
			l.mu.Unlock()
			l.closeErr = l.shutdown()
			return
		}
		group := l.takeGroup()
		broken := l.broken
		l.mu.Unlock()
		if broken {
			finish(group, ErrUnavailable)
			continue
		}
		l.commit(group)
	}
}

// takeGroup takes requests from the front of the queue, up to
// maxGroupBytes (at least one). l.mu is held.
func (l *Log) takeGroup() []*request {
	n, bytes := 0, 0
	for n < len(l.queue) && (n == 0 || bytes+l.queue[n].bytes <= maxGroupBytes) {
		bytes += l.queue[n].bytes
		l.queue[n].taken = true
		n++
	}
	group := l.queue[:n:n]
	if n == len(l.queue) {
		l.queue = nil
	} else {
		l.queue = append([]*request(nil), l.queue[n:]...)
	}
	return group
}

func finish(group []*request, err error) {
	for _, r := range group {
		if err != nil {
			r.lsn = 0
			r.err = err
		}
		close(r.done)
	}
}

// commit writes one group: roll if the segment is full, one write, one
// fsync if the policy or a Sync asks for it, then the answers.
func (l *Log) commit(group []*request) {
	start := l.next
	wantSync := l.opts.Sync == SyncAlways
	for _, r := range group {
		wantSync = wantSync || r.sync
	}

	if l.size >= l.opts.SegmentBytes && l.next > l.active().first {
		// The next segment may only exist once this one is durable; see
		// the package comment.
		if l.synced < l.size {
			if err := l.syncActive(); err != nil {
				l.fail(group, start, "sync", err)
				return
			}
		}
		if err := l.roll(); err != nil {
			if l.broken {
				err = ErrUnavailable
			}
			finish(group, err)
			return
		}
	}

	buf := l.buf[:0]
	lsn := l.next
	records := 0
	for _, r := range group {
		if len(r.recs) == 0 {
			continue
		}
		r.lsn = lsn
		for i, rec := range r.recs {
			buf = appendFrame(buf, rec, r.crcs[i])
		}
		lsn += uint64(len(r.recs))
		records += len(r.recs)
	}
	if cap(buf) <= maxGroupBytes {
		l.buf = buf
	} else {
		l.buf = nil // one huge record should not pin its buffer forever
	}

	if len(buf) > 0 {
		n, err := l.f.WriteAt(buf, l.size)
		if err == nil && n < len(buf) {
			err = fmt.Errorf("short write: %d of %d bytes", n, len(buf))
		}
		if err != nil {
			l.fail(group, start, "write", err)
			return
		}
		l.size += int64(len(buf))
		l.next = lsn
		l.nGroups.Add(1)
		l.nRecords.Add(uint64(records))
	}
	if wantSync && l.synced < l.size {
		if err := l.syncActive(); err != nil {
			l.fail(group, start, "sync", err)
			return
		}
	}

	wantRoll := false
	for _, r := range group {
		wantRoll = wantRoll || r.roll
	}
	var rollErr error
	if wantRoll && l.next > l.active().first {
		if l.synced < l.size {
			if err := l.syncActive(); err != nil {
				l.fail(group, start, "sync", err)
				return
			}
		}
		l.mu.Lock()
		l.active().end = l.next
		l.mu.Unlock()
		if err := l.roll(); err != nil {
			// The group's records are written and fsynced by now: they
			// are in the log, so their appends succeed. Only the Roll
			// calls failed.
			if l.broken {
				err = ErrUnavailable
			}
			rollErr = err
		}
	}

	l.mu.Lock()
	l.active().end = l.next
	var lost error
	for _, r := range group {
		if r.sync {
			lost, l.lost = l.lost, nil
			break
		}
	}
	l.mu.Unlock()
	for _, r := range group {
		if r.sync {
			r.err = lost
		}
		if r.roll && rollErr != nil {
			if r.err == nil {
				r.err = rollErr
			} else {
				r.err = errors.Join(r.err, rollErr)
			}
		}
		close(r.done)
	}
}

// active is the segment appends go to. The pointer is the writer's own;
// its end field is guarded by l.mu.
func (l *Log) active() *segment { return l.cur }

func (l *Log) activePath() string { return filepath.Join(l.dir, l.active().name) }

func (l *Log) syncActive() error {
	l.nSyncs.Add(1)
	if err := l.f.Sync(); err != nil {
		return err
	}
	l.synced = l.size
	l.syncedNext = l.next
	return nil
}

// fail answers a group whose write or fsync failed, after putting the log
// back to its last durable state. start is the LSN the group's first
// record would have had.
func (l *Log) fail(group []*request, start uint64, op string, cause error) {
	err := ioError(op, l.activePath(), cause)
	if rerr := l.rewind(); rerr != nil {
		l.breakDown(fmt.Errorf("%s failed (%v), then the rewind to the last durable offset failed: %w", op, cause, rerr))
		finish(group, ErrUnavailable)
		return
	}
	l.log.Warn("write-ahead log write failed; the failed records are discarded and appending goes on from the last durable record",
		"segment", l.activePath(), "op", op, "err", cause, "durable_offset", l.synced, "next_lsn", l.next)
	l.mu.Lock()
	if l.syncedNext < start && l.lost == nil {
		// SyncNever acknowledged these on write; the rewind dropped them.
		l.lost = fmt.Errorf("records %d to %d were acknowledged before an fsync and are lost: %w", l.syncedNext, start-1, err)
	}
	var lost error
	for _, r := range group {
		if r.sync {
			lost, l.lost = l.lost, nil
			break
		}
	}
	l.mu.Unlock()
	for _, r := range group {
		r.lsn = 0
		r.err = err
		if r.sync && lost != nil {
			r.err = lost
		}
		close(r.done)
	}
}

// rewind reopens the active segment and cuts it back to the last offset
// an fsync confirmed, then fsyncs that. It never calls fsync on the old
// descriptor again: after a failed fsync its pages may be marked clean
// without being on disk, and a second fsync would report success. What
// lies past the durable offset is thrown away instead, and the fsync that
// follows the truncation is the first to be trusted.
func (l *Log) rewind() error {
	p := l.activePath()
	if l.f != nil {
		l.f.Close() // it may report the same failure again; nothing to learn
		l.f = nil
	}
	f, err := l.fs.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("reopen %s: %w", p, err)
	}
	if err := l.truncateSync(f, p, l.synced); err != nil {
		f.Close()
		return err
	}
	l.f = f
	l.size = l.synced
	l.next = l.syncedNext
	l.mu.Lock()
	l.active().end = l.next
	l.mu.Unlock()
	return nil
}

func (l *Log) truncateSync(f File, p string, size int64) error {
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("truncate %s to %d: %w", p, size, err)
	}
	l.nSyncs.Add(1)
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", p, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", p, err)
	}
	if fi.Size() != size {
		return fmt.Errorf("%s is %d bytes after truncating it to %d", p, fi.Size(), size)
	}
	return nil
}

// roll starts a new segment at l.next. The active one must be durable.
// On failure the log stays on the old segment (which is durable and
// intact) unless it cannot clean up the half-made file, in which case it
// breaks.
func (l *Log) roll() error {
	f, err := l.createSegment(header{first: l.next, prevEnd: l.next})
	if err != nil {
		return err
	}
	old := l.f
	l.f = f
	l.size, l.synced = headerSize, headerSize
	l.syncedNext = l.next
	l.cur = &segment{name: segmentName(l.next), first: l.next, end: l.next}
	l.mu.Lock()
	l.segs = append(l.segs, l.cur)
	l.mu.Unlock()
	if err := old.Close(); err != nil {
		// Its data was fsynced before the roll; a close error cannot undo
		// that.
		l.log.Warn("close sealed write-ahead log segment", "err", err)
	}
	return nil
}

// createSegment creates the segment file for first and makes it and its
// directory entry durable. If anything fails it removes the file again; if
// that fails too the log breaks, since a half-made segment that might
// survive a crash must not be left behind a log that goes on appending to
// the one before it.
func (l *Log) createSegment(h header) (File, error) {
	p := filepath.Join(l.dir, segmentName(h.first))
	f, err := l.fs.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		err = writeHeader(f, h)
		if err == nil {
			l.nSyncs.Add(1)
			err = f.Sync()
		}
		if err == nil {
			err = l.fs.SyncDir(l.dir)
		}
		if err == nil {
			return f, nil
		}
		f.Close()
	}
	cause := ioError("create", p, err)
	if errors.Is(err, os.ErrExist) {
		// Not ours to remove: something is wrong with the directory.
		l.breakDown(cause)
		return nil, cause
	}
	rerr := l.fs.Remove(p)
	if rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		l.breakDown(fmt.Errorf("%v; then removing the half-made segment failed: %w", cause, rerr))
		return nil, cause
	}
	if serr := l.fs.SyncDir(l.dir); serr != nil {
		l.breakDown(fmt.Errorf("%v; then syncing the directory failed: %w", cause, serr))
		return nil, cause
	}
	return nil, cause
}

func writeHeader(f File, h header) error {
	b := encodeHeader(h)
	n, err := f.WriteAt(b, 0)
	if err == nil && n < len(b) {
		err = fmt.Errorf("short write: %d of %d bytes", n, len(b))
	}
	return err
}

// breakDown puts the log in the broken state: every queued and future
// call fails with ErrUnavailable until the process restarts.
func (l *Log) breakDown(cause error) {
	l.log.Error("write-ahead log broken: appends fail until trek restarts and replays the log", "dir", l.dir, "err", cause)
	l.mu.Lock()
	l.broken = true
	queued := l.queue
	l.queue = nil
	l.mu.Unlock()
	finish(queued, ErrUnavailable)
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

// shutdown runs in the writer when the log closes with nothing queued.
func (l *Log) shutdown() error {
	l.mu.Lock()
	broken := l.broken
	l.mu.Unlock()
	if broken || l.f == nil {
		// Anything SyncNever acknowledged since the last fsync may be lost.
		return ErrUnavailable
	}
	var err error
	if l.synced < l.size {
		if serr := l.syncActive(); serr != nil {
			err = ioError("sync", l.activePath(), serr)
		}
	}
	if cerr := l.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close wal %s: %w", l.activePath(), cerr)
	}
	l.f = nil
	if err == nil {
		l.mu.Lock()
		err, l.lost = l.lost, nil
		l.mu.Unlock()
	}
	return err
}

// ioError turns a failed operation into the error appenders see: fault
// code Unavailable, because the caller can do nothing but try later, with
// the cause kept for the log (errors.Is(err, syscall.ENOSPC) holds for a
// full disk).
func ioError(op, path string, err error) error {
	cause := fmt.Errorf("wal %s %s: %w", op, path, err)
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return &fault.Error{Code: fault.Unavailable, Message: "disk full: the write-ahead log cannot store more", Err: cause}
	}
	return &fault.Error{Code: fault.Unavailable, Message: "write-ahead log I/O error", Err: cause}
}
