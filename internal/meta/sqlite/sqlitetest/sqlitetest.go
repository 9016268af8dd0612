// Package sqlitetest gives tests of the packages above the metadata store
// a real one: a SQLite file in a temporary directory with workspace
// "default" and one source, closed when the test ends.
package sqlitetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/trekhq/trek/internal/meta"
	"github.com/trekhq/trek/internal/meta/sqlite"
)

// Workspace opens a fresh store holding workspace "default" and a source
// named name on channel, with write key "wk".
func Workspace(t testing.TB, name, channel string) (*sqlite.Store, meta.Source) {
	t.Helper()
	ctx := context.Background()
	m, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "trek.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	ws, err := m.CreateWorkspace(ctx, "default", "Default")
	if err != nil {
		t.Fatal(err)
	}
	src, err := m.CreateSource(ctx, ws.ID, meta.Source{Name: name, Channel: channel, WriteKey: "wk"})
	if err != nil {
		t.Fatal(err)
	}
	return m, src
}
