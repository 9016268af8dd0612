package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/identity"
	"github.com/trekhq/trek/internal/meta"
	"github.com/trekhq/trek/internal/meta/sqlite/sqlitetest"
	"github.com/trekhq/trek/internal/wal"
)

// faultEnv is a pipeline whose logs live on a FaultFS, with a ledger of
// the messageIds it acknowledged and refused.
type faultEnv struct {
	t       *testing.T
	dir     string
	fs      *wal.FaultFS
	meta    meta.Store
	src     meta.Source
	pipe    *Pipeline
	acked   map[string]bool
	refused map[string]bool
}

func newFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	m, src := sqlitetest.Workspace(t, "web", "web")
	e := &faultEnv{t: t, dir: t.TempDir(), fs: wal.NewFaultFS(), meta: m, src: src,
		acked: map[string]bool{}, refused: map[string]bool{}}
	e.open()
	return e
}

func (e *faultEnv) open() {
	e.t.Helper()
	p, err := Open(Config{Dir: e.dir, FS: e.fs, Logger: slog.New(slog.DiscardHandler)}, e.meta)
	if err != nil {
		e.t.Fatal(err)
	}
	e.pipe = p
	e.t.Cleanup(func() { p.Close() })
}

// restart closes the pipeline (which may fail after a fault) and opens a
// new one over fsys: the same files, or a FaultFS.Crash image.
func (e *faultEnv) restart(fsys *wal.FaultFS) {
	e.t.Helper()
	if err := e.pipe.Close(); err != nil {
		e.t.Logf("closing after a fault: %.200v", err)
	}
	e.fs = fsys
	e.open()
}

// ev is a track event of the given identifiers.
func (e *faultEnv) ev(id, user, anon string) event.Event {
	return event.Event{Type: event.Track, Event: "Order Completed", MessageID: id, UserID: user, AnonymousID: anon,
		SourceID: e.src.ID, Timestamp: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
}

func ids(evs []event.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.MessageID
	}
	return out
}

// collect sends a batch that must be stored.
func (e *faultEnv) collect(evs ...event.Event) {
	e.t.Helper()
	res, err := e.pipe.Collect(context.Background(), e.src, event.Batch{Events: slices.Clone(evs)})
	if err != nil {
		e.t.Fatalf("collect %v: %v", ids(evs), err)
	}
	if res.Accepted+res.Duplicates != len(evs) {
		e.t.Fatalf("collect %v: %+v", ids(evs), res)
	}
	for _, id := range ids(evs) {
		e.acked[id] = true
		delete(e.refused, id)
	}
}

// refuse sends a batch that must be refused as unavailable, naming the
// identity log.
func (e *faultEnv) refuse(evs ...event.Event) {
	e.t.Helper()
	res, err := e.pipe.Collect(context.Background(), e.src, event.Batch{Events: slices.Clone(evs)})
	if err == nil {
		e.t.Fatalf("collect %v while the identity log fails: %+v, want an error", ids(evs), res)
	}
	if fe, ok := fault.As(err); !ok || fe.Code != fault.Unavailable || !strings.Contains(fe.Message, "identity log") {
		e.t.Fatalf("collect %v: error %v, want unavailable naming the identity log", ids(evs), err)
	}
	for _, id := range ids(evs) {
		if !e.acked[id] {
			e.refused[id] = true
		}
	}
}

// collectSoon sends a batch until it is stored, for up to a few seconds:
// after the disk comes back, the workspace waits out its recovery backoff.
func (e *faultEnv) collectSoon(evs ...event.Event) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := e.pipe.Collect(context.Background(), e.src, event.Batch{Events: slices.Clone(evs)})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("collect %v still fails after the disk came back: %v", ids(evs), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Resend once more to read the result: everything must now be stored
	// (duplicates) whatever the tries before returned.
	e.collect(evs...)
}

