package event

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// This file is trek's own JSON reader for collection bodies. encoding/json
// would do, but not as the collection guarantees need:
//
//   - it replaces invalid UTF-8 and lone surrogate escapes (\ud800) with
//     U+FFFD without a word, where trek must refuse them;
//   - a rejected event of a batch must be kept as the exact bytes it was
//     sent as, so the reader needs each element's span;
//   - a batch of 100 events must parse well under a millisecond on one
//     core; generic decoding into map[string]any allocated a string per
//     key and value.
//
// Reading is two passes. The scanner validates a whole value without
// building anything (iteratively, so a body of 500 KiB of '[' cannot blow
// the stack) and so finds syntax errors, with their position, before any
// event is built: a malformed request is refused whole. The builder then
// walks each event's span, which it knows to be valid, and makes Go
// values of it: unescaped strings become substrings of one string copy of
// the span, so an event costs one copy of its bytes rather than one
// allocation per string, and each map is made at the size the scanner
// counted for it, rather than grown a key at a time.

// syntaxError is a JSON syntax or encoding error at a byte offset.
type syntaxError struct {
	off int
	msg string
}

// position renders a byte offset as a 1-based line and column (columns
// count bytes, as the server's other JSON errors do).
func position(b []byte, off int) string {
	if off > len(b) {
		off = len(b)
	}
	line, col := 1, 1
	for _, c := range b[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("line %d, column %d", line, col)
}

// plain marks the bytes a string can hold without a closer look: printable
// ASCII other than '"' and '\\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanner validates JSON values. Its stack is kept between calls so that
// scanning the events of a batch one by one allocates it once.
type scanner struct {
	b     []byte
	stack []byte
	// scalars counts the strings and numbers skip passed (object keys
	// aside): the builder sizes its slab with it.
	scalars int
	// objs has the number of members of every object skip passed, in
	// document order (the order the builder meets them in), so that the
	// builder can make each map at its final size. open indexes objs for
	// the objects not yet closed.
	objs []int32
	open []int32
}

func (s *scanner) fail(off int, format string, args ...any) *syntaxError {
	return &syntaxError{off: off, msg: fmt.Sprintf(format, args...)}
}

func (s *scanner) eof() *syntaxError {
	return &syntaxError{off: len(s.b), msg: "the body ends too early"}
}

// skip validates the value starting at b[i] (no leading whitespace) and
// returns the offset just after it.
func (s *scanner) skip(i int) (int, *syntaxError) {
	b := s.b
	s.stack = s.stack[:0]
	s.open = s.open[:0]
value:
	if i >= len(b) {
		return i, s.eof()
	}
	switch c := b[i]; {
	case c == '{':
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == '}' {
			s.objs = append(s.objs, 0)
			i++
			goto after
		}
		s.stack = append(s.stack, '{')
		s.objs = append(s.objs, 1)
		s.open = append(s.open, int32(len(s.objs)-1))
		var err *syntaxError
		if i, err = s.key(i); err != nil {
			return i, err
		}
		goto value
	case c == '[':
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			i++
			goto after
		}
		s.stack = append(s.stack, '[')
		goto value
	case c == '"':
		end, _, err := s.str(i)
		if err != nil {
			return end, err
		}
		i = end
		s.scalars++
	case c == '-' || c >= '0' && c <= '9':
		end, err := s.num(i)
		if err != nil {
			return end, err
		}
		i = end
		s.scalars++
	case c == 't':
		if !hasPrefix(b[i:], "true") {
			return i, s.fail(i, "expected a value")
		}
		i += 4
	case c == 'f':
		if !hasPrefix(b[i:], "false") {
			return i, s.fail(i, "expected a value")
		}
		i += 5
	case c == 'n':
		if !hasPrefix(b[i:], "null") {
			return i, s.fail(i, "expected a value")
		}
		i += 4
	default:
		return i, s.unexpected(i, "expected a value")
	}
after:
	if len(s.stack) == 0 {
		return i, nil
	}
	i = skipWS(b, i)
	if i >= len(b) {
		return i, s.eof()
	}
	top := s.stack[len(s.stack)-1]
	switch c := b[i]; {
	case c == ',':
		i = skipWS(b, i+1)
		if top == '{' {
			s.objs[s.open[len(s.open)-1]]++
			var err *syntaxError
			if i, err = s.key(i); err != nil {
				return i, err
			}
		}
		goto value
	case c == '}' && top == '{':
		s.open = s.open[:len(s.open)-1]
		fallthrough
	case c == ']' && top == '[':
		s.stack = s.stack[:len(s.stack)-1]
		i++
		goto after
	case top == '{':
		return i, s.unexpected(i, "expected ',' or '}' after an object member")
	default:
		return i, s.unexpected(i, "expected ',' or ']' after a list element")
	}
}

