package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/trekhq/trek/internal/importer"
	"github.com/trekhq/trek/internal/wal"
)

// TestImportOfManyBatchesKeepsEveryEventIntact imports several batches'
// worth of events, so that the batch slices are reused, and reads every
// event back: each one must have its own name and property, none
// overwritten by a later batch.
func TestImportOfManyBatchesKeepsEveryEventIntact(t *testing.T) {
	const events, customers = 3*importBatch + 17, 40
	var in strings.Builder
	for i := range events {
		fmt.Fprintf(&in, `{"type":"track","messageId":"m%d","userId":"u%d","event":"E%d","properties":{"n":%d},"timestamp":"2024-01-01T00:%02d:%02dZ"}`+"\n",
			i, i%customers, i%7, i, i/60%60, i%60)
	}
	f := newFixture(t, wal.SyncNever)
	ctx := context.Background()
	res, err := f.pipe.Import(ctx, f.src, strings.NewReader(in.String()), ImportSpec{Format: "ndjson"}, importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != events || res.Read != events {
		t.Fatalf("import result %+v, want %d events", res, events)
	}
	seen := 0
	for c := range customers {
		cursor := ""
		for {
			page, next, err := f.pipe.Timeline(ctx, f.src.WorkspaceID, fmt.Sprintf("u%d", c), 500, cursor)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page {
				var i int
				if _, err := fmt.Sscanf(e.MessageID, "m%d", &i); err != nil {
					t.Fatalf("messageId %q", e.MessageID)
				}
				n, _ := e.Properties["n"].(json.Number)
				if e.UserID != fmt.Sprintf("u%d", c) || e.Event != fmt.Sprintf("E%d", i%7) || n.String() != fmt.Sprint(i) {
					t.Fatalf("event %s of u%d came back as %s / %s / n=%v", e.MessageID, c, e.UserID, e.Event, e.Properties["n"])
				}
				seen++
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	if seen != events {
		t.Errorf("read back %d events, want %d", seen, events)
	}
}
