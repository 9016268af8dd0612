package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/bits"
	"os"
	"strconv"
	"sync/atomic"

	"github.com/trekhq/trek/internal/event"
)

// This file reads column files. Every length, count and offset read from
// a file is checked against what is left of it before it is used, and
// every chunk's checksum before it is decompressed: a damaged file gives
// an error naming it, never wrong events, a panic or a huge allocation.

type chunkMeta struct {
	col    uint32
	off    uint64
	clen   uint32
	rlen   uint32
	crc    uint32
	stored bool // not compressed (format 2)
}

type blockMeta struct {
	rows           int
	minKey, maxKey uint64
	maxRecvMs      int64
	chunks         []chunkMeta
}

func (b *blockMeta) chunk(col int) (chunkMeta, bool) {
	for _, c := range b.chunks {
		if int(c.col) == col {
			return c, true
		}
	}
	return chunkMeta{}, false
}

// colFile is an open column file. It is immutable and safe for
// concurrent readers.
type colFile struct {
	name      string // the path it was opened by
	r         io.ReaderAt
	closer    io.Closer
	size      int64
	version   uint32 // the format version
	rows      uint64
	keys      uint64
	dicts     [4][]string
	props     []string
	blocks    []blockMeta
	coreBytes int64
	// chunks, in tests, replaces the file's data with decompressed
	// chunks by (block, column), so that fuzzing reaches the decoders
	// behind the checksums.
	chunks map[[2]int][]byte
	// refs counts the store's hold (while the file is listed) and each
	// query's; the last release closes the file.
	refs atomic.Int64
}

func (f *colFile) release() {
	if f.refs.Add(-1) == 0 {
		f.close()
	}
}

// corruptf is the error for a damaged file. It names the file, so that an
// operator knows which one to restore.
func (f *colFile) corruptf(format string, args ...any) error {
	return fmt.Errorf("column file %s is corrupt: %s", f.name, fmt.Sprintf(format, args...))
}

func openColFile(path string) (*colFile, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open column file: %w", err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("open column file: %w", err)
	}
	f, err := readColFile(path, fh, st.Size())
	if err != nil {
		fh.Close()
		return nil, err
	}
	f.closer = fh
	return f, nil
}

func (f *colFile) close() error {
	if f.closer == nil {
		return nil
	}
	err := f.closer.Close()
	f.closer = nil
	return err
}

