package analytics

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/trekhq/trek/internal/journey"
)

// DefaultMapWindow is the conversion window of a live map when the query
// gives none: a map spans a whole journey, which takes longer than a
// session funnel.
const DefaultMapWindow = "30d"

// MapMetricsQuery asks for a map's live numbers.
type MapMetricsQuery struct {
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// Window is the conversion window from the first bound step; default
	// 30d.
	Window string `json:"window,omitempty"`
	// Segment narrows every number to one group of customers.
	Segment *Segment `json:"segment,omitempty"`
}

// MapMetrics is a map measured against the data: the bound steps as an
// ordered funnel in map order, stage totals and conformance.
type MapMetrics struct {
	From          time.Time `json:"from,omitzero"`
	To            time.Time `json:"to,omitzero"`
	WindowSeconds float64   `json:"windowSeconds"`
	// Customers reached the first bound step in the range.
	Customers  int64          `json:"customers"`
	Steps      []StepMetrics  `json:"steps"`
	Stages     []StageMetrics `json:"stages"`
	BoundSteps int            `json:"boundSteps"`
	// WorstDropOffs are the ids of the bound steps losing the largest
	// share of the customers who reached the step before them, worst
	// first (at most three, only steps that lose someone).
	WorstDropOffs []string `json:"worstDropOffs"`
	// Conformance is the conformance of the range's journeys to the map
	// (nil when the map has no bound step).
	Conformance *ConformanceResult `json:"conformance"`
}

// StepMetrics is one step's numbers; steps without a binding have only
// their ids. A map's steps are not a strict funnel (a customer arriving
// from a search skips the ad step), so each bound step is measured from
// the bound step before it and from the first: the share of the customers
// who did that step in the range and then did this one within the
// window.
type StepMetrics struct {
	StageID string `json:"stageId"`
	StepID  string `json:"stepId"`
	Name    string `json:"name"`
	Bound   bool   `json:"bound"`
	// Customers did the step in the range (in any order).
	Customers int64 `json:"customers"`
	// FromPrevious counts the customers who did the previous bound step
	// in the range and this one after it within the window;
	// ConversionFromPrevious is their share of the previous step's
	// Customers.
	FromPrevious           int64   `json:"fromPrevious"`
	ConversionFromPrevious float64 `json:"conversionFromPrevious"`
	// FromStart and ConversionFromStart: the same from the first bound
	// step.
	FromStart           int64   `json:"fromStart"`
	ConversionFromStart float64 `json:"conversionFromStart"`
	// DropOff is the customers who did the previous bound step and did
	// not go on to this one; DropOffShare their share.
	DropOff      int64   `json:"dropOff"`
	DropOffShare float64 `json:"dropOffShare"`
	// MedianSecondsFromPrevious is the converters' median time from the
	// previous bound step (null when none converted).
	MedianSecondsFromPrevious *float64 `json:"medianSecondsFromPrevious"`
	// InOrder counts the customers who reached this step going through
	// every bound step before it in map order, as an ordered funnel of
	// the whole map counts them.
	InOrder int64 `json:"inOrder"`
	// MeasuredEmotion is how customers said they felt about the step:
	// the mean score (−2..2) of the range's emotion survey answers about
	// one of the step's events (see SurveyEvent). Null without answers.
	MeasuredEmotion *Emotion `json:"measuredEmotion"`
}

// Emotion is a measured emotion: the mean of Responses scores.
type Emotion struct {
	Responses int64   `json:"responses"`
	Mean      float64 `json:"mean"`
}

// The survey answers the live map reads: an event named SurveyEvent with
// properties survey_type "emotion", about_event (the activity the answer
// is about) and score (−2..2), as trek gen writes them and as a survey
// tool's webhook can send them.
const (
	SurveyEvent      = "Survey Responded"
	surveyTypeProp   = "survey_type"
	surveyEmotion    = "emotion"
	surveyAboutProp  = "about_event"
	surveyScoreProp  = "score"
	surveyEmotionMin = -2
	surveyEmotionMax = 2
)

