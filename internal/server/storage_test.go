package server

// Storage failures reach collection clients as 503 with Retry-After, never
// as 200: DESIGN.md's collection guarantee is that a 2xx means durable, so
// an event log or identity log that cannot write must refuse rather than
// acknowledge. The logs run on a wal.FaultFS that fails chosen writes and
// fsyncs or runs out of space; column files and snapshots stay on the real
// disk.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/auth"
	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/ingest"
	"github.com/trekhq/trek/internal/meta"
	"github.com/trekhq/trek/internal/wal"
)

// storageEnv is an env whose pipeline keeps its logs on a FaultFS, with a
// ledger of which events were acknowledged and which refused.
type storageEnv struct {
	*env
	dir     string // the real directory: snapshots, manifest, column files
	fs      *wal.FaultFS
	pipe    *ingest.Pipeline
	src     meta.Source
	next    int             // batch counter, for unique messageIds
	acked   map[string]bool // answered 200
	refused map[string]bool // answered 5xx and not acknowledged since
	users   map[string]bool // every userId sent
}

func newStorageEnv(t *testing.T) *storageEnv {
	t.Helper()
	se := &storageEnv{env: newEnv(t), dir: t.TempDir(), fs: wal.NewFaultFS(),
		acked: map[string]bool{}, refused: map[string]bool{}, users: map[string]bool{}}
	se.openPipeline()
	se.must(201, se.do("POST", "/api/v1/sources", se.tokens[auth.Admin], map[string]string{"name": "Web", "channel": "web"})).json(t, &se.src)
	return se
}

func (se *storageEnv) openPipeline() {
	se.t.Helper()
	p, err := ingest.Open(ingest.Config{Dir: se.dir, FS: se.fs, Logger: slog.New(slog.DiscardHandler)}, se.store)
	if err != nil {
		se.t.Fatal(err)
	}
	se.pipe = p
	se.t.Cleanup(func() { p.Close() })
	se.srv.EnableCollection(p, event.Limits{}, 0)
}

// restart stops the pipeline and starts a new server and pipeline over
// fsys: the same files with the faults gone, or the crash image of a
// FaultFS.Crash. Closing may fail and that is expected: a log that broke,
// or whose file system crashed, cannot close cleanly; after a crash
// nothing more reaches the logs, which is what a killed process leaves.
func (se *storageEnv) restart(fsys *wal.FaultFS) {
	se.t.Helper()
	if err := se.pipe.Close(); err != nil {
		se.t.Logf("closing the pipeline (expected to fail after a fault): %.300v", err)
	}
	srv, err := New(Config{Logger: slog.New(slog.DiscardHandler)}, se.store)
	if err != nil {
		se.t.Fatal(err)
	}
	se.http.Close()
	se.srv, se.fs = srv, fsys
	se.http = httptest.NewServer(srv)
	se.t.Cleanup(se.http.Close)
	se.openPipeline()
}

// storageBatch is a /v1/batch body and its messageIds.
type storageBatch struct {
	name string
	ids  []string
	body map[string]any
}

// batch makes n track events. With a new customer they carry a userId
// trek has not seen, so the identity log is written before the event log;
// otherwise they belong to customer "known", and only the event log is.
func (se *storageEnv) batch(n int, newCustomer bool) storageBatch {
	se.next++
	b := storageBatch{name: fmt.Sprintf("batch %d", se.next)}
	user := "known"
	if newCustomer {
		user = fmt.Sprintf("user-%d", se.next)
	}
	se.users[user] = true
	evs := make([]map[string]any, n)
	for i := range evs {
		id := fmt.Sprintf("b%d-e%d", se.next, i)
		b.ids = append(b.ids, id)
		evs[i] = map[string]any{"type": "track", "messageId": id, "userId": user, "event": "Order Completed",
			"timestamp": time.Date(2026, 3, 1, 10, 0, se.next, i, time.UTC).Format(time.RFC3339Nano)}
	}
	b.body = map[string]any{"batch": evs}
	return b
}

func (se *storageEnv) post(b storageBatch) reply {
	se.t.Helper()
	key := "Basic " + base64.StdEncoding.EncodeToString([]byte(se.src.WriteKey+":"))
	return se.do("POST", "/v1/batch", "", b.body, "Authorization", key)
}

// accept sends a batch that must be stored: 200, every event accepted or
// (a retry) deduplicated.
func (se *storageEnv) accept(b storageBatch) collectResponse {
	se.t.Helper()
	r := se.post(b)
	if r.status != 200 {
		se.t.Fatalf("%s: status %d, want 200; body %s", b.name, r.status, r.body)
	}
	var res collectResponse
	r.json(se.t, &res)
	if res.Accepted+res.Duplicates != len(b.ids) {
		se.t.Fatalf("%s: %s, want %d events accepted or deduplicated", b.name, r.body, len(b.ids))
	}
	for _, id := range b.ids {
		se.acked[id] = true
		delete(se.refused, id)
	}
	return res
}

