package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
)

var update = flag.Bool("update", false, "rewrite testdata/format-v1.ndjson from what the reader gives (and write testdata/format-v1.col if it is missing), and testdata/writer-v2.col from what the serial writer writes")

const (
	fixtureCol    = "testdata/format-v1.col"
	fixtureGolden = "testdata/format-v1.ndjson"
)

// fixtureEvents exercise every column and every property kind: ties,
// sub-millisecond times, zero optional times, each JSON type, numbers
// whose text must survive exactly, Vietnamese, Greek and Polish text.
func fixtureEvents() []Record {
	at := time.Date(2024, 2, 29, 23, 59, 59, 999_000_000, time.UTC)
	return []Record{
		{1, event.Event{MessageID: "m1", Type: event.Track, Event: "Order Completed", UserID: "u1", AnonymousID: "a1",
			Channel: "web", SourceID: "src1", Timestamp: at, ReceivedAt: at.Add(time.Second),
			Properties: map[string]any{"revenue": json.Number("19.90"), "qty": json.Number("2"), "big": json.Number("1e+21"),
				"f": json.Number("0.25"), "ok": true, "no": false, "none": nil, "name": "Giày đỏ",
				"items": []any{map[string]any{"id": "x", "n": json.Number("1")}}},
			Context: map[string]any{"library": map[string]any{"name": "analytics.js"}, "ip": "127.0.0.1"}}},
		{1, event.Event{MessageID: "m2", Type: event.Page, Name: "Αρχική", UserID: "u1", Channel: "web", SourceID: "src1",
			Timestamp: at, ReceivedAt: at.Add(time.Second), SentAt: at.Add(-3 * time.Second), OriginalTimestamp: at.Add(-5 * time.Second)}},
		{1, event.Event{MessageID: "m3", Type: event.Identify, UserID: "u1", Channel: "store", SourceID: "src2",
			Timestamp: at.Add(1500 * time.Microsecond), ReceivedAt: at.Add(time.Minute),
			Traits: map[string]any{"email": "ola@example.pl", "miasto": "Łódź", "age": json.Number("33")}}},
		{2, event.Event{MessageID: "m4", Type: event.Alias, UserID: "u2", PreviousID: "a9", Channel: "mobile", SourceID: "src1",
			Timestamp: time.Date(1999, 12, 31, 0, 0, 0, 1, time.UTC), ReceivedAt: at}},
		{5, event.Event{MessageID: "m5", Type: event.Group, GroupID: "g1", AnonymousID: "a5", Channel: "other", SourceID: "src3",
			Timestamp: at.Add(-48 * time.Hour), ReceivedAt: at,
			Properties: map[string]any{"qty": json.Number("-7"), "revenue": "n/a"}}},
		{5, event.Event{MessageID: "m6", Type: event.Screen, Name: "Home", AnonymousID: "a5", Channel: "mobile", SourceID: "src3",
			Timestamp: at.Add(-47 * time.Hour), ReceivedAt: at, Properties: map[string]any{"qty": json.Number("1.0")}}},
	}
}

// writeFixture writes recs (in order, keys and times ascending) as a
// column file with tiny blocks.
func writeColFile(t testing.TB, path string, recs []Record, blockRows int) {
	t.Helper()
	w, err := createColFile(path)
	if err != nil {
		t.Fatal(err)
	}
	w.blockRows = blockRows
	for i, r := range recs {
		if err := w.add(r.Key, uint64(100+i), &r.Event); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := w.finish(); err != nil {
		t.Fatal(err)
	}
}

// readAll reads every row of a column file as NDJSON export lines.
func readAll(f *colFile) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	src := newFileSource(f, wantAll, nil)
	for {
		ok, err := src.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return buf.Bytes(), nil
		}
		if err := enc.Encode(exportLine{CustomerKey: src.r.sk.key, Seq: src.r.sk.seq, Event: src.r.ev}); err != nil {
			return nil, err
		}
	}
}

