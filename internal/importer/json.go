package importer

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/trekhq/trek/internal/event"
)

// jsonDecoder decodes one JSON text held in memory into the values
// encoding/json gives with UseNumber (map[string]any, []any, string,
// json.Number, bool, nil), but strictly and fast:
//   - text that is not valid UTF-8, and escaped lone surrogates, are errors
//     rather than being replaced by U+FFFD: trek refuses invalid text;
//   - nesting deeper than maxDepth is an error, so hostile input cannot
//     exhaust the stack;
//   - keys and short strings go through an interner, because the same
//     property names and values repeat on every line of a file.
//
// It exists because encoding/json's reflection and its any-valued decoding
// cost several microseconds per event, more than the whole import budget.
type jsonDecoder struct {
	data     []byte
	pos      int
	depth    int
	maxDepth int
	in       *interner
	scratch  []byte
	// With lim set, objects and lists are checked against event.Validate's
	// value rules as they are built (depth counted from the first object
	// decoded, as Validate counts from properties); bad records a breach.
	lim *event.Limits
	bad bool
	// cut, when set, has long strings without escapes cut from src, a
	// copy of data as one string made when the first is met, instead of
	// each being copied: one allocation per line instead of one per
	// value. The values pin src, which is no loss: an event keeps most of
	// its line anyway. A line whose objects all come from the cache
	// (objectCache) makes no copy.
	cut bool
	src string
	// Where the last string read by stringBytes started in data, and
	// whether it had escapes (then its bytes are in scratch).
	strStart   int
	strEscaped bool
	// objs, when set, shares objects between events: see objectCache.
	objs *objectCache
}

// objectCache maps the text of an object already decoded, and the depth
// it was met at, to its map and whether it broke a value rule. In an
// export, each device's library, os, screen and often its whole context
// repeat event after event; sharing the map skips building it again.
// Maps in events may be shared (see importer.Sink); nothing downstream
// changes them.
type objectCache struct {
	m map[string]cachedObject
	// lens remembers, by the depth and first bytes of an object's text,
	// how long the last such object was: a device's events often follow
	// one another, and their objects are then looked up at that length
	// before any scan for their end.
	lens [64]int32
}

// lenSlot is the slot of lens for an object starting at data[start].
func (c *objectCache) lenSlot(data []byte, start, depth int) *int32 {
	s := data[start:]
	var x uint64
	if len(s) >= 17 {
		x = binary.LittleEndian.Uint64(s[1:]) ^ binary.LittleEndian.Uint64(s[9:])*0xc2b2ae3d27d4eb4f
	} else {
		for i, b := range s {
			x ^= uint64(b) << (8 * (i % 8))
		}
	}
	return &c.lens[((x^uint64(depth))*0x9e3779b97f4a7c15)>>58]
}

type cachedObject struct {
	m   map[string]any
	bad bool
}

// Objects longer than cacheObjectMax are not shared: long ones rarely
// repeat, and the cache holds their text.
const (
	cacheObjectMax = 512
	cacheObjects   = 4096
)

// jsonError is a syntax or content error at a byte offset of the text.
type jsonError struct {
	off int
	msg string
}

func (e *jsonError) Error() string { return fmt.Sprintf("column %d: %s", e.off+1, e.msg) }

const jsonMaxDepth = 64

func (d *jsonDecoder) reset(data []byte) {
	d.data, d.pos, d.depth, d.bad, d.src = data, 0, 0, false, ""
	if d.maxDepth == 0 {
		d.maxDepth = jsonMaxDepth
	}
}

func (d *jsonDecoder) fail(format string, args ...any) error {
	return &jsonError{off: d.pos, msg: fmt.Sprintf(format, args...)}
}

