package importer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/importer"
)

// TestNDJSONBadLines checks each way a line can fail to be an event: it is
// reported with its line number and a reason that says what is wrong and
// where, and the lines around it are still read.
func TestNDJSONBadLines(t *testing.T) {
	const good = `{"event":"A","userId":"u","timestamp":"2024-01-01T00:00:00Z"}`
	for _, tc := range []struct {
		name, line, want string
	}{
		{"not json", `hello`, "malformed JSON: column 1: unexpected 'h', want an event object ('{')"},
		{"truncated", `{"event":"A",`, "malformed JSON: column 14: unexpected end of JSON, want an object key"},
		{"trailing garbage", `{"event":"A","userId":"u","timestamp":"2024-01-01T00:00:00Z"} x`, `malformed JSON: column 63: unexpected 'x', want nothing after the JSON value`},
		{"two objects", good + good, `malformed JSON: column 62: unexpected '{', want nothing after the JSON value`},
		{"array", `[{"event":"A"}]`, "malformed JSON: column 1: unexpected '[', want an event object ('{')"},
		{"single quotes", `{'event':'A'}`, "malformed JSON: column 2: unexpected '\\'', want an object key"},
		{"trailing comma", `{"event":"A",}`, "malformed JSON: column 14: unexpected '}', want an object key"},
		{"bad number", `{"event":"A","userId":01}`, `malformed JSON: column 24: unexpected '1', want ',' or '}'`},
		{"bad literal", `{"event":"A","userId":nul}`, "malformed JSON: column 23: unexpected 'n', want null"},
		{"raw control character", "{\"event\":\"A\tB\"}", "malformed JSON: column 12: control character 0x09 in a string (it must be escaped)"},
		{"bad escape", `{"event":"A\qB"}`, `malformed JSON: column 12: bad escape \q`},
		{"invalid utf-8", "{\"event\":\"caf\xe9\",\"userId\":\"u\"}", "malformed JSON: column 14: invalid UTF-8 in a string"},
		{"invalid utf-8 in a property", "{\"event\":\"A\",\"userId\":\"u\",\"timestamp\":\"2024-01-01T00:00:00Z\",\"properties\":{\"n\":\"\xc3\x28\"}}", "malformed JSON: column 81: invalid UTF-8 in a string"},
		{"lone surrogate", `{"event":"A\udc00"}`, `malformed JSON: column 12: \udc00 is half of a UTF-16 surrogate pair: not valid text`},
		{"deep nesting", `{"event":"A","userId":"u","timestamp":"2024-01-01T00:00:00Z","properties":` + strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat(`}`, 70) + `}`, "malformed JSON: column 395: nesting deeper than 64"},
		{"event not a string", `{"event":42,"userId":"u","timestamp":"2024-01-01T00:00:00Z"}`, "event must be a string (column 10)"},
		{"userId an object", `{"event":"A","userId":{"id":1},"timestamp":"2024-01-01T00:00:00Z"}`, "userId must be a string (column 23)"},
		{"properties a string", `{"event":"A","userId":"u","timestamp":"2024-01-01T00:00:00Z","properties":"x"}`, "properties must be an object (column 75)"},
		{"context an array", `{"event":"A","userId":"u","timestamp":"2024-01-01T00:00:00Z","context":[]}`, "context must be an object (column 72)"},
		{"timestamp a number", `{"event":"A","userId":"u","timestamp":1704067200}`, "timestamp must be an ISO-8601 time string (column 39)"},
		{"unparseable time", `{"event":"A","userId":"u","timestamp":"01/02/2024"}`, `timestamp "01/02/2024" is not an ISO-8601 time`},
		{"far-off format", `{"event":"A","userId":"u","timestamp":"2024-02-30T00:00:00Z"}`, `timestamp "2024-02-30T00:00:00Z" is not an ISO-8601 time`},
		{"no identifier", `{"event":"A","timestamp":"2024-01-01T00:00:00Z"}`, "no identifier: userId or anonymousId is required"},
		{"empty identifiers", `{"event":"A","userId":"","anonymousId":null,"timestamp":"2024-01-01T00:00:00Z"}`, "no identifier: userId or anonymousId is required"},
		{"no time", `{"event":"A","userId":"u"}`, "no timestamp: an imported event needs its time (timestamp or originalTimestamp)"},
		{"track without name", `{"type":"track","userId":"u","timestamp":"2024-01-01T00:00:00Z"}`, "track call without event name"},
		{"alias without previousId", `{"type":"alias","userId":"u","timestamp":"2024-01-01T00:00:00Z"}`, "alias call without previousId"},
		{"group without groupId", `{"type":"group","userId":"u","timestamp":"2024-01-01T00:00:00Z"}`, "group call without groupId"},
		{"unknown type", `{"type":"click","userId":"u","timestamp":"2024-01-01T00:00:00Z"}`, `unknown type "click"`},
		{"type not a string", `{"type":1,"userId":"u","timestamp":"2024-01-01T00:00:00Z"}`, "type must be a string (column 9)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			input := good + "\n" + tc.line + "\n" + good + "\n"
			evs, rej, err := readAll(t, importer.ReadNDJSON, input)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 2 || len(rej) != 1 {
				t.Fatalf("%d events, rejects %v", len(evs), rej)
			}
			if r := rej[0]; r.line != 2 || r.reason != tc.want || r.raw != tc.line {
				t.Errorf("got line %d %q raw %q\nwant line 2 %q", r.line, r.reason, r.raw, tc.want)
			}
		})
	}
}

