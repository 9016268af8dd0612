// Package journeys makes a workspace's embedded event store and identity
// graph into the analytics engine's analytics.Source, and keeps one
// in-memory analytics.Index per workspace fresh for queries (Cache).
//
// The store files events under keys (the identity node an event was
// stitched to when it arrived), and one customer may own several keys; a
// merge after the events arrived joins them at read time (retroactive
// stitching). A Scan therefore streams the store once in key order and
// maps every key to its customer through one picture of the graph taken
// at the start; a customer with one key is handed on at once, one with
// several is held until the scan has passed its last key, and its keys'
// events are then merged into one journey by time, ties by arrival.
package journeys

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/trekhq/trek/internal/analytics"
	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/identity"
	"github.com/trekhq/trek/internal/store"
)

// Options configure a Source.
type Options struct {
	// Parts is how many goroutines call a Scan's fn at once; 0 means
	// GOMAXPROCS.
	Parts  int
	Logger *slog.Logger
}

// Source is an analytics.Source over an event store and an identity
// graph. It is safe for concurrent Scans; its dictionaries grow as scans
// meet new activity and channel names, and codes never change.
type Source struct {
	store *store.Store
	graph func() *identity.Graph
	parts int
	log   *slog.Logger
	acts  *analytics.Dict
	chans *analytics.Dict

	tables sync.Pool // of *[]uint32, the per-scan key table
}

var _ analytics.Source = (*Source)(nil)

