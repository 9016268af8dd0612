package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/trekhq/trek/internal/wal"
)

// copyDir copies a store's directory as it is on disk: what a crash of
// the process at this moment would leave.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestWithoutALogEventsLastOnceFolded: with NoLog, appended events reach
// the disk only in column files. What was flushed survives a crash; what
// only the head held does not (the bulk import that set NoLog has not
// answered for it); Close folds the head, so that a clean close keeps
// everything; and the log holds none of it.
func TestWithoutALogEventsLastOnceFolded(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	recs := genArrival(genConfig{Seed: 41, Customers: 60})
	half := len(recs) / 2
	s, err := Open(ctx, dir, Options{Sync: wal.SyncNever, NoLog: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, s, recs[:half], 25)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	appendAll(t, s, recs[half:], 25)

	crashed := t.TempDir()
	copyDir(t, dir, crashed)
	c, err := Open(ctx, crashed, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(journeys(t, c)); got != half {
		t.Errorf("after a crash the store holds %d events, want the %d flushed", got, half)
	}
	c.Close()

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wantAllInColumnFiles(t, dir, len(recs))
}

// wantAllInColumnFiles reopens the store in dir and checks that it holds
// want events, all in column files: none come back from the log.
func wantAllInColumnFiles(t *testing.T, dir string, want int) {
	t.Helper()
	r, err := Open(context.Background(), dir, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := len(journeys(t, r)); got != want {
		t.Errorf("the store holds %d events, want %d", got, want)
	}
	if st := r.Stats(); st.HeadEvents != 0 {
		t.Errorf("%d events came back from the log; it should hold none", st.HeadEvents)
	}
}

// TestWithoutALogRecordsAlreadyLoggedAreStillReplayedAndFolded: a store
// opened with NoLog over a log holding acknowledged records (a server
// stopped before folding them) keeps them: replayed into the head and
// folded with the new events.
func TestWithoutALogRecordsAlreadyLoggedAreStillReplayedAndFolded(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	recs := genArrival(genConfig{Seed: 42, Customers: 40})
	half := len(recs) / 2
	s, err := Open(ctx, dir, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, s, recs[:half], 20)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := Open(ctx, dir, Options{Sync: wal.SyncNever, NoLog: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if st := b.Stats(); st.HeadEvents != int64(half) {
		t.Fatalf("replayed %d events into the head, want %d", st.HeadEvents, half)
	}
	appendAll(t, b, recs[half:], 20)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	wantAllInColumnFiles(t, dir, len(recs))
}

// Without a log, a large batch is kept in the head in pieces encoded in
// parallel: its events read back the same from the head, after a fold,
// and beside a batch appended alone.
func TestWithoutALogLargeBatchesReadBackFromTheHeadAndTheFiles(t *testing.T) {
	ctx := t.Context()
	recs := genArrival(genConfig{Seed: 11, Customers: 900})
	if len(recs) < 3*parallelEncodeMin {
		t.Fatalf("only %d events: the batches would not be encoded in pieces", len(recs))
	}
	s, err := Open(ctx, t.TempDir(), Options{Sync: wal.SyncNever, NoLog: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	appendAll(t, s, recs[:1], 1)           // sizes nothing: the first estimate is 0
	appendAll(t, s, recs[1:], len(recs)/2) // two batches, each in pieces
	if st := s.Stats(); st.HeadEvents != int64(len(recs)) {
		t.Fatalf("head holds %d events, want %d", st.HeadEvents, len(recs))
	}
	sameJourneys(t, journeys(t, s), expected(recs))
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sameJourneys(t, journeys(t, s), expected(recs))
}
