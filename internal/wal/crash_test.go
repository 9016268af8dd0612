package wal

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var crashSeed = flag.Uint64("crash-seed", 0, "seed for TestCrashAtRandomPoints (0: time-based)")

// crashModel is what a sequence of crashes may and may not leave.
type crashModel struct {
	mu      sync.Mutex
	durable map[string]uint64 // acknowledged as durable: must be replayed, at this LSN
	maybe   map[string]bool   // outcome unknown: may be replayed
	absent  map[string]bool   // reported failed (or lost to a replay): must never be replayed
	// below is the highest LSN passed to TruncateBefore, successfully or
	// not: records under it may be gone.
	below   uint64
	crashed bool
	maxLSN  uint64 // highest LSN acknowledged, the caller's "checkpoint"
}

func (m *crashModel) acked(rec string, lsn uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.crashed {
		// Acknowledged after the power cut: the cut may have come first.
		m.maybe[rec] = true
		return
	}
	m.durable[rec] = lsn
	m.maxLSN = max(m.maxLSN, lsn)
}

func (m *crashModel) maybeRec(rec string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.maybe[rec] = true
}

func (m *crashModel) outcome(rec string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if errors.Is(err, ErrUnavailable) || errors.Is(err, ErrClosed) || errors.Is(err, context.Canceled) {
		m.maybe[rec] = true
		return
	}
	m.absent[rec] = true
}

// check compares a replay with the model, then makes the replay the new
// truth: Replay fsyncs what it replayed, and cuts what it did not.
func (m *crashModel) check(t *testing.T, round int, got []entry) {
	t.Helper()
	seen := map[string]bool{}
	var prev uint64
	for _, e := range got {
		if e.lsn <= prev {
			t.Fatalf("round %d: LSN %d after %d", round, e.lsn, prev)
		}
		prev = e.lsn
		if seen[e.rec] {
			t.Fatalf("round %d: %q replayed twice", round, e.rec)
		}
		seen[e.rec] = true
		if m.absent[e.rec] {
			t.Fatalf("round %d: %q was reported failed (or cut earlier), yet replayed at %d", round, e.rec, e.lsn)
		}
		if lsn, ok := m.durable[e.rec]; ok && lsn != e.lsn {
			t.Fatalf("round %d: %q acknowledged at LSN %d, replayed at %d", round, e.rec, lsn, e.lsn)
		}
		if _, ok := m.durable[e.rec]; !ok && !m.maybe[e.rec] {
			t.Fatalf("round %d: replayed %q, which nobody appended", round, e.rec)
		}
	}
	for rec, lsn := range m.durable {
		if !seen[rec] && lsn >= m.below {
			at := "nothing"
			for _, e := range got {
				if e.lsn == lsn {
					at = fmt.Sprintf("%.20q (maybe %v)", e.rec, m.maybe[e.rec])
				}
			}
			var near []uint64
			for _, e := range got {
				if e.lsn+10 > lsn && e.lsn < lsn+10 {
					near = append(near, e.lsn)
				}
			}
			t.Fatalf("round %d: acknowledged %.30q (LSN %d) lost; replay has %s there; near: %v; below %d", round, rec, lsn, at, near, m.below)
		}
	}
	for rec := range m.maybe {
		if !seen[rec] {
			m.absent[rec] = true
		}
	}
	m.durable = map[string]uint64{}
	for _, e := range got {
		m.durable[e.rec] = e.lsn
	}
	m.maybe = map[string]bool{}
	m.crashed = false
}

