package wal

import (
	"context"
	"os"
	"strings"
	"testing"
)

// TestRollSealsTheActiveSegmentSoTruncateCanDeleteIt checks the erasure
// path: after Roll, TruncateBefore past the last record removes every file
// holding old records, and the log goes on appending and replaying.
func TestRollSealsTheActiveSegmentSoTruncateCanDeleteIt(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Replay(func(uint64, []byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var last uint64
	for _, r := range []string{"secret-one", "secret-two"} {
		if last, err = l.Append(ctx, []byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	if err := l.Roll(); err != nil { // an empty active segment stays
		t.Fatal(err)
	}
	if err := l.TruncateBefore(last + 1); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		raw, _ := os.ReadFile(dir + "/" + e.Name())
		if strings.Contains(string(raw), "secret") {
			t.Errorf("%s still holds a truncated record", e.Name())
		}
	}
	if _, err := l.Append(ctx, []byte("after")); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2, err := Open(dir, Options{Checkpoint: last})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	var got []string
	if err := l2.Replay(func(_ uint64, rec []byte) error { got = append(got, string(rec)); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "after" {
		t.Errorf("replayed %q", got)
	}
}

// TestAppendsGroupedWithAFailedRollSucceed: a Roll is taken in the same
// group as appends, which are written and fsynced before the roll. If the
// new segment cannot be created, only the Roll fails: the appends are
// durable and will be replayed, so an error would tell their callers the
// opposite of the truth (and a retry would double them).
func TestAppendsGroupedWithAFailedRollSucceed(t *testing.T) {
	fsys := NewFaultFS()
	l, _ := open(t, fsys, Options{})
	want := appendN(t, l, "before-", 1)
	// The new segment's header fsync fails; the half-made file is removed
	// and the log stays on the current segment.
	fsys.Inject(Fault{Op: OpSync, Path: segmentName(3)})

	rec := []byte("grouped with the roll")
	app := &request{recs: [][]byte{rec}, crcs: []uint32{recordCRC(rec)}, bytes: frameSize + len(rec), done: make(chan struct{})}
	roll := &request{sync: true, roll: true, done: make(chan struct{})}
	// Queued together while the writer cannot take either: one group.
	l.mu.Lock()
	l.queue = append(l.queue, app, roll)
	l.wake.Signal()
	l.mu.Unlock()
	<-app.done
	<-roll.done

	if app.err != nil || app.lsn != 2 {
		t.Fatalf("append grouped with the failed roll: LSN %d, %v; want LSN 2, nil", app.lsn, app.err)
	}
	if roll.err == nil {
		t.Fatal("roll whose segment could not be created succeeded")
	}
	want = append(want, entry{2, string(rec)})
	if _, err := l.Append(context.Background(), []byte("after")); err != nil {
		t.Fatal(err)
	}
	want = append(want, entry{3, "after"})
	if err := l.Roll(); err != nil {
		t.Fatalf("roll once the fault is gone: %v", err)
	}
	l.Close()
	_, got, err := tryOpen(fsys.Crash(nil), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameEntries(t, got, want)
}
