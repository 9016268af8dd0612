package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
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
	got, err := encodeRecord(41, batchOf(recs), offs, "")
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
	err = recordEvents(got, func(seq uint64, _ int, ev []byte) error {
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
	cpu0 := cpuTime()
	for b.Loop() {
		rec, err := encodeRecord(1, batchOf(recs), offs, "")
		if err != nil {
			b.Fatal(err)
		}
		size = len(rec)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/event")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*len(recs)), "cpu-ns/event")
	b.ReportMetric(float64(size)/float64(len(recs)), "B/event")
}

// TestAppendLeavesOutTheOmittedContextKey checks Options.OmitContext: the
// key is not stored, the rest of the context is, and the caller's map is
// left as it was (it may be shared with other events).
func TestAppendLeavesOutTheOmittedContextKey(t *testing.T) {
	at := time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		omit    string
		context map[string]any
		want    map[string]any
	}{
		{"key among others", "ip", map[string]any{"ip": "192.0.2.1", "locale": "pl-PL"}, map[string]any{"locale": "pl-PL"}},
		{"the only key", "ip", map[string]any{"ip": "192.0.2.1"}, map[string]any{}},
		{"key absent", "ip", map[string]any{"locale": "vi-VN"}, map[string]any{"locale": "vi-VN"}},
		{"nested keys of that name stay", "ip", map[string]any{"device": map[string]any{"ip": "x"}}, map[string]any{"device": map[string]any{"ip": "x"}}},
		{"no context", "ip", nil, nil},
		{"nothing omitted", "", map[string]any{"ip": "192.0.2.1"}, map[string]any{"ip": "192.0.2.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, t.TempDir(), Options{OmitContext: tc.omit})
			before := fmt.Sprint(tc.context)
			e := event.Event{MessageID: "m", Type: event.Track, Event: "E", UserID: "u", Channel: "web", SourceID: "s",
				Timestamp: at, ReceivedAt: at, Context: tc.context}
			if err := s.Append(context.Background(), []Record{{Key: 1, Event: e}}); err != nil {
				t.Fatal(err)
			}
			if after := fmt.Sprint(tc.context); after != before {
				t.Errorf("the caller's context changed from %s to %s", before, after)
			}
			for _, step := range []string{"in the head", "in a column file"} {
				if step == "in a column file" {
					if err := s.Flush(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
				evs, err := s.Events(context.Background(), 1)
				if err != nil || len(evs) != 1 {
					t.Fatalf("%s: %d events, %v", step, len(evs), err)
				}
				if !reflect.DeepEqual(evs[0].Context, tc.want) {
					t.Errorf("%s: context %#v, want %#v", step, evs[0].Context, tc.want)
				}
			}
		})
	}
}

// A large record is encoded on several goroutines; whatever the split, it
// must be the serial encoding byte for byte, with the same offsets, and a
// bad event must be reported as the serial encoder reports it: the first.
func TestParallelRecordEncodingEqualsTheSerialOne(t *testing.T) {
	var recs []Record
	genCustomers(genConfig{Seed: 7, Customers: 600, EventsPer: 10}, func(r []Record) { recs = append(recs, r...) })
	if len(recs) < parallelEncodeMin {
		t.Fatalf("only %d events, fewer than the %d that encode in parallel", len(recs), parallelEncodeMin)
	}
	serialOffs := make([][2]int, len(recs))
	serial, err := appendEvents(appendRecordHeader(nil, 9, len(recs)), batchOf(recs), serialOffs, 0, "ip")
	if err != nil {
		t.Fatal(err)
	}
	for _, parts := range []int{2, 3, 4, 7} {
		offs := make([][2]int, len(recs))
		got, err := encodeRecordParallel(9, batchOf(recs), offs, "ip", parts)
		if err != nil {
			t.Fatalf("%d parts: %v", parts, err)
		}
		if !bytes.Equal(got, serial) {
			t.Errorf("%d parts: %d bytes differ from the serial %d", parts, len(got), len(serial))
		}
		if !slices.Equal(offs, serialOffs) {
			t.Errorf("%d parts: offsets differ from the serial ones", parts)
		}
	}

	bad := slices.Clone(recs)
	for _, i := range []int{len(bad) - 10, len(bad) / 2, len(bad)/2 + 1} {
		e := bad[i].Event
		e.Properties = map[string]any{"n": json.Number("NaN")}
		bad[i].Event = e
	}
	_, want := appendEvents(nil, batchOf(bad), make([][2]int, len(bad)), 0, "")
	if want == nil || !strings.Contains(want.Error(), fmt.Sprintf("event %d ", len(bad)/2)) {
		t.Fatalf("the serial encoder says %v", want)
	}
	for _, parts := range []int{2, 3, 4} {
		_, err := encodeRecordParallel(1, batchOf(bad), make([][2]int, len(bad)), "", parts)
		if err == nil || err.Error() != want.Error() {
			t.Errorf("%d parts: error %v, want %v", parts, err, want)
		}
	}
}
