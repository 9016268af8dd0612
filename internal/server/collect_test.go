package server

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/auth"
	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/ingest"
	"github.com/trekhq/trek/internal/meta"
)

// collectEnv is an env with event collection on a real pipeline in a
// temporary data directory, and one web source.
type collectEnv struct {
	*env
	pipe *ingest.Pipeline
	dir  string
	src  meta.Source
}

func newCollectEnv(t *testing.T, cfgs ...func(*ingest.Config)) *collectEnv {
	t.Helper()
	e := newEnv(t)
	ce := &collectEnv{env: e, dir: t.TempDir()}
	ce.open(cfgs...)
	e.must(201, e.do("POST", "/api/v1/sources", e.tokens[auth.Admin], map[string]string{"name": "Web", "channel": "web"})).json(t, &ce.src)
	return ce
}

func (ce *collectEnv) open(cfgs ...func(*ingest.Config)) {
	cfg := ingest.Config{Dir: ce.dir, Logger: slog.New(slog.DiscardHandler)}
	for _, f := range cfgs {
		f(&cfg)
	}
	p, err := ingest.Open(cfg, ce.store)
	if err != nil {
		ce.t.Fatal(err)
	}
	ce.pipe = p
	ce.t.Cleanup(func() { p.Close() })
	ce.srv.EnableCollection(p, event.Limits{}, 0)
}

// restart closes the pipeline and opens a new server and pipeline on the
// same files, as a restarted trek would.
func (ce *collectEnv) restart(t *testing.T) {
	t.Helper()
	if err := ce.pipe.Close(); err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Logger: slog.New(slog.DiscardHandler)}, ce.store)
	if err != nil {
		t.Fatal(err)
	}
	ce.srv = srv
	ce.http.Config.Handler = srv
	ce.open()
}

func basic(key string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"))
}

// send posts a body to a collection path with the source's write key.
func (ce *collectEnv) send(path string, body any, hdr ...string) reply {
	ce.t.Helper()
	return ce.do("POST", path, "", body, append([]string{"Authorization", basic(ce.src.WriteKey)}, hdr...)...)
}

func (ce *collectEnv) customer(id string) (ingest.Customer, []event.Event) {
	ce.t.Helper()
	var c ingest.Customer
	ce.must(200, ce.do("GET", "/api/v1/customers/"+id, ce.tokens[auth.Viewer], nil)).json(ce.t, &c)
	var page struct{ Events []event.Event }
	ce.must(200, ce.do("GET", "/api/v1/customers/"+id+"/events?limit=1000", ce.tokens[auth.Viewer], nil)).json(ce.t, &page)
	return c, page.Events
}

func TestEverySpecCallTypeIsCollected(t *testing.T) {
	ce := newCollectEnv(t)
	calls := []struct {
		path string
		body map[string]any
	}{
		{"/v1/identify", map[string]any{"anonymousId": "dev-1", "userId": "u-1", "traits": map[string]any{"email": " Ana@Example.COM"}}},
		{"/v1/track", map[string]any{"userId": "u-1", "event": "Product Viewed", "properties": map[string]any{"sku": "A-1", "price": 9.5}}},
		{"/v1/page", map[string]any{"anonymousId": "dev-1", "name": "Home"}},
		{"/v1/screen", map[string]any{"userId": "u-1", "name": "Cart"}},
		{"/v1/group", map[string]any{"userId": "u-1", "groupId": "acme"}},
		{"/v1/alias", map[string]any{"userId": "u-1", "previousId": "old-id"}},
	}
	for _, c := range calls {
		r := ce.must(200, ce.send(c.path, c.body))
		var res collectResponse
		r.json(t, &res)
		if !res.Success || res.Accepted != 1 {
			t.Errorf("%s: %s", c.path, r.body)
		}
		if r.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: no CORS header", c.path)
		}
	}
	cust, evs := ce.customer("ana@example.com")
	if cust.EventCount != len(calls) || len(evs) != len(calls) {
		t.Fatalf("customer has %d events, want %d: %+v", cust.EventCount, len(calls), cust)
	}
	types := map[event.Type]int{}
	for _, e := range evs {
		types[e.Type]++
		if e.Channel != "web" || e.SourceID != ce.src.ID || e.MessageID == "" {
			t.Errorf("event not normalised: %+v", e)
		}
	}
	if len(types) != 6 {
		t.Errorf("types %v", types)
	}
	// The alias joined old-id; the identify joined the device and email.
	for _, id := range []string{"old-id", "dev-1", "u-1"} {
		if c, _ := ce.customer(id); c.ID != cust.ID {
			t.Errorf("%s resolves to %s, not %s", id, c.ID, cust.ID)
		}
	}
}