// StageMetrics totals a stage: customers reaching its first bound step
// and its last.
type StageMetrics struct {
	StageID    string  `json:"stageId"`
	Name       string  `json:"name"`
	Bound      bool    `json:"bound"`
	Entered    int64   `json:"entered"`
	Completed  int64   `json:"completed"`
	Conversion float64 `json:"conversion"`
	// DropOff is the customers who entered the stage and did not
	// complete it.
	DropOff int64 `json:"dropOff"`
}

// MapMetricsFor measures m over src.
func MapMetricsFor(ctx context.Context, src Source, m *journey.Map, q MapMetricsQuery) (MapMetrics, error) {
	if q.Window == "" {
		q.Window = DefaultMapWindow
	}
	var p problems
	w, err := ParseWindow(q.Window)
	if err != nil {
		p.add("window", "%s", err.Error())
	}
	checkRange(&p, q.From, q.To)
	if s := q.Segment; s != nil {
		if len(s.Where) > journey.MaxFilters {
			p.add("segment.where", "has %d items; at most %d are allowed", len(s.Where), journey.MaxFilters)
		}
		for k, f := range s.Where {
			journey.ValidateFilter(fmt.Sprintf("segment.where[%d]", k), f, p.add)
		}
		if s.Performed != nil {
			s.Performed.validate("segment.performed", src.Activities(), true, p.add)
		}
	}
	if err := invalid("the metrics query is not valid", p.errs); err != nil {
		return MapMetrics{}, err
	}
	if q.Segment != nil {
		src = Filter(src, *q.Segment, Range{q.From, q.To})
	}
	res := MapMetrics{From: q.From, To: q.To, WindowSeconds: seconds(int64(w)), Steps: []StepMetrics{}, Stages: []StageMetrics{}, WorstDropOffs: []string{}}
	var bound []Matcher
	var boundIdx []int // index into res.Steps
	for _, st := range m.Stages {
		for _, sp := range st.Steps {
			sm := StepMetrics{StageID: st.ID, StepID: sp.ID, Name: sp.Name, Bound: sp.Binding != nil}
			if sp.Binding != nil {
				bound = append(bound, FromBinding(sp.Binding))
				boundIdx = append(boundIdx, len(res.Steps))
			}
			res.Steps = append(res.Steps, sm)
		}
	}
	res.BoundSteps = len(bound)
	stageDone := map[string]int64{}
	if len(bound) > MaxFunnelSteps {
		var p problems
		p.add("stages", "the map has %d bound steps; at most %d can be measured", len(bound), MaxFunnelSteps)
		return MapMetrics{}, invalid("the map cannot be measured", p.errs)
	}
	if len(bound) > 0 {
		w, _ := ParseWindow(q.Window)
		// The pairs measured: each bound step from the one before, from
		// the first, and each stage from its first bound step to its last.
		var pairs [][2]int
		for b := 1; b < len(bound); b++ {
			pairs = append(pairs, [2]int{b - 1, b}, [2]int{0, b})
		}
		stagePair := map[string]int{}
		for _, st := range m.Stages {
			first, last := -1, -1
			for b, i := range boundIdx {
				if res.Steps[i].StageID == st.ID {
					if first < 0 {
						first = b
					}
					last = b
				}
			}
			if first >= 0 && last > first {
				stagePair[st.ID] = len(pairs)
				pairs = append(pairs, [2]int{first, last})
			}
		}
		pm, err := pairwise(ctx, src, bound, pairs, w, Range{q.From, q.To})
		if err != nil {
			return MapMetrics{}, fmt.Errorf("measure the map's steps: %w", err)
		}
		for id, p := range stagePair {
			stageDone[id] = pm.converted[p]
		}
		fr, err := funnel(ctx, src, FunnelQuery{Steps: bound, Window: q.Window, From: q.From, To: q.To}, true)
		if err != nil {
			return MapMetrics{}, fmt.Errorf("measure the map's steps in order: %w", err)
		}
		res.Customers = pm.did[0]
		for b, i := range boundIdx {
			sm := &res.Steps[i]
			sm.Customers = pm.did[b]
			sm.InOrder = fr.Steps[b].Customers
			if b == 0 {
				sm.FromStart, sm.ConversionFromStart = pm.did[0], share(pm.did[0], pm.did[0])
				continue
			}
			prev, first := 2*(b-1), 2*(b-1)+1 // their places in pairs
			sm.FromPrevious = pm.converted[prev]
			sm.ConversionFromPrevious = share(sm.FromPrevious, pm.did[b-1])
			sm.FromStart = pm.converted[first]
			sm.ConversionFromStart = share(sm.FromStart, pm.did[0])
			sm.DropOff = pm.did[b-1] - sm.FromPrevious
			sm.DropOffShare = share(sm.DropOff, pm.did[b-1])
			if ts := pm.times[prev]; len(ts) > 0 {
				slices.Sort(ts)
				m := quantile(ts, 0.5)
				sm.MedianSecondsFromPrevious = &m
			}
		}
		emotions, err := measuredEmotions(ctx, src, m, Range{q.From, q.To})
		if err != nil {
			return MapMetrics{}, fmt.Errorf("measure the map's emotions: %w", err)
		}
		for i := range res.Steps {
			if e, ok := emotions[res.Steps[i].StepID]; ok {
				res.Steps[i].MeasuredEmotion = &e
			}
		}
		cr, err := Conformance(ctx, src, ConformanceQuery{Map: m, From: q.From, To: q.To})
		if err != nil {
			return MapMetrics{}, fmt.Errorf("measure the map's conformance: %w", err)
		}
		res.Conformance = &cr
	}
	for _, st := range m.Stages {
		sg := StageMetrics{StageID: st.ID, Name: st.Name}
		var first, last *StepMetrics
		for i := range res.Steps {
			if s := &res.Steps[i]; s.StageID == st.ID && s.Bound {
				if first == nil {
					first = s
				}
				last = s
			}
		}
		if first != nil {
			sg.Bound = true
			sg.Entered, sg.Completed = first.Customers, last.Customers
			if first != last {
				// Completed: went from the stage's first bound step to
				// its last, which pairwise counts give only for
				// neighbours; the stage is measured as its own funnel.
				sg.Completed = stageDone[st.ID]
			}
			sg.Conversion = share(sg.Completed, sg.Entered)
			sg.DropOff = sg.Entered - sg.Completed
		}
		res.Stages = append(res.Stages, sg)
	}
	var worst []StepMetrics
	for _, s := range res.Steps {
		if s.Bound && s.DropOff > 0 {
			worst = append(worst, s)
		}
	}
	slices.SortStableFunc(worst, func(a, b StepMetrics) int { return cmp.Compare(b.DropOffShare, a.DropOffShare) })
	for _, s := range worst[:min(3, len(worst))] {
		res.WorstDropOffs = append(res.WorstDropOffs, s.StepID)
	}
	return res, nil
}