func (d *jsonDecoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte without consuming it, or 0 at the
// end (a NUL in the input is also 0: callers that must tell them apart
// look at d.pos).
func (d *jsonDecoder) peek() byte {
	// Compact JSON, the common case, has no space to skip.
	if d.pos < len(d.data) {
		if c := d.data[d.pos]; c > ' ' {
			return c
		}
	}
	d.ws()
	if d.pos >= len(d.data) {
		return 0
	}
	return d.data[d.pos]
}

func (d *jsonDecoder) expect(c byte) error {
	if d.peek() != c {
		return d.unexpected(fmt.Sprintf("%q", c))
	}
	d.pos++
	return nil
}

func (d *jsonDecoder) unexpected(want string) error {
	if d.pos >= len(d.data) {
		return d.fail("unexpected end of JSON, want %s", want)
	}
	c := d.data[d.pos]
	if c < 0x20 || c >= 0x7f {
		return d.fail("unexpected byte 0x%02x, want %s", c, want)
	}
	return d.fail("unexpected %q, want %s", c, want)
}

// end checks that nothing but space follows the value.
func (d *jsonDecoder) end() error {
	if d.ws(); d.pos < len(d.data) {
		return d.unexpected("nothing after the JSON value")
	}
	return nil
}

// objectStart consumes '{' and reports whether the object is empty
// (consuming the '}' too).
func (d *jsonDecoder) objectStart() (empty bool, err error) {
	if err := d.expect('{'); err != nil {
		return false, err
	}
	if d.peek() == '}' {
		d.pos++
		return true, nil
	}
	return false, nil
}

// key reads an object key and its colon; the bytes are valid until the
// next call.
func (d *jsonDecoder) key() ([]byte, error) {
	if d.peek() != '"' {
		return nil, d.unexpected("an object key")
	}
	k, err := d.stringBytes()
	if err != nil {
		return nil, err
	}
	if err := d.expect(':'); err != nil {
		return nil, err
	}
	return k, nil
}

// next consumes the ',' or '}' after a member and reports whether another
// member follows.
func (d *jsonDecoder) next(closer byte) (bool, error) {
	switch d.peek() {
	case ',':
		d.pos++
		return true, nil
	case closer:
		d.pos++
		return false, nil
	}
	return false, d.unexpected(fmt.Sprintf("',' or %q", closer))
}

// value decodes any JSON value.
func (d *jsonDecoder) value() (any, error) {
	switch c := d.peek(); c {
	case '{':
		return d.object()
	case '[':
		return d.array()
	case '"':
		b, err := d.stringBytes()
		if err != nil {
			return nil, err
		}
		if len(b) > internValueLen && d.cut && !d.strEscaped {
			return d.cutString(len(b)), nil
		}
		return d.in.value(b), nil
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.literal("null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			b, err := d.numberBytes()
			if err != nil {
				return nil, err
			}
			return d.in.number(b), nil
		}
		return nil, d.unexpected("a JSON value")
	}
}

func (d *jsonDecoder) literal(s string) error {
	if len(d.data)-d.pos < len(s) || string(d.data[d.pos:d.pos+len(s)]) != s {
		return d.unexpected(s)
	}
	d.pos += len(s)
	return nil
}

func (d *jsonDecoder) object() (map[string]any, error) {
	if d.objs == nil || d.depth > 1 {
		return d.buildObject()
	}
	// The object's end is found by its brackets and strings alone, and
	// its text looked up: text equal to an object decoded before is valid
	// as that one was, so a hit needs no other check. Only a miss is
	// decoded, which checks everything.
	start, depth := d.pos, d.depth
	var key [cacheObjectMax + 1]byte
	key[0] = byte(depth)
	// First the length such an object had last time, if the text there
	// could end an object; a wrong guess only costs a lookup.
	slot := d.objs.lenSlot(d.data, start, depth)
	if end := start + int(*slot); end > start && end <= len(d.data) && d.data[end-1] == '}' &&
		(end == len(d.data) || d.data[end] == ',' || d.data[end] == '}') {
		k := key[:1+copy(key[1:], d.data[start:end])]
		if c, ok := d.objs.m[string(k)]; ok {
			d.pos = end
			d.bad = d.bad || c.bad
			return c.m, nil
		}
	}
	var k []byte
	if end := objectEnd(d.data[:min(len(d.data), start+cacheObjectMax)], start); end > 0 {
		*slot = int32(end - start)
		k = key[:1+copy(key[1:], d.data[start:end])]
		if c, ok := d.objs.m[string(k)]; ok {
			d.pos = end
			d.bad = d.bad || c.bad
			return c.m, nil
		}
	}
	outer := d.bad
	d.bad = false
	m, err := d.buildObject()
	own := d.bad
	if d.bad = own || outer; err != nil {
		return nil, err
	}
	// What was decoded is the text looked up, unless the scan was misled
	// by text that is not JSON (then it is not shared).
	if k != nil && string(k[1:]) == string(d.data[start:d.pos]) {
		if len(d.objs.m) >= cacheObjects {
			clear(d.objs.m)
		}
		d.objs.m[string(k)] = cachedObject{m: m, bad: own}
	}
	return m, nil
}

// objectEnd returns where the object that starts at s[i] would end,
// judging by its brackets and strings only, or -1 if it does not end in s
// (the caller cuts s where a longer object is of no interest).
func objectEnd(s []byte, i int) int {
	depth := 0
	for i < len(s) {
		switch s[i] {
		case '"':
			i++
			for {
				// Eight bytes at a time up to a quote or a backslash.
				for i+8 <= len(s) {
					x := binary.LittleEndian.Uint64(s[i:])
					q, b := x^(lsb*'"'), x^(lsb*'\\')
					if m := ((q-lsb)&^q | (b-lsb)&^b) & msb; m != 0 {
						i += bits.TrailingZeros64(m) >> 3
						break
					}
					i += 8
				}
				if i >= len(s) {
					return -1
				}
				if s[i] == '"' {
					break
				}
				if s[i] == '\\' {
					i++
				}
				i++
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1
			}
		}
		i++
	}
	return -1
}

func (d *jsonDecoder) buildObject() (map[string]any, error) {
	if d.depth++; d.depth > d.maxDepth {
		return nil, d.fail("nesting deeper than %d", d.maxDepth)
	}
	defer func() { d.depth-- }()
	empty, err := d.objectStart()
	if err != nil {
		return nil, err
	}
	if d.lim != nil && d.depth > d.lim.MaxDepth {
		d.bad = true
	}
	m := make(map[string]any, 8)
	if empty {
		return m, nil
	}
	for {
		kb, err := d.key()
		if err != nil {
			return nil, err
		}
		k, ok := d.in.key(kb)
		if !ok {
			d.bad = true
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		m[k] = v
		more, err := d.next('}')
		if err != nil {
			return nil, err
		}
		if !more {
			if d.lim != nil && len(m) > d.lim.MaxProperties {
				d.bad = true
			}
			return m, nil
		}
	}
}

func (d *jsonDecoder) array() ([]any, error) {
	if d.depth++; d.depth > d.maxDepth {
		return nil, d.fail("nesting deeper than %d", d.maxDepth)
	}
	defer func() { d.depth-- }()
	if d.lim != nil && d.depth > d.lim.MaxDepth {
		d.bad = true
	}
	d.pos++ // '['
	a := []any{}
	if d.peek() == ']' {
		d.pos++
		return a, nil
	}
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		more, err := d.next(']')
		if err != nil {
			return nil, err
		}
		if !more {
			return a, nil
		}
	}
}

// string returns the string stringBytes just read, cut from src when it
// can be.
func (d *jsonDecoder) string(b []byte) string {
	if d.cut && !d.strEscaped {
		return d.cutString(len(b))
	}
	return string(b)
}

// cutString returns the n bytes of the string stringBytes just read, which
// had no escapes, cut from src.
func (d *jsonDecoder) cutString(n int) string {
	if d.src == "" {
		d.src = string(d.data)
	}
	return d.src[d.strStart : d.strStart+n]
}

// skip checks and skips any JSON value without building it, for the
// members an import has no use for.
func (d *jsonDecoder) skip() error {
	switch c := d.peek(); c {
	case '{', '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		if d.depth++; d.depth > d.maxDepth {
			return d.fail("nesting deeper than %d", d.maxDepth)
		}
		defer func() { d.depth-- }()
		d.pos++
		if d.peek() == closer {
			d.pos++
			return nil
		}
		for {
			if c == '{' {
				if _, err := d.key(); err != nil {
					return err
				}
			}
			if err := d.skip(); err != nil {
				return err
			}
			more, err := d.next(closer)
			if err != nil {
				return err
			}
			if !more {
				return nil
			}
		}
	case '"':
		_, err := d.stringBytes()
		return err
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			_, err := d.numberBytes()
			return err
		}
		return d.unexpected("a JSON value")
	}
}

