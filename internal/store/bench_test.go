package store

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/wal"
)

// The benchmarks use the data the issue asks about: 100k customers with
// about 10 events each (1M events), 30 event names, 11 channels, 5
// sources, times spread over 90 days.
var benchCfg = genConfig{Seed: 42, Customers: 100_000, EventsPer: 10}

// benchRecords generates the benchmark data once per process.
var benchRecords = func() func() []Record {
	var recs []Record
	return func() []Record {
		if recs == nil {
			genCustomers(benchCfg, func(r []Record) { recs = append(recs, r...) })
		}
		return recs
	}
}()

// BenchmarkFold measures folding 1M events into a column file, and the
// size of the result: CoreBytes/event is the issue's ≤ 12 bytes target.
func BenchmarkFold(b *testing.B) {
	recs := benchRecords()
	for b.Loop() {
		b.StopTimer()
		s, err := Open(context.Background(), b.TempDir(), Options{Sync: wal.SyncNever, HeadEvents: 1 << 30, ParallelFold: true, Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < len(recs); i += 1000 {
			if err := s.Append(context.Background(), recs[i:min(i+1000, len(recs))]); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		start, cpu := time.Now(), cpuTime()
		if err := s.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		took, cpu := time.Since(start), cpuTime()-cpu
		b.StopTimer()
		st := s.Stats()
		var colBytes int64
		for _, fi := range s.infos {
			colBytes += fi.Bytes
		}
		b.ReportMetric(float64(st.CoreBytes)/float64(st.Events), "CoreBytes/event")
		b.ReportMetric(float64(colBytes)/float64(st.Events), "FileBytes/event")
		b.ReportMetric(float64(st.Events)/took.Seconds(), "events/s")
		b.ReportMetric(float64(cpu.Microseconds())/float64(st.Events), "cpu-µs/event")
		s.Close()
		b.StartTimer()
	}
}

// BenchmarkAppend measures durable appends of batches of 100 events from
// 64 concurrent writers (as the collection API does), group-committed.
func BenchmarkAppend(b *testing.B) {
	for _, tc := range []struct {
		name string
		sync wal.SyncPolicy
	}{{"SyncAlways", wal.SyncAlways}, {"SyncNever", wal.SyncNever}} {
		b.Run(tc.name, func(b *testing.B) {
			recs := benchRecords()[:200_000]
			s, err := Open(context.Background(), b.TempDir(), Options{Sync: tc.sync, Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var next atomic.Int64
			b.SetParallelism(32) // 64 writers on 2 cores
			start, cpu := time.Now(), cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := int(next.Add(100)-100) % len(recs)
					i -= i % 100
					if err := s.Append(context.Background(), recs[i:i+100]); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N*100)/time.Since(start).Seconds(), "events/s")
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N*100), "cpu-µs/event")
		})
	}
}

var quiet = slog.New(slog.DiscardHandler)

// cpuTime is the CPU time this process has used. The benchmarks report
// CPU per event beside events/s: on a shared machine wall time says more
// about the neighbours than about the code.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchDir is benchStore's directory, removed by TestMain.
var benchDir string

// benchStore is a store holding benchRecords in one column file, built
// once per process and shared by the read benchmarks.
var benchStore = func() func(b *testing.B) *Store {
	var s *Store
	return func(b *testing.B) *Store {
		if s != nil {
			return s
		}
		dir, err := os.MkdirTemp("", "trek-store-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = dir
		s, err = Open(context.Background(), dir, Options{Sync: wal.SyncNever, HeadEvents: 1 << 30, Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		recs := benchRecords()
		for i := 0; i < len(recs); i += 1000 {
			if err := s.Append(context.Background(), recs[i:min(i+1000, len(recs))]); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		return s
	}
}()

// BenchmarkJourneys measures a full scan of 1M events in a column file:
// every field, only what ordering and naming need, and those with
// properties.
func BenchmarkJourneys(b *testing.B) {
	s := benchStore(b)
	for _, tc := range []struct {
		name   string
		fields Fields
	}{{"AllFields", AllFields}, {"Core", 0}, {"Properties", FieldProperties}} {
		b.Run(tc.name, func(b *testing.B) {
			runtime.GC()
			start, cpu := time.Now(), cpuTime()
			var n int
			for b.Loop() {
				err := s.JourneysFields(context.Background(), tc.fields, func(_ uint64, evs []event.Event) error {
					n += len(evs)
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
}

func BenchmarkEventsOfOneKey(b *testing.B) {
	s := benchStore(b)
	recs := benchRecords()
	i := 0
	for b.Loop() {
		key := recs[(i*7919)%len(recs)].Key
		i++
		evs, err := s.Events(context.Background(), key)
		if err != nil || len(evs) == 0 {
			b.Fatal(fmt.Sprint(len(evs), err))
		}
	}
}
