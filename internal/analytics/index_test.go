package analytics

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/journey"
)

func TestAnIndexAnswersOnlyWhatItKept(t *testing.T) {
	evs := []event.Event{
		{Type: event.Track, Event: "A", Timestamp: t0, Channel: "web", Properties: map[string]any{"plan": "pro"}, Context: map[string]any{"device": map[string]any{"type": "android"}}},
	}
	byProperty := FunnelQuery{Steps: []Matcher{{Event: "A", Where: []journey.Filter{{Property: "plan", Op: journey.OpEq, Value: "pro"}}}}}
	byContext := FunnelQuery{Steps: steps("A"), Breakdown: &Breakdown{Property: "context.device.type"}}
	byTrait := FunnelQuery{Steps: steps("A"), Breakdown: &Breakdown{Property: "traits.plan"}}
	for _, tc := range []struct {
		name                      string
		opts                      IndexOptions
		property, context, traits bool
	}{
		{"compact", IndexOptions{}, false, false, false},
		{"traits", IndexOptions{KeepTraits: true}, false, false, true},
		{"events without context", IndexOptions{KeepEvents: true, KeepTraits: true}, true, false, true},
		{"everything", IndexOptions{KeepEvents: true, KeepContext: true, KeepTraits: true}, true, true, true},
	} {
		b := NewIndexBuilder(tc.opts)
		b.Add(1, evs)
		ix := b.Build()
		for q, want := range map[string]bool{"property": tc.property, "context": tc.context, "traits": tc.traits} {
			query := map[string]FunnelQuery{"property": byProperty, "context": byContext, "traits": byTrait}[q]
			r, err := Funnel(context.Background(), ix, query)
			switch {
			case want && err != nil:
				t.Errorf("%s index, query on %s: %v", tc.name, q, err)
			case want && r.Steps[0].Customers != 1:
				t.Errorf("%s index, query on %s: %+v", tc.name, q, r.Steps)
			case !want && !errors.Is(err, ErrNeedsEvents) && !errors.Is(err, ErrNeedsTraits):
				t.Errorf("%s index, query on %s: err %v, want it sent elsewhere", tc.name, q, err)
			}
		}
		if tc.context {
			r, _ := Funnel(context.Background(), ix, byContext)
			if len(r.Breakdowns) != 1 || r.Breakdowns[0].Value != "android" {
				t.Errorf("breakdown by context: %+v", r.Breakdowns)
			}
		}
	}
}

// Results do not depend on how an Index's journeys are split into
// segments and parts.
func TestResultsDoNotDependOnSegmentsOrParts(t *testing.T) {
	var cs []cust
	for i := range 300 {
		e := []ev{{"A", float64(i % 7), "", nil}}
		if i%2 == 0 {
			e = append(e, ev{"B", float64(i%7) + 3, "mobile", nil})
		}
		if i%3 == 0 {
			e = append(e, ev{"C", float64(i%7) + 9, "", nil})
		}
		cs = append(cs, cust{id: uint64(1000 - i), evs: e})
	}
	one := buildIndex(t, cs)
	want, err := Funnel(context.Background(), one, FunnelQuery{Steps: steps("A", "B", "C"), Customers: &CustomersAt{Step: 3, Outcome: "dropped", Limit: 5}})
	if err != nil {
		t.Fatal(err)
	}
	wantDFG, _ := DFG(context.Background(), one, DFGQuery{})
	for _, parts := range []int{1, 3, 7} {
		ix, err := BuildIndex(context.Background(), one, IndexOptions{Parts: parts})
		if err != nil {
			t.Fatal(err)
		}
		if len(ix.segs) != one.Parts() || ix.Customers() != 300 {
			t.Fatalf("%d segments, %d customers", len(ix.segs), ix.Customers())
		}
		got, err := Funnel(context.Background(), ix, FunnelQuery{Steps: steps("A", "B", "C"), Customers: &CustomersAt{Step: 3, Outcome: "dropped", Limit: 5}})
		if err != nil {
			t.Fatal(err)
		}
		if !equalInts(customersPerStep(got.Steps), customersPerStep(want.Steps)) || strings.Join(got.Customers.IDs, ",") != strings.Join(want.Customers.IDs, ",") {
			t.Errorf("%d parts: %v %v, want %v %v", parts, customersPerStep(got.Steps), got.Customers.IDs, customersPerStep(want.Steps), want.Customers.IDs)
		}
		gotDFG, _ := DFG(context.Background(), ix, DFGQuery{})
		if fmt.Sprint(gotDFG) != fmt.Sprint(wantDFG) {
			t.Errorf("%d parts: the DFG differs", parts)
		}
	}
}
