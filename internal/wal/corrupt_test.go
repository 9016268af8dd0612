package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

// withLog returns opts whose logger writes into a buffer the test reads.
func withLog(opts Options) (Options, *logBuf) {
	b := &logBuf{}
	opts.Logger = slog.New(slog.NewTextHandler(b, nil))
	return opts, b
}

func frame(rec string) []byte { return appendFrame(nil, []byte(rec), recordCRC([]byte(rec))) }

func TestReplayCutsATornOrDamagedTailAndAppendsAfterIt(t *testing.T) {
	tests := []struct {
		name   string
		damage func(seg []byte) []byte
		// keep is how many of the five records survive.
		keep   int
		reason string
	}{
		{"torn length field", func(s []byte) []byte { return append(s, frame("sixth")[:3]...) }, 5, cutTornFrame},
		{"torn checksum field", func(s []byte) []byte { return append(s, frame("sixth")[:7]...) }, 5, cutTornFrame},
		{"length above the maximum", func(s []byte) []byte {
			f := frame("sixth")
			binary.LittleEndian.PutUint32(f, MaxRecordBytes+1)
			return append(s, f...)
		}, 5, cutTooLong},
		{"huge length does not allocate", func(s []byte) []byte {
			f := frame("sixth")
			binary.LittleEndian.PutUint32(f, 0xFFFFFFFF)
			return append(s, f...)
		}, 5, cutTooLong},
		{"length past the end of the file", func(s []byte) []byte {
			f := frame("sixth")
			binary.LittleEndian.PutUint32(f, 1000)
			return append(s, f...)
		}, 5, cutPastEnd},
		{"torn payload", func(s []byte) []byte { return s[:len(s)-2] }, 4, cutPastEnd},
		{"bad checksum in the payload", func(s []byte) []byte { s[len(s)-1] ^= 0x40; return s }, 4, cutChecksum},
		{"bad checksum field", func(s []byte) []byte {
			f := frame("sixth")
			f[5] ^= 1
			return append(s, f...)
		}, 5, cutChecksum},
		{"length changed into another plausible value", func(s []byte) []byte {
			f := frame("sixth-record")
			binary.LittleEndian.PutUint32(f, 5) // shorter, still inside the file
			return append(s, f...)
		}, 5, cutChecksum},
		{"garbage appended", func(s []byte) []byte { return append(s, []byte("\x13\x37 not a record at all, just noise")...) }, 5, cutTooLong},
		{"zeros appended (size updated, blocks never written)", func(s []byte) []byte { return append(s, make([]byte, 4096)...) }, 5, cutChecksum},
		{"damage in the middle of the last segment", func(s []byte) []byte { s[headerSize+frameSize] ^= 1; return s }, 0, cutChecksum},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := NewFaultFS()
			opts, logs := withLog(Options{})
			l, _ := open(t, fsys, opts)
			want := appendN(t, l, "record-", 5)
			l.Close()
			seg, _ := fsys.ReadFile(segPath(1))
			good := headerSize
			for _, e := range want[:tc.keep] {
				good += len(frame(e.rec))
			}
			fsys.WriteFile(segPath(1), tc.damage(seg))

			l, got := open(t, fsys, opts)
			sameEntries(t, got, want[:tc.keep])
			if data, _ := fsys.ReadFile(segPath(1)); len(data) != good {
				t.Errorf("segment is %d bytes after the cut, want %d (just past the last intact record)", len(data), good)
			}
			if s := logs.String(); !strings.Contains(s, "cutting torn tail") || !strings.Contains(s, tc.reason) {
				t.Errorf("log does not say what was cut and why (%q):\n%s", tc.reason, s)
			}
			want = append(want[:tc.keep], entry{mustAppend(t, l, "after the cut"), "after the cut"})
			if got := want[len(want)-1].lsn; got != uint64(tc.keep+1) {
				t.Errorf("first append after the cut got LSN %d, want %d", got, tc.keep+1)
			}
			l, got = reopen(t, l, fsys, opts)
			sameEntries(t, got, want)
			// And once more, across a power cut.
			want = append(want, entry{mustAppend(t, l, "later"), "later"})
			_, got, err := tryOpen(fsys.Crash(nil), opts)
			if err != nil {
				t.Fatal(err)
			}
			sameEntries(t, got, want)
		})
	}
}

