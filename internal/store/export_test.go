package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

func readParquet(t *testing.T, data []byte, fn func(ParquetRow)) int {
	t.Helper()
	r := parquet.NewGenericReader[ParquetRow](bytes.NewReader(data))
	defer r.Close()
	buf := make([]ParquetRow, 100)
	total := 0
	for {
		n, err := r.Read(buf)
		for _, row := range buf[:n] {
			fn(row)
		}
		total += n
		if errors.Is(err, io.EOF) {
			return total
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// storeWithHeadAndFiles holds recs half in a column file, half in the
// head.
func storeWithHeadAndFiles(t *testing.T, recs []Record) *Store {
	s := openStore(t, t.TempDir(), Options{})
	appendAll(t, s, recs[:len(recs)/2], 64)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	appendAll(t, s, recs[len(recs)/2:], 64)
	return s
}

func TestParquetExportReadsBackAsTheEvents(t *testing.T) {
	useSmallBlocks(t, 100)
	recs := genArrival(genConfig{Seed: 20, Customers: 150})
	s := storeWithHeadAndFiles(t, recs)
	var buf bytes.Buffer
	if err := s.ExportParquet(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	want := expected(recs)
	i := 0
	var lastSeq = map[uint64]uint64{}
	n := readParquet(t, buf.Bytes(), func(r ParquetRow) {
		if i >= len(want) {
			i++
			return
		}
		w := want[i]
		e := w.Event
		got := []any{r.CustomerKey, r.Timestamp.UnixMicro(), r.Type, r.Event, r.Name, r.UserID, r.AnonymousID,
			r.Channel, r.SourceID, r.MessageID, r.ReceivedAt.UnixMicro()}
		exp := []any{w.Key, e.Timestamp.UnixMicro(), string(e.Type), e.Event, e.Name, e.UserID, e.AnonymousID,
			e.Channel, e.SourceID, e.MessageID, e.ReceivedAt.UnixMicro()}
		for j := range got {
			if got[j] != exp[j] {
				t.Fatalf("row %d field %d: %v, want %v", i, j, got[j], exp[j])
			}
		}
		if r.Timestamp.Location() != time.UTC {
			t.Errorf("row %d timestamp in %v, want UTC", i, r.Timestamp.Location())
		}
		if (r.SentAt == nil) != e.SentAt.IsZero() || r.SentAt != nil && !r.SentAt.Equal(e.SentAt) {
			t.Errorf("row %d sent_at %v, want %v", i, r.SentAt, e.SentAt)
		}
		sameJSON(t, r.Properties, e.Properties)
		sameJSON(t, r.Context, e.Context)
		sameJSON(t, r.Traits, e.Traits)
		if prev, ok := lastSeq[r.CustomerKey]; ok && r.Timestamp.Equal(time.UnixMicro(0)) && r.Seq <= prev {
			t.Errorf("row %d seq %d not after %d", i, r.Seq, prev)
		}
		lastSeq[r.CustomerKey] = r.Seq
		i++
	})
	if n != len(want) {
		t.Fatalf("Parquet export has %d rows, want %d", n, len(want))
	}
}

func sameJSON(t *testing.T, got string, want map[string]any) {
	t.Helper()
	var g map[string]any
	dec := json.NewDecoder(bytes.NewReader([]byte(got)))
	dec.UseNumber()
	if err := dec.Decode(&g); err != nil {
		t.Fatalf("column holds %q: %v", got, err)
	}
	if len(g) == 0 && len(want) == 0 {
		return
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(want)
	if !bytes.Equal(gb, wb) {
		t.Fatalf("JSON column %s, want %s", gb, wb)
	}
}

func TestNDJSONExportHasEveryEventWithItsKeyAndMessageID(t *testing.T) {
	recs := genArrival(genConfig{Seed: 21, Customers: 100})
	s := storeWithHeadAndFiles(t, recs)
	var buf bytes.Buffer
	if err := s.ExportNDJSON(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	out := bytes.Clone(buf.Bytes())
	var got []keyed
	seqs := map[uint64]bool{}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line exportLine
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		if err := dec.Decode(&line); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if seqs[line.Seq] {
			t.Fatalf("seq %d twice", line.Seq)
		}
		seqs[line.Seq] = true
		got = append(got, keyed{line.CustomerKey, normalize(line.Event)})
	}
	sameJourneys(t, got, expected(recs))
	if !bytes.Contains(out, []byte(`"customerKey":1,`)) || !bytes.Contains(out, []byte(`"messageId":"msg-`)) {
		t.Errorf("export lines lack customerKey or messageId:\n%.300s", out)
	}
}
