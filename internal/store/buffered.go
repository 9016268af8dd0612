package store

import (
	"context"

	"github.com/trekhq/trek/internal/event"
)

// JourneysBuffered is JourneysFields for a reader that is done with a
// key's events when fn returns: the slice is reused for the next key, so a
// long scan allocates nothing per key (JourneysFields' fresh slices are
// most of a core scan's cost). fn must not keep the slice.
func (s *Store) JourneysBuffered(ctx context.Context, fields Fields, fn func(key uint64, events []event.Event) error) error {
	return s.journeys(ctx, fields, true, fn)
}

// journeys groups the scan's rows by key; with reuse the slice handed to
// fn is recycled for the next key.
func (s *Store) journeys(ctx context.Context, fields Fields, reuse bool, fn func(key uint64, events []event.Event) error) error {
	var (
		cur  uint64
		have bool
		evs  []event.Event
	)
	err := s.scanFields(ctx, fields, func(r *row) error {
		if have && r.sk.key != cur {
			if err := fn(cur, evs); err != nil {
				return err
			}
			if reuse {
				evs = evs[:0]
			} else {
				evs = nil
			}
		}
		cur, have = r.sk.key, true
		r.ev.Seq = r.sk.seq
		evs = append(evs, r.ev)
		return nil
	})
	if err != nil {
		return err
	}
	if have {
		return fn(cur, evs)
	}
	return nil
}
