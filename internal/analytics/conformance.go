package analytics

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/journey"
)

// Limits of a conformance query.
const (
	defaultConformanceExamples   = 5
	maxConformanceExamples       = 100
	defaultConformanceDeviations = 20
	maxConformanceDeviations     = 1000
	maxConformanceCustomers      = 100
)

// Deviation kinds.
const (
	DeviationSkipped    = "skipped"
	DeviationRepeated   = "repeated"
	DeviationWrongOrder = "wrong_order"
	DeviationOutside    = "outside"
)

// ConformanceQuery measures real journeys against a map's bindings.
type ConformanceQuery struct {
	// MapID names a stored map; the HTTP layer loads it into Map.
	// Conformance itself reads only Map.
	MapID string `json:"mapId,omitempty"`
	// Map is the designed journey. Only its steps with a binding count;
	// the expected order is stage order, then step order in a stage.
	Map *journey.Map `json:"map,omitempty"`
	// From and To bound the events considered, [From, To); either may be
	// zero (open). Events outside the range are ignored altogether.
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// Examples is how many example customers each deviation lists (the
	// lowest customer numbers, so the answer is stable); 0 means 5, at
	// most 100.
	Examples int `json:"examples,omitempty"`
	// Deviations is how many deviations to list, commonest first; 0
	// means 20, at most 1000.
	Deviations int `json:"deviations,omitempty"`
	// Customers asks for the per-journey detail of these customers
	// ("cus_N"), at most 100.
	Customers []string `json:"customers,omitempty"`
}

// ConformanceResult is the map-level answer.
type ConformanceResult struct {
	// BoundSteps is the number of steps with a binding: fitness's
	// denominator.
	BoundSteps int `json:"boundSteps"`
	// Journeys counts the journeys considered: those with at least one
	// event in the range that a bound step matches.
	Journeys int `json:"journeys"`
	// MeanFitness is the mean of the journeys' fitness (0 when none).
	MeanFitness float64 `json:"meanFitness"`
	// EndToEnd counts journeys that hit every bound step in the designed
	// order (fitness 1); repeats and events outside the map in between
	// are allowed. EndToEndShare is their share of Journeys.
	EndToEnd      int     `json:"endToEnd"`
	EndToEndShare float64 `json:"endToEndShare"`
	// Exact counts the end-to-end journeys with no deviation at all: no
	// repeat, nothing out of order, no event outside the map.
	Exact      int     `json:"exact"`
	ExactShare float64 `json:"exactShare"`
	// Steps are the bound steps in map order.
	Steps []ConformanceStep `json:"steps"`
	// Deviations are the commonest deviations, most journeys first;
	// TotalDeviations is how many distinct ones there were.
	Deviations      []ConformanceDeviation `json:"deviations"`
	TotalDeviations int                    `json:"totalDeviations"`
	// Customers holds the detail of the customers the query named that
	// were considered, in the order named.
	Customers []JourneyConformanceDetail `json:"customers,omitempty"`
}

// ConformanceStep is one bound step's numbers.
type ConformanceStep struct {
	StageID string `json:"stageId"`
	StepID  string `json:"stepId"`
	Name    string `json:"name"`
	// Journeys that hit the step at least once.
	Journeys int `json:"journeys"`
	// Skipped, Repeated and WrongOrder count the journeys with that
	// deviation at this step.
	Skipped    int `json:"skipped"`
	Repeated   int `json:"repeated"`
	WrongOrder int `json:"wrongOrder"`
}

// ConformanceDeviation is one way journeys leave the design.
type ConformanceDeviation struct {
	// Kind is "skipped", "repeated", "wrong_order" or "outside".
	Kind string `json:"kind"`
	// Step is the step's id, for the first three kinds.
	Step string `json:"step,omitempty"`
	// Event is the activity, for "outside".
	Event string `json:"event,omitempty"`
	// Journeys with this deviation.
	Journeys int `json:"journeys"`
	// Examples are customer ids ("cus_N"), lowest numbers first.
	Examples []string `json:"examples"`
}

