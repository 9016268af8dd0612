package store

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
)

// headEntry is one event in the head: its place in the order and where
// its encoding lies in the log record it arrived in. Keeping records
// instead of decoded events makes the head several times smaller; events
// are decoded only when a query reads them. The entry names its record by
// index instead of holding a slice of it, so that entries hold no
// pointers: the garbage collector then scans one pointer per record, not
// one per event, and its mark phase stays short while the head holds a
// million events.
type headEntry struct {
	ms       int64
	seq      uint64
	sub      int32
	rec      uint32 // index in the head's recs
	off, end uint32 // the event in the record (at most wal.MaxRecordBytes)
}

// bytes is the entry's encoded event.
func (e *headEntry) bytes(recs [][]byte) []byte { return recs[e.rec][e.off:e.end] }

func compareEntries(a, b headEntry) int {
	if c := cmp.Compare(a.ms, b.ms); c != 0 {
		return c
	}
	if c := cmp.Compare(a.sub, b.sub); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

// head holds the events not yet in a column file, grouped by key, each
// key's events in arrival order. The store's mutex guards the active
// head; a frozen head (being folded) is immutable.
type head struct {
	byKey map[uint64][]headEntry
	// recs are the log records the entries lie in; they are only ever
	// appended to, so a view may keep a shorter copy of the slice.
	recs  [][]byte
	n     int
	bytes int64

	frozenOnce sync.Once
	frozen     []headKey // sorted keys, each key's events sorted; frozen heads only
}

type headKey struct {
	key     uint64
	entries []headEntry
}

func newHead() *head { return &head{byKey: make(map[uint64][]headEntry)} }

// parseRecord indexes the events of a log record, without changing the
// head, so that a bad record is refused whole.
func parseRecord(rec []byte) (keys []uint64, entries []headEntry, maxSeq uint64, err error) {
	err = recordEvents(rec, func(seq uint64, off int, ev []byte) error {
		key, ms, sub, err := eventHeader(ev)
		if err != nil {
			return err
		}
		keys = append(keys, key)
		entries = append(entries, headEntry{ms: ms, sub: int32(sub), seq: seq, off: uint32(off), end: uint32(off + len(ev))})
		maxSeq = max(maxSeq, seq)
		return nil
	})
	if err != nil {
		return nil, nil, 0, fmt.Errorf("decode log record: %w", err)
	}
	return keys, entries, maxSeq, nil
}

// insert adds the entries of rec, each under its key.
func (h *head) insert(rec []byte, keys []uint64, entries []headEntry) {
	h.insertParts([][]byte{rec}, nil, keys, entries)
}

// insertParts adds the entries of events encoded in several pieces:
// entries[i] lies in recs[part[i]] (in recs[0] when part is nil).
func (h *head) insertParts(recs [][]byte, part []uint32, keys []uint64, entries []headEntry) {
	base := uint32(len(h.recs))
	h.recs = append(h.recs, recs...)
	for i, k := range keys {
		e := entries[i]
		e.rec = base
		if part != nil {
			e.rec += part[i]
		}
		h.byKey[k] = append(h.byKey[k], e)
	}
	h.n += len(entries)
	for _, r := range recs {
		h.bytes += int64(len(r))
	}
	h.bytes += int64(len(entries)) * 32
}

// sortedFrozen returns a frozen head's keys in order, each key's events
// in journey order. It is computed once and then shared by every reader.
func (h *head) sortedFrozen() []headKey {
	h.frozenOnce.Do(func() {
		h.frozen = make([]headKey, 0, len(h.byKey))
		for k, es := range h.byKey {
			// A copy: queries that took a view of this head while it was
			// active may still be reading the arrays.
			es = slices.Clone(es)
			slices.SortFunc(es, compareEntries)
			h.frozen = append(h.frozen, headKey{key: k, entries: es})
		}
		slices.SortFunc(h.frozen, func(a, b headKey) int { return cmp.Compare(a.key, b.key) })
	})
	return h.frozen
}

// headSource reads a head view's events in (key, time, arrival) order.
type headSource struct {
	keys    []headKey
	recs    [][]byte
	ki      int
	es      []headEntry
	ei      int
	sorted  bool // each key's entries are already in order (frozen heads)
	raw     bool // rows carry the encoded event, not a decoded one
	fields  Fields
	skip    func(uint64) bool
	r       row
	scratch []headEntry
}

func newHeadSource(keys []headKey, recs [][]byte, sorted bool, skip func(uint64) bool) *headSource {
	return &headSource{keys: keys, recs: recs, ki: -1, sorted: sorted, skip: skip, fields: AllFields}
}

func (s *headSource) next() (bool, error) {
	for s.ei >= len(s.es) {
		s.ki++
		if s.ki >= len(s.keys) {
			return false, nil
		}
		hk := s.keys[s.ki]
		if s.skip != nil && s.skip(hk.key) {
			continue
		}
		s.es, s.ei = hk.entries, 0
		if !s.sorted {
			// The view shares its arrays with the live head: sort a copy.
			s.scratch = append(s.scratch[:0], s.es...)
			slices.SortFunc(s.scratch, compareEntries)
			s.es = s.scratch
		}
	}
	e := s.es[s.ei]
	s.ei++
	if s.raw {
		s.r = row{sk: sortKey{key: s.keys[s.ki].key, ms: e.ms, sub: int64(e.sub), seq: e.seq, valid: true}, raw: e.bytes(s.recs)}
		return true, nil
	}
	key, ev, err := decodeEventFields(e.bytes(s.recs), s.fields)
	if err != nil {
		return false, fmt.Errorf("decode head event: %w", err)
	}
	s.r = row{sk: sortKey{key: key, ms: e.ms, sub: int64(e.sub), seq: e.seq, valid: true}, ev: ev}
	return true, nil
}
