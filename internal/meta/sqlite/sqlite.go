// Package sqlite is trek's embedded metadata store: meta.Store on a single
// SQLite file in the data directory, through the pure-Go driver
// modernc.org/sqlite so that the trek binary needs no C toolchain and no
// shared library. The schema lives in migrations/ and is applied by goose
// when the store is opened.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/meta"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is the SQLite metadata store. It is safe for concurrent use.
//
// It keeps two connection pools on the same file. All writes go through
// one connection, so they queue in Go instead of racing for SQLite's write
// lock: with several writers SQLite answers SQLITE_BUSY as soon as a
// reader tries to upgrade to a writer, whatever the busy timeout, and even
// BEGIN IMMEDIATE only waits busy_timeout before giving up. Reads use a
// pool of their own, which WAL mode lets run beside the writer, each on a
// consistent snapshot.
type Store struct {
	w *sql.DB // exactly one connection; every transaction is BEGIN IMMEDIATE
	r *sql.DB // read-only connections
}

var _ meta.Store = (*Store)(nil)

// Pragmas every connection needs. busy_timeout still matters with a single
// writer: readers may meet a checkpoint, and another process (an operator's
// sqlite3 shell) may hold the lock for a moment.
const commonPragmas = "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"

// Open opens the database at path, creating the file if it is missing, and
// brings its schema up to date. The parent directory must exist.
func Open(ctx context.Context, path string) (*Store, error) {
	// The driver reads everything after the first '?' as its options; a
	// path containing one would silently open some other file.
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("open metadata store: path %q contains '?', which SQLite cannot open", path)
	}
	// SQLite creates files with 0644 (less the umask); the metadata holds
	// password and token hashes, so create it for the owner only. SQLite
	// gives its -wal and -shm files the database file's mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open metadata store: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("open metadata store: %w", err)
	}

	// synchronous=FULL because an acknowledged write must survive a power
	// cut; NORMAL in WAL mode may lose the last transactions.
	w, err := sql.Open("sqlite", path+"?"+commonPragmas+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open metadata store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	s := &Store{w: w}
	if err := s.prepare(ctx, path); err != nil {
		w.Close()
		return nil, err
	}

	// query_only turns a read that strays into a write into an error
	// instead of a second writer.
	r, err := sql.Open("sqlite", path+"?"+commonPragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open metadata store %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s.r = r
	if err := r.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open metadata store %s: %w", path, err)
	}
	return s, nil
}

// prepare checks the journal mode and applies the migrations.
func (s *Store) prepare(ctx context.Context, path string) error {
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("open metadata store %s: %w", path, err)
	}
	// Without WAL, readers and the writer block one another; some file
	// systems (network mounts) cannot do WAL and SQLite falls back quietly.
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("open metadata store %s: journal mode is %q, not WAL; is the data directory on a network file system?", path, mode)
	}
	p, err := s.migrator()
	if err != nil {
		return fmt.Errorf("open metadata store %s: %w", path, err)
	}
	current, target, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("open metadata store %s: read schema version: %w", path, err)
	}
	if current > target {
		return fmt.Errorf("open metadata store %s: its schema version %d is newer than this trek knows (%d); use a newer trek or restore a backup",
			path, current, target)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("open metadata store %s: migrate schema from version %d to %d: %w", path, current, target, err)
	}
	return nil
}

// migrator returns a goose provider for the embedded migrations. It runs
// on the write pool so that migrations queue behind, never beside, other
// writes. The provider must never be closed: that would close s.w.
func (s *Store) migrator() (*goose.Provider, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectSQLite3, s.w, sub, goose.WithDisableGlobalRegistry(true))
}

// SchemaVersion returns the version of the last migration applied, for
// diagnostics ("trek doctor") and tests.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	p, err := s.migrator()
	if err != nil {
		return 0, err
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// Close closes both pools. Readers go first so that the writer is the last
// connection: SQLite checkpoints the WAL into the database file when its
// last connection closes.
func (s *Store) Close() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	errs = append(errs, s.w.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close metadata store: %w", err)
	}
	return nil
}

// querier is what both a transaction and a pool offer, so that helpers can
// run inside a write transaction or straight on the read pool.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// write runs fn in a write transaction. Everything a write decides on
// (does the slug exist, is the base version current) must be read inside
// fn, on tx: only then is the decision still true when the write commits.
// fn must not touch s.w or s.r, or it would wait for itself.
func (s *Store) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap(op, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return wrap(op, err)
	}
	if err := tx.Commit(); err != nil {
		return wrap(op, err)
	}
	return nil
}

// read runs fn in a read transaction, so that several queries see one
// snapshot of the database.
func (s *Store) read(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return wrap(op, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return wrap(op, err)
	}
	return nil
}

// wrap gives a database error the operation's context. Faults pass through
// untouched: their message is for the client, who did not ask about
// "update map". A uniqueness violation that a check inside the transaction
// did not foresee (another process writing the file) is still a conflict.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := fault.As(err); ok {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &fault.Error{Code: fault.Conflict, Message: op + ": already exists", Err: err}
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// notFound builds the NotFound fault for a missing thing.
func notFound(what, id string) error {
	return fault.New(fault.NotFound, "%s %q not found", what, id)
}

// noRow turns sql.ErrNoRows into a NotFound fault.
func noRow(err error, what, id string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(what, id)
	}
	return err
}

// noRowMsg turns sql.ErrNoRows into a NotFound fault with msg.
func noRowMsg(err error, msg string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fault.New(fault.NotFound, "%s", msg)
	}
	return err
}

// Times are stored as fixed-width UTC text so that string order is time
// order. Microseconds are kept; anything finer is dropped when a time is
// stored, and the store returns the truncated value from the start so that
// what a write returns equals what a later read returns.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func now() time.Time { return stamp(time.Now()) }

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// timeCol scans a stored time into *t.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(v any) error {
	switch v := v.(type) {
	case string:
		t, err := parseTime(v)
		*c.t = t
		return err
	case []byte:
		t, err := parseTime(string(v))
		*c.t = t
		return err
	}
	return fmt.Errorf("stored time has type %T", v)
}

// nullTimeCol scans a stored time that may be NULL into *t.
type nullTimeCol struct{ t **time.Time }

func (c nullTimeCol) Scan(v any) error {
	if v == nil {
		*c.t = nil
		return nil
	}
	var t time.Time
	if err := (timeCol{&t}).Scan(v); err != nil {
		return err
	}
	*c.t = &t
	return nil
}

// fold is the key under which text is matched case-insensitively. Full
// Unicode case folding rather than ToLower, so that Greek final sigma (ς)
// matches capital sigma (Σ): "ΟΔΥΣΣΕΑΣ" finds "Οδυσσεας". NFC on both
// sides, so that Vietnamese typed with combining marks (as some keyboards
// and macOS file names produce it) matches the precomposed form.
func fold(s string) string {
	return norm.NFC.String(cases.Fold().String(norm.NFC.String(s)))
}
