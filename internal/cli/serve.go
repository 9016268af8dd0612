package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/trekhq/trek/internal/auth"
	"github.com/trekhq/trek/internal/datadir"
	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/ingest"
	"github.com/trekhq/trek/internal/journey"
	"github.com/trekhq/trek/internal/meta"
	"github.com/trekhq/trek/internal/meta/sqlite"
	"github.com/trekhq/trek/internal/server"
	"github.com/trekhq/trek/internal/wal"
)

// DefaultWorkspace is created on first start.
const DefaultWorkspace = "default"

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	dir := fs.String("data", "trek-data", "data directory (created if missing)")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on, HOST:PORT (port 0 picks a free one)")
	adminPassword := fs.String("admin-password", "", "password for the first admin user; generated and printed once if empty")
	secure := fs.Bool("secure-cookies", true, "mark the session cookie Secure (turn off only for plain HTTP on a trusted network)")
	maxBody := fs.Int64("max-body", server.DefaultMaxBody, "largest accepted JSON request body in bytes")
	sessionTTL := fs.Duration("session-ttl", server.DefaultSessionTTL, "how long a browser login lasts")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	demo := fs.Bool("demo", false, "fill an empty default workspace with the example maps and personas")
	maxInFlight := fs.Int("max-collect-requests", 256, "collection requests read and parsed at once; more are answered 429")
	staleness := fs.Duration("analytics-staleness", time.Minute, "how far behind the events analytics answers may be: an index up to this old is served while a fresh one builds (0: always fresh)")
	fullIndex := fs.Int64("analytics-full-index", 1_000_000, "while a workspace holds at most this many events, its analytics index keeps the events' properties and context too (about 500 bytes an event), so queries on them answer at memory speed (0: never)")
	queryTimeout := fs.Duration("query-timeout", server.DefaultQueryTimeout, "longest an analytics query may run")
	maxQueries := fs.Int("max-queries", 0, "analytics queries run at once; more wait (0: one per core)")
	pf := addPipelineFlags(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	log, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return err
	}
	d, err := datadir.Open(*dir)
	if err != nil {
		return err
	}
	defer d.Close()
	store, err := sqlite.Open(ctx, datadir.MetaPath(*dir))
	if err != nil {
		return fmt.Errorf("open metadata: %w", err)
	}
	defer store.Close()

	if err := bootstrap(ctx, store, *adminPassword, stdout, log); err != nil {
		return err
	}
	if *demo {
		if err := SeedDemo(ctx, store, DefaultWorkspace); err != nil {
			return fmt.Errorf("seed demo: %w", err)
		}
	}
	if *staleness < 0 {
		return usageErr("--analytics-staleness must not be negative")
	}
	srv, err := server.New(server.Config{MaxBody: *maxBody, SessionTTL: *sessionTTL, InsecureCookies: !*secure, Logger: log,
		QueryTimeout: *queryTimeout, MaxQueries: *maxQueries}, store)
	if err != nil {
		return err
	}
	icfg, err := pf.config(*dir, wal.SyncAlways)
	if err != nil {
		return err
	}
	icfg.Logger = log
	icfg.Journeys.Staleness = *staleness
	icfg.Journeys.FullUpTo = *fullIndex
	icfg.Journeys.FullContext = true
	pipe, err := ingest.Open(icfg, store)
	if err != nil {
		return err
	}
	// Closed after the HTTP server has drained, so no acknowledged request
	// is cut short; closing snapshots the identity graphs.
	defer func() {
		if err := pipe.Close(); err != nil {
			log.Error("close event stores", "err", err)
		}
	}()
	srv.EnableCollection(pipe, event.Limits{}, *maxInFlight)
	return server.Serve(ctx, *addr, srv, log, func(a string) {
		log.Info("trek is serving", "addr", a, "data", *dir, "version", Version)
		fmt.Fprintf(stdout, "trek listening on http://%s\n", a)
	})
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usageErr("bad --log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageErr("bad --log-format %q: want text or json", format)
}

