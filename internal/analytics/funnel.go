package analytics

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trekhq/trek/internal/journey"
)

// Funnel order modes (DESIGN.md, "Funnels").
const (
	OrderOrdered = "ordered" // other events may come between steps
	OrderStrict  = "strict"  // no other event of the customer between steps
	OrderAny     = "any"     // steps in any order within the window
)

// Limits on a funnel query.
const (
	MaxFunnelSteps    = 20
	MaxExclusions     = 10
	MaxSegments       = 10
	DefaultBreakdowns = 10
	MaxBreakdowns     = 100
	DefaultCustomers  = 100
	MaxCustomers      = 10000
)

// Labels of the breakdown rows that are not a value.
const (
	BreakdownOther = "(other)" // values past the breakdown's limit
	BreakdownNone  = "(none)"  // the property or trait is absent
)

// CustomerPrefix starts the customer ids queries give out, as the
// customer API does.
const CustomerPrefix = "cus_"

// FunnelQuery asks how many customers go through ordered steps.
type FunnelQuery struct {
	// Steps are the funnel's steps, two or more... or one, to count who
	// did something. Each is a matcher: an event name (or several), a
	// channel, property filters.
	Steps []Matcher `json:"steps"`
	// Window is the conversion window from the first step: an integer
	// and one of s, m, h, d, w ("7d"). Default 7d.
	Window string `json:"window,omitempty"`
	// Order is ordered (default), strict or any.
	Order string `json:"order,omitempty"`
	// From and To bound the first step's time: [From, To). Later steps
	// may fall after To.
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// Exclusions void an attempt when one occurs between two of its
	// consecutive steps.
	Exclusions []Matcher `json:"exclusions,omitempty"`
	// Breakdown splits the result by a property of the first step's event
	// or by a customer trait.
	Breakdown *Breakdown `json:"breakdown,omitempty"`
	// Segments are customer groups shown side by side with everyone.
	Segments []Segment `json:"segments,omitempty"`
	// Customers asks for the customers behind one number.
	Customers *CustomersAt `json:"customers,omitempty"`
}

// Breakdown names what to split a funnel by: an event property of the
// first step ("plan", "context.device.type", "channel") or a customer
// trait ("traits.plan").
type Breakdown struct {
	Property string `json:"property"`
	// Limit is how many values get a row of their own (by customers at
	// the first step); the rest are folded into "(other)". Default 10.
	Limit int `json:"limit,omitempty"`
}

// Segment is a named group of customers: those whose traits pass every
// filter in Where (property names with or without "traits.") and, when
// Performed is set, who did such an event in the query's range.
type Segment struct {
	Name      string           `json:"name"`
	Where     []journey.Filter `json:"where,omitempty"`
	Performed *Matcher         `json:"performed,omitempty"`
}

// CustomersAt selects the customers behind a number of the answer.
type CustomersAt struct {
	// Step is 1-based.
	Step int `json:"step"`
	// Outcome is "reached" (reached the step), "dropped" (reached the
	// step before and not this one) or "converted" (reached the last
	// step; Step is ignored).
	Outcome string `json:"outcome"`
	// Breakdown and Segment narrow the list to one row of the answer.
	Breakdown *string `json:"breakdown,omitempty"`
	Segment   string  `json:"segment,omitempty"`
	Limit     int     `json:"limit,omitempty"`
}

// FunnelResult is a funnel's answer.
type FunnelResult struct {
	Steps      []FunnelStep      `json:"steps"`
	Breakdowns []FunnelBreakdown `json:"breakdowns"`
	Segments   []FunnelSegment   `json:"segments,omitempty"`
	// WindowSeconds is the conversion window used.
	WindowSeconds float64 `json:"windowSeconds"`
	Order         string  `json:"order"`
	// Customers lists the customers behind the number asked for.
	Customers *CustomerList `json:"customers,omitempty"`
}

// FunnelStep is one step's numbers. Conversion rates are shares, 0..1.
type FunnelStep struct {
	Event                  string  `json:"event"`
	Customers              int64   `json:"customers"`
	ConversionFromPrevious float64 `json:"conversionFromPrevious"`
	ConversionFromFirst    float64 `json:"conversionFromFirst"`
	// DropOff is the customers who reached the previous step but not
	// this one (0 for the first step).
	DropOff int64 `json:"dropOff"`
	// MedianSecondsFromPrevious is the converters' median time from the
	// previous step; null for the first step and when nobody converted.
	MedianSecondsFromPrevious *float64   `json:"medianSecondsFromPrevious"`
	FromPrevious              *TimeStats `json:"fromPrevious,omitempty"`
	FromFirst                 *TimeStats `json:"fromFirst,omitempty"`
}

