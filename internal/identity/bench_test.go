package identity_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/identity"
)

// journeys makes the identifiers of n events of an omnichannel workload:
// people browse anonymously on one to three devices, log in (identify with
// userId, anonymousId and email), go on as known users, come back on a new
// device, and sometimes show up in the CRM by email and CRM id, or share a
// device with another member of the household. People's events interleave
// in windows, as they do on a live collection endpoint.
func journeys(n int, seed uint64) [][]identity.Identifier {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([][]identity.Identifier, 0, n)
	const window = 2000
	for p := 0; len(out) < n; p += window {
		var people [][][]identity.Identifier
		for q := p; q < p+window; q++ {
			people = append(people, person(r, q))
		}
		for alive := true; alive && len(out) < n; {
			alive = false
			for i, evs := range people {
				if len(evs) == 0 {
					continue
				}
				alive = true
				out = append(out, evs[0])
				people[i] = evs[1:]
				if len(out) == n {
					break
				}
			}
		}
	}
	return out
}

func person(r *rand.Rand, p int) [][]identity.Identifier {
	user := identity.Identifier{Kind: identity.KindUserID, Value: fmt.Sprintf("user-%07d", p)}
	email := identity.Identifier{Kind: identity.KindEmail, Value: fmt.Sprintf("person%07d@example.com", p)}
	var evs [][]identity.Identifier
	for d := range 1 + r.IntN(3) {
		anon := identity.Identifier{Kind: identity.KindAnonymousID, Value: fmt.Sprintf("%08x-6f1c-4b7e-9a2d-%012x", p, d)}
		for range r.IntN(8) {
			evs = append(evs, []identity.Identifier{anon})
		}
		evs = append(evs, []identity.Identifier{user, anon, email})
		for range r.IntN(12) {
			evs = append(evs, []identity.Identifier{user, anon})
		}
	}
	if r.IntN(4) == 0 {
		crm := identity.Identifier{Kind: "crm_id", Value: fmt.Sprintf("C-%07d", p)}
		evs = append(evs, []identity.Identifier{crm, email}, []identity.Identifier{crm})
	}
	if r.IntN(20) == 0 && p > 0 {
		// A household member's device.
		shared := identity.Identifier{Kind: identity.KindAnonymousID, Value: fmt.Sprintf("%08x-6f1c-4b7e-9a2d-%012x", p-1, 0)}
		evs = append(evs, []identity.Identifier{user, shared})
	}
	return evs
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var benchWorkload = sync.OnceValue(func() [][]identity.Identifier { return journeys(1_000_000, 42) })

// BenchmarkObserve1M stitches one million events into a fresh graph per
// iteration, as the collection path does: Observe per event, and per batch
// of 100 events the changes taken and encoded for the log.
func BenchmarkObserve1M(b *testing.B) {
	events := benchWorkload()
	c := identity.Cause{MessageID: "0d8a4f9e-5b7c-4c1e-8f3a-2b6d9e0c1a47", Type: "track", Time: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)}
	var buf []byte
	var ms0, ms1 runtime.MemStats
	var mallocs uint64
	var st identity.Stats
	var heap uint64
	var cpu time.Duration
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		b.StartTimer()
		cpu0 := cpuTime()
		g := newGraph(b, 0)
		for i, ids := range events {
			g.Observe(ids, c)
			if i%100 == 99 {
				buf = g.FlushChanges(buf[:0])
			}
		}
		cpu += cpuTime() - cpu0
		b.StopTimer()
		runtime.ReadMemStats(&ms1)
		mallocs += ms1.Mallocs - ms0.Mallocs
		st = g.Stats()
		runtime.GC()
		runtime.ReadMemStats(&ms1)
		heap = ms1.HeapAlloc - ms0.HeapAlloc
		runtime.KeepAlive(g)
		b.StartTimer()
	}
	n := float64(b.N) * float64(len(events))
	b.ReportMetric(b.Elapsed().Seconds()*1e9/n, "ns/event")
	b.ReportMetric(n/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(mallocs)/n, "allocs/event")
	// CPU time, garbage collection included: on a machine shared with
	// other work the wall clock says more about the neighbours.
	b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/event")
	b.ReportMetric(float64(st.Identifiers), "identifiers")
	b.ReportMetric(float64(st.Customers), "customers")
	b.ReportMetric(float64(heap)/float64(st.Identifiers), "heap-bytes/identifier")
}

// BenchmarkObserveKnown is the steady state of returning customers: every
// identifier is in the graph already.
func BenchmarkObserveKnown(b *testing.B) {
	events := benchWorkload()
	g := newGraph(b, 0)
	c := identity.Cause{MessageID: "m", Type: "track"}
	for _, ids := range events {
		g.Observe(ids, c)
	}
	g.TakeChanges()
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		g.Observe(events[i], c)
		if i++; i == len(events) {
			i = 0
		}
	}
}

// BenchmarkCustomers maps a scan's worth of keys to customers, as a query
// grouping events by customer does.
func BenchmarkCustomers(b *testing.B) {
	events := benchWorkload()
	g := newGraph(b, 0)
	keys := make([]uint64, 0, len(events))
	for _, ids := range events {
		k, _ := g.Observe(ids, identity.Cause{})
		keys = append(keys, k)
	}
	g.TakeChanges()
	dst := make([]uint64, 0, len(keys))
	b.ResetTimer()
	for b.Loop() {
		dst = g.Customers(keys, dst[:0])
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e9/(float64(b.N)*float64(len(keys))), "ns/key")
}

func bigGraph(b *testing.B) *identity.Graph {
	events := benchWorkload()
	g := newGraph(b, 0)
	for i, ids := range events {
		g.Observe(ids, identity.Cause{MessageID: fmt.Sprint("m", i), Type: "identify"})
	}
	g.TakeChanges()
	return g
}

// BenchmarkSnapshot writes the graph of a million events: the cost of a
// checkpoint.
func BenchmarkSnapshot(b *testing.B) {
	g := bigGraph(b)
	var buf bytes.Buffer
	b.ResetTimer()
	for b.Loop() {
		buf.Reset()
		if err := g.Snapshot(&buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "snapshot-bytes")
	b.ReportMetric(float64(buf.Len())/float64(g.Stats().Identifiers), "bytes/identifier")
}

// BenchmarkLoad reads it back: the cost of a restart before the log's
// replay.
func BenchmarkLoad(b *testing.B) {
	var buf bytes.Buffer
	if err := bigGraph(b).Snapshot(&buf); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := identity.Load(bytes.NewReader(buf.Bytes()), identity.Config{Secret: testSecret}); err != nil {
			b.Fatal(err)
		}
	}
}
