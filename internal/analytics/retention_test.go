package analytics

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
)

// retentionAt parses a UTC time written "2006-01-02 15:04".
func retentionAt(t testing.TB, s string) time.Time {
	t.Helper()
	at, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// retentionEv is one event of a hand-made retention journey.
type retentionEv struct {
	at, name string
}

func retentionIndex(t testing.TB, journeys map[uint64][]retentionEv) *Index {
	t.Helper()
	b := NewIndexBuilder(IndexOptions{Parts: 2})
	for c := uint64(1); c <= uint64(len(journeys)+10); c++ {
		js, ok := journeys[c]
		if !ok {
			continue
		}
		evs := make([]event.Event, len(js))
		for i, e := range js {
			evs[i] = event.Event{Type: event.Track, Event: e.name, Channel: "web", Timestamp: retentionAt(t, e.at), Seq: uint64(i)}
		}
		b.Add(c, evs)
	}
	return b.Build()
}

// retentionWeeks is the weekly data of the hand-computed cases. 5 Jan
// 2026 is a Monday.
func retentionWeeks(t testing.TB) *Index {
	return retentionIndex(t, map[uint64][]retentionEv{
		// Week of 5 Jan; returns in weeks 0, 1 and 3.
		1: {{"2026-01-05 10:00", "Signed Up"}, {"2026-01-07 10:00", "Login"}, {"2026-01-13 10:00", "Login"},
			{"2026-01-27 10:00", "Login"}},
		// Sunday 11 Jan is still the week of 5 Jan; Monday 1 a.m. is week 1.
		2: {{"2026-01-11 23:00", "Signed Up"}, {"2026-01-12 01:00", "Login"}},
		// Week of 12 Jan; a return at the start's very time, after it in
		// journey order, is week 0.
		3: {{"2026-01-12 00:00", "Signed Up"}, {"2026-01-12 00:00", "Login"}},
		// The cohort is the first start; a return before it does not count.
		4: {{"2026-01-10 09:00", "Login"}, {"2026-01-13 09:00", "Signed Up"}, {"2026-01-20 09:00", "Signed Up"},
			{"2026-01-21 09:00", "Login"}},
		// Never started: in no cohort.
		5: {{"2026-01-08 09:00", "Login"}},
		// The start before the range does not count; the one in it does.
		6: {{"2026-01-01 09:00", "Signed Up"}, {"2026-01-14 09:00", "Signed Up"}},
	})
}

func TestRetentionCohortsAndPeriods(t *testing.T) {
	login := &Matcher{Event: "Login"}
	jan5, jan12 := retentionAt(t, "2026-01-05 00:00"), retentionAt(t, "2026-01-12 00:00")
	feb, jan := retentionAt(t, "2026-02-01 00:00"), retentionAt(t, "2026-01-01 00:00")
	p := func(k, n int, share float64, complete bool) RetentionPeriod {
		return RetentionPeriod{Period: k, Customers: n, Share: share, Complete: complete}
	}
	s := func(k, n, cohorts, base int, share float64) RetentionSummaryPeriod {
		return RetentionSummaryPeriod{Period: k, Customers: n, Cohorts: cohorts, CohortCustomers: base, Share: share}
	}
	cases := []struct {
		name string
		ix   *Index
		q    RetentionQuery
		want RetentionResult
	}{
		{
			name: "weeks all complete up to as-of",
			ix:   retentionWeeks(t),
			q: RetentionQuery{Start: Matcher{Event: "Signed Up"}, Return: login, Period: "week", Periods: 3,
				From: jan5, To: retentionAt(t, "2026-01-19 00:00"), AsOf: retentionAt(t, "2026-01-26 00:00")},
			want: RetentionResult{Period: "week", AsOf: retentionAt(t, "2026-01-26 00:00"),
				Cohorts: []RetentionCohort{
					// Period 3 begins at as-of: left out.
					{Start: jan5, Customers: 2, Periods: []RetentionPeriod{p(0, 1, 0.5, true), p(1, 2, 1, true), p(2, 0, 0, true)}},
					{Start: jan12, Customers: 3, Periods: []RetentionPeriod{p(0, 1, 1.0/3, true), p(1, 1, 1.0/3, true)}},
				},
				Summary: RetentionSummary{Customers: 5, Periods: []RetentionSummaryPeriod{
					s(0, 2, 2, 5, 0.4), s(1, 3, 2, 5, 0.6), s(2, 0, 1, 2, 0)}},
			},
		},
		{
			name: "incomplete periods are not averaged as zero",
			ix:   retentionWeeks(t),
			q: RetentionQuery{Start: Matcher{Event: "Signed Up"}, Return: login, Period: "week", Periods: 3,
				From: jan5, To: retentionAt(t, "2026-01-19 00:00"), AsOf: retentionAt(t, "2026-01-22 00:00")},
			want: RetentionResult{Period: "week", AsOf: retentionAt(t, "2026-01-22 00:00"),
				Cohorts: []RetentionCohort{
					{Start: jan5, Customers: 2, Periods: []RetentionPeriod{p(0, 1, 0.5, true), p(1, 2, 1, true), p(2, 0, 0, false)}},
					// Customer 4's return on the 21st counts so far.
					{Start: jan12, Customers: 3, Periods: []RetentionPeriod{p(0, 1, 1.0/3, true), p(1, 1, 1.0/3, false)}},
				},
				// Period 1 is complete only for the first cohort: 2 of 2.
				Summary: RetentionSummary{Customers: 5, Periods: []RetentionSummaryPeriod{
					s(0, 2, 2, 5, 0.4), s(1, 2, 1, 2, 1)}},
			},
		},
		{
			name: "as-of defaults to just after the latest event",
			ix:   retentionWeeks(t),
			q: RetentionQuery{Start: Matcher{Event: "Signed Up"}, Return: login, Periods: 3,
				From: jan5, To: retentionAt(t, "2026-01-19 00:00")},
			want: RetentionResult{Period: "week", AsOf: retentionAt(t, "2026-01-27 10:00").Add(1),
				Cohorts: []RetentionCohort{
					{Start: jan5, Customers: 2, Periods: []RetentionPeriod{p(0, 1, 0.5, true), p(1, 2, 1, true),
						p(2, 0, 0, true), p(3, 1, 0.5, false)}},
					{Start: jan12, Customers: 3, Periods: []RetentionPeriod{p(0, 1, 1.0/3, true), p(1, 1, 1.0/3, true),
						p(2, 0, 0, false)}},
				},
				Summary: RetentionSummary{Customers: 5, Periods: []RetentionSummaryPeriod{
					s(0, 2, 2, 5, 0.4), s(1, 3, 2, 5, 0.6), s(2, 0, 1, 2, 0)}},
			},
		},
		{
			name: "months across a month boundary, any event returns",
			ix: retentionIndex(t, map[uint64][]retentionEv{
				1: {{"2026-01-31 23:30", "Signed Up"}, {"2026-02-01 00:10", "Visit"}},
				2: {{"2026-02-01 00:00", "Signed Up"}, {"2026-02-28 23:59", "Visit"}, {"2026-03-15 12:00", "Signed Up"}},
			}),
			q: RetentionQuery{Start: Matcher{Event: "Signed Up"}, Period: "month", Periods: 2,
				From: jan, To: retentionAt(t, "2026-03-01 00:00"), AsOf: retentionAt(t, "2026-04-01 00:00")},
			want: RetentionResult{Period: "month", AsOf: retentionAt(t, "2026-04-01 00:00"),
				Cohorts: []RetentionCohort{
					{Start: jan, Customers: 1, Periods: []RetentionPeriod{p(0, 0, 0, true), p(1, 1, 1, true), p(2, 0, 0, true)}},
					{Start: feb, Customers: 1, Periods: []RetentionPeriod{p(0, 1, 1, true), p(1, 1, 1, true)}},
				},
				Summary: RetentionSummary{Customers: 2, Periods: []RetentionSummaryPeriod{
					s(0, 1, 2, 2, 0.5), s(1, 2, 2, 2, 1), s(2, 0, 1, 1, 0)}},
			},
		},
		{
			name: "days at midnight",
			ix: retentionIndex(t, map[uint64][]retentionEv{
				1: {{"2026-01-05 23:59", "Signed Up"}, {"2026-01-06 00:01", "Visit"}, {"2026-01-06 08:00", "Visit"}},
			}),
			q: RetentionQuery{Start: Matcher{Event: "Signed Up"}, Return: &Matcher{Event: "Visit"}, Period: "day", Periods: 1,
				AsOf: retentionAt(t, "2026-01-08 00:00")},
			want: RetentionResult{Period: "day", AsOf: retentionAt(t, "2026-01-08 00:00"),
				Cohorts: []RetentionCohort{
					{Start: jan5, Customers: 1, Periods: []RetentionPeriod{p(0, 0, 0, true), p(1, 1, 1, true)}},
				},
				Summary: RetentionSummary{Customers: 1, Periods: []RetentionSummaryPeriod{s(0, 0, 1, 1, 0), s(1, 1, 1, 1, 1)}},
			},
		},
		{
			name: "no start event gives no cohort",
			ix:   retentionWeeks(t),
			q: RetentionQuery{Start: Matcher{Event: "Signed Up"}, From: retentionAt(t, "2026-03-01 00:00"),
				AsOf: retentionAt(t, "2026-04-01 00:00")},
			want: RetentionResult{Period: "week", AsOf: retentionAt(t, "2026-04-01 00:00"), Cohorts: []RetentionCohort{},
				Summary: RetentionSummary{Periods: []RetentionSummaryPeriod{}}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Retention(context.Background(), tc.ix, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				a, _ := json.MarshalIndent(got, "", " ")
				b, _ := json.MarshalIndent(tc.want, "", " ")
				t.Fatalf("got %s\nwant %s", a, b)
			}
		})
	}
}

func TestRetentionPeriodStarts(t *testing.T) {
	cases := []struct{ period, at, want string }{
		{"week", "2026-01-11 23:59", "2026-01-05 00:00"}, // Sunday → Monday before
		{"week", "2026-01-12 00:00", "2026-01-12 00:00"}, // Monday
		{"week", "2026-01-01 12:00", "2025-12-29 00:00"}, // across a year
		{"month", "2024-02-29 13:00", "2024-02-01 00:00"},
		{"day", "2026-03-29 01:30", "2026-03-29 00:00"},
	}
	for _, tc := range cases {
		got := retentionClock(tc.period).start(retentionAt(t, tc.at))
		if want := retentionAt(t, tc.want); !got.Equal(want) {
			t.Errorf("%s of %s: got %s, want %s", tc.period, tc.at, got, want)
		}
	}
	// Month arithmetic from 31 January must land on month starts.
	jan := retentionAt(t, "2026-01-01 00:00")
	if got := retentionClock("month").index(jan, retentionAt(t, "2026-03-31 23:59").UnixNano()); got != 2 {
		t.Errorf("month index %d, want 2", got)
	}
}

func TestRetentionRejectsBadQueries(t *testing.T) {
	ix := retentionWeeks(t)
	at := retentionAt(t, "2026-01-05 00:00")
	cases := []struct {
		name string
		q    RetentionQuery
		path string
	}{
		{"unknown start event", RetentionQuery{Start: Matcher{Event: "Signed Upp"}}, "start.event"},
		{"unknown return event", RetentionQuery{Start: Matcher{Event: "Login"}, Return: &Matcher{Event: "Nope"}}, "return.event"},
		{"bad period", RetentionQuery{Start: Matcher{Event: "Login"}, Period: "year"}, "period"},
		{"too many periods", RetentionQuery{Start: Matcher{Event: "Login"}, Periods: 53}, "periods"},
		{"reversed range", RetentionQuery{Start: Matcher{Event: "Login"}, From: at, To: at.Add(-time.Hour)}, "to"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Retention(context.Background(), ix, tc.q)
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Code != fault.Invalid || len(fe.Fields) != 1 || fe.Fields[0].Path != tc.path {
				t.Fatalf("got %v, want an invalid query at %s", err, tc.path)
			}
		})
	}
}

func TestRetentionBoundsTheCohorts(t *testing.T) {
	b := NewIndexBuilder(IndexOptions{})
	at := retentionAt(t, "2020-01-01 00:00")
	for c := range uint64(maxRetentionCohorts + 1) {
		b.Add(c+1, []event.Event{{Type: event.Track, Event: "Signed Up", Timestamp: at.AddDate(0, 0, int(c))}})
	}
	ix := b.Build()
	_, err := Retention(context.Background(), ix, RetentionQuery{Start: Matcher{Event: "Signed Up"}, Period: "day"})
	if fault.CodeOf(err) != fault.Invalid {
		t.Fatalf("got %v, want too many cohorts refused", err)
	}
	if _, err := Retention(context.Background(), ix, RetentionQuery{Start: Matcher{Event: "Signed Up"}, Period: "month"}); err != nil {
		t.Fatalf("month cohorts: %v", err)
	}
}
