package importer_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/importer"
)

type reject struct {
	line   int
	reason string
	raw    string
}

// readAll runs read over input and returns the events and rejects.
func readAll(t *testing.T, read readFunc, input string) ([]event.Event, []reject, error) {
	t.Helper()
	var evs []event.Event
	var rej []reject
	opt := fixedOptions()
	opt.OnReject = func(line int, reason string, raw []byte) {
		rej = append(rej, reject{line, reason, string(raw)})
	}
	_, err := read(t.Context(), strings.NewReader(input), opt, func(e event.Event) error {
		evs = append(evs, e)
		return nil
	})
	return evs, rej, err
}

func xesDoc(body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n<log xmlns=\"http://www.xes-standard.org/\">\n" + body + "\n</log>\n"
}

const xesEvent = `<trace><string key="concept:name" value="c"/><event><string key="concept:name" value="A"/><date key="time:timestamp" value="2024-01-01T00:00:00Z"/></event></trace>`

// TestXESMalformed checks that XML that is not well formed ends the read
// with an Invalid error that says where.
func TestXESMalformed(t *testing.T) {
	for _, tc := range []struct {
		name, input, want string
	}{
		{"empty input", "", "no root element"},
		{"not xml", "hello", "no root element"},
		{"another root", `<foo/>`, "line 1, column 1: not an XES log: the root element is <foo>, want <log>"},
		{"unclosed log", "<log>\n<trace>\n", "line 3, column 1: the input ends before </trace>"},
		{"mismatched end tag", "<log>\n  <trace>\n  </event>\n</log>", "line 3, column 3: </event> closes <trace>"},
		{"end tag without start", "<log></log></trace>", "</trace> without a start tag"},
		{"unquoted attribute", "<log>\n<trace><string key=concept:name value=\"x\"/></trace></log>", "line 2, column 20: the value of attribute key of <string> is not quoted"},
		{"attribute without value", `<log><trace><string key/></trace></log>`, "attribute key of <string> has no value"},
		{"lt in attribute value", `<log><trace><string key="a" value="x<y"/></trace></log>`, "'<' in an attribute value"},
		{"bare ampersand", `<log><trace><string key="a" value="R&D"/></trace></log>`, "'&' that starts no entity"},
		{"unknown entity", `<log><trace><string key="a" value="&nbsp;"/></trace></log>`, `unknown entity "&nbsp;"`},
		{"truncated tag", `<log><trace><string key="a" val`, "the input ends inside a tag"},
		{"unterminated comment", `<log><!-- never ends`, "a comment that never ends"},
		{"second root", `<log></log><log></log>`, "<log> after the root element has ended"},
		{"slash without gt", `<log><trace/ ></log>`, "'/' not followed by '>'"},
		{"no space between attributes", `<log><trace><string key="a"value="b"/></trace></log>`, "no space before an attribute"},
		{"utf-16", "\xff\xfe<\x00l\x00", "UTF-16"},
		{"unsupported encoding", `<?xml version="1.0" encoding="EBCDIC-US"?><log/>`, `encoding "ebcdic-us" is not supported`},
		{"trace attribute after event", "<log><trace><string key=\"concept:name\" value=\"c\"/>\n<event><string key=\"concept:name\" value=\"A\"/><date key=\"time:timestamp\" value=\"2024-01-01T00:00:00Z\"/></event>\n<string key=\"late\" value=\"x\"/></trace></log>", `line 3, column 1: trace attribute "late" after the trace's first event`},
		{"deep nesting", "<log>" + strings.Repeat("<a>", 300), "nested deeper than 256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readAll(t, xesReader(importer.XESOptions{}), tc.input)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if fault.CodeOf(err) != fault.Invalid {
				t.Errorf("code %s, want invalid", fault.CodeOf(err))
			}
		})
	}
}

