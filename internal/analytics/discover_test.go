package analytics

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/importer"
	"github.com/trekhq/trek/internal/journey"
)

// discoverLoadXES reads a real XES log into an Index: each trace a
// customer numbered from 1 in order of first appearance, ties on time in
// file order.
func discoverLoadXES(t testing.TB, name string) *Index {
	t.Helper()
	f, err := importer.Open(filepath.Join(confDatasets(t), name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ids := map[string]uint64{}
	var byCustomer [][]event.Event
	seq := uint64(0)
	_, err = importer.ReadXES(context.Background(), f, importer.XESOptions{}, importer.Options{SourceID: "test"}, func(e event.Event) error {
		c, ok := ids[e.UserID]
		if !ok {
			c = uint64(len(ids))
			ids[e.UserID] = c
			byCustomer = append(byCustomer, nil)
		}
		e.Seq = seq
		seq++
		byCustomer[c] = append(byCustomer[c], e)
		return nil
	})
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	b := NewIndexBuilder(IndexOptions{})
	for c, evs := range byCustomer {
		b.Add(uint64(c+1), evs)
	}
	return b.Build()
}

// discoverShop is ten hand-made journeys: six through search, two
// straight to a product, one that asks for help, one that leaves at once.
func discoverShop() *Index {
	var js []confJourney
	for c := range uint64(6) {
		js = append(js, confJourney{customer: c + 1, seq: "Visit Search@mobile View Cart Order_Paid@call_centre"})
	}
	js = append(js,
		confJourney{customer: 7, seq: "Visit View Cart@mobile Order_Paid"},
		confJourney{customer: 8, seq: "Visit View Cart@mobile Order_Paid@store"},
		confJourney{customer: 9, seq: "Visit Search View@mobile Help"},
		confJourney{customer: 10, seq: "Visit@email Rare"},
	)
	return confIndex(js...)
}

func discoverStepNames(m journey.Map) (stages [][]string) {
	for _, s := range m.Stages {
		var names []string
		for _, st := range s.Steps {
			names = append(names, st.Name)
		}
		stages = append(stages, names)
	}
	return stages
}

func TestDiscoverDraftsTheMainPath(t *testing.T) {
	cases := []struct {
		name   string
		q      DiscoverQuery
		stages [][]string
	}{
		// Help and Rare appear in 1 of 10 journeys, below 15%. View is
		// first seen at positions 2×7, 1×2 (median 2); Cart 3×6, 2×2 (3).
		{"common activities in typical order", DiscoverQuery{MinShare: 0.15},
			[][]string{{"Visit", "Search"}, {"View", "Cart"}, {"Order Paid"}}},
		// Five main-path activities, three kept: the commonest, Cart
		// before Order Paid on name when both are in 8 journeys.
		{"too many steps keeps the commonest", DiscoverQuery{MinShare: 0.15, MaxSteps: 3},
			[][]string{{"Visit"}, {"View"}, {"Cart"}}},
		// At 10% Help and Rare qualify: the walk Visit→Search→View→Cart→
		// Order Paid leaves them off the main path, and they fill up.
		// Rare ties Search at position 1 and Help ties Cart at 3; the
		// commoner goes first.
		{"others fill up to the limit", DiscoverQuery{MinShare: 0.1},
			[][]string{{"Visit", "Search", "Rare"}, {"View", "Cart"}, {"Help", "Order Paid"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Discover(context.Background(), discoverShop(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if err := journey.Validate(&res.Map); err != nil {
				t.Fatalf("draft not valid: %v", err)
			}
			if got := discoverStepNames(res.Map); !reflect.DeepEqual(got, tc.stages) {
				t.Fatalf("stages %q, want %q", got, tc.stages)
			}
			if res.Journeys != 10 || res.Map.Kind != journey.CurrentState {
				t.Fatalf("journeys %d kind %s", res.Journeys, res.Map.Kind)
			}
		})
	}
}

func TestDiscoverBindsStepsAndNamesStages(t *testing.T) {
	res, err := Discover(context.Background(), discoverShop(), DiscoverQuery{MinShare: 0.15, Name: "Shop", Locale: "pl"})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Map
	if m.Name != "Shop" || m.Locale != "pl" || m.Stages[1].Name != "View" || m.Stages[1].ID != "stage-2" {
		t.Fatalf("map %q %q, stage %+v", m.Name, m.Locale, m.Stages[1])
	}
	want := []DiscoveredStep{
		{StepID: "visit", Event: "Visit", Journeys: 10, Share: 1, MedianPosition: 0, Channel: "web", MainPath: true},
		// Search is on mobile 6 times and on the web once.
		{StepID: "search", Event: "Search", Journeys: 7, Share: 0.7, MedianPosition: 1, Channel: "mobile", MainPath: true},
		{StepID: "view", Event: "View", Journeys: 9, Share: 0.9, MedianPosition: 2, Channel: "web", MainPath: true},
		{StepID: "cart", Event: "Cart", Journeys: 8, Share: 0.8, MedianPosition: 3, Channel: "web", MainPath: true},
		// Six on the call centre beat one on the web and one in store.
		// First seen at positions 4×6 and 3×2: the middle two are 4.
		{StepID: "order-paid", Event: "Order Paid", Journeys: 8, Share: 0.8, MedianPosition: 4, Channel: "call_centre", MainPath: true},
	}
	if !reflect.DeepEqual(res.Steps, want) {
		t.Fatalf("steps\n%+v\nwant\n%+v", res.Steps, want)
	}
	pay := m.Stages[2].Steps[0]
	if !reflect.DeepEqual(pay.Binding, &journey.Binding{Events: []string{"Order Paid"}}) ||
		!reflect.DeepEqual(pay.Touchpoints, []journey.Touchpoint{{Channel: "call_centre", Name: "Infolinia"}}) {
		t.Fatalf("step %+v", pay)
	}
}

func TestDiscoverIsDeterministic(t *testing.T) {
	a, err := Discover(context.Background(), discoverShop(), DiscoverQuery{MinShare: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		b, err := Discover(context.Background(), discoverShop(), DiscoverQuery{MinShare: 0.1})
		if err != nil || !reflect.DeepEqual(a, b) {
			t.Fatalf("second run differs: %v", err)
		}
	}
}

func TestDiscoverStepIDs(t *testing.T) {
	used := map[string]bool{}
	got := []string{discoverID("Add to cart", used), discoverID("add-to-cart!", used), discoverID("Đơn hàng", used),
		discoverID("---", used), discoverID("  Order  Completed ", used), discoverID("---", used)}
	want := []string{"add-to-cart", "add-to-cart-2", "n-h-ng", "step", "order-completed", "step-2"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ids %q, want %q", got, want)
	}
}

func TestDiscoverRejectsBadQueries(t *testing.T) {
	ix := discoverShop()
	cases := []struct {
		name string
		q    DiscoverQuery
		path string
	}{
		{"share above one", DiscoverQuery{MinShare: 1.5}, "minShare"},
		{"negative steps", DiscoverQuery{MaxSteps: -1}, "maxSteps"},
		{"too many steps", DiscoverQuery{MaxSteps: 51}, "maxSteps"},
		{"bad locale", DiscoverQuery{Locale: "not a tag"}, "locale"},
		{"reversed range", DiscoverQuery{From: confBase, To: confBase}, "to"},
		// Every activity is in fewer than all journeys but Visit; at a
		// share of 1 only Visit qualifies, so ask for more than exists.
		{"nothing common enough", DiscoverQuery{From: confBase.Add(3 * 60e9), MinShare: 1}, "minShare"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Discover(context.Background(), ix, tc.q)
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Code != fault.Invalid || len(fe.Fields) != 1 || fe.Fields[0].Path != tc.path {
				t.Fatalf("got %v, want an invalid query at %s", err, tc.path)
			}
		})
	}
	if _, err := Discover(context.Background(), ix, DiscoverQuery{From: confBase.AddDate(1, 0, 0)}); fault.CodeOf(err) != fault.Invalid {
		t.Fatalf("empty range: got %v", err)
	}
}

// TestDiscoverRealLogs drafts maps of the real logs: valid, and their
// steps the main activities in the process's own order.
func TestDiscoverRealLogs(t *testing.T) {
	cases := []struct {
		file string
		// want are the steps in map order.
		want []string
	}{
		// The six textbook cases, first positions (from 0) of each
		// activity: examine casually 2 1 1 1 (median 1); check ticket
		// 2 1 2 1 2 2 (2, mean 1.67); examine thoroughly 1 5 2 (2, mean
		// 2.67); decide 3; reinitiate request 4 4 (4, mean 4); pay
		// compensation 4 8 4 (4, mean 5.33); reject request 4 4 12 (4,
		// mean 6.67). Every activity is in at least 2 of 6 cases.
		{"running-example.xes", []string{"register request", "examine casually", "check ticket",
			"examine thoroughly", "decide", "reinitiate request", "pay compensation", "reject request"}},
		// The helpdesk's activities in at least 5% of its tickets.
		{"helpdesk.xes.gz", []string{"Assign seriousness", "Take in charge ticket", "Wait", "Resolve ticket", "Closed"}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			ix := discoverLoadXES(t, tc.file)
			res, err := Discover(context.Background(), ix, DiscoverQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if err := journey.Validate(&res.Map); err != nil {
				t.Fatalf("draft not valid: %v", err)
			}
			got := slices.Concat(discoverStepNames(res.Map)...)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("steps %q, want %q", got, tc.want)
			}
			if n := len(res.Map.Stages); n != min(len(got), 3) {
				t.Fatalf("%d stages", n)
			}
			// The steps are exactly the activities in at least 5% of the
			// journeys, counted here directly.
			cover := map[string]int{}
			journeys := 0
			var mu sync.Mutex
			if err := ix.Scan(context.Background(), Need{}, func(_ int, j *Journey) error {
				mu.Lock()
				defer mu.Unlock()
				journeys++
				seen := map[string]bool{}
				for _, a := range j.Acts {
					if n := ix.acts.Name(a); !seen[n] {
						seen[n] = true
						cover[n]++
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			var common []string
			for n, c := range cover {
				if float64(c) >= 0.05*float64(journeys) {
					common = append(common, n)
				}
			}
			slices.Sort(common)
			if sorted := slices.Sorted(slices.Values(got)); !reflect.DeepEqual(sorted, common) || res.Journeys != journeys {
				t.Fatalf("steps %q, common activities %q; journeys %d of %d", sorted, common, res.Journeys, journeys)
			}
		})
	}
}
