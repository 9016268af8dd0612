package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/trekhq/trek/internal/event"
)

// This file is the binary encoding of events used in write-ahead log
// records (and so in the head, which keeps the records it replayed or
// appended instead of decoded events: a decoded event with its three maps
// costs several times its encoded size), and the tagged encoding of
// JSON-like values shared with the column files' nested columns.

// recFormat is the version byte that starts every log record the store
// writes. A record with another version is refused on replay, never
// guessed at.
const recFormat = 1

// recEvents is the kind byte of a record holding a batch of events.
const recEvents = 1

// maxDepth bounds the nesting of values, so that a corrupt or hostile
// record cannot exhaust the stack of the recursive decoder. The event
// package allows far less.
const maxDepth = 64

// Value tags of the tagged encoding.
const (
	tagNull   = 0
	tagFalse  = 1
	tagTrue   = 2
	tagString = 3
	tagNumber = 4 // the number's JSON text; decoded as json.Number
	tagFloat  = 5 // float64 bits, only for NaN and ±Inf, which JSON cannot carry
	tagArray  = 6
	tagObject = 7
	// tagSame stands, in the traits and context columns of format 2, for
	// the value of the row above; it is never part of a value.
	tagSame = 8
)

var errCorrupt = errors.New("corrupt encoding")

// appendUvarint and friends are spelled out so the encoder reads as a
// list of fields.
func appendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }
func appendVarint(b []byte, v int64) []byte   { return binary.AppendVarint(b, v) }

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Times are kept as whole milliseconds since the Unix epoch plus the
// nanoseconds below the millisecond: Segment times have millisecond
// precision, so the second part is almost always zero and costs nothing
// once compressed, yet no precision is lost for senders that have more.
func splitTime(t time.Time) (ms int64, subns int64) {
	ns := int64(t.Nanosecond())
	return t.Unix()*1000 + ns/1e6, ns % 1e6
}

func joinTime(ms, subns int64) time.Time {
	sec := ms / 1000
	rem := ms % 1000
	if rem < 0 {
		sec--
		rem += 1000
	}
	return time.Unix(sec, rem*1e6+subns).UTC()
}

// appendTime encodes t as 0 for the zero time, else 1, ms, subns.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	ms, sub := splitTime(t)
	b = append(b, 1)
	b = appendVarint(b, ms)
	return appendUvarint(b, uint64(sub))
}

// decoder reads the fields of an encoded record. The first error sticks:
// every later read returns zero values, so callers check err once.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", errCorrupt, what)
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	// Most are one byte (lengths, tags, counts): that case is inlined.
	if len(d.b) == 0 || d.b[0] >= 0x80 {
		return d.uvarintSlow()
	}
	v := uint64(d.b[0])
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarintSlow() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad unsigned varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("length past the end")
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

func (d *decoder) string() string { return string(d.bytes()) }

func (d *decoder) timeParts() optTime {
	switch d.byte() {
	case 0:
		return optTime{zero: true}
	case 1:
		ms := d.varint()
		sub := d.uvarint()
		if sub >= 1e6 {
			d.fail("sub-millisecond part out of range")
			return optTime{zero: true}
		}
		return optTime{ms: ms, sub: int64(sub)}
	}
	d.fail("bad time flag")
	return optTime{zero: true}
}

func (d *decoder) time() time.Time {
	switch d.byte() {
	case 0:
		return time.Time{}
	case 1:
		ms := d.varint()
		sub := d.uvarint()
		if sub >= 1e6 {
			d.fail("sub-millisecond part out of range")
			return time.Time{}
		}
		return joinTime(ms, int64(sub))
	}
	d.fail("bad time flag")
	return time.Time{}
}