// TestXESRejects checks that an event that cannot be imported is reported
// with its line and reason and skipped, and the read goes on.
func TestXESRejects(t *testing.T) {
	trace := func(events string) string {
		return xesDoc("<trace>\n<string key=\"concept:name\" value=\"c\"/>\n" + events + "\n</trace>")
	}
	for _, tc := range []struct {
		name, input, want string
	}{
		{"missing timestamp", trace(`<event><string key="concept:name" value="A"/></event>`), "event without time:timestamp"},
		{"unparseable time", trace(`<event><string key="concept:name" value="A"/><date key="time:timestamp" value="2024-13-01T00:00:00Z"/></event>`), `time:timestamp "2024-13-01T00:00:00Z" is not an xs:dateTime`},
		{"missing name", trace(`<event><date key="time:timestamp" value="2024-01-01T00:00:00Z"/></event>`), "event without concept:name"},
		{"empty name", trace(`<event><string key="concept:name" value=""/><date key="time:timestamp" value="2024-01-01T00:00:00Z"/></event>`), "event without concept:name"},
		{"bad int", trace(`<event><string key="concept:name" value="A"/><date key="time:timestamp" value="2024-01-01T00:00:00Z"/><int key="n" value="1.5"/></event>`), `attribute n: int "1.5" is not a 64-bit integer`},
		{"bad float", trace(`<event><string key="concept:name" value="A"/><date key="time:timestamp" value="2024-01-01T00:00:00Z"/><float key="f" value="abc"/></event>`), `attribute f: float "abc" is not a number`},
		{"bad boolean", trace(`<event><string key="concept:name" value="A"/><date key="time:timestamp" value="2024-01-01T00:00:00Z"/><boolean key="b" value="yes"/></event>`), `attribute b: boolean "yes" is neither true nor false`},
		{"bad date", trace(`<event><string key="concept:name" value="A"/><date key="time:timestamp" value="2024-01-01T00:00:00Z"/><date key="d" value="soon"/></event>`), `attribute d: date "soon" is not an xs:dateTime`},
		{"attribute without key", trace(`<event><string key="concept:name" value="A"/><date key="time:timestamp" value="2024-01-01T00:00:00Z"/><string value="x"/></event>`), "<string> attribute without a key"},
		{"invalid utf-8", trace("<event><string key=\"concept:name\" value=\"A\xff\"/><date key=\"time:timestamp\" value=\"2024-01-01T00:00:00Z\"/></event>"), "attribute concept:name: value is not valid text (invalid UTF-8 or a control character)"},
		{"control character", trace("<event><string key=\"concept:name\" value=\"A\"/><string key=\"k\" value=\"a\x01b\"/><date key=\"time:timestamp\" value=\"2024-01-01T00:00:00Z\"/></event>"), "attribute k: value is not valid text (invalid UTF-8 or a control character)"},
		{"bad trace attribute", xesDoc("<trace>\n<string key=\"concept:name\" value=\"c\"/><int key=\"n\" value=\"x\"/>\n<event><string key=\"concept:name\" value=\"A\"/><date key=\"time:timestamp\" value=\"2024-01-01T00:00:00Z\"/></event></trace>"), `trace: attribute n: int "x" is not a 64-bit integer`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, rej, err := readAll(t, xesReader(importer.XESOptions{}), tc.input+xesDoc(xesEvent)[0:0])
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 0 || len(rej) != 1 {
				t.Fatalf("%d events, rejects %v", len(evs), rej)
			}
			if rej[0].reason != tc.want {
				t.Errorf("reason %q, want %q", rej[0].reason, tc.want)
			}
			if wantLine := strings.Count(tc.input[:strings.Index(tc.input, "<event>")], "\n") + 1; rej[0].line != wantLine {
				t.Errorf("line %d, want %d", rej[0].line, wantLine)
			}
			if !strings.HasPrefix(rej[0].raw, "<event>") || !strings.HasSuffix(rej[0].raw, "</event>") {
				t.Errorf("raw %q, want the event element", rej[0].raw)
			}
		})
	}
}