// refuse sends a batch while storage fails: it must be answered 503 with
// Retry-After and a message containing msg, never 200.
func (se *storageEnv) refuse(b storageBatch, msg string) {
	se.t.Helper()
	se.checkRefused(b, se.post(b), msg)
}

// checkRefused checks that r, the answer to b, was a refusal, and notes
// b's events as refused.
func (se *storageEnv) checkRefused(b storageBatch, r reply, msg string) {
	se.t.Helper()
	if r.status != 503 {
		se.t.Fatalf("%s while storage fails: status %d, want 503; body %s", b.name, r.status, r.body)
	}
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s <= 0 {
		se.t.Errorf("%s: Retry-After %q, want a number of seconds", b.name, r.header.Get("Retry-After"))
	}
	e := r.errorOf(se.t)
	if e.Code != "unavailable" || e.Message == "" || !strings.Contains(e.Message, msg) {
		se.t.Errorf("%s: error %+v, want code unavailable and a message containing %q", b.name, e, msg)
	}
	for _, id := range b.ids {
		if !se.acked[id] {
			se.refused[id] = true
		}
	}
}

// stored counts every stored event's messageId, from the event store's
// NDJSON export.
func (se *storageEnv) stored() map[string]int {
	se.t.Helper()
	st, err := se.pipe.Store(context.Background(), se.ws.ID)
	if err != nil {
		se.t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := st.ExportNDJSON(context.Background(), &buf); err != nil {
		se.t.Fatal(err)
	}
	found := map[string]int{}
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var e struct {
			MessageID string `json:"messageId"`
		}
		if err := dec.Decode(&e); err != nil {
			se.t.Fatal(err)
		}
		found[e.MessageID]++
	}
	return found
}

// timeline counts the messageIds of every test customer's events, through
// the customer API.
func (se *storageEnv) timeline() map[string]int {
	se.t.Helper()
	found := map[string]int{}
	for user := range se.users {
		r := se.do("GET", "/api/v1/customers/"+user+"/events?limit=1000", se.tokens[auth.Viewer], nil)
		if r.status == 404 {
			continue // a customer whose only events were refused
		}
		se.must(200, r)
		var page struct {
			Events     []event.Event
			NextCursor string
		}
		r.json(se.t, &page)
		if page.NextCursor != "" {
			se.t.Fatalf("customer %s has more than a page of events", user)
		}
		for _, e := range page.Events {
			found[e.MessageID]++
		}
	}
	return found
}

// check compares what trek holds with the ledger: each acknowledged event
// exactly once, and each refused one not at all (or, when a broken log
// leaves the outcome unknown, at most once).
func (se *storageEnv) check(how string, found map[string]int, refusedMayBeStored bool) {
	se.t.Helper()
	var problems []string
	for id := range se.acked {
		if found[id] != 1 {
			problems = append(problems, fmt.Sprintf("acknowledged %s stored %d times", id, found[id]))
		}
	}
	for id := range se.refused {
		if n := found[id]; n > 1 || n == 1 && !refusedMayBeStored {
			problems = append(problems, fmt.Sprintf("refused %s stored %d times", id, n))
		}
	}
	for id, n := range found {
		if !se.acked[id] && !se.refused[id] {
			problems = append(problems, fmt.Sprintf("%s stored %d times but never sent", id, n))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		se.t.Errorf("%s: %d problems, e.g.\n%s", how, len(problems), strings.Join(problems[:min(len(problems), 10)], "\n"))
	}
}

// acceptSoon sends a batch until it is stored, for up to a few seconds: a
// workspace whose identity log could not be reopened tries again after a
// short backoff once the disk is back. Each 503 meanwhile must be a proper
// refusal.
func (se *storageEnv) acceptSoon(b storageBatch) {
	se.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		r := se.post(b)
		if r.status == 200 {
			break
		}
		if r.status != 503 || time.Now().After(deadline) {
			se.t.Fatalf("%s after the failure cleared: status %d; body %s", b.name, r.status, r.body)
		}
		// This answer, not another request's: the workspace may recover
		// between two requests.
		se.checkRefused(b, r, "")
		time.Sleep(20 * time.Millisecond)
	}
	se.accept(b) // a repeat: all duplicates, and the ledger updated
}

