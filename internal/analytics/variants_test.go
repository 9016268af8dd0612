package analytics

import (
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestVariantsOnHandMadeJourneys(t *testing.T) {
	journeys := []procJourney{
		{1, "A@0 B@1 C@3"},    // 3 min
		{2, "A@0 B@10 C@70"},  // 70 min
		{3, "A@0 B@2 C@2"},    // 2 min
		{4, "A@0 C@1"},        // 1 min
		{5, "B@0"},            // 0
		{6, "A@0 B@0"},        // 0
		{7, "C@0 A@0 B@1440"}, // a day; the tie keeps file order
	}
	at := func(m float64) time.Time { return procT0.Add(time.Duration(m * float64(time.Minute))) }
	type want struct {
		events    string
		customers int
		median    float64
	}
	for _, tc := range []struct {
		name      string
		q         VariantsQuery
		total     int
		customers int
		variants  []want
	}{
		{
			name: "every event", total: 5, customers: 7,
			variants: []want{
				{"A B C", 3, 180},
				// Ties: by events, name by name, a prefix first.
				{"A B", 1, 0},
				{"A C", 1, 60},
				{"B", 1, 0},
				{"C A B", 1, 86400},
			},
		},
		{
			name: "limit keeps the most frequent", q: VariantsQuery{Limit: 2}, total: 5, customers: 7,
			variants: []want{{"A B C", 3, 180}, {"A B", 1, 0}},
		},
		{
			name: "range cuts journeys", q: VariantsQuery{From: at(1), To: at(5)}, total: 2, customers: 3,
			variants: []want{{"B C", 2, 60}, {"C", 1, 0}},
		},
		{
			name: "activities filter", q: VariantsQuery{Activities: []string{"A", "C"}}, total: 3, customers: 6,
			variants: []want{{"A C", 4, 150}, {"A", 1, 0}, {"C A", 1, 0}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Variants(t.Context(), procIndex(t, journeys...), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got.Total != tc.total || got.Customers != tc.customers {
				t.Errorf("total %d, customers %d; want %d, %d", got.Total, got.Customers, tc.total, tc.customers)
			}
			var gotV []want
			for _, v := range got.Variants {
				gotV = append(gotV, want{strings.Join(v.Events, " "), v.Customers, v.MedianSeconds})
				if s := float64(v.Customers) / float64(tc.customers); math.Abs(v.Share-s) > 1e-12 {
					t.Errorf("variant %v: share %v, want %v", v.Events, v.Share, s)
				}
			}
			if !slices.Equal(gotV, tc.variants) {
				t.Errorf("variants\n got %v\nwant %v", gotV, tc.variants)
			}
		})
	}
}

func TestVariantsJourneyDurations(t *testing.T) {
	ix := procIndex(t,
		procJourney{1, "A@0"},         // 0 s
		procJourney{2, "A@0 B@0.5"},   // 30 s
		procJourney{3, "A@0 B@10"},    // 600 s
		procJourney{4, "A@0 B@120"},   // 7,200 s
		procJourney{5, "A@0 B@43200"}, // 30 days
	)
	got, err := Variants(t.Context(), ix, VariantsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	d := got.Durations
	if d == nil {
		t.Fatal("no durations")
	}
	// Sorted: 0, 30, 600, 7200, 2592000. p90 at index 3.6: 7200 + 0.6·(2592000−7200).
	if d.Count != 5 || d.Median != 600 || math.Abs(d.P90-(7200+0.6*(2592000-7200))) > 1e-6 {
		t.Errorf("count %d, median %v, p90 %v", d.Count, d.Median, d.P90)
	}
	in := func(lo float64) int64 {
		for _, b := range d.Histogram {
			if b.From == lo {
				return b.Count
			}
		}
		t.Fatalf("no bin from %v in %+v", lo, d.Histogram)
		return 0
	}
	var all int64
	for _, b := range d.Histogram {
		all += b.Count
	}
	if in(0) != 2 || in(300) != 1 || in(6*3600) != 0 || all != 5 {
		t.Errorf("histogram %+v", d.Histogram)
	}
	// A variant's own durations: the four A→B journeys.
	for _, v := range got.Variants {
		if strings.Join(v.Events, " ") == "A B" && (v.MedianSeconds != (600+7200)/2.0 || v.Customers != 4) {
			t.Errorf("variant A B: %+v", v)
		}
	}
	empty, err := Variants(t.Context(), ix, VariantsQuery{From: procT0.Add(-time.Hour), To: procT0.Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if empty.Durations != nil || empty.Total != 0 || len(empty.Variants) != 0 {
		t.Errorf("no journeys in range, got %+v", empty)
	}
	// The answer is JSON the API can send: no NaN anywhere.
	if _, err := json.Marshal(got); err != nil {
		t.Error(err)
	}
	if _, err := json.Marshal(empty); err != nil {
		t.Error(err)
	}
}

func TestVariantsRefusesInvalidQueries(t *testing.T) {
	ix := procIndex(t, procJourney{1, "A@0 B@1"})
	for _, tc := range []struct {
		name  string
		q     VariantsQuery
		paths []string
	}{
		{"reversed range", VariantsQuery{From: procT0.Add(time.Hour), To: procT0}, []string{"to"}},
		{"limit too big", VariantsQuery{Limit: maxVariants + 1}, []string{"limit"}},
		{"negative limit", VariantsQuery{Limit: -1}, []string{"limit"}},
		{"unknown activity", VariantsQuery{Activities: []string{"Nope"}}, []string{"activities[0]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Variants(t.Context(), ix, tc.q)
			checkInvalid(t, err, tc.paths)
		})
	}
}

// TestVariantsOfRealLogs checks the variant counts process-mining users
// know for the real logs (datasets README; pm4py gives the same), and that
// the listed variants account for every case.
func TestVariantsOfRealLogs(t *testing.T) {
	for _, tc := range []struct {
		file            string
		cases, variants int
	}{
		{"running-example.xes", 6, 6},
		{"receipt.csv", 1434, 116},
		{"helpdesk.xes.gz", 4580, 226},
		{"bpic2012.xes.gz", 13087, 4366},
	} {
		t.Run(tc.file, func(t *testing.T) {
			if testing.Short() && tc.file == "bpic2012.xes.gz" {
				t.Skip("a 262,200-event log")
			}
			got, err := Variants(t.Context(), procLog(t, tc.file), VariantsQuery{Limit: maxVariants})
			if err != nil {
				t.Fatal(err)
			}
			if got.Total != tc.variants || got.Customers != tc.cases || len(got.Variants) != tc.variants {
				t.Errorf("%d variants (%d listed) over %d customers; want %d over %d",
					got.Total, len(got.Variants), got.Customers, tc.variants, tc.cases)
			}
			sum := 0
			for i, v := range got.Variants {
				sum += v.Customers
				if i > 0 && v.Customers > got.Variants[i-1].Customers {
					t.Fatalf("variant %d (%d customers) after one of %d", i, v.Customers, got.Variants[i-1].Customers)
				}
			}
			if sum != tc.cases || got.Durations == nil || got.Durations.Count != int64(tc.cases) {
				t.Errorf("variants cover %d customers, durations %+v; want %d", sum, got.Durations, tc.cases)
			}
		})
	}
}

// TestVariantsBPIC2012TopVariant checks the commonest variant of BPIC
// 2012 against a count over the XML read directly.
func TestVariantsBPIC2012TopVariant(t *testing.T) {
	if testing.Short() {
		t.Skip("reads a 262,200-event log twice")
	}
	dir := procDatasets(t)
	counts := map[string]int{}
	for _, tr := range readRawXES(t, filepath.Join(dir, "bpic2012.xes.gz")) {
		counts[strings.Join(tr.names, "\x00")]++
	}
	type kv struct {
		k string
		n int
	}
	var all []kv
	for k, n := range counts {
		all = append(all, kv{k, n})
	}
	slices.SortFunc(all, func(a, b kv) int {
		if a.n != b.n {
			return b.n - a.n
		}
		return strings.Compare(a.k, b.k)
	})
	got, err := Variants(t.Context(), procLog(t, "bpic2012.xes.gz"), VariantsQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != got.Total {
		t.Errorf("the XML has %d variants, trek %d", len(all), got.Total)
	}
	for i, v := range got.Variants {
		if strings.Join(v.Events, "\x00") != all[i].k || v.Customers != all[i].n {
			t.Errorf("variant %d: got %d × %v, want %d × %v", i, v.Customers, v.Events, all[i].n, strings.Split(all[i].k, "\x00"))
		}
	}
}
