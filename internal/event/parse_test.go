package event_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// received is when every test request "arrives".
var received = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// testMeta is a web source's Meta with deterministic messageIds.
func testMeta() event.Meta {
	var seq int
	return event.Meta{
		ReceivedAt:    received,
		SourceID:      "src_web",
		SourceChannel: "web",
		NewID:         func() string { seq++; return "gen-" + strconv.Itoa(seq) },
	}
}

// callCase is one single call: its body, and either the exact reason it
// is rejected with or checks on the event it gives.
type callCase struct {
	name   string
	body   string
	lim    event.Limits
	reason string
	check  func(t *testing.T, e event.Event)
}

func runCalls(t *testing.T, typ event.Type, cases []callCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := event.ParseCall(typ, []byte(c.body), testMeta(), c.lim)
			if c.reason != "" {
				if err == nil {
					t.Fatalf("accepted %s; want rejected with %q", c.body, c.reason)
				}
				rej, ok := event.AsRejected(err)
				if !ok {
					t.Fatalf("error %v is not a rejected event", err)
				}
				fe, _ := fault.As(err)
				if fe.Code != fault.Invalid || fe.Message != c.reason || rej.Reason != c.reason {
					t.Fatalf("reason\n got %q (%s)\nwant %q", rej.Reason, fe.Code, c.reason)
				}
				if string(rej.Raw) != strings.TrimSpace(c.body) {
					t.Errorf("raw %s, want the body as sent", rej.Raw)
				}
				return
			}
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if e.Type != typ {
				t.Errorf("type %q, want %q", e.Type, typ)
			}
			if err := event.Validate(&e, c.lim); err != nil {
				t.Errorf("accepted event does not validate: %v", err)
			}
			if c.check != nil {
				c.check(t, e)
			}
		})
	}
}

