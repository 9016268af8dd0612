package store

import (
	"bytes"
	"encoding/json"
	"maps"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
)

// TestSharedMapsEncodeAsTheirOwnCopies: a record whose events share maps
// (as importers make them) has exactly the bytes of one whose events each
// hold their own copy, whatever the events' sizes (the length prefix moves
// events under 128 bytes and over 16 KiB), with the client address left
// out of the context.
func TestSharedMapsEncodeAsTheirOwnCopies(t *testing.T) {
	ctx := map[string]any{"traits": map[string]any{"plan": "pro"}, "ip": "192.0.2.1", "library": map[string]any{"name": "x"}}
	props := map[string]any{"path": "/a", "n": 1.5}
	big := map[string]any{"blob": strings.Repeat("z", 20_000)}
	copyOf := func(m map[string]any) map[string]any {
		if m == nil {
			return nil
		}
		c := make(map[string]any, len(m))
		for k, v := range m {
			c[k] = v
		}
		return c
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	shapes := []struct{ props, traits, ctx map[string]any }{
		{props, nil, ctx},
		{props, nil, ctx},
		{nil, nil, nil}, // under 128 bytes: moved back
		{props, nil, ctx},
		{big, nil, ctx}, // over 16 KiB: moved on
		{big, nil, ctx},
		{props, ctx, ctx},
		{nil, nil, ctx},
	}
	var shared, own []Record
	for i, sh := range shapes {
		e := event.Event{MessageID: "m" + string(rune('a'+i)), Type: event.Track, Event: "E", UserID: "u", Timestamp: at}
		a, b := e, e
		a.Properties, a.Traits, a.Context = sh.props, sh.traits, sh.ctx
		b.Properties, b.Traits, b.Context = copyOf(sh.props), copyOf(sh.traits), copyOf(sh.ctx)
		shared = append(shared, Record{Key: 7, Event: a})
		own = append(own, Record{Key: 7, Event: b})
	}
	offsA := make([][2]int, len(shared))
	offsB := make([][2]int, len(own))
	got, err := appendEvents(nil, batchOf(shared), offsA, 0, "ip")
	if err != nil {
		t.Fatal(err)
	}
	want, err := appendEvents(nil, batchOf(own), offsB, 0, "ip")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("shared maps encode to %d bytes that differ from their copies' %d", len(got), len(want))
	}
	for i := range offsA {
		if offsA[i] != offsB[i] {
			t.Fatalf("event %d lies at %v, its copy at %v", i, offsA[i], offsB[i])
		}
		_, e, err := decodeEvent(got[offsA[i][0]:offsA[i][1]])
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if _, ok := e.Context["ip"]; ok {
			t.Fatalf("event %d kept the client address", i)
		}
	}
}

// Maps met again far apart, more maps than the memo has slots (so that
// maps take each other's slots, within one event too), and events that
// move: the bytes are still those of copies.
func TestMapsSharedAcrossARecordEncodeAsTheirOwnCopies(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	all := make([]map[string]any, 1500)
	for i := range all {
		all[i] = map[string]any{"i": json.Number(strconv.Itoa(i)), "ip": "192.0.2.1", "pad": strings.Repeat("p", r.IntN(3)*10_000)}
	}
	pick := func() map[string]any {
		if r.IntN(5) == 0 {
			return nil
		}
		return all[r.IntN(len(all))]
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var shared, own []Record
	for i := range 2500 {
		e := event.Event{MessageID: "m" + strconv.Itoa(i), Type: event.Track, Event: "E", UserID: "u", Timestamp: at}
		a, b := e, e
		a.Properties, a.Traits, a.Context = pick(), pick(), pick()
		if r.IntN(10) == 0 {
			a.Context = a.Properties // one map in two fields
		}
		b.Properties, b.Traits, b.Context = maps.Clone(a.Properties), maps.Clone(a.Traits), maps.Clone(a.Context)
		shared = append(shared, Record{Key: 7, Event: a})
		own = append(own, Record{Key: 7, Event: b})
	}
	got, err := appendEvents(nil, batchOf(shared), make([][2]int, len(shared)), 0, "ip")
	if err != nil {
		t.Fatal(err)
	}
	want, err := appendEvents(nil, batchOf(own), make([][2]int, len(own)), 0, "ip")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("shared maps encode to %d bytes that differ from their copies' %d", len(got), len(want))
	}
}
