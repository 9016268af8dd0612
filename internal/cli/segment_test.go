package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The Segment compatibility test: Segment's own Node library, installed from
// npm into test/segment and changed in nothing but its host, sends every
// call type to 'trek serve', and the customer API must show each event as
// the library sent it. test/segment/send.mjs does the sending; this file
// starts trek and checks what arrived.

// segmentClient finds node and the installed library, or skips: a developer
// without Node can still run the rest of the tests. CI must not skip
// silently, so with CI=true a missing client fails the test.
func segmentClient(t *testing.T) (node, dir string) {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (CI=true, so this test may not be skipped)", msg)
		}
		t.Skipf("skipping the Segment client test: %s", msg)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := ""
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			root = d
			break
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no go.mod above %s", wd)
		}
	}
	dir = filepath.Join(root, "test", "segment")
	node, err = exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@segment", "analytics-node", "package.json")); err != nil {
		missing("@segment/analytics-node is not installed; run: npm ci --prefix test/segment")
	}
	return node, dir
}

// segmentRun is send.mjs's summary of one run.
type segmentRun struct {
	Run     string
	Library struct{ Name, Version string }
	// ClockSkewMs is how far the sender's clock was set off from the real one.
	ClockSkewMs int64
	// RealStart and RealEnd bracket the run on the real (unskewed) clock.
	RealStart, RealEnd time.Time
	Users              struct {
		Ada    struct{ UserID, AnonymousID, Email string }
		Bartek struct{ UserID, PreviousID, AnonymousID, Phone string }
	}
	Requests []struct {
		URL, Authorization, Retry string
		WriteKeyInBody            bool
		SentAt                    time.Time
		MessageIDs                []string
	}
	Statuses []int
	Errors   []json.RawMessage
	Events   []segmentEvent
}

// segmentEvent is an event as it went over the wire, or as trek's timeline
// answers it: the two share the Segment shape.
type segmentEvent struct {
	MessageID         string         `json:"messageId"`
	Type              string         `json:"type"`
	Event             string         `json:"event"`
	Name              string         `json:"name"`
	UserID            string         `json:"userId"`
	AnonymousID       string         `json:"anonymousId"`
	PreviousID        string         `json:"previousId"`
	GroupID           string         `json:"groupId"`
	Channel           string         `json:"channel"`
	Properties        map[string]any `json:"properties"`
	Traits            map[string]any `json:"traits"`
	Context           map[string]any `json:"context"`
	Timestamp         time.Time      `json:"timestamp"`
	OriginalTimestamp time.Time      `json:"originalTimestamp"`
	SentAt            time.Time      `json:"sentAt"`
	ReceivedAt        time.Time      `json:"receivedAt"`
	SourceID          string         `json:"sourceId"`
}

type segmentCustomer struct {
	ID          string
	Identifiers []struct{ Kind, Value string }
	Traits      map[string]any
	EventCount  int
	Merges      []struct {
		Reason  string
		Refused bool
		Cause   struct{ MessageID, Type string }
	}
}

func (c segmentCustomer) has(kind, value string) bool {
	for _, id := range c.Identifiers {
		if id.Kind == kind && id.Value == value {
			return true
		}
	}
	return false
}

func sendWithSegmentLibrary(t *testing.T, node, dir, host, writeKey, run string, skew time.Duration) segmentRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "send.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TREK_HOST="+host, "TREK_WRITE_KEY="+writeKey, "TREK_RUN="+run,
		fmt.Sprintf("TREK_CLOCK_SKEW_MS=%d", skew.Milliseconds()))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node send.mjs: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), stdout.String())
	}
	var sr segmentRun
	if err := json.Unmarshal(stdout.Bytes(), &sr); err != nil {
		t.Fatalf("send.mjs summary: %v\n%s", err, stdout.String())
	}
	return sr
}

func segmentGet(t *testing.T, url, token string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw bytes.Buffer
	raw.ReadFrom(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, raw.String())
	}
	if err := json.Unmarshal(raw.Bytes(), v); err != nil {
		t.Fatalf("GET %s: %v\n%s", url, err, raw.String())
	}
}

// segmentTimeline reads a customer's whole timeline a few events a page, so
// that the cursor is followed too.
func segmentTimeline(t *testing.T, base, token, id string) []segmentEvent {
	t.Helper()
	var all []segmentEvent
	cursor := ""
	for range 100 {
		var page struct {
			Events     []segmentEvent
			NextCursor string
		}
		segmentGet(t, base+"/api/v1/customers/"+url.PathEscape(id)+"/events?limit=3&cursor="+url.QueryEscape(cursor), token, &page)
		all = append(all, page.Events...)
		if page.NextCursor == "" {
			return all
		}
		cursor = page.NextCursor
	}
	t.Fatalf("the timeline of %s did not end after 100 pages", id)
	return nil
}