func (d *jsonDecoder) numberBytes() ([]byte, error) {
	s := d.data
	i := d.pos
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		d.pos = i
		return nil, d.unexpected("a digit")
	}
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			d.pos = i
			return nil, d.unexpected("a digit after the decimal point")
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			d.pos = i
			return nil, d.unexpected("a digit in the exponent")
		}
	}
	b := s[d.pos:i]
	d.pos = i
	return b, nil
}

// stringBytes reads a string; the bytes point into the input when it has
// no escapes, else into a scratch buffer, and are valid until the next
// call.
func (d *jsonDecoder) stringBytes() ([]byte, error) {
	d.pos++ // opening quote
	s := d.data
	start := d.pos
	d.strStart, d.strEscaped = start, false
	i := start
	ascii := true
	for i < len(s) {
		// Eight bytes at a time while none of them needs a look.
		for i+8 <= len(s) {
			m := strStop8(binary.LittleEndian.Uint64(s[i:]), ascii)
			if m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c == '"' {
			b := s[start:i]
			if !ascii && !utf8.Valid(b) {
				return nil, d.badUTF8(start, b)
			}
			d.pos = i + 1
			return b, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			d.pos = i
			return nil, d.fail("control character 0x%02x in a string (it must be escaped)", c)
		}
		if c >= 0x80 {
			ascii = false
		}
		i++
	}
	if i >= len(s) {
		d.pos = i
		return nil, d.fail("unterminated string")
	}
	// Slow path: the string has escapes.
	d.strEscaped = true
	if !ascii && !utf8.Valid(s[start:i]) {
		return nil, d.badUTF8(start, s[start:i])
	}
	out := append(d.scratch[:0], s[start:i]...)
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			d.pos = i + 1
			d.scratch = out
			return out, nil
		case c == '\\':
			if i+1 >= len(s) {
				d.pos = i
				return nil, d.fail("unterminated string")
			}
			e := s[i+1]
			i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := hex4(s, i)
				if !ok {
					d.pos = i - 2
					return nil, d.fail(`bad \u escape`)
				}
				i += 4
				if utf16.IsSurrogate(r) {
					r2, ok := rune(0), false
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						r2, ok = hex4(s, i+2)
					}
					dec := utf16.DecodeRune(r, r2)
					if !ok || dec == utf8.RuneError {
						d.pos = i - 6
						return nil, d.fail(`\u%04x is half of a UTF-16 surrogate pair: not valid text`, r)
					}
					i += 6
					r = dec
				}
				out = utf8.AppendRune(out, r)
			default:
				d.pos = i - 2
				return nil, d.fail("bad escape \\%c", e)
			}
		case c < 0x20:
			d.pos = i
			return nil, d.fail("control character 0x%02x in a string (it must be escaped)", c)
		default:
			j := i
			for j < len(s) && s[j] != '"' && s[j] != '\\' && s[j] >= 0x20 {
				j++
			}
			if !utf8.Valid(s[i:j]) {
				return nil, d.badUTF8(i, s[i:j])
			}
			out = append(out, s[i:j]...)
			i = j
		}
	}
	d.pos = i
	d.scratch = out
	return nil, d.fail("unterminated string")
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// strStop8 flags (in the top bit of each byte) the bytes of the
// little-endian word x that end the fast scan of a string: '"', '\\',
// control characters and, while the string is all ASCII so far, bytes
// of a multi-byte character. Flags above a true match may be spurious;
// the lowest flag is always a true one, and no match goes unflagged.
func strStop8(x uint64, ascii bool) uint64 {
	q := x ^ (lsb * '"')
	b := x ^ (lsb * '\\')
	m := (q - lsb) &^ q
	m |= (b - lsb) &^ b
	m |= (x - lsb*0x20) &^ x
	if ascii {
		m |= x
	}
	return m & msb
}

func (d *jsonDecoder) badUTF8(start int, b []byte) error {
	off := start
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			break
		}
		b, off = b[n:], off+n
	}
	d.pos = off
	return d.fail("invalid UTF-8 in a string")
}

func hex4(s []byte, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(s[i:i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(v), true
}
