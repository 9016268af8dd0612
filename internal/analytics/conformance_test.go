package analytics

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/journey"
)

// confBase is when the hand-made journeys begin.
var confBase = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// confJourney is a hand-made journey: activities a minute apart from
// start, written "A B C@mobile" (channel "web" unless given after '@').
type confJourney struct {
	customer uint64
	start    time.Time
	seq      string
}

// confEvents turns a journey's spec into events.
func confEvents(j confJourney) []event.Event {
	start := j.start
	if start.IsZero() {
		start = confBase
	}
	var evs []event.Event
	for i, tok := range strings.Fields(j.seq) {
		name, ch, ok := strings.Cut(tok, "@")
		if !ok {
			ch = "web"
		}
		evs = append(evs, event.Event{Type: event.Track, Event: strings.ReplaceAll(name, "_", " "), Channel: ch,
			Timestamp: start.Add(time.Duration(i) * time.Minute), Seq: uint64(i)})
	}
	return evs
}

// confIndex builds an Index of hand-made journeys, scanned by three
// goroutines so that results must merge correctly.
func confIndex(js ...confJourney) *Index {
	b := NewIndexBuilder(IndexOptions{Parts: 3})
	for _, j := range js {
		b.Add(j.customer, confEvents(j))
	}
	return b.Build()
}

// confMap is a two-stage map: s1 (A), an unbound note, s2 (B), then s3 (C)
// and s4 (D on the web).
func confMap() *journey.Map {
	bind := func(ev ...string) *journey.Binding { return &journey.Binding{Events: ev} }
	return &journey.Map{Name: "test", Kind: journey.CurrentState, Stages: []journey.Stage{
		{ID: "first", Name: "First", Steps: []journey.Step{
			{ID: "s1", Name: "One", Binding: bind("A")},
			{ID: "note", Name: "Think it over"},
			{ID: "s2", Name: "Two", Binding: bind("B")},
		}},
		{ID: "second", Name: "Second", Steps: []journey.Step{
			{ID: "s3", Name: "Three", Binding: bind("C")},
			{ID: "s4", Name: "Four", Binding: &journey.Binding{Events: []string{"D"}, Channel: "web"}},
		}},
	}}
}

func TestConformanceMeasuresEachJourney(t *testing.T) {
	before := confBase.Add(-time.Hour)
	cases := []struct {
		name  string
		seq   string
		start time.Time
		// want is nil when the journey is not considered.
		want *JourneyConformanceDetail
	}{
		{"perfect", "A B C D", time.Time{}, &JourneyConformanceDetail{Fitness: 1,
			Hit: []string{"s1", "s2", "s3", "s4"}}},
		{"skipped step", "A C D", time.Time{}, &JourneyConformanceDetail{Fitness: 0.75,
			Hit: []string{"s1", "s3", "s4"}, Skipped: []string{"s2"}}},
		{"repeated step keeps fitness", "A B B C D", time.Time{}, &JourneyConformanceDetail{Fitness: 1,
			Hit: []string{"s1", "s2", "s3", "s4"}, Repeated: []string{"s2"}}},
		{"wrong order", "A C B D", time.Time{}, &JourneyConformanceDetail{Fitness: 0.75,
			Hit: []string{"s1", "s2", "s3", "s4"}, WrongOrder: []string{"s2"}}},
		{"outside event", "A X B C D X Y", time.Time{}, &JourneyConformanceDetail{Fitness: 1,
			Hit: []string{"s1", "s2", "s3", "s4"}, Outside: []string{"X", "Y"}}},
		{"binding channel decides", "A B C D@mobile", time.Time{}, &JourneyConformanceDetail{Fitness: 0.75,
			Hit: []string{"s1", "s2", "s3"}, Outside: []string{"D"}}},
		{"steps not reached are not skipped", "A B", time.Time{}, &JourneyConformanceDetail{Fitness: 0.5,
			Hit: []string{"s1", "s2"}}},
		// C A B C D hits 3 1 2 3 4: the rising run 1 2 3 4 is whole, so
		// the journey is end to end though it began out of order.
		{"late start in order after a detour", "C A B C D", time.Time{}, &JourneyConformanceDetail{Fitness: 1,
			Hit: []string{"s1", "s2", "s3", "s4"}, Repeated: []string{"s3"}, WrongOrder: []string{"s1", "s2"}}},
		{"backwards", "D C B A", time.Time{}, &JourneyConformanceDetail{Fitness: 0.25,
			Hit: []string{"s1", "s2", "s3", "s4"}, WrongOrder: []string{"s1", "s2", "s3"}}},
		{"only outside events is not considered", "X Y Z", time.Time{}, nil},
		// Starts an hour before the range: A B fall before it, C D in it.
		{"events before the range are ignored", strings.Repeat("Q ", 58) + "A B C D", before,
			&JourneyConformanceDetail{Fitness: 0.5, Hit: []string{"s3", "s4"}, Skipped: []string{"s1", "s2"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ix := confIndex(confJourney{customer: 42, start: tc.start, seq: tc.seq})
			res, err := Conformance(context.Background(), ix, ConformanceQuery{Map: confMap(),
				From: confBase, To: confBase.Add(24 * time.Hour), Customers: []string{"cus_42"}})
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if res.Journeys != 0 || len(res.Customers) != 0 {
					t.Fatalf("journey considered: %+v", res)
				}
				return
			}
			if res.Journeys != 1 || len(res.Customers) != 1 {
				t.Fatalf("journeys %d, details %d; want 1, 1", res.Journeys, len(res.Customers))
			}
			want := *tc.want
			want.Customer = "cus_42"
			for _, p := range []*[]string{&want.Hit, &want.Skipped, &want.Repeated, &want.WrongOrder, &want.Outside} {
				if *p == nil {
					*p = []string{}
				}
			}
			if got := res.Customers[0]; !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
			if res.MeanFitness != want.Fitness {
				t.Fatalf("mean fitness %v, want %v", res.MeanFitness, want.Fitness)
			}
			if e2e := res.EndToEnd == 1; e2e != (want.Fitness == 1) {
				t.Fatalf("end to end %d with fitness %v", res.EndToEnd, want.Fitness)
			}
		})
	}
}