// JourneyConformanceDetail is one journey measured against the map.
type JourneyConformanceDetail struct {
	Customer string  `json:"customer"`
	Fitness  float64 `json:"fitness"`
	// Hit, Skipped, Repeated and WrongOrder are step ids in map order.
	Hit        []string `json:"hit"`
	Skipped    []string `json:"skipped"`
	Repeated   []string `json:"repeated"`
	WrongOrder []string `json:"wrongOrder"`
	// Outside are the activities of events outside the map, by name.
	Outside []string `json:"outside"`
}

// conformanceStep is a bound step compiled.
type conformanceStep struct {
	stageID, stepID, name string
	m                     *matcher
}

// ConformanceModel is a map compiled for measuring journeys against it.
// It is read-only and safe for concurrent use; each goroutine measures
// with its own ConformanceChecker. The live map's metrics use it to
// measure conformance in the same pass as their funnel.
type ConformanceModel struct {
	steps []conformanceStep
	// byAct lists, for each activity code known when compiled, the bound
	// steps (in map order) whose activity set admits it, so that an event
	// is tried only against steps that can match it.
	byAct [][]int32
	// anyAct holds steps matching any activity: tried for codes added to
	// the dictionary after compiling.
	anyAct      []int32
	all         []int32 // every step, for codes given after compiling
	hasLate     bool    // some binding names an event not known then
	traitSteps  []int32
	need        Need
	acts, chans *Dict
}

// CompileConformance compiles the bound steps of m against src's
// dictionaries. It fails with a fault.Invalid naming the step when a
// binding is malformed, or when m has no bound step.
func CompileConformance(m *journey.Map, src Source) (*ConformanceModel, error) {
	var p problems
	cm, err := compileConformance("map", m, src, &p)
	if err != nil {
		return nil, err
	}
	if err := invalid("the map cannot be measured", p.errs); err != nil {
		return nil, err
	}
	return cm, nil
}

func compileConformance(path string, m *journey.Map, src Source, p *problems) (*ConformanceModel, error) {
	if m == nil {
		p.add(path, "is required")
		return nil, nil
	}
	acts, chans := src.Activities(), src.Channels()
	cm := &ConformanceModel{acts: acts, chans: chans}
	nActs := acts.Len()
	cm.byAct = make([][]int32, nActs)
	for si := range m.Stages {
		st := &m.Stages[si]
		for ti := range st.Steps {
			step := &st.Steps[ti]
			if step.Binding == nil {
				continue
			}
			bp := fmt.Sprintf("%s.stages[%d].steps[%d].binding", path, si, ti)
			mt := FromBinding(step.Binding)
			if len(step.Binding.Events) == 0 {
				p.add(bp+".events", "a binding needs at least one event name")
			}
			// A map may name events that have not happened yet.
			mt.validate(bp, acts, true, p.add)
			c := compileMatcher(mt, acts, chans)
			k := int32(len(cm.steps))
			cm.all = append(cm.all, k)
			cm.hasLate = cm.hasLate || c.late != nil
			cm.steps = append(cm.steps, conformanceStep{stageID: st.ID, stepID: step.ID, name: step.Name, m: c})
			mt.need(&cm.need)
			if len(c.traits) > 0 {
				cm.traitSteps = append(cm.traitSteps, k)
			}
			if c.anyAct {
				cm.anyAct = append(cm.anyAct, k)
			}
			for a := range nActs {
				if c.anyAct || (a < len(c.acts) && c.acts[a]) {
					cm.byAct[a] = append(cm.byAct[a], k)
				}
			}
		}
	}
	if len(cm.steps) == 0 && len(p.errs) == 0 {
		p.add(path+".stages", "no step has a binding: bind steps to events to measure the map")
	}
	if len(cm.steps) > 1<<15 {
		return nil, fault.New(fault.TooLarge, "the map has %d bound steps; at most %d can be measured", len(cm.steps), 1<<15)
	}
	return cm, nil
}

// Steps is the number of bound steps.
func (cm *ConformanceModel) Steps() int { return len(cm.steps) }

// StepID returns the id of bound step k (in map order).
func (cm *ConformanceModel) StepID(k int) string { return cm.steps[k].stepID }