// key validates `"name" :` and whitespace after it, starting at a string.
func (s *scanner) key(i int) (int, *syntaxError) {
	if i >= len(s.b) {
		return i, s.eof()
	}
	if s.b[i] != '"' {
		return i, s.unexpected(i, "expected a string as object key")
	}
	end, _, err := s.str(i)
	if err != nil {
		return end, err
	}
	i = skipWS(s.b, end)
	if i >= len(s.b) {
		return i, s.eof()
	}
	if s.b[i] != ':' {
		return i, s.unexpected(i, "expected ':' after an object key")
	}
	return skipWS(s.b, i+1), nil
}

// unexpected names the byte found, so "expected a value" at a stray
// quote or bracket says what was there.
func (s *scanner) unexpected(i int, what string) *syntaxError {
	c := s.b[i]
	switch {
	case c >= 0x20 && c < 0x7f:
		return s.fail(i, "%s, found %q", what, rune(c))
	case c >= 0x80:
		r, n := utf8.DecodeRune(s.b[i:])
		if r == utf8.RuneError && n <= 1 {
			return s.fail(i, "invalid UTF-8")
		}
		return s.fail(i, "%s, found %q", what, r)
	}
	return s.fail(i, "%s, found byte 0x%02x", what, c)
}

// str validates the string starting at the quote b[i] and returns the
// offset after its closing quote and whether it holds escapes.
func (s *scanner) str(i int) (end int, esc bool, err *syntaxError) {
	b := s.b
	start := i
	i++
	for {
		// Eight bytes at a time while none of them needs a look: no
		// quote, backslash, control character or non-ASCII byte.
		for i+8 <= len(b) && plain8(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i >= len(b) {
			return i, esc, s.fail(start, "unterminated string")
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, esc, nil
		case c == '\\':
			esc = true
			n, err := s.escape(i)
			if err != nil {
				return i, esc, err
			}
			i += n
		case c < 0x20:
			return i, esc, s.fail(i, "control character U+%04X in a string; it must be escaped", c)
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n <= 1 {
				return i, esc, s.fail(i, "invalid UTF-8 in a string")
			}
			i += n
		}
	}
}

// plain8 reports whether all eight bytes of x are plain (see plain),
// with the usual SWAR tests: a byte below 0x20, a byte equal to '"' or
// '\\', or a byte with its top bit set each leave a mark in 0x80 of
// their lane.
func plain8(x uint64) bool {
	const (
		lo = 0x0101010101010101
		hi = 0x8080808080808080
	)
	below := (x - lo*0x20) &^ x // top bit set where a byte < 0x20 (or >= 0x80)
	q := x ^ (lo * '"')
	quote := (q - lo) &^ q
	s := x ^ (lo * '\\')
	slash := (s - lo) &^ s
	return (below|quote|slash|x)&hi == 0
}

// quoteOrSlash8 reports whether one of the eight bytes of x is '"' or '\\'.
func quoteOrSlash8(x uint64) bool {
	const (
		lo = 0x0101010101010101
		hi = 0x8080808080808080
	)
	q := x ^ (lo * '"')
	s := x ^ (lo * '\\')
	return ((q-lo)&^q|(s-lo)&^s)&hi != 0
}

// escape validates the escape at b[i] == '\\' and returns its length.
// Lone surrogates are refused: they stand for no character, and
// encoding/json would have turned them into U+FFFD silently.
func (s *scanner) escape(i int) (int, *syntaxError) {
	b := s.b
	if i+1 >= len(b) {
		return 0, s.eof()
	}
	switch b[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
	default:
		return 0, s.fail(i, "invalid escape \\%c in a string", rune(b[i+1]))
	}
	r, ok := hex4(b, i+2)
	if !ok {
		return 0, s.fail(i, "invalid \\u escape in a string")
	}
	switch {
	case r >= 0xDC00 && r <= 0xDFFF:
		return 0, s.fail(i, "lone surrogate \\u%04X in a string is not a character", r)
	case r >= 0xD800 && r <= 0xDBFF:
		if i+7 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
			if lo, ok := hex4(b, i+8); ok && lo >= 0xDC00 && lo <= 0xDFFF {
				return 12, nil
			}
		}
		return 0, s.fail(i, "lone surrogate \\u%04X in a string is not a character", r)
	}
	return 6, nil
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// num validates a JSON number (RFC 8259: no leading zeros, no '+', no
// bare '.', digits after '.' and after the exponent).
func (s *scanner) num(i int) (int, *syntaxError) {
	b := s.b
	start := i
	if b[i] == '-' {
		i++
	}
	digits := func() bool {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > j
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return i, s.fail(start, "invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return i, s.fail(start, "invalid number: no digits after the decimal point")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return i, s.fail(start, "invalid number: no digits in the exponent")
		}
	}
	return i, nil
}

// numByte marks the bytes a (valid) number is made of.
var numByte = func() (t [256]bool) {
	for _, c := range "0123456789-+.eE" {
		t[c] = true
	}
	return t
}()

func hasPrefix(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[:len(p)]) == p
}