// appendValue appends v in the tagged encoding. It takes what
// encoding/json decodes into (with or without UseNumber) and the Go
// scalars importers are likely to produce; anything else goes through
// encoding/json first, so it is stored as its JSON form.
func appendValue(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return b, fmt.Errorf("value nested deeper than %d", maxDepth)
	}
	switch x := v.(type) {
	case nil:
		return append(b, tagNull), nil
	case bool:
		if x {
			return append(b, tagTrue), nil
		}
		return append(b, tagFalse), nil
	case string:
		return appendString(append(b, tagString), x), nil
	case json.Number:
		// Kept as its text; text that is not a JSON number would make
		// every later export fail, so it is refused here.
		if !validNumber(string(x)) {
			return b, fmt.Errorf("%q is not a JSON number", string(x))
		}
		return appendString(append(b, tagNumber), string(x)), nil
	case float64:
		return appendFloat(b, x, 64), nil
	case float32:
		return appendFloat(b, float64(x), 32), nil
	case int:
		return appendString(append(b, tagNumber), strconv.FormatInt(int64(x), 10)), nil
	case int64:
		return appendString(append(b, tagNumber), strconv.FormatInt(x, 10)), nil
	case int32:
		return appendString(append(b, tagNumber), strconv.FormatInt(int64(x), 10)), nil
	case uint64:
		return appendString(append(b, tagNumber), strconv.FormatUint(x, 10)), nil
	case uint32:
		return appendString(append(b, tagNumber), strconv.FormatUint(uint64(x), 10)), nil
	case []any:
		b = appendUvarint(append(b, tagArray), uint64(len(x)))
		var err error
		for _, e := range x {
			if b, err = appendValue(b, e, depth+1); err != nil {
				return b, err
			}
		}
		return b, nil
	case map[string]any:
		return appendObject(b, x, depth)
	}
	// A type encoding/json would not produce when decoding: store its
	// JSON form, so that what comes back is what a JSON round trip gives.
	raw, err := json.Marshal(v)
	if err != nil {
		return b, fmt.Errorf("encode %T: %w", v, err)
	}
	var generic any
	if err := decodeJSON(raw, &generic); err != nil {
		return b, fmt.Errorf("encode %T: %w", v, err)
	}
	return appendValue(b, generic, depth)
}

// appendObject writes the keys in sorted order: the encoding is then
// deterministic, and the same context shape in consecutive events becomes
// a repeated byte string that the column files' compressor folds away.
// Keys and values are taken in one pass over the map and sorted together,
// so no value is looked up again by its key.
func appendObject(b []byte, m map[string]any, depth int) ([]byte, error) {
	return appendObjectExcept(b, m, depth, "")
}

// appendObjectExcept is appendObject leaving out the key omit, if m has
// it ("" leaves out nothing).
func appendObjectExcept(b []byte, m map[string]any, depth int, omit string) ([]byte, error) {
	n := len(m)
	if omit != "" {
		if _, ok := m[omit]; ok {
			n--
		} else {
			omit = ""
		}
	}
	b = appendUvarint(append(b, tagObject), uint64(n))
	var small [16]member // most objects are small: no allocation for them
	members := small[:0]
	if n > len(small) {
		members = make([]member, 0, n)
	}
	for k, v := range m {
		if omit != "" && k == omit {
			continue
		}
		members = append(members, member{k, v})
	}
	sortMembers(members)
	var err error
	for i := range members {
		b = appendString(b, members[i].key)
		if b, err = appendValue(b, members[i].value, depth+1); err != nil {
			return b, err
		}
	}
	return b, nil
}

// member is one key of an object and its value.
type member struct {
	key   string
	value any
}

// sortMembers orders members by key, bytewise, as slices.Sort orders
// strings. Objects are mostly small, where insertion sort is fastest and
// needs no comparison function.
func sortMembers(ms []member) {
	if len(ms) > 16 {
		slices.SortFunc(ms, func(a, b member) int { return strings.Compare(a.key, b.key) })
		return
	}
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].key < ms[j-1].key; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}

func appendFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		b = append(b, tagFloat)
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
	}
	return appendString(append(b, tagNumber), formatFloat(f, bits))
}

// formatFloat formats f as encoding/json does, so that a float64 stored
// and read back as json.Number has the text json.Marshal would give it.
func formatFloat(f float64, bits int) string {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	s := strconv.FormatFloat(f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(s)
		if n >= 4 && s[n-4] == 'e' && s[n-3] == '-' && s[n-2] == '0' {
			s = s[:n-2] + s[n-1:]
		}
	}
	return s
}

