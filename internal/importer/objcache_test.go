package importer

import (
	"reflect"
	"strings"
	"testing"

	"github.com/trekhq/trek/internal/event"
)

// decodeObject decodes text as an event's top-level object (properties or
// context) the way the NDJSON parser does, with or without a cache.
func decodeObject(text string, objs *objectCache) (map[string]any, bool, error) {
	lim := event.DefaultLimits()
	d := jsonDecoder{in: newInterner(), lim: &lim, objs: objs}
	d.reset([]byte(text))
	d.cut = true
	m, err := d.object()
	return m, d.bad, err
}

// sameAsFresh checks that decoding text through a cache, twice (the second
// time from the cache), gives what decoding it without one gives.
func sameAsFresh(t *testing.T, text string) {
	t.Helper()
	want, wantBad, wantErr := decodeObject(text, nil)
	objs := &objectCache{m: map[string]cachedObject{}}
	for round := range 2 {
		got, bad, err := decodeObject(text, objs)
		if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Fatalf("round %d of %q: error %v, want %v", round, text, err, wantErr)
		}
		if bad != wantBad {
			t.Fatalf("round %d of %q: bad %v, want %v", round, text, bad, wantBad)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d of %q: %#v, want %#v", round, text, got, want)
		}
	}
}

func TestSharedObjectsDecodeAsFreshOnes(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 12) + "1" + strings.Repeat("}", 12)
	many := "{" + strings.Repeat(`"k":1,`, 10) + `"last":2}`
	var props []string
	for i := range 300 {
		props = append(props, `"p`+strings.Repeat("x", i%7)+string(rune('a'+i%26))+`":1`)
	}
	for _, text := range []string{
		`{}`,
		`{"library":{"name":"analytics.js","version":"2.11.1"},"os":{"name":"iOS"},"ip":"192.0.2.1"}`,
		`{"a":"\u00e9\n","b":[1,2,{"c":null}],"d":true,"e":-1.5e3}`,
		`{"dup":1,"dup":{"x":2}}`,
		`{"bad key\u0000":1}`,
		`{"nested":` + deep + `}`,
		strings.Repeat(`{"a":`, 70) + "1" + strings.Repeat("}", 70),
		`{"a":` + strings.Repeat(`[`, 70) + "1" + strings.Repeat("]", 70) + `}`,
		many,
		"{" + strings.Join(props, ",") + "}",
		`{"long":"` + strings.Repeat("v", 600) + `"}`,
		`{"a":{"b":1},"c":{"b":1}}`,
		`{"unterminated":{"x":1}`,
		`{"x":{"y":tru}}`,
	} {
		sameAsFresh(t, text)
	}
}

// TestAnObjectIsSharedOnlyAtTheDepthItWasCheckedAt: the value rules count
// depth, so the same text met deeper is decoded and checked again.
func TestAnObjectIsSharedOnlyAtTheDepthItWasCheckedAt(t *testing.T) {
	objs := &objectCache{m: map[string]cachedObject{}}
	inner := `{"k":1}`
	if _, _, err := decodeObject(`{"a":`+inner+`}`, objs); err != nil {
		t.Fatal(err)
	}
	// Keys start with the depth of the object's parent: 0 for the
	// top-level object, 1 for its members.
	if _, ok := objs.m["\x01"+inner]; !ok {
		t.Fatalf("the inner object was not kept as a member: %q", keysOf(objs.m))
	}
	if _, ok := objs.m["\x00"+inner]; ok {
		t.Fatal("the inner object was kept as a top-level object, which it was not")
	}
}

func keysOf(m map[string]cachedObject) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func FuzzSharedObjectsDecodeAsFreshOnes(f *testing.F) {
	f.Add(`{"library":{"name":"analytics.js"},"os":{"name":"iOS","version":"17"}}`)
	f.Add(`{"a":[{"b":{"c":1}}],"a":2}`)
	f.Add(`{"x\ud83d":"\ud83d\ude00"}`)
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) == 0 || text[0] != '{' {
			return
		}
		sameAsFresh(t, text)
	})
}

// decodeAt decodes text as decodeObject does, through objs, and also
// returns where the decoder stopped.
func decodeAt(text string, objs *objectCache) (map[string]any, bool, int, error) {
	lim := event.DefaultLimits()
	d := jsonDecoder{in: newInterner(), lim: &lim, objs: objs}
	d.reset([]byte(text))
	d.cut = true
	m, err := d.object()
	return m, d.bad, d.pos, err
}

// Objects decoded one after another through one cache, with whatever
// follows them, decode as fresh ones do and end where fresh ones end:
// the cache's guess at an object's length, right or wrong, changes
// nothing but the work.
func FuzzObjectsThroughOneCacheDecodeAsFreshOnes(f *testing.F) {
	f.Add(`{"a":1}`, `{"a":1},"b":2}`)
	f.Add(`{"channel":"web","library":{"name":"x"}}`, `{"channel":"web","library":{"name":"y"}}}`)
	f.Add(`{"a":"}"}`, `{"a":"}","b":1}`)
	f.Add(`{"k":{"x":1}}`, `{"k":{"x":1},"l":{"x":1}},`)
	f.Fuzz(func(t *testing.T, a, b string) {
		if !strings.HasPrefix(a, "{") || !strings.HasPrefix(b, "{") {
			return
		}
		objs := &objectCache{m: map[string]cachedObject{}}
		for i, text := range []string{a, b, a, b, b, a} {
			wantM, wantBad, wantPos, wantErr := decodeAt(text, nil)
			m, bad, pos, err := decodeAt(text, objs)
			if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
				t.Fatalf("text %d %q: error %v, want %v", i, text, err, wantErr)
			}
			if err != nil {
				continue
			}
			if bad != wantBad || pos != wantPos || !reflect.DeepEqual(m, wantM) {
				t.Fatalf("text %d %q: %#v bad %v at %d, want %#v bad %v at %d", i, text, m, bad, pos, wantM, wantBad, wantPos)
			}
		}
	})
}