// TestXESLifecycleName checks pm4py's joining of name and transition.
func TestXESLifecycleName(t *testing.T) {
	input := xesDoc(`<trace><string key="concept:name" value="c"/>
<event><string key="concept:name" value="W_Call"/><string key="lifecycle:transition" value="START"/><date key="time:timestamp" value="2024-01-01T00:00:00Z"/></event>
<event><string key="concept:name" value="W_Call"/><date key="time:timestamp" value="2024-01-01T00:00:00Z"/></event>
</trace>`)
	for _, tc := range []struct {
		with bool
		want []string
	}{
		{false, []string{"W_Call", "W_Call"}},
		{true, []string{"W_Call+START", "W_Call"}},
	} {
		evs, rej, err := readAll(t, xesReader(importer.XESOptions{WithLifecycle: tc.with}), input)
		if err != nil || len(rej) > 0 {
			t.Fatal(err, rej)
		}
		for i, e := range evs {
			if e.Event != tc.want[i] {
				t.Errorf("WithLifecycle %v: event %d named %q, want %q", tc.with, i, e.Event, tc.want[i])
			}
		}
	}
}

// TestXESVariants checks the forms of XES the reader must accept: XES 1.0
// without a namespace, a namespace prefix, single quotes, entities and
// character references, comments and a DOCTYPE, Latin-1, times without a
// zone in a given location, and trace ids of other types than string.
func TestXESVariants(t *testing.T) {
	athens, err := time.LoadLocation("Europe/Athens")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	for _, tc := range []struct {
		name, input string
		xo          importer.XESOptions
		user, event string
		at          time.Time
	}{
		{"no namespace", "<log>" + xesEvent + "</log>", importer.XESOptions{}, "c", "A", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"prefixed", `<xes:log xmlns:xes="http://www.xes-standard.org/"><xes:trace><xes:string key="concept:name" value="c"/><xes:event><xes:string key='concept:name' value='A'/><xes:date key="time:timestamp" value="2024-01-01T00:00:00+02:00"/></xes:event></xes:trace></xes:log>`, importer.XESOptions{}, "c", "A", time.Date(2023, 12, 31, 22, 0, 0, 0, time.UTC)},
		{"entities and references", "<!DOCTYPE log [ <!ENTITY x \"y\"> ]>\n<!-- c --><log><?pi x?><trace><string key=\"concept:name\" value=\"a&lt;b&#x20;&#233;\"/><event><string key=\"concept:name\" value=\"&quot;Q&apos;&#x263A;\"/><date key=\"time:timestamp\" value=\"2024-01-01T00:00:00Z\"/></event></trace></log>", importer.XESOptions{}, "a<b é", "\"Q'☺", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"normalised whitespace", "<log><trace><string key=\"concept:name\" value=\"a\tb\nc\"/><event><string key=\"concept:name\" value=\"A\"/><date key=\"time:timestamp\" value=\"2024-01-01T00:00:00Z\"/></event></trace></log>", importer.XESOptions{}, "a b c", "A", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"latin-1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><log><trace><string key=\"concept:name\" value=\"Fran\xe7ois\"/><event><string key=\"concept:name\" value=\"A\"/><date key=\"time:timestamp\" value=\"2024-01-01T00:00:00Z\"/></event></trace></log>", importer.XESOptions{}, "François", "A", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"utf-8 bom", "\xef\xbb\xbf<log>" + xesEvent + "</log>", importer.XESOptions{}, "c", "A", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"local time", `<log><trace><int key="concept:name" value="42"/><event><string key="concept:name" value="A"/><date key="time:timestamp" value="2024-07-01T12:00:00"/></event></trace></log>`, importer.XESOptions{Location: athens}, "42", "A", time.Date(2024, 7, 1, 9, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, rej, err := readAll(t, xesReader(tc.xo), tc.input)
			if err != nil || len(rej) > 0 || len(evs) != 1 {
				t.Fatalf("err %v, rejects %v, %d events", err, rej, len(evs))
			}
			e := evs[0]
			if e.UserID != tc.user || e.Event != tc.event || !e.Timestamp.Equal(tc.at) {
				t.Errorf("got %q %q %v, want %q %q %v", e.UserID, e.Event, e.Timestamp, tc.user, tc.event, tc.at)
			}
		})
	}
}