// FunnelBreakdown is the funnel for one value of the breakdown.
type FunnelBreakdown struct {
	Value string       `json:"value"`
	Steps []FunnelStep `json:"steps"`
}

// FunnelSegment is the funnel for one segment.
type FunnelSegment struct {
	Name       string            `json:"name"`
	Steps      []FunnelStep      `json:"steps"`
	Breakdowns []FunnelBreakdown `json:"breakdowns"`
}

// TimeStats summarises times between steps, in seconds.
type TimeStats struct {
	Count     int64   `json:"count"`
	Median    float64 `json:"median"`
	P25       float64 `json:"p25"`
	P75       float64 `json:"p75"`
	P90       float64 `json:"p90"`
	Histogram []Bin   `json:"histogram"`
}

// Bin is one histogram bar: Count values in [From, To) seconds; To is
// null for the last, open bin.
type Bin struct {
	From  float64  `json:"fromSeconds"`
	To    *float64 `json:"toSeconds"`
	Count int64    `json:"count"`
}

// CustomerList is a page of customer ids and how many there are in all.
type CustomerList struct {
	Total int64    `json:"total"`
	IDs   []string `json:"ids"`
}

// histogramEdges are the time-to-convert bins' lower edges: the spans
// people think in, from a minute to a month.
var histogramEdges = []float64{0, 60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 3 * 86400, 7 * 86400, 14 * 86400, 30 * 86400}

// ParseWindow reads a conversion window: a positive integer and one of s,
// m, h, d, w.
func ParseWindow(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return 0, fmt.Errorf("%q is not a window: write a number and one of s, m, h, d, w (\"7d\")", s)
	}
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[s[len(s)-1]]
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if unit == 0 || err != nil {
		return 0, fmt.Errorf("%q is not a window: write a number and one of s, m, h, d, w (\"7d\")", s)
	}
	if n <= 0 {
		return 0, fmt.Errorf("%q: the window must be greater than zero", s)
	}
	if n > int64(5*366*24*time.Hour/unit) {
		return 0, fmt.Errorf("%q: the window may be at most five years", s)
	}
	return time.Duration(n) * unit, nil
}

func (q *FunnelQuery) defaults() {
	if q.Window == "" {
		q.Window = "7d"
	}
	if q.Order == "" {
		q.Order = OrderOrdered
	}
	if q.Breakdown != nil && q.Breakdown.Limit == 0 {
		q.Breakdown.Limit = DefaultBreakdowns
	}
	if q.Customers != nil && q.Customers.Limit == 0 {
		q.Customers.Limit = DefaultCustomers
	}
}