func TestConformanceSummarisesTheMap(t *testing.T) {
	ix := confIndex(
		confJourney{customer: 1, seq: "A B C D"},
		confJourney{customer: 2, seq: "A C D"},
		confJourney{customer: 3, seq: "A B B C D"},
		confJourney{customer: 4, seq: "A C B D"},
		confJourney{customer: 5, seq: "A X B C D"},
		confJourney{customer: 6, seq: "A B C D@mobile"},
		confJourney{customer: 7, seq: "X Y"},
		confJourney{customer: 18, seq: "A C D"},
		confJourney{customer: 9, seq: "A X C D"},
	)
	res, err := Conformance(context.Background(), ix, ConformanceQuery{Map: confMap(), Examples: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Longest rising runs: 4 3 4 3 4 3 (7 not considered) 3 3 = 27 of
	// 8 journeys × 4 steps.
	want := ConformanceResult{BoundSteps: 4, Journeys: 8, MeanFitness: 27.0 / 32, EndToEnd: 3, EndToEndShare: 3.0 / 8,
		Exact: 1, ExactShare: 1.0 / 8,
		Steps: []ConformanceStep{
			{StageID: "first", StepID: "s1", Name: "One", Journeys: 8},
			{StageID: "first", StepID: "s2", Name: "Two", Journeys: 5, Skipped: 3, Repeated: 1, WrongOrder: 1},
			{StageID: "second", StepID: "s3", Name: "Three", Journeys: 8},
			{StageID: "second", StepID: "s4", Name: "Four", Journeys: 7},
		},
		Deviations: []ConformanceDeviation{
			{Kind: "skipped", Step: "s2", Journeys: 3, Examples: []string{"cus_2", "cus_9"}},
			{Kind: "outside", Event: "X", Journeys: 2, Examples: []string{"cus_5", "cus_9"}},
			{Kind: "repeated", Step: "s2", Journeys: 1, Examples: []string{"cus_3"}},
			{Kind: "wrong_order", Step: "s2", Journeys: 1, Examples: []string{"cus_4"}},
			{Kind: "outside", Event: "D", Journeys: 1, Examples: []string{"cus_6"}},
		},
		TotalDeviations: 5,
	}
	// Customer 7 has X too but hits no step: not considered, not counted.
	if !reflect.DeepEqual(res, want) {
		a, _ := json.MarshalIndent(res, "", " ")
		b, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("got %s\nwant %s", a, b)
	}

	t.Run("deviations limit keeps the commonest", func(t *testing.T) {
		res, err := Conformance(context.Background(), ix, ConformanceQuery{Map: confMap(), Deviations: 2, Examples: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Deviations) != 2 || res.TotalDeviations != 5 || res.Deviations[0].Kind != "skipped" ||
			!reflect.DeepEqual(res.Deviations[0].Examples, []string{"cus_2"}) {
			t.Fatalf("got %+v", res.Deviations)
		}
	})
}

func TestConformanceAssignsEachEventToTheFirstMatchingStep(t *testing.T) {
	// B is bound twice; the earlier step takes every B, so the later one
	// is never hit, and an event with a property picks its step by the
	// binding's filter.
	m := &journey.Map{Name: "m", Kind: journey.CurrentState, Stages: []journey.Stage{{ID: "st", Name: "St", Steps: []journey.Step{
		{ID: "pay", Name: "Pay", Binding: &journey.Binding{Events: []string{"Step"},
			Where: []journey.Filter{{Property: "step_name", Op: journey.OpEq, Value: "payment"}}}},
		{ID: "b-first", Name: "B", Binding: &journey.Binding{Events: []string{"B"}}},
		{ID: "b-again", Name: "B again", Binding: &journey.Binding{Events: []string{"B", "Step"}}},
	}}}}
	b := NewIndexBuilder(IndexOptions{KeepEvents: true, Parts: 2})
	evs := confEvents(confJourney{seq: "Step B Step"})
	evs[0].Properties = map[string]any{"step_name": "payment"}
	evs[2].Properties = map[string]any{"step_name": "delivery"}
	b.Add(7, evs)
	res, err := Conformance(context.Background(), b.Build(), ConformanceQuery{Map: m, Customers: []string{"cus_7"}})
	if err != nil {
		t.Fatal(err)
	}
	// Hits: pay, b-first, b-again (the delivery Step fails pay's filter).
	got := res.Customers[0]
	if !reflect.DeepEqual(got.Hit, []string{"pay", "b-first", "b-again"}) || got.Fitness != 1 || len(got.Outside) != 0 {
		t.Fatalf("got %+v", got)
	}
}

func TestConformancePerJourneyAPI(t *testing.T) {
	ix := confIndex(confJourney{customer: 3, seq: "A C B D"}, confJourney{customer: 4, seq: "X"},
		confJourney{customer: 5, seq: "A B C D"})
	cm, err := CompileConformance(confMap(), ix)
	if err != nil {
		t.Fatal(err)
	}
	// One checker and one accumulator per part, merged after the scan.
	checkers := make([]*ConformanceChecker, ix.Parts())
	accs := make([]*ConformanceAccumulator, ix.Parts())
	hits := make([]map[uint64][]int32, ix.Parts())
	for i := range checkers {
		checkers[i], accs[i], hits[i] = cm.NewChecker(), cm.NewAccumulator(3), map[uint64][]int32{}
	}
	err = ix.Scan(context.Background(), cm.Need(Range{}), func(part int, j *Journey) error {
		c, ok := checkers[part].Check(j, Range{})
		if ok {
			hits[part][c.Customer] = slices.Clone(c.Hits)
			accs[part].Add(c)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	all := map[uint64][]int32{}
	for i := range hits {
		maps.Copy(all, hits[i])
		if i > 0 {
			accs[0].Merge(accs[i])
		}
	}
	if want := map[uint64][]int32{3: {0, 2, 1, 3}, 5: {0, 1, 2, 3}}; !reflect.DeepEqual(all, want) {
		t.Fatalf("hits %v, want %v", all, want)
	}
	if r := accs[0].Result(10); r.Journeys != 2 || r.MeanFitness != 7.0/8 || r.EndToEnd != 1 || cm.Steps() != 4 || cm.StepID(3) != "s4" {
		t.Fatalf("result %+v", r)
	}
}

func TestConformanceRejectsBadQueries(t *testing.T) {
	ix := confIndex(confJourney{customer: 1, seq: "A"})
	unbound := confMap()
	for i := range unbound.Stages {
		for k := range unbound.Stages[i].Steps {
			unbound.Stages[i].Steps[k].Binding = nil
		}
	}
	badBinding := confMap()
	badBinding.Stages[1].Steps[0].Binding = &journey.Binding{Events: []string{""}, Channel: "fax"}
	cases := []struct {
		name string
		q    ConformanceQuery
		path string
	}{
		{"no map", ConformanceQuery{}, "map"},
		{"no bound step", ConformanceQuery{Map: unbound}, "map.stages"},
		{"bad binding", ConformanceQuery{Map: badBinding}, "map.stages[1].steps[0].binding.channel"},
		{"reversed range", ConformanceQuery{Map: confMap(), From: confBase, To: confBase}, "to"},
		{"too many examples", ConformanceQuery{Map: confMap(), Examples: 101}, "examples"},
		{"negative deviations", ConformanceQuery{Map: confMap(), Deviations: -1}, "deviations"},
		{"not a customer id", ConformanceQuery{Map: confMap(), Customers: []string{"42"}}, "customers[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Conformance(context.Background(), ix, tc.q)
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Code != fault.Invalid {
				t.Fatalf("got %v, want an invalid query", err)
			}
			for _, f := range fe.Fields {
				if f.Path == tc.path {
					return
				}
			}
			t.Fatalf("no problem at %s: %v", tc.path, err)
		})
	}
}

// TestConformanceOnATemplate measures generated-looking journeys against
// a shipped template whose bindings name events that never happened:
// the map is still measurable, and those steps count as not reached.
func TestConformanceOnATemplate(t *testing.T) {
	tpl, ok, err := journey.TemplateByID("retail-online-purchase", "en")
	if err != nil || !ok {
		t.Fatalf("template: %v %v", ok, err)
	}
	// A binding filters on a property, so the index keeps the events.
	b := NewIndexBuilder(IndexOptions{KeepEvents: true})
	b.Add(1, confEvents(confJourney{seq: "Products_Searched Product_Viewed Product_Added Checkout_Started"}))
	res, err := Conformance(context.Background(), b.Build(), ConformanceQuery{Map: &tpl.Map})
	if err != nil {
		t.Fatal(err)
	}
	// The four steps hit are the 2nd, 3rd, 4th and 6th of 12 bound
	// steps, in order; the 1st (an ad click) and the 5th before the
	// furthest one are skipped.
	if res.Journeys != 1 || res.BoundSteps != 12 || math.Abs(res.MeanFitness-4.0/12) > 1e-12 {
		t.Fatalf("got journeys %d steps %d fitness %v", res.Journeys, res.BoundSteps, res.MeanFitness)
	}
	var skipped []string
	for _, d := range res.Deviations {
		if d.Kind == DeviationSkipped {
			skipped = append(skipped, d.Step)
		}
	}
	if want := []string{"see-social-ad", "return-to-cart"}; !reflect.DeepEqual(skipped, want) {
		t.Fatalf("skipped %v, want %v", skipped, want)
	}
}

// confDatasets is the directory of the real event logs. Outside CI a
// missing directory skips the test; in CI it fails it.
func confDatasets(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "datasets")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("real event logs missing (CI=true, so this test may not be skipped): %v", err)
		}
		t.Skipf("real event logs missing: %v", err)
	}
	return dir
}

// FuzzConformanceAgreesWithDirectCount checks the checker against a
// direct, quadratic reading of the definitions on journeys over the
// test map's events and an outside one.
func FuzzConformanceAgreesWithDirectCount(f *testing.F) {
	for _, s := range []string{"", "ABCD", "ACBD", "DCBA", "AXBBCD", "CABCD", "XXXX", "BDBDAC"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var toks []string
		var steps []int32
		for _, r := range s {
			if len(toks) == 200 {
				break
			}
			k := int32(r % 5)
			toks = append(toks, string("ABCDX"[k]))
			steps = append(steps, k)
		}
		ix := confIndex(confJourney{customer: 1, seq: strings.Join(toks, " ")})
		res, err := Conformance(context.Background(), ix, ConformanceQuery{Map: confMap(), Customers: []string{"cus_1"}})
		if err != nil {
			t.Fatal(err)
		}
		var hits []int32
		for _, k := range steps {
			if k < 4 {
				hits = append(hits, k)
			}
		}
		if len(hits) == 0 {
			if res.Journeys != 0 {
				t.Fatalf("%q considered", s)
			}
			return
		}
		// Longest strictly rising subsequence by the quadratic recurrence.
		best := make([]int, len(hits))
		longest := 0
		for i := range hits {
			best[i] = 1
			for k := range i {
				if hits[k] < hits[i] {
					best[i] = max(best[i], best[k]+1)
				}
			}
			longest = max(longest, best[i])
		}
		ids := []string{"s1", "s2", "s3", "s4"}
		want := JourneyConformanceDetail{Customer: "cus_1", Fitness: float64(longest) / 4,
			Hit: []string{}, Skipped: []string{}, Repeated: []string{}, WrongOrder: []string{}, Outside: []string{}}
		furthest := slices.Max(hits)
		for k := range int32(4) {
			n, late := 0, false
			for i, h := range hits {
				if h == k {
					n++
					if slices.ContainsFunc(hits[:i], func(e int32) bool { return e > k }) {
						late = true
					}
				}
			}
			switch {
			case n > 0:
				want.Hit = append(want.Hit, ids[k])
			case k < furthest:
				want.Skipped = append(want.Skipped, ids[k])
			}
			if n > 1 {
				want.Repeated = append(want.Repeated, ids[k])
			}
			if late {
				want.WrongOrder = append(want.WrongOrder, ids[k])
			}
		}
		if slices.Contains(steps, 4) {
			want.Outside = []string{"X"}
		}
		if len(res.Customers) != 1 || !reflect.DeepEqual(res.Customers[0], want) {
			t.Fatalf("%q: got %+v, want %+v", s, res.Customers, want)
		}
	})
}
