package importer

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// xmlScanner is a streaming tokenizer for the subset of XML that XES uses:
// elements with attributes. It yields start and end tags with their
// attributes decoded (entities, character references, attribute-value
// normalisation) and skips everything else: text, comments, processing
// instructions, CDATA sections and DOCTYPE declarations. It is several
// times faster than encoding/xml's Decoder.Token, which allocates a
// token, a name and a string per attribute; here names and values are
// slices of the read buffer, valid until the next call.
//
// Well-formedness it checks: tags and attributes are syntactically right,
// end tags match start tags, nothing but comments and PIs follow the root.
// Invalid UTF-8 or a control character in an attribute value is not an
// error of the scanner: the attribute is flagged, so that the XES reader
// can reject just the event that holds it.
type xmlScanner struct {
	r      io.Reader
	buf    []byte
	pos    int // next unread byte
	end    int // end of valid data in buf
	eof    bool
	maxBuf int

	// Line counting is lazy: lineBase is the line number at buf[lineOff].
	lineBase int
	lineOff  int
	// colBase is the number of characters of buf[0]'s line that came
	// before it, dropped by compaction.
	colBase int
	// mark, when not -1, is a buffer offset that compaction keeps, so that
	// the raw bytes of an element can be handed to OnReject.
	mark int

	// The current token.
	kind      tokKind
	selfClose bool
	tokOff    int // offset of its '<' in buf
	name      []byte
	attrs     []xmlAttr
	arena     []byte

	stack []string // names of open elements, for end-tag matching
	depth int
	root  bool // the root element has been closed
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokStart
	tokEnd
)

type xmlAttr struct {
	name, value []byte
	// Where value lives before the tag is complete: in the arena (which
	// may move while it grows) or in buf.
	a, b    int32
	inArena bool
	// badText: the value holds invalid UTF-8 or a control character.
	badText bool
}

var errNeedMore = errors.New("need more input")

const (
	xmlMinBuf = 256 << 10
	// xmlMaxDepth bounds element nesting; XES needs five or six levels.
	xmlMaxDepth = 256
)

func newXMLScanner(r io.Reader, maxTag int) *xmlScanner {
	return &xmlScanner{
		r:        r,
		buf:      make([]byte, xmlMinBuf),
		maxBuf:   max(maxTag, xmlMinBuf) + xmlMinBuf,
		lineBase: 1,
		mark:     -1,
	}
}

// lineAt returns the line number of buffer offset p.
func (s *xmlScanner) lineAt(p int) int {
	if p >= s.lineOff {
		s.lineBase += bytes.Count(s.buf[s.lineOff:p], []byte{'\n'})
		s.lineOff = p
		return s.lineBase
	}
	return s.lineBase - bytes.Count(s.buf[p:s.lineOff], []byte{'\n'})
}

// where describes buffer offset p for an error message.
func (s *xmlScanner) where(p int) string {
	p = min(p, s.end)
	line := s.lineAt(p)
	col := 0
	if nl := bytes.LastIndexByte(s.buf[:p], '\n'); nl >= 0 {
		col = utf8.RuneCount(s.buf[nl+1 : p])
	} else {
		col = s.colBase + utf8.RuneCount(s.buf[:p])
	}
	return fmt.Sprintf("line %d, column %d", line, col+1)
}

func (s *xmlScanner) errorf(p int, format string, args ...any) error {
	return invalidf("xes: %s: %s", s.where(p), fmt.Sprintf(format, args...))
}

