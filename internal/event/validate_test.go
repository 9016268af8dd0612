package event_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
)

// TestValidate covers events built in Go (importers, the generator,
// replays), which meet the same rules as parsed ones.
func TestValidate(t *testing.T) {
	good := func() event.Event {
		return event.Event{
			MessageID: "m1", Type: event.Track, Event: "Order Completed", UserID: "u1", Channel: "store",
			Properties: map[string]any{"revenue": 19.5, "n": 3, "exact": json.Number("1.10"), "ok": true, "none": nil,
				"items": []any{map[string]any{"sku": "A"}}},
			Timestamp: received.Add(-time.Hour), ReceivedAt: received, SourceID: "src",
		}
	}
	for _, c := range []struct {
		name   string
		edit   func(e *event.Event)
		lim    event.Limits
		reason string
	}{
		{"good event", func(e *event.Event) {}, event.Limits{}, ""},
		{"unknown type", func(e *event.Event) { e.Type = "purchase" }, event.Limits{}, `unknown type "purchase"`},
		{"no messageId", func(e *event.Event) { e.MessageID = "" }, event.Limits{}, "no messageId"},
		{"no event name", func(e *event.Event) { e.Event = "" }, event.Limits{}, "track call without event name"},
		{"no identifier", func(e *event.Event) { e.UserID = "" }, event.Limits{}, "no identifier: userId or anonymousId is required"},
		{"unknown channel", func(e *event.Event) { e.Channel = "fax" }, event.Limits{},
			`channel "fax" is not one of web, mobile, call_centre, store, email, ads, social, chat, partner, crm, other`},
		{"no channel", func(e *event.Event) { e.Channel = "" }, event.Limits{},
			`channel "" is not one of web, mobile, call_centre, store, email, ads, social, chat, partner, crm, other`},
		{"no timestamp", func(e *event.Event) { e.Timestamp = time.Time{} }, event.Limits{}, "no timestamp"},
		{"far past", func(e *event.Event) { e.Timestamp = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC) }, event.Limits{},
			"timestamp 2001-01-01T00:00:00Z is more than 3650 days in the past"},
		{"far past allowed for imports", func(e *event.Event) { e.Timestamp = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC) },
			event.Limits{NoPastBound: true}, ""},
		{"no receivedAt: no bounds", func(e *event.Event) {
			e.ReceivedAt = time.Time{}
			e.Timestamp = time.Date(1901, 1, 1, 0, 0, 0, 0, time.UTC)
		},
			event.Limits{}, ""},
		{"invalid UTF-8 in a name", func(e *event.Event) { e.Event = "caf\xe9" }, event.Limits{}, "event name is not valid UTF-8"},
		{"invalid UTF-8 in a property", func(e *event.Event) { e.Properties["s"] = "\xff" }, event.Limits{}, "properties.s: invalid UTF-8"},
		{"invalid UTF-8 in a key", func(e *event.Event) { e.Properties["\xff"] = 1 }, event.Limits{}, `properties: key "\xff" is not valid UTF-8`},
		{"NaN", func(e *event.Event) { e.Properties["x"] = math.NaN() }, event.Limits{}, "properties.x: not a finite number"},
		{"infinity in a list", func(e *event.Event) { e.Properties["l"] = []any{1, math.Inf(1)} }, event.Limits{}, "properties.l[1]: not a finite number"},
		{"not a JSON number", func(e *event.Event) { e.Properties["x"] = json.Number("0x10") }, event.Limits{}, `properties.x: "0x10" is not a JSON number`},
		{"a Go type JSON cannot hold", func(e *event.Event) { e.Traits = map[string]any{"at": time.Time{}} }, event.Limits{},
			"traits.at: a time.Time cannot be stored; use a string, number, boolean, object or list"},
		{"nested too deep", func(e *event.Event) {
			e.Context = map[string]any{"a": map[string]any{"b": []any{[]any{[]any{[]any{1}}}}}}
		}, event.Limits{}, "context.a.b[0][0][0]: nesting deeper than 5"},
		{"too many keys", func(e *event.Event) {}, event.Limits{MaxProperties: 5}, "properties: more than 5 keys"},
		{"key rules", func(e *event.Event) { e.Properties["bad\x00key"] = 1 }, event.Limits{}, `properties: key "bad\x00key" contains a control character`},
		{"quoted path for odd keys", func(e *event.Event) { e.Properties["a b"] = map[string]any{"c": "\xff"} }, event.Limits{}, `properties["a b"].c: invalid UTF-8`},
		{"the first problem by path is reported", func(e *event.Event) {
			e.Properties["z"] = math.NaN()
			e.Properties["b"] = math.Inf(-1)
			e.Properties["m"] = "\xff"
		}, event.Limits{}, "properties.b: not a finite number"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := good()
			c.edit(&e)
			err := event.Validate(&e, c.lim)
			if c.reason == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			fe, ok := fault.As(err)
			if !ok || fe.Code != fault.Invalid || fe.Message != c.reason {
				t.Fatalf("got %v\nwant %q", err, c.reason)
			}
		})
	}
}

func TestLimitsDefaults(t *testing.T) {
	d := event.DefaultLimits()
	want := event.Limits{MaxEventBytes: 32 << 10, MaxBatchBytes: 500 << 10, MaxBatchEvents: 2500, MaxProperties: 250,
		MaxDepth: 5, MaxNameLen: 200, MaxIDLen: 256, FutureBound: 24 * time.Hour, PastBound: 3650 * 24 * time.Hour}
	if d != want {
		t.Errorf("defaults %+v\nwant %+v", d, want)
	}
}

func TestChannelsAreKnown(t *testing.T) {
	for _, c := range event.Channels {
		if !event.KnownChannel(c) {
			t.Errorf("%s listed but not known", c)
		}
	}
	if event.KnownChannel("Web") || event.KnownChannel("") || strings.Join(event.Channels, ",") == "" {
		t.Error("channels are exact lower-case names")
	}
}