// kindAt names the JSON kind of the value starting at b[i], in the words
// of the server's other shape errors.
func kindAt(b []byte, i int) string {
	switch b[i] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// fieldError is a problem with one value of a valid JSON document: the
// event it is in is rejected, not the request. The path is collected in
// reverse as the builder unwinds, so it costs nothing when all is well.
type fieldError struct {
	rev []string // path segments, innermost first: "[3]", "items", "properties"
	msg string
}

func (e *fieldError) at(seg string) *fieldError {
	e.rev = append(e.rev, seg)
	return e
}

func (e *fieldError) reason() string {
	var b strings.Builder
	for i := len(e.rev) - 1; i >= 0; i-- {
		seg := e.rev[i]
		if i != len(e.rev)-1 && seg[0] != '[' {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.msg)
	return b.String()
}

// keySeg renders an object key as a path segment: bare when it reads as
// a name, else quoted in brackets so that a key holding a dot or a space
// cannot be mistaken for two levels.
func keySeg(k string) string {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c == '-') {
			return "[" + strconv.Quote(k) + "]"
		}
	}
	if k == "" {
		return `[""]`
	}
	return k
}

// builder makes Go values of a span of JSON already validated by the
// scanner. b and s hold the same bytes; strings without escapes are cut
// from s.
type builder struct {
	b   []byte
	s   string
	lim *Limits
	buf []byte // scratch for unescaping
	// counts has the member count of each object in the span, in
	// document order (scanner.objs); obj is the next one's index.
	counts []int32
	obj    int
	// slab holds the headers of the strings and numbers boxed in any
	// values (see box).
	slab []string
}

// newBuilder makes a builder for a span of valid JSON that was not
// scanned with its counts kept (a batch's context, a test's value).
func newBuilder(span []byte, lim *Limits) *builder {
	sc := scanner{b: span}
	sc.skip(0)
	p := &builder{lim: lim}
	p.reset(span, sc.scalars, sc.objs)
	return p
}

// reset points the builder at another span, keeping its scratch space.
// scalars and counts are what the scanner found in it (scanner.scalars,
// scanner.objs from the span's first object on).
func (p *builder) reset(span []byte, scalars int, counts []int32) {
	p.b, p.s = span, string(span)
	p.counts, p.obj = counts, 0
	p.slab = make([]string, 0, scalars)
}

