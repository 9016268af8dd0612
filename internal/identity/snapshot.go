package identity

import (
	"bytes"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"time"
)

// snapshotMagic opens every snapshot; the format version follows it.
const snapshotMagic = "TREKIDGR"

// SnapshotVersion is the version of the snapshot format Snapshot writes.
// Load reads every version up to it.
const SnapshotVersion = 1

// Limits Load holds a snapshot to, so that a corrupt one fails instead of
// asking for absurd amounts of memory.
const (
	maxKinds    = 1 << 16
	maxValueLen = 1 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Snapshot writes the whole graph to w in the versioned binary format
// described in docs/identity.md, with a CRC-32C of the content at the end.
// The snapshot contains the changes not yet taken: after writing it, the
// caller may still take and log them, and a replay skips them by Seq.
//
// Changes wait while the snapshot is written (readers do not); the caller
// should write to a buffered file, not a slow network stream.
func (g *Graph) Snapshot(w io.Writer) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	sw := &snapWriter{w: w, buf: make([]byte, 0, 1<<16)}
	b := append(sw.buf, snapshotMagic...)
	b = binary.AppendUvarint(b, SnapshotVersion)
	b = append(b, g.fingerprint[:]...)
	b = binary.AppendUvarint(b, g.seq)
	b = binary.AppendUvarint(b, g.merges)
	b = binary.AppendUvarint(b, g.nrefused)
	b = binary.AppendUvarint(b, g.erased)
	b = binary.AppendUvarint(b, uint64(len(g.kinds)))
	for _, k := range g.kinds {
		b = appendString(b, k)
	}
	b = binary.AppendUvarint(b, uint64(len(g.key)-1))
	for i := 1; i < len(g.key); i++ {
		key := g.key[i]
		if key == "" {
			b = append(b, 0)
		} else {
			k, off := kindOf(key)
			b = binary.AppendUvarint(b, k+1)
			b = appendString(b, key[off:])
			b = binary.AppendUvarint(b, uint64(uint32(i)-g.info[g.find(uint32(i))].cust))
		}
		b = sw.flushIfFull(b)
	}

	custs := make([]uint32, 0, len(g.logs))
	for c := range g.logs {
		custs = append(custs, c)
	}
	slices.Sort(custs)
	b = binary.AppendUvarint(b, uint64(len(custs)))
	var prevCust uint32
	for _, c := range custs {
		log := g.logs[c]
		b = binary.AppendUvarint(b, uint64(c-prevCust))
		prevCust = c
		b = binary.AppendUvarint(b, uint64(len(log)))
		var prevSeq uint64
		for i := range log {
			m := log[i].merge()
			b = binary.AppendUvarint(b, m.Seq-prevSeq)
			prevSeq = m.Seq
			b = appendMerge(b, m)
			b = sw.flushIfFull(b)
		}
	}

	hashes := make([][32]byte, 0, len(g.suppressed))
	for h := range g.suppressed {
		hashes = append(hashes, h)
	}
	slices.SortFunc(hashes, func(x, y [32]byte) int { return bytes.Compare(x[:], y[:]) })
	b = binary.AppendUvarint(b, uint64(len(hashes)))
	for _, h := range hashes {
		b = append(b, h[:]...)
		b = sw.flushIfFull(b)
	}
	sw.write(b)
	sw.write(binary.LittleEndian.AppendUint32(nil, sw.crc))
	if sw.err != nil {
		return fmt.Errorf("write identity snapshot: %w", sw.err)
	}
	return nil
}

// snapWriter writes a snapshot in chunks and checksums what it writes.
type snapWriter struct {
	w   io.Writer
	buf []byte
	crc uint32
	err error
}

func (s *snapWriter) write(b []byte) {
	if s.err != nil {
		return
	}
	s.crc = crc32.Update(s.crc, castagnoli, b)
	_, s.err = s.w.Write(b)
}

func (s *snapWriter) flushIfFull(b []byte) []byte {
	if len(b) < 1<<16 {
		return b
	}
	s.write(b)
	return b[:0]
}

// Load reads a graph that Snapshot wrote. cfg must carry the secret the
// graph was made with; another secret is refused, because the suppression
// list would silently stop matching. A snapshot that is truncated, has a
// wrong checksum or contradicts itself fails with an error wrapping
// ErrCorrupt.
func Load(r io.Reader, cfg Config) (*Graph, error) {
	g, err := New(cfg)
	if err != nil {
		return nil, err
	}
	s := &snapReader{r: r, buf: make([]byte, 0, 1<<16)}
	if err := g.load(s); err != nil {
		return nil, fmt.Errorf("load identity snapshot: %w", err)
	}
	return g, nil
}

// errSecret is the one failure of Load that is not corruption.
var errSecret = errors.New("the snapshot was written with another suppression secret")