// TestXESSmallReads feeds the reader one byte at a time, so that every tag
// and value is cut at every place by the end of the buffer.
func TestXESSmallReads(t *testing.T) {
	input := xesDoc(strings.Repeat(xesEvent+"\n", 3))
	var n int
	st, err := importer.ReadXES(t.Context(), iotest.OneByteReader(strings.NewReader(input)), importer.XESOptions{}, fixedOptions(), func(event.Event) error {
		n++
		return nil
	})
	if err != nil || n != 3 || st.Events != 3 {
		t.Fatalf("err %v, %d events, stats %+v", err, n, st)
	}
}

// TestXESLargeTags checks tags longer than the read buffer, and the cap
// on a tag's size.
func TestXESLargeTags(t *testing.T) {
	long := strings.Repeat("x", 600<<10)
	input := xesDoc(`<trace><string key="concept:name" value="c"/><event><string key="concept:name" value="A"/><string key="big" value="` + long + `"/><date key="time:timestamp" value="2024-01-01T00:00:00Z"/></event></trace>`)
	evs, _, err := readAll(t, xesReader(importer.XESOptions{}), input)
	if err != nil || len(evs) != 1 || evs[0].Properties["big"] != long {
		t.Fatalf("err %v, %d events", err, len(evs))
	}
	opt := fixedOptions()
	opt.MaxRecordBytes = 64 << 10
	_, err = importer.ReadXES(t.Context(), strings.NewReader(xesDoc(`<trace><string key="k" value="`+strings.Repeat("y", 2<<20)+`"/></trace>`)), importer.XESOptions{}, opt, func(event.Event) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "a tag longer than") {
		t.Fatalf("got %v, want the tag size cap", err)
	}
}

// TestXESSinkError checks that the sink's error ends the read, with the
// event's line.
func TestXESSinkError(t *testing.T) {
	boom := errors.New("boom")
	input := xesDoc(xesEvent + xesEvent)
	_, err := importer.ReadXES(t.Context(), strings.NewReader(input), importer.XESOptions{}, fixedOptions(), func(event.Event) error { return boom })
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("got %v", err)
	}
}

// TestXESReadError checks that an I/O error is returned, not mistaken for
// the end of the file.
func TestXESReadError(t *testing.T) {
	broken := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader("<log><trace>"), iotest.ErrReader(broken))
	_, err := importer.ReadXES(t.Context(), r, importer.XESOptions{}, fixedOptions(), func(event.Event) error { return nil })
	if !errors.Is(err, broken) {
		t.Fatalf("got %v", err)
	}
}

