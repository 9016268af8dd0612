package analytics

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"
)

// VariantsQuery asks for the variants of the journeys in a range: the
// distinct sequences of activities, with how many journeys follow each
// (pm4py's get_variants), and the distribution of journey durations.
type VariantsQuery struct {
	// From and To bound the events counted to [From, To); events outside
	// are dropped first, so a variant is the sequence of a journey's
	// events inside the range. Either may be zero (open).
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// Activities, when not empty, keeps only events of these activities
	// (at most 1,000 names), as DFGQuery.Activities does.
	Activities []string `json:"activities,omitempty"`
	// Limit is how many variants to list, the most frequent: default 100,
	// at most 10,000. Total counts them all.
	Limit int `json:"limit,omitempty"`
}

// VariantsResult lists the variants, most frequent first.
type VariantsResult struct {
	// Total is the number of distinct variants, listed or not.
	Total int `json:"total"`
	// Customers is the number of journeys with at least one event counted.
	Customers int `json:"customers"`
	// Variants are the most frequent variants, at most Limit of them: by
	// customers, most first, ties by their event sequences compared name
	// by name (a sequence before its own extensions).
	Variants []Variant `json:"variants"`
	// Durations describe the durations of all counted journeys, from the
	// first event counted to the last, in seconds (0 for a journey of one
	// event); null when no journey is counted.
	Durations *TimeStats `json:"durations"`
}

// Variant is one distinct sequence of activities.
type Variant struct {
	// Events are the activities (event names) in journey order.
	Events []string `json:"events"`
	// Customers is the number of journeys that follow exactly this
	// sequence.
	Customers int `json:"customers"`
	// Share is Customers over all journeys counted (VariantsResult.Customers).
	Share float64 `json:"share"`
	// MedianSeconds and P90Seconds describe the durations of this
	// variant's journeys (last event's time minus first's), numpy-style.
	MedianSeconds float64 `json:"medianSeconds"`
	P90Seconds    float64 `json:"p90Seconds"`
}

const (
	defaultVariants = 100
	maxVariants     = 10000
)

func (q VariantsQuery) validate(src Source) error {
	var p problems
	validateProcessFilter(&p, q.From, q.To, q.Activities, src.Activities())
	if q.Limit < 0 || q.Limit > maxVariants {
		p.add("limit", "must be between 1 and %d (0 for the default, %d); got %d", maxVariants, defaultVariants, q.Limit)
	}
	return invalid("the variants query is not valid", p.errs)
}

type variantAcc struct {
	acts      []uint32
	customers int
	nanos     []int64
}

// variantsPart is one Scan part's accumulator. Variants are keyed by their
// activity codes as uvarints, built in a reused buffer, so that a journey
// of a known variant costs one map lookup and no allocation.
type variantsPart struct {
	byKey map[string]*variantAcc
	key   []byte
	nanos []int64 // every journey's duration
}

// Variants counts the variants of the journeys in src. With concept:name
// as the activity they equal pm4py's variants of the same log (events in
// time order, ties in file order).
func Variants(ctx context.Context, src Source, q VariantsQuery) (VariantsResult, error) {
	if err := q.validate(src); err != nil {
		return VariantsResult{}, err
	}
	limit := q.Limit
	if limit == 0 {
		limit = defaultVariants
	}
	f := newProcessFilter(q.From, q.To, q.Activities, src.Activities())
	parts := make([]*variantsPart, src.Parts())
	for i := range parts {
		parts[i] = &variantsPart{byKey: map[string]*variantAcc{}}
	}
	err := src.Scan(ctx, Need{From: q.From, To: q.To}, func(part int, j *Journey) error {
		p := parts[part]
		lo, hi := f.span(j)
		p.key = p.key[:0]
		first, last := -1, -1
		for i := lo; i < hi; i++ {
			if !f.kept(j.Acts[i]) {
				continue
			}
			if first < 0 {
				first = i
			}
			last = i
			p.key = binary.AppendUvarint(p.key, uint64(j.Acts[i]))
		}
		if first < 0 {
			return nil
		}
		d := j.Times[last] - j.Times[first]
		v, ok := p.byKey[string(p.key)]
		if !ok {
			v = &variantAcc{}
			for i := lo; i < hi; i++ {
				if f.kept(j.Acts[i]) {
					v.acts = append(v.acts, j.Acts[i])
				}
			}
			p.byKey[string(p.key)] = v
		}
		v.customers++
		v.nanos = append(v.nanos, d)
		p.nanos = append(p.nanos, d)
		return nil
	})
	if err != nil {
		return VariantsResult{}, fmt.Errorf("variants: %w", err)
	}
	return mergeVariants(parts, src.Activities(), limit), nil
}

func mergeVariants(parts []*variantsPart, acts *Dict, limit int) VariantsResult {
	all := map[string]*variantAcc{}
	var nanos []int64
	for _, p := range parts {
		nanos = append(nanos, p.nanos...)
		for k, v := range p.byKey {
			m, ok := all[k]
			if !ok {
				all[k] = v
				continue
			}
			m.customers += v.customers
			m.nanos = append(m.nanos, v.nanos...)
		}
	}
	// Every code met during the scan is in this snapshot. Sequences are
	// compared through each code's rank in name order, which orders them
	// as comparing their names would, without reading a string.
	names := acts.Names()
	order := make([]uint32, len(names))
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(a, b uint32) int { return strings.Compare(names[a], names[b]) })
	rank := make([]int, len(names))
	for r, c := range order {
		rank[c] = r
	}
	list := make([]*variantAcc, 0, len(all))
	for _, v := range all {
		list = append(list, v)
	}
	slices.SortFunc(list, func(a, b *variantAcc) int {
		if c := cmp.Compare(b.customers, a.customers); c != 0 {
			return c
		}
		return slices.CompareFunc(a.acts, b.acts, func(x, y uint32) int { return cmp.Compare(rank[x], rank[y]) })
	})
	res := VariantsResult{Total: len(list), Customers: len(nanos), Variants: []Variant{}}
	for _, v := range list[:min(limit, len(list))] {
		events := make([]string, len(v.acts))
		for i, a := range v.acts {
			events[i] = names[a]
		}
		med, p90 := medianP90(v.nanos)
		res.Variants = append(res.Variants, Variant{
			Events: events, Customers: v.customers,
			Share:         float64(v.customers) / float64(res.Customers),
			MedianSeconds: med, P90Seconds: p90,
		})
	}
	res.Durations = journeyDurations(nanos)
	return res
}

// journeyDurations describes journey durations given in nanoseconds, in
// the shape of a funnel's times (quantiles and the same histogram bins),
// so that a client draws both alike; nil when there are none.
func journeyDurations(nanos []int64) *TimeStats {
	secs := make([]float64, len(nanos))
	for i, n := range nanos {
		secs[i] = seconds(n)
	}
	return summarise(secs)
}