// readColFile reads a column file's header and footer.
func readColFile(name string, r io.ReaderAt, size int64) (*colFile, error) {
	f := &colFile{name: name, r: r, size: size}
	if size < headerSize+trailerSize {
		return nil, f.corruptf("%d bytes is too short", size)
	}
	var hdr [headerSize]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return nil, fmt.Errorf("read column file %s: %w", name, err)
	}
	if string(hdr[:8]) != colMagic {
		return nil, f.corruptf("not a column file (bad magic)")
	}
	f.version = binary.LittleEndian.Uint32(hdr[8:])
	if f.version < colFormatOldest || f.version > colFormat {
		return nil, fmt.Errorf("column file %s has format version %d; this trek reads versions %d to %d", name, f.version, colFormatOldest, colFormat)
	}
	if flags := binary.LittleEndian.Uint32(hdr[12:]); flags != 0 {
		return nil, f.corruptf("unknown header flags %#x", flags)
	}
	var tr [trailerSize]byte
	if _, err := r.ReadAt(tr[:], size-trailerSize); err != nil {
		return nil, fmt.Errorf("read column file %s: %w", name, err)
	}
	if string(tr[16:]) != colEndMagic {
		return nil, f.corruptf("bad end magic (file truncated?)")
	}
	footOff := binary.LittleEndian.Uint64(tr[0:])
	footLen := uint64(binary.LittleEndian.Uint32(tr[8:]))
	if footOff < headerSize || footOff > uint64(size) || footOff+footLen != uint64(size-trailerSize) {
		return nil, f.corruptf("footer at %d+%d does not fit a file of %d bytes", footOff, footLen, size)
	}
	footer := make([]byte, footLen)
	if _, err := r.ReadAt(footer, int64(footOff)); err != nil {
		return nil, fmt.Errorf("read column file %s: %w", name, err)
	}
	if crc32.Checksum(footer, crcTable) != binary.LittleEndian.Uint32(tr[12:]) {
		return nil, f.corruptf("footer checksum mismatch")
	}
	if err := f.parseFooter(footer, footOff); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *colFile) parseFooter(b []byte, footOff uint64) error {
	d := decoder{b: b}
	f.rows = d.uvarint()
	f.keys = d.uvarint()
	strs := func() []string {
		n := d.uvarint()
		if n > uint64(len(d.b)) {
			d.fail("dictionary size past the end")
			return nil
		}
		l := make([]string, n)
		for i := range l {
			l[i] = d.string()
		}
		return l
	}
	for i := range f.dicts {
		f.dicts[i] = strs()
	}
	f.props = strs()
	nb := d.uvarint()
	if nb > uint64(len(d.b)) {
		d.fail("block count past the end")
	}
	if d.err != nil {
		return f.corruptf("footer: %v", d.err)
	}
	f.blocks = make([]blockMeta, nb)
	var total uint64
	for i := range f.blocks {
		bm := &f.blocks[i]
		rows := d.uvarint()
		bm.minKey = d.uvarint()
		span := d.uvarint()
		bm.maxKey = bm.minKey + span
		bm.maxRecvMs = d.varint()
		nc := d.uvarint()
		if d.err != nil {
			return f.corruptf("footer: %v", d.err)
		}
		if rows == 0 || rows > maxBlockRows {
			return f.corruptf("block %d has %d rows", i, rows)
		}
		if bm.maxKey < bm.minKey || i > 0 && bm.minKey < f.blocks[i-1].maxKey {
			return f.corruptf("block %d key range out of order", i)
		}
		if nc > uint64(len(d.b)) {
			return f.corruptf("block %d chunk count past the end", i)
		}
		bm.rows = int(rows)
		total += rows
		bm.chunks = make([]chunkMeta, nc)
		seen := make(map[uint32]bool, nc)
		for j := range bm.chunks {
			c := &bm.chunks[j]
			col := d.uvarint()
			if f.version >= 2 {
				c.stored = col&1 == 1
				col >>= 1
			}
			c.off = d.uvarint()
			clen := d.uvarint()
			rlen := d.uvarint()
			if len(d.b) < 4 {
				d.fail("truncated chunk checksum")
			}
			if d.err != nil {
				return f.corruptf("footer: %v", d.err)
			}
			c.crc = binary.LittleEndian.Uint32(d.b)
			d.b = d.b[4:]
			if col >= numFixedCols && (col < colPropBase || col-colPropBase >= uint64(len(f.props))) {
				return f.corruptf("block %d has unknown column %d", i, col)
			}
			if seen[uint32(col)] {
				return f.corruptf("block %d has column %d twice", i, col)
			}
			seen[uint32(col)] = true
			if c.off < headerSize || clen > footOff || c.off > footOff-clen {
				return f.corruptf("block %d column %d lies outside the data", i, col)
			}
			if rlen > maxChunkRaw {
				return f.corruptf("block %d column %d claims %d bytes", i, col, rlen)
			}
			if c.stored && clen != rlen {
				return f.corruptf("block %d column %d is stored in %d bytes but claims %d", i, col, clen, rlen)
			}
			c.col, c.clen, c.rlen = uint32(col), uint32(clen), uint32(rlen)
			if isCore(int(col)) {
				f.coreBytes += int64(clen)
			}
		}
	}
	if len(d.b) != 0 {
		return f.corruptf("footer has %d trailing bytes", len(d.b))
	}
	if total != f.rows {
		return f.corruptf("blocks hold %d rows, footer says %d", total, f.rows)
	}
	return nil
}

// readChunk returns a column's decompressed bytes in block bi, after
// checking its checksum. ok is false when the block has no such column
// (a property absent from the block).
func (f *colFile) readChunk(bi, col int) (raw []byte, ok bool, err error) {
	if f.chunks != nil {
		raw, ok := f.chunks[[2]int{bi, col}]
		return raw, ok, nil
	}
	c, ok := f.blocks[bi].chunk(col)
	if !ok {
		return nil, false, nil
	}
	comp := make([]byte, c.clen)
	if _, err := f.r.ReadAt(comp, int64(c.off)); err != nil {
		return nil, false, fmt.Errorf("read column file %s: %w", f.name, err)
	}
	if crc32.Checksum(comp, crcTable) != c.crc {
		return nil, false, f.corruptf("block %d column %d: checksum mismatch", bi, col)
	}
	if c.stored {
		return comp, true, nil
	}
	raw, err = zstdDecoder().DecodeAll(comp, make([]byte, 0, min(int(c.rlen), 1<<20)))
	if err != nil {
		return nil, false, f.corruptf("block %d column %d: %v", bi, col, err)
	}
	if len(raw) != int(c.rlen) {
		return nil, false, f.corruptf("block %d column %d: %d bytes, footer says %d", bi, col, len(raw), c.rlen)
	}
	return raw, true, nil
}