func (d *decoder) value(depth int) any {
	if depth > maxDepth {
		d.fail("value nested too deep")
		return nil
	}
	switch d.byte() {
	case tagNull:
		return nil
	case tagFalse:
		return false
	case tagTrue:
		return true
	case tagString:
		return d.string()
	case tagNumber:
		return json.Number(d.string())
	case tagFloat:
		if len(d.b) < 8 {
			d.fail("truncated float")
			return nil
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
		d.b = d.b[8:]
		return f
	case tagArray:
		n := d.uvarint()
		// Every element takes at least one byte: a count larger than
		// what is left is corrupt, and must not size an allocation.
		if n > uint64(len(d.b)) {
			d.fail("array length past the end")
			return nil
		}
		a := make([]any, n)
		for i := range a {
			a[i] = d.value(depth + 1)
		}
		return a
	case tagObject:
		return d.object(depth)
	}
	if d.err == nil {
		d.fail("unknown value tag")
	}
	return nil
}

// object reads an object's body (after its tag).
func (d *decoder) object(depth int) map[string]any {
	n := d.uvarint()
	if n > uint64(len(d.b))/2 {
		d.fail("object size past the end")
		return nil
	}
	m := make(map[string]any, n)
	for range n {
		k := d.string()
		m[k] = d.value(depth + 1)
		if d.err != nil {
			return nil
		}
	}
	return m
}

func (d *decoder) mapValue() map[string]any {
	switch d.byte() {
	case tagNull:
		return nil
	case tagObject:
		return d.object(0)
	}
	d.fail("map is neither null nor an object")
	return nil
}

// appendEvent encodes one event with the key it is stored under. The key
// and the time come first, so that the head can order events without
// decoding the rest. omitContext is a key of the context left out (see
// Options.OmitContext).
func appendEvent(b []byte, key uint64, e *event.Event, omitContext string, mm *mapMemo) ([]byte, error) {
	b = appendUvarint(b, key)
	ms, sub := splitTime(e.Timestamp)
	b = appendVarint(b, ms)
	b = appendUvarint(b, uint64(sub))
	b = appendTime(b, e.OriginalTimestamp)
	b = appendTime(b, e.SentAt)
	b = appendTime(b, e.ReceivedAt)
	for _, s := range [...]string{e.MessageID, string(e.Type), e.Event, e.Name, e.UserID,
		e.AnonymousID, e.PreviousID, e.GroupID, e.Channel, e.SourceID} {
		b = appendString(b, s)
	}
	var err error
	if b, err = mm.appendMap(b, memoProperties, e.Properties, ""); err != nil {
		return b, err
	}
	if b, err = mm.appendMap(b, memoTraits, e.Traits, ""); err != nil {
		return b, err
	}
	return mm.appendMap(b, memoContext, e.Context, omitContext)
}

// mapMemo remembers the maps encoded into the record being built and
// where their encodings lie, so that an event holding a map already
// encoded copies those bytes instead of walking and sorting the map
// again. Importers share maps between events (an XES trace's context, an
// NDJSON device's repeated context, library and os), and an export's
// events of one device are seldom next to each other, so the memo is a
// table of many maps, each in its slot by address; a map that lands in a
// taken slot takes it over. Same map means same bytes: nothing may change
// an event's maps while Append encodes them, as for any concurrent read
// of a map. A nil *mapMemo remembers nothing.
type mapMemo struct {
	tab   []memoEntry
	shift uint
	// The slots filled by the current event: their bytes move with it.
	fresh  [3]int
	nfresh int
}

type memoEntry struct {
	ptr        unsafe.Pointer
	field      int // the encoding of a context leaves out a key
	start, end int
}

const (
	memoProperties = iota
	memoTraits
	memoContext
)

// newMapMemo sizes the table for a run of n events: a slot per event up
// to 1,024, as most of a batch's maps are its own.
func newMapMemo(n int) *mapMemo {
	bits := uint(4)
	for bits < 10 && 1<<bits < n {
		bits++
	}
	return &mapMemo{tab: make([]memoEntry, 1<<bits), shift: 64 - bits}
}

// mapPointer is m's identity: a map value is a pointer to its table.
func mapPointer(m map[string]any) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&m)) }