// Need is what a Scan must give for the model to measure journeys with
// events in r.
func (cm *ConformanceModel) Need(r Range) Need {
	n := cm.need
	n.From, n.To = r.From, r.To
	return n
}

// JourneyConformance is one journey measured. Its slices belong to the
// checker that made it and are overwritten by its next Check.
type JourneyConformance struct {
	Customer uint64
	// Hits are the bound steps (indexes in map order) that the journey's
	// events in range hit, in journey order, one per matching event.
	Hits []int32
	// Longest is the length of the longest run of Hits strictly rising
	// in map order: how many steps were met in the designed order.
	Longest int
	// Fitness is Longest over the number of bound steps.
	Fitness float64
	// Hit, Skipped, Repeated and WrongOrder are step indexes, ascending.
	// A step is skipped when it was not hit but a later one was: steps
	// after the furthest one reached are not skipped but not reached yet,
	// which the funnel reports as drop-off. A step is repeated when two
	// or more events hit it, and in wrong order when it was hit after a
	// later step had been.
	Hit, Skipped, Repeated, WrongOrder []int32
	// Outside are the activity codes of events in range that match no
	// bound step, each once, in order of first appearance.
	Outside []uint32
	// Events is how many events in range the journey has; OutsideEvents
	// how many of them are outside the map.
	Events, OutsideEvents int
}

// EndToEnd reports whether the journey met every bound step in the
// designed order.
func (c *JourneyConformance) EndToEnd(steps int) bool { return c.Longest == steps }

// Exact reports whether the journey is end to end with no deviation.
func (c *JourneyConformance) Exact(steps int) bool {
	return c.EndToEnd(steps) && len(c.Repeated) == 0 && len(c.WrongOrder) == 0 && len(c.Outside) == 0
}

// ConformanceChecker measures journeys one at a time, reusing its
// buffers. It is not safe for concurrent use.
type ConformanceChecker struct {
	cm     *ConformanceModel
	counts []int32 // hits per step for the journey
	wrong  []bool  // step hit after a later one
	tails  []int32 // longest rising run: smallest tail of each length
	// seenAct marks outside activities already listed for the journey:
	// the journey's stamp at the activity's code.
	seenAct []uint32
	stamp   uint32
	okTrait []bool // step's trait filters pass for the journey
	out     JourneyConformance
}

// NewChecker returns a checker for one goroutine.
func (cm *ConformanceModel) NewChecker() *ConformanceChecker {
	n := len(cm.steps)
	return &ConformanceChecker{cm: cm, counts: make([]int32, n), wrong: make([]bool, n), okTrait: make([]bool, n)}
}

// stepOf returns the first bound step matching event i, or -1.
func (c *ConformanceChecker) stepOf(j *Journey, i int) int32 {
	cm := c.cm
	a := j.Acts[i]
	list := cm.anyAct
	if int(a) < len(cm.byAct) {
		list = cm.byAct[a]
	} else if cm.hasLate {
		// A name the dictionary met after compiling, which a binding
		// may name: try every step, in map order.
		list = cm.all
	}
	for _, k := range list {
		st := &cm.steps[k]
		if !st.m.matchCode(a, j.Chans[i]) {
			continue
		}
		if len(st.m.traits) > 0 && !c.okTrait[k] {
			continue
		}
		if len(st.m.event) > 0 && !st.m.match(j, i) {
			continue
		}
		return k
	}
	return -1
}

