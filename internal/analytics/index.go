package analytics

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"runtime"
	"slices"
	"sync"

	"github.com/trekhq/trek/internal/event"
)

// Index is an in-memory Source: every journey's compact columns in flat
// arrays, about 15 bytes an event. Queries over an Index run at memory
// speed on every core, which is what makes a funnel over ten million
// events answer in well under a second; the server keeps one per
// workspace and rebuilds it when the store has moved on.
//
// An Index is built once with an IndexBuilder and is then read-only and
// safe for concurrent queries.
type Index struct {
	acts, chans *Dict
	// segs hold the journeys: one per part of the Source it was built
	// from, kept as built rather than concatenated, so a build never holds
	// two copies of the arrays.
	segs                   []*segment
	customers, events      int
	keptEvents, keptTraits bool
	context                bool // the events kept have their context
	parts                  int
}

// segment is a run of journeys in flat arrays.
type segment struct {
	customers []uint64
	offsets   []int // journey i is [offsets[i], offsets[i+1])
	times     []int64
	actCodes  []uint32
	chanCodes []uint16
	// props and ctx hold each event's properties and context as JSON,
	// when kept: a tenth of the memory of the decoded maps, decoded only
	// for the events a query looks into.
	props, ctx [][]byte
	traits     []map[string]any // when kept; per customer
}

func newSegment() *segment { return &segment{offsets: []int{0}} }

// keep appends one event's properties (and context, with ctx) as JSON.
// Maps that came from JSON always encode; a value that would not is kept
// as nothing rather than failing the whole index.
func (g *segment) keep(props, ctx map[string]any, withCtx bool) {
	g.props = append(g.props, encodeMap(props))
	if withCtx {
		g.ctx = append(g.ctx, encodeMap(ctx))
	}
}

func encodeMap(m map[string]any) []byte {
	if len(m) == 0 {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	return b
}

// clip copies the arrays to their exact length: append leaves up to
// twice the room, which on a hundred million events is gigabytes.
func (g *segment) clip() {
	g.customers = slices.Clone(g.customers)
	g.offsets = slices.Clone(g.offsets)
	g.times = slices.Clone(g.times)
	g.actCodes = slices.Clone(g.actCodes)
	g.chanCodes = slices.Clone(g.chanCodes)
	if g.props != nil {
		g.props = slices.Clone(g.props)
	}
	if g.ctx != nil {
		g.ctx = slices.Clone(g.ctx)
	}
	if g.traits != nil {
		g.traits = slices.Clone(g.traits)
	}
}

func (g *segment) bytes() int64 {
	return int64(cap(g.customers))*8 + int64(cap(g.offsets))*8 + int64(cap(g.times))*8 +
		int64(cap(g.actCodes))*4 + int64(cap(g.chanCodes))*2
}

// ErrNeedsEvents and ErrNeedsTraits are what an Index built without
// events or traits answers a query that needs them: the caller then runs
// the query on a Source that has them (the store).
var (
	ErrNeedsEvents = errors.New("analytics: the query needs events' properties or context, which this index does not keep")
	ErrNeedsTraits = errors.New("analytics: the query needs customers' traits, which this index does not keep")
)

// IndexOptions says what an Index keeps beyond the compact columns.
type IndexOptions struct {
	// KeepEvents keeps each event's properties (as JSON, decoded when a
	// query looks into the event), so that queries filtering on them run
	// on the Index: about 150 bytes an event on generated data. Without
	// it such queries go to the store.
	KeepEvents bool
	// KeepContext keeps the events' context too (with KeepEvents): about
	// twice the properties' size.
	KeepContext bool
	// KeepTraits keeps each customer's traits for trait filters and
	// breakdowns.
	KeepTraits bool
	// Parts is the number of goroutines a Scan uses; 0 means GOMAXPROCS.
	Parts int
}

// IndexBuilder collects journeys into an Index.
type IndexBuilder struct {
	opts IndexOptions
	ix   *Index
	seg  *segment
}

// NewIndexBuilder starts an empty Index.
func NewIndexBuilder(opts IndexOptions) *IndexBuilder {
	return &IndexBuilder{opts: opts, ix: &Index{acts: NewDict(), chans: NewDict()}, seg: newSegment()}
}

// maxChannels bounds the channel dictionary to its uint16 codes; names
// past it (only malformed imports have so many) share the last code.
const maxChannels = 1<<16 - 1

// Add appends one customer's events. They are put in journey order (by
// time, ties by Seq, then by their order here), so a caller merging
// several keys of one customer may pass them unsorted.
func (b *IndexBuilder) Add(customer uint64, events []event.Event) {
	ix, g := b.ix, b.seg
	sorted := slices.IsSortedFunc(events, compareEvents)
	if !sorted {
		events = slices.Clone(events)
		slices.SortStableFunc(events, compareEvents)
	}
	g.customers = append(g.customers, customer)
	var traits map[string]any
	for i := range events {
		e := &events[i]
		g.times = append(g.times, e.Timestamp.UnixNano())
		g.actCodes = append(g.actCodes, ix.acts.Code(e.Activity()))
		g.chanCodes = append(g.chanCodes, channelCode(ix.chans, e.Channel))
		if b.opts.KeepEvents {
			g.keep(e.Properties, e.Context, b.opts.KeepContext)
		}
		if b.opts.KeepTraits && len(e.Traits) > 0 && e.Type == event.Identify {
			if traits == nil {
				traits = map[string]any{}
			}
			maps.Copy(traits, e.Traits)
		}
	}
	if b.opts.KeepTraits {
		g.traits = append(g.traits, traits)
	}
	g.offsets = append(g.offsets, len(g.times))
}

func channelCode(d *Dict, name string) uint16 {
	if c, ok := d.Lookup(name); ok {
		return uint16(min(c, maxChannels))
	}
	return uint16(min(d.Code(name), maxChannels))
}

// compareEvents orders events as a journey: by time, then arrival.
func compareEvents(a, b event.Event) int {
	if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
		return c
	}
	return cmp.Compare(a.Seq, b.Seq)
}