func (q *FunnelQuery) validate(src Source, allowUnknown bool) (time.Duration, error) {
	var p problems
	if len(q.Steps) == 0 {
		p.add("steps", "a funnel needs at least one step")
	}
	if len(q.Steps) > MaxFunnelSteps {
		p.add("steps", "has %d steps; at most %d are allowed", len(q.Steps), MaxFunnelSteps)
	}
	for i, s := range q.Steps {
		if len(s.names()) == 0 {
			p.add(fmt.Sprintf("steps[%d].event", i), "is required")
		}
		s.validate(fmt.Sprintf("steps[%d]", i), src.Activities(), allowUnknown, p.add)
	}
	w, err := ParseWindow(q.Window)
	if err != nil {
		p.add("window", "%s", err.Error())
	}
	switch q.Order {
	case OrderOrdered, OrderStrict, OrderAny:
	default:
		p.add("order", "must be one of ordered, strict, any")
	}
	checkRange(&p, q.From, q.To)
	if len(q.Exclusions) > MaxExclusions {
		p.add("exclusions", "has %d items; at most %d are allowed", len(q.Exclusions), MaxExclusions)
	}
	for i, x := range q.Exclusions {
		x.validate(fmt.Sprintf("exclusions[%d]", i), src.Activities(), true, p.add)
		for _, s := range q.Steps {
			if sameMatcher(x, s) {
				p.add(fmt.Sprintf("exclusions[%d]", i), "is the same as a step; an exclusion must differ from every step")
				break
			}
		}
	}
	if b := q.Breakdown; b != nil {
		if strings.TrimSpace(b.Property) == "" {
			p.add("breakdown.property", "is required")
		}
		if b.Limit < 0 || b.Limit > MaxBreakdowns {
			p.add("breakdown.limit", "must be between 1 and %d", MaxBreakdowns)
		}
	}
	if len(q.Segments) > MaxSegments {
		p.add("segments", "has %d items; at most %d are allowed", len(q.Segments), MaxSegments)
	}
	names := map[string]bool{}
	for i, s := range q.Segments {
		path := fmt.Sprintf("segments[%d]", i)
		if strings.TrimSpace(s.Name) == "" {
			p.add(path+".name", "is required")
		} else if names[s.Name] {
			p.add(path+".name", "%q names two segments", s.Name)
		}
		names[s.Name] = true
		if len(s.Where) > journey.MaxFilters {
			p.add(path+".where", "has %d items; at most %d are allowed", len(s.Where), journey.MaxFilters)
		}
		for k, f := range s.Where {
			journey.ValidateFilter(fmt.Sprintf("%s.where[%d]", path, k), f, p.add)
		}
		if s.Performed != nil {
			s.Performed.validate(path+".performed", src.Activities(), allowUnknown, p.add)
		}
	}
	if c := q.Customers; c != nil {
		switch c.Outcome {
		case "reached", "dropped":
			if c.Step < 1 || c.Step > len(q.Steps) {
				p.add("customers.step", "must be between 1 and %d", len(q.Steps))
			} else if c.Outcome == "dropped" && c.Step == 1 {
				p.add("customers.step", "nobody drops at the first step; ask for step 2 or later")
			}
		case "converted":
		default:
			p.add("customers.outcome", "must be one of reached, dropped, converted")
		}
		if c.Limit < 0 || c.Limit > MaxCustomers {
			p.add("customers.limit", "must be between 1 and %d", MaxCustomers)
		}
		if c.Segment != "" && !names[c.Segment] {
			p.add("customers.segment", "names no segment of the query")
		}
	}
	return w, invalid("the funnel query is not valid", p.errs)
}

func sameMatcher(a, b Matcher) bool {
	an, bn := slices.Clone(a.names()), slices.Clone(b.names())
	slices.Sort(an)
	slices.Sort(bn)
	if !slices.Equal(an, bn) || a.Channel != b.Channel || len(a.Where) != len(b.Where) {
		return false
	}
	for i := range a.Where {
		if a.Where[i].Property != b.Where[i].Property || a.Where[i].Op != b.Where[i].Op || fmt.Sprint(a.Where[i].Value) != fmt.Sprint(b.Where[i].Value) {
			return false
		}
	}
	return true
}

// Funnel runs a funnel query.
func Funnel(ctx context.Context, src Source, q FunnelQuery) (FunnelResult, error) {
	return funnel(ctx, src, q, false)
}

// funnel runs q; allowUnknown accepts event names never received (a
// map's bindings may name events that have not happened yet).
func funnel(ctx context.Context, src Source, q FunnelQuery, allowUnknown bool) (FunnelResult, error) {
	q.defaults()
	w, err := q.validate(src, allowUnknown)
	if err != nil {
		return FunnelResult{}, err
	}
	f := compileFunnel(&q, w, src)
	aggs := make([]*funnelAgg, src.Parts())
	for i := range aggs {
		aggs[i] = f.newAgg()
	}
	need := f.need
	need.From, need.To = q.From, q.To
	err = src.Scan(ctx, need, func(part int, j *Journey) error {
		f.journey(aggs[part], j)
		return nil
	})
	if err != nil {
		return FunnelResult{}, err
	}
	for _, a := range aggs[1:] {
		aggs[0].merge(a)
	}
	return f.result(aggs[0]), nil
}

// compiledFunnel is a funnel query ready to run over journeys.
type compiledFunnel struct {
	q          *FunnelQuery
	k          int
	window     int64
	from, to   int64
	steps      []*matcher
	exclusions []*matcher
	// actMask[code] has bit s set when step s accepts that activity (by
	// name); chanMask likewise by channel. An event's candidate steps are
	// actMask & chanMask, confirmed by match for non-simple steps.
	actMask, chanMask []uint32
	anyActMask        uint32 // steps that accept any activity
	complexMask       uint32 // steps with property or trait filters
	exAct, exChan     []uint32
	exAny, exComplex  uint32
	need              Need // what the query reads beyond the compact columns
	// breakdown
	bdKind    int
	bdPath    []string
	chanNames *Dict
	segs      []compiledSegment
}

type compiledSegment struct {
	where     []pred
	performed *matcher
}