// colSet selects the columns a reader decodes: bit i for fixed column i,
// and wantProps for every property column.
type colSet uint32

const (
	wantProps colSet = 1 << 31
	wantAll   colSet = 1<<numFixedCols - 1 | wantProps
)

func (s colSet) has(col int) bool { return s&(1<<col) != 0 }

// row is one event with its place in the sort order.
type row struct {
	sk sortKey
	ev event.Event
	// raw, when set, is the event in the log encoding, and ev is empty:
	// what a fold reads from the head.
	raw []byte
}

type strCursor struct {
	dict []string
	idx  decoder
}

type optTimeCursor struct {
	ms, ns decoder
	prev   int64
}

type propCursor struct {
	name  string
	bm    []byte
	kinds []byte
	ki    int
	dict  []string
	vals  decoder
}

// blockCursor decodes the rows of one block in order.
type blockCursor struct {
	f    *colFile
	bi   int
	want colSet
	rows int
	row  int

	key     decoder
	runKey  uint64
	runLeft uint64
	tms     decoder
	tns     decoder
	prevMs  int64
	seq     decoder
	prevSeq uint64
	dict    [4]decoder
	str     [5]strCursor
	msg     decoder
	msgBuf  []byte
	msgIDs  msgIDState
	opt     [3]optTimeCursor
	traits  decoder
	context decoder
	// The last value of each read in full, for the rows that repeat it.
	lastTraits, lastContext []byte
	props                   []propCursor
}

var strCols = [5]int{colName, colUserID, colAnonymousID, colPreviousID, colGroupID}
var optCols = [3]int{colOriginalTime, colSentAt, colReceivedAt}

func (f *colFile) openBlock(bi int, want colSet) (*blockCursor, error) {
	bm := &f.blocks[bi]
	c := &blockCursor{f: f, bi: bi, want: want, rows: bm.rows}
	load := func(col int) ([]byte, error) {
		raw, ok, err := f.readChunk(bi, col)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, f.corruptf("block %d lacks column %d", bi, col)
		}
		return raw, nil
	}
	split := func(col int, raw []byte) (a, b decoder, err error) {
		d := decoder{b: raw}
		n := d.uvarint()
		if d.err != nil || n > uint64(len(d.b)) {
			return a, b, f.corruptf("block %d column %d: bad stream length", bi, col)
		}
		return decoder{b: d.b[:n]}, decoder{b: d.b[n:]}, nil
	}
	for col := range numFixedCols {
		if !want.has(col) {
			continue
		}
		raw, err := load(col)
		if err != nil {
			return nil, err
		}
		switch col {
		case colKey:
			c.key = decoder{b: raw}
		case colTime:
			if c.tms, c.tns, err = split(col, raw); err != nil {
				return nil, err
			}
		case colSeq:
			c.seq = decoder{b: raw}
		case colType, colEvent, colChannel, colSource:
			for i, dc := range fileDictCols {
				if dc == col {
					c.dict[i] = decoder{b: raw}
				}
			}
		case colName, colUserID, colAnonymousID, colPreviousID, colGroupID:
			for i, sc := range strCols {
				if sc == col {
					d := decoder{b: raw}
					c.str[i].dict = c.readDict(&d, col)
					if d.err != nil {
						return nil, f.corruptf("block %d column %d: %v", bi, col, d.err)
					}
					c.str[i].idx = d
				}
			}
		case colMessageID:
			c.msg = decoder{b: raw}
		case colOriginalTime, colSentAt, colReceivedAt:
			for i, oc := range optCols {
				if oc == col {
					if c.opt[i].ms, c.opt[i].ns, err = split(col, raw); err != nil {
						return nil, err
					}
				}
			}
		case colTraits:
			c.traits = decoder{b: raw}
		case colContext:
			c.context = decoder{b: raw}
		}
	}
	if want&wantProps != 0 {
		for _, ch := range bm.chunks {
			if ch.col < colPropBase {
				continue
			}
			raw, _, err := f.readChunk(bi, int(ch.col))
			if err != nil {
				return nil, err
			}
			pc, err := c.openProp(int(ch.col), raw)
			if err != nil {
				return nil, err
			}
			c.props = append(c.props, pc)
		}
	}
	return c, nil
}

