package analytics

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Retention periods.
const (
	PeriodDay   = "day"
	PeriodWeek  = "week"
	PeriodMonth = "month"
)

// Limits of a retention query.
const (
	defaultRetentionPeriods = 8
	maxRetentionPeriods     = 52
	// maxRetentionCohorts bounds the answer: a day cohort per day of
	// several years is not a chart anyone reads, and is a large answer.
	maxRetentionCohorts = 1000
)

// RetentionQuery asks which share of the customers who did a start event
// come back with a return event in each later period.
type RetentionQuery struct {
	// Start is the event that puts a customer in a cohort: the cohort is
	// the period (UTC) of the customer's first start event in
	// [From, To). Required in practice; empty means any event, so that
	// cohorts are of first activity in the range.
	Start Matcher `json:"start"`
	// Return is the event that counts as coming back; nil means any
	// event.
	Return *Matcher `json:"return,omitempty"`
	// Period is "day", "week" (weeks start on Monday) or "month"; empty
	// means "week".
	Period string `json:"period,omitempty"`
	// From and To bound the start events, [From, To); either may be zero
	// (open). Return events are counted after To as well, up to AsOf.
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// Periods is how many periods after the cohort's own to report:
	// periods 0 to Periods. 0 means 8; at most 52.
	Periods int `json:"periods,omitempty"`
	// AsOf is the moment the data is read as of: return events from AsOf
	// on are ignored and a period that ends after it is not complete.
	// Zero means just after the latest event of the customers considered,
	// which on a live workspace is about now.
	AsOf time.Time `json:"asOf,omitzero"`
}

// RetentionResult is a retention query's answer.
type RetentionResult struct {
	// Period echoes the period used.
	Period string `json:"period"`
	// AsOf is the moment completeness was judged against (the query's,
	// or the one derived from the data).
	AsOf time.Time `json:"asOf,omitzero"`
	// Cohorts, oldest first; cohorts with no customer are left out.
	Cohorts []RetentionCohort `json:"cohorts"`
	// Summary is every cohort together: for each period, the customers
	// returning in it over the customers of the cohorts for which that
	// period is complete. A period complete for no cohort is left out,
	// so an incomplete period never drags the average down.
	Summary RetentionSummary `json:"summary"`
}

// RetentionCohort is the customers whose first start event fell in one
// period.
type RetentionCohort struct {
	// Start is the beginning of the cohort's period (UTC).
	Start time.Time `json:"start"`
	// Customers is the cohort's size.
	Customers int `json:"customers"`
	// Periods are periods 0..N after the cohort's own. Period 0 is the
	// cohort's own period: customers returning later in it, after their
	// start event. Periods that begin after AsOf are left out.
	Periods []RetentionPeriod `json:"periods"`
}

// RetentionPeriod is one period of a cohort.
type RetentionPeriod struct {
	// Period is k: the k-th period after the cohort's own.
	Period int `json:"period"`
	// Customers of the cohort with a return event in the period.
	Customers int `json:"customers"`
	// Share is Customers over the cohort's size.
	Share float64 `json:"share"`
	// Complete is false when the period ends after AsOf: its numbers are
	// a count so far, not final.
	Complete bool `json:"complete"`
}

// RetentionSummary is the all-cohorts row.
type RetentionSummary struct {
	// Customers in every cohort together.
	Customers int `json:"customers"`
	// Periods holds, for each period complete for at least one cohort,
	// the weighted return share over those cohorts.
	Periods []RetentionSummaryPeriod `json:"periods"`
}

// RetentionSummaryPeriod is one period of the summary row.
type RetentionSummaryPeriod struct {
	Period int `json:"period"`
	// Customers returning in the period, over the cohorts counted.
	Customers int `json:"customers"`
	// Cohorts is how many cohorts have this period complete, and
	// CohortCustomers their size together: the share's denominator.
	Cohorts         int `json:"cohorts"`
	CohortCustomers int `json:"cohortCustomers"`
	// Share is Customers over CohortCustomers.
	Share float64 `json:"share"`
}