func compileFunnel(q *FunnelQuery, w time.Duration, src Source) *compiledFunnel {
	acts, chans := src.Activities(), src.Channels()
	f := &compiledFunnel{q: q, k: len(q.Steps), window: int64(w), chanNames: chans, from: Range{q.From, q.To}.fromNanos(), to: Range{q.From, q.To}.toNanos()}
	for _, s := range q.Steps {
		f.steps = append(f.steps, compileMatcher(s, acts, chans))
		s.need(&f.need)
	}
	for _, x := range q.Exclusions {
		f.exclusions = append(f.exclusions, compileMatcher(x, acts, chans))
		x.need(&f.need)
	}
	f.actMask, f.chanMask, f.anyActMask, f.complexMask = masks(f.steps, acts.Len(), chans.Len())
	f.exAct, f.exChan, f.exAny, f.exComplex = masks(f.exclusions, acts.Len(), chans.Len())
	if b := q.Breakdown; b != nil {
		f.bdKind, f.bdPath = propertyKind(b.Property)
		switch f.bdKind {
		case propTrait:
			f.need.Traits = true
		case propContext:
			f.need.Events, f.need.Context = true, true
		case propEvent:
			f.need.Events = true
		}
	}
	for _, s := range q.Segments {
		var cs compiledSegment
		for _, w := range s.Where {
			cs.where = append(cs.where, traitPred(w))
			f.need.Traits = true
		}
		if s.Performed != nil {
			cs.performed = compileMatcher(*s.Performed, acts, chans)
			s.Performed.need(&f.need)
		}
		f.segs = append(f.segs, cs)
	}
	return f
}

// masks precomputes, per activity code and per channel code, which of
// ms may match.
func masks(ms []*matcher, nActs, nChans int) (act, ch []uint32, anyAct, complex uint32) {
	act = make([]uint32, nActs)
	ch = make([]uint32, nChans)
	for s, m := range ms {
		bit := uint32(1) << s
		if m.anyAct {
			anyAct |= bit
			for a := range act {
				act[a] |= bit
			}
		} else {
			for a, ok := range m.acts {
				if ok && a < nActs {
					act[a] |= bit
				}
			}
		}
		for c := range ch {
			if m.chanCode == -1 || m.chanCode == c {
				ch[c] |= bit
			}
		}
		if !m.simple() {
			complex |= bit
		}
	}
	return act, ch, anyAct, complex
}

// candidates returns which of ms match event i of j.
func candidates(ms []*matcher, actMask, chanMask []uint32, anyAct, complex uint32, j *Journey, i int) uint32 {
	a, c := j.Acts[i], j.Chans[i]
	var m uint32
	if int(a) < len(actMask) {
		m = actMask[a]
	} else {
		// A name the dictionary met after the query compiled: only
		// the steps that take any activity, or that name it, can match.
		m = anyAct
		for s, mt := range ms {
			if !mt.anyAct && mt.matchAct(a) {
				m |= 1 << s
			}
		}
	}
	if m == 0 {
		return 0
	}
	if int(c) < len(chanMask) {
		m &= chanMask[c]
	} else {
		for s, mt := range ms {
			if mt.chanCode != -1 && mt.chanCode != int(c) {
				m &^= 1 << s
			}
		}
	}
	for check := m & complex; check != 0; check &= check - 1 {
		s := bits.TrailingZeros32(check)
		if !ms[s].match(j, i) || !ms[s].matchCustomer(j) {
			m &^= 1 << s
		}
	}
	return m
}

func (f *compiledFunnel) stepMask(j *Journey, i int) uint32 {
	return candidates(f.steps, f.actMask, f.chanMask, f.anyActMask, f.complexMask, j, i)
}

func (f *compiledFunnel) excluded(j *Journey, i int) bool {
	if len(f.exclusions) == 0 {
		return false
	}
	return candidates(f.exclusions, f.exAct, f.exChan, f.exAny, f.exComplex, j, i) != 0
}

// attempt is how far one customer got: the level reached (0..k) and,
// for each level l ≥ 1, the event times of the first attempt that reached
// it (times[l-1] has l entries) and that attempt's first event.
type attempt struct {
	level int
	times [][]int64
	start []int // index of the first step's event, per level
}

func (a *attempt) reset(k int) {
	a.level = 0
	if len(a.times) < k {
		a.times = make([][]int64, k)
		a.start = make([]int, k)
	}
	for l := range a.times {
		a.times[l] = a.times[l][:0]
	}
}

