package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// FuzzReplay feeds arbitrary bytes to Replay as a segment file: either
// the records after a valid header (raw false), or the whole file. Replay
// must never panic or allocate without bound, and every record it yields
// must be exactly as framed and checksummed in the file, in order, from
// the start: re-encoding them must give back a prefix of the file. What
// it cuts must stay cut, and the log must take appends afterwards.
func FuzzReplay(f *testing.F) {
	body := func(recs ...string) []byte {
		var b []byte
		for _, r := range recs {
			b = append(b, frame(r)...)
		}
		return b
	}
	f.Add(body("a", "bb", "ccc"), false)
	f.Add(body(""), false)
	f.Add(append(body("one", "two"), 0, 0, 0), false)
	f.Add(append(body("one"), make([]byte, 64)...), false)
	huge := frame("x")
	binary.LittleEndian.PutUint32(huge, 0xFFFFFFF0)
	f.Add(append(body("one"), huge...), false)
	bad := body("checksum")
	bad[len(bad)-1] ^= 1
	f.Add(append(body("ok"), bad...), false)
	f.Add(append(encodeHeader(header{first: 1}), body("x", "y")...), true)
	f.Add(append(encodeHeader(header{first: 7}), body("x")...), true)
	f.Add([]byte("TREKWAL\x02 from the future"), true)
	f.Add([]byte("TREKWAL"), true)
	f.Add([]byte{}, true)

	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		fsys := NewFaultFS()
		if err := fsys.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		file := data
		if !raw {
			file = append(encodeHeader(header{first: 1}), data...)
		}
		if err := fsys.WriteFile(segPath(1), file); err != nil {
			t.Fatal(err)
		}
		l, got, err := tryOpen(fsys, Options{})
		if err != nil {
			var ve *versionError
			if errors.As(err, &ve) {
				return // a newer format: refused, untouched
			}
			t.Fatalf("replay: %v", err)
		}
		if len(got) > 0 {
			want := encodeHeader(header{first: 1})
			for i, e := range got {
				if e.lsn != uint64(i+1) {
					t.Fatalf("record %d has LSN %d", i, e.lsn)
				}
				want = append(want, frame(e.rec)...)
			}
			if !bytes.HasPrefix(file, want) {
				t.Fatalf("replayed records that are not, framed and checksummed, the start of the file")
			}
			if seg, _ := fsys.ReadFile(segPath(1)); !bytes.Equal(seg, want) {
				t.Fatalf("after replay the segment is %d bytes, want %d: the tail must be cut right after the last good record", len(seg), len(want))
			}
		}
		lsn, err := l.Append(t.Context(), []byte("after"))
		if err != nil {
			t.Fatalf("append after replay: %v", err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		_, again, err := tryOpen(fsys, Options{})
		if err != nil {
			t.Fatalf("second replay: %v", err)
		}
		if len(again) != len(got)+1 || again[len(got)] != (entry{lsn, "after"}) {
			t.Fatalf("second replay gave %d records (last %v), want the %d of the first and %v", len(again), again[len(again)-1:], len(got), entry{lsn, "after"})
		}
		for i := range got {
			if again[i] != got[i] {
				t.Fatalf("second replay differs at %d", i)
			}
		}
		for _, n := range fsys.Names(dir) {
			if strings.HasSuffix(n, ".tmp") {
				t.Fatalf("left a temporary file %s", n)
			}
		}
	})
}
