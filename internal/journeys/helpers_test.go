package journeys_test

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/analytics"
	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/gen"
	"github.com/trekhq/trek/internal/identity"
	"github.com/trekhq/trek/internal/ingest"
	"github.com/trekhq/trek/internal/journeys"
	"github.com/trekhq/trek/internal/meta"
	"github.com/trekhq/trek/internal/meta/sqlite/sqlitetest"
	"github.com/trekhq/trek/internal/store"
	"github.com/trekhq/trek/internal/wal"
)

var quiet = slog.New(slog.DiscardHandler)

// fixture is a workspace with real stitching: events go through the
// ingest pipeline into a store and a graph in a temporary directory.
type fixture struct {
	t    testing.TB
	pipe *ingest.Pipeline
	src  meta.Source
	ws   string
	n    int // events sent, for message ids
}

type fixtureOptions struct {
	headEvents int // the store's fold threshold; small values make column files
	journeys   journeys.CacheOptions
}

func newFixture(t testing.TB, opts fixtureOptions) *fixture {
	t.Helper()
	m, src := sqlitetest.Workspace(t, "web", "web")
	p, err := ingest.Open(ingest.Config{Dir: t.TempDir(), Sync: wal.SyncNever, HeadEvents: opts.headEvents,
		Journeys: opts.journeys, Logger: quiet}, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return &fixture{t: t, pipe: p, src: src, ws: src.WorkspaceID}
}

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// ev is a hand-made event: who is "u:NAME" (userId) or "a:NAME"
// (anonymousId); at is minutes after t0.
type ev struct {
	who, name string
	at        int
	channel   string
	traits    map[string]any
}

func (f *fixture) event(e ev) event.Event {
	f.n++
	out := event.Event{Type: event.Track, Event: e.name, Channel: cmp.Or(e.channel, "web"),
		Timestamp: t0.Add(time.Duration(e.at) * time.Minute), MessageID: fmt.Sprintf("m-%d", f.n), SourceID: f.src.ID}
	kind, id := e.who[:1], e.who[2:]
	if kind == "u" {
		out.UserID = id
	} else {
		out.AnonymousID = id
	}
	if e.traits != nil {
		out.Type, out.Event, out.Traits = event.Identify, "", e.traits
	}
	return out
}

// send collects events as one request.
func (f *fixture) send(evs ...ev) {
	f.t.Helper()
	b := event.Batch{}
	for _, e := range evs {
		b.Events = append(b.Events, f.event(e))
	}
	f.collect(b)
}

// alias sends an alias call joining previous (an anonymousId) to user.
func (f *fixture) alias(previous, user string, at int) {
	f.t.Helper()
	f.n++
	f.collect(event.Batch{Events: []event.Event{{Type: event.Alias, PreviousID: previous, UserID: user,
		Channel: "web", Timestamp: t0.Add(time.Duration(at) * time.Minute), MessageID: fmt.Sprintf("m-%d", f.n), SourceID: f.src.ID}}})
}

func (f *fixture) collect(b event.Batch) {
	f.t.Helper()
	res, err := f.pipe.Collect(context.Background(), f.src, b)
	if err != nil {
		f.t.Fatal(err)
	}
	if res.Accepted != len(b.Events) {
		f.t.Fatalf("accepted %d of %d events: %+v", res.Accepted, len(b.Events), res)
	}
}

// generate sends gen's journeys of customers people, in requests of 2000
// events.
// Every flushEvery events (when not 0) the store folds its head into a
// column file, so that journeys span files and the head.
func (f *fixture) generate(seed int64, customers, flushEvery int) {
	f.t.Helper()
	var b event.Batch
	n := 0
	_, err := gen.Generate(context.Background(), gen.Config{Seed: seed, Customers: customers, SkewedDevices: -1}, func(e event.Event) error {
		e.SourceID = f.src.ID
		b.Events = append(b.Events, e)
		n++
		if len(b.Events) == 1000 {
			f.collect(b)
			b = event.Batch{}
			if flushEvery > 0 && n%flushEvery == 0 {
				if err := f.store().Flush(context.Background()); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	if len(b.Events) > 0 {
		f.collect(b)
	}
}

func (f *fixture) store() *store.Store {
	st, err := f.pipe.Store(context.Background(), f.ws)
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

func (f *fixture) graph() *identity.Graph {
	g, err := f.pipe.Graph(context.Background(), f.ws)
	if err != nil {
		f.t.Fatal(err)
	}
	return g
}

func (f *fixture) cache() *journeys.Cache {
	c, err := f.pipe.Journeys(context.Background(), f.ws)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixture) source(parts int) *journeys.Source {
	return journeys.NewSource(f.store(), f.graph, journeys.Options{Parts: parts, Logger: quiet})
}

func (f *fixture) customer(who string) uint64 {
	f.t.Helper()
	kind := identity.KindUserID
	if who[:1] == "a" {
		kind = identity.KindAnonymousID
	}
	c, ok := f.graph().Lookup(identity.Identifier{Kind: kind, Value: who[2:]})
	if !ok {
		f.t.Fatalf("no customer %s", who)
	}
	return c
}

// got is one journey as a Scan handed it, copied.
type got struct {
	customer uint64
	acts     []string
	chans    []string
	times    []int64
	seqs     []uint64
	traits   map[string]any
}

// collectScan runs a Scan and returns the journeys by customer, failing
// on a customer handed on twice or a part out of range.
func collectScan(t testing.TB, src analytics.Source, need analytics.Need) map[uint64]got {
	t.Helper()
	var mu sync.Mutex
	out := map[uint64]got{}
	err := src.Scan(context.Background(), need, func(part int, j *analytics.Journey) error {
		if part < 0 || part >= src.Parts() {
			return fmt.Errorf("part %d out of range", part)
		}
		g := got{customer: j.Customer, times: slices.Clone(j.Times), traits: j.Traits}
		for i := range j.Times {
			g.acts = append(g.acts, src.Activities().Name(j.Acts[i]))
			g.chans = append(g.chans, src.Channels().Name(uint32(j.Chans[i])))
		}
		for _, e := range j.Events {
			g.seqs = append(g.seqs, e.Seq)
		}
		mu.Lock()
		defer mu.Unlock()
		if _, dup := out[j.Customer]; dup {
			return fmt.Errorf("customer %d handed on twice", j.Customer)
		}
		out[j.Customer] = g
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// reference computes every customer's journey the plain way: every key's
// events from the store, grouped by the key's customer in the graph,
// sorted by time then arrival.
func reference(t testing.TB, st *store.Store, g *identity.Graph) map[uint64][]event.Event {
	t.Helper()
	out := map[uint64][]event.Event{}
	err := st.Journeys(context.Background(), func(key uint64, evs []event.Event) error {
		if c := g.Customer(key); c != 0 {
			out[c] = append(out[c], evs...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, evs := range out {
		slices.SortFunc(evs, func(a, b event.Event) int {
			if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
				return c
			}
			return cmp.Compare(a.Seq, b.Seq)
		})
	}
	return out
}