// reach records that level l (1-based) was reached by a chain.
func (a *attempt) reach(l int, chain []int64, start int) {
	if l > a.level {
		a.level = l
		a.times[l-1] = append(a.times[l-1][:0], chain...)
		a.start[l-1] = start
	}
}

// run fills a with the customer's best attempt under the query's mode.
func (f *compiledFunnel) run(j *Journey, a *attempt, st *runState) {
	a.reset(f.k)
	switch f.q.Order {
	case OrderStrict:
		f.runStrict(j, a, st)
	case OrderAny:
		f.runAny(j, a, st)
	default:
		f.runOrdered(j, a, st)
	}
}

// runState is scratch space reused across journeys.
type runState struct {
	masks  []uint32
	excl   []bool
	chains [][]int64 // chains[l]: times of the latest-starting chain at level l+1
	starts []int
	valid  []bool
	// any mode
	owner []int // per step: the event filling it, -1 if none
	seen  []int // per step: the search that last visited it
	mark  int
}

func (st *runState) prepare(f *compiledFunnel, j *Journey) {
	n := j.Len()
	st.masks = slices.Grow(st.masks[:0], n)[:n]
	if len(f.exclusions) > 0 {
		st.excl = slices.Grow(st.excl[:0], n)[:n]
	}
	for i := range n {
		st.masks[i] = f.stepMask(j, i)
	}
	if len(f.exclusions) > 0 {
		for i := range n {
			st.excl[i] = f.excluded(j, i)
		}
	}
	if len(st.chains) < f.k {
		st.chains = make([][]int64, f.k)
		st.starts = make([]int, f.k)
		st.valid = make([]bool, f.k)
		st.owner = make([]int, f.k)
		st.seen = make([]int, f.k)
	}
}

// runOrdered is ClickHouse's windowFunnel: for each level it keeps the
// latest-starting chain that reached it (a later start leaves more of the
// window for the steps to come, so it is never worse), and walks the
// steps from last to first so that one event fills at most one step.
func (f *compiledFunnel) runOrdered(j *Journey, a *attempt, st *runState) {
	k := f.k
	for l := range k {
		st.valid[l] = false
	}
	for i := range j.Len() {
		if len(f.exclusions) > 0 && st.excl[i] {
			// An exclusion between two steps voids every attempt under
			// way: none of them may take another step.
			for l := range k {
				st.valid[l] = false
			}
		}
		m := st.masks[i]
		if m == 0 {
			continue
		}
		t := j.Times[i]
		for l := k - 1; l >= 1; l-- {
			if m&(1<<l) == 0 || !st.valid[l-1] {
				continue
			}
			if !within(st.chains[l-1][0], t, f.window) {
				continue
			}
			st.chains[l] = append(append(st.chains[l][:0], st.chains[l-1]...), t)
			st.starts[l] = st.starts[l-1]
			st.valid[l] = true
			a.reach(l+1, st.chains[l], st.starts[l])
		}
		if m&1 != 0 && t >= f.from && t < f.to {
			st.chains[0] = append(st.chains[0][:0], t)
			st.starts[0] = i
			st.valid[0] = true
			a.reach(1, st.chains[0], i)
		}
		if a.level == k {
			return
		}
	}
}

// within reports whether t is at most w after start (t ≥ start, as in a
// journey), without the overflow of t-start for times centuries apart.
func within(start, t, w int64) bool {
	if start > maxNanos-w {
		return true
	}
	return t <= start+w
}

// runStrict: the steps are consecutive events of the customer.
func (f *compiledFunnel) runStrict(j *Journey, a *attempt, st *runState) {
	n := j.Len()
	chain := st.chains[0][:0]
	for i := range n {
		t := j.Times[i]
		if st.masks[i]&1 == 0 || t < f.from || t >= f.to {
			continue
		}
		chain = append(chain[:0], t)
		a.reach(1, chain, i)
		for e := i + 1; e < n && len(chain) < f.k; e++ {
			if st.masks[e]&(1<<len(chain)) == 0 || !within(t, j.Times[e], f.window) {
				break
			}
			chain = append(chain, j.Times[e])
			a.reach(len(chain), chain, i)
		}
		if a.level == f.k {
			break
		}
	}
	st.chains[0] = chain
}

