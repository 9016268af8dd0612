package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/wal"
)

// TestFirstFoldStartsSmallAndDoubles: with FirstFold set, the head is
// folded in the background at FirstFold events, then at twice that, and
// so on up to HeadEvents; every event is read back once.
func TestFirstFoldStartsSmallAndDoubles(t *testing.T) {
	s, err := Open(context.Background(), t.TempDir(), Options{Sync: wal.SyncNever, HeadEvents: 400, FirstFold: 100, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs := genArrival(genConfig{Seed: 31, Customers: 200})
	if len(recs) < 1500 {
		t.Fatalf("the generator gave only %d events", len(recs))
	}
	recs = recs[:1500]
	// Ten at a time, waiting for each fold to end before the next append,
	// so that each fold takes exactly the head its threshold asked for.
	for i := 0; i < len(recs); i += 10 {
		appendAll(t, s, recs[i:i+10], 10)
		waitForFold(t, s)
	}
	s.mu.Lock()
	var sizes []int64
	for _, fi := range s.infos {
		sizes = append(sizes, int64(fi.Events))
	}
	s.mu.Unlock()
	// 100, 200, 400, then 400 each: 1,500 events leave 1,500-1,100 = 400
	// folded by the last threshold and nothing in the head.
	want := []int64{100, 200, 400, 400, 400}
	if !slices.Equal(sizes, want) {
		t.Errorf("column files of %v events, want %v", sizes, want)
	}
	if got, want := len(journeys(t, s)), len(recs); got != want {
		t.Errorf("read back %d events, want %d", got, want)
	}
}

func waitForFold(t *testing.T, s *Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		folding := s.folding
		s.mu.Unlock()
		if !folding {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("a background fold did not end within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}