// bootstrap creates workspace "default" and user "admin" when the store has
// no user yet. A generated password is printed once on stdout, never logged.
func bootstrap(ctx context.Context, store meta.Store, password string, stdout io.Writer, log *slog.Logger) error {
	n, err := store.CountUsers(ctx)
	if err != nil {
		return fmt.Errorf("count users: %w", err)
	}
	if n > 0 {
		return nil
	}
	generated := password == ""
	if generated {
		password = auth.GeneratePassword()
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return usageErr("--admin-password: %v", err)
	}
	ws, err := ensureWorkspace(ctx, store, DefaultWorkspace)
	if err != nil {
		return err
	}
	u, err := store.CreateUser(ctx, "admin", hash)
	if err != nil {
		return fmt.Errorf("create admin: %w", err)
	}
	if err := store.SetMember(ctx, ws.ID, u.ID, auth.Admin); err != nil {
		return fmt.Errorf("make admin a member: %w", err)
	}
	log.Info("first start: created workspace and admin user", "workspace", ws.Slug, "user", u.Name)
	if generated {
		fmt.Fprintf(stdout, "First start: created user admin with password %s\nIt is shown only this once; change it with 'trek user passwd'.\n", password)
	}
	return nil
}

func ensureWorkspace(ctx context.Context, store meta.Store, slug string) (meta.Workspace, error) {
	ws, err := store.Workspace(ctx, slug)
	if err == nil {
		return ws, nil
	}
	if fault.CodeOf(err) != fault.NotFound {
		return meta.Workspace{}, fmt.Errorf("find workspace %s: %w", slug, err)
	}
	ws, err = store.CreateWorkspace(ctx, slug, strings.ToUpper(slug[:1])+slug[1:])
	if err != nil {
		return meta.Workspace{}, fmt.Errorf("create workspace %s: %w", slug, err)
	}
	return ws, nil
}

// demoLocales are the extra languages the demo shows one map in each.
var demoLocales = map[string]string{
	"vi": "retail-online-purchase",
	"el": "travel-trip-booking",
	"pl": "banking-account-opening",
}

// SeedDemo fills an empty workspace with every template as a map (in
// English, plus one map in each other shipped language) and their personas.
// It does nothing when the workspace already has maps.
func SeedDemo(ctx context.Context, store meta.Store, slug string) error {
	ws, err := ensureWorkspace(ctx, store, slug)
	if err != nil {
		return err
	}
	existing, err := store.Maps(ctx, ws.ID, meta.MapFilter{Limit: 1})
	if err != nil {
		return err
	}
	if len(existing) > 0 {
		return nil
	}
	ts, err := journey.Templates("en")
	if err != nil {
		return err
	}
	type seed struct{ id, locale string }
	seeds := make([]seed, 0, len(ts)+len(demoLocales))
	for _, t := range ts {
		seeds = append(seeds, seed{t.ID, "en"})
	}
	for _, loc := range []string{"vi", "el", "pl"} {
		seeds = append(seeds, seed{demoLocales[loc], loc})
	}
	for _, sd := range seeds {
		t, ok, err := journey.TemplateByID(sd.id, sd.locale)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		per, err := store.CreatePersona(ctx, ws.ID, t.Persona)
		if err != nil {
			return fmt.Errorf("create persona for %s: %w", t.ID, err)
		}
		m := t.Map
		m.PersonaIDs = []string{per.ID}
		m.Tags = append(m.Tags, "demo")
		journey.Normalize(&m)
		if err := journey.Validate(&m); err != nil {
			return fmt.Errorf("template %s/%s: %w", t.ID, sd.locale, err)
		}
		if _, err := store.CreateMap(ctx, ws.ID, m, meta.Change{Author: "trek", Message: "Demo map from template " + t.ID, At: time.Now()}); err != nil {
			return fmt.Errorf("create demo map %s: %w", t.ID, err)
		}
	}
	return nil
}