func TestParseCallTrack(t *testing.T) {
	long := strings.Repeat("x", 201)
	vietnamese200 := strings.Repeat("ệ", 200) // 600 bytes, 200 characters
	runCalls(t, event.Track, []callCase{
		{name: "minimal call is accepted and normalised", body: `{"event":"Order Completed","userId":"u1"}`,
			check: func(t *testing.T, e event.Event) {
				want := event.Event{MessageID: "gen-1", Type: event.Track, Event: "Order Completed", UserID: "u1",
					Channel: "web", Timestamp: received, ReceivedAt: received, SourceID: "src_web"}
				if !equalJSON(e, want) {
					t.Errorf("got %s\nwant %s", mustJSON(e), mustJSON(want))
				}
				if e.Activity() != "Order Completed" {
					t.Errorf("activity %q", e.Activity())
				}
			}},
		{name: "anonymous id alone identifies", body: `{"event":"Viewed","anonymousId":"a1","userId":""}`},
		{name: "numeric userId becomes its digits", body: `{"event":"x","userId":42}`,
			check: func(t *testing.T, e event.Event) { wantEq(t, "userId", e.UserID, "42") }},
		{name: "negative integer userId kept as written", body: `{"event":"x","userId":-7}`,
			check: func(t *testing.T, e event.Event) { wantEq(t, "userId", e.UserID, "-7") }},
		{name: "fractional userId refused", body: `{"event":"x","userId":4.2}`,
			reason: "userId must be a string or an integer, not 4.2"},
		{name: "object userId refused", body: `{"event":"x","userId":{}}`,
			reason: "userId must be a string, not an object"},
		{name: "no event name", body: `{"userId":"u1"}`, reason: "track call without event name"},
		{name: "blank event name", body: `{"event":"  ","userId":"u1"}`, reason: "track call without event name"},
		{name: "null event name", body: `{"event":null,"userId":"u1"}`, reason: "track call without event name"},
		{name: "event name of wrong type", body: `{"event":5,"userId":"u1"}`, reason: "event must be a string, not a number"},
		{name: "no identifier", body: `{"event":"x"}`, reason: "no identifier: userId or anonymousId is required"},
		{name: "blank identifiers are no identifier", body: `{"event":"x","userId":" ","anonymousId":""}`,
			reason: "no identifier: userId or anonymousId is required"},
		{name: "event name over the limit in characters", body: `{"event":"` + long + `","userId":"u"}`,
			reason: "event name is 201 characters; at most 200 are allowed"},
		{name: "limit counts characters not bytes", body: `{"event":"` + vietnamese200 + `","userId":"u"}`},
		{name: "control character in event name", body: `{"event":"a\u0001b","userId":"u"}`,
			reason: "event name contains a control character"},
		{name: "userId over the limit", body: `{"event":"x","userId":"` + strings.Repeat("u", 257) + `"}`,
			reason: "userId is 257 bytes; at most 256 are allowed"},
		{name: "newline in anonymousId", body: `{"event":"x","anonymousId":"a\nb"}`,
			reason: "anonymousId contains a control character"},
		{name: "messageId of wrong type", body: `{"event":"x","userId":"u","messageId":7}`,
			reason: "messageId must be a string, not a number"},
		{name: "messageId kept", body: `{"event":"x","userId":"u","messageId":"m-1"}`,
			check: func(t *testing.T, e event.Event) { wantEq(t, "messageId", e.MessageID, "m-1") }},
		{name: "type in body agrees", body: `{"type":"track","event":"x","userId":"u"}`},
		{name: "type in body disagrees", body: `{"type":"identify","event":"x","userId":"u"}`,
			reason: `type "identify" does not match the track call`},
		{name: "properties must be an object", body: `{"event":"x","userId":"u","properties":[1]}`,
			reason: "properties must be an object, not a list"},
		{name: "null properties are none", body: `{"event":"x","userId":"u","properties":null}`,
			check: func(t *testing.T, e event.Event) {
				if e.Properties != nil {
					t.Errorf("properties %v", e.Properties)
				}
			}},
		{name: "numbers kept exact", body: `{"event":"x","userId":"u","properties":{"big":12345678901234567890123,"f":0.1,"e":1e-7}}`,
			check: func(t *testing.T, e event.Event) {
				wantEq(t, "big", e.Properties["big"], any(json.Number("12345678901234567890123")))
				wantEq(t, "f", e.Properties["f"], any(json.Number("0.1")))
				wantEq(t, "e", e.Properties["e"], any(json.Number("1e-7")))
			}},
		{name: "escapes decoded", body: `{"event":"Caf\u00e9 \ud83d\ude00 \"q\" \\ \/","userId":"u"}`,
			check: func(t *testing.T, e event.Event) { wantEq(t, "event", e.Event, `Café 😀 "q" \ /`) }},
		{name: "nesting deeper than the limit", body: `{"event":"x","userId":"u","properties":{"a":{"b":{"c":{"d":{"e":{}}}}}}}`,
			reason: "properties.a.b.c.d.e: nesting deeper than 5"},
		{name: "nesting at the limit", body: `{"event":"x","userId":"u","properties":{"a":{"b":{"c":{"d":{"e":1}}}}}}`},
		{name: "nesting through lists names the element", body: `{"event":"x","userId":"u","properties":{"items":[{},{},{},{"a":1}]}}`,
			lim: event.Limits{MaxDepth: 2}, reason: "properties.items[0]: nesting deeper than 2"},
		{name: "nesting in a later list element", body: `{"event":"x","userId":"u","properties":{"items":[1,2,3,{"a":1}]}}`,
			lim: event.Limits{MaxDepth: 2}, reason: "properties.items[3]: nesting deeper than 2"},
		{name: "nesting in context", body: `{"event":"x","userId":"u","context":{"a":{"b":{"c":{"d":{"e":[]}}}}}}`,
			reason: "context.a.b.c.d.e: nesting deeper than 5"},
		{name: "too many properties", body: `{"event":"x","userId":"u","properties":{"a":1,"b":2,"c":3}}`,
			lim: event.Limits{MaxProperties: 2}, reason: "properties: more than 2 keys"},
		{name: "too many keys in a nested object", body: `{"event":"x","userId":"u","properties":{"o":{"a":1,"b":2,"c":3}}}`,
			lim: event.Limits{MaxProperties: 2}, reason: "properties.o: more than 2 keys"},
		{name: "empty property name", body: `{"event":"x","userId":"u","properties":{"":1}}`,
			reason: "properties: empty key"},
		{name: "control character in property name", body: `{"event":"x","userId":"u","properties":{"a\tb":1}}`,
			reason: `properties: key "a\tb" contains a control character`},
		{name: "C1 control character in property name", body: `{"event":"x","userId":"u","properties":{"a\u0085":1}}`,
			reason: `properties: key "a\u0085" contains a control character`},
		{name: "property name over 128 bytes", body: `{"event":"x","userId":"u","properties":{"` + strings.Repeat("k", 129) + `":1}}`,
			reason: `properties: key "` + strings.Repeat("k", 32) + `…" is longer than 128 bytes`},
		{name: "dollar and dotted property names allowed", body: `{"event":"x","userId":"u","properties":{"$current_url":"/","plan.tier":"pro","Giá tiền":1}}`},
		{name: "duplicate property", body: `{"event":"x","userId":"u","properties":{"a":1,"a":2}}`,
			reason: `properties: duplicate key "a"`},
		{name: "duplicate event field", body: `{"event":"x","userId":"u","userId":"v"}`,
			reason: `duplicate key "userId"`},
		{name: "traits of a track call dropped", body: `{"event":"x","userId":"u","traits":{"a":1},"name":"n","groupId":"g"}`,
			check: func(t *testing.T, e event.Event) {
				if e.Traits != nil || e.Name != "" || e.GroupID != "" {
					t.Errorf("kept fields a track call does not have: %s", mustJSON(e))
				}
			}},
		{name: "unknown fields ignored", body: `{"event":"x","userId":"u","integrations":{"All":true},"_metadata":{"x":[1,{"y":"z"}]},"version":2}`},
		{name: "timestamp of wrong type", body: `{"event":"x","userId":"u","timestamp":1740830400000}`,
			reason: "timestamp must be an ISO-8601 string, not a number"},
		{name: "timestamp not a time", body: `{"event":"x","userId":"u","timestamp":"yesterday"}`,
			reason: `timestamp "yesterday" is not an ISO-8601 time`},
		{name: "timestamp far in the future", body: `{"event":"x","userId":"u","timestamp":"2031-01-01T00:00:00Z"}`,
			reason: "timestamp 2031-01-01T00:00:00Z is more than 24h in the future"},
		{name: "timestamp just inside the future bound", body: `{"event":"x","userId":"u","timestamp":"2025-03-02T12:00:00Z"}`},
		{name: "timestamp far in the past", body: `{"event":"x","userId":"u","timestamp":"2010-01-01T00:00:00Z"}`,
			reason: "timestamp 2010-01-01T00:00:00Z is more than 3650 days in the past"},
		{name: "epoch clock refused", body: `{"event":"x","userId":"u","timestamp":"1970-01-01T00:00:00Z"}`,
			reason: "timestamp 1970-01-01T00:00:00Z is more than 3650 days in the past"},
		{name: "past bound off for imports", body: `{"event":"x","userId":"u","timestamp":"2011-10-01T00:38:44.546+02:00"}`,
			lim: event.Limits{NoPastBound: true},
			check: func(t *testing.T, e event.Event) {
				wantEq(t, "timestamp", e.Timestamp, time.Date(2011, 9, 30, 22, 38, 44, 546e6, time.UTC))
			}},
		{name: "custom future bound", body: `{"event":"x","userId":"u","timestamp":"2025-03-01T13:00:01Z"}`,
			lim: event.Limits{FutureBound: time.Hour}, reason: "timestamp 2025-03-01T13:00:01Z is more than 1h in the future"},
	})
}

