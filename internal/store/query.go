package store

import (
	"cmp"
	"container/heap"
	"context"
	"slices"
	"time"

	"github.com/trekhq/trek/internal/event"
)

// snapshot is a consistent view of the store for one query: the column
// files (held open until release), the frozen heads and the active head
// as they were when it was taken.
type snapshot struct {
	files  []*colFile
	frozen []*head
	active []headKey
	// activeRecs are the active head's records when the snapshot was
	// taken.
	activeRecs [][]byte
	hidden     map[uint64]bool
}

func (s *Store) snapshot(only *uint64) *snapshot {
	s.mu.Lock()
	snap := &snapshot{files: slices.Clone(s.files), frozen: slices.Clone(s.frozen), hidden: s.hidden,
		activeRecs: s.head.recs[:len(s.head.recs):len(s.head.recs)]}
	for _, f := range snap.files {
		f.refs.Add(1)
	}
	if only != nil {
		if es, ok := s.head.byKey[*only]; ok {
			snap.active = []headKey{{key: *only, entries: es[:len(es):len(es)]}}
		}
	} else {
		snap.active = make([]headKey, 0, len(s.head.byKey))
		for k, es := range s.head.byKey {
			snap.active = append(snap.active, headKey{key: k, entries: es[:len(es):len(es)]})
		}
	}
	s.mu.Unlock()
	slices.SortFunc(snap.active, func(a, b headKey) int { return cmp.Compare(a.key, b.key) })
	return snap
}

func (snap *snapshot) release() {
	for _, f := range snap.files {
		f.release()
	}
	snap.files = nil
}

func (snap *snapshot) skipHidden() func(uint64) bool {
	if snap.hidden == nil {
		return nil
	}
	h := snap.hidden
	return func(k uint64) bool { return h[k] }
}

// sourcesFields returns a row source for each part of the snapshot,
// decoding the fields asked for.
func (snap *snapshot) sourcesFields(fields Fields) []source {
	skip := snap.skipHidden()
	var srcs []source
	for _, f := range snap.files {
		srcs = append(srcs, newFileSource(f, fields.columns(), skip))
	}
	for _, h := range snap.frozen {
		hs := newHeadSource(h.sortedFrozen(), h.recs, true, skip)
		hs.fields = fields
		srcs = append(srcs, hs)
	}
	if len(snap.active) > 0 {
		hs := newHeadSource(snap.active, snap.activeRecs, false, nil)
		hs.fields = fields
		srcs = append(srcs, hs)
	}
	return srcs
}

// Fields selects what a query decodes of each event beyond what every
// query gets (Type, Event, Name, Channel, SourceID, Timestamp). A query
// that leaves out what it does not need reads fewer columns and builds
// fewer maps: contexts especially are large.
type Fields uint8

const (
	FieldIDs        Fields = 1 << iota // UserID, AnonymousID, PreviousID, GroupID
	FieldMessage                       // MessageID, OriginalTimestamp, SentAt, ReceivedAt
	FieldProperties                    // Properties
	FieldTraits                        // Traits
	FieldContext                       // Context
	AllFields       = FieldIDs | FieldMessage | FieldProperties | FieldTraits | FieldContext
)

// columns maps fields to the columns that hold them.
func (f Fields) columns() colSet {
	c := colSet(1<<colKey | 1<<colTime | 1<<colSeq | 1<<colType | 1<<colEvent | 1<<colName | 1<<colChannel | 1<<colSource)
	if f&FieldIDs != 0 {
		c |= 1<<colUserID | 1<<colAnonymousID | 1<<colPreviousID | 1<<colGroupID
	}
	if f&FieldMessage != 0 {
		c |= 1<<colMessageID | 1<<colOriginalTime | 1<<colSentAt | 1<<colReceivedAt
	}
	if f&FieldProperties != 0 {
		c |= wantProps
	}
	if f&FieldTraits != 0 {
		c |= 1 << colTraits
	}
	if f&FieldContext != 0 {
		c |= 1 << colContext
	}
	return c
}

// scan calls fn with every event in (key, time, arrival) order.
func (s *Store) scan(ctx context.Context, fn func(r *row) error) error {
	return s.scanFields(ctx, AllFields, fn)
}

