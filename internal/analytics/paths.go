package analytics

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PathsQuery asks what customers do after (or before) an event: the most
// frequent next (previous) events, step by step, as a Sankey diagram.
//
// Each customer counts once. The anchor is the customer's first event in
// the range that Anchor matches; the path is the events that follow it
// (Direction "forward") or precede it ("backward"), inside the range, up
// to Steps of them. Customers with no matching event in the range are not
// counted. Without an anchor, paths start where journeys start (forward)
// or end where they end (backward).
type PathsQuery struct {
	// Anchor says which event the paths start from (or lead to): an event
	// name, or several, optionally with a channel and property or trait
	// filters, as a funnel step. Absent or empty: no anchor.
	Anchor *Matcher `json:"anchor,omitempty"`
	// Direction is "forward" (the default: the events after the anchor)
	// or "backward" (the events before it).
	Direction string `json:"direction,omitempty"`
	// Steps is how many events to follow from the anchor: 1 to 10,
	// default 5.
	Steps int `json:"steps,omitempty"`
	// TopN keeps, at each step, the N events reached by most customers
	// (ties by name); the rest are merged into one "(other)" node. 1 to
	// 100, default 10.
	TopN int `json:"topN,omitempty"`
	// CollapseRepeats merges repeated identical consecutive events into
	// one (A A B counts as A B), so that a reload or a retry does not
	// fill the diagram.
	CollapseRepeats bool `json:"collapseRepeats,omitempty"`
	// From and To bound the events considered to [From, To): the anchor
	// and every step are events in the range. Either may be zero (open).
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
}

// PathsResult is a Sankey diagram: nodes per step and the links between
// them, links always pointing forward in time.
type PathsResult struct {
	// Customers is the number of customers with an anchor: the customers
	// of step 0.
	Customers int `json:"customers"`
	// Nodes are ordered by step, then events before "(other)" before the
	// journey boundary, then by customers (most first), then by name.
	Nodes []PathNode `json:"nodes"`
	// Links are ordered by their source's step, then customers (most
	// first), then source and target ids.
	Links []PathLink `json:"links"`
}

// PathNode is one event at one step.
type PathNode struct {
	// ID is unique in the result: "<step>:<event>" for an event,
	// "<step>#other", "<step>#end" or "<step>#start" for the others.
	ID string `json:"id"`
	// Step is the distance from the anchor, which is step 0: 1, 2, … going
	// forward, −1, −2, … going backward.
	Step int `json:"step"`
	// Event is the event name, or "(other)", "(end)" or "(start)".
	Event string `json:"event"`
	// Kind is empty for an event; "other" for the events outside the top
	// N of the step; "end" where journeys stop before Steps events going
	// forward (and for step 0 without an anchor going backward); "start"
	// where journeys begin before Steps events going backward (and for
	// step 0 without an anchor going forward).
	Kind string `json:"kind,omitempty"`
	// Customers is the number of customers whose path passes here.
	Customers int `json:"customers"`
}

// PathLink is a flow of customers from one node to the next in time.
type PathLink struct {
	Source    string `json:"source"`
	Target    string `json:"target"`
	Customers int    `json:"customers"`
}

const (
	defaultPathSteps = 5
	maxPathSteps     = 10
	defaultPathTopN  = 10
	maxPathTopN      = 100
)

// Codes of the nodes that are not events, above any activity code.
const (
	pathStart = ^uint32(0) - iota
	pathEnd
	pathOther
)

func (q PathsQuery) anchored() bool {
	a := q.Anchor
	return a != nil && (a.Event != "" || len(a.Events) > 0 || a.Channel != "" || len(a.Where) > 0)
}