func TestParseCallIdentify(t *testing.T) {
	runCalls(t, event.Identify, []callCase{
		{name: "userId with traits", body: `{"userId":"u1","traits":{"email":"a@b.c","name":"Ελένη","address":{"city":"Αθήνα"}}}`,
			check: func(t *testing.T, e event.Event) {
				wantEq(t, "name", e.Traits["name"], any("Ελένη"))
				if e.Activity() != "Identify" {
					t.Errorf("activity %q", e.Activity())
				}
			}},
		{name: "anonymousId alone", body: `{"anonymousId":"a1","traits":{"plan":"free"}}`},
		{name: "no traits is fine", body: `{"userId":"u1"}`},
		{name: "no identifier", body: `{"traits":{"email":"a@b.c"}}`, reason: "no identifier: userId or anonymousId is required"},
		{name: "traits must be an object", body: `{"userId":"u1","traits":"vip"}`, reason: "traits must be an object, not a string"},
		{name: "empty trait name", body: `{"userId":"u1","traits":{"":1}}`, reason: "traits: empty key"},
		{name: "properties and event name dropped", body: `{"userId":"u1","event":"e","properties":{"a":1}}`,
			check: func(t *testing.T, e event.Event) {
				if e.Event != "" || e.Properties != nil {
					t.Errorf("kept fields an identify call does not have: %s", mustJSON(e))
				}
			}},
	})
}

func TestParseCallPage(t *testing.T) {
	runCalls(t, event.Page, []callCase{
		{name: "name is optional", body: `{"anonymousId":"a1","properties":{"path":"/"}}`,
			check: func(t *testing.T, e event.Event) {
				if e.Activity() != "Page Viewed" {
					t.Errorf("activity %q", e.Activity())
				}
			}},
		{name: "name and category", body: `{"anonymousId":"a1","name":"Pricing","category":"Docs"}`,
			check: func(t *testing.T, e event.Event) {
				wantEq(t, "name", e.Name, "Pricing")
				wantEq(t, "properties.category", e.Properties["category"], any("Docs"))
			}},
		{name: "category does not override properties", body: `{"anonymousId":"a1","category":"Docs","properties":{"category":"Blog"}}`,
			check: func(t *testing.T, e event.Event) { wantEq(t, "category", e.Properties["category"], any("Blog")) }},
		{name: "null name and category as analytics.js sends", body: `{"anonymousId":"a1","name":null,"category":null}`},
		{name: "name of wrong type", body: `{"anonymousId":"a1","name":3}`, reason: "name must be a string, not a number"},
		{name: "name over the limit", body: `{"anonymousId":"a1","name":"` + strings.Repeat("n", 201) + `"}`,
			reason: "page name is 201 characters; at most 200 are allowed"},
		{name: "no identifier", body: `{"name":"Home"}`, reason: "no identifier: userId or anonymousId is required"},
	})
}

func TestParseCallScreen(t *testing.T) {
	runCalls(t, event.Screen, []callCase{
		{name: "name and properties", body: `{"userId":"u1","name":"Αρχική","properties":{"variant":"b"}}`,
			check: func(t *testing.T, e event.Event) {
				wantEq(t, "name", e.Name, "Αρχική")
				if e.Activity() != "Screen Viewed" {
					t.Errorf("activity %q", e.Activity())
				}
			}},
		{name: "name over the limit", body: `{"userId":"u1","name":"` + strings.Repeat("n", 201) + `"}`,
			reason: "screen name is 201 characters; at most 200 are allowed"},
		{name: "no identifier", body: `{"name":"Home"}`, reason: "no identifier: userId or anonymousId is required"},
	})
}

func TestParseCallGroup(t *testing.T) {
	runCalls(t, event.Group, []callCase{
		{name: "groupId and traits", body: `{"userId":"u1","groupId":"org_1","traits":{"employees":42}}`,
			check: func(t *testing.T, e event.Event) {
				wantEq(t, "groupId", e.GroupID, "org_1")
				wantEq(t, "employees", e.Traits["employees"], any(json.Number("42")))
			}},
		{name: "numeric groupId", body: `{"userId":"u1","groupId":7}`,
			check: func(t *testing.T, e event.Event) { wantEq(t, "groupId", e.GroupID, "7") }},
		{name: "no groupId", body: `{"userId":"u1","traits":{}}`, reason: "group call without groupId"},
		{name: "groupId of wrong type", body: `{"userId":"u1","groupId":true}`, reason: "groupId must be a string, not a boolean"},
		{name: "no identifier", body: `{"groupId":"g"}`, reason: "no identifier: userId or anonymousId is required"},
	})
}