// sameMap compares JSON objects decoded the same way; absent and empty are
// the same (the library sends "properties": {} for calls without any).
func sameMap(a, b map[string]any) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

func TestTheOfficialSegmentNodeLibrarySendsToTrekChangedOnlyInItsHost(t *testing.T) {
	node, dir := segmentClient(t)
	data := t.TempDir()
	srv := serve(t, data, "--admin-password", "flag-password-123")
	code, out, stderr := run(t, "token", "create", "--data", data, "--name", "segment", "--role", "admin")
	if code != 0 {
		t.Fatalf("token create: %d %s", code, stderr)
	}
	token := strings.TrimSpace(out)

	body, _ := json.Marshal(map[string]string{"name": "Node backend", "channel": "web"})
	req, _ := http.NewRequest("POST", srv.url+"/api/v1/sources", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var src struct{ ID, WriteKey string }
	json.NewDecoder(resp.Body).Decode(&src)
	resp.Body.Close()
	if resp.StatusCode != 201 || src.WriteKey == "" {
		t.Fatalf("create source: %d %+v", resp.StatusCode, src)
	}

	var runs []segmentRun
	for _, c := range []struct {
		name string
		run  string
		skew time.Duration
	}{
		{"with the sender's clock right", "instep", 0},
		{"with the sender's clock three hours slow", "slow", -3 * time.Hour},
		{"with the sender's clock two hours fast", "fast", 2 * time.Hour},
	} {
		t.Run(c.name, func(t *testing.T) {
			sr := sendWithSegmentLibrary(t, node, dir, srv.url, src.WriteKey, c.run, c.skew)
			checkSegmentRun(t, srv.url, token, src.ID, sr)
			runs = append(runs, sr)
		})
	}

	t.Run("a resend of the same messageIds is stored once", func(t *testing.T) {
		first := sendWithSegmentLibrary(t, node, dir, srv.url, src.WriteKey, "resend", 0)
		again := sendWithSegmentLibrary(t, node, dir, srv.url, src.WriteKey, "resend", 0)
		// The library makes a new messageId for the one call that gave none,
		// so exactly one event of the second run is new.
		seen := map[string]bool{}
		for _, e := range first.Events {
			seen[e.MessageID] = true
		}
		fresh := 0
		for _, e := range again.Events {
			if !seen[e.MessageID] {
				fresh++
			}
		}
		if fresh != 1 {
			t.Fatalf("the second run sent %d new messageIds, want 1", fresh)
		}
		counts := map[string]int{}
		for _, id := range []string{again.Users.Ada.UserID, again.Users.Bartek.UserID} {
			for _, e := range segmentTimeline(t, srv.url, token, id) {
				counts[e.MessageID]++
			}
		}
		if len(counts) != 13 {
			t.Errorf("%d distinct events stored, want 12 + 1", len(counts))
		}
		for id, n := range counts {
			if n != 1 {
				t.Errorf("messageId %s stored %d times", id, n)
			}
		}
	})

	// What the library sent must come back the same from disk, not only
	// from the running server's memory.
	t.Run("and after a restart every event is still as sent", func(t *testing.T) {
		if code := srv.stop(); code != 0 {
			t.Fatalf("serve exited with %d:\n%s", code, srv.stderr.String())
		}
		again := serve(t, data)
		for _, sr := range runs {
			checkSegmentRun(t, again.url, token, src.ID, sr)
		}
	})
}

// checkSegmentRun checks through the customer API that every event of one
// send.mjs run arrived as the library sent it.
func checkSegmentRun(t *testing.T, base, token, sourceID string, sr segmentRun) {
	t.Helper()
	if sr.Library.Name != "@segment/analytics-node" || sr.Library.Version == "" {
		t.Errorf("sent with %+v", sr.Library)
	}
	if sr.ClockSkewMs != 0 && len(sr.Events) > 0 {
		// The skew must really have reached what the library sent.
		if d := sr.Events[0].SentAt.Sub(sr.RealStart); d < time.Duration(sr.ClockSkewMs)*time.Millisecond-time.Minute ||
			d > time.Duration(sr.ClockSkewMs)*time.Millisecond+time.Minute {
			t.Fatalf("the library's sentAt %s is not %d ms off the real clock (%s)", sr.Events[0].SentAt, sr.ClockSkewMs, sr.RealStart)
		}
	}

	// What went over the wire: the library's default path, the write key
	// both as the Basic user name and in the body, and every answer a 200.
	if len(sr.Requests) < 3 {
		t.Errorf("%d requests; the 12 events should have gone in batches of 4", len(sr.Requests))
	}
	for _, r := range sr.Requests {
		if !strings.HasSuffix(r.URL, "/v1/batch") || r.Authorization != "Basic" || !r.WriteKeyInBody || r.Retry != "0" {
			t.Errorf("request %+v", r)
		}
	}
	for _, st := range sr.Statuses {
		if st != 200 {
			t.Errorf("trek answered %d (statuses %v)", st, sr.Statuses)
		}
	}
	if len(sr.Errors) != 0 {
		t.Errorf("the library reported delivery errors: %s", sr.Errors)
	}
	types := map[string]int{}
	generated := 0
	for _, e := range sr.Events {
		types[e.Type]++
		if !strings.HasPrefix(e.MessageID, sr.Run+"-") {
			generated++
			if e.MessageID == "" || e.Event != "Order Completed" {
				t.Errorf("unexpected library-made messageId %q on %+v", e.MessageID, e)
			}
		}
	}
	if want := map[string]int{"identify": 2, "track": 5, "page": 1, "screen": 2, "group": 1, "alias": 1}; !reflect.DeepEqual(types, want) {
		t.Fatalf("sent %v, want %v", types, want)
	}
	if generated != 1 {
		t.Errorf("%d messageIds made by the library, want 1", generated)
	}

	// Identity: every identifier of a person finds the same customer. Ada's
	// anonymous browsing joined her by identify; Bartek's legacy and new
	// user ids were joined only by the alias.
	ada, bartek := sr.Users.Ada, sr.Users.Bartek
	phone := strings.ReplaceAll(bartek.Phone, " ", "") // E.164, as trek keeps it
	var adaC, bartekC segmentCustomer
	segmentGet(t, base+"/api/v1/customers/"+url.PathEscape(ada.UserID), token, &adaC)
	segmentGet(t, base+"/api/v1/customers/"+url.PathEscape(bartek.UserID), token, &bartekC)
	if adaC.ID == bartekC.ID {
		t.Fatalf("Ada and Bartek are one customer %s", adaC.ID)
	}
	for _, look := range []struct{ id, want string }{
		{ada.AnonymousID, adaC.ID},
		{ada.Email, adaC.ID}, // as sent: mixed case and a trailing space
		{strings.ToLower(strings.TrimSpace(ada.Email)), adaC.ID},
		{adaC.ID, adaC.ID},
		{bartek.PreviousID, bartekC.ID},
		{bartek.AnonymousID, bartekC.ID},
		{bartek.Phone, bartekC.ID},
		{phone, bartekC.ID},
		{bartekC.ID, bartekC.ID},
	} {
		var c segmentCustomer
		segmentGet(t, base+"/api/v1/customers/"+url.PathEscape(look.id), token, &c)
		if c.ID != look.want {
			t.Errorf("customer of %q is %s, want %s", look.id, c.ID, look.want)
		}
	}
	for _, id := range []struct{ kind, value string }{
		{"userId", ada.UserID}, {"anonymousId", ada.AnonymousID}, {"email", strings.ToLower(strings.TrimSpace(ada.Email))},
	} {
		if !adaC.has(id.kind, id.value) {
			t.Errorf("Ada's identifiers %+v lack %s %s", adaC.Identifiers, id.kind, id.value)
		}
	}
	for _, id := range []struct{ kind, value string }{
		{"userId", bartek.UserID}, {"userId", bartek.PreviousID}, {"anonymousId", bartek.AnonymousID}, {"phone", phone},
	} {
		if !bartekC.has(id.kind, id.value) {
			t.Errorf("Bartek's identifiers %+v lack %s %s", bartekC.Identifiers, id.kind, id.value)
		}
	}
	aliased := false
	for _, m := range bartekC.Merges {
		if !m.Refused && m.Cause.Type == "alias" && m.Cause.MessageID == sr.Run+"-m11" {
			aliased = true
		}
	}
	if !aliased {
		t.Errorf("no merge caused by the alias call in %+v", bartekC.Merges)
	}
	if adaC.EventCount != 7 || bartekC.EventCount != 5 {
		t.Errorf("event counts: Ada %d, Bartek %d; want 7 and 5", adaC.EventCount, bartekC.EventCount)
	}
	if adaC.Traits["plan"] != "pro" || adaC.Traits["name"] != "Ada Nowak" || bartekC.Traits["name"] != "Bartek Zieliński" {
		t.Errorf("traits: Ada %v, Bartek %v", adaC.Traits, bartekC.Traits)
	}

	// Every event, found in its customer's timeline, as the library sent it.
	stored := map[string]segmentEvent{}
	owner := map[string]string{}
	for _, c := range []segmentCustomer{adaC, bartekC} {
		tl := segmentTimeline(t, base, token, c.ID)
		for i, e := range tl {
			if _, dup := stored[e.MessageID]; dup {
				t.Errorf("messageId %s appears twice", e.MessageID)
			}
			stored[e.MessageID], owner[e.MessageID] = e, c.ID
			if i > 0 && e.Timestamp.Before(tl[i-1].Timestamp) {
				t.Errorf("timeline of %s out of time order at %d: %s after %s", c.ID, i, e.Timestamp, tl[i-1].Timestamp)
			}
		}
	}
	const day = 24 * time.Hour
	slack := 2 * time.Second
	for _, sent := range sr.Events {
		got, ok := stored[sent.MessageID]
		if !ok {
			t.Errorf("%s %s (%s) is in no timeline", sent.Type, sent.Event+sent.Name, sent.MessageID)
			continue
		}
		wantOwner := adaC.ID
		if sent.UserID == bartek.UserID || sent.UserID == bartek.PreviousID || sent.AnonymousID == bartek.AnonymousID {
			wantOwner = bartekC.ID
		}
		if owner[sent.MessageID] != wantOwner {
			t.Errorf("%s is filed under %s, want %s", sent.MessageID, owner[sent.MessageID], wantOwner)
		}
		if got.Type != sent.Type || got.Event != sent.Event || got.Name != sent.Name || got.UserID != sent.UserID ||
			got.AnonymousID != sent.AnonymousID || got.PreviousID != sent.PreviousID || got.GroupID != sent.GroupID {
			t.Errorf("%s stored as\n%+v\nsent as\n%+v", sent.MessageID, got, sent)
		}
		if !sameMap(got.Properties, sent.Properties) {
			t.Errorf("%s properties: stored %v, sent %v", sent.MessageID, got.Properties, sent.Properties)
		}
		if (sent.Type == "identify" || sent.Type == "group") && !sameMap(got.Traits, sent.Traits) {
			t.Errorf("%s traits: stored %v, sent %v", sent.MessageID, got.Traits, sent.Traits)
		}
		if lib, _ := got.Context["library"].(map[string]any); lib["name"] != "@segment/analytics-node" {
			t.Errorf("%s context %v lacks the library", sent.MessageID, got.Context)
		}
		if got.SourceID != sourceID || got.Channel != "web" {
			t.Errorf("%s source %s channel %s", sent.MessageID, got.SourceID, got.Channel)
		}

		// Times: the library's timestamp and sentAt are kept as sent, and the
		// event time is corrected by the Spec's rule, which puts it back on
		// the real clock however wrong the sender's clock was.
		if !got.OriginalTimestamp.Equal(sent.Timestamp) || !got.SentAt.Equal(sent.SentAt) {
			t.Errorf("%s original timestamp %s sentAt %s; sent %s and %s", sent.MessageID, got.OriginalTimestamp, got.SentAt, sent.Timestamp, sent.SentAt)
		}
		want := sent.Timestamp.Add(got.ReceivedAt.Sub(sent.SentAt))
		if d := got.Timestamp.Sub(want); d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("%s timestamp %s, want timestamp + (receivedAt − sentAt) = %s", sent.MessageID, got.Timestamp, want)
		}
		if got.ReceivedAt.Before(sr.RealStart.Add(-slack)) || got.ReceivedAt.After(sr.RealEnd.Add(slack)) {
			t.Errorf("%s received at %s, outside the run %s..%s", sent.MessageID, got.ReceivedAt, sr.RealStart, sr.RealEnd)
		}
		lo, hi := sr.RealStart.Add(-slack), sr.RealEnd.Add(slack)
		if sent.Event == "Ad Clicked" { // sent with an explicit time two days back
			lo, hi = lo.Add(-2*day), hi.Add(-2*day)
		}
		if got.Timestamp.Before(lo) || got.Timestamp.After(hi) {
			t.Errorf("%s (%s) has time %s, want it within %s..%s on the real clock (the sender's clock was %d ms off)",
				sent.MessageID, sent.Type, got.Timestamp, lo, hi, sr.ClockSkewMs)
		}
	}
	if len(stored) != len(sr.Events) {
		t.Errorf("the timelines hold %d events; %d were sent", len(stored), len(sr.Events))
	}
}
