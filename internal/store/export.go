package store

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/trekhq/trek/internal/event"
)

// exportLine is one NDJSON export line: the event in its Segment shape
// with the key it is stored under and its arrival sequence.
type exportLine struct {
	CustomerKey uint64 `json:"customerKey"`
	Seq         uint64 `json:"seq"`
	event.Event
}

// ExportNDJSON writes every event, one JSON object per line, in (key,
// time, arrival) order: the event's Segment fields (messageId included)
// plus "customerKey" and "seq".
func (s *Store) ExportNDJSON(ctx context.Context, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	err := s.scan(ctx, func(r *row) error {
		return enc.Encode(exportLine{CustomerKey: r.sk.key, Seq: r.sk.seq, Event: r.ev})
	})
	if err != nil {
		return fmt.Errorf("export ndjson: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export ndjson: %w", err)
	}
	return nil
}

// ParquetRow is the schema of the Parquet export, one row per event.
// Times are UTC timestamps in microseconds; the three maps are JSON text.
// Optional times are null when the event has none.
type ParquetRow struct {
	CustomerKey       uint64     `parquet:"customer_key"`
	Timestamp         time.Time  `parquet:"timestamp,timestamp(microsecond)"`
	Seq               uint64     `parquet:"seq"`
	Type              string     `parquet:"type,dict"`
	Event             string     `parquet:"event,dict"`
	Name              string     `parquet:"name,dict"`
	UserID            string     `parquet:"user_id"`
	AnonymousID       string     `parquet:"anonymous_id"`
	PreviousID        string     `parquet:"previous_id"`
	GroupID           string     `parquet:"group_id"`
	Channel           string     `parquet:"channel,dict"`
	SourceID          string     `parquet:"source_id,dict"`
	MessageID         string     `parquet:"message_id"`
	ReceivedAt        *time.Time `parquet:"received_at,optional,timestamp(microsecond)"`
	OriginalTimestamp *time.Time `parquet:"original_timestamp,optional,timestamp(microsecond)"`
	SentAt            *time.Time `parquet:"sent_at,optional,timestamp(microsecond)"`
	Properties        string     `parquet:"properties,json"`
	Context           string     `parquet:"context,json"`
	Traits            string     `parquet:"traits,json"`
}

// parquetRowGroup bounds the rows buffered before a row group is written,
// and with it the export's memory.
const parquetRowGroup = 128 << 10

// ExportParquet writes every event as Parquet (zstd-compressed), in
// (key, time, arrival) order, readable by any Parquet reader.
func (s *Store) ExportParquet(ctx context.Context, w io.Writer) error {
	pw := parquet.NewGenericWriter[ParquetRow](w,
		parquet.Compression(&zstd.Codec{}),
		parquet.MaxRowsPerRowGroup(parquetRowGroup),
		parquet.CreatedBy("trek", "", ""))
	buf := make([]ParquetRow, 0, 1024)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		_, err := pw.Write(buf)
		buf = buf[:0]
		return err
	}
	err := s.scan(ctx, func(r *row) error {
		pr, err := toParquet(r)
		if err != nil {
			return err
		}
		buf = append(buf, pr)
		if len(buf) == cap(buf) {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		err = pw.Close()
	}
	if err != nil {
		return fmt.Errorf("export parquet: %w", err)
	}
	return nil
}

func toParquet(r *row) (ParquetRow, error) {
	e := &r.ev
	pr := ParquetRow{
		CustomerKey: r.sk.key, Timestamp: e.Timestamp.UTC(), Seq: r.sk.seq,
		Type: string(e.Type), Event: e.Event, Name: e.Name, UserID: e.UserID,
		AnonymousID: e.AnonymousID, PreviousID: e.PreviousID, GroupID: e.GroupID,
		Channel: e.Channel, SourceID: e.SourceID, MessageID: e.MessageID,
		ReceivedAt: timePtr(e.ReceivedAt), OriginalTimestamp: timePtr(e.OriginalTimestamp),
		SentAt: timePtr(e.SentAt),
	}
	var err error
	if pr.Properties, err = jsonText(e.Properties); err != nil {
		return pr, fmt.Errorf("properties of %q: %w", e.MessageID, err)
	}
	if pr.Context, err = jsonText(e.Context); err != nil {
		return pr, fmt.Errorf("context of %q: %w", e.MessageID, err)
	}
	if pr.Traits, err = jsonText(e.Traits); err != nil {
		return pr, fmt.Errorf("traits of %q: %w", e.MessageID, err)
	}
	return pr, nil
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// jsonText is the map as JSON, "{}" for none, so that every reader sees a
// JSON object.
func jsonText(m map[string]any) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}