func TestParseCallAlias(t *testing.T) {
	runCalls(t, event.Alias, []callCase{
		{name: "userId and previousId", body: `{"userId":"u1","previousId":"anon-1"}`,
			check: func(t *testing.T, e event.Event) { wantEq(t, "previousId", e.PreviousID, "anon-1") }},
		{name: "no previousId", body: `{"userId":"u1"}`, reason: "alias call without previousId"},
		{name: "no userId", body: `{"anonymousId":"a","previousId":"p"}`, reason: "alias call without userId"},
		{name: "properties and traits dropped", body: `{"userId":"u1","previousId":"p","properties":{"a":1},"traits":{"b":2}}`,
			check: func(t *testing.T, e event.Event) {
				if e.Properties != nil || e.Traits != nil {
					t.Errorf("kept fields an alias call does not have: %s", mustJSON(e))
				}
			}},
	})
}

func TestParseEventTakesTypeFromBody(t *testing.T) {
	for _, c := range []struct {
		name, body string
		def        event.Type
		want       event.Type
		reason     string
	}{
		{"type from body", `{"type":"identify","userId":"u"}`, event.Track, event.Identify, ""},
		{"default when absent", `{"event":"x","userId":"u"}`, event.Track, event.Track, ""},
		{"required without default", `{"event":"x","userId":"u"}`, "", "", "no type: one of track, identify, page, screen, group or alias is required"},
		{"unknown type", `{"type":"purchase","userId":"u"}`, event.Track, "", `unknown type "purchase"`},
		{"type of wrong kind", `{"type":1,"userId":"u"}`, event.Track, "", "type must be a string, not a number"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := event.ParseEvent([]byte(c.body), c.def, testMeta(), event.Limits{})
			if c.reason != "" {
				if err == nil || err.Error() != c.reason+": event rejected" {
					t.Fatalf("err %v, want %q", err, c.reason)
				}
				return
			}
			if err != nil || e.Type != c.want {
				t.Fatalf("type %q, err %v; want %q", e.Type, err, c.want)
			}
		})
	}
}

// TestParseCallMalformed: a request that is not a well-formed JSON object
// of valid UTF-8 is refused whole, with a message that says what and
// where, and no Rejected (nothing goes to the quarantine).
func TestParseCallMalformed(t *testing.T) {
	deep := `{"event":"x","userId":"u","x":` + strings.Repeat("[", 30000) + `}`
	oversize := `{"event":"x","userId":"u","properties":{"p":"` + strings.Repeat("x", 32<<10) + `"}}`
	for _, c := range []struct {
		name string
		body string
		code fault.Code
		msg  string
	}{
		{"empty body", "  \n", fault.Invalid, "the body is empty; a JSON object is expected"},
		{"trailing comma", `{"event":"x",}`, fault.Invalid, `malformed JSON at line 1, column 14: expected a string as object key, found '}'`},
		{"position on a later line", "{\n  \"event\": \"x\",\n  \"userId\": tru\n}", fault.Invalid, "malformed JSON at line 3, column 13: expected a value"},
		{"ends too early", `{"event": "x"`, fault.Invalid, "malformed JSON: the body ends too early"},
		{"unterminated string", `{"event": "x`, fault.Invalid, "malformed JSON at line 1, column 11: unterminated string"},
		{"single quotes", `{'event': 'x'}`, fault.Invalid, `malformed JSON at line 1, column 2: expected a string as object key, found '\''`},
		{"leading zero", `{"n":01}`, fault.Invalid, `malformed JSON at line 1, column 7: expected ',' or '}' after an object member, found '1'`},
		{"bare decimal point", `{"n":1.}`, fault.Invalid, `malformed JSON at line 1, column 6: invalid number: no digits after the decimal point`},
		{"NaN", `{"n":NaN}`, fault.Invalid, `malformed JSON at line 1, column 6: expected a value, found 'N'`},
		{"data after the object", `{"event":"x"} {}`, fault.Invalid, "malformed JSON at line 1, column 15: unexpected data after the JSON document"},
		{"a list", `[{"event":"x"}]`, fault.Invalid, "the body must be a JSON object, not a list"},
		{"a string", `"track"`, fault.Invalid, "the body must be a JSON object, not a string"},
		{"null", `null`, fault.Invalid, "the body must be a JSON object, not null"},
		{"invalid UTF-8 in a value", "{\"event\":\"caf\xe9\",\"userId\":\"u\"}", fault.Invalid, "malformed JSON at line 1, column 14: invalid UTF-8 in a string"},
		{"invalid UTF-8 in a key", "{\"\xff\":1}", fault.Invalid, "malformed JSON at line 1, column 3: invalid UTF-8 in a string"},
		{"invalid UTF-8 in an ignored field", "{\"event\":\"x\",\"userId\":\"u\",\"integrations\":{\"a\":\"\xc3\"}}", fault.Invalid, "malformed JSON at line 1, column 48: invalid UTF-8 in a string"},
		{"overlong UTF-8 encoding", "{\"event\":\"\xc0\xaf\"}", fault.Invalid, "malformed JSON at line 1, column 11: invalid UTF-8 in a string"},
		{"UTF-8 encoded surrogate", "{\"event\":\"\xed\xa0\x80\"}", fault.Invalid, "malformed JSON at line 1, column 11: invalid UTF-8 in a string"},
		{"invalid UTF-8 outside strings", "{\"event\":\"x\"\xff}", fault.Invalid, "malformed JSON at line 1, column 13: invalid UTF-8"},
		{"lone high surrogate escape", `{"event":"a\ud800b","userId":"u"}`, fault.Invalid, `malformed JSON at line 1, column 12: lone surrogate \uD800 in a string is not a character`},
		{"lone low surrogate escape", `{"event":"\udc00","userId":"u"}`, fault.Invalid, `malformed JSON at line 1, column 11: lone surrogate \uDC00 in a string is not a character`},
		{"high surrogate then non-surrogate", `{"event":"\ud800\u0041"}`, fault.Invalid, `malformed JSON at line 1, column 11: lone surrogate \uD800 in a string is not a character`},
		{"bad escape", `{"event":"\x41"}`, fault.Invalid, `malformed JSON at line 1, column 11: invalid escape \x in a string`},
		{"short unicode escape", `{"event":"\u12"}`, fault.Invalid, `malformed JSON at line 1, column 11: invalid \u escape in a string`},
		{"raw newline in a string", "{\"event\":\"a\nb\"}", fault.Invalid, "malformed JSON at line 1, column 12: control character U+000A in a string; it must be escaped"},
		{"deeply nested garbage does not overflow the stack", deep, fault.Invalid, "malformed JSON at line 1, column 30031: expected a value, found '}'"},
		{"over the event size", oversize, fault.TooLarge, fmt.Sprintf("the event is %d bytes; at most 32768 are allowed", len(oversize))},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := event.ParseCall(event.Track, []byte(c.body), testMeta(), event.Limits{})
			fe, ok := fault.As(err)
			if !ok {
				t.Fatalf("err %v, want a *fault.Error", err)
			}
			if fe.Code != c.code || fe.Message != c.msg {
				t.Fatalf("got %s %q\nwant %s %q", fe.Code, fe.Message, c.code, c.msg)
			}
			if _, ok := event.AsRejected(err); ok {
				t.Fatalf("a malformed request must be refused whole, not quarantined")
			}
		})
	}
}