func (q *RetentionQuery) normalize() {
	if q.Period == "" {
		q.Period = PeriodWeek
	}
	if q.Periods == 0 {
		q.Periods = defaultRetentionPeriods
	}
}

func (q RetentionQuery) validate(src Source) error {
	var p problems
	q.Start.validate("start", src.Activities(), false, p.add)
	if q.Return != nil {
		q.Return.validate("return", src.Activities(), false, p.add)
	}
	switch q.Period {
	case "", PeriodDay, PeriodWeek, PeriodMonth:
	default:
		p.add("period", "must be one of day, week, month")
	}
	if q.Periods < 0 || q.Periods > maxRetentionPeriods {
		p.add("periods", "must be from 1 to %d", maxRetentionPeriods)
	}
	checkRange(&p, q.From, q.To)
	return invalid("the retention query is not valid", p.errs)
}

// retentionClock does the calendar arithmetic of one period kind in UTC.
type retentionClock string

// start returns the beginning of the period holding t.
func (c retentionClock) start(t time.Time) time.Time {
	t = t.UTC()
	y, m, d := t.Date()
	switch c {
	case PeriodDay:
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	case PeriodWeek:
		// Weekday counts from Sunday; weeks here start on Monday (ISO).
		back := (int(t.Weekday()) + 6) % 7
		return time.Date(y, m, d-back, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
}

// add returns the beginning of the k-th period after the one beginning at
// s. Days and weeks are fixed lengths in UTC, months are not.
func (c retentionClock) add(s time.Time, k int) time.Time {
	switch c {
	case PeriodDay:
		return s.AddDate(0, 0, k)
	case PeriodWeek:
		return s.AddDate(0, 0, 7*k)
	}
	return s.AddDate(0, k, 0)
}

// index returns which period after the one beginning at s holds t
// (t ≥ s).
func (c retentionClock) index(s time.Time, t int64) int {
	const day = int64(24 * time.Hour)
	switch c {
	case PeriodDay:
		return int((t - s.UnixNano()) / day)
	case PeriodWeek:
		return int((t - s.UnixNano()) / (7 * day))
	}
	u := time.Unix(0, t).UTC()
	return (u.Year()-s.Year())*12 + int(u.Month()) - int(s.Month())
}

// retentionCohortAcc accumulates one cohort in one part.
type retentionCohortAcc struct {
	customers int
	returned  []int // by period
}

// Retention computes cohorts of customers by the period of their first
// start event in the range and the share of each cohort returning in each
// later period.
func Retention(ctx context.Context, src Source, q RetentionQuery) (RetentionResult, error) {
	if err := q.validate(src); err != nil {
		return RetentionResult{}, err
	}
	q.normalize()
	clock := retentionClock(q.Period)
	acts, chans := src.Activities(), src.Channels()
	start := compileMatcher(q.Start, acts, chans)
	ret := compileMatcher(Matcher{}, acts, chans)
	need := Need{From: q.From, To: q.To}
	q.Start.need(&need)
	if q.Return != nil {
		ret = compileMatcher(*q.Return, acts, chans)
		q.Return.need(&need)
	}
	rng := Range{q.From, q.To}
	from, to := rng.fromNanos(), rng.toNanos()
	asOf := int64(maxNanos)
	if !q.AsOf.IsZero() {
		asOf = q.AsOf.UnixNano()
	}
	n := q.Periods + 1

	type part struct {
		cohorts map[int64]*retentionCohortAcc
		latest  int64
	}
	parts := make([]part, src.Parts())
	for i := range parts {
		parts[i] = part{cohorts: map[int64]*retentionCohortAcc{}, latest: minNanos}
	}
	err := src.Scan(ctx, need, func(pi int, j *Journey) error {
		pt := &parts[pi]
		if l := j.Len(); l > 0 && j.Times[l-1] > pt.latest {
			pt.latest = j.Times[l-1]
		}
		if !start.matchCustomer(j) {
			return nil
		}
		first := -1
		for i, t := range j.Times {
			if t >= to {
				break
			}
			if t >= from && start.match(j, i) {
				first = i
				break
			}
		}
		if first < 0 || j.Times[first] >= asOf {
			return nil
		}
		cs := clock.start(time.Unix(0, j.Times[first]))
		acc := pt.cohorts[cs.UnixNano()]
		if acc == nil {
			acc = &retentionCohortAcc{returned: make([]int, n)}
			pt.cohorts[cs.UnixNano()] = acc
		}
		acc.customers++
		if !ret.matchCustomer(j) {
			return nil
		}
		// Periods ≤ 52 fit one word: a bit per period seen, so that a
		// customer counts once per period however often they return.
		var seen uint64
		for i := first + 1; i < len(j.Times); i++ {
			t := j.Times[i]
			if t >= asOf {
				break
			}
			k := clock.index(cs, t)
			if k >= n {
				break
			}
			if seen&(1<<k) != 0 || !ret.match(j, i) {
				continue
			}
			seen |= 1 << k
			acc.returned[k]++
		}
		return nil
	})
	if err != nil {
		return RetentionResult{}, fmt.Errorf("retention: %w", err)
	}

	merged := map[int64]*retentionCohortAcc{}
	latest := int64(minNanos)
	for _, pt := range parts {
		latest = max(latest, pt.latest)
		for k, a := range pt.cohorts {
			m := merged[k]
			if m == nil {
				m = &retentionCohortAcc{returned: make([]int, n)}
				merged[k] = m
			}
			m.customers += a.customers
			for i, r := range a.returned {
				m.returned[i] += r
			}
		}
	}
	if len(merged) > maxRetentionCohorts {
		var p problems
		p.add("period", "the range holds %d %s cohorts; at most %d are allowed: narrow the range or use a longer period",
			len(merged), q.Period, maxRetentionCohorts)
		return RetentionResult{}, invalid("the retention query is not valid", p.errs)
	}
	res := RetentionResult{Period: q.Period, Cohorts: []RetentionCohort{}, Summary: RetentionSummary{Periods: []RetentionSummaryPeriod{}}}
	var asOfTime time.Time
	switch {
	case !q.AsOf.IsZero():
		asOfTime = q.AsOf.UTC()
	case latest > minNanos:
		asOfTime = time.Unix(0, latest+1).UTC()
	}
	res.AsOf = asOfTime
	sum := make([]RetentionSummaryPeriod, n)
	for _, k := range slices.Sorted(maps.Keys(merged)) {
		a := merged[k]
		cs := time.Unix(0, k).UTC()
		c := RetentionCohort{Start: cs, Customers: a.customers, Periods: []RetentionPeriod{}}
		res.Summary.Customers += a.customers
		for i := range n {
			ps := clock.add(cs, i)
			if !asOfTime.IsZero() && !ps.Before(asOfTime) {
				break
			}
			complete := !asOfTime.IsZero() && !clock.add(cs, i+1).After(asOfTime)
			c.Periods = append(c.Periods, RetentionPeriod{Period: i, Customers: a.returned[i],
				Share: retShare(a.returned[i], a.customers), Complete: complete})
			if complete {
				sum[i].Customers += a.returned[i]
				sum[i].Cohorts++
				sum[i].CohortCustomers += a.customers
			}
		}
		res.Cohorts = append(res.Cohorts, c)
	}
	for i, s := range sum {
		if s.Cohorts == 0 {
			continue
		}
		s.Period = i
		s.Share = retShare(s.Customers, s.CohortCustomers)
		res.Summary.Periods = append(res.Summary.Periods, s)
	}
	return res, nil
}

// retShare is a share, 0 when the whole is empty.
func retShare(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) / float64(whole)
}
