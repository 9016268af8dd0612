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
// saving only a third of it; packed, each is 16 bytes and the chunk is
// stored without compression. Every other id is kept as its bytes.
//
// Per event, a uvarint tag: msgUUID and 16 bytes; msgHexTail, the
// prefix (uvarint length and bytes) and 16 bytes; or the id's length +
// msgPlain and its bytes.
const (
	msgUUID    = 0
	msgHexTail = 1
	msgPlain   = 2
)

// appendMessageID appends id in the packed encoding and reports whether
// it was packed.
func appendMessageID(b, id []byte) ([]byte, bool) {
	if len(id) == 36 && id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-' {
		var hx [32]byte
		n := 0
		for i := 0; i < 36; i++ {
			if i == 8 || i == 13 || i == 18 || i == 23 {
				continue
			}
			hx[n] = id[i]
			n++
		}
		if lowerHex(hx[:]) {
			b = append(b, msgUUID)
			return appendHex16(b, hx[:]), true
		}
	}
	if n := len(id) - 32; n >= 0 && lowerHex(id[n:]) {
		b = append(b, msgHexTail)
		b = appendUvarint(b, uint64(n))
		b = append(b, id[:n]...)
		return appendHex16(b, id[n:]), true
	}
	b = appendUvarint(b, uint64(len(id))+msgPlain)
	return append(b, id...), false
}

// lowerHex reports whether s is all lowercase hex digits: only those
// round-trip through the packed bytes.
func lowerHex(s []byte) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func appendHex16(b, hx []byte) []byte {
	var raw [16]byte
	hex.Decode(raw[:], hx) // lowerHex checked it
	return append(b, raw[:]...)
}

// messageID reads one id of the packed encoding, or fails the decoder.
// A packed id is written to *buf, reused from call to call; the result
// is valid until the next call.
func (d *decoder) messageID(buf *[]byte) []byte {
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
	case msgHexTail:
		prefix := d.bytes()
		raw := d.take(16)
		if d.err != nil {
			return nil
		}
		*buf = hex.AppendEncode(append((*buf)[:0], prefix...), raw)
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
