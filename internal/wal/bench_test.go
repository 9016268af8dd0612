package wal

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// benchLog opens a log on the real file system in a fresh directory.
func benchLog(b *testing.B, opts Options) (*Log, string) {
	b.Helper()
	d := b.TempDir()
	opts.Logger = quietLogger()
	l, err := Open(d, opts)
	if err != nil {
		b.Fatal(err)
	}
	if err := l.Replay(func(uint64, []byte) error { return nil }); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	return l, d
}

// BenchmarkAppendParallel is the collection path: 64 concurrent appenders
// of 10 KB records (a batch of about 100 events), each durable before
// Append returns. It reports records and fsyncs per second; their ratio is
// the mean group size.
func BenchmarkAppendParallel(b *testing.B) {
	l, _ := benchLog(b, Options{})
	rec := make([]byte, 10<<10)
	for i := range rec {
		rec[i] = byte(i * 7)
	}
	b.SetBytes(int64(len(rec)))
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	syncs := l.Stats().Syncs
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Append(context.Background(), rec); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	sec := time.Since(start).Seconds()
	n := l.Stats().Syncs - syncs
	b.ReportMetric(float64(b.N)/sec, "records/s")
	b.ReportMetric(float64(n)/sec, "fsyncs/s")
	b.ReportMetric(float64(b.N)/float64(max(n, 1)), "records/fsync")
}

// BenchmarkAppendSerial is one appender waiting for each fsync: the
// latency of a lone durable append.
func BenchmarkAppendSerial(b *testing.B) {
	l, _ := benchLog(b, Options{})
	rec := make([]byte, 10<<10)
	b.SetBytes(int64(len(rec)))
	for b.Loop() {
		if _, err := l.Append(context.Background(), rec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendSyncNever is the bulk-import path.
func BenchmarkAppendSyncNever(b *testing.B) {
	l, _ := benchLog(b, Options{Sync: SyncNever})
	rec := make([]byte, 10<<10)
	b.SetBytes(int64(len(rec)))
	for b.Loop() {
		if _, err := l.Append(context.Background(), rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := l.Sync(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkReplay reads back 64 MiB of 10 KB records.
func BenchmarkReplay(b *testing.B) {
	l, d := benchLog(b, Options{Sync: SyncNever})
	rec := make([]byte, 10<<10)
	const n = 6400
	for range n {
		if _, err := l.Append(context.Background(), rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(n * int64(len(rec)))
	for b.Loop() {
		l, err := Open(d, Options{Logger: quietLogger()})
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		if err := l.Replay(func(uint64, []byte) error { got++; return nil }); err != nil {
			b.Fatal(err)
		}
		if got != n {
			b.Fatalf("replayed %d", got)
		}
		l.Close()
	}
}

// BenchmarkAppendLatencyAt500PerSecond appends 10 KB records at a steady
// 500 a second (50,000 events a second in batches of 100) without waiting
// for earlier appends, as independent clients do, and reports the
// latency percentiles of durable appends. Run with -benchtime 5s or so.
func BenchmarkAppendLatencyAt500PerSecond(b *testing.B) {
	l, _ := benchLog(b, Options{})
	rec := make([]byte, 10<<10)
	const every = 2 * time.Millisecond
	lat := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range b.N {
		time.Sleep(time.Until(start.Add(time.Duration(i) * every)))
		wg.Go(func() {
			t0 := time.Now()
			if _, err := l.Append(context.Background(), rec); err != nil {
				b.Error(err)
			}
			lat[i] = time.Since(t0)
		})
	}
	wg.Wait()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
}
