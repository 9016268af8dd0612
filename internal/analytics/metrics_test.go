package analytics

import (
	"context"
	"errors"
	"testing"

	"github.com/trekhq/trek/internal/journey"
)

func boundMap() *journey.Map {
	bind := func(e string) *journey.Binding { return &journey.Binding{Events: []string{e}} }
	return &journey.Map{Name: "m", Kind: journey.CurrentState, Stages: []journey.Stage{
		{ID: "s1", Name: "One", Steps: []journey.Step{{ID: "a", Name: "A", Binding: bind("A")}, {ID: "note", Name: "Unbound"}, {ID: "b", Name: "B", Binding: bind("B")}}},
		{ID: "s2", Name: "Two", Steps: []journey.Step{{ID: "c", Name: "C", Binding: bind("C")}}},
	}}
}

func TestMapMetricsMeasureEachStepFromThePreviousAndTheFirst(t *testing.T) {
	ix := buildIndex(t, []cust{
		{id: 1, evs: []ev{{"A", 0, "", nil}, {"B", 10, "", nil}, {"C", 30, "", nil}}},
		{id: 2, evs: []ev{{"A", 0, "", nil}, {"B", 20, "", nil}}},
		{id: 3, evs: []ev{{"B", 0, "", nil}, {"C", 5, "", nil}}}, // skipped A: counts from B on
		{id: 4, evs: []ev{{"A", 0, "", nil}}},
		{id: 5, evs: []ev{{"C", 0, "", nil}, {"A", 5, "", nil}}}, // C before A: no conversion to C
	})
	res, err := MapMetricsFor(context.Background(), ix, boundMap(), MapMetricsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if res.BoundSteps != 3 || len(res.Steps) != 4 || res.Steps[1].Bound {
		t.Fatalf("steps %+v", res.Steps)
	}
	a, b, c := res.Steps[0], res.Steps[2], res.Steps[3]
	if a.Customers != 4 || b.Customers != 3 || c.Customers != 3 {
		t.Errorf("customers a %d b %d c %d, want 4 3 3", a.Customers, b.Customers, c.Customers)
	}
	if b.FromPrevious != 2 || b.ConversionFromPrevious != 0.5 || b.DropOff != 2 {
		t.Errorf("b: %+v", b)
	}
	if c.FromPrevious != 2 || c.ConversionFromPrevious != 0.666667 || c.FromStart != 1 || c.ConversionFromStart != 0.25 {
		t.Errorf("c: %+v", c)
	}
	if *b.MedianSecondsFromPrevious != 900 || *c.MedianSecondsFromPrevious != 750 {
		t.Errorf("medians b %v c %v, want 900 and 750", *b.MedianSecondsFromPrevious, *c.MedianSecondsFromPrevious)
	}
	if a.InOrder != 4 || b.InOrder != 2 || c.InOrder != 1 {
		t.Errorf("in order: %d %d %d, want 4 2 1", a.InOrder, b.InOrder, c.InOrder)
	}
	s1 := res.Stages[0]
	if s1.Entered != 4 || s1.Completed != 2 || s1.DropOff != 2 || res.Stages[1].Entered != 3 {
		t.Errorf("stages %+v", res.Stages)
	}
	if res.Conformance == nil || res.Conformance.Journeys != 5 || res.Conformance.EndToEnd != 1 {
		t.Errorf("conformance %+v", res.Conformance)
	}
	if len(res.WorstDropOffs) == 0 || res.WorstDropOffs[0] != "b" {
		t.Errorf("worst drop-offs %v", res.WorstDropOffs)
	}
}

func TestMapMetricsNarrowToASegment(t *testing.T) {
	ix := buildIndex(t, []cust{
		{id: 1, traits: map[string]any{"plan": "pro"}, evs: []ev{{"A", 0, "", nil}, {"B", 10, "", nil}}},
		{id: 2, traits: map[string]any{"plan": "free"}, evs: []ev{{"A", 0, "", nil}}},
	})
	res, err := MapMetricsFor(context.Background(), ix, boundMap(), MapMetricsQuery{Segment: &Segment{Where: []journey.Filter{{Property: "plan", Op: journey.OpEq, Value: "pro"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Customers != 1 || res.Steps[2].ConversionFromPrevious != 1 {
		t.Errorf("segment: %+v", res.Steps)
	}
	if _, err := MapMetricsFor(context.Background(), ix, boundMap(), MapMetricsQuery{Window: "soon"}); err == nil {
		t.Errorf("a bad window was accepted")
	}
}

func TestMapMetricsMeasureEmotionFromSurveyAnswers(t *testing.T) {
	survey := func(min float64, about string, score any, kind string) ev {
		return ev{SurveyEvent, min, "", map[string]any{"survey_type": kind, "about_event": about, "score": score}}
	}
	ix := buildIndex(t, []cust{
		{id: 1, evs: []ev{{"A", 0, "", nil}, survey(1, "A", -2.0, "emotion"), {"B", 2, "", nil}, survey(3, "B", 1.0, "emotion")}},
		{id: 2, evs: []ev{{"A", 0, "", nil}, survey(1, "A", -1.0, "emotion"), survey(2, "A", 5.0, "csat")}},
		{id: 3, evs: []ev{survey(1, "A", 9.0, "emotion"), survey(2, "C", "x", "emotion")}}, // out of scale, not a number
	})
	res, err := MapMetricsFor(context.Background(), ix, boundMap(), MapMetricsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := res.Steps[0].MeasuredEmotion, res.Steps[2].MeasuredEmotion, res.Steps[3].MeasuredEmotion
	if a == nil || a.Responses != 2 || a.Mean != -1.5 || b == nil || b.Responses != 1 || b.Mean != 1 || c != nil {
		t.Errorf("measured emotions a %+v b %+v c %+v", a, b, c)
	}
	// A compact index has no properties: the map must be measured where
	// the survey answers can be read.
	compact, err := BuildIndex(context.Background(), ix, IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = MapMetricsFor(context.Background(), compact, boundMap(), MapMetricsQuery{}); !errors.Is(err, ErrNeedsEvents) {
		t.Errorf("compact index with survey answers: err %v, want ErrNeedsEvents", err)
	}
}