func (c *blockCursor) readDict(d *decoder, col int) []string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("dictionary size past the end")
		return nil
	}
	l := make([]string, n)
	for i := range l {
		l[i] = d.string()
	}
	return l
}

func (c *blockCursor) openProp(col int, raw []byte) (propCursor, error) {
	pc := propCursor{name: c.f.props[col-colPropBase]}
	nbm := (c.rows + 7) / 8
	if len(raw) < nbm {
		return pc, c.f.corruptf("block %d column %d: presence bitmap truncated", c.bi, col)
	}
	pc.bm = raw[:nbm]
	n := 0
	for i, x := range pc.bm {
		if i == nbm-1 && c.rows%8 != 0 {
			x &= 1<<(c.rows%8) - 1
		}
		n += bits.OnesCount8(x)
	}
	raw = raw[nbm:]
	if len(raw) < n {
		return pc, c.f.corruptf("block %d column %d: kinds truncated", c.bi, col)
	}
	pc.kinds = raw[:n]
	d := decoder{b: raw[n:]}
	pc.dict = c.readDict(&d, col)
	if d.err != nil {
		return pc, c.f.corruptf("block %d column %d: %v", c.bi, col, d.err)
	}
	pc.vals = d
	return pc, nil
}

// next decodes the next row into r. When skip says the row's key is not
// wanted, the row's other columns are stepped over without being built,
// and skipped is true. It returns io.EOF after the last row.
func (c *blockCursor) next(r *row, skip func(key uint64) bool) (skipped bool, err error) {
	if c.row >= c.rows {
		return false, io.EOF
	}
	i := c.row
	c.row++
	if c.want.has(colKey) {
		if c.runLeft == 0 {
			c.runKey += c.key.uvarint()
			c.runLeft = c.key.uvarint()
			if c.key.err == nil && c.runLeft == 0 {
				c.key.fail("empty key run")
			}
			if c.key.err != nil {
				return false, c.f.corruptf("block %d key column: %v", c.bi, c.key.err)
			}
		}
		c.runLeft--
		r.sk.key = c.runKey
	}
	var ms, sub int64
	if c.want.has(colTime) {
		ms = c.prevMs + unzigzag(c.tms.uvarint())
		c.prevMs = ms
		s := c.tns.uvarint()
		if c.tms.err != nil || c.tns.err != nil || s >= 1e6 {
			return false, c.f.corruptf("block %d time column: bad row %d", c.bi, i)
		}
		sub = int64(s)
	}
	r.sk.ms, r.sk.sub = ms, sub
	if c.want.has(colSeq) {
		c.prevSeq += uint64(unzigzag(c.seq.uvarint()))
		if c.seq.err != nil {
			return false, c.f.corruptf("block %d seq column: %v", c.bi, c.seq.err)
		}
		r.sk.seq = c.prevSeq
	}
	r.sk.valid = true
	skipped = skip != nil && skip(r.sk.key)
	if err := c.fill(i, &r.ev, skipped); err != nil {
		return false, err
	}
	if c.want.has(colTime) && !skipped {
		r.ev.Timestamp = joinTime(ms, sub)
	}
	return skipped, nil
}