// NewSource returns a Source reading st and the graph that graph returns.
// graph is called once per Scan (the ingest layer swaps a workspace's
// graph whole when it rebuilds it from the disk), and must return the
// graph st's keys were assigned by.
func NewSource(st *store.Store, graph func() *identity.Graph, opts Options) *Source {
	if opts.Parts <= 0 {
		opts.Parts = runtime.GOMAXPROCS(0)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Source{store: st, graph: graph, parts: opts.Parts, log: opts.Logger,
		acts: analytics.NewDict(), chans: analytics.NewDict()}
}

// Parts implements analytics.Source.
func (s *Source) Parts() int { return s.parts }

// Activities implements analytics.Source.
func (s *Source) Activities() *analytics.Dict { return s.acts }

// Channels implements analytics.Source.
func (s *Source) Channels() *analytics.Dict { return s.chans }

// Batches carry this many events (or units) at most from the store's
// stream to a worker: large enough that channel operations are rare, small
// enough that both parts start early and memory stays small.
const (
	batchEvents = 4 << 10
	batchUnits  = 256
)

// A Scan takes one of two paths. The compact path (Need does not ask for
// the events: what an Index is built from) converts each key's events to
// columns on the store's stream, into buffers that are reused, so that it
// allocates nothing per event. The event path hands the events themselves
// to the workers, which convert them.

// unit is one customer's journey in a batch: on the compact path
// [off, off+n) of the batch's columns, already merged; on the event path
// one key's events, or several keys' runs for the worker to merge.
type unit struct {
	customer uint64
	off, n   int
	traits   map[string]any // compact path, when asked for
	evs      []event.Event
	runs     [][]event.Event
}

type batch struct {
	units  []unit
	events int
	// compact path
	times []int64
	acts  []uint32
	chans []uint16
}

func (b *batch) reset() {
	clear(b.units)
	b.units, b.events = b.units[:0], 0
	b.times, b.acts, b.chans = b.times[:0], b.acts[:0], b.chans[:0]
}

// Scan implements analytics.Source. The journeys' Events and Traits are
// set only when need asks for them; Events then holds every field but
// the context, which only need.Context brings.
func (s *Source) Scan(ctx context.Context, need analytics.Need, fn func(part int, j *analytics.Journey) error) error {
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	if need.Context {
		need.Events = true
	}
	compact := !need.Events
	var fields store.Fields
	switch {
	case need.Context:
		fields = store.AllFields
	case need.Events:
		fields = store.AllFields &^ store.FieldContext
	case need.Traits:
		fields = store.FieldTraits
	}

	var (
		failOnce sync.Once
		failed   error
		stop     atomic.Bool
	)
	fail := func(err error) {
		failOnce.Do(func() { failed = err })
		stop.Store(true)
		cancel()
	}

	work := make(chan *batch, 2*s.parts)
	free := make(chan *batch, 3*s.parts+1)
	var wg sync.WaitGroup
	for p := range s.parts {
		w := newWorker(s, need, p)
		wg.Go(func() {
			for b := range work {
				if !stop.Load() && ctx.Err() == nil {
					if err := w.run(ctx, b, fn, &stop); err != nil {
						fail(err)
					}
				}
				b.reset()
				select {
				case free <- b:
				default:
				}
			}
		})
	}

	st := &stream{src: s, ctx: ctx, work: work, free: free, compact: compact, traits: need.Traits,
		acts: map[string]uint32{}, chans: map[string]uint16{}}
	defer st.releaseTable()
	var err error
	if compact {
		err = s.store.JourneysBuffered(ctx, fields, st.key)
	} else {
		err = s.store.JourneysFields(ctx, fields, st.key)
	}
	if err == nil {
		err = st.finish()
	}
	close(work)
	wg.Wait()

	// fn's error first: the cancellation it caused is what stopped the
	// store's stream.
	if failed != nil {
		return failed
	}
	if perr := parent.Err(); perr != nil {
		return perr
	}
	if err != nil {
		return fmt.Errorf("scan journeys: %w", err)
	}
	return nil
}

// stream runs on the store's scanning goroutine: it maps keys to
// customers, holds multi-key customers, and sends batches to the workers.
type stream struct {
	src     *Source
	ctx     context.Context
	work    chan<- *batch
	free    chan *batch
	compact bool
	traits  bool

	// table, indexed by key, folds two maps into one slice: for a key that
	// is not its customer's smallest, the customer (smaller than the
	// key); for a customer's smallest key (which is the customer's id),
	// the customer's largest key (at least the key itself, equal for a
	// customer with one key); 0 for erased or unknown keys.
	table    []uint32
	tablePtr *[]uint32
	started  bool
	unknown  int

	held  map[uint32]*heldCustomer
	order heldHeap
	cur   *batch

	// Codes are looked up in the Source's dictionaries once per name and
	// scan, not once per event: the dictionaries take a lock.
	acts  map[string]uint32
	chans map[string]uint16
	perm  []int
}

// heldCustomer is a customer with several keys, until the scan has read
// them all: the runs of events (event path) or of columns (compact path).
type heldCustomer struct {
	customer uint32
	last     uint32
	released bool
	runs     [][]event.Event
	times    []int64
	seqs     []uint64
	acts     []uint32
	chans    []uint16
	idents   []identified
}

// identified is an identify call's traits, placed in its journey.
type identified struct {
	time   int64
	seq    uint64
	traits map[string]any
}

// heldHeap orders held customers by their largest key: once the scan
// passes it, the customer has been read whole.
type heldHeap []*heldCustomer

func (h heldHeap) Len() int { return len(h) }
func (h heldHeap) Less(i, j int) bool {
	return h[i].last < h[j].last || h[i].last == h[j].last && h[i].customer < h[j].customer
}
func (h heldHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *heldHeap) Push(x any)   { *h = append(*h, x.(*heldCustomer)) }
func (h *heldHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// start takes the picture of the graph. It runs at the first key, after
// the store has taken its snapshot: the ingest layer changes the graph
// before it appends the events stitched to it, so every key in the
// snapshot is in this later picture.
func (st *stream) start() {
	st.started = true
	g := st.src.graph()
	if p, ok := st.src.tables.Get().(*[]uint32); ok {
		st.tablePtr = p
	} else {
		st.tablePtr = new([]uint32)
	}
	t := g.CustomerTable(*st.tablePtr)
	for k := range t {
		if c := t[k]; c != 0 && int(c) != k {
			t[c] = uint32(k) // keys ascend: the last write is the largest
		}
	}
	st.table = t
	st.held = map[uint32]*heldCustomer{}
}

func (st *stream) releaseTable() {
	if st.tablePtr != nil {
		*st.tablePtr = st.table[:0]
		st.src.tables.Put(st.tablePtr)
		st.table, st.tablePtr = nil, nil
	}
}

// key is the store's callback, once per key in ascending order. On the
// compact path evs is reused after it returns.
func (st *stream) key(key uint64, evs []event.Event) error {
	if !st.started {
		st.start()
	}
	// Customers whose last key is behind this one are whole.
	for len(st.order) > 0 && uint64(st.order[0].last) < key {
		if err := st.release(heap.Pop(&st.order).(*heldCustomer)); err != nil {
			return err
		}
	}
	if key >= uint64(len(st.table)) {
		// Cannot happen when the store and the graph belong together.
		if st.unknown == 0 {
			st.src.log.Warn("journeys: the event store has a key the identity graph does not know; its events are left out", "key", key)
		}
		st.unknown++
		return nil
	}
	t := uint64(st.table[key])
	var h *heldCustomer
	switch {
	case t == 0: // erased, or being erased
		return nil
	case t == key:
		return st.emitKey(key, evs)
	case t > key: // the customer's first key; more follow
		h = &heldCustomer{customer: uint32(key), last: uint32(t)}
		st.held[h.customer] = h
		heap.Push(&st.order, h)
	default: // a later key of customer t
		h = st.held[uint32(t)]
		if h == nil {
			// The customer's first key has no events.
			h = &heldCustomer{customer: uint32(t), last: st.table[t]}
			st.held[h.customer] = h
			heap.Push(&st.order, h)
		}
	}
	if st.compact {
		for i := range evs {
			e := &evs[i]
			h.times = append(h.times, e.Timestamp.UnixNano())
			h.seqs = append(h.seqs, e.Seq)
			h.acts = append(h.acts, st.actCode(e))
			h.chans = append(h.chans, st.chanCode(e.Channel))
			if st.traits && e.Type == event.Identify && len(e.Traits) > 0 {
				h.idents = append(h.idents, identified{e.Timestamp.UnixNano(), e.Seq, e.Traits})
			}
		}
	} else {
		h.runs = append(h.runs, evs)
	}
	if key == uint64(h.last) {
		// It stays in the heap, marked, until the scan passes it.
		return st.release(h)
	}
	return nil
}

func (st *stream) actCode(e *event.Event) uint32 {
	name := e.Activity()
	a, ok := st.acts[name]
	if !ok {
		a = st.src.acts.Code(name)
		st.acts[name] = a
	}
	return a
}

// maxChannels bounds channel codes to their uint16, as the Index does:
// names past it share the last code.
const maxChannels = 1<<16 - 1

func (st *stream) chanCode(name string) uint16 {
	c, ok := st.chans[name]
	if !ok {
		c = uint16(min(st.src.chans.Code(name), maxChannels))
		st.chans[name] = c
	}
	return c
}

func (st *stream) batch() *batch {
	if st.cur == nil {
		select {
		case st.cur = <-st.free:
		default:
			st.cur = &batch{units: make([]unit, 0, batchUnits)}
		}
	}
	return st.cur
}

// emitKey hands on a customer with one key.
func (st *stream) emitKey(key uint64, evs []event.Event) error {
	b := st.batch()
	if !st.compact {
		b.units = append(b.units, unit{customer: key, evs: evs})
		return st.added(b, len(evs))
	}
	off := len(b.times)
	for i := range evs {
		e := &evs[i]
		b.times = append(b.times, e.Timestamp.UnixNano())
		b.acts = append(b.acts, st.actCode(e))
		b.chans = append(b.chans, st.chanCode(e.Channel))
	}
	u := unit{customer: key, off: off, n: len(evs)}
	if st.traits {
		for i := range evs {
			u.traits = mergeTraits(u.traits, &evs[i])
		}
	}
	b.units = append(b.units, u)
	return st.added(b, len(evs))
}

// release hands on a held customer, its keys merged.
func (st *stream) release(h *heldCustomer) error {
	if h.released {
		return nil
	}
	h.released = true
	delete(st.held, h.customer)
	b := st.batch()
	if !st.compact {
		u := unit{customer: uint64(h.customer), runs: h.runs}
		n := 0
		for _, r := range h.runs {
			n += len(r)
		}
		if len(h.runs) == 1 {
			u.evs, u.runs = h.runs[0], nil
		}
		h.runs = nil
		b.units = append(b.units, u)
		return st.added(b, n)
	}
	// Seq is unique, so the order is total.
	n := len(h.times)
	perm := st.perm[:0]
	for i := range n {
		perm = append(perm, i)
	}
	slices.SortFunc(perm, func(x, y int) int {
		if c := cmp.Compare(h.times[x], h.times[y]); c != 0 {
			return c
		}
		return cmp.Compare(h.seqs[x], h.seqs[y])
	})
	off := len(b.times)
	for _, i := range perm {
		b.times = append(b.times, h.times[i])
		b.acts = append(b.acts, h.acts[i])
		b.chans = append(b.chans, h.chans[i])
	}
	st.perm = perm
	u := unit{customer: uint64(h.customer), off: off, n: n}
	if len(h.idents) > 0 {
		slices.SortFunc(h.idents, func(x, y identified) int {
			if c := cmp.Compare(x.time, y.time); c != 0 {
				return c
			}
			return cmp.Compare(x.seq, y.seq)
		})
		u.traits = map[string]any{}
		for _, id := range h.idents {
			maps.Copy(u.traits, id.traits)
		}
	}
	h.times, h.seqs, h.acts, h.chans, h.idents = nil, nil, nil, nil, nil
	b.units = append(b.units, u)
	return st.added(b, n)
}

func (st *stream) added(b *batch, events int) error {
	b.events += events
	if len(b.units) >= batchUnits || b.events >= batchEvents {
		return st.send()
	}
	return nil
}

func (st *stream) send() error {
	b := st.cur
	st.cur = nil
	select {
	case st.work <- b:
		return nil
	case <-st.ctx.Done():
		return st.ctx.Err()
	}
}

// finish hands on every customer still held and the last batch.
func (st *stream) finish() error {
	for len(st.order) > 0 {
		if err := st.release(heap.Pop(&st.order).(*heldCustomer)); err != nil {
			return err
		}
	}
	if st.cur != nil && len(st.cur.units) > 0 {
		return st.send()
	}
	return nil
}

// worker calls fn with the journeys of batches, on one part.
type worker struct {
	src      *Source
	need     analytics.Need
	part     int
	compact  bool
	filter   bool
	from, to int64
	j        analytics.Journey
	merged   []event.Event
	acts     map[string]uint32
	chans    map[string]uint16
}

func newWorker(s *Source, need analytics.Need, part int) *worker {
	w := &worker{src: s, need: need, part: part, acts: map[string]uint32{}, chans: map[string]uint16{},
		from: -1 << 63, to: 1<<63 - 1, compact: !need.Events}
	if !need.From.IsZero() {
		w.from, w.filter = need.From.UnixNano(), true
	}
	if !need.To.IsZero() {
		w.to, w.filter = need.To.UnixNano(), true
	}
	return w
}

func (w *worker) inRange(times []int64) bool {
	if !w.filter {
		return true
	}
	for _, t := range times {
		if t >= w.from && t < w.to {
			return true
		}
	}
	return false
}

func (w *worker) run(ctx context.Context, b *batch, fn func(int, *analytics.Journey) error, stop *atomic.Bool) error {
	for i := range b.units {
		if stop.Load() || i%64 == 63 && ctx.Err() != nil {
			return nil
		}
		u := &b.units[i]
		if w.compact {
			// Compact: views into the batch, which fn must not change.
			lo, hi := u.off, u.off+u.n
			times := b.times[lo:hi:hi]
			if !w.inRange(times) {
				continue
			}
			w.j = analytics.Journey{Customer: u.customer, Times: times, Acts: b.acts[lo:hi:hi], Chans: b.chans[lo:hi:hi], Traits: u.traits}
		} else {
			evs := u.evs
			if u.runs != nil {
				w.merged = w.merged[:0]
				for _, r := range u.runs {
					w.merged = append(w.merged, r...)
				}
				// Seq is unique, so the order is total.
				slices.SortFunc(w.merged, compareEvents)
				evs = w.merged
			}
			if !w.convert(u.customer, evs) {
				continue
			}
		}
		if err := fn(w.part, &w.j); err != nil {
			return err
		}
	}
	return nil
}

// convert fills the worker's journey from events; it reports false when
// the need's range asks to skip it.
func (w *worker) convert(customer uint64, evs []event.Event) bool {
	j := &w.j
	times := j.Times[:0]
	for i := range evs {
		times = append(times, evs[i].Timestamp.UnixNano())
	}
	j.Times = times
	if !w.inRange(times) {
		return false
	}
	acts, chans := j.Acts[:0], j.Chans[:0]
	for i := range evs {
		e := &evs[i]
		name := e.Activity()
		a, ok := w.acts[name]
		if !ok {
			a = w.src.acts.Code(name)
			w.acts[name] = a
		}
		c, ok := w.chans[e.Channel]
		if !ok {
			c = uint16(min(w.src.chans.Code(e.Channel), maxChannels))
			w.chans[e.Channel] = c
		}
		acts = append(acts, a)
		chans = append(chans, c)
	}
	j.Customer, j.Acts, j.Chans = customer, acts, chans
	j.Events, j.Traits = nil, nil
	if w.need.Events {
		j.Events = evs
	}
	if w.need.Traits {
		for i := range evs {
			j.Traits = mergeTraits(j.Traits, &evs[i])
		}
	}
	return true
}

// mergeTraits adds an identify call's traits to a customer's, which it
// makes on the first: a new map per journey, since an Index keeps it.
func mergeTraits(traits map[string]any, e *event.Event) map[string]any {
	if e.Type != event.Identify || len(e.Traits) == 0 {
		return traits
	}
	if traits == nil {
		traits = make(map[string]any, len(e.Traits))
	}
	maps.Copy(traits, e.Traits)
	return traits
}

// compareEvents orders a journey: by time, then arrival.
func compareEvents(a, b event.Event) int {
	if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
		return c
	}
	return cmp.Compare(a.Seq, b.Seq)
}
