package analytics

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/journey"
)

var t0 = time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)

// ev is a hand-made event: name, minutes after t0, channel and
// properties (may be nil).
type ev struct {
	name  string
	min   float64
	ch    string
	props map[string]any
}

// cust is one customer's events; traits go on a leading identify call
// when set.
type cust struct {
	id     uint64
	traits map[string]any
	evs    []ev
}

func buildIndex(t testing.TB, cs []cust) *Index {
	t.Helper()
	b := NewIndexBuilder(IndexOptions{KeepEvents: true, KeepContext: true, KeepTraits: true, Parts: 2})
	for _, c := range cs {
		var evs []event.Event
		seq := uint64(c.id * 1000)
		if c.traits != nil {
			seq++
			evs = append(evs, event.Event{Type: event.Identify, Traits: c.traits, Timestamp: t0.Add(-time.Hour), Channel: "web", Seq: seq})
		}
		for _, e := range c.evs {
			seq++
			ch := e.ch
			if ch == "" {
				ch = "web"
			}
			evs = append(evs, event.Event{Type: event.Track, Event: e.name, Channel: ch, Properties: e.props,
				Timestamp: t0.Add(time.Duration(e.min * float64(time.Minute))), Seq: seq})
		}
		b.Add(c.id, evs)
	}
	return b.Build()
}

func steps(names ...string) []Matcher {
	ms := make([]Matcher, len(names))
	for i, n := range names {
		ms[i] = Matcher{Event: n}
	}
	return ms
}

