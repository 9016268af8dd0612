package analytics

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
)

// The customers behind the "(other)" breakdown row can be listed, as
// every other row's can.
func TestFunnelListsCustomersOfTheOtherBreakdownRow(t *testing.T) {
	ix := buildIndex(t, []cust{
		{id: 1, evs: []ev{{"A", 0, "", map[string]any{"os": "ios"}}, {"B", 1, "", nil}}},
		{id: 2, evs: []ev{{"A", 0, "", map[string]any{"os": "ios"}}}},
		{id: 3, evs: []ev{{"A", 0, "", map[string]any{"os": "android"}}}},
		{id: 4, evs: []ev{{"A", 0, "", map[string]any{"os": "linux"}}}},
	})
	other := BreakdownOther
	r, err := Funnel(context.Background(), ix, FunnelQuery{
		Steps:     steps("A", "B"),
		Breakdown: &Breakdown{Property: "os", Limit: 1},
		Customers: &CustomersAt{Step: 1, Outcome: "reached", Breakdown: &other},
	})
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for _, b := range r.Breakdowns {
		if b.Value == BreakdownOther {
			want = b.Steps[0].Customers
		}
	}
	if want != 2 || r.Customers.Total != want {
		t.Errorf("(other) row has %d customers at step 1; the list behind it has %d (%v)", want, r.Customers.Total, r.Customers.IDs)
	}
}

// An exclusion naming an event never received is accepted, but does not
// make that name "received": a later step with the same typo is still
// refused, and a query does not grow the shared dictionary.
func TestExclusionDoesNotInternUnknownNames(t *testing.T) {
	ix := buildIndex(t, []cust{{id: 1, evs: []ev{{"A", 0, "", nil}, {"B", 1, "", nil}}}})
	before := ix.Activities().Len()
	_, err := Funnel(context.Background(), ix, FunnelQuery{Steps: steps("A", "B"), Exclusions: []Matcher{{Event: "Typo Event"}}})
	if err != nil {
		t.Fatal(err)
	}
	if after := ix.Activities().Len(); after != before {
		t.Errorf("a query grew the index's activity dictionary from %d to %d names", before, after)
	}
	_, err = Funnel(context.Background(), ix, FunnelQuery{Steps: steps("A", "Typo Event")})
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Code != fault.Invalid {
		t.Errorf("a step naming an event never received was accepted after an exclusion named it: err %v", err)
	}
}

// Requests naming new events leave the dictionary as it was, so they
// cannot grow the server's memory.
func TestQueriesDoNotGrowTheDictionary(t *testing.T) {
	ix := buildIndex(t, []cust{{id: 1, evs: []ev{{"A", 0, "", nil}}}})
	before := ix.Activities().Len()
	for i := range 100 {
		_, _ = Funnel(context.Background(), ix, FunnelQuery{Steps: steps("A"), Exclusions: []Matcher{{Event: "x" + time.Duration(i).String()}}})
	}
	if after := ix.Activities().Len(); after != before {
		t.Errorf("100 queries grew the dictionary from %d to %d names", before, after)
	}
}

func edgeIndex(t *testing.T, a, b time.Time) *Index {
	t.Helper()
	bld := NewIndexBuilder(IndexOptions{Parts: 1})
	bld.Add(1, []event.Event{
		{Type: event.Track, Event: "A", Channel: "web", Timestamp: a, Seq: 1},
		{Type: event.Track, Event: "B", Channel: "web", Timestamp: b, Seq: 2},
	})
	return bld.Build()
}

// Step times centuries apart (past what t-start holds in nanoseconds)
// are still far outside a one-day window.
func TestFunnelWindowDoesNotOverflowOnDistantTimes(t *testing.T) {
	ix := edgeIndex(t, time.Date(1680, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2260, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, order := range []string{OrderOrdered, OrderStrict, OrderAny} {
		r, err := Funnel(context.Background(), ix, FunnelQuery{Steps: steps("A", "B"), Window: "1d", Order: order})
		if err != nil {
			t.Fatal(err)
		}
		if got := customersPerStep(r.Steps); !equalInts(got, []int64{1, 0}) {
			t.Errorf("%s: B 580 years after A converts within a 1d window: %v", order, got)
		}
	}
}

// A trends range far past the period limit is refused without first
// building every period of it.
func TestTrendsRefusesHugeRangeCheaply(t *testing.T) {
	ix := buildIndex(t, []cust{{id: 1, evs: []ev{{"A", 0, "", nil}}}})
	q := TrendsQuery{Measure: MeasureVolume, Event: &Matcher{Event: "A"},
		From: time.Date(1801, 1, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2199, 1, 1, 0, 0, 0, 0, time.UTC)}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	_, err := Trends(context.Background(), ix, q)
	el := time.Since(start)
	runtime.ReadMemStats(&m1)
	if err == nil {
		t.Fatal("a 398-year daily range was accepted")
	}
	if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 4<<20 {
		t.Errorf("refusing the range allocated %d MB in %v", alloc>>20, el)
	}
}

func TestQueriesRefuseTimesOutsideTheYearsTrekReckons(t *testing.T) {
	ix := buildIndex(t, []cust{{id: 1, evs: []ev{{"A", 0, "", nil}}}})
	early := time.Date(1650, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := Funnel(context.Background(), ix, FunnelQuery{Steps: steps("A"), From: early}); err == nil {
		t.Error("a funnel from 1650 was accepted")
	}
	if _, err := DFG(context.Background(), ix, DFGQuery{To: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Error("a DFG to 2300 was accepted")
	}
}
