// Package analytics computes journey analytics: funnels, trends, paths,
// the directly-follows graph and variants, retention and conformance. It
// follows DESIGN.md's "Semantics" section to the letter, so that its
// numbers agree with the peers it names (ClickHouse windowFunnel, pm4py).
//
// The engine reads journeys through the Source interface and knows nothing
// of where they are kept: the embedded event store (through an adapter in
// internal/journeys), an in-memory Index, or later a ClickHouse cluster.
// A journey arrives in a compact columnar form (times, activity codes,
// channel codes) so that the hot loops touch a few bytes per event; full
// events are attached only when a query filters on properties or traits.
package analytics

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/trekhq/trek/internal/event"
)

// Journey is one customer's events in journey order: by time, ties in
// arrival order. The slices have one entry per event. A Source reuses a
// Journey's buffers between calls, so a query must not keep one.
type Journey struct {
	// Customer is the stitched customer's id (trek's "cus_N" without
	// the prefix).
	Customer uint64
	// Times are event times in Unix nanoseconds, non-decreasing.
	Times []int64
	// Acts are activity codes (event.Event.Activity) in the Source's
	// Activities dictionary.
	Acts []uint32
	// Chans are channel codes in the Source's Channels dictionary.
	Chans []uint16
	// Events holds the events themselves when the query's Need asked for
	// properties, context or traits; nil otherwise.
	Events []event.Event
	// Traits are the customer's traits (from identify calls, later ones
	// winning) when Need.Traits was asked for.
	Traits map[string]any

	// rawProps and rawCtx are what an Index keeps instead of Events: each
	// event's properties and context as JSON, decoded by Properties and
	// Context when a query looks into that event.
	rawProps, rawCtx [][]byte
	decoded          [2]decodedMap
}

// decodedMap remembers the last event whose JSON was decoded, since a
// matcher with several filters asks for the same event's map in a row.
type decodedMap struct {
	i int // event index + 1; 0 when empty
	m map[string]any
}

// Properties returns event i's properties, nil when the Journey has none
// (the Need did not ask for events).
func (j *Journey) Properties(i int) map[string]any {
	if j.Events != nil {
		return j.Events[i].Properties
	}
	return j.decode(0, j.rawProps, i)
}

// Context returns event i's context, nil when the Journey has none.
func (j *Journey) Context(i int) map[string]any {
	if j.Events != nil {
		return j.Events[i].Context
	}
	return j.decode(1, j.rawCtx, i)
}

func (j *Journey) decode(slot int, raw [][]byte, i int) map[string]any {
	if i >= len(raw) || len(raw[i]) == 0 {
		return nil
	}
	c := &j.decoded[slot]
	if c.i == i+1 {
		return c.m
	}
	// Numbers stay json.Number, as the event store gives them, so that
	// filters compare them the same way on either source.
	dec := json.NewDecoder(bytes.NewReader(raw[i]))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		m = nil
	}
	c.i, c.m = i+1, m
	return m
}

// Len is the number of events.
func (j *Journey) Len() int { return len(j.Times) }

// Need says what a query needs of each journey beyond the compact columns.
type Need struct {
	// Events asks for the events themselves (Journey.Events), with their
	// properties; their context only when Context is set too.
	Events bool
	// Context asks for the events' context as well (it implies Events).
	// Contexts are most of an event's size, so a query that reads none
	// lets an Index that dropped them answer.
	Context bool
	// Traits asks for the customer's traits (Journey.Traits).
	Traits bool
	// From and To, when not zero, let a Source skip journeys that have no
	// event in [From, To). A journey that has one is given whole.
	From, To time.Time
}

// Source yields journeys. Scan calls fn once per customer, from up to
// Parts() goroutines at once; part (0 ≤ part < Parts()) says which, so a
// query keeps one accumulator per part and merges them at the end without
// locks. Scan stops at fn's first error or when ctx is done, and returns
// that error.
type Source interface {
	Scan(ctx context.Context, need Need, fn func(part int, j *Journey) error) error
	Parts() int
	// Activities and Channels number the activity and channel names.
	Activities() *Dict
	Channels() *Dict
}

// Dict numbers the activity (or channel) names of a Source. Codes are
// dense, from 0, and never change once given; a streaming Source adds
// names as it meets them, so Code is safe for concurrent use.
type Dict struct {
	mu    sync.RWMutex
	names []string
	codes map[string]uint32
}

// NewDict returns an empty dictionary.
func NewDict() *Dict { return &Dict{codes: map[string]uint32{}} }

// Code returns the code of name, giving it the next one if it has none.
func (d *Dict) Code(name string) uint32 {
	d.mu.RLock()
	c, ok := d.codes[name]
	d.mu.RUnlock()
	if ok {
		return c
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.codes[name]; ok {
		return c
	}
	c = uint32(len(d.names))
	d.names = append(d.names, name)
	d.codes[name] = c
	return c
}

// Lookup returns the code of name without adding it.
func (d *Dict) Lookup(name string) (uint32, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	c, ok := d.codes[name]
	return c, ok
}

// Name returns the name of code c ("" when c has none).
func (d *Dict) Name(c uint32) string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if int(c) < len(d.names) {
		return d.names[c]
	}
	return ""
}

// Len is the number of names.
func (d *Dict) Len() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.names)
}

// Names returns a copy of every name, indexed by code.
func (d *Dict) Names() []string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return append([]string(nil), d.names...)
}

// Range is a query's time range [From, To). A zero From or To leaves that
// side open.
type Range struct {
	From, To time.Time
}

func (r Range) fromNanos() int64 {
	if r.From.IsZero() {
		return minNanos
	}
	return r.From.UnixNano()
}

func (r Range) toNanos() int64 {
	if r.To.IsZero() {
		return maxNanos
	}
	return r.To.UnixNano()
}

const (
	minNanos = -1 << 63
	maxNanos = 1<<63 - 1
)

// Times a query may name: well inside what Unix nanoseconds hold (1678 to
// 2262), with room for a window after and a previous range before.
var (
	earliestQueryTime = time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC)
	latestQueryTime   = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// checkRange reports a range's problems: a time outside the years trek
// can reckon with, or to not after from.
func checkRange(p *problems, from, to time.Time) {
	for _, f := range []struct {
		path string
		t    time.Time
	}{{"from", from}, {"to", to}} {
		if !f.t.IsZero() && (f.t.Before(earliestQueryTime) || f.t.After(latestQueryTime)) {
			p.add(f.path, "must lie between the years 1800 and 2200")
		}
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		p.add("to", "must be after from")
	}
}