// TestNDJSONCalls checks each Segment call type and what the import fills
// in.
func TestNDJSONCalls(t *testing.T) {
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		line string
		want event.Event
	}{
		{`{"event":"A","userId":"u","timestamp":"2024-01-01T00:00:00Z"}`,
			event.Event{Type: event.Track, Event: "A", UserID: "u"}},
		{`{"type":"identify","anonymousId":"a","traits":{"plan":"pro"},"timestamp":"2024-01-01T00:00:00Z"}`,
			event.Event{Type: event.Identify, AnonymousID: "a", Traits: map[string]any{"plan": "pro"}}},
		{`{"type":"page","userId":"u","name":"Home","timestamp":"2024-01-01T00:00:00Z"}`,
			event.Event{Type: event.Page, UserID: "u", Name: "Home"}},
		{`{"type":"screen","userId":"u","timestamp":"2024-01-01T00:00:00Z"}`,
			event.Event{Type: event.Screen, UserID: "u"}},
		{`{"type":"group","userId":"u","groupId":"g","timestamp":"2024-01-01T00:00:00Z"}`,
			event.Event{Type: event.Group, UserID: "u", GroupID: "g"}},
		{`{"type":"alias","userId":"u","previousId":"a","timestamp":"2024-01-01T00:00:00Z"}`,
			event.Event{Type: event.Alias, UserID: "u", PreviousID: "a"}},
		{`{"event":"A","userId":-12.5e3,"anonymousId":7,"timestamp":"2024-01-01T00:00:00Z"}`,
			event.Event{Type: event.Track, Event: "A", UserID: "-12.5e3", AnonymousID: "7"}},
	} {
		evs, rej, err := readAll(t, importer.ReadNDJSON, tc.line)
		if err != nil || len(rej) > 0 || len(evs) != 1 {
			t.Fatalf("%s: err %v, rejects %v", tc.line, err, rej)
		}
		got := evs[0]
		tc.want.Timestamp, tc.want.ReceivedAt, tc.want.SourceID, tc.want.Channel = at, importTime, "src_golden", "other"
		tc.want.MessageID = got.MessageID
		if !strings.HasPrefix(got.MessageID, "ndjson-") || len(got.MessageID) != len("ndjson-")+32 {
			t.Errorf("%s: messageId %q", tc.line, got.MessageID)
		}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(tc.want)
		if string(gj) != string(wj) {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.line, gj, wj)
		}
	}
}

