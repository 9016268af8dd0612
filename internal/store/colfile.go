package store

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/trekhq/trek/internal/event"
)

// This file defines column file format version 2 (docs/storage.md is its
// description for people) and writes it. Version 1 differs only in its
// messageId column (each id as its bytes), in having no stored chunks and
// in writing every row's traits and context in full; readers read both.

const (
	colMagic    = "TREKCOL\x00"
	colEndMagic = "TREKCEND"
	// colFormat is the version in every column file's header. A change to
	// anything a reader of version N would misread needs N+1, a reader
	// that still reads N, and a fixture of N in testdata.
	colFormat = 2
	// colFormatOldest is the oldest version readers still read.
	colFormatOldest = 1
	headerSize      = 16 // magic, format version (uint32 LE), flags (uint32 LE, zero)
	trailerSize     = 24 // footer offset (uint64 LE), footer length, footer CRC-32C (uint32 LE each), end magic

	// maxChunkRaw bounds a column chunk's decompressed size, so that a
	// corrupt or hostile file cannot make a reader allocate without end.
	// The writer cuts blocks well below it.
	maxChunkRaw = 64 << 20
	// blockRawTarget is the raw size of the largest column at which the
	// writer ends a block early (events with big contexts).
	blockRawTarget = 16 << 20
	// maxBlockRows bounds the rows a reader accepts in one block.
	maxBlockRows = 1 << 20
)

// defaultBlockRows is how many events a block holds. Large enough that
// compression sees long runs of one customer's repeated values and the
// per-block dictionaries pay off, small enough that a reader holding one
// block per file stays in the tens of megabytes. Tests lower it.
var defaultBlockRows = 8 << 10

// Column ids. Property columns are colPropBase + the property name's
// index in the file's property table.
const (
	colKey          = 0  // runs of (key delta, count)
	colTime         = 1  // event time: ms deltas from the previous row, then sub-ms ns
	colSeq          = 2  // arrival sequence: zigzag delta from the previous row
	colType         = 3  // file dictionary index
	colEvent        = 4  // file dictionary index
	colChannel      = 5  // file dictionary index
	colSource       = 6  // file dictionary index
	colName         = 7  // block dictionary
	colUserID       = 8  // block dictionary
	colAnonymousID  = 9  // block dictionary
	colPreviousID   = 10 // block dictionary
	colGroupID      = 11 // block dictionary
	colMessageID    = 12 // plain strings
	colOriginalTime = 13 // optional time
	colSentAt       = 14 // optional time
	colReceivedAt   = 15 // optional time
	colTraits       = 16 // tagged values
	colContext      = 17 // tagged values
	numFixedCols    = 18
	colPropBase     = 64
)

// The four columns whose dictionaries are kept once per file, in this
// order in the footer.
var fileDictCols = [4]int{colType, colEvent, colChannel, colSource}

// The columns whose compressed size is the store's "core bytes": what a
// journey query needs to order and name every event.
var coreCols = [...]int{colKey, colTime, colEvent, colChannel, colSource}

func isCore(col int) bool {
	for _, c := range coreCols {
		if c == col {
			return true
		}
	}
	return false
}

// Property value kinds in a property column.
const (
	pkNull    = 0
	pkFalse   = 1
	pkTrue    = 2
	pkInt     = 3 // zigzag varint; the number's text is its canonical decimal
	pkFloat   = 4 // float64 LE; the number's text is formatFloat of it
	pkNumText = 5 // any other number: its text
	pkString  = 6 // index in the column's block dictionary
	pkNested  = 7 // an array or object in the tagged encoding
	numPK     = 8
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

var (
	encoderOnce sync.Once
	encoder     *zstd.Encoder
	decoderOnce sync.Once
	decoder0    *zstd.Decoder
)

// zstdEncoder is shared: EncodeAll may be called concurrently.
func zstdEncoder() *zstd.Encoder {
	encoderOnce.Do(func() {
		var err error
		encoder, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault),
			zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
		if err != nil {
			panic(err) // only for invalid options
		}
	})
	return encoder
}

func zstdDecoder() *zstd.Decoder {
	decoderOnce.Do(func() {
		var err error
		decoder0, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderMaxMemory(maxChunkRaw), zstd.WithDecoderMaxWindow(maxChunkRaw))
		if err != nil {
			panic(err)
		}
	})
	return decoder0
}