func TestRecordRejectedByTheCallerAsCorruptIsCut(t *testing.T) {
	fsys := NewFaultFS()
	opts, logs := withLog(Options{})
	l, _ := open(t, fsys, opts)
	want := appendN(t, l, "r", 4)
	l.Close()
	l, err := Open(dir, Options{FS: fsys, Logger: opts.Logger})
	if err != nil {
		t.Fatal(err)
	}
	var got []entry
	err = l.Replay(func(lsn uint64, rec []byte) error {
		if string(rec) == "r2" {
			return fmt.Errorf("decode: %w", ErrCorrupt)
		}
		got = append(got, entry{lsn, string(rec)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	sameEntries(t, got, want[:2])
	if !strings.Contains(logs.String(), cutContent) {
		t.Errorf("log does not give the reason:\n%s", logs)
	}
	if lsn := mustAppend(t, l, "next"); lsn != 3 {
		t.Fatalf("next LSN %d, want 3", lsn)
	}
}

func TestSegmentWhoseCreationWasInterruptedIsRemoved(t *testing.T) {
	for _, size := range []int{0, 7, headerSize - 1} {
		t.Run(fmt.Sprint(size, " bytes"), func(t *testing.T) {
			fsys := NewFaultFS()
			opts := Options{SegmentBytes: 100}
			l, _ := open(t, fsys, opts)
			want := appendN(t, l, "record-", 6)
			l.Close()
			next := want[len(want)-1].lsn + 1
			fsys.WriteFile(segPath(next), encodeHeader(header{first: next, prevEnd: next})[:size])
			before := len(fsys.Names(dir))

			l, got := open(t, fsys, opts)
			sameEntries(t, got, want)
			if slices.Contains(fsys.Names(dir), segmentName(next)) && len(fsys.Names(dir)) == before {
				data, _ := fsys.ReadFile(segPath(next))
				if len(data) == size {
					t.Fatal("the half-made segment is still there, unchanged")
				}
			}
			want = append(want, entry{mustAppend(t, l, "after"), "after"})
			if want[len(want)-1].lsn != next {
				t.Fatalf("append after removing the half-made segment got LSN %d, want %d", want[len(want)-1].lsn, next)
			}
			_, got = reopen(t, l, fsys, opts)
			sameEntries(t, got, want)
		})
	}
}

// sealedLog makes a log of several segments and returns its records and
// segment names.
func sealedLog(t *testing.T, fsys *FaultFS, opts Options) ([]entry, []string) {
	t.Helper()
	l, _ := open(t, fsys, opts)
	want := appendN(t, l, "sealed-record-", 30)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	names := fsys.Names(dir)
	if len(names) < 4 {
		t.Fatalf("want at least 4 segments, got %v", names)
	}
	return want, names
}

func firstOf(t *testing.T, name string) uint64 {
	n, ok := parseSegmentName(name)
	if !ok {
		t.Fatalf("bad segment name %q", name)
	}
	return n
}

func TestDamageInASealedSegmentIsCutAndTheRestKeptAsideWithoutReusingLSNs(t *testing.T) {
	fsys := NewFaultFS()
	opts, logs := withLog(Options{SegmentBytes: 120})
	want, names := sealedLog(t, fsys, opts)
	damaged := names[1]
	first := firstOf(t, damaged)
	data, _ := fsys.ReadFile(dir + "/" + damaged)
	// Damage the second record of the second segment.
	off := headerSize + len(frame(want[first-1].rec)) + frameSize + 2
	data[off] ^= 0xff
	fsys.WriteFile(dir+"/"+damaged, data)

	l, got := open(t, fsys, opts)
	sameEntries(t, got, want[:first])
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "corruption in durable data") {
		t.Errorf("damage to durable data must be logged as an error:\n%s", logs)
	}
	var aside, live []string
	for _, n := range fsys.Names(dir) {
		if strings.HasSuffix(n, ".corrupt") {
			aside = append(aside, n)
		} else {
			live = append(live, n)
		}
	}
	// Later segments renamed, plus the damaged tail saved.
	if len(aside) != len(names)-2+1 {
		t.Errorf("moved aside %v; want the %d later segments and the damaged tail", aside, len(names)-2)
	}
	lsn := mustAppend(t, l, "after")
	if lsn <= want[len(want)-1].lsn {
		t.Fatalf("append after the cut got LSN %d, which a record moved aside had (up to %d)", lsn, want[len(want)-1].lsn)
	}
	_, got = reopen(t, l, fsys, opts)
	sameEntries(t, got, append(want[:first:first], entry{lsn, "after"}))
	t.Logf("live %v, aside %v", live, aside)
}

func TestRepairOfSealedDamageIsSafeToInterruptAtEveryStep(t *testing.T) {
	// The repair creates a segment, saves the tail, renames, truncates. A
	// crash (here: a failure, then a power cut) after any of those must not
	// lead the next replay to reuse a number.
	for _, f := range []Fault{
		{Op: OpOpen, Path: ".corrupt"},
		{Op: OpRename},
		{Op: OpRename, After: 1},
		{Op: OpTruncate},
		{Op: OpSyncDir, Path: "wal", After: 2},
	} {
		t.Run(fmt.Sprintf("%s after %d", f.Op, f.After), func(t *testing.T) {
			fsys := NewFaultFS()
			opts := Options{SegmentBytes: 120}
			want, names := sealedLog(t, fsys, opts)
			data, _ := fsys.ReadFile(dir + "/" + names[1])
			data[len(data)-1] ^= 1 // last record of the second segment
			fsys.WriteFile(dir+"/"+names[1], data)
			keep := int(firstOf(t, names[2]) - 2)

			fsys.Inject(f)
			if _, _, err := tryOpen(fsys, opts); err == nil {
				t.Fatal("the fault did not interrupt the repair")
			}
			fsys.ClearFaults()
			crashed := fsys.Crash(nil)
			l, got := open(t, crashed, opts)
			sameEntries(t, got, want[:keep])
			lsn := mustAppend(t, l, "after")
			if lsn <= want[len(want)-1].lsn {
				t.Fatalf("after an interrupted repair, append got LSN %d, reusing a number up to %d", lsn, want[len(want)-1].lsn)
			}
			_, got = reopen(t, l, crashed, opts)
			sameEntries(t, got, append(want[:keep:keep], entry{lsn, "after"}))
		})
	}
}

func TestDamagedHeaderOfTheLastSegmentWithRecordsIsMovedAside(t *testing.T) {
	fsys := NewFaultFS()
	opts := Options{SegmentBytes: 120}
	want, names := sealedLog(t, fsys, opts)
	lastName := names[len(names)-1]
	data, _ := fsys.ReadFile(dir + "/" + lastName)
	if len(data) <= headerSize {
		t.Skip("last segment holds no record")
	}
	data[3] = 'X'
	fsys.WriteFile(dir+"/"+lastName, data)
	l, got := open(t, fsys, opts)
	keep := firstOf(t, lastName) - 1
	sameEntries(t, got, want[:keep])
	lsn := mustAppend(t, l, "after")
	if lsn <= want[len(want)-1].lsn {
		t.Fatalf("append got LSN %d, reusing a number up to %d", lsn, want[len(want)-1].lsn)
	}
}

func TestSegmentWithTheWrongLSNIsCut(t *testing.T) {
	tests := []struct {
		name  string
		plant func(t *testing.T, fsys *FaultFS, names []string)
	}{
		{"header disagrees with the file name", func(t *testing.T, fsys *FaultFS, names []string) {
			last := names[len(names)-1]
			data, _ := fsys.ReadFile(dir + "/" + last)
			h, _ := decodeHeader(data, last)
			h.first += 1000
			copy(data, encodeHeader(h))
			fsys.WriteFile(dir+"/"+last, data)
		}},
		{"segment overlapping the one before", func(t *testing.T, fsys *FaultFS, names []string) {
			last := names[len(names)-1]
			first := firstOf(t, last)
			data, _ := fsys.ReadFile(dir + "/" + last)
			fsys.Remove(dir + "/" + last)
			h, _ := decodeHeader(data, last)
			h.first, h.prevEnd = first-1, first-1
			copy(data, encodeHeader(h))
			fsys.WriteFile(segPath(first-1), data)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := NewFaultFS()
			opts, logs := withLog(Options{SegmentBytes: 120})
			want, names := sealedLog(t, fsys, opts)
			tc.plant(t, fsys, names)
			l, got := open(t, fsys, opts)
			keep := firstOf(t, names[len(names)-1]) - 1
			sameEntries(t, got, want[:keep])
			if !strings.Contains(logs.String(), "segment") {
				t.Errorf("nothing logged:\n%s", logs)
			}
			if lsn := mustAppend(t, l, "x"); lsn <= want[len(want)-1].lsn {
				t.Fatalf("append got LSN %d, reusing a number up to %d", lsn, want[len(want)-1].lsn)
			}
		})
	}
}

func TestFilesThatAreNotSegmentsAreIgnored(t *testing.T) {
	fsys := NewFaultFS()
	l, _ := open(t, fsys, Options{})
	want := appendN(t, l, "r", 3)
	l.Close()
	for _, n := range []string{"notes.txt", "1.wal", "00000000000000000001.wal.123.corrupt", "0000000000000000000x.wal"} {
		if err := fsys.WriteFile(dir+"/"+n, []byte("junk")); err != nil {
			t.Fatal(err)
		}
	}
	_, got := open(t, fsys, Options{})
	sameEntries(t, got, want)
}

func TestDecodeHeaderRejectsDamage(t *testing.T) {
	good := encodeHeader(header{first: 42, prevEnd: 40})
	if h, err := decodeHeader(good, "x"); err != nil || h != (header{42, 40}) {
		t.Fatalf("good header: %+v, %v", h, err)
	}
	for i := range headerSize {
		if i == len(magic) {
			continue // the version byte: a different error, tested above
		}
		b := slices.Clone(good)
		b[i] ^= 0x10
		if _, err := decodeHeader(b, "x"); !errors.Is(err, errHeader) {
			t.Errorf("header with byte %d flipped: %v", i, err)
		}
	}
	for n := range headerSize {
		if _, err := decodeHeader(good[:n], "x"); !errors.Is(err, errHeader) {
			t.Errorf("header of %d bytes: %v", n, err)
		}
	}
}

func TestSealedSegmentThatLostRecordsAtItsEndIsDetected(t *testing.T) {
	// Cut a sealed segment exactly at a record boundary: its file ends
	// cleanly, and only the next segment's header shows that records are
	// missing.
	fsys := NewFaultFS()
	opts, logs := withLog(Options{SegmentBytes: 120})
	want, names := sealedLog(t, fsys, opts)
	data, _ := fsys.ReadFile(dir + "/" + names[1])
	first := firstOf(t, names[1])
	keep := int(first-1) + 1 // the records before it, and its first
	fsys.WriteFile(dir+"/"+names[1], data[:headerSize+len(frame(want[first-1].rec))])

	l, got := open(t, fsys, opts)
	sameEntries(t, got, want[:keep])
	if !strings.Contains(logs.String(), cutGap) {
		t.Errorf("log does not name the gap:\n%s", logs)
	}
	if lsn := mustAppend(t, l, "after"); lsn <= want[len(want)-1].lsn {
		t.Fatalf("append got LSN %d, reusing a number up to %d", lsn, want[len(want)-1].lsn)
	}
}

func TestDeliberateLSNJumpsAreNotMistakenForLostRecords(t *testing.T) {
	fsys := NewFaultFS()
	l, _ := open(t, fsys, Options{SegmentBytes: 60})
	want := appendN(t, l, "record-", 4)
	l, _ = reopen(t, l, fsys, Options{SegmentBytes: 60, Checkpoint: 100})
	more := appendN(t, l, "jumped-", 4)
	if more[0].lsn != 101 {
		t.Fatalf("first LSN after the checkpoint: %d", more[0].lsn)
	}
	_, got := reopen(t, l, fsys, Options{SegmentBytes: 60})
	sameEntries(t, got, append(want, more...))
}
