package analytics

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// DFGQuery asks for the directly-follows graph (DESIGN.md, "Paths and
// process discovery"): the process map that pm4py's discover_dfg and
// discover_performance_dfg draw, over the journeys of a range.
type DFGQuery struct {
	// From and To bound the events counted to [From, To); events outside
	// are dropped before the graph is computed, so a journey crossing the
	// range's edge contributes only its part inside. Either may be zero
	// (open).
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// Activities, when not empty, keeps only events of these activities
	// (event names), dropping the rest before the graph is computed, as
	// pm4py does after filtering a log on activity values: an edge a→b
	// then means b is the next kept event after a. At most 1,000 names.
	Activities []string `json:"activities,omitempty"`
	// MinCount drops edges followed fewer times than this.
	MinCount int `json:"minCount,omitempty"`
	// MinShare drops edges whose count is below this share (0 to 1) of
	// all directly-follows transitions (DFGResult.Transitions).
	//
	// After the thresholds, a node that still has an edge is kept; a node
	// left without edges is kept only if it passes the thresholds itself:
	// its count at least MinCount and at least MinShare of all events.
	MinShare float64 `json:"minShare,omitempty"`
}

// DFGResult is the directly-follows graph.
type DFGResult struct {
	// Customers is the number of journeys with at least one event counted.
	Customers int `json:"customers"`
	// Events is the number of events counted (the sum of all node counts
	// before the thresholds).
	Events int `json:"events"`
	// Transitions is the number of directly-follows pairs counted (the sum
	// of all edge counts before the thresholds): Events − Customers.
	Transitions int `json:"transitions"`
	// Nodes are the activities, most frequent first (ties by name).
	Nodes []DFGNode `json:"nodes"`
	// Edges are the directly-follows relations, most frequent first (ties
	// by from, then to).
	Edges []DFGEdge `json:"edges"`
}

// DFGNode is one activity of the graph.
type DFGNode struct {
	// Event is the activity (event name).
	Event string `json:"event"`
	// Count is how many times it occurs (pm4py's activity counts).
	Count int `json:"count"`
	// Customers is the number of journeys in which it occurs at least once.
	Customers int `json:"customers"`
	// Start and End are the numbers of journeys that start and end with it
	// (pm4py's start and end activities).
	Start int `json:"start"`
	End   int `json:"end"`
	// MedianSecondsFromStart is the median time from the start of the
	// journey (its first event counted) to the occurrences of the
	// activity: where in a journey it typically happens.
	MedianSecondsFromStart float64 `json:"medianSecondsFromStart"`
}

// DFGEdge says how often, and how fast, To directly follows From.
type DFGEdge struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Count is how many times an event of To comes right after an event
	// of From in a journey (events in journey order; equal times keep
	// their order).
	Count int `json:"count"`
	// Customers is the number of journeys in which it happens at least
	// once.
	Customers int `json:"customers"`
	// MedianSeconds and P90Seconds are the median and 90th percentile of
	// the time from the From event to the To event, computed as numpy
	// does (pm4py's performance DFG with median aggregation).
	MedianSeconds float64 `json:"medianSeconds"`
	P90Seconds    float64 `json:"p90Seconds"`
}

// maxActivityFilter caps DFGQuery.Activities and VariantsQuery.Activities.
const maxActivityFilter = 1000

func (q DFGQuery) validate(src Source) error {
	var p problems
	validateProcessFilter(&p, q.From, q.To, q.Activities, src.Activities())
	if q.MinCount < 0 {
		p.add("minCount", "must not be negative; got %d", q.MinCount)
	}
	if math.IsNaN(q.MinShare) || q.MinShare < 0 || q.MinShare > 1 {
		p.add("minShare", "must be between 0 and 1; got %v", q.MinShare)
	}
	return invalid("the directly-follows graph query is not valid", p.errs)
}

// validateProcessFilter checks the range and activity list the process
// queries share.
func validateProcessFilter(p *problems, from, to time.Time, activities []string, acts *Dict) {
	checkRange(p, from, to)
	if len(activities) > maxActivityFilter {
		p.add("activities", "has %d names; at most %d are allowed", len(activities), maxActivityFilter)
		return
	}
	for i, name := range activities {
		path := fmt.Sprintf("activities[%d]", i)
		if strings.TrimSpace(name) == "" {
			p.add(path, "is empty")
			continue
		}
		if _, ok := acts.Lookup(name); !ok {
			p.add(path, "no event named %q has been received in this workspace", name)
		}
	}
}

// processFilter picks the events of a journey a process query counts: in
// the range, and of the kept activities when there is a list.
type processFilter struct {
	from, to int64
	ranged   bool
	keep     []bool // by activity code; nil keeps all
}

func newProcessFilter(from, to time.Time, activities []string, acts *Dict) processFilter {
	r := Range{From: from, To: to}
	f := processFilter{from: r.fromNanos(), to: r.toNanos(), ranged: !from.IsZero() || !to.IsZero()}
	if len(activities) > 0 {
		f.keep = make([]bool, acts.Len())
		for _, name := range activities {
			if c, ok := acts.Lookup(name); ok && int(c) < len(f.keep) {
				f.keep[c] = true
			}
		}
	}
	return f
}

