package event_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
)

// fuzzLimits are small enough that the fuzzer reaches every limit.
var fuzzLimits = event.Limits{MaxBatchEvents: 20, MaxProperties: 8, MaxDepth: 3, MaxNameLen: 20, MaxIDLen: 24, MaxEventBytes: 4096, MaxBatchBytes: 64 << 10}

func seedBodies(f *testing.F) [][]byte {
	f.Helper()
	var seeds [][]byte
	files, _ := filepath.Glob("testdata/*-batch.json")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	seeds = append(seeds, realisticBatch(2, 9),
		[]byte(`{"batch":[{"type":"track","event":"a","userId":1,"properties":{"a":[{"b":"\ud83d\ude00"}]},"sentAt":"2025-03-01T12:00:00Z"}],"context":{"x":1},"writeKey":"k"}`),
		[]byte(`{"batch":[{"type":"identify","anonymousId":"a","traits":{"email":"A@B.C"}},"x",null,{"type":"alias","userId":"u","previousId":"p"}]}`),
		[]byte(`{"event":"x","userId":"u","timestamp":"2025-03-01T11:00:00+07:00","originalTimestamp":"2025-03-01","channel":"web"}`),
		[]byte("{\"event\":\"caf\xe9\"}"), []byte(`{"a":"\ud800"}`), []byte(`[[[[`), []byte(``))
	return seeds
}

// checkFault: every error is a *fault.Error a client can be shown.
func checkFault(t *testing.T, err error) {
	t.Helper()
	fe, ok := fault.As(err)
	if !ok || fe.Message == "" || (fe.Code != fault.Invalid && fe.Code != fault.TooLarge) {
		t.Fatalf("error %#v is not an Invalid or TooLarge *fault.Error", err)
	}
}

// checkAccepted: an accepted event passes Validate (the rules applied to
// what is parsed and to what is built in Go are the same), encodes as
// JSON, and holds no invalid UTF-8.
func checkAccepted(t *testing.T, e *event.Event) {
	t.Helper()
	if err := event.Validate(e, fuzzLimits); err != nil {
		t.Fatalf("accepted event does not validate: %v\n%#v", err, e)
	}
	out, err := json.Marshal(e)
	if err != nil {
		t.Fatalf("accepted event does not encode: %v", err)
	}
	if !utf8.Valid(out) || bytes.Contains(out, []byte(`\ufffd`)) {
		t.Fatalf("accepted event holds invalid text: %s", out)
	}
}

func FuzzParseBatch(f *testing.F) {
	for _, s := range seedBodies(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, err := event.ParseBatch(raw, testMeta(), fuzzLimits)
		if err != nil {
			checkFault(t, err)
			return
		}
		if !utf8.Valid(raw) {
			t.Fatalf("accepted a body with invalid UTF-8: %q", raw)
		}
		if !json.Valid(raw) {
			t.Fatalf("accepted a body that is not JSON: %q", raw)
		}
		var env map[string]json.RawMessage
		if err := json.Unmarshal(raw, &env); err != nil {
			t.Fatal(err)
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(env["batch"], &elems); err != nil {
			t.Fatalf("accepted a batch that is not a list: %v", err)
		}
		if len(b.Events)+len(b.Rejected) != len(elems) {
			t.Fatalf("%d events + %d rejected from %d elements", len(b.Events), len(b.Rejected), len(elems))
		}
		for i := range b.Events {
			checkAccepted(t, &b.Events[i])
		}
		last := -1
		for _, r := range b.Rejected {
			if r.Index <= last || r.Index >= len(elems) || r.Reason == "" {
				t.Fatalf("rejected %+v after index %d of %d", r, last, len(elems))
			}
			last = r.Index
			if !bytes.Equal(r.Raw, elems[r.Index]) {
				t.Fatalf("rejected raw %q, element was %q", r.Raw, elems[r.Index])
			}
		}
	})
}

func FuzzParseCall(f *testing.F) {
	for _, s := range seedBodies(f) {
		f.Add(uint8(0), s)
		f.Add(uint8(6), s)
	}
	types := append([]event.Type{""}, event.Types...)
	f.Fuzz(func(t *testing.T, ti uint8, raw []byte) {
		typ := types[int(ti)%len(types)]
		e, err := event.ParseEvent(raw, typ, testMeta(), fuzzLimits)
		if err != nil {
			checkFault(t, err)
			var rej *event.Rejected
			if errors.As(err, &rej) {
				if !utf8.Valid(raw) || !json.Valid(rej.Raw) || !bytes.Equal(rej.Raw, bytes.TrimSpace(raw)) {
					t.Fatalf("rejected (not refused) a malformed body: %q", raw)
				}
			}
			return
		}
		if !utf8.Valid(raw) || !json.Valid(raw) {
			t.Fatalf("accepted a malformed body: %q", raw)
		}
		checkAccepted(t, &e)
	})
}