// str reads the string at b[i] == '"' and returns it and the offset after it.
func (p *builder) str(i int) (string, int) {
	b := p.b
	j := i + 1
	// The span is valid JSON, so only a quote or a backslash can stop
	// the string here; look for them eight bytes at a time.
	for j+8 <= len(b) && !quoteOrSlash8(binary.LittleEndian.Uint64(b[j:])) {
		j += 8
	}
	for b[j] != '"' && b[j] != '\\' {
		j++
	}
	if b[j] == '"' {
		return p.s[i+1 : j], j + 1
	}
	// Escapes: decode from the first one on into the scratch buffer.
	buf := append(p.buf[:0], b[i+1:j]...)
	for {
		c := b[j]
		if c == '"' {
			p.buf = buf
			return string(buf), j + 1
		}
		if c != '\\' {
			buf = append(buf, c)
			j++
			continue
		}
		switch b[j+1] {
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, _ := hex4(b, j+2)
			if r >= 0xD800 && r <= 0xDBFF {
				lo, _ := hex4(b, j+8)
				r = (r-0xD800)<<10 | (lo - 0xDC00) + 0x10000
				j += 6
			}
			buf = utf8.AppendRune(buf, r)
			j += 6
			continue
		default: // '"', '\\', '/'
			buf = append(buf, b[j+1])
		}
		j += 2
	}
}

// num returns the number at b[i] as written.
func (p *builder) num(i int) (json.Number, int) {
	j := i
	for j < len(p.b) && numByte[p.b[j]] {
		j++
	}
	return json.Number(p.s[i:j]), j
}

