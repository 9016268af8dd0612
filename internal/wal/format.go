package wal

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
)

// The on-disk format, described for operators in docs/wal.md.
//
// A segment file is a header followed by records:
//
//	header  magic "TREKWAL" (7 bytes) | version (1 byte) | first LSN (uint64) |
//	        previous end (uint64) | CRC-32C of the 24 bytes before (uint32)
//	record  length of payload (uint32) | CRC-32C of length and payload (uint32) | payload
//
// Every integer is little-endian. The checksum covers the length field as
// well as the payload, so that a length corrupted into another plausible
// value is caught rather than read as the start of a different record.
//
// "Previous end" is the LSN after the last record of the segment before
// this one when this one was created (0 for a log's first segment). It
// lets Replay see that a sealed segment lost records at its end, which
// would otherwise look like a clean end of file followed by a
// deliberate jump in numbering.
const (
	magic         = "TREKWAL"
	formatVersion = 1
	headerSize    = 28
	frameSize     = 8 // length + checksum in front of each payload

	// MaxRecordBytes is the largest record the log accepts. The reader
	// refuses larger lengths without allocating, so that a corrupt length
	// field cannot make it allocate gigabytes.
	MaxRecordBytes = 64 << 20

	segmentExt = ".wal"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// recordCRC is the checksum stored in front of rec.
func recordCRC(rec []byte) uint32 {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(rec)))
	return crc32.Update(crc32.Update(0, castagnoli, n[:]), castagnoli, rec)
}

// appendFrame appends rec, framed, to buf; crc is recordCRC(rec), which
// appenders compute in their own goroutines so that the single writer only
// copies.
func appendFrame(buf, rec []byte, crc uint32) []byte {
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(rec)))
	buf = binary.LittleEndian.AppendUint32(buf, crc)
	return append(buf, rec...)
}

// header is a decoded segment header.
type header struct {
	first   uint64 // LSN of the segment's first record
	prevEnd uint64 // LSN after the previous segment's last record; 0: none
}

func encodeHeader(h header) []byte {
	b := make([]byte, 0, headerSize)
	b = append(b, magic...)
	b = append(b, formatVersion)
	b = binary.LittleEndian.AppendUint64(b, h.first)
	b = binary.LittleEndian.AppendUint64(b, h.prevEnd)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// errHeader says a segment header is torn or damaged.
var errHeader = errors.New("torn or corrupt segment header")

// versionError says a segment was written in a format this build does not
// know. It is never treated as damage: cutting it would destroy data that a
// newer trek wrote and can read.
type versionError struct {
	path    string
	version byte
}

func (e *versionError) Error() string {
	return fmt.Sprintf("write-ahead log segment %s has format version %d; this trek reads version %d only (was the data directory written by a newer trek?)",
		e.path, e.version, formatVersion)
}

// decodeHeader reads a segment header. A header that is too short, lacks
// the magic or fails its checksum is errHeader; a sound-looking header of
// another version is a *versionError.
func decodeHeader(b []byte, path string) (header, error) {
	// The version is looked at before the length: a newer format may have
	// a shorter header.
	if len(b) < len(magic)+1 || !bytes.Equal(b[:len(magic)], []byte(magic)) {
		return header{}, errHeader
	}
	if v := b[len(magic)]; v != formatVersion {
		return header{}, &versionError{path: path, version: v}
	}
	if len(b) < headerSize || crc32.Checksum(b[:24], castagnoli) != binary.LittleEndian.Uint32(b[24:28]) {
		return header{}, errHeader
	}
	return header{first: binary.LittleEndian.Uint64(b[8:16]), prevEnd: binary.LittleEndian.Uint64(b[16:24])}, nil
}

// segmentName is the file name of the segment whose first record has LSN
// first. Fixed-width decimal, so that names sort in LSN order.
func segmentName(first uint64) string {
	return fmt.Sprintf("%020d%s", first, segmentExt)
}

// parseSegmentName returns the first LSN a segment's file name promises,
// and false for every other file (moved-aside segments among them).
func parseSegmentName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segmentExt)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return n, err == nil
}

// Why a record (and everything after it) was cut on replay.
const (
	cutTornFrame   = "torn record header"
	cutTooLong     = "record length exceeds the maximum record size"
	cutPastEnd     = "record length runs past the end of the file (torn payload or corrupt length)"
	cutChecksum    = "record checksum mismatch"
	cutContent     = "record content rejected by the reader"
	cutHeader      = "torn or corrupt segment header"
	cutNameLSN     = "segment header's first LSN differs from its file name"
	cutLSNOverlap  = "segment starts below the end of the segment before it"
	cutGap         = "segment does not continue from the end of the one before it (records missing at the end of the earlier segment)"
	cutLastPartial = "segment header torn while the segment was being created"
)

// scanResult is where a scan of one segment stopped.
type scanResult struct {
	end    uint64 // LSN after the last intact record
	good   int64  // offset just past the last intact record
	reason string // why the scan stopped short of the end of the file; "" if it did not
}

// scanSegment reads the records of a segment file of the given size whose
// header said first, calling fn (if not nil) for each intact one. It stops
// at the first record that is torn or damaged and says why; errors are
// only I/O errors and errors from fn other than ErrCorrupt.
//
// The payload buffer is reused across records and grows to at most the
// largest record that fits in the file, never to a length read from it
// that the file could not hold.
func scanSegment(f File, size int64, first uint64, buf *[]byte, fn func(lsn uint64, rec []byte) error) (scanResult, error) {
	res := scanResult{end: first, good: headerSize}
	if size <= headerSize {
		return res, nil
	}
	r := bufio.NewReaderSize(io.NewSectionReader(f, headerSize, size-headerSize), int(min(size-headerSize, 1<<20)))
	var frame [frameSize]byte
	for {
		left := size - res.good
		if left == 0 {
			return res, nil
		}
		if left < frameSize {
			res.reason = cutTornFrame
			return res, nil
		}
		if _, err := io.ReadFull(r, frame[:]); err != nil {
			return res, fmt.Errorf("read at offset %d: %w", res.good, err)
		}
		n := binary.LittleEndian.Uint32(frame[0:4])
		if n > MaxRecordBytes {
			res.reason = cutTooLong
			return res, nil
		}
		if int64(n) > left-frameSize {
			res.reason = cutPastEnd
			return res, nil
		}
		if cap(*buf) < int(n) {
			*buf = make([]byte, n)
		}
		rec := (*buf)[:n]
		if _, err := io.ReadFull(r, rec); err != nil {
			return res, fmt.Errorf("read at offset %d: %w", res.good+frameSize, err)
		}
		if crc32.Update(crc32.Update(0, castagnoli, frame[0:4]), castagnoli, rec) != binary.LittleEndian.Uint32(frame[4:8]) {
			res.reason = cutChecksum
			return res, nil
		}
		if fn != nil {
			if err := fn(res.end, rec); err != nil {
				if errors.Is(err, ErrCorrupt) {
					res.reason = cutContent
					return res, nil
				}
				return res, err
			}
		}
		res.end++
		res.good += frameSize + int64(n)
	}
}