// check compares the stored messageIds with the ledger.
func (e *faultEnv) check(how string) {
	e.t.Helper()
	st, err := e.pipe.Store(context.Background(), e.src.WorkspaceID)
	if err != nil {
		e.t.Fatal(err)
	}
	found := map[string]int{}
	if err := st.Messages(context.Background(), time.Time{}, func(_, msg string, _ time.Time) { found[msg]++ }); err != nil {
		e.t.Fatal(err)
	}
	var problems []string
	for id := range e.acked {
		if found[id] != 1 {
			problems = append(problems, fmt.Sprintf("acknowledged %s stored %d times", id, found[id]))
		}
	}
	for id, n := range found {
		if !e.acked[id] {
			problems = append(problems, fmt.Sprintf("unacknowledged %s stored %d times", id, n))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		e.t.Errorf("%s: %s", how, strings.Join(problems, "; "))
	}
}

// customer returns the customer of an identifier, or "" when there is none.
func (e *faultEnv) customer(idOrIdentifier string) (string, int) {
	e.t.Helper()
	c, err := e.pipe.Customer(context.Background(), e.src.WorkspaceID, idOrIdentifier)
	if fault.CodeOf(err) == fault.NotFound {
		return "", 0
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return c.ID, c.EventCount
}

// TestIdentityLogFailureRecoversWithoutRestart fails the identity log's
// write or fsync under a running pipeline and checks that the group that
// needed it is refused, that the workspace takes events again without a
// restart (at once when the log recovered in place, after the disk comes
// back when it could not), that the refused events were neither stored nor
// marked seen, that identities stitched before are intact, and that a
// restart and a power cut keep exactly what was acknowledged.
func TestIdentityLogFailureRecoversWithoutRestart(t *testing.T) {
	const idlog = "/identity/"
	cases := []struct {
		name  string
		fault wal.Fault
		// lasting: the fault stays until cleared, and the log cannot
		// recover in place; requests are refused until it is cleared.
		lasting bool
		// mayKeepLinks: the log broke, so by its contract the refused
		// group's identity record may be replayed (its events never are).
		mayKeepLinks bool
	}{
		{name: "write fails with EIO", fault: wal.Fault{Op: wal.OpWrite, Path: idlog}},
		{name: "write runs out of space", fault: wal.Fault{Op: wal.OpWrite, Path: idlog, Err: syscall.ENOSPC, Partial: true}},
		{name: "fsync fails", fault: wal.Fault{Op: wal.OpSync, Path: idlog}},
		{name: "fsync fails after writing", fault: wal.Fault{Op: wal.OpSync, Path: idlog, Persist: true}},
		{
			// The log cannot make its cut-back durable and breaks; its
			// reopening fails the same way until the disk comes back.
			name:         "fsync keeps failing",
			fault:        wal.Fault{Op: wal.OpSync, Path: idlog, Times: -1},
			lasting:      true,
			mayKeepLinks: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newFaultEnv(t)
			ws := e.src.WorkspaceID
			// Before: u1 is stitched to a1, u2 to a2.
			e.collect(e.ev("m1", "u1", "a1"), e.ev("m2", "u2", ""))
			e.collect(e.ev("m3", "", "a2"), e.ev("m4", "u2", "a2"))
			c1, _ := e.customer("u1")
			c2, _ := e.customer("u2")

			// Queries run while the writer fails and rebuilds its graph.
			stop := make(chan struct{})
			var readers sync.WaitGroup
			stopReaders := sync.OnceFunc(func() { close(stop); readers.Wait() })
			defer stopReaders()
			readers.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := e.pipe.Customer(context.Background(), ws, "a1"); err != nil {
						t.Errorf("customer a1 while the identity log fails: %v", err)
						return
					}
				}
			})

			e.fs.Inject(tc.fault)
			// The refused group links a new customer and a new anonymous
			// id of u1, and sends an event of a known customer too.
			refused := []event.Event{e.ev("m5", "u3", "a3"), e.ev("m6", "u1", "a9"), e.ev("m7", "u2", "")}
			e.refuse(refused...)
			if tc.lasting {
				e.refuse(e.ev("m8", "u2", ""))
				e.refuse(refused...)
				e.fs.ClearFaults()
				e.collectSoon(e.ev("m9", "u4", ""))
			} else {
				// No restart, no waiting: the next request is stored.
				e.collect(e.ev("m9", "u4", ""))
			}
			stopReaders()
			e.check("after the failure")
			if got, n := e.customer("a1"); got != c1 || n != 1 {
				t.Errorf("a1 is %s with %d events, want %s with 1", got, n, c1)
			}
			if got, _ := e.customer("a2"); got != c2 {
				t.Errorf("a2 is %s, want %s", got, c2)
			}
			if !tc.mayKeepLinks {
				for _, id := range []string{"u3", "a3", "a9"} {
					if got, _ := e.customer(id); got != "" {
						t.Errorf("%s, known only from the refused group, is customer %s", id, got)
					}
				}
			}

			// The refused events were not marked seen: their retry is
			// stored, once, and stitched as the first try would have been.
			res, err := e.pipe.Collect(context.Background(), e.src, event.Batch{Events: slices.Clone(refused)})
			if err != nil || res.Accepted != len(refused) {
				t.Fatalf("retry of the refused group: %+v %v, want all %d accepted", res, err, len(refused))
			}
			for _, id := range ids(refused) {
				e.acked[id] = true
				delete(e.refused, id)
			}
			if got, _ := e.customer("a9"); got != c1 {
				t.Errorf("a9 after the retry is %s, want %s", got, c1)
			}
			e.check("after the retry")

			for _, step := range []struct {
				name string
				fs   func() *wal.FaultFS
			}{
				{"a restart", func() *wal.FaultFS { return e.fs }},
				{"a power cut", func() *wal.FaultFS { return e.fs.Crash(nil) }},
			} {
				e.restart(step.fs())
				e.check("after " + step.name)
				for id, want := range map[string]string{"u1": c1, "a1": c1, "a9": c1, "u2": c2, "a2": c2} {
					if got, _ := e.customer(id); got != want {
						t.Errorf("after %s, %s is customer %q, want %q", step.name, id, got, want)
					}
				}
				if u3, _ := e.customer("u3"); u3 == "" || u3 == c1 || u3 == c2 {
					t.Errorf("after %s, u3 is customer %q, want one of its own", step.name, u3)
				}
				res, err := e.pipe.Collect(context.Background(), e.src, event.Batch{Events: slices.Clone(refused)})
				if err != nil || res.Duplicates != len(refused) {
					t.Errorf("after %s, repeat of the retried group: %+v %v, want all duplicates", step.name, res, err)
				}
			}
		})
	}
}