func TestFormatVersion1FixtureStillReads(t *testing.T) {
	if _, err := os.Stat(fixtureCol); os.IsNotExist(err) && *update {
		os.MkdirAll("testdata", 0o755)
		writeColFile(t, fixtureCol, fixtureEvents(), 2)
	}
	f, err := openColFile(fixtureCol)
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	got, err := readAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(fixtureGolden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(fixtureGolden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("format 1 fixture reads as\n%s\nwant\n%s", got, want)
	}
	// The fixture holds what fixtureEvents says, every value exact.
	checkRows(t, got, fixtureEvents())
	if f.rows != uint64(len(fixtureEvents())) || f.keys != 3 || len(f.blocks) != 3 {
		t.Errorf("fixture footer has %d rows, %d keys, %d blocks", f.rows, f.keys, len(f.blocks))
	}
}

func TestColumnFileKeepsPropertyTypesAndNumberText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.col")
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	props := map[string]any{
		"int": json.Number("42"), "neg": json.Number("-9223372036854775808"), "huge": json.Number("123456789012345678901234567890"),
		"dec": json.Number("1.50"), "f": json.Number("3.14"), "exp": json.Number("1e-7"), "zero": json.Number("-0"),
		"go_float": 1e6, "go_int": 12, "nan": math.NaN(), "s": "", "b": true, "n": nil,
		"arr": []any{json.Number("1"), "two", []any{}, map[string]any{}}, "obj": map[string]any{"deep": map[string]any{"x": false}},
	}
	writeColFile(t, path, []Record{{1, event.Event{MessageID: "m", Type: event.Track, Event: "e", Timestamp: at, Properties: props}}}, 10)
	f, err := openColFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	src := newFileSource(f, wantAll, nil)
	if ok, err := src.next(); !ok || err != nil {
		t.Fatal(ok, err)
	}
	got := src.r.ev.Properties
	want := map[string]any{
		"int": json.Number("42"), "neg": json.Number("-9223372036854775808"), "huge": json.Number("123456789012345678901234567890"),
		"dec": json.Number("1.50"), "f": json.Number("3.14"), "exp": json.Number("1e-7"), "zero": json.Number("-0"),
		"go_float": json.Number("1000000"), "go_int": json.Number("12"), "s": "", "b": true, "n": nil,
		"arr": []any{json.Number("1"), "two", []any{}, map[string]any{}}, "obj": map[string]any{"deep": map[string]any{"x": false}},
	}
	nan, ok := got["nan"].(float64)
	if !ok || !math.IsNaN(nan) {
		t.Errorf("NaN came back as %#v", got["nan"])
	}
	delete(got, "nan")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("properties\n got  %#v\n want %#v", got, want)
	}
}

