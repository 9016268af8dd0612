package importer

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
)

// Sink receives the events a reader reads, one call at a time, in file
// order. An error from it ends the read and is returned, wrapped with the
// position of the event. The sink owns the event it is given, but maps in
// it may be shared with other events of the same read (see the package
// documentation): copy a map before changing it.
type Sink func(e event.Event) error

// Options are the settings every reader shares.
type Options struct {
	// SourceID is the trek source the events are imported into: each
	// event's SourceID, and part of its messageId.
	SourceID string
	// DefaultChannel is the channel of events whose input names none of
	// trek's channels. Empty means "other".
	DefaultChannel string
	// Now gives the import time, every event's ReceivedAt. It is read once,
	// when the read starts, so that one import shares one time. Default
	// time.Now.
	Now func() time.Time
	// OnReject is told of each line, row or XES event that is skipped
	// because it is not a valid event: its line number (1-based; for XES
	// the line of the <event> tag), why, and its raw bytes (for XES the
	// event element, or nil for one too long to keep, past about
	// MaxRecordBytes; for CSV the row re-encoded, as encoding/csv keeps no
	// raw bytes). The slice is only valid during the call. Nil: rejects are
	// only counted.
	OnReject func(line int, reason string, raw []byte)
	// Progress, when set, is called at most every 200 ms while reading,
	// and once more at the end, with the bytes of input consumed and their
	// total (0 when unknown) and the number of events sent to the sink so
	// far. For a file from Open the bytes are those of the file as it is
	// on disk, gzipped or not, so that done reaches total.
	Progress func(done, total int64, events int64)
	// TotalBytes is the input's size for Progress when the reader given to
	// a Read function does not report it itself (see Positioner).
	TotalBytes int64
	// MaxRecordBytes caps one NDJSON line, one CSV row or one XML tag: a
	// longer line is rejected, a longer row or tag ends the read with an
	// error (neither format says where the next record starts). It bounds
	// the memory a read needs. Default 1 MiB.
	MaxRecordBytes int
	// Limits are the rules every event must pass, the collection API's
	// (event.Validate); zero fields take their defaults. PastBound never
	// applies: an import is history.
	Limits event.Limits
}

// Positioner is implemented by readers that know how far they are through
// their input, as those from Open are. The Read functions use it for
// Options.Progress.
type Positioner interface {
	// Position returns the bytes consumed from the underlying input and
	// its total size (0 when unknown).
	Position() (done, total int64)
}

// Stats sums up one read.
type Stats struct {
	// Events is the number of events given to the sink.
	Events int64 `json:"events"`
	// Rejected is the number of lines, rows or XES events skipped as
	// invalid (each reported to Options.OnReject).
	Rejected int64 `json:"rejected"`
	// Bytes is the number of bytes read from the reader given (inflated,
	// when it gunzips).
	Bytes int64 `json:"bytes"`
}

const (
	defaultMaxRecord = 1 << 20
	progressEvery    = 200 * time.Millisecond
	// checkEvery is how many events or rejects pass between looks at the
	// context and the clock: often enough to stop promptly, rarely enough
	// to cost nothing.
	checkEvery = 256
)

// run is the state one Read call shares between its reader and the sink:
// counting, progress, cancellation and the per-event constants.
type run struct {
	ctx      context.Context
	opt      Options
	sink     Sink
	now      time.Time
	channel  string
	lim      event.Limits
	stats    Stats
	counter  *countingReader
	pos      Positioner
	lastTick time.Time
	sinceChk int
	ids      idHasher
}

func newRun(ctx context.Context, r io.Reader, opt Options, sink Sink) (*run, io.Reader) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.MaxRecordBytes <= 0 {
		opt.MaxRecordBytes = defaultMaxRecord
	}
	ch := opt.DefaultChannel
	if ch == "" {
		ch = "other"
	}
	lim := opt.Limits
	lim.NoPastBound = true
	ru := &run{ctx: ctx, opt: opt, sink: sink, now: opt.Now().UTC(), channel: ch, lim: lim.WithDefaults(), ids: idHasher{source: opt.SourceID}}
	ru.pos, _ = r.(Positioner)
	ru.counter = &countingReader{r: r}
	ru.lastTick = time.Now()
	return ru, ru.counter
}

// check refuses options no event could pass with.
func (ru *run) check() error {
	if !event.KnownChannel(ru.channel) {
		return invalidf("the default channel %q is not one of %s", ru.channel, strings.Join(event.Channels, ", "))
	}
	return nil
}