// pairCounts holds, per matcher, the customers who matched it in the
// range, and per pair (a, b) the customers who did a in the range and b
// after it within the window, with the seconds from a to b of each.
type pairCounts struct {
	did       []int64
	converted []int64
	times     [][]float64
}

// pairwise measures 2-step ordered funnels between matchers in one pass:
// for each pair, windowFunnel's rule with two steps (the latest a before
// a b, within the window of that a; one event fills one step).
func pairwise(ctx context.Context, src Source, ms []Matcher, pairs [][2]int, w time.Duration, r Range) (pairCounts, error) {
	acts, chans := src.Activities(), src.Channels()
	cms := make([]*matcher, len(ms))
	var need Need
	for i, m := range ms {
		cms[i] = compileMatcher(m, acts, chans)
		m.need(&need)
	}
	need.From, need.To = r.From, r.To
	actMask, chanMask, anyAct, complex := masks(cms, acts.Len(), chans.Len())
	from, to, window := r.fromNanos(), r.toNanos(), int64(w)
	type acc struct {
		pc    pairCounts
		masks []uint32
	}
	accs := make([]*acc, src.Parts())
	for i := range accs {
		accs[i] = &acc{pc: pairCounts{did: make([]int64, len(ms)), converted: make([]int64, len(pairs)), times: make([][]float64, len(pairs))}}
	}
	err := src.Scan(ctx, need, func(part int, j *Journey) error {
		a := accs[part]
		n := j.Len()
		a.masks = slices.Grow(a.masks[:0], n)[:n]
		var seen uint32
		for i := range n {
			m := candidates(cms, actMask, chanMask, anyAct, complex, j, i)
			a.masks[i] = m
			if t := j.Times[i]; t >= from && t < to {
				seen |= m
			}
		}
		for s := range ms {
			if seen&(1<<s) != 0 {
				a.pc.did[s]++
			}
		}
		for p, pr := range pairs {
			abit, bbit := uint32(1)<<pr[0], uint32(1)<<pr[1]
			if seen&abit == 0 {
				continue
			}
			start := int64(minNanos)
			have := false
			for i := range n {
				m := a.masks[i]
				if m&bbit != 0 && have && within(start, j.Times[i], window) {
					a.pc.converted[p]++
					a.pc.times[p] = append(a.pc.times[p], seconds(j.Times[i]-start))
					break
				}
				if t := j.Times[i]; m&abit != 0 && t >= from && t < to {
					start, have = t, true
				}
			}
		}
		return nil
	})
	if err != nil {
		return pairCounts{}, err
	}
	out := accs[0].pc
	for _, a := range accs[1:] {
		for i := range out.did {
			out.did[i] += a.pc.did[i]
		}
		for p := range pairs {
			out.converted[p] += a.pc.converted[p]
			out.times[p] = append(out.times[p], a.pc.times[p]...)
		}
	}
	return out, nil
}