// fill decodes the rest of row i's columns into e (or only steps over
// them when discard is set).
func (c *blockCursor) fill(i int, e *event.Event, discard bool) error {
	*e = event.Event{}
	for j, col := range fileDictCols {
		if !c.want.has(col) {
			continue
		}
		d := &c.dict[j]
		x := d.uvarint()
		if d.err != nil || x >= uint64(len(c.f.dicts[j])) {
			return c.f.corruptf("block %d column %d: bad dictionary index at row %d", c.bi, col, i)
		}
		if discard {
			continue
		}
		s := c.f.dicts[j][x]
		switch col {
		case colType:
			e.Type = event.Type(s)
		case colEvent:
			e.Event = s
		case colChannel:
			e.Channel = s
		case colSource:
			e.SourceID = s
		}
	}
	for j, col := range strCols {
		if !c.want.has(col) {
			continue
		}
		sc := &c.str[j]
		x := sc.idx.uvarint()
		if sc.idx.err != nil || x >= uint64(len(sc.dict)) {
			return c.f.corruptf("block %d column %d: bad dictionary index at row %d", c.bi, col, i)
		}
		if discard {
			continue
		}
		s := sc.dict[x]
		switch col {
		case colName:
			e.Name = s
		case colUserID:
			e.UserID = s
		case colAnonymousID:
			e.AnonymousID = s
		case colPreviousID:
			e.PreviousID = s
		case colGroupID:
			e.GroupID = s
		}
	}
	if c.want.has(colMessageID) {
		var b []byte
		if c.f.version >= 2 {
			b = c.msg.messageID(&c.msgIDs, &c.msgBuf)
		} else {
			b = c.msg.bytes()
		}
		if c.msg.err != nil {
			return c.f.corruptf("block %d messageId column: %v", c.bi, c.msg.err)
		}
		if !discard {
			e.MessageID = string(b)
		}
	}
	for j, col := range optCols {
		if !c.want.has(col) {
			continue
		}
		oc := &c.opt[j]
		u := oc.ms.uvarint()
		if oc.ms.err != nil {
			return c.f.corruptf("block %d column %d: %v", c.bi, col, oc.ms.err)
		}
		if u == 0 {
			continue
		}
		ms := oc.prev + unzigzag(u-1)
		oc.prev = ms
		sub := oc.ns.uvarint()
		if oc.ns.err != nil || sub >= 1e6 {
			return c.f.corruptf("block %d column %d: bad sub-millisecond part at row %d", c.bi, col, i)
		}
		if discard {
			continue
		}
		t := joinTime(ms, int64(sub))
		switch col {
		case colOriginalTime:
			e.OriginalTimestamp = t
		case colSentAt:
			e.SentAt = t
		case colReceivedAt:
			e.ReceivedAt = t
		}
	}
	if c.want.has(colTraits) {
		e.Traits = c.mapRow(&c.traits, &c.lastTraits, discard)
		if c.traits.err != nil {
			return c.f.corruptf("block %d traits column: %v", c.bi, c.traits.err)
		}
	}
	if c.want.has(colContext) {
		e.Context = c.mapRow(&c.context, &c.lastContext, discard)
		if c.context.err != nil {
			return c.f.corruptf("block %d context column: %v", c.bi, c.context.err)
		}
	}
	for j := range c.props {
		p := &c.props[j]
		if p.bm[i/8]&(1<<(i%8)) == 0 {
			continue
		}
		if p.ki >= len(p.kinds) {
			return c.f.corruptf("block %d property %q: more rows than kinds", c.bi, p.name)
		}
		k := p.kinds[p.ki]
		p.ki++
		v, err := p.value(k, discard)
		if err != nil {
			return c.f.corruptf("block %d property %q row %d: %v", c.bi, p.name, i, err)
		}
		if discard {
			continue
		}
		if e.Properties == nil {
			e.Properties = make(map[string]any, len(c.props))
		}
		e.Properties[p.name] = v
	}
	return nil
}