// span returns the journey's events in the range as [lo, hi).
func (f *processFilter) span(j *Journey) (lo, hi int) {
	if !f.ranged {
		return 0, len(j.Times)
	}
	lo, _ = slices.BinarySearch(j.Times, f.from)
	hi, _ = slices.BinarySearch(j.Times[lo:], f.to)
	return lo, lo + hi
}

// kept reports whether events of activity a count. A code given after the
// query started (a streaming source's new name) cannot be in the list.
func (f *processFilter) kept(a uint32) bool {
	return f.keep == nil || (int(a) < len(f.keep) && f.keep[a])
}

// denseEdges bounds the activity count for which the per-part edge table
// is a flat n×n array (1 MiB of int32 at most); past it a map is used.
const denseEdges = 512

type dfgNodeAcc struct {
	count, customers, start, end int
	seen                         int // the last journey (part-local serial) counted in customers
}

type dfgEdgeAcc struct {
	from, to         uint32
	count, customers int
	seen             int
}

// dfgPart is one Scan part's accumulator. The times are kept in flat
// arrays, one entry per event and per transition, rather than in a slice
// per edge: two growing arrays cost far less than hundreds of small ones,
// and the merge sorts them into one buffer by edge.
type dfgPart struct {
	n        int
	dense    []int32 // from*n+to → edge index + 1; 0: none yet
	sparse   map[uint64]int32
	nodes    []dfgNodeAcc // by activity code
	edges    []dfgEdgeAcc
	serial   int // journeys seen, the serial of the current one
	journeys int // journeys with an event counted
	// Per event counted: its activity and the time since its journey's
	// first event counted.
	acts      []uint32
	fromStart []int64
	// Per transition: its edge (index in edges) and the time it took.
	edgeOf []int32
	nanos  []int64
}

func newDFGPart(n, events int) *dfgPart {
	p := &dfgPart{n: n, nodes: make([]dfgNodeAcc, n),
		acts: make([]uint32, 0, events), fromStart: make([]int64, 0, events),
		edgeOf: make([]int32, 0, events), nanos: make([]int64, 0, events)}
	if n <= denseEdges {
		p.dense = make([]int32, n*n)
	} else {
		p.sparse = map[uint64]int32{}
	}
	return p
}

func (p *dfgPart) node(a uint32, fromStart int64) {
	if int(a) >= len(p.nodes) {
		p.nodes = append(p.nodes, make([]dfgNodeAcc, int(a)+1-len(p.nodes))...)
	}
	nd := &p.nodes[a]
	nd.count++
	if nd.seen != p.serial {
		nd.seen = p.serial
		nd.customers++
	}
	p.acts = append(p.acts, a)
	p.fromStart = append(p.fromStart, fromStart)
}

func (p *dfgPart) edge(a, b uint32, nanos int64) {
	var i int32
	if p.dense != nil && int(a) < p.n && int(b) < p.n {
		slot := &p.dense[int(a)*p.n+int(b)]
		if *slot == 0 {
			p.edges = append(p.edges, dfgEdgeAcc{from: a, to: b})
			*slot = int32(len(p.edges))
		}
		i = *slot - 1
	} else {
		if p.sparse == nil {
			p.sparse = map[uint64]int32{}
		}
		k := uint64(a)<<32 | uint64(b)
		slot, ok := p.sparse[k]
		if !ok {
			p.edges = append(p.edges, dfgEdgeAcc{from: a, to: b})
			slot = int32(len(p.edges))
			p.sparse[k] = slot
		}
		i = slot - 1
	}
	e := &p.edges[i]
	e.count++
	if e.seen != p.serial {
		e.seen = p.serial
		e.customers++
	}
	p.edgeOf = append(p.edgeOf, i)
	p.nanos = append(p.nanos, nanos)
}

// DFG computes the directly-follows graph of the journeys in src. Node and
// edge counts equal pm4py's discover_dfg, its start and end activities,
// and edge times its performance DFG (median; p90 by numpy's linear
// quantile), on the same log with concept:name as the activity.
func DFG(ctx context.Context, src Source, q DFGQuery) (DFGResult, error) {
	if err := q.validate(src); err != nil {
		return DFGResult{}, err
	}
	acts := src.Activities()
	f := newProcessFilter(q.From, q.To, q.Activities, acts)
	parts := make([]*dfgPart, src.Parts())
	n := acts.Len()
	// A source that knows its size (an Index) lets the parts' arrays be
	// sized once instead of grown by copying, which was most of the cost;
	// not for a range, which may keep few of the events, and not past 4M
	// events a part, so that a huge source does not reserve gigabytes
	// up front.
	hint := 0
	if s, ok := src.(interface{ Events() int }); ok && q.From.IsZero() && q.To.IsZero() && len(parts) > 0 {
		hint = min(s.Events()/len(parts)+s.Events()/(8*len(parts)), 1<<22)
	}
	for i := range parts {
		parts[i] = newDFGPart(n, hint)
	}
	need := Need{From: q.From, To: q.To}
	err := src.Scan(ctx, need, func(part int, j *Journey) error {
		p := parts[part]
		p.serial++
		lo, hi := f.span(j)
		prev, first := -1, -1
		for i := lo; i < hi; i++ {
			a := j.Acts[i]
			if !f.kept(a) {
				continue
			}
			if prev < 0 {
				first = i
			}
			p.node(a, j.Times[i]-j.Times[first])
			if prev >= 0 {
				p.edge(j.Acts[prev], a, j.Times[i]-j.Times[prev])
			}
			prev = i
		}
		if first >= 0 {
			p.journeys++
			p.nodes[j.Acts[first]].start++
			p.nodes[j.Acts[prev]].end++
		}
		return nil
	})
	if err != nil {
		return DFGResult{}, fmt.Errorf("directly-follows graph: %w", err)
	}
	return mergeDFG(parts, acts, q), nil
}

