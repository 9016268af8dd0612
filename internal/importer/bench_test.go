package importer_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/importer"
)

// discard is the cheapest sink that still touches each event.
func discard(n *int64) importer.Sink {
	return func(e event.Event) error {
		*n++
		return nil
	}
}

// reportRate reports events per second of wall time and per second of
// the process's CPU time (all goroutines, the garbage collector's too):
// the machine is shared, and wall time swings with the neighbours' load,
// while CPU time says what the work costs.
func reportRate(b *testing.B, events int64, cpu0 time.Duration) {
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(events)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkReadXESBPIC2012 reads BPI Challenge 2012 (262,200 events):
// "file" as an import does, through Open from the gzipped file, "inflated"
// from memory, the reader alone.
func BenchmarkReadXESBPIC2012(b *testing.B) {
	path := filepath.Join(datasets(b), "bpic2012.xes.gz")
	b.Run("file", func(b *testing.B) {
		var n int64
		cpu0 := cpuTime()
		for b.Loop() {
			f, err := importer.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := importer.ReadXES(b.Context(), f, importer.XESOptions{}, importer.Options{SourceID: "s"}, discard(&n)); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
		reportRate(b, n, cpu0)
	})
	b.Run("inflated", func(b *testing.B) {
		f, err := importer.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(data)))
		var n int64
		cpu0 := cpuTime()
		for b.Loop() {
			if _, err := importer.ReadXES(b.Context(), bytes.NewReader(data), importer.XESOptions{}, importer.Options{SourceID: "s"}, discard(&n)); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b, n, cpu0)
	})
}

// segmentLines makes n NDJSON lines of realistic Segment track events. A
// browser event is what analytics.js sends (about 880 bytes): a context
// with library, page, user agent, locale and campaign, and seven
// properties. A server event is what @segment/analytics-node sends (about
// 330 bytes): the library in the context and a few properties.
func segmentLines(n int, browser bool) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"Product Viewed", "Product Added", "Checkout Started", "Order Completed", "Signed Up", "Page Viewed", "Coupon Applied", "Cart Viewed"}
	channels := []string{"web", "mobile", "email", "store"}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for i := range n {
		ts := start.Add(time.Duration(rng.IntN(90*24*3600*1000)) * time.Millisecond)
		user := rng.IntN(n/10 + 1)
		e := map[string]any{
			"type":        "track",
			"event":       names[rng.IntN(len(names))],
			"userId":      fmt.Sprintf("user-%07d", user),
			"anonymousId": fmt.Sprintf("%08x-6a1e-4b6f-9c1d-%012x", rng.Uint32(), rng.Uint64()&0xffffffffffff),
			"messageId":   fmt.Sprintf("ajs-next-%d-%016x", i, rng.Uint64()),
			"timestamp":   ts.Format(time.RFC3339Nano),
			"sentAt":      ts.Add(120 * time.Millisecond).Format(time.RFC3339Nano),
			"properties": map[string]any{
				"product_id": fmt.Sprintf("sku-%05d", rng.IntN(5000)),
				"name":       "Monogram Tote Bag",
				"category":   "Bags",
				"price":      float64(rng.IntN(20000)) / 100,
				"quantity":   1 + rng.IntN(3),
				"currency":   "EUR",
				"in_stock":   rng.IntN(10) > 0,
			},
			"context": map[string]any{
				"channel": channels[rng.IntN(len(channels))],
				"library": map[string]any{"name": "analytics.js", "version": "next-1.72.0"},
				"page": map[string]any{
					"path":     "/products/monogram-tote",
					"referrer": "https://www.google.com/",
					"title":    "Monogram Tote Bag · Shop",
					"url":      "https://shop.example.com/products/monogram-tote",
				},
				"userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
				"locale":    "el-GR",
				"campaign":  map[string]any{"source": "newsletter", "medium": "email", "name": "spring"},
			},
			"integrations": map[string]any{},
		}
		if !browser {
			e["context"] = map[string]any{"library": map[string]any{"name": "@segment/analytics-node", "version": "2.1.2"}}
			e["properties"] = map[string]any{"order_id": fmt.Sprintf("o-%07d", i), "total": float64(rng.IntN(20000)) / 100, "currency": "EUR"}
			delete(e, "anonymousId")
			delete(e, "integrations")
			e["_metadata"] = map[string]any{"jsRuntime": "node"}
		}
		enc.Encode(e)
	}
	return buf.Bytes()
}

// BenchmarkReadNDJSON reads Segment track events: "browser" and "server"
// events from memory, the reader alone, and "browser-gzip-file" through
// Open from a gzipped file, as an import does.
func BenchmarkReadNDJSON(b *testing.B) {
	const n = 100_000
	for _, tc := range []struct {
		name    string
		browser bool
	}{{"browser", true}, {"server", false}} {
		data := segmentLines(n, tc.browser)
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			var got int64
			cpu0 := cpuTime()
			for b.Loop() {
				st, err := importer.ReadNDJSON(b.Context(), bytes.NewReader(data), importer.Options{SourceID: "s"}, discard(&got))
				if err != nil || st.Rejected != 0 {
					b.Fatal(err, st)
				}
			}
			reportRate(b, got, cpu0)
		})
	}
	b.Run("browser-gzip-file", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "events.ndjson.gz")
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(segmentLines(n, true))
		zw.Close()
		if err := os.WriteFile(path, z.Bytes(), 0o600); err != nil {
			b.Fatal(err)
		}
		var got int64
		cpu0 := cpuTime()
		for b.Loop() {
			f, err := importer.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := importer.ReadNDJSON(b.Context(), f, importer.Options{SourceID: "s"}, discard(&got)); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
		reportRate(b, got, cpu0)
	})
}