func customersPerStep(r []FunnelStep) []int64 {
	out := make([]int64, len(r))
	for i, s := range r {
		out[i] = s.Customers
	}
	return out
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFunnelCountsCustomersAtEachLevel(t *testing.T) {
	day := 24 * 60.0
	tests := []struct {
		name  string
		cs    []cust
		q     FunnelQuery
		want  []int64
		check func(t *testing.T, r FunnelResult)
	}{
		{
			name: "each customer counts once at the highest level reached",
			cs: []cust{
				{id: 1, evs: []ev{{"A", 0, "", nil}, {"B", 1, "", nil}, {"C", 2, "", nil}}},
				{id: 2, evs: []ev{{"A", 0, "", nil}, {"B", 1, "", nil}}},
				{id: 3, evs: []ev{{"A", 0, "", nil}}},
				{id: 4, evs: []ev{{"B", 0, "", nil}, {"C", 1, "", nil}}},
			},
			q:    FunnelQuery{Steps: steps("A", "B", "C")},
			want: []int64{3, 2, 1},
		},
		{
			name: "repeated events: the level is the best over every start",
			cs: []cust{
				// The first A is too early for the window; the second
				// starts an attempt that completes.
				{id: 1, evs: []ev{{"A", 0, "", nil}, {"A", 3 * day, "", nil}, {"B", 3*day + 1, "", nil}, {"B", 9 * day, "", nil}, {"C", 9*day + 30, "", nil}}},
			},
			q:    FunnelQuery{Steps: steps("A", "B", "C"), Window: "7d"},
			want: []int64{1, 1, 1},
		},
		{
			name: "a step outside the window does not count; the window is inclusive",
			cs: []cust{
				{id: 1, evs: []ev{{"A", 0, "", nil}, {"B", 60, "", nil}}},                     // exactly 1h: in
				{id: 2, evs: []ev{{"A", 0, "", nil}, {"B", 60.001, "", nil}}},                 // just past: out
				{id: 3, evs: []ev{{"A", 0, "", nil}, {"B", 30, "", nil}, {"C", 61, "", nil}}}, // C measured from A
			},
			q:    FunnelQuery{Steps: steps("A", "B", "C"), Window: "1h"},
			want: []int64{3, 2, 0},
		},
		{
			name: "equal timestamps keep arrival order",
			cs: []cust{
				{id: 1, evs: []ev{{"A", 5, "", nil}, {"B", 5, "", nil}}}, // A then B: converts
				{id: 2, evs: []ev{{"B", 5, "", nil}, {"A", 5, "", nil}}}, // B then A: does not
			},
			q:    FunnelQuery{Steps: steps("A", "B")},
			want: []int64{2, 1},
		},
		{
			name: "one event fills one step: Page Viewed → Page Viewed needs two views",
			cs: []cust{
				{id: 1, evs: []ev{{"P", 0, "", nil}}},
				{id: 2, evs: []ev{{"P", 0, "", nil}, {"P", 1, "", nil}}},
				{id: 3, evs: []ev{{"P", 0, "", nil}, {"P", 1, "", nil}, {"P", 2, "", nil}}},
			},
			q:    FunnelQuery{Steps: steps("P", "P", "P")},
			want: []int64{3, 2, 1},
		},
		{
			name: "only the first step must fall in the range; later steps may follow it",
			cs: []cust{
				{id: 1, evs: []ev{{"A", 10, "", nil}, {"B", 200, "", nil}}},
				{id: 2, evs: []ev{{"A", -10, "", nil}, {"B", 20, "", nil}}}, // starts before from
				{id: 3, evs: []ev{{"B", 5, "", nil}, {"A", 150, "", nil}}},  // A after to
			},
			q:    FunnelQuery{Steps: steps("A", "B"), From: t0, To: t0.Add(2 * time.Hour)},
			want: []int64{1, 1},
		},
		{
			name: "ordered allows other events between steps; strict does not",
			cs: []cust{
				{id: 1, evs: []ev{{"A", 0, "", nil}, {"X", 1, "", nil}, {"B", 2, "", nil}}},
				{id: 2, evs: []ev{{"A", 0, "", nil}, {"B", 1, "", nil}, {"X", 2, "", nil}, {"C", 3, "", nil}}},
				{id: 3, evs: []ev{{"A", 0, "", nil}, {"A", 1, "", nil}, {"B", 2, "", nil}, {"C", 3, "", nil}}},
			},
			q:    FunnelQuery{Steps: steps("A", "B", "C"), Order: OrderStrict},
			want: []int64{3, 2, 1},
		},
		{
			name: "ordered mode on the same data",
			cs: []cust{
				{id: 1, evs: []ev{{"A", 0, "", nil}, {"X", 1, "", nil}, {"B", 2, "", nil}}},
				{id: 2, evs: []ev{{"A", 0, "", nil}, {"B", 1, "", nil}, {"X", 2, "", nil}, {"C", 3, "", nil}}},
				{id: 3, evs: []ev{{"A", 0, "", nil}, {"A", 1, "", nil}, {"B", 2, "", nil}, {"C", 3, "", nil}}},
			},
			q:    FunnelQuery{Steps: steps("A", "B", "C")},
			want: []int64{3, 3, 2},
		},
		{
			name: "any order counts distinct steps done within the window",
			cs: []cust{
				{id: 1, evs: []ev{{"C", 0, "", nil}, {"B", 1, "", nil}, {"A", 2, "", nil}}},
				{id: 2, evs: []ev{{"B", 0, "", nil}, {"B", 1, "", nil}}},
				{id: 3, evs: []ev{{"C", 0, "", nil}, {"A", 2 * day, "", nil}}}, // A too late for a 1d window
				{id: 4, evs: []ev{{"X", 0, "", nil}}},
			},
			q:    FunnelQuery{Steps: steps("A", "B", "C"), Order: OrderAny, Window: "1d"},
			want: []int64{3, 1, 1},
		},
		{
			name: "any order: an event that could fill two steps is given the one left open",
			cs: []cust{
				// "P or Q" and "P": the P event must go to step 2, Q to 1.
				{id: 1, evs: []ev{{"P", 0, "", nil}, {"Q", 1, "", nil}}},
			},
			q:    FunnelQuery{Steps: []Matcher{{Events: []string{"P", "Q"}}, {Event: "P"}}, Order: OrderAny},
			want: []int64{1, 1},
		},
		{
			name: "an exclusion between two steps voids the attempt; a later clean attempt counts",
			cs: []cust{
				{id: 1, evs: []ev{{"A", 0, "", nil}, {"X", 1, "", nil}, {"B", 2, "", nil}}},                    // voided: reaches A only
				{id: 2, evs: []ev{{"A", 0, "", nil}, {"B", 1, "", nil}, {"X", 2, "", nil}}},                    // X after the last step: fine
				{id: 3, evs: []ev{{"A", 0, "", nil}, {"X", 1, "", nil}, {"A", 2, "", nil}, {"B", 3, "", nil}}}, // second attempt clean
				{id: 4, evs: []ev{{"X", 0, "", nil}, {"A", 1, "", nil}, {"B", 2, "", nil}}},                    // X before the attempt
				{id: 5, evs: []ev{{"A", 0, "", nil}, {"B", 1, "", nil}, {"X", 2, "", nil}, {"C", 3, "", nil}}}, // reaches B, not C
			},
			q:    FunnelQuery{Steps: steps("A", "B", "C"), Exclusions: []Matcher{{Event: "X"}}},
			want: []int64{5, 4, 0},
		},
		{
			name: "a step's channel and property filters",
			cs: []cust{
				{id: 1, evs: []ev{{"View", 0, "mobile", map[string]any{"plan": "pro"}}, {"Buy", 1, "web", map[string]any{"total": 120.0}}}},
				{id: 2, evs: []ev{{"View", 0, "mobile", map[string]any{"plan": "free"}}, {"Buy", 1, "web", map[string]any{"total": 120.0}}}},
				{id: 3, evs: []ev{{"View", 0, "web", map[string]any{"plan": "pro"}}, {"Buy", 1, "web", map[string]any{"total": 20.0}}}},
				{id: 4, evs: []ev{{"View", 0, "mobile", map[string]any{"plan": "pro"}}, {"Buy", 1, "web", map[string]any{"total": "99"}}}},
			},
			q: FunnelQuery{Steps: []Matcher{
				{Event: "View", Channel: "mobile", Where: []journey.Filter{{Property: "plan", Op: journey.OpEq, Value: "pro"}}},
				{Event: "Buy", Where: []journey.Filter{{Property: "total", Op: journey.OpGte, Value: 50.0}}},
			}},
			want: []int64{2, 2},
		},
		{
			name: "a filter on the channel through where",
			cs: []cust{
				{id: 1, evs: []ev{{"View", 0, "mobile", nil}, {"Buy", 1, "web", nil}}},
				{id: 2, evs: []ev{{"View", 0, "store", nil}, {"Buy", 1, "web", nil}}},
			},
			q:    FunnelQuery{Steps: []Matcher{{Event: "View", Where: []journey.Filter{{Property: "channel", Op: journey.OpIn, Value: []any{"store", "chat"}}}}, {Event: "Buy"}}},
			want: []int64{1, 1},
		},
		{
			name: "a single step counts who did it",
			cs: []cust{
				{id: 1, evs: []ev{{"A", 0, "", nil}, {"A", 1, "", nil}}},
				{id: 2, evs: []ev{{"B", 0, "", nil}}},
			},
			q:    FunnelQuery{Steps: steps("A")},
			want: []int64{1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ix := buildIndex(t, tc.cs)
			r, err := Funnel(context.Background(), ix, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := customersPerStep(r.Steps); !equalInts(got, tc.want) {
				t.Errorf("customers per step = %v, want %v", got, tc.want)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestFunnelRatesDropOffAndTimes(t *testing.T) {
	ix := buildIndex(t, []cust{
		{id: 1, evs: []ev{{"A", 0, "", nil}, {"B", 10, "", nil}, {"C", 40, "", nil}}},
		{id: 2, evs: []ev{{"A", 0, "", nil}, {"B", 20, "", nil}, {"C", 30, "", nil}}},
		{id: 3, evs: []ev{{"A", 0, "", nil}, {"B", 30, "", nil}}},
		{id: 4, evs: []ev{{"A", 0, "", nil}}},
	})
	r, err := Funnel(context.Background(), ix, FunnelQuery{Steps: steps("A", "B", "C")})
	if err != nil {
		t.Fatal(err)
	}
	s := r.Steps
	if s[1].ConversionFromPrevious != 0.75 || s[2].ConversionFromPrevious != 0.666667 || s[2].ConversionFromFirst != 0.5 {
		t.Errorf("conversions: %+v", s)
	}
	if s[0].DropOff != 0 || s[1].DropOff != 1 || s[2].DropOff != 1 {
		t.Errorf("drop-off %d %d %d, want 0 1 1", s[0].DropOff, s[1].DropOff, s[2].DropOff)
	}
	if s[0].MedianSecondsFromPrevious != nil {
		t.Errorf("first step has a time from previous")
	}
	// B after A: 10, 20, 30 minutes; C after B: 30, 10 minutes; C after A: 40, 30.
	if got := *s[1].MedianSecondsFromPrevious; got != 1200 {
		t.Errorf("median A→B = %v s, want 1200", got)
	}
	if got := *s[2].MedianSecondsFromPrevious; got != 1200 {
		t.Errorf("median B→C = %v s, want 1200 (mean of 600 and 1800, as numpy)", got)
	}
	if got := s[2].FromFirst.Median; got != 2100 {
		t.Errorf("median A→C = %v s, want 2100", got)
	}
	if s[1].FromPrevious.P90 != 1680 {
		t.Errorf("p90 A→B = %v, want 1680", s[1].FromPrevious.P90)
	}
	var binned int64
	for _, b := range s[1].FromPrevious.Histogram {
		binned += b.Count
		if b.From == 900 && b.Count != 2 { // 15 min–1 h holds 20 and 30 minutes
			t.Errorf("bin [900,3600) = %d, want 2", b.Count)
		}
	}
	if binned != 3 {
		t.Errorf("histogram holds %d values, want 3", binned)
	}
}

func TestFunnelBreakdownBySegmentsAndCustomers(t *testing.T) {
	ix := buildIndex(t, []cust{
		{id: 1, traits: map[string]any{"plan": "pro"}, evs: []ev{{"A", 0, "", map[string]any{"os": "android"}}, {"B", 1, "", nil}}},
		{id: 2, traits: map[string]any{"plan": "free"}, evs: []ev{{"A", 0, "", map[string]any{"os": "android"}}}},
		{id: 3, traits: map[string]any{"plan": "pro"}, evs: []ev{{"A", 0, "", map[string]any{"os": "ios"}}, {"B", 1, "", nil}}},
		{id: 4, evs: []ev{{"A", 0, "", nil}, {"B", 1, "", nil}}},
		// The breakdown value comes from the first step of the attempt
		// that reached the level: the second A, on web.
		{id: 5, evs: []ev{{"A", 0, "", map[string]any{"os": "ios"}}, {"A", 3 * 24 * 60, "", map[string]any{"os": "web"}}, {"B", 3*24*60 + 1, "", nil}}},
	})
	r, err := Funnel(context.Background(), ix, FunnelQuery{
		Steps:     steps("A", "B"),
		Window:    "1d",
		Breakdown: &Breakdown{Property: "os", Limit: 2},
		Segments:  []Segment{{Name: "pro", Where: []journey.Filter{{Property: "plan", Op: journey.OpEq, Value: "pro"}}}},
		Customers: &CustomersAt{Step: 2, Outcome: "dropped"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]int64{}
	for _, b := range r.Breakdowns {
		got[b.Value] = customersPerStep(b.Steps)
	}
	// android 2 (1 converts), ios 1, (none) 1, web 1: the limit of 2 keeps
	// android and then the first of the ties by name, "(none)".
	want := map[string][]int64{"android": {2, 1}, "(none)": {1, 1}, "(other)": {2, 2}}
	if len(got) != len(want) {
		t.Fatalf("breakdowns %v, want %v", got, want)
	}
	for k, v := range want {
		if !equalInts(got[k], v) {
			t.Errorf("breakdown %q = %v, want %v", k, got[k], v)
		}
	}
	if len(r.Segments) != 1 || !equalInts(customersPerStep(r.Segments[0].Steps), []int64{2, 2}) {
		t.Errorf("segment pro: %+v", r.Segments)
	}
	if r.Customers == nil || r.Customers.Total != 1 || r.Customers.IDs[0] != "cus_2" {
		t.Errorf("dropped at step 2: %+v, want cus_2", r.Customers)
	}

	r, err = Funnel(context.Background(), ix, FunnelQuery{Steps: steps("A", "B"), Breakdown: &Breakdown{Property: "traits.plan"}})
	if err != nil {
		t.Fatal(err)
	}
	got = map[string][]int64{}
	for _, b := range r.Breakdowns {
		got[b.Value] = customersPerStep(b.Steps)
	}
	if !equalInts(got["pro"], []int64{2, 2}) || !equalInts(got["free"], []int64{1, 0}) || !equalInts(got["(none)"], []int64{2, 2}) {
		t.Errorf("by trait: %v", got)
	}
}

func TestFunnelSumsBreakdownsToTheTotal(t *testing.T) {
	var cs []cust
	for i := range 200 {
		os := []string{"android", "ios", "web", "windows", "mac"}[i%5]
		e := []ev{{"A", float64(i), "", map[string]any{"os": os}}}
		if i%3 != 0 {
			e = append(e, ev{"B", float64(i) + 5, "", nil})
		}
		cs = append(cs, cust{id: uint64(i + 1), evs: e})
	}
	ix := buildIndex(t, cs)
	r, err := Funnel(context.Background(), ix, FunnelQuery{Steps: steps("A", "B"), Breakdown: &Breakdown{Property: "os", Limit: 3}})
	if err != nil {
		t.Fatal(err)
	}
	var sum [2]int64
	for _, b := range r.Breakdowns {
		sum[0] += b.Steps[0].Customers
		sum[1] += b.Steps[1].Customers
	}
	if sum[0] != r.Steps[0].Customers || sum[1] != r.Steps[1].Customers || len(r.Breakdowns) != 4 {
		t.Errorf("breakdowns %v sum to %v, total %v", r.Breakdowns, sum, customersPerStep(r.Steps))
	}
}

func TestFunnelRefusesInvalidQueries(t *testing.T) {
	ix := buildIndex(t, []cust{{id: 1, evs: []ev{{"A", 0, "", nil}}}})
	tests := []struct {
		name string
		q    FunnelQuery
		path string
	}{
		{"no steps", FunnelQuery{}, "steps"},
		{"unknown step", FunnelQuery{Steps: steps("A", "Nope")}, "steps[1].event"},
		{"step without event", FunnelQuery{Steps: []Matcher{{Event: "A"}, {Channel: "web"}}}, "steps[1].event"},
		{"window zero", FunnelQuery{Steps: steps("A"), Window: "0d"}, "window"},
		{"window negative", FunnelQuery{Steps: steps("A"), Window: "-3h"}, "window"},
		{"window unit", FunnelQuery{Steps: steps("A"), Window: "7y"}, "window"},
		{"reversed range", FunnelQuery{Steps: steps("A"), From: t0, To: t0.Add(-time.Hour)}, "to"},
		{"order", FunnelQuery{Steps: steps("A"), Order: "random"}, "order"},
		{"bad filter", FunnelQuery{Steps: []Matcher{{Event: "A", Where: []journey.Filter{{Property: "x", Op: "like"}}}}}, "steps[0].where[0].op"},
		{"exclusion equal to a step", FunnelQuery{Steps: steps("A"), Exclusions: []Matcher{{Event: "A"}}}, "exclusions[0]"},
		{"customers step", FunnelQuery{Steps: steps("A"), Customers: &CustomersAt{Step: 4, Outcome: "reached"}}, "customers.step"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Funnel(context.Background(), ix, tc.q)
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Code != fault.Invalid {
				t.Fatalf("err = %v, want an invalid-query fault", err)
			}
			found := false
			for _, f := range fe.Fields {
				if f.Path == tc.path {
					found = true
				}
			}
			if !found {
				t.Errorf("fields %+v do not name %s", fe.Fields, tc.path)
			}
		})
	}
}

func TestParseWindow(t *testing.T) {
	for in, want := range map[string]time.Duration{"30s": 30 * time.Second, "15m": 15 * time.Minute, "2h": 2 * time.Hour, "7d": 7 * 24 * time.Hour, "1w": 7 * 24 * time.Hour} {
		if got, err := ParseWindow(in); err != nil || got != want {
			t.Errorf("ParseWindow(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "7", "d", "1.5d", "0h", "-1d", "99999999w"} {
		if _, err := ParseWindow(in); err == nil {
			t.Errorf("ParseWindow(%q) accepted", in)
		}
	}
}

func TestFunnelStopsWhenCancelled(t *testing.T) {
	var cs []cust
	for i := range 10000 {
		cs = append(cs, cust{id: uint64(i + 1), evs: []ev{{"A", 0, "", nil}}})
	}
	ix := buildIndex(t, cs)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Funnel(ctx, ix, FunnelQuery{Steps: steps("A")}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestMatcherLabel(t *testing.T) {
	if got := (Matcher{Event: "A", Events: []string{"B"}}).Label(); got != "A | B" {
		t.Errorf("label %q", got)
	}
	if !strings.Contains((Matcher{}).Label(), "any") {
		t.Errorf("empty matcher label")
	}
}
