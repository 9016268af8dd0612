package journeys_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/analytics"
)

// TestScanHandsEveryEventOnceInJourneyOrder checks a Scan against the slow
// per-customer merge, over generated journeys whose events sit in column
// files and in the head at once, with both parts running.
func TestScanHandsEveryEventOnceInJourneyOrder(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.generate(7, 400, 3000)
	st, g := f.store(), f.graph()
	if s := st.Stats(); s.ColumnFiles == 0 || s.HeadEvents == 0 {
		t.Fatalf("want events both in column files and in the head, got %+v", s)
	}
	want := reference(t, st, g)
	multi := 0
	for c := range want {
		if len(g.Keys(c)) > 1 {
			multi++
		}
	}
	if multi == 0 {
		t.Fatal("generated data has no customer with several keys; the test would prove little")
	}
	src := f.source(2)
	full := collectScan(t, src, analytics.Need{Events: true})
	core := collectScan(t, src, analytics.Need{})

	var graphCustomers []uint64
	for k, c := range g.CustomerTable(nil) {
		if c != 0 && uint64(c) == uint64(k) {
			graphCustomers = append(graphCustomers, uint64(c))
		}
	}
	if !slices.Equal(sortedKeys(full), graphCustomers) {
		t.Fatalf("customers: scan has %d, the graph %d", len(full), len(graphCustomers))
	}
	if !slices.Equal(sortedKeys(full), sortedKeys(want)) {
		t.Fatalf("customers: scan has %d, graph has %d", len(full), len(want))
	}
	total := 0
	seen := map[uint64]bool{}
	for c, evs := range want {
		j, k := full[c], core[c]
		if len(j.seqs) != len(evs) {
			t.Fatalf("customer %d: %d events, want %d", c, len(j.seqs), len(evs))
		}
		for i, e := range evs {
			if j.seqs[i] != e.Seq {
				t.Fatalf("customer %d event %d: seq %d, want %d (journey order)", c, i, j.seqs[i], e.Seq)
			}
			if seen[e.Seq] {
				t.Fatalf("event %d handed on twice", e.Seq)
			}
			seen[e.Seq] = true
			if k.times[i] != e.Timestamp.UnixNano() || k.acts[i] != e.Activity() || k.chans[i] != e.Channel {
				t.Fatalf("customer %d event %d: core scan has (%d %q %q), want (%d %q %q)", c, i,
					k.times[i], k.acts[i], k.chans[i], e.Timestamp.UnixNano(), e.Activity(), e.Channel)
			}
		}
		if !slices.Equal(j.times, k.times) {
			t.Fatalf("customer %d: the scan with events and the core scan disagree on times", c)
		}
		total += len(evs)
	}
	if int64(total) != st.Stats().Events {
		t.Fatalf("scan handed on %d events, the store holds %d", total, st.Stats().Events)
	}
}

func sortedKeys[V any](m map[uint64]V) []uint64 {
	ks := slices.Collect(maps.Keys(m))
	slices.Sort(ks)
	return ks
}

// TestMergeAfterTheEventsJoinsTheJourneys: an anonymous visitor and a
// signed-in user, each with stored events, joined afterwards by an alias
// call, are one journey in time order, ties in arrival order.
func TestMergeAfterTheEventsJoinsTheJourneys(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.send(ev{who: "a:dev-1", name: "Product Viewed", at: 1},
		ev{who: "a:dev-1", name: "Cart Viewed", at: 5, channel: "mobile"})
	f.send(ev{who: "u:ana", name: "Signed In", at: 3},
		ev{who: "u:ana", name: "Order Completed", at: 5}) // same minute: arrived later
	f.send(ev{who: "u:bob", name: "Signed In", at: 2})
	if err := f.store().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := collectScan(t, f.source(2), analytics.Need{})
	if len(before) != 3 {
		t.Fatalf("before the alias: %d customers, want 3", len(before))
	}

	f.alias("dev-1", "ana", 7)
	after := collectScan(t, f.source(2), analytics.Need{})
	if len(after) != 2 {
		t.Fatalf("after the alias: %d customers, want 2", len(after))
	}
	ana := after[f.customer("u:ana")]
	want := []string{"Product Viewed", "Signed In", "Cart Viewed", "Order Completed", "Alias"}
	if !slices.Equal(ana.acts, want) {
		t.Fatalf("merged journey %v, want %v", ana.acts, want)
	}
	if !slices.Equal(ana.chans, []string{"web", "web", "mobile", "web", "web"}) {
		t.Fatalf("channels %v", ana.chans)
	}
	if !slices.IsSorted(ana.times) {
		t.Fatalf("times not in order: %v", ana.times)
	}
	if f.customer("a:dev-1") != f.customer("u:ana") {
		t.Fatal("the alias did not join the customers")
	}
}