// Check measures j's events in r. It returns false when the journey is
// not considered: none of its events in range hits a bound step.
func (c *ConformanceChecker) Check(j *Journey, r Range) (*JourneyConformance, bool) {
	cm := c.cm
	from, to := r.fromNanos(), r.toNanos()
	lo, _ := slices.BinarySearch(j.Times, from)
	hi := lo
	for hi < len(j.Times) && j.Times[hi] < to {
		hi++
	}
	out := &c.out
	*out = JourneyConformance{Customer: j.Customer, Hits: out.Hits[:0], Hit: out.Hit[:0],
		Skipped: out.Skipped[:0], Repeated: out.Repeated[:0], WrongOrder: out.WrongOrder[:0],
		Outside: out.Outside[:0], Events: hi - lo}
	if hi == lo {
		return out, false
	}
	for _, k := range cm.traitSteps {
		c.okTrait[k] = cm.steps[k].m.matchCustomer(j)
	}
	c.stamp++
	if c.stamp == 0 {
		clear(c.seenAct)
		c.stamp = 1
	}
	furthest := int32(-1)
	c.tails = c.tails[:0]
	for i := lo; i < hi; i++ {
		k := c.stepOf(j, i)
		if k < 0 {
			out.OutsideEvents++
			a := j.Acts[i]
			for int(a) >= len(c.seenAct) {
				c.seenAct = append(c.seenAct, 0)
			}
			if c.seenAct[a] != c.stamp {
				c.seenAct[a] = c.stamp
				out.Outside = append(out.Outside, a)
			}
			continue
		}
		out.Hits = append(out.Hits, k)
		c.counts[k]++
		if k < furthest {
			c.wrong[k] = true
		}
		furthest = max(furthest, k)
		// Patience sorting: the longest strictly rising run of hits.
		p, _ := slices.BinarySearch(c.tails, k)
		if p == len(c.tails) {
			c.tails = append(c.tails, k)
		} else {
			c.tails[p] = k
		}
	}
	if len(out.Hits) == 0 {
		return out, false
	}
	for k := range furthest + 1 {
		switch {
		case c.counts[k] == 0:
			out.Skipped = append(out.Skipped, k)
			continue
		case c.counts[k] > 1:
			out.Repeated = append(out.Repeated, k)
		}
		out.Hit = append(out.Hit, k)
		if c.wrong[k] {
			out.WrongOrder = append(out.WrongOrder, k)
		}
		c.counts[k] = 0
		c.wrong[k] = false
	}
	out.Longest = len(c.tails)
	out.Fitness = float64(out.Longest) / float64(len(cm.steps))
	return out, true
}

// ConformanceAccumulator sums measured journeys into map-level numbers.
// Keep one per Scan part and Merge them at the end.
type ConformanceAccumulator struct {
	cm       *ConformanceModel
	examples int
	journeys int
	longest  int64 // sum of Longest, so the mean is exact and order-free
	endToEnd int
	exact    int
	hit      []int
	// Step deviations by kind (skipped, repeated, wrong order) and step.
	steps [3][]conformanceDev
	// outside deviations by activity code.
	outside map[uint32]*conformanceDev
}

type conformanceDev struct {
	journeys int
	examples []uint64 // ascending, at most the accumulator's examples
}

// add counts one journey, keeping the lowest customer numbers as
// examples.
func (d *conformanceDev) add(customer uint64, limit int) {
	d.journeys++
	if len(d.examples) == limit && (limit == 0 || customer >= d.examples[limit-1]) {
		return
	}
	p, found := slices.BinarySearch(d.examples, customer)
	if found {
		return
	}
	if len(d.examples) == limit {
		d.examples = d.examples[:limit-1]
	}
	d.examples = slices.Insert(d.examples, p, customer)
}

func (d *conformanceDev) merge(o *conformanceDev, limit int) {
	d.journeys += o.journeys
	d.examples = append(d.examples, o.examples...)
	slices.Sort(d.examples)
	d.examples = slices.Compact(d.examples)
	if len(d.examples) > limit {
		d.examples = d.examples[:limit]
	}
}

// NewAccumulator returns an empty accumulator keeping up to examples
// example customers per deviation.
func (cm *ConformanceModel) NewAccumulator(examples int) *ConformanceAccumulator {
	n := len(cm.steps)
	a := &ConformanceAccumulator{cm: cm, examples: examples, hit: make([]int, n), outside: map[uint32]*conformanceDev{}}
	for i := range a.steps {
		a.steps[i] = make([]conformanceDev, n)
	}
	return a
}