// appendMap encodes m, nil as null, leaving out the key omit.
func (mm *mapMemo) appendMap(b []byte, f int, m map[string]any, omit string) ([]byte, error) {
	if m == nil {
		return append(b, tagNull), nil
	}
	if mm == nil {
		return appendObjectExcept(b, m, 0, omit)
	}
	p := mapPointer(m)
	slot := int((uint64(uintptr(p)) >> 3 * 0x9e3779b97f4a7c15) >> mm.shift)
	e := &mm.tab[slot]
	if e.ptr == p && e.field == f {
		return append(b, b[e.start:e.end]...), nil
	}
	start := len(b)
	b, err := appendObjectExcept(b, m, 0, omit)
	if err != nil {
		return b, err
	}
	*e = memoEntry{ptr: p, field: f, start: start, end: len(b)}
	// Two maps of one event may take the same slot: it moves only once.
	if !slices.Contains(mm.fresh[:mm.nfresh], slot) {
		mm.fresh[mm.nfresh] = slot
		mm.nfresh++
	}
	return b, nil
}

// moved tells the memo that the current event's bytes moved by delta; the
// next event is a new one.
func (mm *mapMemo) moved(delta int) {
	for _, slot := range mm.fresh[:mm.nfresh] {
		mm.tab[slot].start += delta
		mm.tab[slot].end += delta
	}
	mm.nfresh = 0
}

// eventHeader reads the key and the time of an encoded event.
func eventHeader(b []byte) (key uint64, ms, sub int64, err error) {
	d := decoder{b: b}
	key = d.uvarint()
	ms = d.varint()
	sub = int64(d.uvarint())
	if d.err == nil && (sub < 0 || sub >= 1e6) {
		d.fail("sub-millisecond part out of range")
	}
	return key, ms, sub, d.err
}

func decodeEvent(b []byte) (key uint64, e event.Event, err error) {
	return decodeEventFields(b, AllFields)
}

// decodeEventFields decodes the parts of an event that fields asks for
// (and those every query gets), stepping over the rest.
func decodeEventFields(b []byte, fields Fields) (key uint64, e event.Event, err error) {
	d := decoder{b: b}
	key = d.uvarint()
	ms := d.varint()
	sub := d.uvarint()
	if sub >= 1e6 {
		d.fail("sub-millisecond part out of range")
	}
	e.Timestamp = joinTime(ms, int64(sub))
	msg := fields&FieldMessage != 0
	ids := fields&FieldIDs != 0
	str := func(want bool) string {
		if want {
			return d.string()
		}
		d.bytes()
		return ""
	}
	if msg {
		e.OriginalTimestamp = d.time()
		e.SentAt = d.time()
		e.ReceivedAt = d.time()
	} else {
		d.timeParts()
		d.timeParts()
		d.timeParts()
	}
	e.MessageID = str(msg)
	e.Type = event.Type(d.string())
	e.Event = d.string()
	e.Name = d.string()
	e.UserID = str(ids)
	e.AnonymousID = str(ids)
	e.PreviousID = str(ids)
	e.GroupID = str(ids)
	e.Channel = d.string()
	e.SourceID = d.string()
	m := func(want Fields) map[string]any {
		if fields&want != 0 {
			return d.mapValue()
		}
		d.skipValue(0)
		return nil
	}
	e.Properties = m(FieldProperties)
	if len(e.Properties) == 0 {
		// As the column files give it back: a property column cannot
		// tell an empty properties object from none.
		e.Properties = nil
	}
	e.Traits = m(FieldTraits)
	e.Context = m(FieldContext)
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes after event")
	}
	if d.err != nil {
		return 0, event.Event{}, d.err
	}
	return key, e, nil
}

// batch is events to store with the key each is stored under, held by
// reference: copying an event (some 300 bytes) per append cost as much as
// a tenth of encoding it.
type batch struct {
	keys   []uint64
	events []*event.Event
}

func (b batch) len() int { return len(b.events) }

func (b batch) slice(lo, hi int) batch { return batch{b.keys[lo:hi], b.events[lo:hi]} }