func TestCrashAtRandomPointsLosesNoAcknowledgedRecordAndDoublesNone(t *testing.T) {
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -crash-seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	m := &crashModel{durable: map[string]uint64{}, maybe: map[string]bool{}, absent: map[string]bool{}}
	fsys := NewFaultFS()
	budget := time.Now().Add(4 * time.Second)
	rounds := 0
	for ; rounds < 2000 && time.Now().Before(budget); rounds++ {
		opts := Options{
			SegmentBytes: []int64{64, 300, 2000, 1 << 20}[rng.IntN(4)],
			Logger:       quietLogger(),
		}
		if rng.IntN(3) == 0 {
			opts.Checkpoint = m.maxLSN
		}
		if rng.IntN(5) == 0 {
			// As a bulk import runs: nothing is acknowledged as durable,
			// but what Replay returns afterwards must stay consistent.
			opts.Sync = SyncNever
		}
		proc := &procFS{FaultFS: fsys}
		l, got, err := tryOpen(proc, opts)
		if err != nil {
			t.Fatalf("round %d: reopen after crash: %v", rounds, err)
		}
		m.check(t, rounds, got)
		// Either the machine loses power, or only the process dies and
		// the page cache keeps what it wrote without fsyncing.
		powerCut := rng.IntN(3) != 0
		stop := proc.kill
		if powerCut {
			stop = fsys.freeze
		}
		crashRound(t, rng, m, fsys, l, opts, rounds, stop)
		if powerCut {
			fsys = fsys.Crash(tornOrNot(rng))
		} else {
			fsys.ClearFaults()
			fsys.SetCapacity(0)
		}
	}
	t.Logf("%d crash rounds", rounds)
	// A last clean look.
	_, got, err := tryOpen(fsys, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	m.check(t, rounds, got)
}

func tornOrNot(rng *rand.Rand) *rand.Rand {
	if rng.IntN(2) == 0 {
		return nil
	}
	return rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
}

// crashRound runs concurrent appends against l, with a planned fault now
// and then, and marks the model crashed at a random moment; the caller
// then takes the crashed file system.
func crashRound(t *testing.T, rng *rand.Rand, m *crashModel, fsys *FaultFS, l *Log, opts Options, round int, stop func()) {
	switch rng.IntN(8) {
	case 0:
		fsys.Inject(Fault{Op: OpSync, After: rng.IntN(20), Persist: rng.IntN(2) == 0})
	case 1:
		fsys.Inject(Fault{Op: OpWrite, After: rng.IntN(20), Partial: rng.IntN(2) == 0})
	case 2:
		fsys.Inject(Fault{Op: OpSync, After: rng.IntN(20)})
		fsys.Inject(Fault{Op: OpTruncate, After: rng.IntN(3)})
	case 3:
		fsys.SetCapacity(fsys.usedBytes() + int64(rng.IntN(3000)))
	}
	workers := 1 + rng.IntN(6)
	crashAt := rng.IntN(120)
	var ops sync.WaitGroup
	var count sync.Mutex
	n := 0
	crash := func() bool {
		count.Lock()
		defer count.Unlock()
		n++
		if n == crashAt {
			m.mu.Lock()
			m.crashed = true
			m.mu.Unlock()
			// Stop here: every later call fails, as the process (or the
			// machine) is gone.
			stop()
		}
		return n >= crashAt
	}
	seeds := make([]uint64, workers)
	for i := range seeds {
		seeds[i] = rng.Uint64()
	}
	for w := range workers {
		ops.Go(func() {
			r := rand.New(rand.NewPCG(seeds[w], 2))
			for i := 0; ; i++ {
				if crash() {
					return
				}
				if r.IntN(25) == 0 {
					m.mu.Lock()
					var lsn uint64
					for _, v := range m.durable {
						lsn = max(lsn, v)
					}
					lsn = uint64(r.IntN(int(lsn) + 1))
					// As the store does, record the checkpoint before
					// asking: from the call on, records below lsn may be
					// gone, whatever it returns. A TruncateBefore that
					// fails has still removed the segments before the
					// failing Remove, and one whose directory fsync fails
					// (the process killed, the machine frozen) has removed
					// them all from the namespace the process sees, or a
					// concurrent roll's directory fsync has made the
					// removals durable.
					m.below = max(m.below, lsn)
					m.mu.Unlock()
					l.TruncateBefore(lsn)
					continue
				}
				k := 1
				if r.IntN(4) == 0 {
					k = 1 + r.IntN(4)
				}
				recs := make([][]byte, k)
				names := make([]string, k)
				for j := range recs {
					names[j] = fmt.Sprintf("r%d-w%d-%d-%d-", round, w, i, j)
					recs[j] = []byte(names[j] + strings.Repeat("x", r.IntN(200)))
					names[j] = string(recs[j])
				}
				first, err := l.AppendBatch(context.Background(), recs)
				for j, name := range names {
					if err != nil {
						m.outcome(name, err)
					} else if opts.Sync == SyncNever {
						m.maybeRec(name)
					} else {
						if first <= opts.Checkpoint {
							t.Errorf("LSN %d handed out at or below the checkpoint %d", first, opts.Checkpoint)
						}
						m.acked(name, first+uint64(j))
					}
				}
			}
		})
	}
	ops.Wait()
	l.Close()
}

// usedBytes is the space the files take, for tests that fill the disk.
func (m *FaultFS) usedBytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.used()
}