// Add counts one measured journey.
func (a *ConformanceAccumulator) Add(c *JourneyConformance) {
	n := len(a.cm.steps)
	a.journeys++
	a.longest += int64(c.Longest)
	if c.EndToEnd(n) {
		a.endToEnd++
		if c.Exact(n) {
			a.exact++
		}
	}
	for _, k := range c.Hit {
		a.hit[k]++
	}
	for kind, list := range [3][]int32{c.Skipped, c.Repeated, c.WrongOrder} {
		for _, k := range list {
			a.steps[kind][k].add(c.Customer, a.examples)
		}
	}
	for _, act := range c.Outside {
		d := a.outside[act]
		if d == nil {
			d = &conformanceDev{}
			a.outside[act] = d
		}
		d.add(c.Customer, a.examples)
	}
}

// Merge adds b's counts to a.
func (a *ConformanceAccumulator) Merge(b *ConformanceAccumulator) {
	a.journeys += b.journeys
	a.longest += b.longest
	a.endToEnd += b.endToEnd
	a.exact += b.exact
	for k, h := range b.hit {
		a.hit[k] += h
	}
	for kind := range a.steps {
		for k := range a.steps[kind] {
			a.steps[kind][k].merge(&b.steps[kind][k], a.examples)
		}
	}
	for act, d := range b.outside {
		if m := a.outside[act]; m != nil {
			m.merge(d, a.examples)
		} else {
			a.outside[act] = d
		}
	}
}

// Result renders the accumulated numbers, listing at most deviations
// deviations.
func (a *ConformanceAccumulator) Result(deviations int) ConformanceResult {
	cm := a.cm
	n := len(cm.steps)
	res := ConformanceResult{BoundSteps: n, Journeys: a.journeys, EndToEnd: a.endToEnd, Exact: a.exact,
		Steps: make([]ConformanceStep, n), Deviations: []ConformanceDeviation{}}
	if a.journeys > 0 && n > 0 {
		res.MeanFitness = float64(a.longest) / float64(int64(a.journeys)*int64(n))
		res.EndToEndShare = float64(a.endToEnd) / float64(a.journeys)
		res.ExactShare = float64(a.exact) / float64(a.journeys)
	}
	type ranked struct {
		kind  int // 0..2 step kinds, 3 outside: the order of ties
		step  int
		event string
		d     *conformanceDev
	}
	var all []ranked
	for k := range n {
		st := &cm.steps[k]
		res.Steps[k] = ConformanceStep{StageID: st.stageID, StepID: st.stepID, Name: st.name, Journeys: a.hit[k],
			Skipped: a.steps[0][k].journeys, Repeated: a.steps[1][k].journeys, WrongOrder: a.steps[2][k].journeys}
		for kind := range a.steps {
			if d := &a.steps[kind][k]; d.journeys > 0 {
				all = append(all, ranked{kind: kind, step: k, d: d})
			}
		}
	}
	for act, d := range a.outside {
		all = append(all, ranked{kind: 3, event: cm.acts.Name(act), d: d})
	}
	slices.SortFunc(all, func(x, y ranked) int {
		return cmp.Or(cmp.Compare(y.d.journeys, x.d.journeys), cmp.Compare(x.kind, y.kind),
			cmp.Compare(x.step, y.step), strings.Compare(x.event, y.event))
	})
	res.TotalDeviations = len(all)
	kinds := [4]string{DeviationSkipped, DeviationRepeated, DeviationWrongOrder, DeviationOutside}
	for _, r := range all[:min(len(all), deviations)] {
		d := ConformanceDeviation{Kind: kinds[r.kind], Journeys: r.d.journeys, Examples: make([]string, len(r.d.examples))}
		if r.kind < 3 {
			d.Step = cm.steps[r.step].stepID
		} else {
			d.Event = r.event
		}
		for i, c := range r.d.examples {
			d.Examples[i] = CustomerPrefix + strconv.FormatUint(c, 10)
		}
		res.Deviations = append(res.Deviations, d)
	}
	return res
}