// TestTraitsAreIdentifyCallsMergedInJourneyOrder: later identify calls win,
// across keys, and only when asked for.
func TestTraitsAreIdentifyCallsMergedInJourneyOrder(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.send(ev{who: "a:dev-9", at: 1, traits: map[string]any{"plan": "free", "city": "Hanoi"}})
	f.send(ev{who: "u:cy", at: 4, traits: map[string]any{"plan": "pro", "email": "cy@example.com"}})
	f.send(ev{who: "u:cy", at: 2, traits: map[string]any{"plan": "team"}}) // arrives last, happened earlier
	f.send(ev{who: "u:dee", name: "Signed In", at: 1})
	f.alias("dev-9", "cy", 6)

	// Both paths: columns only, and with the events.
	for _, need := range []analytics.Need{{Traits: true}, {Traits: true, Events: true}} {
		js := collectScan(t, f.source(2), need)
		cy := js[f.customer("u:cy")]
		want := map[string]any{"plan": "pro", "city": "Hanoi", "email": "cy@example.com"}
		if !maps.Equal(cy.traits, want) {
			t.Fatalf("%+v: traits %v, want %v", need, cy.traits, want)
		}
		if tr := js[f.customer("u:dee")].traits; tr != nil {
			t.Fatalf("%+v: a customer without identify calls has traits %v", need, tr)
		}
	}
	for _, j := range collectScan(t, f.source(2), analytics.Need{}) {
		if j.traits != nil {
			t.Fatal("traits handed on without being asked for")
		}
	}
}

// TestErasedCustomersAreLeftOut: after an erasure through the pipeline, and
// while one is half done (the graph erased, the store not yet).
func TestErasedCustomersAreLeftOut(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.send(ev{who: "a:dev-1", name: "Product Viewed", at: 1}, ev{who: "u:eve", name: "Signed In", at: 2},
		ev{who: "u:fay", name: "Signed In", at: 3}, ev{who: "u:gus", name: "Signed In", at: 4})
	f.alias("dev-1", "eve", 5)
	eve, fay := f.customer("u:eve"), f.customer("u:fay")
	if _, err := f.pipe.Erase(context.Background(), f.ws, "eve", "test"); err != nil {
		t.Fatal(err)
	}
	js := collectScan(t, f.source(2), analytics.Need{Events: true})
	if _, ok := js[eve]; ok || len(js) != 2 {
		t.Fatalf("after erasing eve: customers %v", sortedKeys(js))
	}
	// Half an erasure: the graph forgets fay first.
	f.graph().Erase(fay)
	js = collectScan(t, f.source(2), analytics.Need{})
	if _, ok := js[fay]; ok || len(js) != 1 {
		t.Fatalf("after erasing fay from the graph: customers %v", sortedKeys(js))
	}
}

// TestNeedRangeSkipsJourneysWithNoEventInRange: a journey with an event in
// [From, To) is handed on whole; others are skipped.
func TestNeedRangeSkipsJourneysWithNoEventInRange(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.send(ev{who: "u:early", name: "A", at: 0}, ev{who: "u:early", name: "B", at: 10},
		ev{who: "u:late", name: "A", at: 30}, ev{who: "u:late", name: "B", at: 40},
		ev{who: "u:span", name: "A", at: 5}, ev{who: "u:span", name: "B", at: 45})
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{"open", time.Time{}, time.Time{}, []string{"early", "late", "span"}},
		{"from only", at(11), time.Time{}, []string{"late", "span"}},
		{"to only", time.Time{}, at(5), []string{"early"}},
		{"to is exclusive", at(10), at(30), []string{"early"}},
		{"from is inclusive", at(30), at(31), []string{"late"}},
		{"between a journey's events", at(11), at(29), nil},
		{"both ends", at(40), at(46), []string{"late", "span"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js := collectScan(t, f.source(2), analytics.Need{From: tc.from, To: tc.to})
			var names []string
			for _, who := range []string{"early", "late", "span"} {
				if j, ok := js[f.customer("u:"+who)]; ok {
					names = append(names, who)
					if len(j.times) != 2 {
						t.Errorf("%s handed on with %d events, want its whole journey", who, len(j.times))
					}
				}
			}
			if !slices.Equal(names, tc.want) {
				t.Fatalf("journeys %v, want %v", names, tc.want)
			}
		})
	}
}