// validate applies the collection API's rules to an imported event, so
// that what an import stores could also have been collected; it returns
// the reason the event breaks them, or "".
//
// event.Validate walks properties, traits and context sorting every
// object's keys so that its reason does not depend on map order; on an
// import that walk cost as much as parsing. So the readers check the
// values' rules as they build them (checked: true when all passed), and
// only an event that fails goes through the full walk, which gives the
// reason. The fields are always event.Validate's. TestValidateAgrees and
// the fuzz targets hold the readers' checks to event.Validate's verdict.
func validate(e *event.Event, lim *event.Limits, checked bool) string {
	var err error
	if checked {
		err = event.ValidateFields(e, lim)
	} else {
		err = event.Validate(e, *lim)
	}
	if err != nil {
		if fe, ok := fault.As(err); ok {
			return fe.Message
		}
		return err.Error()
	}
	return ""
}

// valuesChecked runs valuesOK over an event's three objects, for the
// events whose reader did not check them as it built them.
func valuesChecked(e *event.Event, lim *event.Limits) bool {
	return valuesOK(e.Properties, 1, lim) && valuesOK(e.Traits, 1, lim) && valuesOK(e.Context, 1, lim)
}

// valuesOK reports whether an object of properties, traits or context at
// the given depth (the object itself is 1) keeps event.Validate's value
// rules: depth, keys per object, key names, valid text, finite numbers.
func valuesOK(m map[string]any, depth int, lim *event.Limits) bool {
	if m == nil {
		return true
	}
	if depth > lim.MaxDepth || len(m) > lim.MaxProperties {
		return false
	}
	for k, v := range m {
		if !keyOK(k) || !valueOK(v, depth+1, lim) {
			return false
		}
	}
	return true
}

func valueOK(v any, depth int, lim *event.Limits) bool {
	switch v := v.(type) {
	case nil, bool, json.Number:
		// json.Number: the readers make them only from text that is one.
		return true
	case string:
		return utf8.ValidString(v)
	case float64:
		return !math.IsNaN(v) && !math.IsInf(v, 0)
	case map[string]any:
		return valuesOK(v, depth, lim)
	case []any:
		if depth > lim.MaxDepth {
			return false
		}
		for _, x := range v {
			if !valueOK(x, depth+1, lim) {
				return false
			}
		}
		return true
	}
	return false
}

// keyOK: a key is non-empty, at most event.MaxKeyLen bytes, valid UTF-8
// without control characters (C0, DEL, C1).
func keyOK(k string) bool {
	if k == "" || len(k) > event.MaxKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c >= 0x20 && c < 0x7f {
			continue
		}
		r, n := utf8.DecodeRuneInString(k[i:])
		if r == utf8.RuneError && n <= 1 || r < 0x20 || r >= 0x7f && r < 0xa0 {
			return false
		}
		i += n - 1
	}
	return true
}

// invalidf makes the error for input that is wrong as a whole, rather
// than in one record.
func invalidf(format string, args ...any) error {
	return fault.New(fault.Invalid, format, args...)
}

// emit gives one event to the sink.
func (ru *run) emit(e *event.Event) error {
	if err := ru.sink(*e); err != nil {
		return err
	}
	ru.stats.Events++
	return ru.tick()
}

// reject reports one skipped record.
func (ru *run) reject(line int, reason string, raw []byte) error {
	ru.stats.Rejected++
	if ru.opt.OnReject != nil {
		ru.opt.OnReject(line, reason, raw)
	}
	return ru.tick()
}

func (ru *run) tick() error {
	ru.sinceChk++
	if ru.sinceChk < checkEvery {
		return nil
	}
	ru.sinceChk = 0
	if err := ru.ctx.Err(); err != nil {
		return err
	}
	if ru.opt.Progress != nil {
		if now := time.Now(); now.Sub(ru.lastTick) >= progressEvery {
			ru.lastTick = now
			ru.progress()
		}
	}
	return nil
}

func (ru *run) progress() {
	done, total := ru.counter.n.Load(), ru.opt.TotalBytes
	if ru.pos != nil {
		done, total = ru.pos.Position()
	}
	ru.opt.Progress(done, total, ru.stats.Events)
}

// finish ends a read: the last progress report and the totals.
func (ru *run) finish() Stats {
	ru.stats.Bytes = ru.counter.n.Load()
	if ru.opt.Progress != nil {
		ru.progress()
	}
	return ru.stats
}

// idHasher makes messageIds; one per goroutine, as it reuses a buffer.
type idHasher struct {
	source string
	buf    []byte
}

// start begins the input of a messageId hash: the source, then the parts
// the caller appends with appendPart (see the package documentation for
// what each format hashes).
func (h *idHasher) start() []byte {
	return appendPartString(h.buf[:0], h.source)
}