func TestTheLogEncodingKeepsValuesExactly(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   any
		want any
	}{
		{"json number keeps its text", json.Number("1.50"), json.Number("1.50")},
		{"float64 as encoding/json writes it", 1e21, json.Number("1e+21")},
		{"small float64", 0.000001, json.Number("0.000001")},
		{"tiny float64", 1e-7, json.Number("1e-7")},
		{"float32", float32(0.1), json.Number("0.1")},
		{"int", -3, json.Number("-3")},
		{"uint64", uint64(math.MaxUint64), json.Number("18446744073709551615")},
		{"string", "Łódź", "Łódź"},
		{"nested", []any{map[string]any{"a": nil}}, []any{map[string]any{"a": nil}}},
		{"other types through JSON", []string{"a", "b"}, []any{"a", "b"}},
		{"struct through JSON", struct{ X int }{7}, map[string]any{"X": json.Number("7")}},
		{"time through JSON", time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), "2025-01-02T03:04:05Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := appendValue(nil, tc.in, 0)
			if err != nil {
				t.Fatal(err)
			}
			d := decoder{b: b}
			got := d.value(0)
			if d.err != nil || len(d.b) != 0 {
				t.Fatalf("decode: %v, %d bytes left", d.err, len(d.b))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestTheLogEncodingRefusesNumbersThatAreNotJSON(t *testing.T) {
	for _, n := range []string{"", "007", "1.", ".5", "+1", "1e", "0x10", "NaN", "1 "} {
		if _, err := appendValue(nil, json.Number(n), 0); err == nil {
			t.Errorf("json.Number(%q) was encoded", n)
		}
	}
	for _, n := range []string{"0", "-0", "1.50", "1e+21", "-2E-3", "123456789012345678901234567890"} {
		if _, err := appendValue(nil, json.Number(n), 0); err != nil {
			t.Errorf("json.Number(%q): %v", n, err)
		}
	}
}

func TestTheLogEncodingRefusesTooDeepValues(t *testing.T) {
	var v any = "x"
	for range maxDepth + 2 {
		v = []any{v}
	}
	if _, err := appendValue(nil, v, 0); err == nil {
		t.Fatal("a value nested past maxDepth was encoded")
	}
}

// TestEveryDamagedByteOfAColumnFileIsDetected flips one bit in each byte
// of a small column file in turn: every damage must make opening or
// reading the file fail, never give different events.
func TestEveryDamagedByteOfAColumnFileIsDetected(t *testing.T) {
	t.Run("plain ids", func(t *testing.T) { checkEveryDamagedByte(t, fixtureEvents()) })
	t.Run("packed ids in stored chunks", func(t *testing.T) { checkEveryDamagedByte(t, packedIDEvents()) })
}

func checkEveryDamagedByte(t *testing.T, recs []Record) {
	path := filepath.Join(t.TempDir(), "x.col")
	writeColFile(t, path, recs, 2)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := readColFile("x", bytes.NewReader(orig), int64(len(orig)))
	if err != nil {
		t.Fatal(err)
	}
	want, err := readAll(f)
	if err != nil {
		t.Fatal(err)
	}
	for i := range orig {
		b := bytes.Clone(orig)
		b[i] ^= 1 << (i % 8)
		f, err := readColFile("x", bytes.NewReader(b), int64(len(b)))
		if err != nil {
			continue
		}
		got, err := readAll(f)
		if err == nil {
			same := bytes.Equal(got, want)
			t.Fatalf("flipping a bit of byte %d of %d went unnoticed (same events: %v)", i, len(orig), same)
		}
		if !strings.Contains(err.Error(), "corrupt") {
			t.Errorf("byte %d: error %q does not say the file is corrupt", i, err)
		}
	}
	// And cutting the file anywhere is noticed at open.
	for n := range len(orig) {
		if _, err := readColFile("x", bytes.NewReader(orig[:n]), int64(n)); err == nil {
			t.Fatalf("a file cut to %d of %d bytes opened", n, len(orig))
		}
	}
}

func TestAStoreWithADamagedColumnFileFailsLoudly(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	appendAll(t, s, genArrival(genConfig{Seed: 30, Customers: 20}), 50)
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	cols, _ := filepath.Glob(filepath.Join(dir, "*"+colSuffix))
	b, _ := os.ReadFile(cols[0])
	b[headerSize+10] ^= 0xff // inside the first block's key column
	os.WriteFile(cols[0], b, 0o600)
	s = openStore(t, dir, Options{})
	err := s.Journeys(t.Context(), func(uint64, []event.Event) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "is corrupt") || !strings.Contains(err.Error(), filepath.Base(cols[0])) {
		t.Fatalf("Journeys over a damaged file: %v, want an error naming the file", err)
	}
	var nd bytes.Buffer
	if err := s.ExportNDJSON(t.Context(), &nd); err == nil {
		t.Fatal("export of a damaged file succeeded")
	}
}

func TestWriterRefusesRowsOutOfOrder(t *testing.T) {
	w, err := createColFile(filepath.Join(t.TempDir(), "x.col"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.abort()
	at := time.Now()
	if err := w.add(5, 1, &event.Event{Timestamp: at}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key, seq uint64
		at       time.Time
	}{{4, 2, at}, {5, 0, at}, {5, 2, at.Add(-time.Millisecond)}, {5, 1, at}} {
		if err := w.add(tc.key, tc.seq, &event.Event{Timestamp: tc.at}); err == nil {
			t.Errorf("row (key %d, seq %d) after (5, 1) accepted", tc.key, tc.seq)
		}
	}
}

func FuzzReadColumnFile(f *testing.F) {
	if b, err := os.ReadFile(fixtureCol); err == nil {
		f.Add(b)
	}
	dir := f.TempDir()
	for i, recs := range [][]Record{fixtureEvents()[:1], fixtureEvents()} {
		p := filepath.Join(dir, "seed"+string(rune('a'+i))+".col")
		writeColFile(f, p, recs, 1+i)
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cf, err := readColFile("fuzz", bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		readAll(cf)
		it := &fileKeys{f: cf, bi: -1}
		for {
			ok, err := it.next()
			if !ok || err != nil {
				break
			}
		}
		cf.holdsAny(map[uint64]bool{1: true, 5: true})
		src := newFileSource(cf, 1<<colSource|1<<colMessageID|1<<colReceivedAt, nil)
		for {
			ok, err := src.next()
			if !ok || err != nil {
				break
			}
		}
	})
}

func FuzzDecodeLogRecord(f *testing.F) {
	recs := fixtureEvents()
	offs := make([][2]int, len(recs))
	b, err := encodeRecord(1, batchOf(recs), offs, "")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Fuzz(func(t *testing.T, b []byte) {
		_, entries, _, err := parseRecord(b)
		if err != nil {
			return
		}
		for _, e := range entries {
			if _, _, err := decodeEvent(b[e.off:e.end]); err != nil && !errors.Is(err, errCorrupt) {
				t.Fatalf("decode error %v is not a corruption", err)
			}
		}
	})
}

// FuzzDecodeBlock feeds arbitrary decompressed column chunks to the block
// decoders, which checksums keep out of reach of FuzzReadColumnFile: they
// must never panic, loop or allocate without bound. The input is a row
// count byte, then chunks as (column byte, uvarint length, bytes).
func FuzzDecodeBlock(f *testing.F) {
	// Seeds: the fixture's blocks, decompressed.
	path := filepath.Join(f.TempDir(), "x.col")
	writeColFile(f, path, fixtureEvents(), 3)
	cf, err := openColFile(path)
	if err != nil {
		f.Fatal(err)
	}
	for bi, b := range cf.blocks {
		seed := []byte{byte(b.rows)}
		for _, c := range b.chunks {
			raw, _, err := cf.readChunk(bi, int(c.col))
			if err != nil {
				f.Fatal(err)
			}
			col := byte(c.col)
			if c.col >= colPropBase {
				col = byte(colPropBase + int(c.col-colPropBase)%2)
			}
			seed = append(seed, col)
			seed = appendUvarint(seed, uint64(len(raw)))
			seed = append(seed, raw...)
		}
		f.Add(seed)
	}
	cf.close()
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		rows := int(in[0]%64) + 1
		// The first byte's top bit picks the format version.
		fake := &colFile{name: "fuzz", version: colFormatOldest + uint32(in[0]>>7), rows: uint64(rows), props: []string{"p0", "p1"},
			dicts:  [4][]string{{"track", "page"}, {"A", "B", "C"}, {"web"}, {"s1", "s2"}},
			blocks: []blockMeta{{rows: rows}}, chunks: map[[2]int][]byte{}}
		d := decoder{b: in[1:]}
		for len(d.b) > 0 && d.err == nil {
			col := int(d.byte())
			raw := d.bytes()
			if d.err != nil || col >= numFixedCols && col != colPropBase && col != colPropBase+1 {
				break
			}
			fake.chunks[[2]int{0, col}] = raw
			fake.blocks[0].chunks = append(fake.blocks[0].chunks, chunkMeta{col: uint32(col)})
		}
		for _, want := range []colSet{wantAll, AllFields.columns() &^ wantProps, 1<<colKey | 1<<colMessageID} {
			src := newFileSource(fake, want, func(k uint64) bool { return k%2 == 1 })
			for n := 0; n <= rows; n++ {
				ok, err := src.next()
				if !ok || err != nil {
					break
				}
			}
		}
		it := &fileKeys{f: fake, bi: -1}
		for n := 0; n <= rows; n++ {
			if ok, err := it.next(); !ok || err != nil {
				break
			}
		}
		fake.holdsAny(map[uint64]bool{1: true})
	})
}

// fixtureWriterBytes is the file the serial writer of format 2 wrote for
// packedIDEvents in blocks of two rows.
const fixtureWriterBytes = "testdata/writer-v2.col"

// The writer compresses and writes one block while it fills the next, or
// each block in turn on one goroutine (a serving store's folds); either
// way the file must hold exactly the bytes the serial writer wrote when
// format 2 was made. -update rewrites the fixture, for a format change.
func TestTheWriterStillWritesTheSerialWritersBytes(t *testing.T) {
	for _, serial := range []bool{true, false} {
		got := writeColBytes(t, packedIDEvents(), 2, serial, 100)
		if *update && serial {
			if err := os.WriteFile(fixtureWriterBytes, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(fixtureWriterBytes)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("serial=%v: the writer wrote %d bytes that differ from the %d of %s", serial, len(got), len(want), fixtureWriterBytes)
		}
	}
}

// packedIDEvents are fixtureEvents with messageIds of every shape the
// format-2 messageId column tells apart.
func packedIDEvents() []Record {
	ids := []string{
		"86a77e13-7aaa-4a1c-bb5c-65d7a6cc7cbf",   // UUID: packed
		"xes-0123456789abcdef0123456789abcdef",   // prefix and 32 hex digits: packed
		"xes-fedcba9876543210fedcba9876543210",   // the same prefix again
		"0123456789abcdef0123456789abcdef",       // 32 hex digits alone: packed
		"86A77E13-7AAA-4A1C-BB5C-65D7A6CC7CBF",   // upper case: kept as it is
		"ndjson-0123456789abcdef0123456789abcde", // 31 hex digits: kept
	}
	recs := fixtureEvents()
	for i := range recs {
		recs[i].Event.MessageID = ids[i%len(ids)]
	}
	return recs
}

// The old writer's file (format 1) reads as the events it was written
// from.
func TestFormatVersion1WriterFileStillReads(t *testing.T) {
	f, err := openColFile("testdata/writer-v1.col")
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	if f.version != 1 {
		t.Fatalf("testdata/writer-v1.col is version %d", f.version)
	}
	got, err := readAll(f)
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, got, fixtureEvents())
}

func TestMessageIDsOfEveryShapeReadBackExactly(t *testing.T) {
	for _, blockRows := range []int{1, 2, 8192} {
		path := filepath.Join(t.TempDir(), "x.col")
		recs := packedIDEvents()
		writeColFile(t, path, recs, blockRows)
		f, err := openColFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAll(f)
		f.close()
		if err != nil {
			t.Fatal(err)
		}
		checkRows(t, got, recs)
	}
}

// checkRows compares readAll's lines with the records they were written
// from.
func checkRows(t *testing.T, got []byte, want []Record) {
	t.Helper()
	var i int
	for line := range strings.Lines(string(got)) {
		var l exportLine
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&l); err != nil {
			t.Fatal(err)
		}
		if i >= len(want) {
			t.Fatalf("more rows than the %d written", len(want))
		}
		if l.CustomerKey != want[i].Key || !reflect.DeepEqual(normalize(l.Event), normalize(want[i].Event)) {
			t.Errorf("row %d:\n got  %+v\n want %+v", i, l.Event, want[i].Event)
		}
		i++
	}
	if i != len(want) {
		t.Errorf("read %d rows, wrote %d", i, len(want))
	}
}

// A packed id and its text are the same id: every run of ids round-trips
// through the messageId column's encoding, and a packed id takes at most
// its 16 bytes, a tag and its prefix.
func FuzzMessageIDEncodingRoundTrips(f *testing.F) {
	for _, r := range packedIDEvents() {
		f.Add([]byte(r.Event.MessageID), []byte("xes-0123456789abcdef0123456789abcdef"))
	}
	f.Add([]byte(""), []byte("0123456789abcdef0123456789abcdef"))
	f.Add([]byte("----------------------------------------------------"), []byte("x"))
	f.Fuzz(func(t *testing.T, id1, id2 []byte) {
		ids := [][]byte{id1, id2, id1, id2, id2}
		var w msgIDState
		var b []byte
		for _, id := range ids {
			at := len(b)
			var packed bool
			b, packed = w.appendMessageID(b, id)
			if packed && len(b)-at > len(id)-32+16+1+binary.MaxVarintLen64 {
				t.Errorf("%q packed into %d bytes", id, len(b)-at)
			}
		}
		d := decoder{b: b}
		var r msgIDState
		var buf []byte
		for i, id := range ids {
			got := d.messageID(&r, &buf)
			if d.err != nil || !bytes.Equal(got, id) {
				t.Fatalf("id %d, %q, read back as %q (err %v)", i, id, got, d.err)
			}
		}
		if len(d.b) != 0 {
			t.Fatalf("%d bytes left", len(d.b))
		}
	})
}

// A data directory whose column files are of format 1 keeps working: its
// events read, new events fold into format-2 files beside them, and an
// erasure rewrites the old file in the new format.
func TestAStoreWithFormat1FilesKeepsWorking(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	appendAll(t, s, fixtureEvents(), 10)
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Put the format-1 fixture (the same events) in the place of the file
	// the fold wrote, and make the manifest describe it.
	cols, _ := filepath.Glob(filepath.Join(dir, "*"+colSuffix))
	if len(cols) != 1 {
		t.Fatalf("%d column files after the fold", len(cols))
	}
	old, err := os.ReadFile(fixtureCol)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cols[0], old, 0o600); err != nil {
		t.Fatal(err)
	}
	of, err := openColFile(fixtureCol)
	if err != nil {
		t.Fatal(err)
	}
	of.close()
	mb, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		t.Fatal(err)
	}
	m.Files[0].Bytes, m.Files[0].CoreBytes = int64(len(old)), of.coreBytes
	m.NextSeq = max(m.NextSeq, 1000) // the fixture's rows have arrival sequences from 100
	if mb, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, manifestName), mb, 0o600); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, dir, Options{})
	want := fixtureEvents()
	sameJourneys(t, journeys(t, s), expected(want))
	more := packedIDEvents()
	for i := range more {
		more[i].Key += 10
	}
	appendAll(t, s, more, 10)
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	sameJourneys(t, journeys(t, s), expected(append(fixtureEvents(), more...)))
	// Key 1's events are in the format-1 file: erasing them rewrites it.
	if n, err := s.Erase(t.Context(), []uint64{1}); err != nil || n != 3 {
		t.Fatalf("Erase: %d, %v; want the 3 events of key 1", n, err)
	}
	var left []Record
	for _, r := range append(fixtureEvents(), more...) {
		if r.Key != 1 {
			left = append(left, r)
		}
	}
	sameJourneys(t, journeys(t, s), expected(left))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	cols, _ = filepath.Glob(filepath.Join(dir, "*"+colSuffix))
	for _, c := range cols {
		f, err := openColFile(c)
		if err != nil {
			t.Fatal(err)
		}
		if f.version != colFormat {
			t.Errorf("%s is still of format %d after the erasure", filepath.Base(c), f.version)
		}
		f.close()
	}
	s = openStore(t, dir, Options{})
	sameJourneys(t, journeys(t, s), expected(left))
}

