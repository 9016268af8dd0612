package event_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/trekhq/trek/internal/event"
)

func TestCanonicalEmail(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"  Lan.Nguyen@Example.VN ", "lan.nguyen@example.vn"},
		{"ΕΛΕΝΗ@example.gr", "ελενη@example.gr"},
		{"Łukasz@Przykład.PL", "łukasz@przykład.pl"},
		{"\tplain@example.com\n", "plain@example.com"},
		{"   ", ""},
	} {
		if got := event.CanonicalID("email", c.in); got != c.want {
			t.Errorf("email %q → %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCanonicalPhone(t *testing.T) {
	for _, c := range []struct {
		name, region, in, want string
	}{
		{"Vietnam international", "", "+84 90 123 4567", "+84901234567"},
		{"Vietnam national with region", "VN", "090 123 4567", "+84901234567"},
		{"Vietnam national with lower-case region", "vn", "0901234567", "+84901234567"},
		{"Vietnam landline Hanoi", "VN", "024 3825 1234", "+842438251234"},
		{"Greece international", "", "+30 691 234 5678", "+306912345678"},
		{"Greece national with region", "GR", "691 234 5678", "+306912345678"},
		{"Greece 00 prefix", "GR", "0030 210 123 4567", "+302101234567"},
		{"Poland international", "", "+48 601 234 567", "+48601234567"},
		{"Poland national with dashes", "PL", "601-234-567", "+48601234567"},
		{"Poland 00 prefix", "PL", "0048 601 234 567", "+48601234567"},
		{"international wins over region", "PL", "+84 90 123 4567", "+84901234567"},
		{"national without region keeps digits", "", "090 123 4567", "0901234567"},
		{"unparseable keeps digits and plus", "", "+(999) 12-34", "+9991234"},
		{"no digits kept as text", "", " call me ", "call me"},
		{"blank", "VN", "  ", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := event.IdentifierRules{DefaultRegion: c.region}
			if got := r.Canonical("phone", c.in); got != c.want {
				t.Errorf("phone %q (region %q) → %q, want %q", c.in, c.region, got, c.want)
			}
		})
	}
}

func TestCanonicalOtherKindsKeepCase(t *testing.T) {
	for _, kind := range []string{"userId", "anonymousId", "crm_id"} {
		if got := event.CanonicalID(kind, "  AbC-123 "); got != "AbC-123" {
			t.Errorf("%s → %q, want trimmed and case kept", kind, got)
		}
	}
}

func TestIdentifiers(t *testing.T) {
	keys := []string{"email", "phone", "crm_id"}
	for _, c := range []struct {
		name string
		e    event.Event
		want []event.Identifier
	}{
		{"userId then anonymousId", event.Event{Type: event.Track, UserID: "u1", AnonymousID: "a1"},
			[]event.Identifier{{"userId", "u1"}, {"anonymousId", "a1"}}},
		{"identify traits", event.Event{Type: event.Identify, UserID: "u1",
			Traits: map[string]any{"email": " A@B.CO ", "phone": "+48 601 234 567", "crm_id": json.Number("991"), "name": "Ann"}},
			[]event.Identifier{{"userId", "u1"}, {"email", "a@b.co"}, {"phone", "+48601234567"}, {"crm_id", "991"}}},
		{"context traits on any call", event.Event{Type: event.Track, AnonymousID: "a1",
			Context: map[string]any{"traits": map[string]any{"email": "x@y.z"}}},
			[]event.Identifier{{"anonymousId", "a1"}, {"email", "x@y.z"}}},
		{"a group call's traits are the group's", event.Event{Type: event.Group, UserID: "u1", GroupID: "g",
			Traits: map[string]any{"email": "billing@org.example"}},
			[]event.Identifier{{"userId", "u1"}}},
		{"same value in traits and context.traits once", event.Event{Type: event.Identify, UserID: "u1",
			Traits:  map[string]any{"email": "a@b.co"},
			Context: map[string]any{"traits": map[string]any{"email": "A@B.CO"}}},
			[]event.Identifier{{"userId", "u1"}, {"email", "a@b.co"}}},
		{"blank and non-string traits skipped", event.Event{Type: event.Identify, AnonymousID: "a1",
			Traits: map[string]any{"email": "  ", "phone": true, "crm_id": json.Number("1.5")}},
			[]event.Identifier{{"anonymousId", "a1"}}},
		{"blank userId skipped", event.Event{Type: event.Track, UserID: " ", AnonymousID: "a1"},
			[]event.Identifier{{"anonymousId", "a1"}}},
		{"alias previousId is not among them", event.Event{Type: event.Alias, UserID: "u1", PreviousID: "anon"},
			[]event.Identifier{{"userId", "u1"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := event.Identifiers(c.e, keys)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v\nwant %v", got, c.want)
			}
		})
	}

	t.Run("no trait keys means ids only", func(t *testing.T) {
		e := event.Event{Type: event.Identify, UserID: "u1", Traits: map[string]any{"email": "a@b.co"}}
		if got := event.Identifiers(e, nil); !reflect.DeepEqual(got, []event.Identifier{{"userId", "u1"}}) {
			t.Errorf("got %v", got)
		}
	})
	t.Run("default region applies to traits", func(t *testing.T) {
		r := event.IdentifierRules{TraitKeys: event.DefaultTraitKeys, DefaultRegion: "VN"}
		e := event.Event{Type: event.Identify, UserID: "u1", Traits: map[string]any{"phone": "0901234567"}}
		want := []event.Identifier{{"userId", "u1"}, {"phone", "+84901234567"}}
		if got := r.Identifiers(&e); !reflect.DeepEqual(got, want) {
			t.Errorf("got %v", got)
		}
	})
}

// BenchmarkIdentifiers: an identify call with an email and a phone, the
// costly case (phone parsing); track calls skip the traits.
func BenchmarkIdentifiers(b *testing.B) {
	r := event.IdentifierRules{TraitKeys: event.DefaultTraitKeys, DefaultRegion: "VN"}
	e := event.Event{Type: event.Identify, UserID: "u1", AnonymousID: "a1",
		Traits: map[string]any{"email": "Lan.Nguyen@Example.VN", "phone": "090 123 4567"}}
	b.ReportAllocs()
	for b.Loop() {
		if len(r.Identifiers(&e)) != 4 {
			b.Fatal("want 4 identifiers")
		}
	}
}

// TestAppendIdentifiersKeepsWhatTheSliceHeld: the identifiers of an event
// go after what the slice held, and only repeats within the event are
// left out.
func TestAppendIdentifiersKeepsWhatTheSliceHeld(t *testing.T) {
	r := event.IdentifierRules{TraitKeys: []string{"email"}}
	held := []event.Identifier{{Kind: "userId", Value: "u1"}}
	e := &event.Event{Type: event.Identify, UserID: "u1", AnonymousID: "a1", Traits: map[string]any{"email": " Ann@Example.com"},
		Context: map[string]any{"traits": map[string]any{"email": "ann@example.com"}}}
	got := r.AppendIdentifiers(held, e)
	want := []event.Identifier{{Kind: "userId", Value: "u1"}, {Kind: "userId", Value: "u1"}, {Kind: "anonymousId", Value: "a1"}, {Kind: "email", Value: "ann@example.com"}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if fresh := r.Identifiers(e); !slices.Equal(fresh, want[1:]) {
		t.Errorf("Identifiers gives %v, want %v", fresh, want[1:])
	}
}