// end hashes b into "prefix-" and 32 hex digits: 128 bits, so that ids
// never collide by chance even over billions of events.
func (h *idHasher) end(prefix string, b []byte) string {
	h.buf = b
	sum := sha256.Sum256(b)
	var out [16 + 1 + 32]byte
	n := copy(out[:16], prefix)
	out[n] = '-'
	hex.Encode(out[n+1:], sum[:16])
	return string(out[:n+1+32])
}

// appendPart length-prefixes each part so that ("ab","c") and ("a","bc")
// hash differently.
func appendPart(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

func appendPartString(b []byte, p string) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// countingReader counts the bytes read through it; atomically, because
// a reader may read on another goroutine than the one reporting progress.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// interner hands out one string per distinct byte sequence, so that the
// names, keys and small values that repeat on every line are allocated
// once, and with them their boxing into an interface. It is a
// direct-mapped cache rather than a map: a lookup is one hash and one
// compare, a miss just replaces the slot, and memory stays fixed however
// many distinct values a file has.
type interner struct {
	tab []internEntry
}

type internEntry struct {
	s string
	v any // s boxed, made on first use as a value
	n any // s boxed as a json.Number, made on first use as one
	// key caches keyOK(s): 0 not yet known, 1 good, 2 bad.
	key uint8
}

const (
	internSlots  = 1 << 13
	internMaxLen = 64
	// Values are interned only up to this length: short values (names,
	// currencies, enum-like codes) repeat, long ones (ids, URLs, user
	// agents) mostly do not, and a miss costs a hash and a compare on top
	// of the allocation it fails to save.
	internValueLen = 24
)

func newInterner() *interner {
	return &interner{tab: make([]internEntry, internSlots)}
}

// slot picks b's slot by a hash of its length and its first and last
// eight bytes: far cheaper than hashing every byte, and a collision only
// costs a miss, since a hit is confirmed by comparing the whole string.
func (in *interner) slot(b []byte) *internEntry {
	return &in.tab[quickHash(b)&(internSlots-1)]
}

func quickHash(b []byte) uint64 {
	var x, y uint64
	if n := len(b); n >= 8 {
		x = binary.LittleEndian.Uint64(b)
		y = binary.LittleEndian.Uint64(b[n-8:])
	} else {
		for i, c := range b {
			x |= uint64(c) << (8 * i)
		}
	}
	h := (x ^ uint64(len(b))<<56) * 0x9e3779b97f4a7c15
	h ^= y * 0xc2b2ae3d27d4eb4f
	return h ^ h>>29
}

func (in *interner) slotString(s string) *internEntry {
	return &in.tab[quickHash(unsafe.Slice(unsafe.StringData(s), len(s)))&(internSlots-1)]
}

func (in *interner) bytes(b []byte) string {
	if len(b) == 0 || len(b) > internMaxLen {
		return string(b)
	}
	e := in.slot(b)
	if e.s != string(b) {
		*e = internEntry{s: string(b)}
	}
	return e.s
}

// key is bytes for a property name, with keyOK's verdict, which is
// computed once per distinct name.
func (in *interner) key(b []byte) (string, bool) {
	if len(b) == 0 || len(b) > internMaxLen {
		s := string(b)
		return s, keyOK(s)
	}
	e := in.slot(b)
	if e.s != string(b) {
		*e = internEntry{s: string(b)}
	}
	if e.key == 0 {
		e.key = 2
		if keyOK(e.s) {
			e.key = 1
		}
	}
	return e.s, e.key == 1
}

// value is bytes boxed as an any, for map values.
func (in *interner) value(b []byte) any {
	if len(b) == 0 || len(b) > internValueLen {
		return string(b)
	}
	e := in.slot(b)
	if e.s != string(b) {
		*e = internEntry{s: string(b)}
	}
	if e.v == nil {
		e.v = e.s
	}
	return e.v
}

// number is bytes boxed as a json.Number.
func (in *interner) number(b []byte) any {
	if len(b) > internValueLen {
		return json.Number(b)
	}
	e := in.slot(b)
	if e.s != string(b) {
		*e = internEntry{s: string(b)}
	}
	if e.n == nil {
		e.n = json.Number(e.s)
	}
	return e.n
}

// str is bytes for a string that may be part of a larger one (a CSV
// line): what it keeps is a copy, so that it does not pin the rest.
func (in *interner) str(s string) string {
	if len(s) == 0 || len(s) > internMaxLen {
		return s
	}
	e := in.slotString(s)
	if e.s != s {
		*e = internEntry{s: strings.Clone(s)}
	}
	return e.s
}

// strValue is str boxed as an any.
func (in *interner) strValue(s string) any {
	if len(s) == 0 || len(s) > internValueLen {
		return s
	}
	e := in.slotString(s)
	if e.s != s {
		*e = internEntry{s: strings.Clone(s)}
	}
	if e.v == nil {
		e.v = e.s
	}
	return e.v
}
