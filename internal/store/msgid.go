package store

import (
	"encoding/hex"
	"fmt"
)

// The messageId column of format 2 packs the two shapes nearly every id
// has: a UUID in its canonical lowercase text (Segment's libraries, trek's
// collection) and a prefix followed by 32 lowercase hex digits (the ids
// trek's importers derive, such as "xes-…"). Both are random, so zstd
// spent more time on this column than on all the others together while
// saving only a third of it; packed, each is 16 bytes (and a prefix when
// it is not the previous one's) and the chunk is stored without
// compression. Every other id is kept as its bytes.
//
// Per event, a uvarint tag: msgUUID and 16 bytes; msgSamePrefix and 16
// bytes, for an id whose prefix is that of the block's previous id of
// this shape ("" for the first); msgNewPrefix, the prefix (uvarint length
// and bytes) and 16 bytes; or the id's length + msgPlain and its bytes.
const (
	msgUUID       = 0
	msgSamePrefix = 1
	msgNewPrefix  = 2
	msgPlain      = 3
)

// msgIDState is what one block's ids carry from one to the next: the
// prefix of the last id of the prefix-and-hex shape.
type msgIDState struct {
	prefix []byte
}

// appendMessageID appends id in the packed encoding and reports whether
// it was packed.
func (st *msgIDState) appendMessageID(b, id []byte) ([]byte, bool) {
	var raw [16]byte
	if len(id) == 36 && id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-' &&
		unhex(raw[0:4], id[0:8]) && unhex(raw[4:6], id[9:13]) && unhex(raw[6:8], id[14:18]) &&
		unhex(raw[8:10], id[19:23]) && unhex(raw[10:16], id[24:36]) {
		b = append(b, msgUUID)
		return append(b, raw[:]...), true
	}
	if n := len(id) - 32; n >= 0 && unhex(raw[:], id[n:]) {
		if string(id[:n]) == string(st.prefix) {
			b = append(b, msgSamePrefix)
		} else {
			b = append(b, msgNewPrefix)
			b = appendUvarint(b, uint64(n))
			b = append(b, id[:n]...)
			st.prefix = append(st.prefix[:0], id[:n]...)
		}
		return append(b, raw[:]...), true
	}
	b = appendUvarint(b, uint64(len(id))+msgPlain)
	return append(b, id...), false
}

// hexNibble maps the lowercase hex digits to their values and every other
// byte to 0xff: only lowercase ids round-trip through the packed bytes.
var hexNibble = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range []byte("0123456789abcdef") {
		t[c] = byte(i)
	}
	return t
}()

// unhex decodes the lowercase hex digits hx into dst (len(hx) = 2 ×
// len(dst)) and reports whether they were all such digits.
func unhex(dst, hx []byte) bool {
	var bad byte
	for i := range dst {
		hi, lo := hexNibble[hx[2*i]], hexNibble[hx[2*i+1]]
		bad |= hi | lo
		dst[i] = hi<<4 | lo
	}
	return bad&0xf0 == 0
}

// messageID reads one id of the packed encoding, or fails the decoder.
// A packed id is written to *buf, reused from call to call; the result
// is valid until the next call. st.prefix may point into d's bytes.
func (d *decoder) messageID(st *msgIDState, buf *[]byte) []byte {
	tag := d.uvarint()
	if d.err != nil {
		return nil
	}
	switch tag {
	case msgUUID:
		raw := d.take(16)
		if d.err != nil {
			return nil
		}
		var t [36]byte
		hex.Encode(t[0:8], raw[0:4])
		hex.Encode(t[9:13], raw[4:6])
		hex.Encode(t[14:18], raw[6:8])
		hex.Encode(t[19:23], raw[8:10])
		hex.Encode(t[24:36], raw[10:16])
		t[8], t[13], t[18], t[23] = '-', '-', '-', '-'
		*buf = append((*buf)[:0], t[:]...)
		return *buf
	case msgSamePrefix, msgNewPrefix:
		if tag == msgNewPrefix {
			st.prefix = d.bytes()
		}
		raw := d.take(16)
		if d.err != nil {
			return nil
		}
		*buf = hex.AppendEncode(append((*buf)[:0], st.prefix...), raw)
		return *buf
	}
	n := tag - msgPlain
	if n > uint64(len(d.b)) {
		d.fail(fmt.Sprintf("messageId of %d bytes past the end", n))
		return nil
	}
	b := d.b[:n]
	d.b = d.b[n:]
	return b
}

// take reads n bytes.
func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.fail("truncated")
		return nil
	}
	b := d.b[:n]
	d.b = d.b[n:]
	return b
}
