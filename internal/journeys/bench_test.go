package journeys_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/analytics"
	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/store"
)

// benchCustomers is the generated population of the benchmarks: 40,000
// people make about a million events. TREK_BENCH_CUSTOMERS overrides it
// (200000 makes about five million).
func benchCustomers() int {
	if n, err := strconv.Atoi(os.Getenv("TREK_BENCH_CUSTOMERS")); err == nil && n > 0 {
		return n
	}
	return 40_000
}

// benchFixture fills a workspace through the pipeline, as collection would,
// and folds it into column files.
func benchFixture(b *testing.B) *fixture {
	b.Helper()
	f := newFixture(b, fixtureOptions{})
	f.generate(42, benchCustomers(), 0)
	if err := f.store().Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	return f
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScan measures a full Scan: core columns (what the Index is
// built from), with events, and the store's own core scan underneath for
// comparison. events/s is wall time on a shared two-core machine;
// cpu-µs/event is the work.
func BenchmarkScan(b *testing.B) {
	f := benchFixture(b)
	st := f.store()
	b.Logf("%d customers, %d events, %d keys", benchCustomers(), st.Stats().Events, st.Stats().Keys)
	src := f.source(0)
	for _, tc := range []struct {
		name string
		need analytics.Need
	}{{"Core", analytics.Need{}}, {"Traits", analytics.Need{Traits: true}}, {"Events", analytics.Need{Events: true}}} {
		b.Run(tc.name, func(b *testing.B) {
			runtime.GC()
			var n atomic.Int64
			start, cpu := time.Now(), cpuTime()
			for b.Loop() {
				err := src.Scan(context.Background(), tc.need, func(_ int, j *analytics.Journey) error {
					n.Add(int64(j.Len()))
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "events/s")
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(n.Load()), "cpu-µs/event")
		})
	}
	b.Run("StoreCore", func(b *testing.B) {
		runtime.GC()
		var n int64
		start, cpu := time.Now(), cpuTime()
		for b.Loop() {
			err := st.JourneysFields(context.Background(), store.Fields(0), func(_ uint64, evs []event.Event) error {
				n += int64(len(evs))
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
		b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(n), "cpu-µs/event")
	})
}

// BenchmarkBuildIndex measures the Cache's build and the Index's memory:
// the live heap it adds, per event.
func BenchmarkBuildIndex(b *testing.B) {
	f := benchFixture(b)
	src := f.source(0)
	for _, opts := range []struct {
		name                    string
		traits, events, context bool
	}{{"Core", false, false, false}, {"KeepTraits", true, false, false}, {"FullWithoutContext", true, true, false}, {"Full", true, true, true}} {
		traits := opts.traits
		b.Run(opts.name, func(b *testing.B) {
			var ix *analytics.Index
			var before, after runtime.MemStats
			var took time.Duration
			for b.Loop() {
				b.StopTimer()
				ix = nil
				runtime.GC()
				runtime.ReadMemStats(&before)
				b.StartTimer()
				start := time.Now()
				var err error
				ix, err = analytics.BuildIndex(context.Background(), src, analytics.IndexOptions{KeepTraits: traits, KeepEvents: opts.events, KeepContext: opts.context})
				if err != nil {
					b.Fatal(err)
				}
				took += time.Since(start)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(ix.Events()), "index-bytes/event")
			b.ReportMetric(float64(ix.Events())*float64(b.N)/took.Seconds(), "events/s")
			b.ReportMetric(float64(ix.Events()), "events")
			runtime.KeepAlive(ix)
		})
	}
}