func (s *Store) scanFields(ctx context.Context, fields Fields, fn func(r *row) error) error {
	snap := s.snapshot(nil)
	defer snap.release()
	m, err := newMerger(snap.sourcesFields(fields))
	if err != nil {
		return err
	}
	var r row
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		ok, err := m.next(&r)
		if err != nil || !ok {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
}

// Journeys calls fn once per key, in ascending key order, with the key's
// events ordered by time and, for equal times, by arrival. It streams:
// memory holds one key's events and one block per column file. fn may
// keep the slice.
func (s *Store) Journeys(ctx context.Context, fn func(key uint64, events []event.Event) error) error {
	return s.JourneysFields(ctx, AllFields, fn)
}

// JourneysFields is Journeys decoding only the fields asked for; the
// other fields of the events are left empty.
func (s *Store) JourneysFields(ctx context.Context, fields Fields, fn func(key uint64, events []event.Event) error) error {
	return s.journeys(ctx, fields, false, fn)
}

// Events returns the events stored under key, in journey order; reading
// only the blocks whose key range holds it.
func (s *Store) Events(ctx context.Context, key uint64) ([]event.Event, error) {
	snap := s.snapshot(&key)
	defer snap.release()
	// A key being erased is gone from the files and the frozen heads.
	erasing := snap.hidden[key]
	skip := func(k uint64) bool { return k != key }
	var srcs []source
	for _, f := range snap.files {
		if erasing {
			break
		}
		var blocks []int
		for i := range f.blocks {
			if f.blocks[i].minKey <= key && key <= f.blocks[i].maxKey {
				blocks = append(blocks, i)
			}
		}
		if len(blocks) > 0 {
			fs := newFileSource(f, wantAll, skip)
			fs.blocks = blocks
			fs.stopAfter, fs.hasStop = key, true
			srcs = append(srcs, fs)
		}
	}
	for _, h := range snap.frozen {
		if erasing {
			break
		}
		keys := h.sortedFrozen()
		i, ok := slices.BinarySearchFunc(keys, key, func(hk headKey, k uint64) int { return cmp.Compare(hk.key, k) })
		if ok {
			srcs = append(srcs, newHeadSource(keys[i:i+1], h.recs, true, nil))
		}
	}
	if len(snap.active) > 0 {
		srcs = append(srcs, newHeadSource(snap.active, snap.activeRecs, false, nil))
	}
	m, err := newMerger(srcs)
	if err != nil {
		return nil, err
	}
	var evs []event.Event
	var r row
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ok, err := m.next(&r)
		if err != nil {
			return nil, err
		}
		if !ok {
			return evs, nil
		}
		r.ev.Seq = r.sk.seq
		evs = append(evs, r.ev)
	}
}

// Messages calls fn with the source, messageId and receive time of every
// event received at or after since, for rebuilding the deduplication
// index at start. Blocks received entirely before since are not read,
// and only the three columns are decoded. The order is unspecified.
func (s *Store) Messages(ctx context.Context, since time.Time, fn func(sourceID, messageID string, receivedAt time.Time)) error {
	snap := s.snapshot(nil)
	defer snap.release()
	sinceMs, _ := splitTime(since)
	skip := snap.skipHidden()
	var srcs []source
	for _, f := range snap.files {
		var blocks []int
		for i := range f.blocks {
			if f.blocks[i].maxRecvMs >= sinceMs {
				blocks = append(blocks, i)
			}
		}
		if len(blocks) == 0 {
			continue
		}
		want := colSet(1<<colSource | 1<<colMessageID | 1<<colReceivedAt)
		if skip != nil {
			want |= 1 << colKey
		}
		fs := newFileSource(f, want, skip)
		fs.blocks = blocks
		srcs = append(srcs, fs)
	}
	for _, h := range snap.frozen {
		hs := newHeadSource(h.sortedFrozen(), h.recs, true, skip)
		hs.fields = FieldMessage
		srcs = append(srcs, hs)
	}
	if len(snap.active) > 0 {
		hs := newHeadSource(snap.active, snap.activeRecs, true, nil)
		hs.fields = FieldMessage
		srcs = append(srcs, hs)
	}
	for _, src := range srcs {
		for n := 0; ; n++ {
			if n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			ok, err := src.next()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			e := &src.cur().ev
			if !e.ReceivedAt.Before(since) {
				fn(e.SourceID, e.MessageID, e.ReceivedAt)
			}
		}
	}
	return nil
}

