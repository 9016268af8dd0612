package event

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestBoxedValues: strings and numbers boxed through the slab behave as
// ordinary interface values in type switches, reflection, comparison and
// encoding, and survive garbage collections after the builder is gone.
func TestBoxedValues(t *testing.T) {
	lim := DefaultLimits()
	var vals []any
	for i := range 2000 {
		p := newBuilder([]byte(`["s`+strings.Repeat("x", i%50)+`",12.5e3]`), &lim)
		v, _, ferr := p.value(0, 1)
		if ferr != nil {
			t.Fatal(ferr.reason())
		}
		vals = append(vals, v.([]any)...)
	}
	for range 3 {
		runtime.GC()
	}
	for i := 0; i < len(vals); i += 2 {
		s, ok := vals[i].(string)
		want := "s" + strings.Repeat("x", (i/2)%50)
		if !ok || s != want || vals[i] != any(want) || reflect.TypeOf(vals[i]) != reflect.TypeFor[string]() {
			t.Fatalf("value %d: %#v, want %q", i, vals[i], want)
		}
		n, ok := vals[i+1].(json.Number)
		if !ok || n != "12.5e3" || !reflect.DeepEqual(vals[i+1], any(json.Number("12.5e3"))) {
			t.Fatalf("value %d: %#v", i+1, vals[i+1])
		}
		if _, ok := vals[i+1].(string); ok {
			t.Fatal("a json.Number must not pass as a string")
		}
	}
	out, err := json.Marshal(vals[:4])
	if err != nil || string(out) != `["s",12.5e3,"sx",12.5e3]` {
		t.Fatalf("%s %v", out, err)
	}
}

// TestPlain8 checks the eight-byte test against the byte table.
func TestPlain8(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	interesting := []byte{0, 0x1f, 0x20, '!', '"', '#', '[', '\\', ']', 0x7e, 0x7f, 0x80, 0xc3, 0xff, 'a'}
	var w [8]byte
	for range 200000 {
		for j := range w {
			if r.IntN(3) == 0 {
				w[j] = interesting[r.IntN(len(interesting))]
			} else {
				w[j] = byte(0x20 + r.IntN(0x60))
			}
		}
		want := true
		for _, c := range w {
			want = want && plain[c]
		}
		if got := plain8(binary.LittleEndian.Uint64(w[:])); got != want {
			t.Fatalf("plain8(%q) = %v, want %v", w, got, want)
		}
	}
}

// TestScannerAgreesWithEncodingJSON compares the scanner and the builder
// with encoding/json on many generated documents: the scanner accepts
// exactly what encoding/json accepts, less invalid UTF-8 and lone
// surrogates, and the builder makes the same values.
func TestScannerAgreesWithEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	lim := Limits{MaxDepth: 64, MaxProperties: 1 << 20}.WithDefaults()
	n := 20000
	if testing.Short() {
		n = 3000
	}
	for range n {
		doc := genJSON(r, 0)
		if r.IntN(3) == 0 {
			doc = mutate(r, doc)
		}
		sc := scanner{b: doc}
		start := skipWS(doc, 0)
		var serr *syntaxError
		end := start
		if start == len(doc) {
			serr = sc.eof()
		} else if end, serr = sc.skip(start); serr == nil && skipWS(doc, end) != len(doc) {
			serr = sc.fail(end, "unexpected data after the JSON document")
		}
		stdOK := json.Valid(doc) && utf8.Valid(doc)
		switch {
		case serr == nil && !stdOK:
			t.Fatalf("scanner accepts %q, encoding/json does not", doc)
		case serr != nil && stdOK && !strings.Contains(serr.msg, "surrogate"):
			t.Fatalf("scanner refuses %q (%s at %d), encoding/json accepts it", doc, serr.msg, serr.off)
		}
		if serr != nil {
			continue
		}
		p := newBuilder(doc[start:end], &lim)
		got, _, ferr := p.value(0, 1)
		if ferr != nil {
			if strings.Contains(ferr.msg, "duplicate") || strings.Contains(ferr.msg, "key") {
				continue // encoding/json lets the last duplicate win; keys with control characters are trek's rule
			}
			t.Fatalf("builder: %s on %q", ferr.reason(), doc)
		}
		var want any
		dec := json.NewDecoder(bytes.NewReader(doc))
		dec.UseNumber()
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("builder made %#v from %q, encoding/json %#v", got, doc, want)
		}
	}
}

// genJSON makes a random JSON document rich in the hard parts: escapes,
// surrogate pairs, multi-byte text, numbers in every form, white space.
func genJSON(r *rand.Rand, depth int) []byte {
	ws := func() string { return []string{"", "", " ", "\n", "\t ", "\r\n"}[r.IntN(6)] }
	switch k := r.IntN(10); {
	case k < 2 && depth < 6:
		var b bytes.Buffer
		b.WriteString("{" + ws())
		for i := range r.IntN(4) {
			if i > 0 {
				b.WriteString("," + ws())
			}
			b.Write(genString(r))
			b.WriteString(ws() + ":" + ws())
			b.Write(genJSON(r, depth+1))
		}
		b.WriteString(ws() + "}")
		return b.Bytes()
	case k < 4 && depth < 6:
		var b bytes.Buffer
		b.WriteString("[" + ws())
		for i := range r.IntN(4) {
			if i > 0 {
				b.WriteString(ws() + "," + ws())
			}
			b.Write(genJSON(r, depth+1))
		}
		b.WriteString(ws() + "]")
		return b.Bytes()
	case k < 7:
		return genString(r)
	case k < 9:
		return []byte([]string{"0", "-0", "1", "-12", "3.25", "1e5", "1E+2", "-4.5e-3", "12345678901234567890123", "0.000001"}[r.IntN(10)])
	}
	return []byte([]string{"true", "false", "null"}[r.IntN(3)])
}

func genString(r *rand.Rand) []byte {
	parts := []string{"a", "Zz", " ", "é", "ệ", "Ω", "😀", `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`,
		`\u0041`, `\u00e9`, `\u0000`, `\u001f`, `\ud83d\ude00`, `\uD834\uDD1E`, `\u2028`, "\x7f", "$", ".", "key"}
	var b bytes.Buffer
	b.WriteByte('"')
	for range r.IntN(6) {
		b.WriteString(parts[r.IntN(len(parts))])
	}
	b.WriteByte('"')
	return b.Bytes()
}

// mutate breaks a document the ways senders do: a byte changed, dropped
// or inserted, a lone surrogate or an invalid UTF-8 byte slipped in.
func mutate(r *rand.Rand, doc []byte) []byte {
	doc = bytes.Clone(doc)
	if len(doc) == 0 {
		return []byte{0xff}
	}
	i := r.IntN(len(doc))
	junk := []string{"\xff", "\xc3", "\xed\xa0\x80", `\ud800`, `\udc00`, `\u12`, `\x`, ",", "}", "]", "\"", "\n", "\x00", "01", "-", "1.", "tru", "nul"}
	switch r.IntN(3) {
	case 0:
		doc[i] = "{}[]\":, \\0aé\xff"[r.IntN(14)]
	case 1:
		doc = append(doc[:i], doc[i+1:]...)
	default:
		doc = append(doc[:i], append([]byte(junk[r.IntN(len(junk))]), doc[i:]...)...)
	}
	return doc
}
