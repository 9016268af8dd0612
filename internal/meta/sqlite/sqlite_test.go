package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/auth"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/journey"
	"github.com/trekhq/trek/internal/meta"
	"github.com/trekhq/trek/internal/meta/metatest"
	"github.com/trekhq/trek/internal/meta/sqlite"
)

func open(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openTemp(t *testing.T) *sqlite.Store {
	t.Helper()
	s := open(t, filepath.Join(t.TempDir(), "trek.db"))
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// TestContract runs the meta.Store contract on a real database file.
func TestContract(t *testing.T) {
	metatest.Run(t, func(t *testing.T) meta.Store { return openTemp(t) })
}

// rawCount counts rows with a connection of the test's own, to see what is
// in the file rather than what the store chooses to show.
func rawCount(t *testing.T, path, query string) int {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestReopenKeepsDataAndSchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trek.db")
	s := open(t, path)
	v1, err := s.SchemaVersion(t.Context())
	if err != nil || v1 < 1 {
		t.Fatalf("SchemaVersion = %d, %v", v1, err)
	}
	ws, err := s.CreateWorkspace(t.Context(), "acme", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.CreateMap(t.Context(), ws.ID, journey.Map{Name: "Hành trình", Kind: journey.CurrentState, Stages: []journey.Stage{}},
		meta.Change{Author: "ana"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	applied := rawCount(t, path, `SELECT count(*) FROM goose_db_version`)

	for range 2 {
		s = open(t, path)
		v, err := s.SchemaVersion(t.Context())
		if err != nil || v != v1 {
			t.Fatalf("SchemaVersion after reopen = %d, %v; want %d", v, err, v1)
		}
		got, err := s.Map(t.Context(), ws.ID, m.ID)
		if err != nil || got.Name != "Hành trình" || got.Version != 1 {
			t.Fatalf("map after reopen: %+v, %v", got, err)
		}
		if list, err := s.Maps(t.Context(), ws.ID, meta.MapFilter{Query: "HÀNH"}); err != nil || len(list) != 1 {
			t.Fatalf("search after reopen: %+v, %v", list, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if n := rawCount(t, path, `SELECT count(*) FROM goose_db_version`); n != applied {
			t.Fatalf("reopen ran migrations again: %d rows in goose_db_version, was %d", n, applied)
		}
	}
}

func TestDatabaseFilesAreOwnerOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "trek.db")
	s := open(t, path)
	defer s.Close()
	if _, err := s.CreateWorkspace(t.Context(), "acme", "Acme"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"trek.db", "trek.db-wal", "trek.db-shm"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) && name != "trek.db" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, perm)
		}
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trek.db")
	s := open(t, path)
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (99, 1)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = sqlite.Open(t.Context(), path)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema: %v, want an error saying it is newer", err)
	}
}

func TestPathWithQuestionMarkIsRefused(t *testing.T) {
	_, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "what?.db"))
	if err == nil {
		t.Fatal("Open accepted a path with '?'")
	}
}

// TestManyConcurrentWriters hammers the store with every kind of write at
// once. SQLite allows one writer; the store must queue the rest rather
// than fail them with "database is locked".
func TestManyConcurrentWriters(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	ws, err := s.CreateWorkspace(ctx, "acme", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 32, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*8)
	for w := range workers {
		wg.Go(func() {
			m, err := s.CreateMap(ctx, ws.ID, journey.Map{Name: fmt.Sprintf("m%d", w), Kind: journey.CurrentState}, meta.Change{Author: "w"})
			if err != nil {
				errs <- err
				return
			}
			for r := range rounds {
				name := fmt.Sprintf("w%d-r%d", w, r)
				u, err := s.CreateUser(ctx, name, "h")
				if err != nil {
					errs <- err
					continue
				}
				errs <- s.SetMember(ctx, ws.ID, u.ID, auth.Editor)
				_, hash := auth.NewSecret(auth.SessionPrefix)
				now := time.Now()
				errs <- s.CreateSession(ctx, meta.Session{Hash: hash, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
				_, hash = auth.NewSecret(auth.TokenPrefix)
				tok, err := s.CreateToken(ctx, meta.Token{Name: name, WorkspaceID: ws.ID, Role: auth.Viewer, Hash: hash})
				errs <- err
				if err == nil {
					errs <- s.TouchToken(ctx, tok.ID, now)
				}
				m.Description = name
				m, err = s.UpdateMap(ctx, ws.ID, m, r+1, meta.Change{Author: name})
				errs <- err
				_, err = s.Maps(ctx, ws.ID, meta.MapFilter{Query: "w"})
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n, _ := s.CountUsers(ctx); n != workers*rounds {
		t.Fatalf("%d users, want %d", n, workers*rounds)
	}
	maps, err := s.Maps(ctx, ws.ID, meta.MapFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range maps {
		if m.Version != rounds+1 {
			t.Errorf("map %s at version %d, want %d", m.Name, m.Version, rounds+1)
		}
	}
}

// TestCanceledWriteGivesUp checks that a write waiting for its turn
// returns when its context ends instead of hanging the request.
func TestCanceledWriteGivesUp(t *testing.T) {
	s := openTemp(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.CreateWorkspace(ctx, "acme", "Acme")
	if err == nil || fault.CodeOf(err) != fault.Internal {
		t.Fatalf("write on a canceled context: %v", err)
	}
}