// runAny: steps in any order within the window of the attempt's first
// event, each event filling at most one step. Level l means l distinct
// steps were done; an event that could fill several steps is assigned by
// augmenting paths (a bipartite matching), so the count is the most that
// can be done.
func (f *compiledFunnel) runAny(j *Journey, a *attempt, st *runState) {
	n := j.Len()
	chain := st.chains[0][:0]
	for i := range n {
		t := j.Times[i]
		if st.masks[i] == 0 || t < f.from || t >= f.to {
			continue
		}
		for s := range f.k {
			st.owner[s] = -1
		}
		chain = chain[:0]
		for e := i; e < n && within(t, j.Times[e], f.window); e++ {
			if e > i && len(f.exclusions) > 0 && st.excl[e] {
				break
			}
			if st.masks[e] == 0 {
				continue
			}
			st.mark++
			if f.augment(e, st, st.mark) {
				chain = append(chain, j.Times[e])
				a.reach(len(chain), chain, i)
				if len(chain) == f.k {
					break
				}
			}
		}
		if a.level == f.k {
			break
		}
	}
	st.chains[0] = chain
}

// augment tries to give event e a step (Kuhn's algorithm); mark tells
// this search's visits apart.
func (f *compiledFunnel) augment(e int, st *runState, mark int) bool {
	for m := st.masks[e]; m != 0; m &= m - 1 {
		s := bits.TrailingZeros32(m)
		if st.seen[s] == mark {
			continue
		}
		st.seen[s] = mark
		if st.owner[s] == -1 || f.augment(st.owner[s], st, mark) {
			st.owner[s] = e
			return true
		}
	}
	return false
}

// funnelAgg accumulates customers per (segment, breakdown value) row.
type funnelAgg struct {
	rows map[rowKey]*funnelRow
	// all is the row of everyone without a breakdown: most queries count
	// every customer there, so it skips the map.
	all   *funnelRow
	inSeg []bool
	st    runState
	att   attempt
	// customers: the ids behind the number asked for
	ids      []uint64
	idValues []string // each id's breakdown value, for the "(other)" row
	idsAll   int64
}

type rowKey struct {
	seg int // 0: everyone; s+1: segment s
	bd  string
}

type funnelRow struct {
	reached  []int64     // reached[l]: customers whose level is ≥ l+1
	fromPrev [][]float64 // per step l ≥ 1: seconds from step l-1
	fromFrst [][]float64
}

func (f *compiledFunnel) newAgg() *funnelAgg { return &funnelAgg{rows: map[rowKey]*funnelRow{}} }

func (f *compiledFunnel) row(a *funnelAgg, key rowKey) *funnelRow {
	r := a.rows[key]
	if r == nil {
		r = &funnelRow{reached: make([]int64, f.k), fromPrev: make([][]float64, f.k), fromFrst: make([][]float64, f.k)}
		a.rows[key] = r
	}
	return r
}

func (f *compiledFunnel) journey(a *funnelAgg, j *Journey) {
	a.st.prepare(f, j)
	f.run(j, &a.att, &a.st)
	level := a.att.level
	if level == 0 {
		return
	}
	bd := ""
	if f.q.Breakdown != nil {
		bd = f.breakdownValue(j, &a.att)
	}
	if f.q.Breakdown == nil {
		if a.all == nil {
			a.all = f.row(a, rowKey{})
		}
		f.countRow(a, a.all, level)
	} else {
		f.count(a, rowKey{0, bd}, level)
	}
	inSeg := a.inSeg[:0]
	for range f.segs {
		inSeg = append(inSeg, false)
	}
	a.inSeg = inSeg
	for s := range f.segs {
		if f.inSegment(s, j) {
			inSeg[s] = true
			f.count(a, rowKey{s + 1, bd}, level)
		}
	}
	if c := f.q.Customers; c != nil {
		// The "(other)" row is known only once every value is counted:
		// its customers are kept with their value and sorted out then.
		other := c.Breakdown != nil && f.q.Breakdown != nil && *c.Breakdown == BreakdownOther
		if c.Breakdown != nil && f.q.Breakdown != nil && !other && *c.Breakdown != bd {
			return
		}
		if c.Segment != "" && !inSeg[slices.IndexFunc(f.q.Segments, func(s Segment) bool { return s.Name == c.Segment })] {
			return
		}
		var want bool
		switch c.Outcome {
		case "reached":
			want = level >= c.Step
		case "dropped":
			want = level == c.Step-1
		case "converted":
			want = level == f.k
		}
		if want {
			a.idsAll++
			a.ids = append(a.ids, j.Customer)
			if other {
				a.idValues = append(a.idValues, bd)
			}
		}
	}
}

func (f *compiledFunnel) count(a *funnelAgg, key rowKey, level int) {
	f.countRow(a, f.row(a, key), level)
}