func TestWriteKeyIsCheckedInHeaderOrBody(t *testing.T) {
	ce := newCollectEnv(t)
	ev := map[string]any{"userId": "u", "event": "E"}
	ce.must(401, ce.do("POST", "/v1/track", "", ev))
	ce.must(401, ce.do("POST", "/v1/track", "", ev, "Authorization", basic("trek_wk_wrong")))
	ce.must(401, ce.do("POST", "/v1/track", "", ev, "Authorization", "Bearer "+ce.tokens[auth.Admin]))
	withKey := map[string]any{"userId": "u", "event": "E", "writeKey": ce.src.WriteKey}
	ce.must(200, ce.do("POST", "/v1/track", "", withKey))
	batch := map[string]any{"writeKey": ce.src.WriteKey, "batch": []any{ev}}
	ce.must(200, ce.do("POST", "/v1/batch", "", batch))

	// A disabled source is refused; enabling it again works; a rotated key
	// replaces the old one at once.
	admin := ce.tokens[auth.Admin]
	ce.must(200, ce.do("PATCH", "/api/v1/sources/"+ce.src.ID, admin, map[string]any{"disabled": true}))
	ce.must(403, ce.send("/v1/track", ev))
	ce.must(200, ce.do("PATCH", "/api/v1/sources/"+ce.src.ID, admin, map[string]any{"disabled": false}))
	ce.must(200, ce.send("/v1/track", ev))
	old := ce.src.WriteKey
	ce.must(200, ce.do("POST", "/api/v1/sources/"+ce.src.ID+"/rotate", admin, nil)).json(t, &ce.src)
	ce.must(401, ce.do("POST", "/v1/track", "", ev, "Authorization", basic(old)))
	ce.must(200, ce.send("/v1/track", ev))
	// Sources are for admins only.
	ce.must(403, ce.do("GET", "/api/v1/sources", ce.tokens[auth.Editor], nil))
}

func TestRepeatedMessageIdsAreStoredOnceEvenAfterRestart(t *testing.T) {
	ce := newCollectEnv(t)
	ev := map[string]any{"type": "track", "userId": "u", "event": "Order Completed", "messageId": "m-1"}
	var res collectResponse
	ce.must(200, ce.send("/v1/track", ev)).json(t, &res)
	if res.Accepted != 1 {
		t.Fatalf("%+v", res)
	}
	ce.must(200, ce.send("/v1/batch", map[string]any{"batch": []any{ev, ev}})).json(t, &res)
	if res.Accepted != 0 || res.Duplicates != 2 {
		t.Fatalf("repeat in a batch: %+v", res)
	}
	ce.restart(t)
	ce.must(200, ce.send("/v1/track", ev)).json(t, &res)
	if res.Duplicates != 1 {
		t.Fatalf("repeat after restart: %+v", res)
	}
	if c, _ := ce.customer("u"); c.EventCount != 1 {
		t.Errorf("%d events stored", c.EventCount)
	}
}

func TestClockSkewIsCorrectedFromSentAt(t *testing.T) {
	ce := newCollectEnv(t)
	// The client's clock is two hours ahead: it says the event happened at
	// its 12:00 and sent it at its 12:05.
	sent := time.Now().UTC().Add(2 * time.Hour)
	ts := sent.Add(-5 * time.Minute)
	ce.must(200, ce.send("/v1/batch", map[string]any{"sentAt": sent.Format(time.RFC3339Nano), "batch": []any{
		map[string]any{"type": "track", "userId": "u", "event": "E", "timestamp": ts.Format(time.RFC3339Nano)},
	}}))
	_, evs := ce.customer("u")
	want := time.Now().Add(-5 * time.Minute)
	if d := evs[0].Timestamp.Sub(want); d < -time.Minute || d > time.Minute {
		t.Errorf("corrected time %s is %s away from %s", evs[0].Timestamp, d, want)
	}
	if !evs[0].OriginalTimestamp.Equal(ts.Truncate(time.Millisecond)) && !evs[0].OriginalTimestamp.Equal(ts) {
		t.Errorf("original timestamp %s, sent %s", evs[0].OriginalTimestamp, ts)
	}
}