// Rows whose traits or context repeat the row above are written once per
// run and read back as the events' own maps, whatever the block size.
func TestRepeatedContextsAndTraitsReadBackAsTheirOwnMaps(t *testing.T) {
	at := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)
	ctxA := map[string]any{"library": map[string]any{"name": "analytics.js"}, "locale": "vi-VN"}
	ctxB := map[string]any{"os": map[string]any{"name": "Android", "version": "14"}}
	traits := map[string]any{"email": "an@example.vn"}
	shapes := []struct{ traits, ctx map[string]any }{
		{nil, ctxA}, {nil, ctxA}, {traits, ctxA}, {traits, ctxB}, {nil, ctxB}, {nil, nil}, {nil, nil}, {traits, ctxA},
	}
	var recs []Record
	for i, sh := range shapes {
		recs = append(recs, Record{Key: uint64(1 + i/3), Event: event.Event{MessageID: "m" + strconv.Itoa(i), Type: event.Track,
			Event: "E", UserID: "u", Channel: "web", SourceID: "s", Timestamp: at.Add(time.Duration(i) * time.Second),
			Traits: sh.traits, Context: sh.ctx}})
	}
	for _, blockRows := range []int{1, 2, 3, 8192} {
		path := filepath.Join(t.TempDir(), "x.col")
		writeColFile(t, path, recs, blockRows)
		f, err := openColFile(path)
		if err != nil {
			t.Fatal(err)
		}
		src := newFileSource(f, wantAll, nil)
		var got []event.Event
		for {
			ok, err := src.next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			got = append(got, src.r.ev)
		}
		f.close()
		if len(got) != len(recs) {
			t.Fatalf("blocks of %d: read %d events, wrote %d", blockRows, len(got), len(recs))
		}
		for i := range got {
			if !reflect.DeepEqual(normalize(got[i]), normalize(recs[i].Event)) {
				t.Fatalf("blocks of %d, event %d:\n got  %+v\n want %+v", blockRows, i, got[i], recs[i].Event)
			}
		}
		got[0].Context["locale"] = "el-GR"
		if got[1].Context["locale"] != "vi-VN" {
			t.Fatalf("blocks of %d: two events share one context map", blockRows)
		}
	}
}