func (q PathsQuery) validate(src Source) error {
	var p problems
	checkRange(&p, q.From, q.To)
	if q.anchored() {
		q.Anchor.validate("anchor", src.Activities(), false, p.add)
	}
	switch q.Direction {
	case "", "forward", "backward":
	default:
		p.add("direction", `must be "forward" or "backward"; got %q`, q.Direction)
	}
	if q.Steps < 0 || q.Steps > maxPathSteps {
		p.add("steps", "must be between 1 and %d (0 for the default, %d); got %d", maxPathSteps, defaultPathSteps, q.Steps)
	}
	if q.TopN < 0 || q.TopN > maxPathTopN {
		p.add("topN", "must be between 1 and %d (0 for the default, %d); got %d", maxPathTopN, defaultPathTopN, q.TopN)
	}
	return invalid("the paths query is not valid", p.errs)
}

type pathAcc struct {
	codes     []uint32 // step 0 first, then away from the anchor; a boundary code last when the journey ran out
	customers int
}

// pathsPart is one Scan part's accumulator: each distinct path once, keyed
// by its codes as uvarints.
type pathsPart struct {
	byKey map[string]*pathAcc
	key   []byte
	codes []uint32
}

// Paths computes the Sankey diagram of the paths from (or to) an anchor.
func Paths(ctx context.Context, src Source, q PathsQuery) (PathsResult, error) {
	if err := q.validate(src); err != nil {
		return PathsResult{}, err
	}
	steps, topN := q.Steps, q.TopN
	if steps == 0 {
		steps = defaultPathSteps
	}
	if topN == 0 {
		topN = defaultPathTopN
	}
	backward := q.Direction == "backward"
	acts := src.Activities()
	var m *matcher
	need := Need{From: q.From, To: q.To}
	if q.anchored() {
		m = compileMatcher(*q.Anchor, acts, src.Channels())
		q.Anchor.need(&need)
	}
	f := newProcessFilter(q.From, q.To, nil, acts)
	parts := make([]*pathsPart, src.Parts())
	for i := range parts {
		parts[i] = &pathsPart{byKey: map[string]*pathAcc{}}
	}
	err := src.Scan(ctx, need, func(part int, j *Journey) error {
		p := parts[part]
		lo, hi := f.span(j)
		if lo == hi {
			return nil
		}
		codes := p.codes[:0]
		// from is the index the walk starts after (forward) or before
		// (backward); step 0 is the anchor's activity, or the boundary.
		var from int
		switch {
		case m != nil:
			if len(m.traits) > 0 && !m.matchCustomer(j) {
				return nil
			}
			from = -1
			for i := lo; i < hi; i++ {
				if m.match(j, i) {
					from = i
					break
				}
			}
			if from < 0 {
				return nil
			}
			codes = append(codes, j.Acts[from])
		case backward:
			from = hi
			codes = append(codes, pathEnd)
		default:
			from = lo - 1
			codes = append(codes, pathStart)
		}
		step, stop, boundary := 1, hi, pathEnd
		if backward {
			step, stop, boundary = -1, lo-1, pathStart
		}
		last := codes[0]
		i := from + step
		for ; i != stop && len(codes) <= steps; i += step {
			a := j.Acts[i]
			if q.CollapseRepeats && a == last {
				continue
			}
			codes = append(codes, a)
			last = a
		}
		if len(codes) <= steps {
			codes = append(codes, boundary)
		}
		p.codes = codes
		p.key = p.key[:0]
		for _, c := range codes {
			p.key = binary.AppendUvarint(p.key, uint64(c))
		}
		acc, ok := p.byKey[string(p.key)]
		if !ok {
			acc = &pathAcc{codes: slices.Clone(codes)}
			p.byKey[string(p.key)] = acc
		}
		acc.customers++
		return nil
	})
	if err != nil {
		return PathsResult{}, fmt.Errorf("paths: %w", err)
	}
	return mergePaths(parts, acts, steps, topN, backward), nil
}

