package analytics

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/gen"
	"github.com/trekhq/trek/internal/journey"
)

// confBenchEvents is the size of the generated data the conformance,
// retention and discovery benchmarks read.
const confBenchEvents = 1_000_000

var (
	confBenchOnce sync.Once
	confBenchIx   *Index
	confBenchErr  error
)

// confBenchIndex generates about a million events with trek gen's
// generator and indexes them by customer: a person's anonymous ids and
// user id are joined (union-find over the identifiers the events carry),
// as identity stitching would join them.
func confBenchIndex(b *testing.B) *Index {
	confBenchOnce.Do(func() {
		type rec struct {
			key  int32 // identifier the event was filed under
			at   time.Time
			name string
			ch   string
		}
		var recs []rec
		ids := map[string]int32{}
		var parent []int32
		find := func(x int32) int32 {
			for parent[x] != x {
				parent[x] = parent[parent[x]]
				x = parent[x]
			}
			return x
		}
		id := func(s string) int32 {
			k, ok := ids[s]
			if !ok {
				k = int32(len(parent))
				ids[s] = k
				parent = append(parent, k)
			}
			return k
		}
		_, confBenchErr = gen.Generate(context.Background(), gen.Config{Seed: 7, Events: confBenchEvents},
			func(e event.Event) error {
				var k int32 = -1
				for _, s := range []string{e.AnonymousID, e.UserID, e.PreviousID} {
					if s == "" {
						continue
					}
					x := id(s)
					if k < 0 {
						k = x
					} else if rk, rx := find(k), find(x); rk != rx {
						parent[rx] = rk
					}
				}
				if k >= 0 {
					recs = append(recs, rec{key: k, at: e.Timestamp, name: e.Activity(), ch: e.Channel})
				}
				return nil
			})
		if confBenchErr != nil {
			return
		}
		byRoot := map[int32][]event.Event{}
		var roots []int32
		for i, r := range recs {
			root := find(r.key)
			if _, ok := byRoot[root]; !ok {
				roots = append(roots, root)
			}
			byRoot[root] = append(byRoot[root], event.Event{Type: event.Track, Event: r.name, Channel: r.ch,
				Timestamp: r.at, Seq: uint64(i)})
		}
		slices.Sort(roots)
		ib := NewIndexBuilder(IndexOptions{})
		for i, root := range roots {
			ib.Add(uint64(i+1), byRoot[root])
		}
		confBenchIx = ib.Build()
	})
	if confBenchErr != nil {
		b.Fatal(confBenchErr)
	}
	return confBenchIx
}

// confBenchMap is the online-purchase template with its property filters
// dropped, since the benchmark index keeps only the compact columns.
func confBenchMap(b *testing.B) *journey.Map {
	tpl, ok, err := journey.TemplateByID("retail-online-purchase", "en")
	if err != nil || !ok {
		b.Fatalf("template: %v %v", ok, err)
	}
	m := tpl.Map
	for i := range m.Stages {
		for k := range m.Stages[i].Steps {
			if bd := m.Stages[i].Steps[k].Binding; bd != nil {
				bd.Where = nil
			}
		}
	}
	return &m
}

func BenchmarkConformance(b *testing.B) {
	ix := confBenchIndex(b)
	m := confBenchMap(b)
	b.ResetTimer()
	var res ConformanceResult
	for b.Loop() {
		var err error
		res, err = Conformance(context.Background(), ix, ConformanceQuery{Map: m})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(ix.Events()), "events")
	b.ReportMetric(float64(res.Journeys), "journeys")
	b.ReportMetric(res.MeanFitness, "fitness")
}

func BenchmarkRetention(b *testing.B) {
	ix := confBenchIndex(b)
	q := RetentionQuery{Start: Matcher{Event: "Product Viewed"}, Return: &Matcher{Event: "Order Completed"}, Period: "week", Periods: 12}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Retention(context.Background(), ix, q); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(ix.Events()), "events")
}

func BenchmarkDiscover(b *testing.B) {
	ix := confBenchIndex(b)
	b.ResetTimer()
	var res DiscoverResult
	for b.Loop() {
		var err error
		if res, err = Discover(context.Background(), ix, DiscoverQuery{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(res.Steps)), "steps")
}
