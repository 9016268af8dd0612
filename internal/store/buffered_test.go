package store

import (
	"context"
	"reflect"
	"testing"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/wal"
)

// TestJourneysBufferedMatchesJourneysFields: the buffered scan hands on the
// same keys and events, over column files and the head at once.
func TestJourneysBufferedMatchesJourneysFields(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir(), Options{Sync: wal.SyncNever, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	genCustomers(genConfig{Seed: 5, Customers: 300, EventsPer: 8}, func(recs []Record) {
		if err := s.Append(ctx, recs); err != nil {
			t.Fatal(err)
		}
		if n++; n == 150 {
			if err := s.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	})
	for _, fields := range []Fields{0, FieldTraits, AllFields} {
		type keyed struct {
			key uint64
			evs []event.Event
		}
		var want, got []keyed
		if err := s.JourneysFields(ctx, fields, func(k uint64, evs []event.Event) error {
			want = append(want, keyed{k, evs})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.JourneysBuffered(ctx, fields, func(k uint64, evs []event.Event) error {
			got = append(got, keyed{k, append([]event.Event(nil), evs...)})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(want) < 300 || !reflect.DeepEqual(got, want) {
			t.Fatalf("fields %b: buffered scan differs (%d keys, want %d)", fields, len(got), len(want))
		}
	}
}