// fileDict is a dictionary kept once per file.
type fileDict struct {
	idx  map[string]uint32
	list []string
	last lastValue
}

// lastValue remembers a dictionary's last value and its index: runs of
// the same value (an event type, a source, the same name or an empty
// userId row after row) then cost a comparison instead of a map lookup.
type lastValue struct {
	s  string
	i  uint32
	ok bool
}

func (d *fileDict) indexBytes(b []byte) uint32 {
	if d.last.ok && string(b) == d.last.s {
		return d.last.i
	}
	i := d.index(b)
	d.last = lastValue{d.list[i], i, true}
	return i
}

func (d *fileDict) index(b []byte) uint32 {
	if i, ok := d.idx[string(b)]; ok {
		return i
	}
	if d.idx == nil {
		d.idx = make(map[string]uint32)
	}
	s := string(b)
	i := uint32(len(d.list))
	d.idx[s] = i
	d.list = append(d.list, s)
	return i
}

// blockDict is a string column with a dictionary per block.
type blockDict struct {
	idx  map[string]uint32
	list []string
	rows []byte
	last lastValue
}

func (d *blockDict) addBytes(b []byte) {
	d.rows = appendUvarint(d.rows, uint64(d.index(b)))
}

// index returns b's index in the dictionary, adding it if new.
func (d *blockDict) index(b []byte) uint32 {
	if d.last.ok && string(b) == d.last.s {
		return d.last.i
	}
	i, ok := d.idx[string(b)]
	if !ok {
		if d.idx == nil {
			d.idx = make(map[string]uint32)
		}
		s := string(b)
		i = uint32(len(d.list))
		d.idx[s] = i
		d.list = append(d.list, s)
	}
	d.last = lastValue{d.list[i], i, true}
	return i
}

func (d *blockDict) encode(b []byte) []byte {
	b = appendUvarint(b, uint64(len(d.list)))
	for _, s := range d.list {
		b = appendString(b, s)
	}
	return append(b, d.rows...)
}

// timeCol is a time column: a stream of millisecond deltas and a stream
// of sub-millisecond nanoseconds. An optional column writes 0 for the
// zero time and (zigzag delta)+1 otherwise, and has no ns entry for it.
type timeCol struct {
	ms, ns   []byte
	prev     int64
	optional bool
}

// optTime is a time as the encodings hold it.
type optTime struct {
	zero    bool
	ms, sub int64
}

func (c *timeCol) addParts(t optTime) {
	if c.optional && t.zero {
		c.ms = append(c.ms, 0)
		return
	}
	ms, sub := t.ms, t.sub
	d := zigzag(ms - c.prev)
	if c.optional {
		d++
	}
	c.prev = ms
	c.ms = appendUvarint(c.ms, d)
	c.ns = appendUvarint(c.ns, uint64(sub))
}