// TestDeepNestingInsidePropertiesIsRejectedNotCrashed: a well-formed
// body nesting thousands of levels inside properties is one rejected
// event, found without recursing that deep.
func TestDeepNestingInsidePropertiesIsRejected(t *testing.T) {
	body := `{"event":"x","userId":"u","properties":{"a":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}}`
	_, err := event.ParseCall(event.Track, []byte(body), testMeta(), event.Limits{})
	var rej *event.Rejected
	if !errors.As(err, &rej) || rej.Reason != "properties.a[0][0][0][0]: nesting deeper than 5" {
		t.Fatalf("err %v", err)
	}
}

// TestSkewCorrection: with sentAt the event time is moved by the
// client's clock error (timestamp + receivedAt − sentAt), as Segment does.
func TestSkewCorrection(t *testing.T) {
	ts := "2025-03-01T11:00:00Z"
	for _, c := range []struct {
		name string
		body string
		want time.Time
	}{
		{"client clock ahead", `{"event":"x","userId":"u","timestamp":"` + ts + `","sentAt":"2025-03-01T12:10:00Z"}`,
			time.Date(2025, 3, 1, 10, 50, 0, 0, time.UTC)},
		{"client clock behind", `{"event":"x","userId":"u","timestamp":"` + ts + `","sentAt":"2025-03-01T11:55:00Z"}`,
			time.Date(2025, 3, 1, 11, 5, 0, 0, time.UTC)},
		{"client clock right", `{"event":"x","userId":"u","timestamp":"` + ts + `","sentAt":"2025-03-01T12:00:00Z"}`,
			time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC)},
		{"offsets are honoured", `{"event":"x","userId":"u","timestamp":"2025-03-01T18:00:00+07:00","sentAt":"2025-03-01T19:00:00.5+07:00"}`,
			time.Date(2025, 3, 1, 10, 59, 59, 5e8, time.UTC)},
		{"no sentAt: timestamp as sent", `{"event":"x","userId":"u","timestamp":"` + ts + `"}`,
			time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC)},
		{"no timestamp: received time", `{"event":"x","userId":"u","sentAt":"2025-03-01T13:00:00Z"}`, received},
		{"RudderStack's originalTimestamp is the client time", `{"event":"x","userId":"u","originalTimestamp":"` + ts + `","sentAt":"2025-03-01T12:10:00Z"}`,
			time.Date(2025, 3, 1, 10, 50, 0, 0, time.UTC)},
		{"timestamp wins over originalTimestamp", `{"event":"x","userId":"u","timestamp":"` + ts + `","originalTimestamp":"2020-01-01T00:00:00Z"}`,
			time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC)},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := event.ParseCall(event.Track, []byte(c.body), testMeta(), event.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if !e.Timestamp.Equal(c.want) || e.Timestamp.Location() != time.UTC {
				t.Errorf("timestamp %s, want %s", e.Timestamp, c.want)
			}
			if e.ReceivedAt != received {
				t.Errorf("receivedAt %s", e.ReceivedAt)
			}
		})
	}

	t.Run("original timestamp and sentAt are kept", func(t *testing.T) {
		e, err := event.ParseCall(event.Track, []byte(`{"event":"x","userId":"u","timestamp":"2025-03-01T18:00:00+07:00","sentAt":"2025-03-01T12:10:00Z"}`), testMeta(), event.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		wantEq(t, "originalTimestamp", e.OriginalTimestamp, time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC))
		wantEq(t, "sentAt", e.SentAt, time.Date(2025, 3, 1, 12, 10, 0, 0, time.UTC))
	})

	t.Run("skew correction can bring a future timestamp into bounds", func(t *testing.T) {
		// The client's clock is two days fast: its timestamp looks far in
		// the future, but sentAt shows the clock, not the event, is off.
		_, err := event.ParseCall(event.Track, []byte(`{"event":"x","userId":"u","timestamp":"2025-03-03T11:00:00Z","sentAt":"2025-03-03T12:00:00Z"}`), testMeta(), event.Limits{})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("batch sentAt applies to events without their own", func(t *testing.T) {
		b, err := event.ParseBatch([]byte(`{"batch":[
			{"type":"track","event":"a","userId":"u","timestamp":"`+ts+`"},
			{"type":"track","event":"b","userId":"u","timestamp":"`+ts+`","sentAt":"2025-03-01T11:55:00Z"}
		],"sentAt":"2025-03-01T12:10:00Z"}`), testMeta(), event.Limits{})
		if err != nil || len(b.Events) != 2 {
			t.Fatalf("%v %+v", err, b.Rejected)
		}
		wantEq(t, "batch sentAt", b.Events[0].Timestamp, time.Date(2025, 3, 1, 10, 50, 0, 0, time.UTC))
		wantEq(t, "own sentAt", b.Events[1].Timestamp, time.Date(2025, 3, 1, 11, 5, 0, 0, time.UTC))
	})
}

// TestParseBatchMixed: valid events are kept, each invalid one is
// rejected with its reason, its index and its exact bytes.
func TestParseBatchMixed(t *testing.T) {
	raw, err := os.ReadFile("testdata/mixed-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	b, err := event.ParseBatch(raw, testMeta(), event.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range b.Events {
		got = append(got, e.MessageID)
	}
	if strings.Join(got, ",") != "m1,m10" {
		t.Errorf("kept %v, want m1,m10", got)
	}
	want := []struct {
		index  int
		reason string
	}{
		{1, "track call without event name"},
		{2, "no identifier: userId or anonymousId is required"},
		{3, "timestamp 2031-01-01T00:00:00Z is more than 24h in the future"},
		{4, "properties.items[0].a.b.c: nesting deeper than 5"},
		{5, "event must be a string, not a number"},
		{6, `unknown type "bogus"`},
		{7, "an event must be a JSON object, not a string"},
		{8, "traits: empty key"},
		{9, `timestamp "yesterday" is not an ISO-8601 time`},
		{11, "alias call without previousId"},
		{12, "group call without groupId"},
		{13, `duplicate key "userId"`},
	}
	if len(b.Rejected) != len(want) {
		t.Fatalf("%d rejected, want %d: %+v", len(b.Rejected), len(want), b.Rejected)
	}
	// The raw bytes of each element, to compare the quarantined copies with.
	var elems struct{ Batch []json.RawMessage }
	if err := json.Unmarshal(raw, &elems); err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		r := b.Rejected[i]
		if r.Index != w.index || r.Reason != w.reason {
			t.Errorf("rejected[%d] = %d %q, want %d %q", i, r.Index, r.Reason, w.index, w.reason)
		}
		if string(r.Raw) != string(elems.Batch[w.index]) {
			t.Errorf("rejected[%d] raw %s, want %s", i, r.Raw, elems.Batch[w.index])
		}
	}
	// The batch context reached the kept events.
	for _, e := range b.Events {
		lib, _ := e.Context["library"].(map[string]any)
		if lib["name"] != "trek-test" || e.Context["ip"] != "198.51.100.7" {
			t.Errorf("%s: context %v", e.MessageID, e.Context)
		}
	}
}

