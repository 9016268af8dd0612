package importer

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
)

// TestParseISOMatchesTimeParse checks the hand-written time parser against
// time.Parse on random RFC 3339 times: every year, zone and fraction
// length.
func TestParseISOMatchesTimeParse(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	layouts := []string{time.RFC3339, time.RFC3339Nano, "2006-01-02T15:04:05.000Z07:00", "2006-01-02 15:04:05.999999Z07:00", "2006-01-02T15:04:05.000000000Z07:00"}
	for range 20000 {
		sec := rng.Int64N(253402300799+62135596800) - 62135596800 // years 0001 to 9999
		zone := time.FixedZone("", (rng.IntN(48)-24)*1800)
		tm := time.Unix(sec, rng.Int64N(1e9)).In(zone)
		s := tm.Format(layouts[rng.IntN(len(layouts))])
		want, err := time.Parse(time.RFC3339Nano, strings.Replace(s, " ", "T", 1))
		if err != nil {
			continue // years before 1000 are formatted in a way RFC 3339 does not parse
		}
		got, ok := parseISO([]byte(s), time.UTC)
		if !ok || !got.Equal(want) || got.Location() != time.UTC {
			t.Fatalf("%s: got %v %v, want %v", s, got, ok, want)
		}
	}
}

func TestParseISORefuses(t *testing.T) {
	for _, s := range []string{
		"", "2024", "2024-01", "2024-1-01", "2024-01-01T", "2024-01-01T10", "2024-01-01T10:00:", "2024-01-01T10:00:0",
		"2024-00-01", "2024-13-01", "2024-01-00", "2024-01-32", "2023-02-29", "2024-04-31", "2024-01-01T24:00:00Z",
		"2024-01-01T23:60:00Z", "2024-01-01T23:59:60Z", "2024-01-01T10:00:00.Z", "2024-01-01T10:00:00+1", "2024-01-01T10:00:00+24:00",
		"2024-01-01T10:00:00+01:60", "2024-01-01T10:00:00+01:0", "2024-01-01T10:00:00 PST", "2024-01-01X10:00:00Z", "２０２４-01-01",
		"2024-01-01T10:00:00Zjunk", "-024-01-01",
	} {
		if got, ok := parseISO([]byte(s), time.UTC); ok {
			t.Errorf("%q parsed as %v", s, got)
		}
	}
	if got, ok := parseISO([]byte("2024-02-29T00:00:00Z"), time.UTC); !ok || got.Day() != 29 {
		t.Errorf("leap day: %v %v", got, ok)
	}
}

// decodeStd decodes with encoding/json as the collection path does.
func decodeStd(b []byte) (any, error) {
	if !json.Valid(b) {
		return nil, json.Unmarshal(b, new(any)) // the syntax error
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// hasLoneSurrogate reports escapes that encoding/json would replace by
// U+FFFD and the importer refuses.
func hasLoneSurrogate(b []byte) bool {
	return bytes.Contains(bytes.ToLower(b), []byte(`\ud`))
}

// checkJSON compares the importer's JSON decoder with encoding/json: where
// both accept they agree, and the importer accepts whatever encoding/json
// does, except invalid text (which encoding/json replaces) and nesting past
// the importer's limit.
func checkJSON(t *testing.T, b []byte) {
	d := jsonDecoder{in: newInterner()}
	d.reset(b)
	got, err := d.value()
	if err == nil {
		err = d.end()
	}
	want, werr := decodeStd(b)
	switch {
	case err == nil && werr != nil:
		t.Fatalf("%q: accepted, encoding/json says %v", b, werr)
	case err == nil && !reflect.DeepEqual(got, want):
		t.Fatalf("%q: got %#v, want %#v", b, got, want)
	case err != nil && werr == nil && utf8.Valid(b) && !hasLoneSurrogate(b) && !strings.Contains(err.Error(), "nesting deeper"):
		t.Fatalf("%q: refused (%v), encoding/json accepts", b, err)
	}
}

func TestJSONDecoderMatchesEncodingJSON(t *testing.T) {
	for _, s := range jsonSeeds {
		checkJSON(t, []byte(s))
	}
}

var jsonSeeds = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `-0.5e-3`, `1E+2`, `true`, `false`, `null`, ` {"a" : [1, "x", null, {"b": false}] } `,
	`"\"\\\/\b\f\n\r\t\u00e9\u20AC\ud83d\ude00"`, `"naïve 日本 😀"`, `"a\u0000b"`, `{"a":1,"a":2}`,
	`"12345678901234567890"`, `"abcdefgh\"ijk"`, `"abcdefghij\\"`, `"abcdefghijklmnop\u0041"`,
	`01`, `1.`, `.5`, `+1`, `1e`, `--1`, `"\x"`, `"\u12"`, `"\ud800"`, `"\udc00\ud800"`, `{"a"}`, `{"a":}`, `[1,]`, `[1 2]`,
	`{"a":{"b":1,"c":[{"d":2,"e":{"f":3}},{"g":4}],"h":5},"i":{"a":1,"a":{"z":1}},"j":6}`,
	`{"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":{"x":[{},{"y":null}]},"k10":10,"k1":"again"}`,
	`{"a":{"b":1,"c":`, `{"a":[{"b":1},{"c":}]}`,
	`tru`, `nulll`, `"unterminated`, "\"tab\tinside\"", "\"\xff\"", "\"abcdefgh\xc3\"", `{"a":1}x`, `{"a":1} `,
}

// FuzzJSONDecoder runs the comparison on arbitrary input.
func FuzzJSONDecoder(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkJSON(t, b)
	})
}