// Build returns the Index; the builder must not be used after.
func (b *IndexBuilder) Build() *Index {
	ix := b.ix
	b.ix = nil
	b.seg.clip()
	ix.finish([]*segment{b.seg}, b.opts, b.opts.KeepEvents && b.opts.KeepContext)
	return ix
}

// finish sets the Index's segments and totals.
func (ix *Index) finish(segs []*segment, opts IndexOptions, context bool) {
	ix.segs = segs
	for _, g := range segs {
		ix.customers += len(g.customers)
		ix.events += len(g.times)
	}
	ix.keptEvents, ix.keptTraits, ix.context = opts.KeepEvents, opts.KeepTraits, context
	ix.parts = opts.Parts
	if ix.parts <= 0 {
		ix.parts = runtime.GOMAXPROCS(0)
	}
}

// BuildIndex reads every journey of src into an Index. Each of the
// source's parts fills a segment of its own, so the build takes no lock
// and never copies the whole Index; results do not depend on how the
// journeys were split, as every query aggregates or sorts.
func BuildIndex(ctx context.Context, src Source, opts IndexOptions) (*Index, error) {
	segs := make([]*segment, src.Parts())
	for i := range segs {
		segs[i] = newSegment()
	}
	need := Need{Events: opts.KeepEvents, Context: opts.KeepEvents && opts.KeepContext, Traits: opts.KeepTraits}
	err := src.Scan(ctx, need, func(part int, j *Journey) error {
		g := segs[part]
		g.customers = append(g.customers, j.Customer)
		g.times = append(g.times, j.Times...)
		g.actCodes = append(g.actCodes, j.Acts...)
		g.chanCodes = append(g.chanCodes, j.Chans...)
		if opts.KeepEvents {
			for i := range j.Times {
				var ctx map[string]any
				if need.Context {
					ctx = j.Context(i)
				}
				g.keep(j.Properties(i), ctx, need.Context)
			}
		}
		if opts.KeepTraits {
			g.traits = append(g.traits, j.Traits)
		}
		g.offsets = append(g.offsets, len(g.times))
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, g := range segs {
		g.clip()
	}
	ix := &Index{acts: src.Activities(), chans: src.Channels()}
	ix.finish(segs, opts, need.Context)
	return ix, nil
}

// Activities implements Source.
func (ix *Index) Activities() *Dict { return ix.acts }

// Channels implements Source.
func (ix *Index) Channels() *Dict { return ix.chans }

// Parts implements Source.
func (ix *Index) Parts() int { return ix.parts }

// Customers is the number of journeys.
func (ix *Index) Customers() int { return ix.customers }

// Events is the number of events.
func (ix *Index) Events() int { return ix.events }

// Bytes is the memory the compact columns take.
func (ix *Index) Bytes() int64 {
	var n int64
	for _, g := range ix.segs {
		n += g.bytes()
	}
	return n
}

// HasEvents reports whether the Index kept the events themselves.
func (ix *Index) HasEvents() bool { return ix.keptEvents || ix.events == 0 }

// HasContext reports whether the events kept have their context.
func (ix *Index) HasContext() bool { return ix.context || ix.events == 0 }

// HasTraits reports whether the Index kept customers' traits.
func (ix *Index) HasTraits() bool { return ix.keptTraits || ix.customers == 0 }

// Scan implements Source. The journeys handed to fn are views into the
// Index's arrays: fn must not change them.
func (ix *Index) Scan(ctx context.Context, need Need, fn func(part int, j *Journey) error) error {
	if (need.Events || need.Context) && !ix.HasEvents() || need.Context && !ix.HasContext() {
		return ErrNeedsEvents
	}
	if need.Traits && !ix.HasTraits() {
		return ErrNeedsTraits
	}
	n := ix.customers
	parts := min(ix.parts, max(n, 1))
	from, to := Range{need.From, need.To}.fromNanos(), Range{need.From, need.To}.toNanos()
	filter := !need.From.IsZero() || !need.To.IsZero()
	var wg sync.WaitGroup
	errs := make([]error, parts)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for p := range parts {
		// Part p takes customers [lo, hi) of the segments laid end to end.
		lo, hi := n*p/parts, n*(p+1)/parts
		wg.Go(func() {
			var j Journey
			seg, base := 0, 0 // segment of customer i, and its first customer
			for i := lo; i < hi; i++ {
				for i-base >= len(ix.segs[seg].customers) {
					base += len(ix.segs[seg].customers)
					seg++
				}
				if (i-lo)%4096 == 0 && ctx.Err() != nil {
					errs[p] = ctx.Err()
					return
				}
				g, c := ix.segs[seg], i-base
				a, b := g.offsets[c], g.offsets[c+1]
				times := g.times[a:b:b]
				if filter {
					k, _ := slices.BinarySearch(times, from)
					if k == len(times) || times[k] >= to {
						continue
					}
				}
				j = Journey{Customer: g.customers[c], Times: times, Acts: g.actCodes[a:b:b], Chans: g.chanCodes[a:b:b]}
				if (need.Events || need.Context) && g.props != nil {
					j.rawProps = g.props[a:b:b]
					if g.ctx != nil {
						j.rawCtx = g.ctx[a:b:b]
					}
				}
				if need.Traits && g.traits != nil {
					j.Traits = g.traits[c]
				}
				if err := fn(p, &j); err != nil {
					errs[p] = err
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && err != context.Canceled {
			return err
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
