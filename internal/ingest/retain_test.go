package ingest

import (
	"context"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/meta/sqlite/sqlitetest"
)

// TestAStoredBatchIsNotKeptInMemory: once Collect has answered, nothing
// in the pipeline holds the batch's events; their memory is the
// garbage collector's to take, not kept until the next request.
func TestAStoredBatchIsNotKeptInMemory(t *testing.T) {
	ctx := context.Background()
	m, src := sqlitetest.Workspace(t, "web", "web")
	p, err := Open(Config{Dir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)}, m)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	freed := make(chan struct{})
	func() {
		// A property value the store encodes through encoding/json; the
		// cleanup runs once nothing refers to it.
		v := &[1]string{"kept?"}
		runtime.AddCleanup(v, func(ch chan struct{}) { close(ch) }, freed)
		b := event.Batch{Events: []event.Event{{Type: event.Track, Event: "E", UserID: "u", MessageID: "m1",
			SourceID: src.ID, Timestamp: time.Now(), Properties: map[string]any{"v": v}}}}
		if res, err := p.Collect(ctx, src, b); err != nil || res.Accepted != 1 {
			t.Fatalf("collect: %+v, %v", res, err)
		}
	}()
	deadline := time.After(5 * time.Second)
	for {
		runtime.GC()
		select {
		case <-freed:
			return
		case <-deadline:
			t.Fatal("the batch's events were still referenced 5 s after Collect answered")
		case <-time.After(10 * time.Millisecond):
		}
	}
}
