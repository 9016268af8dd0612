package analytics

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/trekhq/trek/internal/event"
)

// Index is an in-memory Source: every journey's compact columns in flat
// arrays, about 14 bytes an event. Queries over an Index run at memory
// speed on every core, which is what makes a funnel over ten million
// events answer in well under a second; the server keeps one per
// workspace and rebuilds it when the store has moved on.
//
// An Index is built once with an IndexBuilder and is then read-only and
// safe for concurrent queries.
type Index struct {
	acts, chans *Dict
	customers   []uint64
	offsets     []int // journey i is [offsets[i], offsets[i+1])
	times       []int64
	actCodes    []uint32
	chanCodes   []uint16
	events      []event.Event    // when built with KeepEvents
	context     bool             // the events kept have their context
	traits      []map[string]any // when built with KeepTraits; per customer
	parts       int
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
	// KeepEvents keeps the events themselves, so that queries filtering
	// on properties or context can run on the Index. It costs the events'
	// full size; the server's index leaves it off and sends such queries
	// to the store.
	KeepEvents bool
	// KeepContext keeps the events' context too (with KeepEvents); it is
	// most of an event's size.
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
}

// NewIndexBuilder starts an empty Index.
func NewIndexBuilder(opts IndexOptions) *IndexBuilder {
	return &IndexBuilder{opts: opts, ix: &Index{acts: NewDict(), chans: NewDict(), offsets: []int{0}}}
}

// maxChannels bounds the channel dictionary to its uint16 codes; names
// past it (only malformed imports have so many) share the last code.
const maxChannels = 1<<16 - 1

// Add appends one customer's events. They are put in journey order (by
// time, ties by Seq, then by their order here), so a caller merging
// several keys of one customer may pass them unsorted.
func (b *IndexBuilder) Add(customer uint64, events []event.Event) {
	ix := b.ix
	sorted := slices.IsSortedFunc(events, compareEvents)
	if !sorted {
		events = slices.Clone(events)
		slices.SortStableFunc(events, compareEvents)
	}
	ix.customers = append(ix.customers, customer)
	var traits map[string]any
	for i := range events {
		e := &events[i]
		ix.times = append(ix.times, e.Timestamp.UnixNano())
		ix.actCodes = append(ix.actCodes, ix.acts.Code(e.Activity()))
		ix.chanCodes = append(ix.chanCodes, channelCode(ix.chans, e.Channel))
		if b.opts.KeepEvents {
			ix.events = append(ix.events, *e)
			if !b.opts.KeepContext {
				ix.events[len(ix.events)-1].Context = nil
			}
		}
		if b.opts.KeepTraits && len(e.Traits) > 0 && (e.Type == event.Identify || e.Type == event.Group) {
			if traits == nil {
				traits = map[string]any{}
			}
			if e.Type == event.Identify {
				maps.Copy(traits, e.Traits)
			}
		}
	}
	if b.opts.KeepTraits {
		ix.traits = append(ix.traits, traits)
	}
	ix.offsets = append(ix.offsets, len(ix.times))
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
	ix.context = b.opts.KeepEvents && b.opts.KeepContext
	ix.parts = b.opts.Parts
	if ix.parts <= 0 {
		ix.parts = runtime.GOMAXPROCS(0)
	}
	return ix
}