func TestParseBatchMalformed(t *testing.T) {
	three := event.Limits{MaxBatchEvents: 3}
	ev := `{"type":"track","event":"x","userId":"u"}`
	big := `{"batch":[{"type":"track","event":"x","userId":"u","properties":{"p":"` + strings.Repeat("x", 600<<10) + `"}}]}`
	for _, c := range []struct {
		name string
		body string
		lim  event.Limits
		code fault.Code
		msg  string
	}{
		{"not JSON", `batch=1`, event.Limits{}, fault.Invalid, "malformed JSON at line 1, column 1: expected a value, found 'b'"},
		{"empty", ``, event.Limits{}, fault.Invalid, "the body is empty; a JSON object is expected"},
		{"a list", `[` + ev + `]`, event.Limits{}, fault.Invalid, "the body must be a JSON object with a batch list, not a list"},
		{"no batch", `{"sentAt":"2025-03-01T12:00:00Z"}`, event.Limits{}, fault.Invalid, "the body has no batch list"},
		{"empty object", `{}`, event.Limits{}, fault.Invalid, "the body has no batch list"},
		{"batch not a list", `{"batch":{"type":"track"}}`, event.Limits{}, fault.Invalid, "batch must be a list of events, not an object"},
		{"batch null", `{"batch":null}`, event.Limits{}, fault.Invalid, "batch must be a list of events, not null"},
		{"batch twice", `{"batch":[],"batch":[]}`, event.Limits{}, fault.Invalid, `the body has "batch" twice`},
		{"too many events", `{"batch":[` + strings.Repeat(ev+",", 3) + ev + `]}`, three, fault.Invalid, "the batch has more than 3 events"},
		{"too many events even when the rest is garbage", `{"batch":[1,2,3,4 garbage`, three, fault.Invalid, "the batch has more than 3 events"},
		{"over the batch size", big, event.Limits{}, fault.TooLarge, fmt.Sprintf("the batch is %d bytes; at most 512000 are allowed", len(big))},
		{"trailing comma in the list", `{"batch":[` + ev + `,]}`, event.Limits{}, fault.Invalid, "malformed JSON at line 1, column 53: expected a value, found ']'"},
		{"syntax error inside an event", `{"batch":[{"type":"track" "event":"x"}]}`, event.Limits{}, fault.Invalid, `malformed JSON at line 1, column 27: expected ',' or '}' after an object member, found '"'`},
		{"invalid UTF-8 inside an event", "{\"batch\":[{\"type\":\"track\",\"event\":\"\xff\",\"userId\":\"u\"}]}", event.Limits{}, fault.Invalid, "malformed JSON at line 1, column 36: invalid UTF-8 in a string"},
		{"lone surrogate inside an event", `{"batch":[{"type":"track","event":"\udfff","userId":"u"}]}`, event.Limits{}, fault.Invalid, `malformed JSON at line 1, column 36: lone surrogate \uDFFF in a string is not a character`},
		{"batch sentAt of wrong type", `{"batch":[],"sentAt":5}`, event.Limits{}, fault.Invalid, "the batch's sentAt must be an ISO-8601 string, not a number"},
		{"batch sentAt not a time", `{"batch":[],"sentAt":"soon"}`, event.Limits{}, fault.Invalid, `the batch's sentAt "soon" is not an ISO-8601 time`},
		{"batch context not an object", `{"batch":[],"context":[]}`, event.Limits{}, fault.Invalid, "the batch's context must be an object, not a list"},
		{"batch context too deep", `{"batch":[],"context":{"a":{"b":{"c":{"d":{"e":{}}}}}}}`, event.Limits{}, fault.Invalid, "the batch's context.a.b.c.d.e: nesting deeper than 5"},
		{"writeKey of wrong type", `{"batch":[],"writeKey":1}`, event.Limits{}, fault.Invalid, "writeKey must be a string, not a number"},
		{"data after the object", `{"batch":[]}]`, event.Limits{}, fault.Invalid, "malformed JSON at line 1, column 13: unexpected data after the JSON document"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := event.ParseBatch([]byte(c.body), testMeta(), c.lim)
			fe, ok := fault.As(err)
			if !ok {
				t.Fatalf("err %v, want a *fault.Error", err)
			}
			if fe.Code != c.code || fe.Message != c.msg {
				t.Fatalf("got %s %q\nwant %s %q", fe.Code, fe.Message, c.code, c.msg)
			}
		})
	}
}