func TestMalformedRequestsAreRefusedWholeAndStoreNothing(t *testing.T) {
	ce := newCollectEnv(t)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(bytes.Repeat([]byte(" "), 2<<20)) // inflates far past the batch limit
	zw.Close()
	cases := []struct {
		name   string
		path   string
		body   any
		hdr    []string
		status int
		msg    string
	}{
		{"malformed JSON", "/v1/batch", `{"batch": [`, nil, 400, "JSON"},
		{"batch is not a list", "/v1/batch", `{"batch": {}}`, nil, 400, "batch"},
		{"invalid UTF-8", "/v1/track", "{\"userId\":\"u\",\"event\":\"\xff\"}", nil, 400, "UTF-8"},
		{"oversize event", "/v1/track", map[string]any{"userId": "u", "event": "E", "properties": map[string]any{"x": strings.Repeat("a", 40<<10)}}, nil, 413, ""},
		{"oversize batch", "/v1/batch", map[string]any{"batch": []any{map[string]any{"userId": "u", "event": "E", "properties": map[string]any{"x": strings.Repeat("a", 600<<10)}}}}, nil, 413, ""},
		{"gzip bomb", "/v1/batch", gz.Bytes(), []string{"Content-Encoding", "gzip"}, 413, ""},
		{"damaged gzip", "/v1/batch", []byte{0x1f, 0x8b, 1, 2, 3}, []string{"Content-Encoding", "gzip"}, 400, "gzip"},
		{"unknown encoding", "/v1/batch", `{}`, []string{"Content-Encoding", "br"}, 400, "br"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ce.send(c.path, c.body, c.hdr...)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			if msg := r.errorOf(t).Message; msg == "" || !strings.Contains(msg, c.msg) {
				t.Errorf("message %q lacks %q", msg, c.msg)
			}
		})
	}
	items, _ := ce.store.QuarantineItems(t.Context(), ce.ws.ID, meta.QuarantineFilter{})
	if len(items) != 0 {
		t.Errorf("malformed requests reached the quarantine: %d", len(items))
	}
	if _, err := ce.pipe.Customer(t.Context(), ce.ws.ID, "u"); err == nil {
		t.Error("a refused request stored an event")
	}
}

func TestInvalidEventsAreQuarantinedAndCanBeFixedAndReplayed(t *testing.T) {
	ce := newCollectEnv(t)
	deep := map[string]any{"v": 1}
	for i := 0; i < 8; i++ {
		deep = map[string]any{"n": deep}
	}
	batch := map[string]any{"batch": []any{
		map[string]any{"type": "track", "userId": "good", "event": "Fine"},
		map[string]any{"type": "track", "event": "No identifier"},
		map[string]any{"type": "track", "userId": "x", "event": "Future", "timestamp": "2099-01-01T00:00:00Z"},
		map[string]any{"type": "track", "userId": "x", "event": "Deep", "properties": deep},
		map[string]any{"type": "track", "userId": "x"},
	}}
	var res collectResponse
	ce.must(200, ce.send("/v1/batch", batch)).json(t, &res)
	if res.Accepted != 1 || res.Quarantined != 4 {
		t.Fatalf("%+v", res)
	}
	admin := ce.tokens[auth.Admin]
	var list struct{ Items []quarantineView }
	ce.must(200, ce.do("GET", "/api/v1/quarantine?status=open", admin, nil)).json(t, &list)
	if len(list.Items) != 4 {
		t.Fatalf("%d quarantined", len(list.Items))
	}
	reasons := ""
	var noID quarantineView
	for _, it := range list.Items {
		reasons += it.Reason + "\n"
		if strings.Contains(string(it.Raw), "No identifier") {
			noID = it
		}
	}
	for _, want := range []string{"identifier", "future", "deep", "event name"} {
		if !strings.Contains(strings.ToLower(reasons), want) {
			t.Errorf("no reason mentions %q:\n%s", want, reasons)
		}
	}
	ce.must(403, ce.do("GET", "/api/v1/quarantine", ce.tokens[auth.Editor], nil))

	// Replaying it unchanged fails and changes nothing; fixed, it is stored.
	r := ce.must(400, ce.do("POST", "/api/v1/quarantine/"+noID.ID+"/replay", admin, nil))
	if !strings.Contains(r.errorOf(t).Fields[0].Message, "identifier") {
		t.Errorf("%s", r.body)
	}
	fixed := map[string]any{"event": map[string]any{"type": "track", "event": "No identifier", "userId": "fixed-user"}}
	ce.must(200, ce.do("POST", "/api/v1/quarantine/"+noID.ID+"/replay", admin, fixed))
	if c, _ := ce.customer("fixed-user"); c.EventCount != 1 {
		t.Errorf("replayed event not stored: %+v", c)
	}
	ce.must(409, ce.do("POST", "/api/v1/quarantine/"+noID.ID+"/replay", admin, fixed))
	for _, it := range list.Items {
		if it.ID != noID.ID {
			ce.must(204, ce.do("POST", "/api/v1/quarantine/"+it.ID+"/discard", admin, nil))
		}
	}
	ce.must(200, ce.do("GET", "/api/v1/quarantine?status=open", admin, nil)).json(t, &list)
	if len(list.Items) != 0 {
		t.Errorf("%d still open", len(list.Items))
	}
}