// countKeys counts the distinct keys of a snapshot, merging each file's
// key runs and each head's sorted keys. The result is cached until the
// files or the heads change.
func (s *Store) countKeys(snap *snapshot) (int64, error) {
	headN := len(snap.active)
	frozenN := 0
	for _, h := range snap.frozen {
		frozenN += h.n
	}
	s.mu.Lock()
	c := s.keys
	s.mu.Unlock()
	if c.computed && slices.Equal(c.files, snap.files) && c.headN == headN && c.frozenN == frozenN {
		return c.n, nil
	}
	var its keyHeap
	for _, f := range snap.files {
		it := &fileKeys{f: f, bi: -1}
		ok, err := it.next()
		if err != nil {
			return 0, err
		}
		if ok {
			its = append(its, it)
		}
	}
	addHead := func(keys []headKey) {
		if len(keys) > 0 {
			its = append(its, &headKeys{keys: keys})
		}
	}
	for _, h := range snap.frozen {
		addHead(h.sortedFrozen())
	}
	addHead(snap.active)
	heap.Init(&its)
	var n int64
	var last uint64
	first := true
	for len(its) > 0 {
		it := its[0]
		k := it.key()
		if first || k != last {
			n++
			last, first = k, false
		}
		ok, err := it.next()
		if err != nil {
			return 0, err
		}
		if ok {
			heap.Fix(&its, 0)
		} else {
			heap.Pop(&its)
		}
	}
	s.mu.Lock()
	s.keys = keysCache{files: slices.Clone(snap.files), headN: headN, frozenN: frozenN, n: n, computed: true}
	s.mu.Unlock()
	return n, nil
}

type keyIter interface {
	key() uint64
	next() (bool, error)
}

type keyHeap []keyIter

func (h keyHeap) Len() int           { return len(h) }
func (h keyHeap) Less(i, j int) bool { return h[i].key() < h[j].key() }
func (h keyHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *keyHeap) Push(x any)        { *h = append(*h, x.(keyIter)) }
func (h *keyHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type headKeys struct {
	keys []headKey
	i    int
}

func (h *headKeys) key() uint64 { return h.keys[h.i].key }
func (h *headKeys) next() (bool, error) {
	if h.i+1 >= len(h.keys) {
		return false, nil
	}
	h.i++
	return true, nil
}

// fileKeys walks the key runs of a file's blocks.
type fileKeys struct {
	f  *colFile
	bi int
	d  decoder
	k  uint64
}

func (it *fileKeys) key() uint64 { return it.k }

func (it *fileKeys) next() (bool, error) {
	for {
		if len(it.d.b) == 0 {
			it.bi++
			if it.bi >= len(it.f.blocks) {
				return false, nil
			}
			raw, ok, err := it.f.readChunk(it.bi, colKey)
			if err != nil {
				return false, err
			}
			if !ok {
				return false, it.f.corruptf("block %d lacks its key column", it.bi)
			}
			it.d = decoder{b: raw}
			it.k = 0
			continue
		}
		it.k += it.d.uvarint()
		it.d.uvarint()
		if it.d.err != nil {
			return false, it.f.corruptf("block %d key column: %v", it.bi, it.d.err)
		}
		return true, nil
	}
}

// holdsAny reports whether the file has an event under one of keys.
func (f *colFile) holdsAny(keys map[uint64]bool) (bool, error) {
	for bi := range f.blocks {
		b := &f.blocks[bi]
		inRange := false
		for k := range keys {
			if b.minKey <= k && k <= b.maxKey {
				inRange = true
				break
			}
		}
		if !inRange {
			continue
		}
		raw, ok, err := f.readChunk(bi, colKey)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, f.corruptf("block %d lacks its key column", bi)
		}
		d := decoder{b: raw}
		var k uint64
		for len(d.b) > 0 {
			k += d.uvarint()
			d.uvarint()
			if d.err != nil {
				return false, f.corruptf("block %d key column: %v", bi, d.err)
			}
			if keys[k] {
				return true, nil
			}
		}
	}
	return false, nil
}