func (f *compiledFunnel) countRow(a *funnelAgg, r *funnelRow, level int) {
	for l := range level {
		r.reached[l]++
		if l == 0 {
			continue
		}
		chain := a.att.times[l]
		r.fromPrev[l] = append(r.fromPrev[l], seconds(chain[l]-chain[l-1]))
		r.fromFrst[l] = append(r.fromFrst[l], seconds(chain[l]-chain[0]))
	}
}

func seconds(ns int64) float64 { return float64(ns) / 1e9 }

// breakdownValue is the customer's row: the breakdown property of the
// first step's event of the attempt that reached their level, or their
// trait.
func (f *compiledFunnel) breakdownValue(j *Journey, a *attempt) string {
	var v any
	var ok bool
	switch f.bdKind {
	case propTrait:
		v, ok = lookup(j.Traits, f.bdPath)
	case propChannel:
		return f.chanNames.Name(uint32(j.Chans[a.start[a.level-1]]))
	default:
		i := a.start[a.level-1]
		if f.bdKind == propContext {
			v, ok = lookup(j.Context(i), f.bdPath)
		} else {
			v, ok = lookup(j.Properties(i), f.bdPath)
		}
	}
	if !ok {
		return BreakdownNone
	}
	s := text(v)
	if s == "" {
		return BreakdownNone
	}
	return s
}

func (f *compiledFunnel) inSegment(s int, j *Journey) bool {
	return f.segs[s].contains(j, f.from, f.to)
}

// traitPred compiles a segment's filter on a customer trait; the name may
// be written with or without "traits.".
func traitPred(w journey.Filter) pred {
	return pred{kind: propTrait, path: strings.Split(strings.TrimPrefix(w.Property, "traits."), "."), f: w}
}

// contains reports whether j's customer is in the segment: traits pass
// every filter and, when Performed is set, some event in [from, to)
// matches it.
func (cs *compiledSegment) contains(j *Journey, from, to int64) bool {
	for k := range cs.where {
		p := &cs.where[k]
		v, ok := lookup(j.Traits, p.path)
		if !compare(v, ok, p.f) {
			return false
		}
	}
	if cs.performed == nil {
		return true
	}
	if !cs.performed.matchCustomer(j) {
		return false
	}
	for i := range j.Len() {
		if t := j.Times[i]; t >= from && t < to && cs.performed.match(j, i) {
			return true
		}
	}
	return false
}

func (a *funnelAgg) merge(b *funnelAgg) {
	for key, rb := range b.rows {
		ra := a.rows[key]
		if ra == nil {
			a.rows[key] = rb
			continue
		}
		for l := range ra.reached {
			ra.reached[l] += rb.reached[l]
			ra.fromPrev[l] = append(ra.fromPrev[l], rb.fromPrev[l]...)
			ra.fromFrst[l] = append(ra.fromFrst[l], rb.fromFrst[l]...)
		}
	}
	a.ids = append(a.ids, b.ids...)
	a.idValues = append(a.idValues, b.idValues...)
	a.idsAll += b.idsAll
}

func (f *compiledFunnel) result(a *funnelAgg) FunnelResult {
	res := FunnelResult{WindowSeconds: seconds(f.window), Order: f.q.Order, Breakdowns: []FunnelBreakdown{}}
	res.Steps, res.Breakdowns = f.rowsOf(a, 0)
	for s, seg := range f.q.Segments {
		steps, bds := f.rowsOf(a, s+1)
		res.Segments = append(res.Segments, FunnelSegment{Name: seg.Name, Steps: steps, Breakdowns: bds})
	}
	if c := f.q.Customers; c != nil {
		if a.idValues != nil {
			seg := 0
			if c.Segment != "" {
				seg = 1 + slices.IndexFunc(f.q.Segments, func(s Segment) bool { return s.Name == c.Segment })
			}
			_, kept := f.orderedValues(a, seg)
			ids := a.ids[:0]
			for i, id := range a.ids {
				if !kept[a.idValues[i]] {
					ids = append(ids, id)
				}
			}
			a.ids, a.idsAll = ids, int64(len(ids))
		}
		slices.Sort(a.ids)
		n := min(len(a.ids), f.q.Customers.Limit)
		list := &CustomerList{Total: a.idsAll, IDs: make([]string, n)}
		for i := range n {
			list.IDs[i] = CustomerPrefix + strconv.FormatUint(a.ids[i], 10)
		}
		res.Customers = list
	}
	return res
}