func TestIdentityRulesHoldThroughCollection(t *testing.T) {
	ce := newCollectEnv(t, func(c *ingest.Config) { c.MaxAnonymousIDs = 3 })
	batch := func(evs ...map[string]any) {
		t.Helper()
		b := make([]any, len(evs))
		for i, e := range evs {
			if e["type"] == nil {
				e["type"] = "track"
			}
			b[i] = e
		}
		ce.must(200, ce.send("/v1/batch", map[string]any{"batch": b}))
	}
	// Retroactive: browsing anonymously, then logging in.
	batch(map[string]any{"anonymousId": "anon-1", "event": "Product Viewed"},
		map[string]any{"anonymousId": "anon-1", "event": "Product Added"})
	if c, _ := ce.customer("anon-1"); c.EventCount != 2 {
		t.Fatalf("%+v", c)
	}
	batch(map[string]any{"type": "identify", "anonymousId": "anon-1", "userId": "alice"})
	alice, _ := ce.customer("alice")
	if alice.EventCount != 3 {
		t.Errorf("past anonymous events not stitched to alice: %d", alice.EventCount)
	}
	// Shared device: the same browser later used by bob does not fuse them.
	batch(map[string]any{"type": "identify", "anonymousId": "anon-1", "userId": "bob"},
		map[string]any{"anonymousId": "anon-1", "userId": "bob", "event": "Order Completed"})
	bob, _ := ce.customer("bob")
	alice2, _ := ce.customer("alice")
	if bob.ID == alice2.ID {
		t.Fatalf("a shared device fused alice and bob")
	}
	if alice2.EventCount != 3 || bob.EventCount != 2 {
		t.Errorf("alice %d, bob %d events", alice2.EventCount, bob.EventCount)
	}
	refused := false
	for _, m := range bob.Merges {
		refused = refused || m.Refused
	}
	for _, m := range alice2.Merges {
		refused = refused || m.Refused
	}
	if !refused {
		t.Error("the refused merge is not in the merge log")
	}
	// Alias merges two userIds explicitly.
	batch(map[string]any{"type": "alias", "userId": "alice", "previousId": "bob"})
	a3, _ := ce.customer("alice")
	if b3, _ := ce.customer("bob"); a3.ID != b3.ID || a3.EventCount != 6 {
		t.Errorf("alias did not merge: %s/%s, %d events", a3.ID, b3.ID, a3.EventCount)
	}
	// The cap on anonymous ids: a fourth device is not merged into carol.
	for i := 1; i <= 4; i++ {
		batch(map[string]any{"type": "identify", "anonymousId": fmt.Sprintf("carol-dev-%d", i), "userId": "carol"})
	}
	carol, _ := ce.customer("carol")
	if other, _ := ce.customer("carol-dev-4"); other.ID == carol.ID {
		t.Errorf("cap of 3 anonymous ids not enforced: %+v", carol.Identifiers)
	}
}