// FuzzParseISO compares the time parser with time.Parse on the inputs
// both understand, and checks it never panics.
func FuzzParseISO(f *testing.F) {
	for _, s := range []string{"2024-01-01T00:00:00Z", "2024-02-29 23:59:59.999+05:30", "0001-01-01T00:00:00-23:59", "9999-12-31T23:59:59.999999999Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseISO([]byte(s), time.UTC)
		want, err := time.Parse(time.RFC3339Nano, s)
		if err == nil && rfc3339Shape(s) && (!ok || !got.Equal(want)) {
			t.Fatalf("%q: got %v %v, time.Parse %v", s, got, ok, want)
		}
	})
}

// rfc3339Shape reports whether s has RFC 3339's fixed-width fields
// (time.Parse also takes one-digit hours, which the importer refuses).
func rfc3339Shape(s string) bool {
	const shape = "dddd-dd-ddTdd:dd:dd"
	if len(s) < 20 {
		return false
	}
	for i := range len(shape) {
		if shape[i] == 'd' && (s[i] < '0' || s[i] > '9') || shape[i] != 'd' && s[i] != shape[i] {
			return false
		}
	}
	return true
}

// TestInterner checks that interned strings are equal to their input
// whatever collides, and that str copies.
func TestInterner(t *testing.T) {
	in := newInterner()
	for i := range 100000 {
		b := []byte(strings.Repeat("k", i%70) + string(rune('a'+i%26)))
		if s := in.bytes(b); s != string(b) {
			t.Fatalf("%q interned as %q", b, s)
		}
		if v := in.value(b); v != any(string(b)) {
			t.Fatalf("%q boxed as %v", b, v)
		}
	}
	line := "abc,def"
	s := in.str(line[4:])
	if s != "def" || unsafe.StringData(s) == unsafe.StringData(line[4:]) {
		t.Errorf("str(%q) = %q", line[4:], s)
	}
}

// TestValidateAgrees holds the importer's quick value walk to the verdict
// of event.Validate's full one, on values at and past every limit.
func TestValidateAgrees(t *testing.T) {
	lim := event.Limits{NoPastBound: true}.WithDefaults()
	nest := func(depth int, leaf any) map[string]any {
		m := map[string]any{"x": leaf}
		for range depth - 1 {
			m = map[string]any{"x": m}
		}
		return m
	}
	many := func(n int) map[string]any {
		m := map[string]any{}
		for i := range n {
			m[strconv.Itoa(i)] = i
		}
		return m
	}
	values := []map[string]any{
		nil, {}, {"a": "b", "n": json.Number("1.5"), "t": true, "z": nil, "f": 2.5, "l": []any{1.0, "x", nil}},
		nest(5, 1.0), nest(6, 1.0), nest(4, []any{1.0}), nest(5, []any{}), nest(5, []any{1.0}), nest(4, []any{[]any{1.0}}),
		many(250), many(251), {"": 1.0}, {strings.Repeat("k", 128): 1.0}, {strings.Repeat("k", 129): 1.0},
		{"a\x01": 1.0}, {"a\x7f": 1.0}, {"a\u0085": 1.0}, {"a\xff": 1.0}, {"ok.key:with-punct$": 1.0},
		{"s": "\xff"}, {"f": math.NaN()}, {"f": math.Inf(1)}, {"i": 3}, {"t": time.Now()}, {"m": map[string]string{}},
	}
	base := event.Event{MessageID: "m", Type: event.Track, Event: "E", UserID: "u", Channel: "web",
		Timestamp: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), ReceivedAt: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)}
	for i, v := range values {
		for _, field := range []string{"properties", "traits", "context"} {
			e := base
			switch field {
			case "properties":
				e.Properties = v
			case "traits":
				e.Traits = v
			case "context":
				e.Context = v
			}
			want := ""
			if err := event.Validate(&e, lim); err != nil {
				fe, _ := fault.As(err)
				want = fe.Message
			}
			if got := validate(&e, &lim, valuesChecked(&e, &lim)); got != want {
				t.Errorf("value %d in %s: got %q, want %q", i, field, got, want)
			}
		}
		// The JSON decoder's checks as it builds: the same verdict.
		text, err := json.Marshal(v)
		if err != nil || v == nil {
			continue
		}
		d := jsonDecoder{in: newInterner(), lim: &lim}
		d.reset(text)
		m, err := d.object()
		if err != nil {
			t.Fatalf("value %d: %v", i, err)
		}
		e := base
		e.Properties = m
		if full := event.Validate(&e, lim); (full == nil) != !d.bad {
			t.Errorf("value %d: decoder says bad=%v, event.Validate %v", i, d.bad, full)
		}
	}
}

// TestSwarStopsMatchesByteChecks holds the eight-byte test of attribute
// values to the byte loop's: a word stops the fast path exactly when one
// of its bytes is the quote or one valueSlow marks, whatever the byte, its
// place in the word and the other bytes.
func TestSwarStopsMatchesByteChecks(t *testing.T) {
	for _, q := range []byte{'"', '\''} {
		qq := swarOnes * uint64(q)
		for _, fill := range []byte{'a', ' ', '~', '0'} {
			for c := range 256 {
				for pos := range 8 {
					var w [8]byte
					for i := range w {
						w[i] = fill
					}
					w[pos] = byte(c)
					want := byte(c) == q || valueSlow[c]
					if got := swarStops(binary.LittleEndian.Uint64(w[:]), qq); got != want {
						t.Fatalf("quote %q, byte %#x at %d among %q: got %v, want %v", q, c, pos, fill, got, want)
					}
				}
			}
		}
	}
}