// TestStorageFailuresAnswer503NeverOK injects each storage failure under
// a running server and checks the client sees 503 with Retry-After and a
// message saying what failed; that events acknowledged before stay
// readable, refused ones are not stored, the workspace resumes when the
// failure clears (or, when the event log broke, after a restart), a retry
// of the refused batch is then stored exactly once, and a power cut
// afterwards loses nothing acknowledged.
func TestStorageFailuresAnswer503NeverOK(t *testing.T) {
	const eventLog, identityLog = "/events/wal/", "/identity/"
	cases := []struct {
		name string
		// inject plans the failure on a FaultFS already holding some
		// acknowledged events.
		inject func(*wal.FaultFS)
		// newCustomer: the refused batch introduces a customer, so the
		// identity log is written first.
		newCustomer bool
		msg         string // in the first 503's message
		laterMsg    string // in the later 503s' messages, if not msg
		// lasting: the failure stays until cleared, so a second request
		// fails too.
		lasting bool
		// needsRestart: the workspace stays unavailable after the failure
		// clears, until trek restarts.
		needsRestart bool
		// recoversSoon: once the failure clears, the workspace takes
		// events again after a short backoff, without a restart.
		recoversSoon bool
		// refusedMayBeStored: the log broke, so by its contract (package
		// wal) a refused record may come back after a restart, once.
		refusedMayBeStored bool
	}{
		{
			name:   "event log write fails with EIO",
			inject: func(f *wal.FaultFS) { f.Inject(wal.Fault{Op: wal.OpWrite, Path: eventLog}) },
			msg:    "write-ahead log I/O error",
		},
		{
			name:   "event log fsync fails with EIO",
			inject: func(f *wal.FaultFS) { f.Inject(wal.Fault{Op: wal.OpSync, Path: eventLog}) },
			msg:    "write-ahead log I/O error",
		},
		{
			// The data reached the disk but the fsync could not confirm it:
			// the log cuts it back, so the refused events do not appear.
			name:   "event log fsync fails after writing",
			inject: func(f *wal.FaultFS) { f.Inject(wal.Fault{Op: wal.OpSync, Path: eventLog, Persist: true}) },
			msg:    "write-ahead log I/O error",
		},
		{
			name: "event log disk full",
			inject: func(f *wal.FaultFS) {
				f.Inject(wal.Fault{Op: wal.OpWrite, Path: eventLog, Err: syscall.ENOSPC, Partial: true, Times: -1})
			},
			msg:     "disk full",
			lasting: true,
		},
		{
			// Every fsync fails, so the log cannot even make its cut-back
			// durable: it breaks until a restart replays it.
			name:               "event log fsync keeps failing",
			inject:             func(f *wal.FaultFS) { f.Inject(wal.Fault{Op: wal.OpSync, Path: eventLog, Times: -1}) },
			msg:                "write-ahead log unavailable",
			lasting:            true,
			needsRestart:       true,
			refusedMayBeStored: true,
		},
		{
			// The workspace rebuilds its identity graph from the log at
			// once: the next request is stored.
			name:        "identity log write fails with EIO",
			inject:      func(f *wal.FaultFS) { f.Inject(wal.Fault{Op: wal.OpWrite, Path: identityLog}) },
			newCustomer: true,
			msg:         "identity log could not be written",
		},
		{
			name:        "identity log fsync fails after writing",
			inject:      func(f *wal.FaultFS) { f.Inject(wal.Fault{Op: wal.OpSync, Path: identityLog, Persist: true}) },
			newCustomer: true,
			msg:         "identity log could not be written",
		},
		{
			// The identity log breaks and cannot be reopened while fsyncs
			// fail; once they work, the workspace rebuilds its graph and
			// resumes. The refused events were never written, whatever
			// becomes of their identity record.
			name:         "identity log fsync keeps failing",
			inject:       func(f *wal.FaultFS) { f.Inject(wal.Fault{Op: wal.OpSync, Path: identityLog, Times: -1}) },
			newCustomer:  true,
			msg:          "identity log could not be written",
			laterMsg:     "identity log",
			lasting:      true,
			recoversSoon: true,
		},
		{
			// The identity log is written first and fails; its graph is
			// rebuilt from the disk once the log can be reopened, which
			// (rewriting its tail) needs room again.
			name:         "whole disk full",
			inject:       func(f *wal.FaultFS) { f.SetCapacity(1) },
			newCustomer:  true,
			msg:          "disk full: the identity log could not be written",
			laterMsg:     "disk full: the identity log is being recovered",
			lasting:      true,
			recoversSoon: true,
		},
		{
			// With no new identifier only the event log is written, and
			// collection resumes as soon as there is room again.
			name:    "whole disk full, known customers",
			inject:  func(f *wal.FaultFS) { f.SetCapacity(1) },
			msg:     "disk full",
			lasting: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			se := newStorageEnv(t)
			before := []storageBatch{se.batch(20, false), se.batch(30, true)}
			for _, b := range before {
				se.accept(b)
			}

			tc.inject(se.fs)
			refused := se.batch(25, tc.newCustomer)
			se.refuse(refused, tc.msg)
			if tc.lasting {
				later := tc.laterMsg
				if later == "" {
					later = tc.msg
				}
				se.refuse(se.batch(5, false), later)
				se.refuse(refused, later) // a client's retry fails the same way
			}
			// While the failure lasts or the log is broken, the events
			// acknowledged before are still served and the refused are not.
			se.check("event store after the failure", se.stored(), false)
			se.check("customer API after the failure", se.timeline(), false)

			se.fs.ClearFaults()
			se.fs.SetCapacity(0)
			switch {
			case tc.needsRestart:
				se.refuse(se.batch(5, false), "")
			case tc.recoversSoon:
				se.acceptSoon(se.batch(10, false))
			default:
				se.accept(se.batch(10, false))
			}
			if !tc.needsRestart {
				// Without a restart, the refused batch is stored once when
				// sent again: it was not marked seen.
				if res := se.accept(refused); res.Accepted != len(refused.ids) {
					t.Errorf("retry of the refused batch without a restart: %+v, want all accepted", res)
				}
				se.check("after the retry without a restart", se.stored(), false)
				se.check("customer API after the retry without a restart", se.timeline(), false)
			}

			// A restart on the same files, without the fault, recovers:
			// what was acknowledged is there once, the refused batch can
			// be sent again and is stored once, repeats are deduplicated.
			se.restart(se.fs)
			se.check("after a restart", se.stored(), tc.refusedMayBeStored)
			se.accept(refused)
			if res := se.accept(before[0]); res.Duplicates != len(before[0].ids) {
				t.Errorf("repeat of an acknowledged batch after the restart: %+v, want all duplicates", res)
			}
			se.accept(se.batch(10, true))
			se.check("after the retry", se.stored(), false)
			se.check("customer API after the retry", se.timeline(), false)

			// A crash now leaves the logs with their durable bytes only:
			// every acknowledged event is among them.
			se.restart(se.fs.Crash(nil))
			se.check("after a power cut", se.stored(), false)
			se.check("customer API after a power cut", se.timeline(), false)
		})
	}
}