func (g *Graph) load(s *snapReader) error {
	if string(s.bytes(len(snapshotMagic))) != snapshotMagic && s.err == nil {
		return fmt.Errorf("%w: not an identity snapshot", ErrCorrupt)
	}
	if v := s.uvarint(); s.err == nil && (v == 0 || v > SnapshotVersion) {
		return fmt.Errorf("%w: unknown version %d (this trek reads up to %d)", ErrCorrupt, v, SnapshotVersion)
	}
	fp := s.bytes(32)
	if s.err == nil && subtle.ConstantTimeCompare(fp, g.fingerprint[:]) != 1 {
		return errSecret
	}
	g.seq = s.uvarint()
	g.merges = s.uvarint()
	g.nrefused = s.uvarint()
	g.erased = s.uvarint()

	nk := s.uvarint()
	if s.err == nil && (nk < fixedKinds || nk > maxKinds) {
		s.fail("%d kinds", nk)
	}
	for i := uint64(0); i < nk && s.err == nil; i++ {
		k := s.string(maxValueLen)
		switch {
		case s.err != nil:
		case i < fixedKinds:
			if k != fixedKindNames[i] {
				s.fail("kind %d is %q, not %q", i, k, fixedKindNames[i])
			}
		case k == "":
			s.fail("empty kind")
		default:
			if _, dup := g.kindIndex(k); dup {
				s.fail("kind %q twice", k)
			}
			g.addKind(k)
		}
	}

	nn := s.uvarint()
	if s.err == nil && nn >= 1<<32-1 {
		s.fail("%d nodes", nn)
	}
	for i := uint32(1); uint64(i) <= nn && s.err == nil; i++ {
		tag := s.uvarint()
		if tag == 0 {
			g.key = append(g.key, "")
			g.parent = append(g.parent, i)
			g.next = append(g.next, i)
			g.info = append(g.info, setInfo{})
			continue
		}
		if tag > uint64(len(g.kinds)) {
			s.fail("node %d: unknown kind %d", i, tag-1)
			break
		}
		id := Identifier{Kind: g.kinds[tag-1], Value: s.string(maxValueLen)}
		d := s.uvarint()
		if s.err != nil {
			break
		}
		if id.Value == "" {
			s.fail("node %d: empty value", i)
			break
		}
		if n, _ := g.lookup(id, g.scratch); n != 0 {
			s.fail("node %d repeats node %d", i, n)
			break
		}
		if d >= uint64(i) {
			s.fail("node %d: customer id out of range", i)
			break
		}
		g.newNode(id)
		if d > 0 {
			cust := i - uint32(d)
			r, ok := g.customerRep(uint64(cust))
			if !ok {
				s.fail("node %d: customer %d is not a customer", i, cust)
				break
			}
			g.join(r, i)
		}
	}

	nl := s.uvarint()
	var cust uint32
	for i := uint64(0); i < nl && s.err == nil; i++ {
		d := s.uvarint()
		if s.err == nil && (d == 0 && i > 0 || uint64(cust)+d >= uint64(len(g.key))) {
			s.fail("merge log %d: customer out of order or range", i)
			break
		}
		cust += uint32(d)
		if _, ok := g.customerRep(uint64(cust)); !ok && s.err == nil {
			s.fail("merge log of %d, which is not a customer", cust)
			break
		}
		ne := s.uvarint()
		if ne == 0 && s.err == nil {
			s.fail("empty merge log of %d", cust)
			break
		}
		log := make([]logEntry, 0, min(ne, 1024))
		var seq uint64
		for j := uint64(0); j < ne && s.err == nil; j++ {
			delta := s.uvarint()
			// Entries are in Seq order, within what the snapshot holds
			// (and the check comes before the sum, which could wrap).
			ordered := delta > 0 && delta <= g.seq-seq
			seq += delta
			m := decodeMerge(s)
			m.Seq = seq
			if s.err != nil {
				break
			}
			if !ordered || m.Reason == "" ||
				m.Into == 0 || m.From == 0 || m.Into >= uint64(len(g.key)) || m.From >= uint64(len(g.key)) ||
				m.Via[0] >= uint64(len(g.key)) || m.Via[1] >= uint64(len(g.key)) {
				s.fail("merge log of %d: entry %d out of order or range", cust, j)
				break
			}
			if m.Refused {
				g.refused[refusedPair(uint32(m.Into), uint32(m.From))] = struct{}{}
			}
			log = append(log, entryOf(m))
		}
		g.logs[cust] = log
	}

	ns := s.uvarint()
	var prev [32]byte // a copy: the reader's buffer moves under its slices
	for i := uint64(0); i < ns && s.err == nil; i++ {
		b := s.bytes(32)
		if s.err != nil {
			break
		}
		h := [32]byte(b)
		if i > 0 && bytes.Compare(prev[:], h[:]) >= 0 {
			s.fail("suppression list out of order")
			break
		}
		prev = h
		g.suppressed[h] = struct{}{}
	}
	if s.err != nil {
		return s.err
	}
	want := s.consumedCRC()
	got := s.bytes(4)
	if s.err != nil {
		return s.err
	}
	if binary.LittleEndian.Uint32(got) != want {
		return fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	if !s.atEOF() {
		if s.err != nil {
			return s.err
		}
		return fmt.Errorf("%w: data after the checksum", ErrCorrupt)
	}
	return nil
}

// join attaches node n, a new singleton, to the set with representative r
// while a snapshot is loaded: the structure of union without a merge to
// log, because the snapshot lists merges in their logs.
func (g *Graph) join(r, n uint32) {
	in := g.info[n]
	ir := &g.info[r]
	g.parent[n] = r
	ir.size++
	ir.anon += in.anon
	ir.users += in.users
	g.info[n] = setInfo{}
	g.next[r], g.next[n] = g.next[n], g.next[r]
	g.customers--
}

// mergeReader is what decodeMerge needs from a decoder.
type mergeReader interface {
	byte() byte
	uvarint() uint64
	varint() int64
	string(max int) string
	fail(format string, args ...any)
}

// decodeMerge reads what appendMerge wrote.
func decodeMerge(d mergeReader) Merge {
	var m Merge
	m.Into = d.uvarint()
	m.From = d.uvarint()
	m.Via[0] = d.uvarint()
	m.Via[1] = d.uvarint()
	flags := d.byte()
	if flags&^1 != 0 {
		d.fail("unknown merge flags %#x", flags)
	}
	m.Refused = flags&1 != 0
	code := d.uvarint()
	switch {
	case code == 0:
		m.Reason = d.string(maxValueLen)
	case code <= uint64(len(knownReasons)):
		m.Reason = knownReasons[code-1]
	default:
		d.fail("unknown reason code %d", code)
	}
	m.Cause.MessageID = d.string(maxValueLen)
	m.Cause.Type = d.string(maxValueLen)
	sec := d.varint()
	nsec := d.uvarint()
	if nsec >= 1e9 {
		d.fail("nanoseconds %d out of range", nsec)
	}
	m.Cause.Time = time.Unix(sec, int64(nsec)).UTC()
	return m
}

// snapReader reads a snapshot from a stream through its own buffer, so
// that it can checksum exactly the bytes it consumed: each time the buffer
// is refilled, the part already read goes into the running CRC.
type snapReader struct {
	r   io.Reader
	buf []byte // buf[pos:] is unread
	pos int
	crc uint32 // of everything consumed before buf[0]
	eof bool
	err error
}

func (s *snapReader) fail(format string, args ...any) {
	if s.err == nil {
		s.err = fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
}

// fill tries to make n bytes available and returns how many are.
func (s *snapReader) fill(n int) int {
	for len(s.buf)-s.pos < n && !s.eof && s.err == nil {
		s.crc = crc32.Update(s.crc, castagnoli, s.buf[:s.pos])
		rest := copy(s.buf[:cap(s.buf)], s.buf[s.pos:])
		s.buf, s.pos = s.buf[:rest], 0
		if n > cap(s.buf) {
			s.buf = slices.Grow(s.buf, n-len(s.buf))
		}
		m, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+m]
		switch {
		case err == io.EOF:
			s.eof = true
		case err != nil:
			s.err = fmt.Errorf("read: %w", err)
		}
	}
	return len(s.buf) - s.pos
}

// bytes returns the next n bytes, valid only until the next read.
func (s *snapReader) bytes(n int) []byte {
	if s.err != nil {
		return nil
	}
	if s.fill(n) < n {
		s.fail("truncated")
		return nil
	}
	b := s.buf[s.pos : s.pos+n]
	s.pos += n
	return b
}

func (s *snapReader) byte() byte {
	b := s.bytes(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (s *snapReader) uvarint() uint64 {
	if s.err != nil {
		return 0
	}
	s.fill(binary.MaxVarintLen64)
	v, n := binary.Uvarint(s.buf[s.pos:])
	if n <= 0 {
		s.fail("bad or truncated varint")
		return 0
	}
	s.pos += n
	return v
}

func (s *snapReader) varint() int64 {
	if s.err != nil {
		return 0
	}
	s.fill(binary.MaxVarintLen64)
	v, n := binary.Varint(s.buf[s.pos:])
	if n <= 0 {
		s.fail("bad or truncated varint")
		return 0
	}
	s.pos += n
	return v
}

func (s *snapReader) string(max int) string {
	n := s.uvarint()
	if s.err != nil {
		return ""
	}
	if n > uint64(max) {
		s.fail("string of %d bytes", n)
		return ""
	}
	return string(s.bytes(int(n)))
}

// consumedCRC is the CRC-32C of every byte read so far.
func (s *snapReader) consumedCRC() uint32 {
	return crc32.Update(s.crc, castagnoli, s.buf[:s.pos])
}

func (s *snapReader) atEOF() bool {
	return s.fill(1) == 0 && s.err == nil
}
