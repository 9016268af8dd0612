package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/trekhq/trek/internal/journey"
	"github.com/trekhq/trek/internal/meta"
)

// TestPragmas checks the settings the store's guarantees rest on, on the
// connections it really uses.
func TestPragmas(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "trek.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct {
		pool, pragma, want string
	}{
		{"write", "journal_mode", "wal"},
		{"write", "synchronous", "2"}, // FULL
		{"write", "foreign_keys", "1"},
		{"write", "busy_timeout", "5000"},
		{"read", "journal_mode", "wal"},
		{"read", "foreign_keys", "1"},
		{"read", "busy_timeout", "5000"},
		{"read", "query_only", "1"},
	} {
		db := s.w
		if tc.pool == "read" {
			db = s.r
		}
		var got string
		if err := db.QueryRowContext(t.Context(), "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if !strings.EqualFold(got, tc.want) {
			t.Errorf("%s pool: PRAGMA %s = %s, want %s", tc.pool, tc.pragma, got, tc.want)
		}
	}
	if _, err := s.r.ExecContext(t.Context(), `INSERT INTO workspaces (id, slug, name, created_at) VALUES ('x', 'x', 'x', 'x')`); err == nil {
		t.Error("the read pool accepted a write")
	}
}

// TestVersionsCannotBeEdited checks that the database itself keeps map
// versions immutable, whatever code runs against it.
func TestVersionsCannotBeEdited(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "trek.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ws, err := s.CreateWorkspace(t.Context(), "acme", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.CreateMap(t.Context(), ws.ID, journey.Map{Name: "x", Kind: journey.CurrentState}, meta.Change{Author: "ana"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.w.ExecContext(t.Context(), `UPDATE map_versions SET author = 'mallory' WHERE map_id = ?`, m.ID)
	if err == nil || !strings.Contains(err.Error(), "immutable") {
		t.Fatalf("editing a version: %v, want the immutability trigger", err)
	}
}

func TestFold(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"ΟΔΥΣΣΕΑΣ", "οδυσσεας"},
		{"TRẦN THỊ HƯƠNG", "trần thị hương"},
		{"ŻÓŁĆ", "żółć"},
		{"Straße", "STRASSE"},
		{"\u0061\u0300", "\u00e0"}, // a + combining grave, à
	} {
		if fold(tc.a) != fold(tc.b) {
			t.Errorf("fold(%q) = %q, fold(%q) = %q; want equal", tc.a, fold(tc.a), tc.b, fold(tc.b))
		}
	}
}

// TestMigrationsRoundTrip runs every migration down and up again, so that
// a down migration that no longer matches its up is caught before an
// operator needs it.
func TestMigrationsRoundTrip(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "trek.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.migrator()
	if err != nil {
		t.Fatal(err)
	}
	top, err := s.SchemaVersion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(t.Context(), 0); err != nil {
		t.Fatalf("down: %v", err)
	}
	var tables int
	if err := s.w.QueryRowContext(t.Context(),
		`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'goose_db_version'`).
		Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Fatalf("%d tables left after migrating down", tables)
	}
	if _, err := p.Up(t.Context()); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if v, err := s.SchemaVersion(t.Context()); err != nil || v != top {
		t.Fatalf("version after up again = %d, %v; want %d", v, err, top)
	}
}