// more reads more input, keeping buf[keep:] (and the mark). It reports
// false at the end of the input, and returns read errors.
func (s *xmlScanner) more(keep int) (bool, error) {
	if s.eof {
		return false, nil
	}
	if s.mark >= 0 && s.mark < keep {
		keep = s.mark
	}
	if keep > 0 {
		s.lineAt(keep)
		if nl := bytes.LastIndexByte(s.buf[:keep], '\n'); nl >= 0 {
			s.colBase = utf8.RuneCount(s.buf[nl+1 : keep])
		} else {
			s.colBase += utf8.RuneCount(s.buf[:keep])
		}
		copy(s.buf, s.buf[keep:s.end])
		s.end -= keep
		s.pos -= keep
		s.tokOff -= keep
		s.lineOff -= keep
		if s.mark >= 0 {
			s.mark -= keep
		}
	}
	if s.end == len(s.buf) {
		if len(s.buf) >= s.maxBuf {
			if s.mark >= 0 && s.mark < s.pos {
				// The element being kept for OnReject is too big to
				// keep: give up its raw bytes, not the read.
				s.mark = -1
				return s.more(s.pos)
			}
			return false, s.errorf(s.pos, "a tag longer than %d bytes", s.maxBuf-xmlMinBuf)
		}
		nb := make([]byte, min(2*len(s.buf), s.maxBuf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for range 100 {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err == io.EOF {
			s.eof = true
			return n > 0, nil
		}
		if err != nil {
			return n > 0, err
		}
		if n > 0 {
			return true, nil
		}
	}
	return false, io.ErrNoProgress
}

// next reads the next start or end tag.
func (s *xmlScanner) next() error {
	if s.kind == tokStart && s.selfClose {
		// A self-closing tag is a start and an end: give the end now.
		// s.name is still the start tag's: no input was read since.
		s.kind, s.selfClose = tokEnd, false
		s.depth--
		if s.depth == 0 {
			s.root = true
		}
		return nil
	}
	for {
		i := bytes.IndexByte(s.buf[s.pos:s.end], '<')
		if i < 0 {
			s.pos = s.end
			ok, err := s.more(s.pos)
			if err != nil {
				return s.readErr(err)
			}
			if !ok {
				return s.atEOF()
			}
			continue
		}
		s.pos += i
		next, err := s.tag(s.pos)
		if err == errNeedMore {
			// At the end of the input, the retry reports what was cut
			// short: tag never asks for more once s.eof is set.
			if _, err := s.more(s.pos); err != nil {
				return s.readErr(err)
			}
			continue
		}
		if err != nil {
			return err
		}
		s.tokOff, s.pos = s.pos, next
		if s.kind != tokEOF {
			return nil
		}
	}
}

func (s *xmlScanner) readErr(err error) error {
	return fmt.Errorf("xes: read after %s: %w", s.where(s.pos), err)
}

func (s *xmlScanner) atEOF() error {
	s.kind = tokEOF
	switch {
	case s.depth > 0:
		return s.errorf(s.end, "the input ends before </%s>", s.stack[s.depth-1])
	case !s.root:
		return s.errorf(s.end, "no root element: not an XML file")
	}
	return nil
}

// tag parses the markup starting at buf[i] == '<'. It sets the token
// (kind tokEOF for markup that is skipped) and returns the offset after
// it, or errNeedMore when the markup runs past the data read so far.
func (s *xmlScanner) tag(i int) (int, error) {
	b := s.buf[:s.end]
	if i+1 >= len(b) {
		return 0, s.needMore(i)
	}
	s.kind = tokEOF
	switch b[i+1] {
	case '?':
		return s.skipTo(i, 2, "?>", "a processing instruction")
	case '!':
		switch {
		case bytes.HasPrefix(b[i:], []byte("<!--")):
			return s.skipTo(i, 4, "-->", "a comment")
		case bytes.HasPrefix(b[i:], []byte("<![CDATA[")):
			if s.depth == 0 {
				return 0, s.errorf(i, "a CDATA section outside the root element")
			}
			return s.skipTo(i, 9, "]]>", "a CDATA section")
		case len(b)-i < 9 && !s.eof:
			return 0, errNeedMore
		case bytes.HasPrefix(b[i:], []byte("<!DOCTYPE")):
			return s.skipDoctype(i)
		}
		return 0, s.errorf(i, "unknown markup %q", cut(b[i:], 12))
	case '/':
		return s.endTag(i)
	}
	return s.startTag(i)
}

func (s *xmlScanner) needMore(i int) error {
	if s.eof {
		return s.errorf(i, "the input ends inside a tag")
	}
	return errNeedMore
}

func (s *xmlScanner) skipTo(i, skip int, end, what string) (int, error) {
	j := bytes.Index(s.buf[i+skip:s.end], []byte(end))
	if j < 0 {
		if s.eof {
			return 0, s.errorf(i, "%s that never ends", what)
		}
		return 0, errNeedMore
	}
	return i + skip + j + len(end), nil
}

// skipDoctype skips <!DOCTYPE …>, with an internal subset in brackets and
// quoted strings that may hold '>'.
func (s *xmlScanner) skipDoctype(i int) (int, error) {
	if s.depth > 0 || s.root {
		return 0, s.errorf(i, "a DOCTYPE inside the document")
	}
	b := s.buf[:s.end]
	depth := 0
	var quote byte
	for j := i + 9; j < len(b); j++ {
		c := b[j]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == '>' && depth <= 0:
			return j + 1, nil
		}
	}
	return 0, s.needMore(i)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// nameStop marks the bytes that end an XML name.
var nameStop = func() (t [256]bool) {
	for _, c := range []byte(" \t\n\r/>=\"'<") {
		t[c] = true
	}
	return t
}()

// valueSlow marks the bytes of an attribute value that need more than
// copying: markup, entities, whitespace to normalise, non-ASCII to
// validate. Quotes are checked apart, since only one of them ends a value.
var valueSlow = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c == '&' || c == '<' || c < 0x20 || c >= 0x80
	}
	return t
}()

// nameEnd returns the end of the XML name starting at j.
func nameEnd(b []byte, j int) int {
	for j < len(b) && !nameStop[b[j]] {
		j++
	}
	return j
}

func (s *xmlScanner) endTag(i int) (int, error) {
	b := s.buf[:s.end]
	j := nameEnd(b, i+2)
	if j >= len(b) {
		return 0, s.needMore(i)
	}
	name := b[i+2 : j]
	for j < len(b) && isSpace(b[j]) {
		j++
	}
	if j >= len(b) {
		return 0, s.needMore(i)
	}
	if b[j] != '>' || len(name) == 0 {
		return 0, s.errorf(i, "malformed end tag %q", cut(b[i:], 40))
	}
	if s.depth == 0 {
		return 0, s.errorf(i, "</%s> without a start tag", name)
	}
	if open := s.stack[s.depth-1]; open != string(name) {
		return 0, s.errorf(i, "</%s> closes <%s>", name, open)
	}
	s.depth--
	if s.depth == 0 {
		s.root = true
	}
	s.kind, s.name = tokEnd, localName(name)
	return j + 1, nil
}

func (s *xmlScanner) startTag(i int) (int, error) {
	b := s.buf[:s.end]
	j := nameEnd(b, i+1)
	if j >= len(b) {
		return 0, s.needMore(i)
	}
	name := b[i+1 : j]
	if len(name) == 0 {
		return 0, s.errorf(i, "'<' that starts no tag")
	}
	if s.root {
		return 0, s.errorf(i, "<%s> after the root element has ended", name)
	}
	if s.depth >= xmlMaxDepth {
		return 0, s.errorf(i, "elements nested deeper than %d", xmlMaxDepth)
	}
	s.attrs = s.attrs[:0]
	s.arena = s.arena[:0]
	self := false
	for {
		sp := j
		for j < len(b) && isSpace(b[j]) {
			j++
		}
		if j >= len(b) {
			return 0, s.needMore(i)
		}
		if b[j] == '>' {
			j++
			break
		}
		if b[j] == '/' {
			if j+1 >= len(b) {
				return 0, s.needMore(i)
			}
			if b[j+1] != '>' {
				return 0, s.errorf(j, "'/' not followed by '>' in <%s>", name)
			}
			self = true
			j += 2
			break
		}
		if sp == j {
			return 0, s.errorf(j, "no space before an attribute in <%s>", name)
		}
		k := nameEnd(b, j)
		if k >= len(b) {
			return 0, s.needMore(i)
		}
		an := b[j:k]
		if len(an) == 0 {
			return 0, s.errorf(j, "unexpected %q in <%s>", b[j], name)
		}
		j = k
		for j < len(b) && isSpace(b[j]) {
			j++
		}
		if j >= len(b) {
			return 0, s.needMore(i)
		}
		if b[j] != '=' {
			return 0, s.errorf(j, "attribute %s of <%s> has no value", an, name)
		}
		j++
		for j < len(b) && isSpace(b[j]) {
			j++
		}
		if j >= len(b) {
			return 0, s.needMore(i)
		}
		q := b[j]
		if q != '"' && q != '\'' {
			return 0, s.errorf(j, "the value of attribute %s of <%s> is not quoted", an, name)
		}
		j++
		a, next, err := s.attrValue(b, j, q)
		if err != nil {
			if err == errNeedMore {
				return 0, s.needMore(i)
			}
			return 0, err
		}
		a.name = an
		s.attrs = append(s.attrs, a)
		j = next
	}
	for k := range s.attrs {
		a := &s.attrs[k]
		if a.inArena {
			a.value = s.arena[a.a:a.b]
		} else {
			a.value = b[a.a:a.b]
		}
	}
	if s.depth == len(s.stack) {
		s.stack = append(s.stack, "")
	}
	// The name must outlive the buffer it is read from, until its end
	// tag; XES's own names cost no copy.
	if s.stack[s.depth] != string(name) {
		s.stack[s.depth] = elemName(name)
	}
	s.depth++
	s.kind, s.selfClose, s.name = tokStart, self, localName(name)
	return j, nil
}

// attrValue reads an attribute value starting at j, up to quote q. Values
// with no markup, no whitespace to normalise and only ASCII are left in
// place; the rest are decoded into the arena.
func (s *xmlScanner) attrValue(b []byte, j int, q byte) (xmlAttr, int, error) {
	start := j
	// Eight bytes at a time while none of them ends the value or needs
	// the slow path; the byte loop below then finds which one does.
	qq := swarOnes * uint64(q)
	for j+8 <= len(b) && !swarStops(binary.LittleEndian.Uint64(b[j:]), qq) {
		j += 8
	}
	for j < len(b) {
		c := b[j]
		if c == q {
			return xmlAttr{a: int32(start), b: int32(j)}, j + 1, nil
		}
		if valueSlow[c] {
			break
		}
		j++
	}
	if j >= len(b) {
		return xmlAttr{}, 0, errNeedMore
	}
	// Slow path.
	end := bytes.IndexByte(b[j:], q)
	if end < 0 {
		return xmlAttr{}, 0, errNeedMore
	}
	end += j
	raw := b[start:end]
	a := xmlAttr{inArena: true, a: int32(len(s.arena))}
	for k := 0; k < len(raw); {
		c := raw[k]
		switch {
		case c == '<':
			return xmlAttr{}, 0, s.errorf(start+k, "'<' in an attribute value")
		case c == '\t' || c == '\n' || c == '\r':
			// XML's attribute-value normalisation.
			if c == '\r' && k+1 < len(raw) && raw[k+1] == '\n' {
				k++
			}
			s.arena = append(s.arena, ' ')
			k++
		case c < 0x20:
			// Not allowed in XML at all; kept, but flagged like invalid
			// UTF-8 so that only the event holding it is refused.
			a.badText = true
			s.arena = append(s.arena, c)
			k++
		case c == '&':
			semi := bytes.IndexByte(raw[k:], ';')
			if semi < 0 {
				return xmlAttr{}, 0, s.errorf(start+k, "'&' that starts no entity in an attribute value (write &amp;)")
			}
			r, ok := entity(raw[k+1 : k+semi])
			if !ok {
				return xmlAttr{}, 0, s.errorf(start+k, "unknown entity %q", raw[k:k+semi+1])
			}
			s.arena = utf8.AppendRune(s.arena, r)
			k += semi + 1
		default:
			n := k
			for n < len(raw) && raw[n] != '&' && raw[n] != '<' && raw[n] >= 0x20 {
				n++
			}
			if !utf8.Valid(raw[k:n]) {
				a.badText = true
			}
			s.arena = append(s.arena, raw[k:n]...)
			k = n
		}
	}
	a.b = int32(len(s.arena))
	return a, end + 1, nil
}

const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// swarHasZero reports whether some byte of x is zero.
func swarHasZero(x uint64) bool { return (x-swarOnes)&^x&swarHigh != 0 }

// swarStops reports whether some byte of x is the quote (qq: the quote in
// every byte) or one that valueSlow marks: below 0x20, from 0x80, '&', '<'.
func swarStops(x, qq uint64) bool {
	return (x-swarOnes*0x20)&^x&swarHigh != 0 || x&swarHigh != 0 ||
		swarHasZero(x^(swarOnes*'&')) || swarHasZero(x^(swarOnes*'<')) || swarHasZero(x^qq)
}

// entity decodes the five predefined entities and character references.
func entity(name []byte) (rune, bool) {
	switch string(name) {
	case "amp":
		return '&', true
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "quot":
		return '"', true
	case "apos":
		return '\'', true
	}
	if len(name) < 2 || name[0] != '#' {
		return 0, false
	}
	var v uint64
	var err error
	if name[1] == 'x' {
		v, err = strconv.ParseUint(string(name[2:]), 16, 32)
	} else {
		v, err = strconv.ParseUint(string(name[1:]), 10, 32)
	}
	if err != nil || v == 0 || v > utf8.MaxRune || (v >= 0xD800 && v <= 0xDFFF) {
		return 0, false
	}
	return rune(v), true
}

// elemName returns name as a string, without allocating for the names
// XES uses.
func elemName(name []byte) string {
	switch string(name) {
	case "log":
		return "log"
	case "trace":
		return "trace"
	case "event":
		return "event"
	case "string":
		return "string"
	case "date":
		return "date"
	case "int":
		return "int"
	case "float":
		return "float"
	case "boolean":
		return "boolean"
	case "id":
		return "id"
	case "list":
		return "list"
	case "values":
		return "values"
	case "container":
		return "container"
	}
	return string(name)
}

// localName drops a namespace prefix: XES files may be written with one
// (<xes:event>), and only the local names mean anything here.
func localName(name []byte) []byte {
	if k := bytes.IndexByte(name, ':'); k >= 0 {
		return name[k+1:]
	}
	return name
}

func (s *xmlScanner) attr(name string) ([]byte, *xmlAttr) {
	for k := range s.attrs {
		if string(s.attrs[k].name) == name {
			return s.attrs[k].value, &s.attrs[k]
		}
	}
	return nil, nil
}

func cut(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// xmlDecoding looks at the start of an XML document for a byte-order mark
// or an encoding declaration and returns a reader that yields UTF-8. It
// knows UTF-8 and ASCII, and ISO-8859-1 and Windows-1252, which old
// process-mining tools wrote; anything else is refused rather than read
// as garbage.
func xmlDecoding(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(512)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("xes: read: %w", err)
	}
	switch {
	case bytes.HasPrefix(head, []byte("\xef\xbb\xbf")):
		br.Discard(3)
		return br, nil
	case bytes.HasPrefix(head, []byte("\xfe\xff")), bytes.HasPrefix(head, []byte("\xff\xfe")):
		return nil, invalidf("xes: the file is in UTF-16; convert it to UTF-8")
	}
	if !bytes.HasPrefix(head, []byte("<?xml")) {
		return br, nil
	}
	decl := head
	if k := bytes.Index(head, []byte("?>")); k >= 0 {
		decl = head[:k]
	}
	k := bytes.Index(decl, []byte("encoding"))
	if k < 0 {
		return br, nil
	}
	rest := bytes.TrimLeft(decl[k+len("encoding"):], " \t\r\n")
	rest = bytes.TrimLeft(bytes.TrimPrefix(rest, []byte("=")), " \t\r\n")
	if len(rest) == 0 || (rest[0] != '"' && rest[0] != '\'') {
		return br, nil
	}
	end := bytes.IndexByte(rest[1:], rest[0])
	if end < 0 {
		return br, nil
	}
	enc := strings.ToLower(string(rest[1 : end+1]))
	switch enc {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return br, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1":
		return charmap.ISO8859_1.NewDecoder().Reader(br), nil
	case "windows-1252", "cp1252":
		return charmap.Windows1252.NewDecoder().Reader(br), nil
	}
	return nil, invalidf("xes: encoding %q is not supported; convert the file to UTF-8", enc)
}