func TestErasureLeavesNoTraceAndSuppressesLaterEvents(t *testing.T) {
	ce := newCollectEnv(t)
	ce.must(200, ce.send("/v1/batch", map[string]any{"batch": []any{
		map[string]any{"type": "track", "anonymousId": "d-9", "event": "Product Viewed"},
		map[string]any{"type": "identify", "anonymousId": "d-9", "userId": "erin", "traits": map[string]any{"email": "erin@example.com"}},
		map[string]any{"type": "track", "userId": "keep", "event": "Other"},
	}}))
	// A refused event of erin's waits in the quarantine.
	ce.must(200, ce.send("/v1/batch", map[string]any{"batch": []any{map[string]any{"type": "track", "userId": "erin"}}}))
	admin := ce.tokens[auth.Admin]
	ce.must(403, ce.do("DELETE", "/api/v1/customers/erin", ce.tokens[auth.Editor], nil))
	var er meta.Erasure
	ce.must(200, ce.do("DELETE", "/api/v1/customers/erin", admin, nil)).json(t, &er)
	if er.Events != 2 || er.Identifiers != 3 {
		t.Errorf("erasure %+v", er)
	}
	for _, id := range []string{"erin", "d-9", "erin@example.com", er.CustomerID} {
		ce.must(404, ce.do("GET", "/api/v1/customers/"+id, admin, nil))
	}
	// Nothing of erin is left on disk in the event store or identity log:
	// not in column files, not in a write-ahead log segment.
	filepath.WalkDir(ce.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, _ := os.ReadFile(p)
		for _, s := range []string{"erin@example.com", `"erin"`, "d-9"} {
			if bytes.Contains(raw, []byte(s)) {
				t.Errorf("%s still holds %s", p, s)
			}
		}
		return nil
	})
	var q struct{ Items []quarantineView }
	ce.must(200, ce.do("GET", "/api/v1/quarantine", admin, nil)).json(t, &q)
	if len(q.Items) != 0 {
		t.Errorf("the quarantine still holds erin's payload: %s", q.Items[0].Raw)
	}
	var res collectResponse
	ce.must(200, ce.send("/v1/track", map[string]any{"anonymousId": "d-9", "event": "Came back"})).json(t, &res)
	if res.Accepted != 0 || res.Suppressed != 1 {
		t.Errorf("an event of an erased identifier was stored: %+v", res)
	}
	ce.restart(t)
	ce.must(404, ce.do("GET", "/api/v1/customers/erin", admin, nil))
	ce.must(200, ce.send("/v1/track", map[string]any{"userId": "erin", "event": "Again"})).json(t, &res)
	if res.Suppressed != 1 {
		t.Errorf("suppression lost on restart: %+v", res)
	}
	st, err := ce.pipe.Store(t.Context(), ce.ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	var exp bytes.Buffer
	if err := st.ExportNDJSON(t.Context(), &exp); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"erin", "d-9"} {
		if strings.Contains(exp.String(), s) {
			t.Errorf("export still holds %q:\n%s", s, exp.String())
		}
	}
	if !strings.Contains(exp.String(), "keep") {
		t.Error("export lost another customer's events")
	}
	var list struct{ Erasures []meta.Erasure }
	ce.must(200, ce.do("GET", "/api/v1/erasures", admin, nil)).json(t, &list)
	if len(list.Erasures) != 1 || strings.Contains(fmt.Sprint(list), "erin") {
		t.Errorf("erasure record %+v", list)
	}
}

func TestClientAddressesAreNotStored(t *testing.T) {
	ce := newCollectEnv(t)
	ce.must(200, ce.send("/v1/track", map[string]any{"userId": "u", "event": "E", "context": map[string]any{"ip": "203.0.113.77", "locale": "vi-VN"}}))
	_, evs := ce.customer("u")
	if _, ok := evs[0].Context["ip"]; ok || evs[0].Context["locale"] != "vi-VN" {
		t.Errorf("context %v", evs[0].Context)
	}
}