// rowsOf gives segment seg's total steps and breakdown rows, folding the
// values past the limit into "(other)".
func (f *compiledFunnel) rowsOf(a *funnelAgg, seg int) ([]FunnelStep, []FunnelBreakdown) {
	total := &funnelRow{reached: make([]int64, f.k), fromPrev: make([][]float64, f.k), fromFrst: make([][]float64, f.k)}
	for key, r := range a.rows {
		if key.seg == seg {
			mergeRow(total, r)
		}
	}
	bds := []FunnelBreakdown{}
	if f.q.Breakdown != nil {
		vals, kept := f.orderedValues(a, seg)
		var other *funnelRow
		for _, v := range vals {
			rows := a.rows[rowKey{seg, v}]
			if kept[v] {
				bds = append(bds, FunnelBreakdown{Value: v, Steps: f.stepsOf(rows)})
				continue
			}
			if other == nil {
				other = &funnelRow{reached: make([]int64, f.k), fromPrev: make([][]float64, f.k), fromFrst: make([][]float64, f.k)}
			}
			mergeRow(other, rows)
		}
		if other != nil {
			bds = append(bds, FunnelBreakdown{Value: BreakdownOther, Steps: f.stepsOf(other)})
		}
	}
	return f.stepsOf(total), bds
}

// orderedValues lists segment seg's breakdown values, most customers at
// the first step first, and which of them get a row of their own (the
// first Limit; the rest, and a value spelled "(other)", fold into
// "(other)").
func (f *compiledFunnel) orderedValues(a *funnelAgg, seg int) ([]string, map[string]bool) {
	var vals []string
	for key := range a.rows {
		if key.seg == seg {
			vals = append(vals, key.bd)
		}
	}
	slices.SortFunc(vals, func(x, y string) int {
		if c := cmp.Compare(a.rows[rowKey{seg, y}].reached[0], a.rows[rowKey{seg, x}].reached[0]); c != 0 {
			return c
		}
		return strings.Compare(x, y)
	})
	kept := map[string]bool{}
	for i, v := range vals {
		if i < f.q.Breakdown.Limit && v != BreakdownOther {
			kept[v] = true
		}
	}
	return vals, kept
}

func mergeRow(dst, src *funnelRow) {
	for l := range dst.reached {
		dst.reached[l] += src.reached[l]
		dst.fromPrev[l] = append(dst.fromPrev[l], src.fromPrev[l]...)
		dst.fromFrst[l] = append(dst.fromFrst[l], src.fromFrst[l]...)
	}
}

func (f *compiledFunnel) stepsOf(r *funnelRow) []FunnelStep {
	steps := make([]FunnelStep, f.k)
	for l := range f.k {
		s := FunnelStep{Event: f.q.Steps[l].Label(), Customers: r.reached[l]}
		if l == 0 {
			s.ConversionFromPrevious = share(r.reached[0], r.reached[0])
		} else {
			s.ConversionFromPrevious = share(r.reached[l], r.reached[l-1])
			s.DropOff = r.reached[l-1] - r.reached[l]
			s.FromPrevious = summarise(r.fromPrev[l])
			s.FromFirst = summarise(r.fromFrst[l])
			if s.FromPrevious != nil {
				m := s.FromPrevious.Median
				s.MedianSecondsFromPrevious = &m
			}
		}
		s.ConversionFromFirst = share(r.reached[l], r.reached[0])
		steps[l] = s
	}
	return steps
}

// share is n/of rounded to six places, 0 when of is 0.
func share(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return roundTo(float64(n)/float64(of), 1e6)
}

func roundTo(x, scale float64) float64 {
	return math.Round(x*scale) / scale
}

// summarise gives the quantiles and histogram of xs (which it sorts), or
// nil when there are none.
func summarise(xs []float64) *TimeStats {
	if len(xs) == 0 {
		return nil
	}
	slices.Sort(xs)
	d := &TimeStats{Count: int64(len(xs)), Median: quantile(xs, 0.5), P25: quantile(xs, 0.25), P75: quantile(xs, 0.75), P90: quantile(xs, 0.9)}
	for b, lo := range histogramEdges {
		bin := Bin{From: lo}
		hi := -1.0
		if b+1 < len(histogramEdges) {
			hi = histogramEdges[b+1]
			bin.To = &hi
		}
		i, _ := slices.BinarySearch(xs, lo)
		k := len(xs)
		if hi >= 0 {
			k, _ = slices.BinarySearch(xs, hi)
		}
		bin.Count = int64(k - i)
		d.Histogram = append(d.Histogram, bin)
	}
	return d
}
