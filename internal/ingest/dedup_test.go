package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/meta"
	"github.com/trekhq/trek/internal/meta/sqlite/sqlitetest"
)

// TestMessageIDsAreStoredOncePerSourceWithinTheWindow walks the dedup
// index through its cases: a repeat in the same batch, in a later batch,
// from another source, after a reopen (the index is rebuilt from the
// store), and once the window has passed.
func TestMessageIDsAreStoredOncePerSourceWithinTheWindow(t *testing.T) {
	ctx := context.Background()
	m, web := sqlitetest.Workspace(t, "web", "web")
	app, err := m.CreateSource(ctx, web.WorkspaceID, meta.Source{Name: "app", Channel: "mobile", WriteKey: "wk2"})
	if err != nil {
		t.Fatal(err)
	}
	const window = 24 * time.Hour
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	dir := t.TempDir()
	open := func() *Pipeline {
		p, err := Open(Config{Dir: dir, DedupWindow: window, Now: clock, Logger: slog.New(slog.DiscardHandler)}, m)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := open()
	defer func() { p.Close() }()
	ev := func(src meta.Source, id string) event.Event {
		return event.Event{Type: event.Track, Event: "E", UserID: "u", MessageID: id, SourceID: src.ID, Timestamp: clock()}
	}
	steps := []struct {
		name   string
		before func()
		src    meta.Source
		ids    []string
		want   Result
	}{
		{name: "first sight, with a repeat in the same batch", src: web, ids: []string{"a", "b", "a"}, want: Result{Accepted: 2, Duplicates: 1}},
		{name: "repeat in a later batch", src: web, ids: []string{"b", "c"}, want: Result{Accepted: 1, Duplicates: 1}},
		{name: "same ids from another source", src: app, ids: []string{"a", "b"}, want: Result{Accepted: 2}},
		{name: "repeat after a reopen", before: func() { p.Close(); p = open() }, src: web, ids: []string{"a", "c"}, want: Result{Duplicates: 2}},
		{name: "repeat just inside the window", before: func() { advance(window - time.Hour) }, src: app, ids: []string{"a"}, want: Result{Duplicates: 1}},
		{name: "repeat once the window has passed", before: func() { advance(2 * time.Hour) }, src: web, ids: []string{"a", "b"}, want: Result{Accepted: 2}},
		{name: "and that new sighting is remembered", src: web, ids: []string{"a"}, want: Result{Duplicates: 1}},
		{name: "past the window after a reopen", before: func() { advance(window + time.Hour); p.Close(); p = open() }, src: app, ids: []string{"b"}, want: Result{Accepted: 1}},
	}
	stored := 0
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		var b event.Batch
		for _, id := range s.ids {
			b.Events = append(b.Events, ev(s.src, id))
		}
		res, err := p.Collect(ctx, s.src, b)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if res != s.want {
			t.Errorf("%s: %+v, want %+v", s.name, res, s.want)
		}
		stored += res.Accepted
	}
	c, err := p.Customer(ctx, web.WorkspaceID, "u")
	if err != nil || c.EventCount != stored {
		t.Errorf("customer has %d events (%v), want the %d accepted", c.EventCount, err, stored)
	}
}

// TestAnImportedHistoryIsDeduplicated: events imported from a file carry
// their own, old receivedAt; their repeats are caught all the same, since
// the window runs from when trek received them.
func TestAnImportedHistoryIsDeduplicated(t *testing.T) {
	ctx := context.Background()
	m, src := sqlitetest.Workspace(t, "crm", "crm")
	p, err := Open(Config{Dir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)}, m)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	old := time.Date(2019, 5, 1, 10, 0, 0, 0, time.UTC)
	ev := func(id string) event.Event {
		return event.Event{Type: event.Track, Event: "E", UserID: "u", MessageID: id, SourceID: src.ID, Timestamp: old, ReceivedAt: old}
	}
	res, err := p.Collect(ctx, src, event.Batch{Events: []event.Event{ev("a"), ev("b"), ev("a")}})
	if err != nil {
		t.Fatal(err)
	}
	res2, err := p.Collect(ctx, src, event.Batch{Events: []event.Event{ev("b")}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 2 || res.Duplicates != 1 || res2.Accepted != 0 || res2.Duplicates != 1 {
		t.Errorf("first batch %+v, second %+v; want 2 accepted and 1 duplicate, then 1 duplicate", res, res2)
	}
}

// TestExpiredMessageIDsAreForgottenAStepAtATime: once the window has
// passed, the ids it held leave the index over the next groups, a bounded
// number per group, so that no group waits for a sweep of millions of ids.
func TestExpiredMessageIDsAreForgottenAStepAtATime(t *testing.T) {
	ctx := context.Background()
	m, src := sqlitetest.Workspace(t, "web", "web")
	const window = time.Hour
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	p, err := Open(Config{Dir: t.TempDir(), DedupWindow: window, Now: clock, Logger: slog.New(slog.DiscardHandler)}, m)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	send := func(prefix string, n int) {
		t.Helper()
		var b event.Batch
		for i := range n {
			b.Events = append(b.Events, event.Event{Type: event.Track, Event: "E", UserID: "u",
				MessageID: fmt.Sprintf("%s-%d", prefix, i), SourceID: src.ID, Timestamp: clock()})
		}
		res, err := p.Collect(ctx, src, b)
		if err != nil || res.Accepted != n {
			t.Fatalf("collect %s: %+v, %v", prefix, res, err)
		}
	}
	old := 3*pruneStep + 100
	for i := range old / 1000 {
		send(fmt.Sprintf("old%d", i), 1000)
	}
	send("old-rest", old%1000)
	sp, err := p.space(ctx, src.WorkspaceID)
	if err != nil {
		t.Fatal(err)
	}
	// Collect has answered, so the writer is idle: reading the index
	// here races with nothing.
	if len(sp.seen) != old {
		t.Fatalf("the index holds %d ids, want the %d sent", len(sp.seen), old)
	}
	mu.Lock()
	now = now.Add(window + pruneEvery + time.Minute)
	mu.Unlock()
	send("new0", 1)
	if n := len(sp.seen); n < old-pruneStep {
		t.Fatalf("one group forgot %d ids; a group may forget at most %d", old+1-n, pruneStep)
	}
	for i := 1; i <= 4; i++ {
		send(fmt.Sprintf("new%d", i), 1)
	}
	if n := len(sp.seen); n != 5 {
		t.Fatalf("after the sweep the index holds %d ids, want the 5 new ones", n)
	}
}
