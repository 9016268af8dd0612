package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
)

const recordGolden = "testdata/record-v1.bin"

// goldenRecords are fixtureEvents plus what the encoder has separate paths
// for: an object of more than 16 keys, keys that sort differently as bytes
// and as text, an event over 16 KiB (a length prefix of three bytes),
// non-finite floats, Go scalars, and values that go through encoding/json.
func goldenRecords() []Record {
	recs := fixtureEvents()
	wide := map[string]any{}
	for i := range 40 {
		wide[fmt.Sprintf("k%02d", 39-i)] = json.Number(fmt.Sprint(i))
	}
	wide["Z"], wide["a"], wide["ä"], wide[""] = "upper", "lower", "umlaut", "empty key"
	at := time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC)
	recs = append(recs,
		Record{9, event.Event{MessageID: "wide", Type: event.Track, Event: "Wide", UserID: "u9", Channel: "web", SourceID: "s",
			Timestamp: at, ReceivedAt: at, Properties: wide,
			Context: map[string]any{"nan": math.NaN(), "inf": math.Inf(-1), "f32": float32(0.1), "i": -3, "i64": int64(7),
				"i32": int32(8), "u64": uint64(math.MaxUint64), "u32": uint32(9), "f": 1e-7,
				"strs": []string{"a", "b"}, "when": at, "deep": map[string]any{"x": []any{[]any{map[string]any{"y": nil}}}}}}},
		Record{10, event.Event{MessageID: "long", Type: event.Track, Event: "Long", AnonymousID: "a10", Channel: "web", SourceID: "s",
			Timestamp: at.Add(time.Millisecond), ReceivedAt: at, Properties: map[string]any{"text": string(bytes.Repeat([]byte("ab"), 9000))}}},
	)
	return recs
}

// TestTheLogRecordEncodingIsStable pins the bytes of a log record: records
// already on disk are replayed by later versions, so a faster encoder must
// write exactly what the format says (docs/storage.md).
func TestTheLogRecordEncodingIsStable(t *testing.T) {
	recs := goldenRecords()
	offs := make([][2]int, len(recs))
	got, err := encodeRecord(41, recs, offs)
	if err != nil {
		t.Fatal(err)
	}
	// Written once, from the encoder of the time the format was fixed;
	// never rewritten, as the column file fixture.
	if _, err := os.Stat(recordGolden); os.IsNotExist(err) && *update {
		if err := os.WriteFile(recordGolden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(recordGolden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		at := 0
		for at < min(len(got), len(want)) && got[at] == want[at] {
			at++
		}
		t.Fatalf("record of %d bytes differs from %s (%d bytes) from byte %d on", len(got), recordGolden, len(want), at)
	}
	// The offsets frame each event, and each decodes back.
	i := 0
	err = recordEvents(got, func(seq uint64, ev []byte) error {
		if seq != 41+uint64(i) {
			t.Errorf("event %d has sequence number %d", i, seq)
		}
		if start := offs[i][0]; !bytes.Equal(got[start:offs[i][1]], ev) {
			t.Errorf("event %d: offsets [%d, %d) do not frame it", i, start, offs[i][1])
		}
		key, e, err := decodeEvent(ev)
		if err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
		if key != recs[i].Key || e.MessageID != recs[i].Event.MessageID {
			t.Errorf("event %d decodes as key %d, %q", i, key, e.MessageID)
		}
		i++
		return nil
	})
	if err != nil || i != len(recs) {
		t.Fatalf("walked %d of %d events: %v", i, len(recs), err)
	}
}

// BenchmarkEncodeRecord encodes the benchmark data in records of 8,192
// events, as an import hands them to Append: the cost of the log encoding
// on the writer goroutine, per event.
func BenchmarkEncodeRecord(b *testing.B) {
	recs := benchRecords()[:8192]
	offs := make([][2]int, len(recs))
	var size int
	for b.Loop() {
		rec, err := encodeRecord(1, recs, offs)
		if err != nil {
			b.Fatal(err)
		}
		size = len(rec)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/event")
	b.ReportMetric(float64(size)/float64(len(recs)), "B/event")
}
