package gen_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/gen"
)

// countingWriter counts bytes and discards them.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// BenchmarkWriteNDJSON measures generation to NDJSON, the path of
// trek gen --out: the target is a million events a second.
func BenchmarkWriteNDJSON(b *testing.B) {
	for _, workers := range []int{1, 0} {
		name := "workers=all"
		if workers == 1 {
			name = "workers=1"
		}
		b.Run(name, func(b *testing.B) {
			cfg := gen.Config{Seed: 1, Customers: 20000, Workers: workers,
				Effects: gen.Effects{CheckoutFailsOn: "android", BetterChannel: "email", CallLoopBeforeChurn: true}}
			var lines, bytes int64
			start, cpu := time.Now(), cpuTime()
			for b.Loop() {
				w := &countingWriter{}
				tr, err := gen.WriteNDJSON(context.Background(), cfg, w)
				if err != nil {
					b.Fatal(err)
				}
				lines += tr.Counts.Lines
				bytes += w.n
			}
			sec := time.Since(start).Seconds()
			b.ReportMetric(float64(lines)/sec, "events/s")
			b.ReportMetric(float64(lines)/(cpuTime()-cpu).Seconds(), "events/cpu-s")
			b.ReportMetric(float64(bytes)/float64(lines), "bytes/event")
			b.SetBytes(bytes / int64(b.N))
		})
	}
}

// BenchmarkGenerate measures generation to event.Event values, the path
// of trek gen --data.
func BenchmarkGenerate(b *testing.B) {
	cfg := gen.Config{Seed: 1, Customers: 10000}
	var n int64
	start, cpu := time.Now(), cpuTime()
	for b.Loop() {
		_, err := gen.Generate(context.Background(), cfg, func(e event.Event) error { n++; return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(n)/(cpuTime()-cpu).Seconds(), "events/cpu-s")
}

// cpuTime is the process's user and system time: on a shared machine,
// events per CPU-second say more about the code than events per second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