// batchOf refers to the events of recs.
func batchOf(recs []Record) batch {
	b := batch{keys: make([]uint64, len(recs)), events: make([]*event.Event, len(recs))}
	for i := range recs {
		b.keys[i], b.events[i] = recs[i].Key, &recs[i].Event
	}
	return b
}

// encodeRecord encodes a batch of records as one log record. Each event
// is prefixed with its length so that the head can index the events of a
// record without decoding them. offs receives each event's start and end.
// omitContext is a context key left out (Options.OmitContext).
//
// The record is built in a reused buffer and copied out at its exact
// size: the head keeps it until the next fold, so growing a fresh slice
// would cost a copy per doubling and keep up to half of it unused.
func encodeRecord(firstSeq uint64, recs batch, offs [][2]int, omitContext string) ([]byte, error) {
	if parts := encodeParts(recs.len()); parts > 1 {
		return encodeRecordParallel(firstSeq, recs, offs, omitContext, parts)
	}
	buf := recordBufs.Get().(*[]byte)
	b := appendRecordHeader((*buf)[:0], firstSeq, recs.len())
	b, err := appendEvents(b, recs, offs, 0, omitContext)
	if err != nil {
		putRecordBuf(buf, b)
		return nil, err
	}
	rec := bytes.Clone(b)
	putRecordBuf(buf, b)
	return rec, nil
}

// parallelEncodeMin is the number of events from which a record is
// encoded on several goroutines. Encoding is most of Append's work, and
// Append runs on the ingest layer's one writer goroutine per workspace,
// so a large group (an import hands over thousands of events at once)
// would otherwise encode on one core while the others wait.
const parallelEncodeMin = 2048

// encodeParts is how many goroutines encode a record of n events.
func encodeParts(n int) int {
	if n < parallelEncodeMin {
		return 1
	}
	return max(1, min(runtime.GOMAXPROCS(0), n/(parallelEncodeMin/2)))
}

func appendRecordHeader(b []byte, firstSeq uint64, n int) []byte {
	b = append(b, recFormat, recEvents)
	b = appendUvarint(b, firstSeq)
	return appendUvarint(b, uint64(n))
}

// appendEvents appends recs to b, each after its length, and sets offs to
// where each event lies in b; first is the index of recs[0] in the whole
// record, for the error.
func appendEvents(b []byte, recs batch, offs [][2]int, first int, omitContext string) ([]byte, error) {
	var err error
	mm := newMapMemo(recs.len())
	for i, e := range recs.events {
		// Each event is encoded in place after room for a two-byte
		// length (events of 128 B to 16 KiB, nearly all of them); the
		// rare other one is moved once its length is known.
		at := len(b)
		b = append(b, 0, 0)
		b, err = appendEvent(b, recs.keys[i], e, omitContext, mm)
		if err != nil {
			return b, fmt.Errorf("event %d (messageId %q): %w", first+i, e.MessageID, err)
		}
		n := len(b) - at - 2
		w := uvarintLen(uint64(n))
		switch {
		case w < 2:
			copy(b[at+w:], b[at+2:])
			b = b[:len(b)-(2-w)]
		case w > 2:
			b = append(b, make([]byte, w-2)...)
			copy(b[at+w:], b[at+2:at+2+n])
		}
		binary.PutUvarint(b[at:], uint64(n))
		mm.moved(w - 2)
		offs[i] = [2]int{at + w, at + w + n}
	}
	return b, nil
}

