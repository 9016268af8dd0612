package analytics

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/chtest"
	"github.com/trekhq/trek/internal/gen"
)

// benchEvents is the generated data's size: TREK_BENCH_EVENTS, or a
// million so that make bench stays short. The sizes are
// TREK_BENCH_EVENTS=10000000 and 100000000 (docs/benchmarks.md).
func benchEvents(b *testing.B) int {
	s := os.Getenv("TREK_BENCH_EVENTS")
	if s == "" {
		return 1_000_000
	}
	n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil || n < 1000 {
		b.Fatalf("TREK_BENCH_EVENTS=%q: want a number of events, at least 1000", s)
	}
	return n
}

// BenchmarkFunnelVsClickHouse is the funnel benchmark: a 5-step
// ordered funnel with a 7-day window over all of the generated data,
// in trek's Index (the timed loop) and in ClickHouse's windowFunnel on
// the same rows, in the same run. It checks that the two agree and
// reports the Index's build time and size, the process's peak memory,
// ClickHouse's time and the ratio.
func BenchmarkFunnelVsClickHouse(b *testing.B) {
	ctx := context.Background()
	n := benchEvents(b)
	began := time.Now()
	rows, err := generateRows(ctx, gen.Config{Seed: 1, Events: n})
	if err != nil {
		b.Fatal(err)
	}
	genTime := time.Since(began)
	b.Logf("generated %d events of %d customers in %s (%.0f events/s)", rows.events(), rows.customers(), genTime.Round(time.Millisecond), float64(rows.events())/genTime.Seconds())

	// ClickHouse first, so that its rows can be dropped before the
	// funnel runs; the server is a separate process and does not count
	// in this process's memory.
	var ch *chtest.Server
	if _, err := chtest.Binary(); err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatal(err)
		}
		b.Logf("%v: timing trek alone", err)
	} else {
		began = time.Now()
		ch, err = chtest.Start(ctx, b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer ch.Close()
		if err := rows.loadClickHouse(ctx, ch, false); err != nil {
			b.Fatal(err)
		}
		loaded := time.Since(began)
		began = time.Now()
		parts, err := mergeClickHouse(ctx, ch)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("ClickHouse: started and loaded in %s, merged into %d part(s) in %s", loaded.Round(time.Millisecond), parts, time.Since(began).Round(time.Millisecond))
	}

	began = time.Now()
	ix := rows.index(0)
	build := time.Since(began)
	events := rows.events()
	rows = nil
	debug.FreeOSMemory()
	rss := processRSS()
	size := ix.Bytes()
	b.Logf("Index: %d events, %d customers, built in %s (%.0f events/s), %d bytes (%.1f bytes/event)",
		ix.Events(), ix.Customers(), build.Round(time.Millisecond), float64(events)/build.Seconds(), size, float64(size)/float64(events))

	q := FunnelQuery{Steps: steps("Product Viewed", "Product Added", "Checkout Started", "Payment Info Entered", "Order Completed"), Window: "7d"}
	res, err := Funnel(ctx, ix, q)
	if err != nil {
		b.Fatal(err)
	}
	got := customersPerStep(res.Steps)
	cpu := processCPU()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Funnel(ctx, ix, q); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	trek := b.Elapsed() / time.Duration(b.N)
	trekCPU := (processCPU() - cpu) / time.Duration(b.N)
	b.ReportMetric(trekCPU.Seconds(), "cpu-s/op")
	b.ReportMetric(build.Seconds(), "build-s")
	b.ReportMetric(float64(size)/float64(events), "index-bytes/event")
	b.ReportMetric(float64(processPeakRSS())/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(rss)/(1<<20), "index-RSS-MiB")
	b.ReportMetric(float64(events), "events")
	b.Logf("trek: %v in %s per funnel (%s CPU); RSS %d MiB with the Index alone, %d MiB at the peak of generation", got, trek.Round(time.Microsecond), trekCPU.Round(time.Millisecond), rss>>20, processPeakRSS()>>20)

	if ch == nil {
		return
	}
	want, chTime, chCPU, err := timeClickHouse(ctx, ch, q, 5)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(chTime.Seconds()*1e3, "clickhouse-ms/op")
	b.ReportMetric(chCPU.Seconds(), "clickhouse-cpu-s/op")
	b.ReportMetric(chTime.Seconds()/trek.Seconds(), "clickhouse/trek")
	b.Logf("ClickHouse windowFunnel: %v in %s (median of 5; %s CPU on average); trek is %.1f× faster by wall time, %.1f× by CPU time",
		want, chTime.Round(time.Microsecond), chCPU.Round(time.Millisecond), chTime.Seconds()/trek.Seconds(), chCPU.Seconds()/trekCPU.Seconds())
	if !equalInts(got, want) {
		b.Errorf("trek %v, ClickHouse windowFunnel %v: the funnels disagree", got, want)
	}
}

// timeClickHouse runs q in ClickHouse once to warm its caches, then runs
// times more and returns the answer, the median time and the server's
// mean CPU time per run.
func timeClickHouse(ctx context.Context, s *chtest.Server, q FunnelQuery, runs int) ([]int64, time.Duration, time.Duration, error) {
	want, err := clickHouseFunnel(ctx, s, q, nil)
	if err != nil {
		return nil, 0, 0, err
	}
	cpu0, err := s.CPUTime()
	if err != nil {
		return nil, 0, 0, err
	}
	var ds []time.Duration
	for range runs {
		began := time.Now()
		again, err := clickHouseFunnel(ctx, s, q, nil)
		if err != nil {
			return nil, 0, 0, err
		}
		ds = append(ds, time.Since(began))
		if !slices.Equal(again, want) {
			return nil, 0, 0, fmt.Errorf("windowFunnel gave %v, then %v, on the same data", want, again)
		}
	}
	cpu1, err := s.CPUTime()
	if err != nil {
		return nil, 0, 0, err
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return want, ds[len(ds)/2], (cpu1 - cpu0) / time.Duration(runs), nil
}

// processCPU is this process's user and system time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// mergeClickHouse merges table ev into one part, ClickHouse's best
// layout for the query. OPTIMIZE does nothing while a background merge
// holds the parts, so it is repeated until one part is left (or a
// minute has passed); it returns the parts left.
func mergeClickHouse(ctx context.Context, s *chtest.Server) (int, error) {
	deadline := time.Now().Add(time.Minute)
	for {
		if err := s.Exec(ctx, "OPTIMIZE TABLE ev FINAL"); err != nil {
			return 0, err
		}
		out, err := s.Query(ctx, "SELECT count() FROM system.parts WHERE active AND table = 'ev'", nil, nil)
		if err != nil {
			return 0, err
		}
		parts, err := strconv.Atoi(strings.TrimSpace(string(out)))
		if err != nil {
			return 0, fmt.Errorf("system.parts answered %q", out)
		}
		if parts <= 1 || time.Now().After(deadline) {
			return parts, nil
		}
		time.Sleep(time.Second)
	}
}

// processPeakRSS is the process's peak resident memory (VmHWM), 0 where
// /proc is missing.
func processPeakRSS() int64 { return procStatus("VmHWM:") }

// processRSS is the process's resident memory now (VmRSS).
func processRSS() int64 { return procStatus("VmRSS:") }

func procStatus(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
