package importer_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/importer"
)

// fuzzRead runs a reader on arbitrary input and checks what must hold
// whatever the input: no panic, no hang (the fuzzer's own timeout), every
// record either an event or a reject, and every event importable: an
// identifier, a time, a messageId and valid text.
func fuzzRead(t *testing.T, read readFunc, data []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// A hang must fail loudly: the fuzzer keeps the input of a worker
	// that dies, but not of one that merely stops.
	hung := time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("read hung on %q", data)) })
	defer hung.Stop()
	opt := fixedOptions()
	opt.MaxRecordBytes = 4 << 10
	var rejects int64
	opt.OnReject = func(line int, reason string, raw []byte) {
		if line < 1 || reason == "" {
			t.Fatalf("reject at line %d: %q", line, reason)
		}
		rejects++
	}
	var events int64
	st, _ := read(ctx, bytes.NewReader(data), opt, func(e event.Event) error {
		events++
		if e.UserID == "" && e.AnonymousID == "" {
			t.Fatalf("event without identifier: %+v", e)
		}
		if e.Timestamp.IsZero() || e.MessageID == "" || e.SourceID != "src_golden" {
			t.Fatalf("incomplete event: %+v", e)
		}
		for _, s := range []string{e.Event, e.Name, e.UserID, e.AnonymousID, e.MessageID} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 %q in %+v", s, e)
			}
		}
		checkValues(t, e.Properties)
		checkValues(t, e.Context)
		checkValues(t, e.Traits)
		// What an import accepts, the collection API's rules accept.
		if err := event.Validate(&e, event.Limits{NoPastBound: true}); err != nil {
			t.Fatalf("accepted an event event.Validate refuses (%v): %+v", err, e)
		}
		return nil
	})
	if st.Events != events || st.Rejected != rejects {
		t.Fatalf("stats %+v, counted %d events and %d rejects", st, events, rejects)
	}
}

func checkValues(t *testing.T, v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if !utf8.ValidString(k) {
				t.Fatalf("invalid UTF-8 key %q", k)
			}
			checkValues(t, x)
		}
	case []any:
		for _, x := range v {
			checkValues(t, x)
		}
	case string:
		if !utf8.ValidString(v) {
			t.Fatalf("invalid UTF-8 value %q", v)
		}
	}
}

func addFixture(f *testing.F, name string) {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
}

func FuzzReadNDJSON(f *testing.F) {
	addFixture(f, "sample.ndjson")
	for _, s := range jsonSeedLines {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, importer.ReadNDJSON, data)
	})
}

var jsonSeedLines = []string{
	`{"event":"A","userId":"u","timestamp":"2024-01-01T00:00:00Z"}`,
	`{"type":"alias","userId":1,"previousId":"p","originalTimestamp":"2024-01-01 00:00:00+01"}` + "\r\n\n",
	`{"event":"\ud83d\ude00","anonymousId":"a","timestamp":"2024-01-01T00:00:00Z","properties":{"a":[1,{"b":null}]}}`,
}

func FuzzReadCSV(f *testing.F) {
	addFixture(f, "sample.csv")
	f.Add([]byte("case;activity;time\nc;A;1709285415\n"))
	f.Add([]byte("case,activity,time\n\"c\"\"x\",\"A\nB\",01.03.2024 09:30\n"))
	m := importer.CSVMapping{Customer: "case", Event: "activity", Time: "when", Channel: "touchpoint"}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, csvReader(m), data)
		fuzzRead(t, csvReader(basicMapping), data)
	})
}

func FuzzReadXES(f *testing.F) {
	addFixture(f, "sample.xes")
	f.Add([]byte(xesDoc(xesEvent)))
	f.Add([]byte(`<?xml version="1.0" encoding="latin1"?><log><trace><id key="concept:name" value="&#x41;"/><event><string key="concept:name" value="a"/><date key="time:timestamp" value="2024-01-01"/><list key="l"><int key="i" value="1"/></list></event></trace></log>`))
	f.Add([]byte(strings.Repeat("<log>", 3) + "<!DOCTYPE x [<!ENTITY a 'b'>]><![CDATA[x]]>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, xesReader(importer.XESOptions{WithLifecycle: len(data)%2 == 0}), data)
	})
}