func mergePaths(parts []*pathsPart, acts *Dict, steps, topN int, backward bool) PathsResult {
	all := map[string]*pathAcc{}
	for _, p := range parts {
		for k, v := range p.byKey {
			if m, ok := all[k]; ok {
				m.customers += v.customers
			} else {
				all[k] = v
			}
		}
	}
	paths := make([]*pathAcc, 0, len(all))
	for _, v := range all {
		paths = append(paths, v)
	}
	res := PathsResult{Nodes: []PathNode{}, Links: []PathLink{}}
	for _, v := range paths {
		res.Customers += v.customers
	}
	// The top N events of each step; the others fold into pathOther.
	top := make([]map[uint32]bool, steps+1)
	for s := range top {
		counts := map[uint32]int{}
		for _, v := range paths {
			if s < len(v.codes) && v.codes[s] < pathOther {
				counts[v.codes[s]] += v.customers
			}
		}
		ranked := make([]uint32, 0, len(counts))
		for c := range counts {
			ranked = append(ranked, c)
		}
		slices.SortFunc(ranked, func(a, b uint32) int {
			if c := cmp.Compare(counts[b], counts[a]); c != 0 {
				return c
			}
			return strings.Compare(acts.Name(a), acts.Name(b))
		})
		top[s] = map[uint32]bool{}
		for _, c := range ranked[:min(topN, len(ranked))] {
			top[s][c] = true
		}
	}
	sign := 1
	if backward {
		sign = -1
	}
	type nodeKey struct {
		step int
		code uint32
	}
	nodes := map[nodeKey]*PathNode{}
	node := func(s int, code uint32) *PathNode {
		if code < pathOther && !top[s][code] {
			code = pathOther
		}
		k := nodeKey{s * sign, code}
		n, ok := nodes[k]
		if !ok {
			n = &PathNode{Step: k.step}
			switch code {
			case pathOther:
				n.ID, n.Event, n.Kind = strconv.Itoa(k.step)+"#other", "(other)", "other"
			case pathEnd:
				n.ID, n.Event, n.Kind = strconv.Itoa(k.step)+"#end", "(end)", "end"
			case pathStart:
				n.ID, n.Event, n.Kind = strconv.Itoa(k.step)+"#start", "(start)", "start"
			default:
				n.Event = acts.Name(code)
				n.ID = strconv.Itoa(k.step) + ":" + n.Event
			}
			nodes[k] = n
		}
		return n
	}
	type linkKey struct{ source, target string }
	links := map[linkKey]*PathLink{}
	linkStep := map[linkKey]int{}
	for _, v := range paths {
		var prev *PathNode
		for s, code := range v.codes {
			n := node(s, code)
			n.Customers += v.customers
			if prev != nil {
				// Links point forward in time: going backward, the node
				// further from the anchor is the earlier one.
				k := linkKey{prev.ID, n.ID}
				if backward {
					k = linkKey{n.ID, prev.ID}
				}
				l, ok := links[k]
				if !ok {
					l = &PathLink{Source: k.source, Target: k.target}
					links[k] = l
					linkStep[k] = min(prev.Step, n.Step)
				}
				l.Customers += v.customers
			}
			prev = n
		}
	}
	for _, n := range nodes {
		res.Nodes = append(res.Nodes, *n)
	}
	kindRank := func(k string) int {
		switch k {
		case "":
			return 0
		case "other":
			return 1
		}
		return 2
	}
	slices.SortFunc(res.Nodes, func(a, b PathNode) int {
		return cmp.Or(
			cmp.Compare(a.Step, b.Step),
			cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)),
			cmp.Compare(b.Customers, a.Customers),
			strings.Compare(a.Event, b.Event),
		)
	})
	for _, l := range links {
		res.Links = append(res.Links, *l)
	}
	slices.SortFunc(res.Links, func(a, b PathLink) int {
		return cmp.Or(
			cmp.Compare(linkStep[linkKey{a.Source, a.Target}], linkStep[linkKey{b.Source, b.Target}]),
			cmp.Compare(b.Customers, a.Customers),
			strings.Compare(a.Source, b.Source),
			strings.Compare(a.Target, b.Target),
		)
	})
	return res
}