// BuildIndex reads every journey of src into an Index.
func BuildIndex(ctx context.Context, src Source, opts IndexOptions) (*Index, error) {
	// Parts scan concurrently; each fills its own builder, and the
	// builders are then concatenated, recoding to the source's codes.
	n := src.Parts()
	parts := make([]*Index, n)
	for i := range parts {
		parts[i] = &Index{offsets: []int{0}}
	}
	need := Need{Events: opts.KeepEvents, Context: opts.KeepEvents && opts.KeepContext, Traits: opts.KeepTraits}
	err := src.Scan(ctx, need, func(part int, j *Journey) error {
		p := parts[part]
		p.customers = append(p.customers, j.Customer)
		p.times = append(p.times, j.Times...)
		p.actCodes = append(p.actCodes, j.Acts...)
		p.chanCodes = append(p.chanCodes, j.Chans...)
		if opts.KeepEvents {
			n := len(p.events)
			p.events = append(p.events, j.Events...)
			if !need.Context {
				for i := n; i < len(p.events); i++ {
					p.events[i].Context = nil
				}
			}
		}
		if opts.KeepTraits {
			p.traits = append(p.traits, j.Traits)
		}
		p.offsets = append(p.offsets, len(p.times))
		return nil
	})
	if err != nil {
		return nil, err
	}
	ix := &Index{acts: src.Activities(), chans: src.Channels(), offsets: []int{0}, parts: opts.Parts, context: need.Context}
	if ix.parts <= 0 {
		ix.parts = runtime.GOMAXPROCS(0)
	}
	// Sorting by customer makes the Index's order, and so every result
	// built from it, independent of how the source split its parts.
	type ref struct{ part, i int }
	var refs []ref
	total := 0
	for pi, p := range parts {
		for i := range p.customers {
			refs = append(refs, ref{pi, i})
		}
		total += len(p.times)
	}
	sort.Slice(refs, func(a, b int) bool {
		return parts[refs[a].part].customers[refs[a].i] < parts[refs[b].part].customers[refs[b].i]
	})
	ix.customers = make([]uint64, 0, len(refs))
	ix.offsets = make([]int, 0, len(refs)+1)
	ix.offsets = append(ix.offsets, 0)
	ix.times = make([]int64, 0, total)
	ix.actCodes = make([]uint32, 0, total)
	ix.chanCodes = make([]uint16, 0, total)
	for _, r := range refs {
		p := parts[r.part]
		lo, hi := p.offsets[r.i], p.offsets[r.i+1]
		ix.customers = append(ix.customers, p.customers[r.i])
		ix.times = append(ix.times, p.times[lo:hi]...)
		ix.actCodes = append(ix.actCodes, p.actCodes[lo:hi]...)
		ix.chanCodes = append(ix.chanCodes, p.chanCodes[lo:hi]...)
		if opts.KeepEvents {
			ix.events = append(ix.events, p.events[lo:hi]...)
		}
		if opts.KeepTraits {
			ix.traits = append(ix.traits, p.traits[r.i])
		}
		ix.offsets = append(ix.offsets, len(ix.times))
	}
	return ix, nil
}

// Activities implements Source.
func (ix *Index) Activities() *Dict { return ix.acts }

// Channels implements Source.
func (ix *Index) Channels() *Dict { return ix.chans }

// Parts implements Source.
func (ix *Index) Parts() int { return ix.parts }

// Customers is the number of journeys.
func (ix *Index) Customers() int { return len(ix.customers) }

// Events is the number of events.
func (ix *Index) Events() int { return len(ix.times) }

// HasEvents reports whether the Index kept the events themselves.
func (ix *Index) HasEvents() bool { return ix.events != nil || len(ix.times) == 0 }

// HasContext reports whether the events kept have their context.
func (ix *Index) HasContext() bool { return ix.context || len(ix.times) == 0 }

// HasTraits reports whether the Index kept customers' traits.
func (ix *Index) HasTraits() bool { return ix.traits != nil || len(ix.customers) == 0 }

// Scan implements Source. The journeys handed to fn are views into the
// Index's arrays: fn must not change them.
func (ix *Index) Scan(ctx context.Context, need Need, fn func(part int, j *Journey) error) error {
	n := len(ix.customers)
	if (need.Events || need.Context) && !ix.HasEvents() || need.Context && !ix.HasContext() {
		return ErrNeedsEvents
	}
	if need.Traits && !ix.HasTraits() {
		return ErrNeedsTraits
	}
	parts := min(ix.parts, max(n, 1))
	from, to := Range{need.From, need.To}.fromNanos(), Range{need.From, need.To}.toNanos()
	filter := !need.From.IsZero() || !need.To.IsZero()
	var wg sync.WaitGroup
	errs := make([]error, parts)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for p := range parts {
		lo, hi := n*p/parts, n*(p+1)/parts
		wg.Go(func() {
			var j Journey
			for i := lo; i < hi; i++ {
				if (i-lo)%4096 == 0 && ctx.Err() != nil {
					errs[p] = ctx.Err()
					return
				}
				a, b := ix.offsets[i], ix.offsets[i+1]
				times := ix.times[a:b:b]
				if filter {
					k, _ := slices.BinarySearch(times, from)
					if k == len(times) || times[k] >= to {
						continue
					}
				}
				j = Journey{Customer: ix.customers[i], Times: times, Acts: ix.actCodes[a:b:b], Chans: ix.chanCodes[a:b:b]}
				if (need.Events || need.Context) && ix.events != nil {
					j.Events = ix.events[a:b:b]
				}
				if need.Traits && ix.traits != nil {
					j.Traits = ix.traits[i]
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