// TestIdentityLogFailureWhileErasingCanBeRetried fails the identity log as
// an erasure logs it: the erasure is refused, the customer is still there
// (their identifiers were not erased on disk), and asking again erases them
// without a restart.
func TestIdentityLogFailureWhileErasingCanBeRetried(t *testing.T) {
	e := newFaultEnv(t)
	ctx := context.Background()
	ws := e.src.WorkspaceID
	e.collect(e.ev("m1", "u1", "a1"), e.ev("m2", "u2", ""))
	e.fs.Inject(wal.Fault{Op: wal.OpSync, Path: "/identity/"})
	if _, err := e.pipe.Erase(ctx, ws, "u1", "admin"); fault.CodeOf(err) != fault.Unavailable {
		t.Fatalf("erase while the identity log fails: %v, want unavailable", err)
	}
	if got, _ := e.customer("a1"); got == "" {
		t.Fatal("a1 is gone although its erasure was refused")
	}
	er, err := e.pipe.Erase(ctx, ws, "a1", "admin")
	if err != nil || er.Identifiers != 2 {
		t.Fatalf("retry of the erasure: %+v %v, want 2 identifiers erased", er, err)
	}
	delete(e.acked, "m1")
	e.check("after the erasure")
	e.restart(e.fs.Crash(nil))
	g, err := e.pipe.Graph(ctx, ws)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []identity.Identifier{{Kind: identity.KindUserID, Value: "u1"}, {Kind: identity.KindAnonymousID, Value: "a1"}} {
		if _, ok := g.Lookup(id); ok {
			t.Errorf("%v is back after a power cut", id)
		}
	}
	if got, n := e.customer("u2"); got == "" || n != 1 {
		t.Errorf("u2 is %q with %d events, want 1 event", got, n)
	}
	e.check("after a power cut")
}