func TestOverloadIsShedWith429(t *testing.T) {
	e := newEnv(t)
	p, err := ingest.Open(ingest.Config{Dir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)}, e.store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	e.srv.EnableCollection(p, event.Limits{}, 1)
	var src meta.Source
	e.must(201, e.do("POST", "/api/v1/sources", e.tokens[auth.Admin], map[string]string{"name": "W", "channel": "web"})).json(t, &src)
	// Hold the only slot with a request whose body never finishes: a raw
	// connection that sends its headers and part of its body.
	conn, err := net.Dial("tcp", e.http.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/batch HTTP/1.1\r\nHost: trek\r\nAuthorization: %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"batch\":[", basic(src.WriteKey))
	deadline := time.Now().Add(10 * time.Second)
	got429 := false
	for time.Now().Before(deadline) && !got429 {
		r := e.do("POST", "/v1/track", "", map[string]any{"userId": "u", "event": "E"}, "Authorization", basic(src.WriteKey))
		if r.status == 429 {
			got429 = r.header.Get("Retry-After") != ""
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if !got429 {
		t.Fatal("no 429 with Retry-After while the only slot was taken")
	}
}

func TestBrowserShortPathsWorkAndSingleCallsKeepTheirTypeInQuarantine(t *testing.T) {
	ce := newCollectEnv(t)
	ce.must(200, ce.send("/v1/t", map[string]any{"userId": "u", "event": "Clicked"}))
	ce.must(200, ce.send("/v1/p", map[string]any{"userId": "u", "name": "Home"}))
	if c, _ := ce.customer("u"); c.EventCount != 2 {
		t.Errorf("%d events through the short paths", c.EventCount)
	}
	// A page call without an identifier is quarantined as a page call.
	var res collectResponse
	ce.must(200, ce.send("/v1/page", map[string]any{"name": "Pricing"})).json(t, &res)
	if res.Quarantined != 1 {
		t.Fatalf("%+v", res)
	}
	var list struct{ Items []quarantineView }
	ce.must(200, ce.do("GET", "/api/v1/quarantine", ce.tokens[auth.Admin], nil)).json(t, &list)
	if len(list.Items) != 1 || !strings.Contains(string(list.Items[0].Raw), `"type":"page"`) {
		t.Fatalf("quarantined %s", list.Items[0].Raw)
	}
	r := ce.do("POST", "/v1/track", "", map[string]any{"userId": "u", "event": "E"})
	if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Basic") {
		t.Errorf("collection 401 asks for %q", got)
	}
}

func TestTimelineKeepsArrivalOrderForEqualTimes(t *testing.T) {
	ce := newCollectEnv(t)
	at := "2026-03-01T10:00:00Z"
	// Filed under two keys (the anonymous id, then the user id), all at one
	// time: the timeline must still show them in the order they came.
	ce.must(200, ce.send("/v1/batch", map[string]any{"batch": []any{
		map[string]any{"type": "page", "anonymousId": "tie-a", "name": "First", "timestamp": at},
		map[string]any{"type": "identify", "anonymousId": "tie-a", "userId": "tie-u", "timestamp": at},
		map[string]any{"type": "track", "anonymousId": "tie-a", "event": "Third", "timestamp": at},
		map[string]any{"type": "track", "userId": "tie-u", "event": "Fourth", "timestamp": at},
	}}))
	_, evs := ce.customer("tie-u")
	var got []string
	for _, e := range evs {
		got = append(got, e.Activity()+"/"+e.Name)
	}
	want := []string{"Page Viewed/First", "Identify/", "Third/", "Fourth/"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("timeline %v, want %v", got, want)
	}
}

func TestSourceCountsShowArrivingEventsAtOnce(t *testing.T) {
	ce := newCollectEnv(t)
	var before struct {
		Since   *time.Time
		Sources []SourceCounts
	}
	ce.must(200, ce.do("GET", "/api/v1/sources/counts", ce.tokens[auth.Admin], nil)).json(t, &before)
	if before.Since == nil || len(before.Sources) != 1 || before.Sources[0].Accepted != 0 || before.Sources[0].LastEventAt != nil {
		t.Fatalf("before any event: %+v", before)
	}
	ce.must(200, ce.send("/v1/batch", map[string]any{"batch": []any{
		map[string]any{"type": "track", "event": "A", "userId": "u", "messageId": "m1"},
		map[string]any{"type": "track", "event": "A", "userId": "u", "messageId": "m1"},
		map[string]any{"type": "track", "userId": "u"},
	}}))
	var after struct{ Sources []SourceCounts }
	ce.must(200, ce.do("GET", "/api/v1/sources/counts", ce.tokens[auth.Admin], nil)).json(t, &after)
	c := after.Sources[0]
	if c.SourceID != ce.src.ID || c.Accepted != 1 || c.Deduplicated != 1 || c.Quarantined != 1 || c.LastEventAt == nil {
		t.Errorf("after a batch of one new, one repeated and one invalid event: %+v", c)
	}
	ce.must(403, ce.do("GET", "/api/v1/sources/counts", ce.tokens[auth.Editor], nil))
}