func (p *propCursor) value(kind byte, discard bool) (any, error) {
	d := &p.vals
	var v any
	switch kind {
	case pkNull:
	case pkFalse:
		v = false
	case pkTrue:
		v = true
	case pkInt:
		x := d.varint()
		if !discard {
			v = json.Number(strconv.FormatInt(x, 10))
		}
	case pkFloat:
		if len(d.b) < 8 {
			d.fail("truncated float")
			break
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
		d.b = d.b[8:]
		if math.IsNaN(f) || math.IsInf(f, 0) {
			d.fail("float kind holds a non-finite number")
			break
		}
		if !discard {
			v = json.Number(formatFloat(f, 64))
		}
	case pkNumText:
		s := d.bytes()
		if !discard {
			v = json.Number(s)
		}
	case pkString:
		x := d.uvarint()
		if d.err == nil && x >= uint64(len(p.dict)) {
			d.fail("bad dictionary index")
		}
		if d.err == nil {
			v = p.dict[x]
		}
	case pkNested:
		if discard {
			d.skipValue(1)
		} else {
			v = d.value(1)
		}
	default:
		return nil, fmt.Errorf("unknown kind %d", kind)
	}
	if d.err != nil {
		return nil, d.err
	}
	return v, nil
}

// skipValue steps over one tagged value without building it.
func (d *decoder) skipValue(depth int) {
	if depth > maxDepth {
		d.fail("value nested too deep")
		return
	}
	switch d.byte() {
	case tagNull, tagFalse, tagTrue:
	case tagString, tagNumber:
		d.bytes()
	case tagFloat:
		if len(d.b) < 8 {
			d.fail("truncated float")
			return
		}
		d.b = d.b[8:]
	case tagArray:
		n := d.uvarint()
		for i := uint64(0); i < n && d.err == nil; i++ {
			d.skipValue(depth + 1)
		}
	case tagObject:
		n := d.uvarint()
		for i := uint64(0); i < n && d.err == nil; i++ {
			d.bytes()
			d.skipValue(depth + 1)
		}
	default:
		d.fail("unknown value tag")
	}
}

// fileSource reads a column file's rows in order, block by block, holding
// one block at a time.
type fileSource struct {
	f      *colFile
	want   colSet
	skip   func(uint64) bool
	blocks []int // the blocks to read, in order; nil for all
	pos    int
	bc     *blockCursor
	r      row
	// With hasStop, reading ends at the first row whose key is past
	// stopAfter.
	stopAfter uint64
	hasStop   bool
}

func newFileSource(f *colFile, want colSet, skip func(uint64) bool) *fileSource {
	return &fileSource{f: f, want: want, skip: skip}
}

// next moves to the next row that is not skipped.
func (s *fileSource) next() (bool, error) {
	for {
		if s.bc == nil {
			bi := s.pos
			if s.blocks != nil {
				if s.pos >= len(s.blocks) {
					return false, nil
				}
				bi = s.blocks[s.pos]
			} else if s.pos >= len(s.f.blocks) {
				return false, nil
			}
			s.pos++
			bc, err := s.f.openBlock(bi, s.want)
			if err != nil {
				return false, err
			}
			s.bc = bc
		}
		skip := s.skip
		if s.hasStop {
			stop := s.stopAfter
			skip = func(k uint64) bool { return k > stop || s.skip != nil && s.skip(k) }
		}
		skipped, err := s.bc.next(&s.r, skip)
		if errors.Is(err, io.EOF) {
			if err := s.bc.done(); err != nil {
				return false, err
			}
			s.bc = nil
			continue
		}
		if err != nil {
			return false, err
		}
		if s.hasStop && s.r.sk.key > s.stopAfter {
			s.bc = nil
			s.pos = len(s.f.blocks) + len(s.blocks)
			return false, nil
		}
		if !skipped {
			return true, nil
		}
	}
}

// mapRow reads one row of the traits or context column: a value, or in
// format 2 tagSame for the value of the row above, decoded again (each
// event gets its own map).
func (c *blockCursor) mapRow(d *decoder, last *[]byte, discard bool) map[string]any {
	if c.f.version >= 2 && len(d.b) > 0 && d.b[0] == tagSame {
		d.b = d.b[1:]
		if *last == nil {
			d.fail("the first row repeats a row above it")
			return nil
		}
		if discard {
			return nil
		}
		prev := decoder{b: *last}
		m := prev.mapValue()
		if prev.err != nil {
			d.err = prev.err
		}
		return m
	}
	start := d.b
	var m map[string]any
	if discard {
		d.skipValue(0)
	} else {
		m = d.mapValue()
	}
	if d.err == nil {
		*last = start[:len(start)-len(d.b)]
	}
	return m
}

// done checks that a finished block's columns were consumed exactly: a
// column with bytes left over disagrees with the others about the rows.
func (c *blockCursor) done() error {
	if c.want.has(colKey) && (c.runLeft != 0 || len(c.key.b) != 0) {
		return c.f.corruptf("block %d key column disagrees with the row count", c.bi)
	}
	for _, d := range []*decoder{&c.tms, &c.tns, &c.seq, &c.msg, &c.traits, &c.context,
		&c.dict[0], &c.dict[1], &c.dict[2], &c.dict[3],
		&c.str[0].idx, &c.str[1].idx, &c.str[2].idx, &c.str[3].idx, &c.str[4].idx,
		&c.opt[0].ms, &c.opt[0].ns, &c.opt[1].ms, &c.opt[1].ns, &c.opt[2].ms, &c.opt[2].ns} {
		if len(d.b) != 0 {
			return c.f.corruptf("block %d has a column longer than its %d rows", c.bi, c.rows)
		}
	}
	for _, p := range c.props {
		if p.ki != len(p.kinds) || len(p.vals.b) != 0 {
			return c.f.corruptf("block %d property %q longer than its rows", c.bi, p.name)
		}
	}
	return nil
}