// encodeRecordParallel encodes runs of recs on parts goroutines, each
// into its own buffer, and joins them: the bytes are those of the serial
// encoding, and an error is that of the first bad event.
func encodeRecordParallel(firstSeq uint64, recs batch, offs [][2]int, omitContext string, parts int) ([]byte, error) {
	type part struct {
		buf *[]byte
		b   []byte
		err error
	}
	ps := make([]part, parts)
	var wg sync.WaitGroup
	for i := range ps {
		lo, hi := i*recs.len()/parts, (i+1)*recs.len()/parts
		wg.Go(func() {
			p := &ps[i]
			p.buf = recordBufs.Get().(*[]byte)
			p.b, p.err = appendEvents((*p.buf)[:0], recs.slice(lo, hi), offs[lo:hi], lo, omitContext)
		})
	}
	wg.Wait()
	defer func() {
		for _, p := range ps {
			putRecordBuf(p.buf, p.b)
		}
	}()
	var hdr [2 + 2*binary.MaxVarintLen64]byte
	h := appendRecordHeader(hdr[:0], firstSeq, recs.len())
	size := len(h)
	for _, p := range ps {
		if p.err != nil {
			return nil, p.err
		}
		size += len(p.b)
	}
	rec := make([]byte, 0, size)
	rec = append(rec, h...)
	for i, p := range ps {
		lo, hi := i*recs.len()/parts, (i+1)*recs.len()/parts
		at := len(rec)
		rec = append(rec, p.b...)
		for j := lo; j < hi; j++ {
			offs[j][0] += at
			offs[j][1] += at
		}
	}
	return rec, nil
}

// encodeHeadParts encodes recs for a store without a log (Options.NoLog),
// whose head alone keeps them: in runs, in parallel for a large batch, each
// run into a buffer of its own that the head keeps as it is. A log record
// must be one piece, built in a reused buffer and copied out at its exact
// size; the head needs neither the piece nor the header, and copying a
// batch's 2–3 MB cost a tenth of encoding it. Each buffer is sized from
// estimate, the bytes per event of earlier batches, with a margin. part
// receives the run each event is in, offs where it lies in that run.
func encodeHeadParts(recs batch, offs [][2]int, part []uint32, omitContext string, estimate int) ([][]byte, error) {
	parts := encodeParts(recs.len())
	out := make([][]byte, parts)
	errs := make([]error, parts)
	encode := func(i int) {
		lo, hi := i*recs.len()/parts, (i+1)*recs.len()/parts
		b := make([]byte, 0, (hi-lo)*estimate+(hi-lo)*estimate/16+4096)
		out[i], errs[i] = appendEvents(b, recs.slice(lo, hi), offs[lo:hi], lo, omitContext)
		for j := lo; j < hi; j++ {
			part[j] = uint32(i)
		}
	}
	if parts == 1 {
		encode(0)
	} else {
		var wg sync.WaitGroup
		for i := range parts {
			wg.Go(func() { encode(i) })
		}
		wg.Wait()
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// recordBufs holds the buffers encodeRecord builds records in.
var recordBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledRecord bounds the buffers kept for reuse, so that one huge
// record does not stay in memory for good.
const maxPooledRecord = 16 << 20

func putRecordBuf(buf *[]byte, b []byte) {
	if cap(b) > maxPooledRecord {
		return
	}
	*buf = b[:0]
	recordBufs.Put(buf)
}

// uvarintLen is the length of v's uvarint encoding.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// recordEvents walks a log record, calling fn with each event's sequence
// number, its offset in rec and its encoded bytes (rec[off:off+len(ev)]).
func recordEvents(rec []byte, fn func(seq uint64, off int, ev []byte) error) error {
	if len(rec) < 2 {
		return fmt.Errorf("%w: record of %d bytes", errCorrupt, len(rec))
	}
	if rec[0] != recFormat {
		return fmt.Errorf("record format %d, this trek reads format %d", rec[0], recFormat)
	}
	if rec[1] != recEvents {
		return fmt.Errorf("record kind %d is unknown to this trek", rec[1])
	}
	d := decoder{b: rec[2:]}
	first := d.uvarint()
	n := d.uvarint()
	if d.err != nil {
		return d.err
	}
	if n > uint64(len(d.b)) {
		return fmt.Errorf("%w: %d events in %d bytes", errCorrupt, n, len(d.b))
	}
	for i := range n {
		ev := d.bytes()
		if d.err != nil {
			return d.err
		}
		if err := fn(first+i, len(rec)-len(d.b)-len(ev), ev); err != nil {
			return err
		}
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%w: trailing bytes after %d events", errCorrupt, n)
	}
	return nil
}

// decodeJSON decodes with UseNumber, as the event package does, so that
// numbers keep their exact text.
func decodeJSON(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

// validNumber reports whether s is a JSON number (RFC 8259).
func validNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