func TestParseBatchEdges(t *testing.T) {
	t.Run("empty batch is accepted and empty", func(t *testing.T) {
		b, err := event.ParseBatch([]byte(` { "batch" : [ ] } `), testMeta(), event.Limits{})
		if err != nil || len(b.Events) != 0 || len(b.Rejected) != 0 {
			t.Fatalf("%v %+v", err, b)
		}
	})
	t.Run("an oversize event rejects only itself", func(t *testing.T) {
		second := `{"type":"track","event":"b","userId":"u","properties":{"p":"` + strings.Repeat("x", 40<<10) + `"}}`
		body := `{"batch":[{"type":"track","event":"a","userId":"u"},` + second + `]}`
		b, err := event.ParseBatch([]byte(body), testMeta(), event.Limits{})
		if err != nil || len(b.Events) != 1 || len(b.Rejected) != 1 {
			t.Fatalf("%v: %d kept, %d rejected", err, len(b.Events), len(b.Rejected))
		}
		if r := b.Rejected[0]; r.Index != 1 || r.Reason != fmt.Sprintf("the event is %d bytes; at most 32768 are allowed", len(second)) || string(r.Raw) != second {
			t.Errorf("%d %q", r.Index, r.Reason)
		}
	})
	t.Run("write key from the body", func(t *testing.T) {
		b, err := event.ParseBatch([]byte(`{"writeKey":"wk_1","batch":[]}`), testMeta(), event.Limits{})
		if err != nil || b.WriteKey != "wk_1" {
			t.Fatalf("%v %q", err, b.WriteKey)
		}
	})
	t.Run("batch context merged, the event's own keys win", func(t *testing.T) {
		b, err := event.ParseBatch([]byte(`{"batch":[
			{"type":"track","event":"a","userId":"u","context":{"locale":"el-GR"}},
			{"type":"track","event":"b","userId":"u"}
		],"context":{"locale":"en-US","library":{"name":"lib"}}}`), testMeta(), event.Limits{})
		if err != nil || len(b.Events) != 2 {
			t.Fatalf("%v %+v", err, b.Rejected)
		}
		wantEq(t, "own locale", b.Events[0].Context["locale"], any("el-GR"))
		wantEq(t, "batch locale", b.Events[1].Context["locale"], any("en-US"))
		// Each event has its own copy: changing one leaves the other alone.
		b.Events[0].Context["library"].(map[string]any)["name"] = "changed"
		wantEq(t, "other event's library", b.Events[1].Context["library"].(map[string]any)["name"], any("lib"))
	})
	t.Run("generated messageIds are distinct by default", func(t *testing.T) {
		m := testMeta()
		m.NewID = nil
		b, err := event.ParseBatch([]byte(`{"batch":[{"type":"track","event":"a","userId":"u"},{"type":"track","event":"a","userId":"u"}]}`), m, event.Limits{})
		if err != nil || len(b.Events) != 2 {
			t.Fatal(err)
		}
		a, c := b.Events[0].MessageID, b.Events[1].MessageID
		if len(a) != 36 || a[14] != '4' || a == c {
			t.Errorf("messageIds %q %q: want two random UUIDs", a, c)
		}
	})
	t.Run("zero ReceivedAt means now", func(t *testing.T) {
		before := time.Now()
		e, err := event.ParseCall(event.Track, []byte(`{"event":"a","userId":"u"}`), event.Meta{SourceChannel: "web"}, event.Limits{})
		if err != nil || e.ReceivedAt.Before(before.Add(-time.Second)) || e.ReceivedAt.Location() != time.UTC {
			t.Fatalf("%v %s", err, e.ReceivedAt)
		}
	})
}