// freeze makes every later call fail, without taking the snapshot yet:
// the caller takes it with Crash once the log's goroutines are done.
// Freezing first makes "acknowledged before the crash" exact: nothing the
// log does after the freeze reaches the disk.
func (m *FaultFS) freeze() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.crashed = true
}

// procFS is a process's view of a FaultFS: kill makes every later call of
// the process fail, while the file system (and its page cache: written
// but unsynced data) stays as it was, as after a SIGKILL.
type procFS struct {
	*FaultFS
	dead atomic.Bool
}

func (p *procFS) kill() { p.dead.Store(true) }

var errKilled = errors.New("process killed")

func (p *procFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	if p.dead.Load() {
		return nil, errKilled
	}
	f, err := p.FaultFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &procFile{File: f, p: p}, nil
}

func (p *procFS) Remove(name string) error {
	if p.dead.Load() {
		return errKilled
	}
	return p.FaultFS.Remove(name)
}

func (p *procFS) Rename(oldname, newname string) error {
	if p.dead.Load() {
		return errKilled
	}
	return p.FaultFS.Rename(oldname, newname)
}

func (p *procFS) SyncDir(name string) error {
	if p.dead.Load() {
		return errKilled
	}
	return p.FaultFS.SyncDir(name)
}

type procFile struct {
	File
	p *procFS
}

func (f *procFile) WriteAt(b []byte, off int64) (int, error) {
	if f.p.dead.Load() {
		return 0, errKilled
	}
	return f.File.WriteAt(b, off)
}

func (f *procFile) Sync() error {
	if f.p.dead.Load() {
		return errKilled
	}
	return f.File.Sync()
}

func (f *procFile) Truncate(size int64) error {
	if f.p.dead.Load() {
		return errKilled
	}
	return f.File.Truncate(size)
}

func TestReplayMakesWhatItReplayedDurable(t *testing.T) {
	// A killed process leaves written, unsynced records in the page cache.
	// The next process replays them, and its caller acts on them; so they
	// must survive a power cut that follows, even if nothing is appended.
	fsys := NewFaultFS()
	proc := &procFS{FaultFS: fsys}
	l, _, err := tryOpen(proc, Options{Sync: SyncNever})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, "unsynced-", 5)
	proc.kill()
	l.Close()

	l, got, err := tryOpen(fsys, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("replayed %d records from the page cache, want 5", len(got))
	}
	l.Close()
	_, after, err := tryOpen(fsys.Crash(nil), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameEntries(t, after, got)
}

func TestRecordsAFailedFsyncLeftInThePageCacheAreStoredByTheNextReplay(t *testing.T) {
	// The fsync fails (the kernel marks the pages clean without writing
	// them) and the rewind fails too, as if the process had died in
	// between. The next process reads the records back from the page cache
	// and replays them; it must make them durable, though an fsync alone
	// would skip the clean pages.
	fsys := NewFaultFS()
	l, _ := open(t, fsys, Options{})
	want := appendN(t, l, "ok-", 2)
	fsys.Inject(Fault{Op: OpSync})
	fsys.Inject(Fault{Op: OpTruncate})
	if _, err := l.Append(context.Background(), []byte("in the cache only")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("append: %v", err)
	}
	l.Close()

	_, got, err := tryOpen(fsys, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, entry{3, "in the cache only"})
	sameEntries(t, got, want)
	_, got, err = tryOpen(fsys.Crash(nil), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameEntries(t, got, want)
}

func TestSegmentsSealedUnderSyncNeverAreDurable(t *testing.T) {
	// A bulk import (SyncNever) rolls through several segments and is
	// killed. The next process replays everything from the page cache and
	// fsyncs only the last segment; the sealed ones must already be
	// durable, or a power cut afterwards loses records it replayed.
	fsys := NewFaultFS()
	proc := &procFS{FaultFS: fsys}
	opts := Options{Sync: SyncNever, SegmentBytes: 100}
	l, _, err := tryOpen(proc, opts)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, "imported-", 20)
	proc.kill()
	l.Close()
	if n := len(fsys.Names(dir)); n < 3 {
		t.Fatalf("only %d segments", n)
	}

	l, got, err := tryOpen(fsys, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	_, after, err := tryOpen(fsys.Crash(nil), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameEntries(t, after, got)
}