func (c *timeCol) encode(b []byte) []byte {
	b = appendUvarint(b, uint64(len(c.ms)))
	b = append(b, c.ms...)
	return append(b, c.ns...)
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// propCol is one property name's column within a block.
type propCol struct {
	name    string
	present []uint32 // rows that have the property
	kinds   []byte
	dict    blockDict // string values (its rows hold nothing)
	vals    []byte
}

// addEncoded adds one property value, read from its tagged encoding.
func (p *propCol) addEncoded(row int, d *decoder) {
	p.present = append(p.present, uint32(row))
	start := d.b
	switch d.byte() {
	case tagNull:
		p.kinds = append(p.kinds, pkNull)
	case tagFalse:
		p.kinds = append(p.kinds, pkFalse)
	case tagTrue:
		p.kinds = append(p.kinds, pkTrue)
	case tagString:
		i := p.dict.index(d.bytes())
		p.kinds = append(p.kinds, pkString)
		p.vals = appendUvarint(p.vals, uint64(i))
	case tagNumber:
		p.addNumber(string(d.bytes()))
	default:
		// Arrays, objects, and NaN or ±Inf: kept in the tagged encoding.
		d.b = start
		d.skipValue(1)
		p.kinds = append(p.kinds, pkNested)
		p.vals = append(p.vals, start[:len(start)-len(d.b)]...)
	}
}

func (p *propCol) addNumber(s string) {
	if isInteger(s) {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil && strconv.FormatInt(i, 10) == s {
			p.kinds = append(p.kinds, pkInt)
			p.vals = appendVarint(p.vals, i)
			return
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && formatFloat(f, 64) == s {
		p.kinds = append(p.kinds, pkFloat)
		p.vals = binary.LittleEndian.AppendUint64(p.vals, math.Float64bits(f))
		return
	}
	p.kinds = append(p.kinds, pkNumText)
	p.vals = appendString(p.vals, s)
}

func (p *propCol) encode(b []byte, rows int) []byte {
	at := len(b)
	b = slices.Grow(b, (rows+7)/8)[:at+(rows+7)/8]
	bm := b[at:]
	clear(bm)
	for _, r := range p.present {
		bm[r/8] |= 1 << (r % 8)
	}
	b = append(b, p.kinds...)
	b = p.dict.encode(b)
	return append(b, p.vals...)
}

// isInteger reports whether s has only digits after an optional minus,
// sparing ParseInt (and its error allocation) every decimal.
func isInteger(s string) bool {
	if s != "" && s[0] == '-' {
		s = s[1:]
	}
	if s == "" || len(s) > 19 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (p *propCol) rawSize() int { return len(p.vals) + len(p.kinds) }

// blockBuilder accumulates one block's columns.
type blockBuilder struct {
	rows           int
	keys           []byte
	runKey, runLen uint64
	prevRunKey     uint64
	minKey, maxKey uint64
	time           timeCol
	seq            []byte
	prevSeq        uint64
	dictCols       [4][]byte
	strCols        [5]blockDict // name, userId, anonymousId, previousId, groupId
	messageIDs     []byte
	packedIDs      int // ids in messageIDs that appendMessageID packed
	msgIDs         msgIDState
	optTimes       [3]timeCol // originalTimestamp, sentAt, receivedAt
	maxRecvMs      int64
	traits         []byte
	context        []byte
	// Where the last value written in full lies in traits and context.
	lastTraits, lastContext [2]int
	props                   map[string]*propCol
	propOrder               []string
	// lastProps are the columns of the last row's properties, in its
	// order: rows of one shape find theirs by a comparison each instead
	// of a map lookup. Reset with the block (a name's column is the same
	// for the whole block, so an entry left from an earlier row is never
	// wrong).
	lastProps []*propCol
	propBytes int
	arena     []byte // columns encoded for writing, until reset
	// freeProps are the property columns of earlier blocks, emptied,
	// for the names of the next.
	freeProps []*propCol
}

func newBlockBuilder() *blockBuilder {
	b := &blockBuilder{props: make(map[string]*propCol), maxRecvMs: math.MinInt64}
	for i := range b.optTimes {
		b.optTimes[i].optional = true
	}
	return b
}

// reset empties the builder for the next block, keeping its buffers: a
// fold fills many blocks of the same shape, and growing every column
// from nothing each time would copy each byte several times.
func (b *blockBuilder) reset() {
	props := b.props
	free := b.freeProps
	for _, p := range props {
		clear(p.dict.idx)
		*p = propCol{present: p.present[:0], kinds: p.kinds[:0], vals: p.vals[:0],
			dict: blockDict{idx: p.dict.idx, list: p.dict.list[:0]}}
		free = append(free, p)
	}
	clear(props)
	old := *b
	*b = blockBuilder{props: props, freeProps: free, maxRecvMs: math.MinInt64}
	b.keys = old.keys[:0]
	b.time = timeCol{ms: old.time.ms[:0], ns: old.time.ns[:0]}
	b.seq = old.seq[:0]
	for i := range b.dictCols {
		b.dictCols[i] = old.dictCols[i][:0]
	}
	for i := range b.strCols {
		idx := old.strCols[i].idx
		clear(idx)
		b.strCols[i] = blockDict{idx: idx, list: old.strCols[i].list[:0], rows: old.strCols[i].rows[:0]}
	}
	b.messageIDs = old.messageIDs[:0]
	for i := range b.optTimes {
		b.optTimes[i] = timeCol{ms: old.optTimes[i].ms[:0], ns: old.optTimes[i].ns[:0], optional: true}
	}
	b.traits = old.traits[:0]
	b.context = old.context[:0]
	b.propOrder = old.propOrder[:0]
	b.arena = old.arena[:0]
}

func (b *blockBuilder) rawSize() int {
	return max(len(b.context), len(b.traits), len(b.messageIDs), b.propBytes)
}

// colWriter writes one column file. Rows must come in (key, time, seq)
// order; the writer checks, because a file out of order would silently
// break every merge that reads it.
type colWriter struct {
	path, tmp string
	f         *os.File
	w         *bufio.Writer
	off       uint64
	blockRows int

	blk *blockBuilder
	// spare is the builder of the block in flight, reused for the block
	// after the current one.
	spare     *blockBuilder
	inflight  *blockJob
	failed    error  // the first error of a block's write
	comp      []byte // compressed chunk, reused by writeBlock
	dicts     [4]fileDict
	propIdx   map[string]uint32
	propNames []string
	blocks    []blockMeta
	// serial: compress and write each block on the goroutine that built
	// it, instead of on a second one while the next block is built.
	serial bool

	rows, keys uint64
	started    bool
	last       sortKey
	coreBytes  int64
	enc        []byte
}

// sortKey is the order of rows in a column file and of events in a
// journey: by key, then time, then arrival.
type sortKey struct {
	key   uint64
	ms    int64
	sub   int64
	seq   uint64
	valid bool
}

func (a sortKey) less(b sortKey) bool {
	if a.key != b.key {
		return a.key < b.key
	}
	if a.ms != b.ms {
		return a.ms < b.ms
	}
	if a.sub != b.sub {
		return a.sub < b.sub
	}
	return a.seq < b.seq
}

// createColFile starts a column file that will be named path once
// finished; until then it is a temporary file beside it.
func createColFile(path string) (*colWriter, error) {
	dir, base := filepath.Split(path)
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create column file %s: %w", path, err)
	}
	w := &colWriter{
		path: path, tmp: f.Name(), f: f, w: bufio.NewWriterSize(f, 1<<20),
		blockRows: defaultBlockRows, blk: newBlockBuilder(), propIdx: make(map[string]uint32),
	}
	var hdr [headerSize]byte
	copy(hdr[:], colMagic)
	binary.LittleEndian.PutUint32(hdr[8:], colFormat)
	if _, err := w.w.Write(hdr[:]); err != nil {
		w.abort()
		return nil, fmt.Errorf("write column file %s: %w", path, err)
	}
	w.off = headerSize
	return w, nil
}

// add appends one event.
func (w *colWriter) add(key, seq uint64, e *event.Event) error {
	var err error
	w.enc, err = appendEvent(w.enc[:0], key, e, "", nil)
	if err != nil {
		return fmt.Errorf("write column file %s: event %q: %w", w.path, e.MessageID, err)
	}
	return w.addEncoded(seq, w.enc)
}

// addEncoded appends one event in the log encoding (appendEvent), as the
// head holds it: folding the head then never builds the event's maps.
// Contexts and traits are copied as they are, since the column files keep
// them in the same encoding.
func (w *colWriter) addEncoded(seq uint64, data []byte) error {
	d := decoder{b: data}
	key := d.uvarint()
	ms := d.varint()
	sub := int64(d.uvarint())
	if d.err != nil || sub < 0 || sub >= 1e6 {
		return fmt.Errorf("write column file %s: %w: bad event header", w.path, errCorrupt)
	}
	k := sortKey{key: key, ms: ms, sub: sub, seq: seq, valid: true}
	if w.started && !w.last.less(k) {
		return fmt.Errorf("write column file %s: event (key %d, seq %d) out of order", w.path, key, seq)
	}
	var opt [3]optTime
	for i := range opt {
		opt[i] = d.timeParts()
	}
	var strs [10][]byte
	for i := range strs {
		strs[i] = d.bytes()
	}
	if d.err != nil {
		return fmt.Errorf("write column file %s: %w", w.path, d.err)
	}

	b := w.blk
	if err := b.addProps(&d); err != nil {
		// The row is half added only if the encoding is corrupt, which a
		// record that passed its checksum and parseRecord never is.
		return fmt.Errorf("write column file %s: properties: %w", w.path, err)
	}
	traits := d.b
	d.skipValue(0)
	traits = traits[:len(traits)-len(d.b)]
	// The context is the event's last field: the rest of its bytes. It is
	// copied as it is without a walk through it (a context is most of an
	// event's bytes); readers decode it, and refuse it if it is corrupt,
	// which a record that passed its checksum and parseRecord is not.
	context := d.b
	if d.err != nil || len(context) == 0 || (context[0] != tagNull && context[0] != tagObject) {
		return fmt.Errorf("write column file %s: %w: bad traits or context", w.path, errCorrupt)
	}

	if !w.started || key != w.last.key {
		w.keys++
	}
	w.started = true
	w.last = k
	w.rows++
	if b.rows == 0 {
		b.minKey = key
	}
	b.maxKey = key
	if b.runLen > 0 && key == b.runKey {
		b.runLen++
	} else {
		b.flushRun()
		b.runKey, b.runLen = key, 1
	}
	b.time.addParts(optTime{ms: ms, sub: sub})
	b.seq = appendUvarint(b.seq, zigzag(int64(seq-b.prevSeq)))
	b.prevSeq = seq
	// strs: MessageID, Type, Event, Name, UserID, AnonymousID,
	// PreviousID, GroupID, Channel, SourceID.
	for i, j := range [4]int{1, 2, 8, 9} {
		b.dictCols[i] = appendUvarint(b.dictCols[i], uint64(w.dicts[i].indexBytes(strs[j])))
	}
	for i, j := range [5]int{3, 4, 5, 6, 7} {
		b.strCols[i].addBytes(strs[j])
	}
	var packed bool
	b.messageIDs, packed = b.msgIDs.appendMessageID(b.messageIDs, strs[0])
	if packed {
		b.packedIDs++
	}
	for i := range opt {
		b.optTimes[i].addParts(opt[i])
	}
	if !opt[2].zero {
		b.maxRecvMs = max(b.maxRecvMs, opt[2].ms)
	}
	b.traits = appendOrSame(b.traits, &b.lastTraits, traits)
	b.context = appendOrSame(b.context, &b.lastContext, context)
	b.rows++
	if b.rows >= w.blockRows || b.rawSize() >= blockRawTarget {
		return w.flushBlock()
	}
	return nil
}

// appendOrSame appends one row's value to a traits or context column: the
// byte tagSame when it equals the last value written in full (at *last),
// as a customer's events in a row mostly share their context. The column
// then compresses in a fraction of the time, and readers have less to
// decompress.
func appendOrSame(col []byte, last *[2]int, v []byte) []byte {
	if last[1] > last[0] && string(col[last[0]:last[1]]) == string(v) {
		return append(col, tagSame)
	}
	start := len(col)
	col = append(col, v...)
	*last = [2]int{start, len(col)}
	return col
}

// addProps reads an encoded properties value (null or an object) and adds
// each property to its column, for the row being added.
func (b *blockBuilder) addProps(d *decoder) error {
	switch d.byte() {
	case tagNull:
		return d.err
	case tagObject:
	default:
		return fmt.Errorf("%w: properties neither null nor an object", errCorrupt)
	}
	n := d.uvarint()
	for i := uint64(0); i < n && d.err == nil; i++ {
		name := d.bytes()
		var p *propCol
		if i < uint64(len(b.lastProps)) && string(name) == b.lastProps[i].name {
			p = b.lastProps[i]
		} else {
			p = b.props[string(name)]
			if p == nil {
				if n := len(b.freeProps); n > 0 {
					p = b.freeProps[n-1]
					b.freeProps = b.freeProps[:n-1]
				} else {
					p = &propCol{}
				}
				p.name = string(name)
				b.props[p.name] = p
				b.propOrder = append(b.propOrder, p.name)
			}
			if i < uint64(len(b.lastProps)) {
				b.lastProps[i] = p
			} else {
				b.lastProps = append(b.lastProps, p)
			}
		}
		p.addEncoded(b.rows, d)
		b.propBytes = max(b.propBytes, p.rawSize())
	}
	return d.err
}

func (b *blockBuilder) flushRun() {
	if b.runLen == 0 {
		return
	}
	b.keys = appendUvarint(b.keys, b.runKey-b.prevRunKey)
	b.keys = appendUvarint(b.keys, b.runLen)
	b.prevRunKey = b.runKey
	b.runLen = 0
}

// flushBlock ends the current block: it encodes the block's columns and
// hands them to a goroutine that compresses and writes them, while the
// caller fills the next block in a second builder. Compression is about
// half of a fold's work, so the two halves then run on two cores. Blocks
// are written strictly in turn, one in flight at a time, so the file's
// bytes are those a serial writer would produce. An error of a block
// shows at the next flushBlock or at finish.
func (w *colWriter) flushBlock() error {
	b := w.blk
	if b.rows == 0 {
		return nil
	}
	b.flushRun()
	if err := w.wait(); err != nil {
		return err
	}
	j := &blockJob{bm: blockMeta{rows: b.rows, minKey: b.minKey, maxKey: b.maxKey, maxRecvMs: b.maxRecvMs},
		cols: make([]colChunk, 0, numFixedCols+len(b.propOrder))}
	// Columns that must be encoded first go to the builder's arena (their
	// place in it is noted, as the arena may still move while it grows);
	// the others are the builder's own buffers. Both stay untouched until
	// the builder is reused, after this job is done.
	enc := b.arena[:0]
	direct := func(col int, raw []byte) {
		j.cols = append(j.cols, colChunk{col: col, raw: raw})
	}
	encoded := func(col int, start int) {
		j.cols = append(j.cols, colChunk{col: col, start: start, end: len(enc), inArena: true})
	}
	direct(colKey, b.keys)
	start := len(enc)
	enc = b.time.encode(enc)
	encoded(colTime, start)
	direct(colSeq, b.seq)
	for i, c := range fileDictCols {
		direct(c, b.dictCols[i])
	}
	for i, c := range [5]int{colName, colUserID, colAnonymousID, colPreviousID, colGroupID} {
		start := len(enc)
		enc = b.strCols[i].encode(enc)
		encoded(c, start)
	}
	direct(colMessageID, b.messageIDs)
	// Packed ids are random bytes: compressing them costs much and saves
	// nothing.
	j.cols[len(j.cols)-1].stored = b.packedIDs*2 >= b.rows
	for i, c := range [3]int{colOriginalTime, colSentAt, colReceivedAt} {
		start := len(enc)
		enc = b.optTimes[i].encode(enc)
		encoded(c, start)
	}
	direct(colTraits, b.traits)
	direct(colContext, b.context)
	for _, name := range b.propOrder {
		idx, ok := w.propIdx[name]
		if !ok {
			idx = uint32(len(w.propNames))
			w.propIdx[name] = idx
			w.propNames = append(w.propNames, name)
		}
		start := len(enc)
		enc = b.props[name].encode(enc, b.rows)
		encoded(colPropBase+int(idx), start)
	}
	b.arena = enc
	for i := range j.cols {
		if c := &j.cols[i]; c.inArena {
			c.raw = enc[c.start:c.end:c.end]
		}
	}
	j.done = make(chan struct{})
	w.inflight = j
	if w.serial {
		w.writeBlock(j)
	} else {
		go w.writeBlock(j)
	}
	// Fill the other builder next; it is free, as its job is done.
	w.blk, w.spare = w.spare, w.blk
	if w.blk == nil {
		w.blk = newBlockBuilder()
	}
	w.blk.reset()
	return nil
}

// blockJob is one block's columns on their way to the file.
type blockJob struct {
	bm   blockMeta
	cols []colChunk
	err  error
	done chan struct{}
}

type colChunk struct {
	col        int
	raw        []byte
	start, end int // in the builder's arena, if inArena
	inArena    bool
	stored     bool // written as it is, without compression
}

// writeBlock compresses a block's columns and writes them after the
// blocks before it. It is the only writer of the file, offsets and block
// list while it runs; the builder side waits for it before touching them.
func (w *colWriter) writeBlock(j *blockJob) {
	defer close(j.done)
	comp := w.comp[:0]
	for _, c := range j.cols {
		if len(c.raw) > maxChunkRaw {
			j.err = fmt.Errorf("write column file %s: column %d of a block is %d bytes, more than %d", w.path, c.col, len(c.raw), maxChunkRaw)
			return
		}
		data, stored := c.raw, c.stored
		if !stored {
			comp = zstdEncoder().EncodeAll(c.raw, comp[:0])
			// What zstd cannot shrink is kept as it is, and read without
			// a decompression.
			if len(comp) < len(c.raw) {
				data = comp
			} else {
				stored = true
			}
		}
		cm := chunkMeta{col: uint32(c.col), off: w.off, clen: uint32(len(data)), rlen: uint32(len(c.raw)),
			crc: crc32.Checksum(data, crcTable), stored: stored}
		if _, err := w.w.Write(data); err != nil {
			j.err = fmt.Errorf("write column file %s: %w", w.path, err)
			return
		}
		w.off += uint64(len(data))
		j.bm.chunks = append(j.bm.chunks, cm)
		if isCore(c.col) {
			w.coreBytes += int64(len(data))
		}
	}
	w.comp = comp
	w.blocks = append(w.blocks, j.bm)
}

// wait waits for the block in flight, if any, and returns its error.
func (w *colWriter) wait() error {
	j := w.inflight
	if j == nil {
		return w.failed
	}
	<-j.done
	w.inflight = nil
	if j.err != nil && w.failed == nil {
		w.failed = j.err
	}
	return w.failed
}

// fileInfo describes a finished column file, as the manifest lists it.
type fileInfo struct {
	Name      string `json:"name"`
	Events    uint64 `json:"events"`
	Keys      uint64 `json:"keys"`
	MinKey    uint64 `json:"minKey"`
	MaxKey    uint64 `json:"maxKey"`
	Bytes     int64  `json:"bytes"`
	CoreBytes int64  `json:"coreBytes"`
}

// finish writes the footer and the trailer and makes the file durable
// under its final name: fsync, rename, fsync of the directory. A file
// with no rows is not written (ok false).
func (w *colWriter) finish() (info fileInfo, ok bool, err error) {
	err = w.flushBlock()
	if err == nil {
		err = w.wait()
	}
	if err != nil {
		w.abort()
		return fileInfo{}, false, err
	}
	if w.rows == 0 {
		w.abort()
		return fileInfo{}, false, nil
	}
	footer := w.encodeFooter()
	var tr [trailerSize]byte
	binary.LittleEndian.PutUint64(tr[0:], w.off)
	binary.LittleEndian.PutUint32(tr[8:], uint32(len(footer)))
	binary.LittleEndian.PutUint32(tr[12:], crc32.Checksum(footer, crcTable))
	copy(tr[16:], colEndMagic)
	fail := func(err error) (fileInfo, bool, error) {
		w.abort()
		return fileInfo{}, false, fmt.Errorf("write column file %s: %w", w.path, err)
	}
	if _, err := w.w.Write(footer); err != nil {
		return fail(err)
	}
	if _, err := w.w.Write(tr[:]); err != nil {
		return fail(err)
	}
	if err := w.w.Flush(); err != nil {
		return fail(err)
	}
	if err := w.f.Chmod(0o600); err != nil {
		return fail(err)
	}
	if err := w.f.Sync(); err != nil {
		return fail(err)
	}
	if err := w.f.Close(); err != nil {
		w.f = nil
		return fail(err)
	}
	w.f = nil
	if err := os.Rename(w.tmp, w.path); err != nil {
		return fail(err)
	}
	if err := syncDir(filepath.Dir(w.path)); err != nil {
		return fileInfo{}, false, fmt.Errorf("write column file %s: %w", w.path, err)
	}
	return fileInfo{
		Name: filepath.Base(w.path), Events: w.rows, Keys: w.keys,
		MinKey: w.blocks[0].minKey, MaxKey: w.blocks[len(w.blocks)-1].maxKey,
		Bytes: int64(w.off) + int64(len(footer)) + trailerSize, CoreBytes: w.coreBytes,
	}, true, nil
}

// abort removes the temporary file.
func (w *colWriter) abort() {
	_ = w.wait() // the file is being dropped: its error no longer matters
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	os.Remove(w.tmp)
}

func (w *colWriter) encodeFooter() []byte {
	b := make([]byte, 0, 256+len(w.blocks)*(40+numFixedCols*16))
	b = appendUvarint(b, w.rows)
	b = appendUvarint(b, w.keys)
	for i := range w.dicts {
		b = appendUvarint(b, uint64(len(w.dicts[i].list)))
		for _, s := range w.dicts[i].list {
			b = appendString(b, s)
		}
	}
	b = appendUvarint(b, uint64(len(w.propNames)))
	for _, s := range w.propNames {
		b = appendString(b, s)
	}
	b = appendUvarint(b, uint64(len(w.blocks)))
	for _, bm := range w.blocks {
		b = appendUvarint(b, uint64(bm.rows))
		b = appendUvarint(b, bm.minKey)
		b = appendUvarint(b, bm.maxKey-bm.minKey)
		b = appendVarint(b, bm.maxRecvMs)
		b = appendUvarint(b, uint64(len(bm.chunks)))
		for _, c := range bm.chunks {
			col := uint64(c.col) << 1
			if c.stored {
				col |= 1
			}
			b = appendUvarint(b, col)
			b = appendUvarint(b, c.off)
			b = appendUvarint(b, uint64(c.clen))
			b = appendUvarint(b, uint64(c.rlen))
			b = binary.LittleEndian.AppendUint32(b, c.crc)
		}
	}
	return b
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return d.Close()
}
