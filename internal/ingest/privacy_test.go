package ingest

import (
	"context"
	"log/slog"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/meta"
	"github.com/trekhq/trek/internal/meta/sqlite"
)

// TestClientAddressesAreNeverStoredWhole collects events whose contexts
// carry client addresses, with and without KeepClientIP, and reads them
// back: by default no address is stored, kept ones are cut to their
// network, and the caller's context map (which importers share between
// events) is never changed.
func TestClientAddressesAreNeverStoredWhole(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		keep bool
		ip   any
		want map[string]any // the stored context
	}{
		{"dropped by default", false, "203.0.113.77", map[string]any{"locale": "el-GR"}},
		{"IPv4 kept as its /24", true, "203.0.113.77", map[string]any{"locale": "el-GR", "ip": "203.0.113.0"}},
		{"IPv6 kept as its /48", true, "2001:db8:1234:5678::1", map[string]any{"locale": "el-GR", "ip": "2001:db8:1234::"}},
		{"IPv4 in IPv6 kept as its /24", true, "::ffff:198.51.100.9", map[string]any{"locale": "el-GR", "ip": "198.51.100.0"}},
		{"not an address, dropped even when kept", true, "localhost", map[string]any{"locale": "el-GR"}},
		{"not a string, dropped even when kept", true, 42, map[string]any{"locale": "el-GR"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "trek.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			ws, _ := m.CreateWorkspace(ctx, "default", "Default")
			src, _ := m.CreateSource(ctx, ws.ID, meta.Source{Name: "w", Channel: "web", WriteKey: "wk"})
			p, err := Open(Config{Dir: t.TempDir(), KeepClientIP: tc.keep, Logger: slog.New(slog.DiscardHandler)}, m)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			shared := map[string]any{"locale": "el-GR", "ip": tc.ip}
			at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			b := event.Batch{Events: []event.Event{
				{Type: event.Track, Event: "A", UserID: "u", MessageID: "m1", SourceID: src.ID, Timestamp: at, Context: shared},
				{Type: event.Track, Event: "B", UserID: "u", MessageID: "m2", SourceID: src.ID, Timestamp: at.Add(time.Second), Context: shared},
			}}
			if _, err := p.Collect(ctx, src, b); err != nil {
				t.Fatal(err)
			}
			if shared["ip"] != tc.ip || len(shared) != 2 {
				t.Errorf("the caller's context became %v", shared)
			}
			evs, _, err := p.Timeline(ctx, ws.ID, "u", 10, "")
			if err != nil || len(evs) != 2 {
				t.Fatalf("%d events, %v", len(evs), err)
			}
			for _, e := range evs {
				if !reflect.DeepEqual(e.Context, tc.want) {
					t.Errorf("%s stored with context %v, want %v", e.MessageID, e.Context, tc.want)
				}
			}
		})
	}
}