// measuredEmotions averages the emotion survey answers in r per bound
// step, by the answers' about_event. It needs the events' properties: on
// a compact Index it fails with ErrNeedsEvents, and the caller measures
// the map on the store.
func measuredEmotions(ctx context.Context, src Source, m *journey.Map, r Range) (map[string]Emotion, error) {
	code, ok := src.Activities().Lookup(SurveyEvent)
	if !ok {
		return nil, nil
	}
	stepsOf := map[string][]string{} // about_event → step ids
	for _, st := range m.Stages {
		for _, sp := range st.Steps {
			if sp.Binding != nil {
				for _, e := range sp.Binding.Events {
					stepsOf[e] = append(stepsOf[e], sp.ID)
				}
			}
		}
	}
	type sum struct {
		n     int64
		total float64
	}
	parts := make([]map[string]sum, src.Parts())
	from, to := r.fromNanos(), r.toNanos()
	err := src.Scan(ctx, Need{Events: true, From: r.From, To: r.To}, func(part int, j *Journey) error {
		if parts[part] == nil {
			parts[part] = map[string]sum{}
		}
		for i, a := range j.Acts {
			if a != code || j.Times[i] < from || j.Times[i] >= to {
				continue
			}
			p := j.Properties(i)
			if text(p[surveyTypeProp]) != surveyEmotion {
				continue
			}
			score, ok := number(p[surveyScoreProp])
			if !ok || score < surveyEmotionMin || score > surveyEmotionMax {
				continue
			}
			for _, id := range stepsOf[text(p[surveyAboutProp])] {
				s := parts[part][id]
				s.n++
				s.total += score
				parts[part][id] = s
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := map[string]Emotion{}
	total := map[string]sum{}
	for _, p := range parts {
		for id, s := range p {
			t := total[id]
			t.n += s.n
			t.total += s.total
			total[id] = t
		}
	}
	for id, s := range total {
		out[id] = Emotion{Responses: s.n, Mean: roundTo(s.total/float64(s.n), 1e4)}
	}
	return out, nil
}