// TestChannel: context.channel when it is a trek channel, else the
// source's, else a top-level channel, else "other".
func TestChannel(t *testing.T) {
	for _, c := range []struct {
		name, body, source, want string
	}{
		{"source channel", `{"event":"x","userId":"u"}`, "store", "store"},
		{"context channel wins", `{"event":"x","userId":"u","context":{"channel":"call_centre"}}`, "crm", "call_centre"},
		{"unknown context channel ignored", `{"event":"x","userId":"u","context":{"channel":"fax"}}`, "crm", "crm"},
		{"library's top-level channel does not override the source", `{"event":"x","userId":"u","channel":"web"}`, "call_centre", "call_centre"},
		{"top-level channel when the source has none", `{"event":"x","userId":"u","channel":"mobile"}`, "", "mobile"},
		{"server is not a trek channel", `{"event":"x","userId":"u","channel":"server"}`, "", "other"},
		{"nothing known", `{"event":"x","userId":"u"}`, "", "other"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := testMeta()
			m.SourceChannel = c.source
			e, err := event.ParseCall(event.Track, []byte(c.body), m, event.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			wantEq(t, "channel", e.Channel, c.want)
		})
	}
}

func TestWriteKeyOf(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{`{"batch":[{"writeKey":"inner"}],"writeKey":"wk_outer"}`, "wk_outer"},
		{` {"writeKey" : "wk\u005f1"}`, "wk_1"},
		{`{"event":"x","userId":"u"}`, ""},
		{`{"writeKey":5}`, ""},
		{`{"writeKeys":"no"}`, ""},
		{`[{"writeKey":"no"}]`, ""},
		{`{"writeKey":"a"`, "a"},
		{`{"a":tru,"writeKey":"a"}`, ""},
		{``, ""},
	} {
		if got := event.WriteKeyOf([]byte(c.body)); got != c.want {
			t.Errorf("WriteKeyOf(%s) = %q, want %q", c.body, got, c.want)
		}
	}
}

// TestParseBatchGolden renders the normalised result of each fixture
// batch (as sent by analytics-node, analytics.js, RudderStack's SDKs, and
// a mix of good and bad events); -update rewrites the golden files.
func TestParseBatchGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*-batch.json")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			b, err := event.ParseBatch(raw, testMeta(), event.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			for i := range b.Events {
				if err := event.Validate(&b.Events[i], event.Limits{}); err != nil {
					t.Errorf("event %d does not validate: %v", i, err)
				}
			}
			ids := event.IdentifierRules{TraitKeys: event.DefaultTraitKeys}
			type row struct {
				Event       event.Event        `json:"event"`
				Identifiers []event.Identifier `json:"identifiers"`
			}
			out := struct {
				Events   []row            `json:"events"`
				Rejected []event.Rejected `json:"rejected"`
				WriteKey string           `json:"writeKey"`
			}{Rejected: b.Rejected, WriteKey: b.WriteKey}
			for _, e := range b.Events {
				out.Events = append(out.Events, row{e, ids.Identifiers(&e)})
			}
			got, err := json.MarshalIndent(out, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestParseBatchGolden -update to create it)", err)
			}
			if strings.TrimSpace(string(want)) != string(got) {
				t.Errorf("%s differs from the parse; run with -update if the change is meant:\n%s", golden, got)
			}
		})
	}
}

func wantEq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func equalJSON(a, b any) bool { return mustJSON(a) == mustJSON(b) }

// TestParseConcurrently: parsers share pooled scratch space, never a
// result: goroutines parsing at once get what one alone gets (run with
// -race).
func TestParseConcurrently(t *testing.T) {
	raw := realisticBatch(20, 5)
	want, err := event.ParseBatch(raw, benchMeta(), event.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := mustJSON(want)
	single := raw[len(`{"batch":[`) : bytes.Index(raw, []byte(`},{`))+1]
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for range 20 {
				b, err := event.ParseBatch(raw, benchMeta(), event.Limits{})
				if err != nil || mustJSON(b) != wantJSON {
					errs <- fmt.Errorf("goroutine %d: batch differs (%v)", g, err)
					return
				}
				if _, err := event.ParseEvent(single, event.Track, benchMeta(), event.Limits{}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
