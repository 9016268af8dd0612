package analytics

import (
	"context"
	"strings"
	"time"

	"github.com/trekhq/trek/internal/fault"
)

// Trend measures and intervals.
const (
	MeasureConversion = "conversion" // a funnel's conversion per period
	MeasureVolume     = "volume"     // a step's customers and events per period

	IntervalDay   = "day"
	IntervalWeek  = "week"
	IntervalMonth = "month"

	// MaxTrendPeriods bounds the periods of one range (about three years
	// of days).
	MaxTrendPeriods = 1100
)

// TrendsQuery asks how a funnel's conversion, or a step's volume, moves
// over time: one value per day, week (from Monday) or month, UTC, with
// the same measure over the period just before the range beside it.
type TrendsQuery struct {
	// Measure is "conversion" (Steps, Window, Order, Exclusions as in a
	// funnel; customers are counted in the period of their first step) or
	// "volume" (Event: customers who did it and how often).
	Measure    string    `json:"measure"`
	Steps      []Matcher `json:"steps,omitempty"`
	Window     string    `json:"window,omitempty"`
	Order      string    `json:"order,omitempty"`
	Exclusions []Matcher `json:"exclusions,omitempty"`
	Event      *Matcher  `json:"event,omitempty"`
	// Interval is day (default), week or month.
	Interval string `json:"interval,omitempty"`
	// From and To are required: [From, To). The previous range is as
	// long and ends at From.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// TrendsResult holds a series for the range and one for the range before.
type TrendsResult struct {
	Measure       string       `json:"measure"`
	Interval      string       `json:"interval"`
	Series        []TrendPoint `json:"series"`
	Previous      []TrendPoint `json:"previous"`
	Total         TrendPoint   `json:"total"`
	PreviousTotal TrendPoint   `json:"previousTotal"`
}

// TrendPoint is one period. For conversion, Value is Converted/Customers
// (customers whose first step fell in the period, and those of them who
// reached the last step, possibly after the period); for volume, Value is
// Events.
type TrendPoint struct {
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Customers int64     `json:"customers"`
	Converted int64     `json:"converted,omitempty"`
	Events    int64     `json:"events,omitempty"`
	Value     float64   `json:"value"`
}

// periodStart truncates t to the start of its period, UTC.
func periodStart(t time.Time, interval string) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch interval {
	case IntervalWeek:
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	case IntervalMonth:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return d
}

func nextPeriod(t time.Time, interval string) time.Time {
	switch interval {
	case IntervalWeek:
		return t.AddDate(0, 0, 7)
	case IntervalMonth:
		return t.AddDate(0, 1, 0)
	}
	return t.AddDate(0, 0, 1)
}

// periodCount is about how many periods periods(from, to, interval)
// makes (a few too many at most), without making them.
func periodCount(from, to time.Time, interval string) int {
	days := int(to.Sub(from).Hours()/24) + 2
	switch interval {
	case IntervalWeek:
		return days/7 + 2
	case IntervalMonth:
		return (to.Year()-from.Year())*12 + int(to.Month()) - int(from.Month()) + 1
	}
	return days
}

// periods cuts [from, to) at period boundaries; the first and last may be
// partial.
func periods(from, to time.Time, interval string) []TrendPoint {
	var ps []TrendPoint
	for s := from; s.Before(to); {
		e := nextPeriod(periodStart(s, interval), interval)
		if e.After(to) {
			e = to
		}
		ps = append(ps, TrendPoint{Start: s, End: e})
		s = e
	}
	return ps
}

func (q *TrendsQuery) validate(src Source) (FunnelQuery, error) {
	var p problems
	if q.Interval == "" {
		q.Interval = IntervalDay
	}
	switch q.Interval {
	case IntervalDay, IntervalWeek, IntervalMonth:
	default:
		p.add("interval", "must be one of day, week, month")
	}
	switch {
	case q.From.IsZero():
		p.add("from", "is required")
	case q.To.IsZero():
		p.add("to", "is required")
	default:
		checkRange(&p, q.From, q.To)
		// Counted before the periods are built: a range of centuries
		// in days must cost nothing to refuse.
		if len(p.errs) == 0 && (periodCount(q.From, q.To, q.Interval) > MaxTrendPeriods+3 || len(periods(q.From, q.To, q.Interval)) > MaxTrendPeriods) {
			p.add("to", "the range holds more than %d periods; choose a longer interval", MaxTrendPeriods)
		}
	}
	var fq FunnelQuery
	switch q.Measure {
	case MeasureConversion:
		if len(q.Steps) < 2 {
			p.add("steps", "a conversion trend needs at least two steps")
		}
		fq = FunnelQuery{Steps: q.Steps, Window: q.Window, Order: q.Order, Exclusions: q.Exclusions}
	case MeasureVolume:
		if q.Event == nil {
			p.add("event", "is required for a volume trend")
		} else {
			fq = FunnelQuery{Steps: []Matcher{*q.Event}}
		}
	default:
		p.add("measure", "must be one of conversion, volume")
	}
	if len(p.errs) == 0 {
		fq.defaults()
		if _, err := fq.validate(src, false); err != nil {
			return fq, renamePaths(err, q.Measure)
		}
	}
	return fq, invalid("the trends query is not valid", p.errs)
}

// renamePaths points a funnel error's paths at the trends query's fields.
func renamePaths(err error, measure string) error {
	fe, ok := fault.As(err)
	if !ok {
		return err
	}
	fe.Message = "the trends query is not valid"
	if measure == MeasureVolume {
		for i := range fe.Fields {
			if rest, ok := strings.CutPrefix(fe.Fields[i].Path, "steps[0]"); ok {
				fe.Fields[i].Path = "event" + rest
			}
		}
	}
	return fe
}

// Trends runs a trends query.
func Trends(ctx context.Context, src Source, q TrendsQuery) (TrendsResult, error) {
	fq, err := q.validate(src)
	if err != nil {
		return TrendsResult{}, err
	}
	w, _ := ParseWindow(fq.Window)
	f := compileFunnel(&fq, w, src)
	span := q.To.Sub(q.From)
	cur := periods(q.From, q.To, q.Interval)
	prev := periods(q.From.Add(-span), q.From, q.Interval)
	all := append(append([]TrendPoint(nil), prev...), cur...)
	bounds := make([]int64, len(all)+1)
	for i, p := range all {
		bounds[i] = p.Start.UnixNano()
	}
	bounds[len(all)] = all[len(all)-1].End.UnixNano()

	type acc struct {
		customers, converted, events []int64
		st                           runState
		att                          attempt
		seen                         []int
	}
	accs := make([]*acc, src.Parts())
	for i := range accs {
		accs[i] = &acc{customers: make([]int64, len(all)), converted: make([]int64, len(all)), events: make([]int64, len(all))}
	}
	need := f.need
	need.From, need.To = all[0].Start, q.To
	err = src.Scan(ctx, need, func(part int, j *Journey) error {
		a := accs[part]
		a.st.prepare(f, j)
		// The periods in which this customer did the first step.
		a.seen = a.seen[:0]
		for i := range j.Len() {
			if a.st.masks[i]&1 == 0 {
				continue
			}
			t := j.Times[i]
			if t < bounds[0] || t >= bounds[len(all)] {
				continue
			}
			b := periodOf(bounds, t)
			if q.Measure == MeasureVolume {
				a.events[b]++
			}
			if len(a.seen) == 0 || a.seen[len(a.seen)-1] != b {
				a.seen = append(a.seen, b)
			}
		}
		for _, b := range a.seen {
			a.customers[b]++
			if q.Measure != MeasureConversion {
				continue
			}
			pf := *f
			pf.from, pf.to = bounds[b], bounds[b+1]
			pf.run(j, &a.att, &a.st)
			if a.att.level == f.k {
				a.converted[b]++
			}
		}
		return nil
	})
	if err != nil {
		return TrendsResult{}, err
	}
	for _, a := range accs[1:] {
		for i := range all {
			accs[0].customers[i] += a.customers[i]
			accs[0].converted[i] += a.converted[i]
			accs[0].events[i] += a.events[i]
		}
	}
	a := accs[0]
	res := TrendsResult{Measure: q.Measure, Interval: q.Interval}
	for i := range all {
		p := all[i]
		p.Customers, p.Converted, p.Events = a.customers[i], a.converted[i], a.events[i]
		p.Value = trendValue(q.Measure, p)
		if i < len(prev) {
			res.Previous = append(res.Previous, p)
		} else {
			res.Series = append(res.Series, p)
		}
	}
	res.Total = trendTotal(q.Measure, q.From, q.To, res.Series)
	res.PreviousTotal = trendTotal(q.Measure, q.From.Add(-span), q.From, res.Previous)
	return res, nil
}

// trendTotal sums a series. A customer whose first step fell in two
// periods counts in both periods but once would be right for the total;
// the total therefore counts attempts per period, as the series does, and
// says so in the API guide.
func trendTotal(measure string, from, to time.Time, ps []TrendPoint) TrendPoint {
	t := TrendPoint{Start: from, End: to}
	for _, p := range ps {
		t.Customers += p.Customers
		t.Converted += p.Converted
		t.Events += p.Events
	}
	t.Value = trendValue(measure, t)
	return t
}

func trendValue(measure string, p TrendPoint) float64 {
	if measure == MeasureVolume {
		return float64(p.Events)
	}
	return share(p.Converted, p.Customers)
}

// periodOf finds the period holding t (bounds[0] ≤ t < bounds[last]).
func periodOf(bounds []int64, t int64) int {
	lo, hi := 0, len(bounds)-1
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if bounds[mid] <= t {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}