// TestScanStopsAtFnErrorAndCancellation.
func TestScanStopsAtFnErrorAndCancellation(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.generate(11, 300, 0)
	src := f.source(2)
	all := len(collectScan(t, src, analytics.Need{}))
	errStop := errors.New("enough")
	for _, tc := range []struct {
		name string
		run  func(ctx context.Context, cancel context.CancelFunc, calls *atomic.Int64) error
		want error
	}{
		{"fn error", func(ctx context.Context, _ context.CancelFunc, calls *atomic.Int64) error {
			return src.Scan(ctx, analytics.Need{}, func(int, *analytics.Journey) error {
				if calls.Add(1) == 20 {
					return errStop
				}
				return nil
			})
		}, errStop},
		{"cancelled midway", func(ctx context.Context, cancel context.CancelFunc, calls *atomic.Int64) error {
			return src.Scan(ctx, analytics.Need{Events: true}, func(int, *analytics.Journey) error {
				if calls.Add(1) == 20 {
					cancel()
				}
				return nil
			})
		}, context.Canceled},
		{"cancelled before", func(ctx context.Context, cancel context.CancelFunc, calls *atomic.Int64) error {
			cancel()
			return src.Scan(ctx, analytics.Need{}, func(int, *analytics.Journey) error {
				calls.Add(1)
				return nil
			})
		}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var calls atomic.Int64
			err := tc.run(ctx, cancel, &calls)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Scan returned %v, want %v", err, tc.want)
			}
			// The other part may finish the journey it holds; nothing
			// close to the whole scan runs after the stop.
			if n := calls.Load(); n > int64(all)/2 {
				t.Fatalf("fn called %d times of %d after the stop", n, all)
			}
		})
	}
}

// TestPartsShareTheWork: with two parts both are used, and the codes the
// parts gave agree with the dictionaries.
func TestPartsShareTheWork(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.generate(5, 300, 0)
	src := f.source(2)
	var per [2]atomic.Int64
	err := src.Scan(context.Background(), analytics.Need{}, func(part int, j *analytics.Journey) error {
		per[part].Add(1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if per[0].Load() == 0 || per[1].Load() == 0 {
		t.Fatalf("journeys per part %d and %d: one part did nothing", per[0].Load(), per[1].Load())
	}
	names := src.Activities().Names()
	if !sort.StringsAreSorted(names) && len(names) < 5 {
		t.Fatalf("activity dictionary %v", names)
	}
	for i, n := range names {
		if c, ok := src.Activities().Lookup(n); !ok || int(c) != i {
			t.Fatalf("activity %q has code %d, listed at %d", n, c, i)
		}
	}
}

// TestIndexFromSourceEqualsTheSource: BuildIndex over the Source keeps
// every journey.
func TestIndexFromSourceEqualsTheSource(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.generate(3, 300, 2000)
	src := f.source(2)
	ix, err := analytics.BuildIndex(context.Background(), src, analytics.IndexOptions{KeepTraits: true})
	if err != nil {
		t.Fatal(err)
	}
	fromSrc := collectScan(t, src, analytics.Need{Traits: true})
	fromIx := collectScan(t, ix, analytics.Need{Traits: true})
	if len(fromIx) != len(fromSrc) || int64(ix.Events()) != f.store().Stats().Events {
		t.Fatalf("index: %d customers, %d events; source: %d customers, store %d events",
			len(fromIx), ix.Events(), len(fromSrc), f.store().Stats().Events)
	}
	for c, j := range fromSrc {
		k := fromIx[c]
		if !slices.Equal(j.acts, k.acts) || !slices.Equal(j.chans, k.chans) || !slices.Equal(j.times, k.times) || !maps.Equal(j.traits, k.traits) {
			t.Fatalf("customer %d differs between the source and its index", c)
		}
	}
}