// TestNDJSONChannel checks where an event's channel comes from.
func TestNDJSONChannel(t *testing.T) {
	for _, tc := range []struct {
		fields, def, want string
	}{
		{``, "", "other"},
		{``, "store", "store"},
		{`,"channel":"web"`, "store", "web"},
		{`,"channel":"server"`, "store", "store"},
		{`,"context":{"channel":"email"}`, "store", "email"},
		{`,"channel":"server","context":{"channel":"chat"}`, "", "chat"},
		{`,"channel":"mobile","context":{"channel":"chat"}`, "", "mobile"},
		{`,"context":{"channel":7}`, "ads", "ads"},
	} {
		opt := fixedOptions()
		opt.DefaultChannel = tc.def
		var got string
		_, err := importer.ReadNDJSON(t.Context(), strings.NewReader(`{"event":"A","userId":"u","timestamp":"2024-01-01T00:00:00Z"`+tc.fields+`}`), opt, func(e event.Event) error {
			got = e.Channel
			return nil
		})
		if err != nil || got != tc.want {
			t.Errorf("%s with default %q: channel %q (%v), want %q", tc.fields, tc.def, got, err, tc.want)
		}
	}
}

// TestNDJSONLines checks line handling: CRLF, a byte-order mark, blank
// lines, a last line without a newline, and over-long lines, which are
// rejected without losing the lines after them.
func TestNDJSONLines(t *testing.T) {
	line := func(name string) string {
		return `{"event":"` + name + `","userId":"u","timestamp":"2024-01-01T00:00:00Z"}`
	}
	input := "\xef\xbb\xbf" + line("A") + "\r\n\r\n   \n" + line(strings.Repeat("x", 300)) + "\n" + line("B") + "\n" + line("C")
	opt := fixedOptions()
	opt.MaxRecordBytes = 200
	var names []string
	var rej []reject
	opt.OnReject = func(l int, reason string, raw []byte) { rej = append(rej, reject{l, reason, string(raw)}) }
	st, err := importer.ReadNDJSON(t.Context(), strings.NewReader(input), opt, func(e event.Event) error {
		names = append(names, e.Event)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "A,B,C" {
		t.Errorf("events %v", names)
	}
	if len(rej) != 1 || rej[0].line != 4 || rej[0].reason != "line longer than 200 bytes" {
		t.Errorf("rejects %v", rej)
	}
	if st.Events != 3 || st.Rejected != 1 || st.Bytes != int64(len(input)) {
		t.Errorf("stats %+v", st)
	}
	// Past the read buffer too.
	opt.MaxRecordBytes = 100 << 10
	input = line("A") + "\n" + line(strings.Repeat("y", 300<<10)) + "\n" + line("B")
	rej, names = nil, nil
	if _, err := importer.ReadNDJSON(t.Context(), strings.NewReader(input), opt, func(e event.Event) error {
		names = append(names, e.Event)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "A,B" || len(rej) != 1 || rej[0].line != 2 || len(rej[0].raw) != 1024 {
		t.Errorf("events %v, rejects %d", names, len(rej))
	}
}

// TestNDJSONOrder checks that events and rejects reach the sink and
// OnReject in file order although lines are parsed in parallel, over
// many batches.
func TestNDJSONOrder(t *testing.T) {
	var b strings.Builder
	const n = 20000
	for i := range n {
		if i%97 == 0 {
			fmt.Fprintf(&b, "{\"bad\":%d}\n", i)
			continue
		}
		fmt.Fprintf(&b, `{"event":"E%d","userId":"u%d","timestamp":"2024-01-01T00:00:00Z","properties":{"i":%d}}`+"\n", i, i%10, i)
	}
	next := 0
	opt := fixedOptions()
	opt.OnReject = func(line int, reason string, raw []byte) {
		if line != next+1 || string(raw) != fmt.Sprintf(`{"bad":%d}`, next) {
			t.Fatalf("reject of line %d (%s) when line %d was due", line, raw, next+1)
		}
		next++
	}
	st, err := importer.ReadNDJSON(t.Context(), strings.NewReader(b.String()), opt, func(e event.Event) error {
		if want := fmt.Sprintf("E%d", next); e.Event != want {
			t.Fatalf("got %s, want %s", e.Event, want)
		}
		next++
		return nil
	})
	if err != nil || next != n || st.Events+st.Rejected != n {
		t.Fatalf("err %v, %d lines seen, stats %+v", err, next, st)
	}
}

// TestNDJSONSameIDs checks that lines without a messageId get the same one
// on every import, a different one per line and per source, and that a
// messageId in the line is kept.
func TestNDJSONSameIDs(t *testing.T) {
	input := `{"event":"A","userId":"u","timestamp":"2024-01-01T00:00:00Z"}
{"event":"A","userId":"u","timestamp":"2024-01-01T00:00:00Z"}
{"event":"A","userId":"u","timestamp":"2024-01-01T00:00:00Z","messageId":"mine"}`
	ids := func(source string) []string {
		var out []string
		opt := fixedOptions()
		opt.SourceID = source
		if _, err := importer.ReadNDJSON(t.Context(), strings.NewReader(input), opt, func(e event.Event) error {
			out = append(out, e.MessageID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	a, b, c := ids("s1"), ids("s1"), ids("s2")
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("two imports: %v then %v", a, b)
	}
	if a[0] == a[1] {
		t.Errorf("two identical lines share the messageId %s", a[0])
	}
	if a[0] == c[0] {
		t.Errorf("two sources share the messageId %s", a[0])
	}
	if a[2] != "mine" || c[2] != "mine" {
		t.Errorf("the line's own messageId was replaced: %v", a[2])
	}
}

// TestNDJSONStops checks that a failing sink, a done context and a read
// error each end the read, and that no goroutine is left behind.
func TestNDJSONStops(t *testing.T) {
	var b strings.Builder
	for range 5000 {
		b.WriteString(`{"event":"A","userId":"u","timestamp":"2024-01-01T00:00:00Z"}` + "\n")
	}
	input := b.String()
	before := runtime.NumGoroutine()
	defer func() {
		// The parsing goroutines end with the read: none may be left
		// blocked behind an early stop.
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			t.Errorf("%d goroutines left behind", n-before)
		}
	}()
	boom := errors.New("boom")
	n := 0
	_, err := importer.ReadNDJSON(t.Context(), strings.NewReader(input), fixedOptions(), func(event.Event) error {
		if n++; n == 1234 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "line 1234") || n != 1234 {
		t.Errorf("sink error: got %v after %d events", err, n)
	}

	ctx, cancel := context.WithCancel(t.Context())
	n = 0
	_, err = importer.ReadNDJSON(ctx, strings.NewReader(input), fixedOptions(), func(event.Event) error {
		if n++; n == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n == 5000 {
		t.Errorf("cancel: got %v after %d events", err, n)
	}

	broken := errors.New("disk on fire")
	n = 0
	_, err = importer.ReadNDJSON(t.Context(), io.MultiReader(strings.NewReader(input[:len(input)/2]), iotest.ErrReader(broken)), fixedOptions(), func(event.Event) error {
		n++
		return nil
	})
	if !errors.Is(err, broken) || n != 2500 || !strings.Contains(err.Error(), "line 2501") {
		t.Errorf("read error: got %v after %d events", err, n)
	}
}

// TestProgress checks the progress reports: bytes of the file as it is on
// disk, the events so far, and a last report when the read ends.
func TestProgress(t *testing.T) {
	path := writeGzip(t, []byte(strings.Repeat(`{"event":"A","userId":"u","timestamp":"2024-01-01T00:00:00Z"}`+"\n", 1000)))
	f, err := importer.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type report struct{ done, total, events int64 }
	var reps []report
	opt := fixedOptions()
	opt.Progress = func(done, total, events int64) { reps = append(reps, report{done, total, events}) }
	if _, err := importer.ReadNDJSON(t.Context(), f, opt, func(event.Event) error { return nil }); err != nil {
		t.Fatal(err)
	}
	last := reps[len(reps)-1]
	if last.done != last.total || last.total == 0 || last.events != 1000 {
		t.Errorf("last report %+v", last)
	}
}