// TestDiskFullUnderConcurrentLoadNeverAnswersOK has several clients send
// batches while the event log's disk fills up and is freed, twice: every
// 200 must be stored exactly once, every 503 carry Retry-After and store
// nothing, and no other answer come back.
func TestDiskFullUnderConcurrentLoadNeverAnswersOK(t *testing.T) {
	se := newStorageEnv(t)
	se.accept(se.batch(10, false))
	const clients, perClient = 4, 30
	batches := make([][]storageBatch, clients)
	for c := range batches {
		for range perClient {
			batches[c] = append(batches[c], se.batch(1+se.next%7, false))
		}
	}
	type outcome struct {
		b          storageBatch
		status     int
		retryAfter string
		err        error
	}
	out := make(chan outcome)
	key := "Basic " + base64.StdEncoding.EncodeToString([]byte(se.src.WriteKey+":"))
	hc := se.http.Client()
	for _, list := range batches {
		go func() {
			for _, b := range list {
				raw, _ := json.Marshal(b.body)
				req, _ := http.NewRequest("POST", se.http.URL+"/v1/batch", bytes.NewReader(raw))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", key)
				resp, err := hc.Do(req)
				if err != nil {
					out <- outcome{b: b, err: err}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				out <- outcome{b: b, status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
			}
		}()
	}
	// The disk is full from a quarter of the answers to half, and from
	// three quarters to the end: counted in answers, not time, so that
	// both phases see requests however slow the machine.
	full := func(on bool) {
		if on {
			se.fs.Inject(wal.Fault{Op: wal.OpWrite, Path: "/events/wal/", Err: syscall.ENOSPC, Partial: true, Times: -1})
		} else {
			se.fs.ClearFaults()
		}
	}
	const total = clients * perClient
	statuses := map[int]int{}
	for n := range total {
		switch n {
		case total / 4:
			full(true)
		case total / 2:
			full(false)
		case 3 * total / 4:
			full(true)
		}
		o := <-out
		switch {
		case o.err != nil:
			t.Errorf("%s: %v", o.b.name, o.err)
		case o.status == 200:
			for _, id := range o.b.ids {
				se.acked[id] = true
			}
		case o.status == 503:
			if o.retryAfter == "" {
				t.Errorf("%s: 503 without Retry-After", o.b.name)
			}
			for _, id := range o.b.ids {
				se.refused[id] = true
			}
		default:
			t.Errorf("%s: status %d, want 200 or 503", o.b.name, o.status)
		}
		statuses[o.status]++
	}
	t.Logf("answers: %v", statuses)
	if statuses[200] == 0 || statuses[503] == 0 {
		t.Errorf("answers %v: want both stored and refused batches", statuses)
	}
	se.check("event store", se.stored(), false)
	full(false)
	se.restart(se.fs.Crash(nil))
	se.check("after a power cut", se.stored(), false)
}