// TestXESCancel checks that a done context stops a read.
func TestXESCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	input := xesDoc(strings.Repeat(xesEvent, 2000))
	n := 0
	_, err := importer.ReadXES(ctx, strings.NewReader(input), importer.XESOptions{}, fixedOptions(), func(event.Event) error {
		if n++; n == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n >= 2000 {
		t.Fatalf("got %v after %d events", err, n)
	}
}

// TestXESFieldChecksAfterPassingEvents checks that an event whose name or
// customer passed in earlier events still gets event.Validate's verdict
// when another of its fields breaks a rule: the reader skips the check
// only for what it has seen pass.
func TestXESFieldChecksAfterPassingEvents(t *testing.T) {
	ev := func(name, ts string) string {
		return `<event><string key="concept:name" value="` + name + `"/><date key="time:timestamp" value="` + ts + `"/></event>`
	}
	trace := func(id string, events ...string) string {
		return "<trace><string key=\"concept:name\" value=\"" + id + "\"/>\n" + strings.Join(events, "\n") + "\n</trace>\n"
	}
	const ok = "2024-01-01T00:00:00Z"
	long := strings.Repeat("u", 41)
	input := xesDoc(trace("c1", ev("A", ok), ev("A", ok), ev("NameTooLong", ok), ev("A", "2199-01-01T00:00:00Z"), ev("A", ok)) +
		trace(long, ev("A", ok)) +
		trace("c2", ev("A", ok), ev("B", ok), ev("A", "0001-01-01T00:00:00Z")))
	var evs []event.Event
	var reasons []string
	opt := fixedOptions()
	opt.Limits = event.Limits{MaxNameLen: 10, MaxIDLen: 40}
	opt.OnReject = func(_ int, reason string, _ []byte) { reasons = append(reasons, reason) }
	if _, err := importer.ReadXES(t.Context(), strings.NewReader(input), importer.XESOptions{}, opt, func(e event.Event) error {
		evs = append(evs, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, e.UserID+"/"+e.Event)
	}
	if want := []string{"c1/A", "c1/A", "c1/A", "c2/A", "c2/B"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("events %v, want %v", got, want)
	}
	want := []string{
		"event name is 11 characters; at most 10 are allowed",
		"timestamp 2199-01-01T00:00:00Z is more than",
		"userId is 41 bytes; at most 40 are allowed",
		"no timestamp",
	}
	if len(reasons) != len(want) {
		t.Fatalf("rejects %q, want %d", reasons, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(reasons[i], w) {
			t.Errorf("reject %d: %q, want it to start with %q", i, reasons[i], w)
		}
	}
}

// TestXESEventsWithTheSameAttributesShareTheirProperties: two events whose
// attributes read the same share one read-only map; different values, a
// different set of keys or a list give maps of their own, with the right
// contents.
func TestXESEventsWithTheSameAttributesShareTheirProperties(t *testing.T) {
	ev := func(name, attrs string) string {
		return `<event><string key="concept:name" value="` + name + `"/><date key="time:timestamp" value="2024-01-01T00:00:00Z"/>` + attrs + `</event>`
	}
	res := `<string key="org:resource" value="112"/><int key="n" value="3"/><boolean key="b" value="true"/>`
	body := `<trace><string key="concept:name" value="c"/>` +
		ev("A", res) + ev("B", res) +
		ev("C", `<string key="org:resource" value="113"/><int key="n" value="3"/><boolean key="b" value="true"/>`) +
		ev("D", `<string key="org:resource" value="112"/><int key="n" value="3"/>`) +
		ev("E", `<list key="l"><values><int key="i" value="1"/></values></list>`) +
		ev("F", `<list key="l"><values><int key="i" value="1"/></values></list>`) +
		ev("G", "") + `</trace>`
	evs, rej, err := readAll(t, xesReader(importer.XESOptions{}), xesDoc(body))
	if err != nil || len(rej) != 0 || len(evs) != 7 {
		t.Fatalf("%d events, rejects %v, %v", len(evs), rej, err)
	}
	same := func(a, b map[string]any) bool {
		return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
	}
	want := []map[string]any{
		{"org:resource": "112", "n": json.Number("3"), "b": true},
		{"org:resource": "112", "n": json.Number("3"), "b": true},
		{"org:resource": "113", "n": json.Number("3"), "b": true},
		{"org:resource": "112", "n": json.Number("3")},
		{"l": []any{json.Number("1")}},
		{"l": []any{json.Number("1")}},
		nil,
	}
	for i, e := range evs {
		if !reflect.DeepEqual(e.Properties, want[i]) {
			t.Errorf("event %s: properties %#v, want %#v", e.Event, e.Properties, want[i])
		}
	}
	if !same(evs[0].Properties, evs[1].Properties) {
		t.Error("A and B have the same attributes but not the same map")
	}
	for _, pair := range [][2]int{{0, 2}, {0, 3}, {4, 5}} {
		if same(evs[pair[0]].Properties, evs[pair[1]].Properties) {
			t.Errorf("%s and %s share a map", evs[pair[0]].Event, evs[pair[1]].Event)
		}
	}
}
