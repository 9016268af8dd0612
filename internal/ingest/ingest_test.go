package ingest

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/importer"
	"github.com/trekhq/trek/internal/meta"
	"github.com/trekhq/trek/internal/meta/sqlite"
	"github.com/trekhq/trek/internal/meta/sqlite/sqlitetest"
	"github.com/trekhq/trek/internal/wal"
)

// datasets finds ../shared/datasets beside the repository.
func datasets(t testing.TB) string {
	t.Helper()
	dir, _ := os.Getwd()
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", "datasets")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
	}
	t.Skip("shared/datasets not found beside the repository")
	return ""
}

type fixture struct {
	pipe *Pipeline
	meta meta.Store
	src  meta.Source
}

func newFixture(t testing.TB, sync wal.SyncPolicy) *fixture {
	t.Helper()
	m, src := sqlitetest.Workspace(t, "import", "other")
	p, err := Open(Config{Dir: t.TempDir(), Sync: sync, Logger: slog.New(slog.DiscardHandler)}, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return &fixture{pipe: p, meta: m, src: src}
}

// TestImportingTheRealLogsGivesTheirKnownCounts imports each public log of
// ../shared/datasets through the whole pipeline (reader, dedup, identity,
// store) and checks customers and events against the datasets' README.
func TestImportingTheRealLogsGivesTheirKnownCounts(t *testing.T) {
	dir := datasets(t)
	cases := []struct {
		file              string
		spec              ImportSpec
		customers, events int
	}{
		{"running-example.xes", ImportSpec{Format: "xes"}, 6, 42},
		{"helpdesk.xes.gz", ImportSpec{Format: "xes"}, 4580, 21348},
		{"receipt.csv", ImportSpec{Format: "csv", CSV: importer.CSVMapping{Customer: "case:concept:name", Event: "concept:name", Time: "time:timestamp"}}, 1434, 8577},
		{"bpic2012.xes.gz", ImportSpec{Format: "xes"}, 13087, 262200},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			if testing.Short() && c.events > 100000 {
				t.Skip("large log")
			}
			f := newFixture(t, wal.SyncNever)
			in, err := importer.Open(filepath.Join(dir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			ctx := context.Background()
			res, err := f.pipe.Import(ctx, f.src, in, c.spec, importer.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Accepted != c.events || res.Quarantined != 0 || res.Duplicates != 0 {
				t.Errorf("import result %+v, want %d accepted", res, c.events)
			}
			g, _ := f.pipe.Graph(ctx, f.src.WorkspaceID)
			if n := g.Stats().Customers; n != c.customers {
				t.Errorf("%d customers, want %d", n, c.customers)
			}
			st, _ := f.pipe.Store(ctx, f.src.WorkspaceID)
			if n := st.Stats().Events; int(n) != c.events {
				t.Errorf("%d events stored, want %d", n, c.events)
			}
			// A second import of the same file stores nothing new.
			in2, _ := importer.Open(filepath.Join(dir, c.file))
			defer in2.Close()
			res2, err := f.pipe.Import(ctx, f.src, in2, c.spec, importer.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res2.Accepted != 0 || res2.Duplicates != c.events {
				t.Errorf("re-import %+v", res2)
			}
		})
	}
}

func TestImportQuarantinesUnreadableRowsWithTheirLine(t *testing.T) {
	f := newFixture(t, wal.SyncAlways)
	ctx := context.Background()
	in := `{"type":"track","userId":"u1","event":"A","timestamp":"2024-01-01T00:00:00Z"}
not json at all
{"type":"track","event":"No one","timestamp":"2024-01-01T00:00:00Z"}
{"type":"track","userId":"u1","event":"B","timestamp":"2024-01-01T00:01:00Z"}
`
	res, err := f.pipe.Import(ctx, f.src, strings.NewReader(in), ImportSpec{Format: "ndjson"}, importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 2 || res.Quarantined != 2 {
		t.Fatalf("%+v", res)
	}
	items, err := f.meta.QuarantineItems(ctx, f.src.WorkspaceID, meta.QuarantineFilter{})
	if err != nil || len(items) != 2 {
		t.Fatalf("%d items: %v", len(items), err)
	}
	for _, it := range items {
		if it.Reason == "" || it.Reason[:5] != "line " {
			t.Errorf("reason %q does not name the line", it.Reason)
		}
	}
	c, err := f.pipe.Customer(ctx, f.src.WorkspaceID, "u1")
	if err != nil || c.EventCount != 2 {
		t.Errorf("%+v %v", c, err)
	}
}

func TestAcknowledgedEventsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	m, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "trek.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ws, _ := m.CreateWorkspace(ctx, "default", "Default")
	src, _ := m.CreateSource(ctx, ws.ID, meta.Source{Name: "w", Channel: "web", WriteKey: "wk"})
	dir := t.TempDir()
	open := func() *Pipeline {
		p, err := Open(Config{Dir: dir, Logger: slog.New(slog.DiscardHandler)}, m)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := open()
	batch := event.Batch{}
	for i, name := range []string{"Product Viewed", "Checkout Started", "Order Completed"} {
		batch.Events = append(batch.Events, event.Event{Type: event.Track, Event: name, AnonymousID: "a", MessageID: "m" + string(rune('0'+i)), SourceID: src.ID})
	}
	batch.Events = append(batch.Events, event.Event{Type: event.Identify, AnonymousID: "a", UserID: "u", MessageID: "m9", SourceID: src.ID})
	if _, err := p.Collect(ctx, src, batch); err != nil {
		t.Fatal(err)
	}
	// No Close: the process "dies" here; a new pipeline replays the logs.
	p2 := open()
	defer p2.Close()
	c, err := p2.Customer(ctx, ws.ID, "u")
	if err != nil || c.EventCount != 4 {
		t.Fatalf("after reopen: %+v %v", c, err)
	}
	res, err := p2.Collect(ctx, src, batch)
	if err != nil || res.Duplicates != 4 {
		t.Errorf("dedup index not rebuilt: %+v %v", res, err)
	}
}