// mergeDFG adds up the parts, computes the times and applies the
// thresholds.
func mergeDFG(parts []*dfgPart, acts *Dict, q DFGQuery) DFGResult {
	var res DFGResult
	var nodes []dfgNodeAcc
	var edges []dfgEdgeAcc
	index := map[uint64]int32{}
	local := make([][]int32, len(parts)) // per part: edge index → merged index
	for pi, p := range parts {
		res.Customers += p.journeys
		res.Events += len(p.acts)
		if len(p.nodes) > len(nodes) {
			nodes = append(nodes, make([]dfgNodeAcc, len(p.nodes)-len(nodes))...)
		}
		for a, nd := range p.nodes {
			m := &nodes[a]
			m.count += nd.count
			m.customers += nd.customers
			m.start += nd.start
			m.end += nd.end
		}
		local[pi] = make([]int32, len(p.edges))
		for i, e := range p.edges {
			k := uint64(e.from)<<32 | uint64(e.to)
			g, ok := index[k]
			if !ok {
				g = int32(len(edges))
				index[k] = g
				edges = append(edges, dfgEdgeAcc{from: e.from, to: e.to})
			}
			local[pi][i] = g
			edges[g].count += e.count
			edges[g].customers += e.customers
		}
	}
	res.Transitions = res.Events - res.Customers
	// Gather each edge's times, and each node's, into one buffer each,
	// grouped by edge (node) in the order of a counting sort.
	edgeNanos := groupBy(len(edges), res.Transitions, func(g int) int { return edges[g].count }, func(put func(g int, v int64)) {
		for pi, p := range parts {
			for k, i := range p.edgeOf {
				put(int(local[pi][i]), p.nanos[k])
			}
		}
	})
	nodeNanos := groupBy(len(nodes), res.Events, func(a int) int { return nodes[a].count }, func(put func(a int, v int64)) {
		for _, p := range parts {
			for k, a := range p.acts {
				put(int(a), p.fromStart[k])
			}
		}
	})
	minEdge := max(float64(q.MinCount), q.MinShare*float64(res.Transitions))
	minNode := max(float64(q.MinCount), q.MinShare*float64(res.Events))
	linked := make([]bool, len(nodes))
	res.Edges = []DFGEdge{}
	for g, e := range edges {
		if float64(e.count) < minEdge {
			continue
		}
		linked[e.from], linked[e.to] = true, true
		med, p90 := medianP90(edgeNanos[g])
		res.Edges = append(res.Edges, DFGEdge{
			From: acts.Name(e.from), To: acts.Name(e.to),
			Count: e.count, Customers: e.customers,
			MedianSeconds: med, P90Seconds: p90,
		})
	}
	res.Nodes = []DFGNode{}
	for a, nd := range nodes {
		if nd.count == 0 || (!linked[a] && float64(nd.count) < minNode) {
			continue
		}
		med, _ := medianP90(nodeNanos[a])
		res.Nodes = append(res.Nodes, DFGNode{
			Event: acts.Name(uint32(a)), Count: nd.count, Customers: nd.customers,
			Start: nd.start, End: nd.end, MedianSecondsFromStart: med,
		})
	}
	slices.SortFunc(res.Nodes, func(a, b DFGNode) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.Event, b.Event)
	})
	slices.SortFunc(res.Edges, func(a, b DFGEdge) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		if c := strings.Compare(a.From, b.From); c != 0 {
			return c
		}
		return strings.Compare(a.To, b.To)
	})
	return res
}

// groupBy lays total values out in one buffer, grouped by key (0 ≤ key <
// keys) with size(key) values each, as fill gives them to put; it returns
// each key's group.
func groupBy(keys, total int, size func(int) int, fill func(put func(int, int64))) [][]int64 {
	buf := make([]int64, total)
	groups := make([][]int64, keys)
	next := make([]int, keys)
	off := 0
	for k := range groups {
		n := size(k)
		groups[k] = buf[off : off+n : off+n]
		next[k] = off
		off += n
	}
	fill(func(k int, v int64) {
		buf[next[k]] = v
		next[k]++
	})
	return groups
}
