package wal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/fault"
)

const dir = "/data/wal"

// entry is one replayed record.
type entry struct {
	lsn uint64
	rec string
}

// logBuf collects what the log logs, for tests that check it said what
// it cut and why.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *logBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *logBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// open opens and replays the log in dir on fsys, failing the test on any
// error, and closes it when the test ends.
func open(t testing.TB, fsys FS, opts Options) (*Log, []entry) {
	t.Helper()
	l, got, err := tryOpen(fsys, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, got
}

func tryOpen(fsys FS, opts Options) (*Log, []entry, error) {
	opts.FS = fsys
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	l, err := Open(dir, opts)
	if err != nil {
		return nil, nil, err
	}
	var got []entry
	err = l.Replay(func(lsn uint64, rec []byte) error {
		got = append(got, entry{lsn, string(rec)})
		return nil
	})
	if err != nil {
		l.Close()
		return nil, nil, err
	}
	return l, got, nil
}

// reopen closes l and opens the log again.
func reopen(t testing.TB, l *Log, fsys FS, opts Options) (*Log, []entry) {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	return open(t, fsys, opts)
}

func mustAppend(t testing.TB, l *Log, rec string) uint64 {
	t.Helper()
	lsn, err := l.Append(context.Background(), []byte(rec))
	if err != nil {
		t.Fatalf("append %q: %v", rec, err)
	}
	return lsn
}

// appendN appends records "<prefix>0" … and returns the entries.
func appendN(t testing.TB, l *Log, prefix string, n int) []entry {
	t.Helper()
	var out []entry
	for i := range n {
		rec := fmt.Sprintf("%s%d", prefix, i)
		out = append(out, entry{mustAppend(t, l, rec), rec})
	}
	return out
}

func sameEntries(t testing.TB, got, want []entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("replayed %d records, want %d\ngot  %v\nwant %v", len(got), len(want), clip(got), clip(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("record %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

func clip(es []entry) []entry {
	if len(es) > 12 {
		return es[:12]
	}
	return es
}

func segPath(first uint64) string { return filepath.Join(dir, segmentName(first)) }

func TestReplayAfterCleanCloseGivesEveryRecordInOrder(t *testing.T) {
	fsys := NewFaultFS()
	l, got := open(t, fsys, Options{})
	if len(got) != 0 {
		t.Fatalf("new log replayed %v", got)
	}
	want := appendN(t, l, "rec-", 50)
	first, err := l.AppendBatch(context.Background(), [][]byte{[]byte("b0"), []byte(""), []byte("b2")})
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, entry{first, "b0"}, entry{first + 1, ""}, entry{first + 2, "b2"})
	for i, e := range want {
		if e.lsn != uint64(i+1) {
			t.Fatalf("record %d got LSN %d, want %d: LSNs are record numbers from 1", i, e.lsn, i+1)
		}
	}
	l, got = reopen(t, l, fsys, Options{})
	sameEntries(t, got, want)
	// And appends go on after them.
	want = append(want, entry{mustAppend(t, l, "after"), "after"})
	_, got = reopen(t, l, fsys, Options{})
	sameEntries(t, got, want)
}

func TestReplayOnTheRealFileSystem(t *testing.T) {
	d := t.TempDir()
	l, err := Open(d, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Replay(func(uint64, []byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), 100_000)
	for i := range 20 {
		if _, err := l.Append(context.Background(), append([]byte{byte(i)}, big...)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = Open(d, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	n := 0
	err = l.Replay(func(lsn uint64, rec []byte) error {
		if lsn != uint64(n+1) || rec[0] != byte(n) || !bytes.Equal(rec[1:], big) {
			return fmt.Errorf("record %d wrong (lsn %d)", n, lsn)
		}
		n++
		return nil
	})
	if err != nil || n != 20 {
		t.Fatalf("replayed %d records, err %v", n, err)
	}
}

func TestAppendBeforeReplayIsRefused(t *testing.T) {
	l, err := Open(dir, Options{FS: NewFaultFS(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Append(context.Background(), []byte("x")); fault.CodeOf(err) != fault.Internal {
		t.Fatalf("Append before Replay: %v", err)
	}
	if err := l.Replay(func(uint64, []byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := l.Replay(func(uint64, []byte) error { return nil }); err == nil {
		t.Fatal("second Replay succeeded")
	}
}

func TestAppendAfterCloseFails(t *testing.T) {
	l, _ := open(t, NewFaultFS(), Options{})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(context.Background(), []byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	if err := l.Sync(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Sync after Close: %v", err)
	}
}

func TestRecordOverTheMaximumIsRefusedAsTooLarge(t *testing.T) {
	l, _ := open(t, NewFaultFS(), Options{})
	_, err := l.Append(context.Background(), make([]byte, MaxRecordBytes+1))
	if fault.CodeOf(err) != fault.TooLarge {
		t.Fatalf("got %v, want a TooLarge fault", err)
	}
}

func TestEmptyBatchDoesNothing(t *testing.T) {
	fsys := NewFaultFS()
	l, _ := open(t, fsys, Options{})
	before := fsys.Calls(OpWrite)
	if lsn, err := l.AppendBatch(context.Background(), nil); lsn != 0 || err != nil {
		t.Fatalf("empty batch: %d, %v", lsn, err)
	}
	if fsys.Calls(OpWrite) != before {
		t.Fatal("empty batch wrote")
	}
}

func TestCancelledContextWithdrawsAQueuedAppend(t *testing.T) {
	fsys := NewFaultFS()
	l, _ := open(t, fsys, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Append(ctx, []byte("never")); !errors.Is(err, context.Canceled) {
		t.Fatalf("append with a done context: %v", err)
	}
	_, got := reopen(t, l, fsys, Options{})
	if len(got) != 0 {
		t.Fatalf("withdrawn record replayed: %v", got)
	}
}

func TestCancelWithdrawsAQueuedAppendButNotOneTheWriterHasTaken(t *testing.T) {
	g := newGateFS()
	l, _ := open(t, g, Options{})
	waitQueued := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
			l.mu.Lock()
			q := len(l.queue)
			l.mu.Unlock()
			if q == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d appends queued, want %d", q, n)
			}
		}
	}
	// The writer is held in the fsync of "first".
	g.arm()
	firstDone := make(chan result, 1)
	go func() {
		lsn, err := l.Append(context.Background(), []byte("first"))
		firstDone <- result{"first", lsn, err}
	}()
	<-g.entered

	// Queued behind it, then cancelled: withdrawn, never written.
	ctx, cancel := context.WithCancel(context.Background())
	withdrawn := make(chan error, 1)
	go func() {
		_, err := l.Append(ctx, []byte("withdrawn"))
		withdrawn <- err
	}()
	waitQueued(1)
	cancel()
	if err := <-withdrawn; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled queued append: %v", err)
	}
	waitQueued(0)

	// Queued, then taken by the writer (held in its fsync), then
	// cancelled: the answer must be the write's outcome.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	taken := make(chan result, 1)
	go func() {
		lsn, err := l.Append(ctx, []byte("taken"))
		taken <- result{"taken", lsn, err}
	}()
	waitQueued(1)
	g.arm()
	g.release <- struct{}{} // "first" completes; the writer takes "taken"
	<-g.entered
	cancel()
	select {
	case r := <-taken:
		t.Fatalf("append returned %v while its fsync was still running", r.err)
	case <-time.After(20 * time.Millisecond):
	}
	g.release <- struct{}{}
	r := <-taken
	if r.err != nil {
		t.Fatalf("append taken before its context ended: %v", r.err)
	}
	f := <-firstDone
	_, got := reopen(t, l, g.FaultFS, Options{})
	sameEntries(t, got, []entry{{f.lsn, "first"}, {r.lsn, "taken"}})
}

// slowSyncFS delays every fsync.
type slowSyncFS struct {
	*FaultFS
	delay time.Duration
}

func (s *slowSyncFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := s.FaultFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return slowFile{f, s.delay}, nil
}

type slowFile struct {
	File
	delay time.Duration
}

func (f slowFile) Sync() error {
	time.Sleep(f.delay)
	return f.File.Sync()
}

func TestGroupCommitServesManyAppendsWithFewFsyncs(t *testing.T) {
	// Each fsync takes a while, as on a disk; appenders arriving meanwhile
	// must share the next one.
	fsys := &slowSyncFS{FaultFS: NewFaultFS(), delay: 2 * time.Millisecond}
	l, _ := open(t, fsys, Options{})
	const writers, each = 50, 20
	syncsBefore := fsys.Calls(OpSync)
	var wg sync.WaitGroup
	acked := make([][]entry, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				rec := fmt.Sprintf("w%d-%d", w, i)
				lsn, err := l.Append(context.Background(), []byte(rec))
				if err != nil {
					t.Error(err)
					return
				}
				acked[w] = append(acked[w], entry{lsn, rec})
			}
		})
	}
	wg.Wait()
	syncs := fsys.Calls(OpSync) - syncsBefore
	n := writers * each
	t.Logf("%d appends, %d fsyncs", n, syncs)
	if syncs > n/5 {
		t.Errorf("%d fsyncs for %d concurrent appends: group commit is not grouping", syncs, n)
	}
	_, got := reopen(t, l, fsys.FaultFS, Options{})
	if len(got) != n {
		t.Fatalf("replayed %d records, want %d", len(got), n)
	}
	byLSN := map[uint64]string{}
	for i, e := range got {
		if e.lsn != uint64(i+1) {
			t.Fatalf("replay out of LSN order at %d: %v", i, e)
		}
		byLSN[e.lsn] = e.rec
	}
	for _, es := range acked {
		for i, e := range es {
			if byLSN[e.lsn] != e.rec {
				t.Fatalf("acknowledged %v, replayed %q at that LSN", e, byLSN[e.lsn])
			}
			if i > 0 && e.lsn <= es[i-1].lsn {
				t.Fatalf("one writer's appends got decreasing LSNs: %v then %v", es[i-1], e)
			}
		}
	}
}

func TestSegmentsRollAndTruncateBeforeDeletesOnlyWholeOldSegments(t *testing.T) {
	fsys := NewFaultFS()
	opts := Options{SegmentBytes: 200}
	l, _ := open(t, fsys, opts)
	var want []entry
	for i := range 40 {
		rec := fmt.Sprintf("record-%02d-%s", i, strings.Repeat("p", 30))
		want = append(want, entry{mustAppend(t, l, rec), rec})
	}
	names := fsys.Names(dir)
	if len(names) < 5 {
		t.Fatalf("40 records of ~50 bytes in 200-byte segments made only %v", names)
	}
	for _, n := range names {
		data, _ := fsys.ReadFile(filepath.Join(dir, n))
		if len(data) > 200+60 {
			t.Errorf("segment %s is %d bytes: it should roll once past 200", n, len(data))
		}
	}
	l, got := reopen(t, l, fsys, opts)
	sameEntries(t, got, want)

	// Segments starting at or below LSN 15 whose records all lie below 15
	// go; the one holding 15 stays.
	if err := l.TruncateBefore(15); err != nil {
		t.Fatal(err)
	}
	l, got = reopen(t, l, fsys, opts)
	if len(got) == 0 || got[0].lsn > 15 || got[0].lsn == 1 {
		t.Fatalf("after TruncateBefore(15) replay starts at %v", got[:1])
	}
	sameEntries(t, got, want[got[0].lsn-1:])

	// Truncating past the end keeps the active segment, so numbering
	// carries on.
	if err := l.TruncateBefore(1 << 40); err != nil {
		t.Fatal(err)
	}
	if n := len(fsys.Names(dir)); n != 1 {
		t.Fatalf("after truncating everything, %d segments remain; want the active one", n)
	}
	l, _ = reopen(t, l, fsys, opts)
	if lsn := mustAppend(t, l, "next"); lsn != 41 {
		t.Fatalf("after truncation the next LSN is %d, want 41", lsn)
	}
}

func TestCheckpointKeepsNewLSNsAboveIt(t *testing.T) {
	fsys := NewFaultFS()
	l, _ := open(t, fsys, Options{})
	appendN(t, l, "r", 3)
	// The caller says it has applied up to 10, more than the log holds
	// (its files were lost, say): new records must not reuse 4..10.
	l, got := reopen(t, l, fsys, Options{Checkpoint: 10})
	if len(got) != 3 {
		t.Fatalf("replayed %v", got)
	}
	if lsn := mustAppend(t, l, "x"); lsn != 11 {
		t.Fatalf("LSN after checkpoint 10 is %d, want 11", lsn)
	}
	_, got = reopen(t, l, fsys, Options{})
	sameEntries(t, got, []entry{{1, "r0"}, {2, "r1"}, {3, "r2"}, {11, "x"}})
}

func TestSyncNeverWritesOnAppendAndSyncMakesItDurable(t *testing.T) {
	fsys := NewFaultFS()
	opts := Options{Sync: SyncNever}
	l, _ := open(t, fsys, opts)
	syncs := fsys.Calls(OpSync)
	appendN(t, l, "bulk", 100)
	if fsys.Calls(OpSync) != syncs {
		t.Fatal("SyncNever fsynced on append")
	}
	// A crash now may lose them all.
	_, got, err := tryOpen(fsys.Crash(nil), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("unsynced records survived a crash without tearing: %v", clip(got))
	}

	fsys = NewFaultFS()
	l, _ = open(t, fsys, opts)
	want := appendN(t, l, "bulk", 100)
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	_, got, err = tryOpen(fsys.Crash(nil), opts)
	if err != nil {
		t.Fatal(err)
	}
	sameEntries(t, got, want)
}

func TestCloseSyncsUnderSyncNever(t *testing.T) {
	fsys := NewFaultFS()
	opts := Options{Sync: SyncNever}
	l, _ := open(t, fsys, opts)
	want := appendN(t, l, "r", 10)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	_, got, err := tryOpen(fsys.Crash(nil), opts)
	if err != nil {
		t.Fatal(err)
	}
	sameEntries(t, got, want)
}

func TestStatsCountRecordsAndSyncs(t *testing.T) {
	l, _ := open(t, NewFaultFS(), Options{})
	appendN(t, l, "r", 5)
	s := l.Stats()
	if s.Records != 5 || s.Groups != 5 || s.Syncs < 5 || s.Segments != 1 || s.NextLSN != 6 || s.Broken {
		t.Fatalf("stats %+v", s)
	}
}

func TestUnknownFormatVersionFailsReplayWithoutCuttingAnything(t *testing.T) {
	fsys := NewFaultFS()
	l, _ := open(t, fsys, Options{})
	appendN(t, l, "r", 3)
	l.Close()
	data, _ := fsys.ReadFile(segPath(1))
	data[7] = 2 // a newer trek's format
	fsys.WriteFile(segPath(1), data)
	_, _, err := tryOpen(fsys, Options{})
	if err == nil || !strings.Contains(err.Error(), "format version 2") {
		t.Fatalf("replay of a version-2 segment: %v", err)
	}
	after, _ := fsys.ReadFile(segPath(1))
	if !bytes.Equal(after, data) {
		t.Fatal("replay changed a segment it could not read")
	}
}

func TestReplayCallbackErrorStopsReplayAndChangesNothing(t *testing.T) {
	fsys := NewFaultFS()
	l, _ := open(t, fsys, Options{})
	appendN(t, l, "r", 3)
	l.Close()
	before, _ := fsys.ReadFile(segPath(1))
	l, err := Open(dir, Options{FS: fsys, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err = l.Replay(func(lsn uint64, _ []byte) error {
		if lsn == 2 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("replay: %v", err)
	}
	if _, err := l.Append(context.Background(), []byte("x")); err == nil {
		t.Fatal("append after a failed replay succeeded")
	}
	l.Close()
	after, _ := fsys.ReadFile(segPath(1))
	if !bytes.Equal(before, after) {
		t.Fatal("a failed replay changed the segment")
	}
}