// Over many blocks of varied properties, the writer that builds property
// columns and compresses on other goroutines writes the bytes of the one
// that does everything on one.
func TestTheParallelWriterWritesTheSerialWritersBytesOverManyBlocks(t *testing.T) {
	rows := expected(genArrival(genConfig{Seed: 5, Customers: 200}))
	if len(rows) < 40*37 {
		t.Fatalf("only %d rows: too few blocks", len(rows))
	}
	recs := make([]Record, len(rows))
	for i, r := range rows {
		recs[i] = Record(r)
	}
	serial, parallel := writeColBytes(t, recs, 37, true, 0), writeColBytes(t, recs, 37, false, 0)
	if !bytes.Equal(serial, parallel) {
		t.Fatalf("the parallel writer wrote %d bytes that differ from the serial writer's %d", len(parallel), len(serial))
	}
	f, err := readColFile("parallel", bytes.NewReader(parallel), int64(len(parallel)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(f)
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, got, recs)
}

// writeColBytes writes recs (in order) as a column file, the arrival
// sequences counting from firstSeq, and returns its bytes.
func writeColBytes(t *testing.T, recs []Record, blockRows int, serial bool, firstSeq uint64) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.col")
	w, err := createColFile(path)
	if err != nil {
		t.Fatal(err)
	}
	w.blockRows, w.serial = blockRows, serial
	for i, r := range recs {
		if err := w.add(r.Key, firstSeq+uint64(i), &r.Event); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := w.finish(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