// skip returns the offset after the (valid) value at b[i].
func (p *builder) skip(i int) int {
	b := p.b
	switch b[i] {
	case '"':
		_, end := p.strEnd(i)
		return end
	case '{', '[':
		depth := 0
		for {
			switch b[i] {
			case '"':
				_, i = p.strEnd(i)
				continue
			case '{':
				p.obj++ // keep counts in step with the objects skipped
				depth++
			case '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
	case 't', 'n':
		return i + 4
	case 'f':
		return i + 5
	}
	_, end := p.num(i)
	return end
}

// strEnd finds the end of the string at b[i] without decoding it.
func (p *builder) strEnd(i int) (int, int) {
	b := p.b
	j := i + 1
	for b[j] != '"' {
		if b[j] == '\\' {
			j++
		}
		j++
	}
	return i, j + 1
}

// object reads the object at b[i] as properties, traits or context:
// depth is its nesting level (the properties object itself is 1).
// Problems (depth, key count, key rules, duplicate keys) come back as a
// fieldError and stop the build: the event is rejected anyway.
func (p *builder) object(i, depth int) (map[string]any, int, *fieldError) {
	if depth > p.lim.MaxDepth {
		return nil, i, &fieldError{msg: fmt.Sprintf("nesting deeper than %d", p.lim.MaxDepth)}
	}
	n := int(p.counts[p.obj])
	p.obj++
	if n > p.lim.MaxProperties {
		return nil, i, &fieldError{msg: fmt.Sprintf("more than %d keys", p.lim.MaxProperties)}
	}
	b := p.b
	// The scanner counted the members, so the map is made at its final
	// size: growing maps a key at a time was half of the bytes this
	// package allocated.
	m := make(map[string]any, n)
	i = skipWS(b, i+1)
	if b[i] == '}' {
		return m, i + 1, nil
	}
	for {
		k, end := p.str(i)
		if !plainKey(k) {
			if msg := keyProblem(k); msg != "" {
				return nil, i, &fieldError{msg: msg}
			}
		}
		i = skipWS(b, end)
		i = skipWS(b, i+1) // ':'
		v, end, ferr := p.value(i, depth+1)
		if ferr != nil {
			return nil, i, ferr.at(keySeg(k))
		}
		before := len(m)
		m[k] = v
		if len(m) == before {
			return nil, i, &fieldError{msg: fmt.Sprintf("duplicate key %q", k)}
		}
		i = skipWS(b, end)
		if b[i] == '}' {
			return m, i + 1, nil
		}
		i = skipWS(b, i+1) // ','
	}
}

func (p *builder) list(i, depth int) ([]any, int, *fieldError) {
	if depth > p.lim.MaxDepth {
		return nil, i, &fieldError{msg: fmt.Sprintf("nesting deeper than %d", p.lim.MaxDepth)}
	}
	b := p.b
	i = skipWS(b, i+1)
	if b[i] == ']' {
		return []any{}, i + 1, nil
	}
	l := make([]any, 0, 4)
	for {
		v, end, ferr := p.value(i, depth+1)
		if ferr != nil {
			return nil, i, ferr.at("[" + strconv.Itoa(len(l)) + "]")
		}
		l = append(l, v)
		i = skipWS(b, end)
		if b[i] == ']' {
			return l, i + 1, nil
		}
		i = skipWS(b, i+1)
	}
}

// value reads any value at b[i]; depth is the level a container found
// here would have.
func (p *builder) value(i, depth int) (any, int, *fieldError) {
	switch p.b[i] {
	case '{':
		return p.object(i, depth)
	case '[':
		return p.list(i, depth)
	case '"':
		s, end := p.str(i)
		return p.box(stringType, s), end, nil
	case 't':
		return true, i + 4, nil
	case 'f':
		return false, i + 5, nil
	case 'n':
		return nil, i + 4, nil
	}
	n, end := p.num(i)
	return p.box(numberType, string(n)), end, nil
}

// box returns s as an any of dynamic type string or json.Number (typ)
// without the allocation Go makes for every such conversion: the string
// header goes into the event's slab, one allocation for all of them, and
// the interface points at it. This halved the allocations per event.
//
// It relies on the layout of an empty interface (type word, data
// pointer), which has not changed since Go 1 and which the runtime, the
// reflect package and cgo all depend on. The interface is assembled in a
// local of the real interface type and copied out, so the garbage
// collector sees an ordinary interface value; the data pointer is an
// interior pointer into the slab, which keeps the slab (and through it
// the string bytes) alive. Values are never written through, so sharing
// nothing but the slab is safe. TestBoxedValues checks type switches,
// reflection, encoding and survival across collections.
func (p *builder) box(typ unsafe.Pointer, s string) any {
	if len(p.slab) == cap(p.slab) {
		p.slab = make([]string, 0, 16)
	}
	p.slab = append(p.slab, s)
	return *(*any)(unsafe.Pointer(&eface{typ: typ, data: unsafe.Pointer(&p.slab[len(p.slab)-1])}))
}

type eface struct {
	typ, data unsafe.Pointer
}

func typeWord(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

var (
	stringType = typeWord("")
	numberType = typeWord(json.Number(""))
)

// plainKey reports whether k is a non-empty key of printable ASCII within
// MaxKeyLen, which passes keyProblem: nearly every key is.
func plainKey(k string) bool {
	if len(k) == 0 || len(k) > MaxKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if !plain[k[i]] || k[i] == 0x7f {
			return false
		}
	}
	return true
}

// keyProblem says what is wrong with a key of properties, traits or
// context, or "" when it is fine (see MaxKeyLen for the rules).
func keyProblem(k string) string {
	if k == "" {
		return "empty key"
	}
	if len(k) > MaxKeyLen {
		return fmt.Sprintf("key %q is longer than %d bytes", truncate(k, 32), MaxKeyLen)
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c >= 0x20 && c < 0x7f {
			continue
		}
		r, n := utf8.DecodeRuneInString(k[i:])
		if r == utf8.RuneError && n <= 1 {
			return fmt.Sprintf("key %q is not valid UTF-8", k)
		}
		if isControl(r) {
			return fmt.Sprintf("key %q contains a control character", k)
		}
		i += n - 1
	}
	return ""
}

// isControl: C0, DEL and C1 control characters.
func isControl(r rune) bool {
	return r < 0x20 || r >= 0x7f && r < 0xa0
}

// truncate shortens s to at most n bytes on a character boundary, with
// an ellipsis, for quoting long input in a message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