// detail renders one journey for the answer.
func (cm *ConformanceModel) detail(c *JourneyConformance) JourneyConformanceDetail {
	ids := func(ks []int32) []string {
		out := make([]string, len(ks))
		for i, k := range ks {
			out[i] = cm.steps[k].stepID
		}
		return out
	}
	d := JourneyConformanceDetail{Customer: CustomerPrefix + strconv.FormatUint(c.Customer, 10),
		Fitness: c.Fitness, Hit: ids(c.Hit), Skipped: ids(c.Skipped), Repeated: ids(c.Repeated),
		WrongOrder: ids(c.WrongOrder), Outside: make([]string, len(c.Outside))}
	for i, a := range c.Outside {
		d.Outside[i] = cm.acts.Name(a)
	}
	slices.Sort(d.Outside)
	return d
}

func (q *ConformanceQuery) normalize() {
	if q.Examples == 0 {
		q.Examples = defaultConformanceExamples
	}
	if q.Deviations == 0 {
		q.Deviations = defaultConformanceDeviations
	}
}

// validate checks q and compiles its map.
func (q ConformanceQuery) validate(src Source) (*ConformanceModel, map[uint64]int, error) {
	var p problems
	cm, err := compileConformance("map", q.Map, src, &p)
	if err != nil {
		return nil, nil, err
	}
	checkRange(&p, q.From, q.To)
	if q.Examples < 0 || q.Examples > maxConformanceExamples {
		p.add("examples", "must be from 0 to %d", maxConformanceExamples)
	}
	if q.Deviations < 0 || q.Deviations > maxConformanceDeviations {
		p.add("deviations", "must be from 0 to %d", maxConformanceDeviations)
	}
	if len(q.Customers) > maxConformanceCustomers {
		p.add("customers", "has %d items; at most %d are allowed", len(q.Customers), maxConformanceCustomers)
	}
	wanted := map[uint64]int{}
	for i, id := range q.Customers {
		n, err := strconv.ParseUint(strings.TrimPrefix(id, CustomerPrefix), 10, 64)
		if !strings.HasPrefix(id, CustomerPrefix) || err != nil {
			p.add(fmt.Sprintf("customers[%d]", i), "%q is not a customer id (cus_ and a number)", id)
			continue
		}
		if _, dup := wanted[n]; !dup {
			wanted[n] = i
		}
	}
	return cm, wanted, invalid("the conformance query is not valid", p.errs)
}

// Conformance measures the journeys with events in the range against the
// map's bound steps: per step, per deviation and for the map as a whole.
func Conformance(ctx context.Context, src Source, q ConformanceQuery) (ConformanceResult, error) {
	cm, wanted, err := q.validate(src)
	if err != nil {
		return ConformanceResult{}, err
	}
	q.normalize()
	r := Range{q.From, q.To}
	type part struct {
		ch      *ConformanceChecker
		acc     *ConformanceAccumulator
		details map[uint64]JourneyConformanceDetail
	}
	parts := make([]part, src.Parts())
	for i := range parts {
		parts[i] = part{ch: cm.NewChecker(), acc: cm.NewAccumulator(q.Examples), details: map[uint64]JourneyConformanceDetail{}}
	}
	err = src.Scan(ctx, cm.Need(r), func(pi int, j *Journey) error {
		pt := &parts[pi]
		c, ok := pt.ch.Check(j, r)
		if !ok {
			return nil
		}
		pt.acc.Add(c)
		if len(wanted) == 0 {
			return nil
		}
		if _, want := wanted[j.Customer]; want {
			pt.details[j.Customer] = cm.detail(c)
		}
		return nil
	})
	if err != nil {
		return ConformanceResult{}, fmt.Errorf("conformance: %w", err)
	}
	acc := parts[0].acc
	for _, pt := range parts[1:] {
		acc.Merge(pt.acc)
	}
	res := acc.Result(q.Deviations)
	for _, id := range q.Customers {
		n, err := strconv.ParseUint(strings.TrimPrefix(id, CustomerPrefix), 10, 64)
		if err != nil {
			continue
		}
		for _, pt := range parts {
			if d, ok := pt.details[n]; ok {
				res.Customers = append(res.Customers, d)
				delete(pt.details, n) // a customer named twice is listed once
				break
			}
		}
	}
	return res, nil
}
