// Package metatest is the contract suite for meta.Store. Every
// implementation (the embedded SQLite store now, PostgreSQL later) runs
// the same cases, so that the API behaves the same whichever store is
// behind it and a second backend cannot drift from the first.
package metatest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/trekhq/trek/internal/auth"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/journey"
	"github.com/trekhq/trek/internal/meta"
)

// Run runs the contract against stores made by open. open is called once
// per case, possibly from parallel subtests; it must return an empty store
// of its own and close it when t ends (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) meta.Store) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, open(t))
		})
	}
}

type testCase struct {
	name string
	run  func(t *testing.T, s meta.Store)
}

var cases = []testCase{
	{"workspaces/found by id or by slug", workspaceByIDOrSlug},
	{"workspaces/duplicate slug is a conflict", workspaceDuplicateSlug},
	{"workspaces/listed", workspacesListed},
	{"users/found by id or by name in any case and script", userByIDOrName},
	{"users/duplicate name in another case is a conflict", userDuplicateName},
	{"users/password changed", userSetPassword},
	{"users/counted", usersCounted},
	{"members/role set, changed and removed", membersLifecycle},
	{"members/unknown role is invalid", memberInvalidRole},
	{"tokens/found by hash, listed, touched and deleted", tokensLifecycle},
	{"tokens/another workspace cannot list or delete them", tokensIsolated},
	{"tokens/duplicate hash is a conflict", tokenDuplicateHash},
	{"sessions/found by hash until they expire", sessionsExpire},
	{"sessions/deleted", sessionDeleted},
	{"maps/created as version 1 with id and audit fields", mapCreated},
	{"maps/each update adds the next version", mapVersionNumbering},
	{"maps/update on a stale base is a conflict and changes nothing", mapStaleBase},
	{"maps/concurrent updates on one base: exactly one wins", mapConcurrentSameBase},
	{"maps/concurrent writers never fail", mapConcurrentWriters},
	{"maps/versions are immutable and listed newest first", mapVersionsImmutable},
	{"maps/unknown version is not found", mapUnknownVersion},
	{"maps/another workspace cannot see or change them", mapsIsolated},
	{"maps/delete removes the map and its versions", mapDeleted},
	{"maps/query is case-insensitive in Vietnamese, Greek and Polish", mapQueryUnicode},
	{"maps/query is plain text, not a pattern", mapQueryLiteral},
	{"maps/filtered by kind, persona and tag", mapFilters},
	{"maps/listed newest change first with limit and offset", mapOrderAndPaging},
	{"maps/summary carries counts, personas and tags", mapSummary},
	{"maps/times are UTC with at least millisecond precision", mapTimes},
	{"personas/created, read, listed and updated", personasLifecycle},
	{"personas/delete refused while a current map version names them", personaDeleteInUse},
	{"personas/another workspace cannot see or change them", personasIsolated},
	{"not found/unknown ids", notFoundCases},
	{"sources/created, found by write key, updated, rotated", sourcesLifecycle},
	{"sources/duplicate write key is a conflict", sourceDuplicateKey},
	{"sources/another workspace cannot see or change them", sourcesIsolated},
	{"quarantine/added, listed by status and source, resolved once", quarantineLifecycle},
	{"quarantine/another workspace cannot see or resolve it", quarantineIsolated},
	{"erasures/recorded and listed newest first", erasuresRecorded},
}

// ---- helpers

func ctx(t *testing.T) context.Context { return t.Context() }

// must(f())(t) returns f's value, failing t if f failed. Curried because
// Go passes a multi-value call only as a function's whole argument list.
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		ok(t, err)
		return v
	}
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantCode fails unless err is a fault with code.
func wantCode(t *testing.T, err error, code fault.Code) *fault.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	fe, isFault := fault.As(err)
	if !isFault || fe.Code != code {
		t.Fatalf("got error %v (code %s), want code %s", err, fault.CodeOf(err), code)
	}
	return fe
}

func workspace(t *testing.T, s meta.Store, slug string) meta.Workspace {
	t.Helper()
	return must(s.CreateWorkspace(ctx(t), slug, strings.ToUpper(slug)))(t)
}

func user(t *testing.T, s meta.Store, name string) meta.User {
	t.Helper()
	return must(s.CreateUser(ctx(t), name, "hash-of-"+name))(t)
}

// sampleMap is a small but complete map: two stages, three steps, a
// binding, an emotion, custom lane content.
func sampleMap(name string) journey.Map {
	return journey.Map{
		Name:        name,
		Kind:        journey.CurrentState,
		Description: "How customers buy a policy",
		Goal:        "Buy cover in one sitting",
		Locale:      "en",
		Tags:        []string{"insurance"},
		Lanes:       journey.DefaultLanes(journey.CurrentState),
		Stages: []journey.Stage{
			{ID: "sg_1", Name: "Awareness", Steps: []journey.Step{
				{ID: "sp_1", Name: "Sees an ad", Touchpoints: []journey.Touchpoint{{Channel: "ads", Name: "Search ad"}}},
			}},
			{ID: "sg_2", Name: "Purchase", Steps: []journey.Step{
				{ID: "sp_2", Name: "Gets a quote", Emotion: &journey.Emotion{Score: 1, Note: "quick"},
					Binding: &journey.Binding{Events: []string{"Quote Requested"}, Channel: "web",
						Where: []journey.Filter{{Property: "product", Op: journey.OpEq, Value: "home"}}}},
				{ID: "sp_3", Name: "Pays", PainPoints: []string{"card declined"},
					Custom: map[string][]string{"ln_x": {"note"}}},
			}},
		},
	}
}

func createMap(t *testing.T, s meta.Store, wsID string, m journey.Map) journey.Map {
	t.Helper()
	return must(s.CreateMap(ctx(t), wsID, m, meta.Change{Author: "ana", Message: "first draft"}))(t)
}

// sameJSON compares two values by their JSON form, which is what clients
// see: it ignores nil against empty where the JSON is the same.
func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	ok(t, err)
	w, err := json.Marshal(want)
	ok(t, err)
	if string(g) != string(w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func mapIDs(ms []meta.MapSummary) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

func mapNames(ms []meta.MapSummary) []string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	return names
}

// ---- workspaces

func workspaceByIDOrSlug(t *testing.T, s meta.Store) {
	ws := must(s.CreateWorkspace(ctx(t), "acme", "Acme Bank"))(t)
	if !strings.HasPrefix(ws.ID, "ws_") || ws.Slug != "acme" || ws.Name != "Acme Bank" || ws.CreatedAt.IsZero() {
		t.Fatalf("created workspace %+v", ws)
	}
	for _, key := range []string{ws.ID, "acme"} {
		got := must(s.Workspace(ctx(t), key))(t)
		if got.ID != ws.ID || got.Slug != ws.Slug || got.Name != ws.Name || !got.CreatedAt.Equal(ws.CreatedAt) {
			t.Errorf("Workspace(%q) = %+v, want %+v", key, got, ws)
		}
	}
}

func workspaceDuplicateSlug(t *testing.T, s meta.Store) {
	workspace(t, s, "acme")
	_, err := s.CreateWorkspace(ctx(t), "acme", "Another")
	wantCode(t, err, fault.Conflict)
	if n := len(must(s.Workspaces(ctx(t)))(t)); n != 1 {
		t.Fatalf("%d workspaces after the conflict, want 1", n)
	}
}

func workspacesListed(t *testing.T, s meta.Store) {
	if got := must(s.Workspaces(ctx(t)))(t); len(got) != 0 {
		t.Fatalf("empty store lists %d workspaces", len(got))
	}
	a, b := workspace(t, s, "beta"), workspace(t, s, "alpha")
	var ids []string
	for _, ws := range must(s.Workspaces(ctx(t)))(t) {
		ids = append(ids, ws.ID)
	}
	slices.Sort(ids)
	want := []string{a.ID, b.ID}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Fatalf("Workspaces = %v, want %v", ids, want)
	}
}

// ---- users and members

func userByIDOrName(t *testing.T, s meta.Store) {
	for _, tc := range []struct{ name, lookup string }{
		{"Łucja Wiśniewska", "ŁUCJA WIŚNIEWSKA"},
		{"Trần Thị Hương", "trần thị hương"},
		// Capital sigma must find a final sigma: plain lower-casing
		// turns Σ into σ and misses ς.
		{"Οδυσσέας", "ΟΔΥΣΣΈΑΣ"},
		{"ana", "ANA"},
	} {
		u := user(t, s, tc.name)
		if !strings.HasPrefix(u.ID, "usr_") || u.Name != tc.name || u.PasswordHash != "hash-of-"+tc.name || u.CreatedAt.IsZero() {
			t.Fatalf("created user %+v", u)
		}
		for _, key := range []string{u.ID, tc.name, tc.lookup} {
			got, err := s.User(ctx(t), key)
			if err != nil {
				t.Fatalf("User(%q): %v", key, err)
			}
			if got.ID != u.ID || got.Name != tc.name || got.PasswordHash != u.PasswordHash {
				t.Errorf("User(%q) = %+v, want %+v", key, got, u)
			}
		}
	}
}

func userDuplicateName(t *testing.T, s meta.Store) {
	user(t, s, "Trần Thị Hương")
	for _, name := range []string{"Trần Thị Hương", "TRẦN THỊ HƯƠNG"} {
		_, err := s.CreateUser(ctx(t), name, "x")
		wantCode(t, err, fault.Conflict)
	}
	if n := must(s.CountUsers(ctx(t)))(t); n != 1 {
		t.Fatalf("%d users after the conflicts, want 1", n)
	}
}

func userSetPassword(t *testing.T, s meta.Store) {
	u := user(t, s, "ana")
	ok(t, s.SetPassword(ctx(t), u.ID, "new-hash"))
	if got := must(s.User(ctx(t), u.ID))(t); got.PasswordHash != "new-hash" {
		t.Fatalf("password hash %q after SetPassword", got.PasswordHash)
	}
}

func usersCounted(t *testing.T, s meta.Store) {
	if n := must(s.CountUsers(ctx(t)))(t); n != 0 {
		t.Fatalf("empty store counts %d users", n)
	}
	user(t, s, "ana")
	user(t, s, "bartek")
	if n := must(s.CountUsers(ctx(t)))(t); n != 2 {
		t.Fatalf("CountUsers = %d, want 2", n)
	}
}

func membersLifecycle(t *testing.T, s meta.Store) {
	ws, other := workspace(t, s, "acme"), workspace(t, s, "zeta")
	ana, bob := user(t, s, "ana"), user(t, s, "bob")
	if got := must(s.Members(ctx(t), ws.ID))(t); len(got) != 0 {
		t.Fatalf("new workspace has members %+v", got)
	}
	ok(t, s.SetMember(ctx(t), ws.ID, ana.ID, auth.Viewer))
	ok(t, s.SetMember(ctx(t), ws.ID, bob.ID, auth.Editor))
	ok(t, s.SetMember(ctx(t), other.ID, ana.ID, auth.Admin))
	first := must(s.Members(ctx(t), ws.ID))(t)

	// Changing a role keeps one membership and the date it began.
	ok(t, s.SetMember(ctx(t), ws.ID, ana.ID, auth.Admin))
	members := must(s.Members(ctx(t), ws.ID))(t)
	if len(members) != 2 {
		t.Fatalf("Members = %+v, want ana and bob", members)
	}
	byID := map[string]meta.Member{}
	for _, m := range members {
		byID[m.UserID] = m
	}
	if m := byID[ana.ID]; m.Role != auth.Admin || m.UserName != "ana" || m.Since.IsZero() {
		t.Errorf("ana's membership %+v", m)
	}
	if m := byID[bob.ID]; m.Role != auth.Editor || m.UserName != "bob" {
		t.Errorf("bob's membership %+v", m)
	}
	for _, m := range first {
		if m.UserID == ana.ID && !m.Since.Equal(byID[ana.ID].Since) {
			t.Errorf("role change moved Since from %v to %v", m.Since, byID[ana.ID].Since)
		}
	}

	ms := must(s.Memberships(ctx(t), ana.ID))(t)
	roles := map[string]auth.Role{}
	for _, m := range ms {
		roles[m.Workspace.Slug] = m.Role
		if m.Workspace.ID == "" || m.Workspace.Name == "" {
			t.Errorf("membership workspace %+v is incomplete", m.Workspace)
		}
	}
	if len(ms) != 2 || roles["acme"] != auth.Admin || roles["zeta"] != auth.Admin {
		t.Fatalf("Memberships(ana) = %+v", ms)
	}

	ok(t, s.RemoveMember(ctx(t), ws.ID, ana.ID))
	if got := must(s.Members(ctx(t), ws.ID))(t); len(got) != 1 || got[0].UserID != bob.ID {
		t.Fatalf("Members after removing ana = %+v", got)
	}
	wantCode(t, s.RemoveMember(ctx(t), ws.ID, ana.ID), fault.NotFound)
	if got := must(s.Memberships(ctx(t), ana.ID))(t); len(got) != 1 || got[0].Workspace.ID != other.ID {
		t.Fatalf("Memberships(ana) after removal = %+v", got)
	}
	if got := must(s.Memberships(ctx(t), user(t, s, "cleo").ID))(t); len(got) != 0 {
		t.Fatalf("a user without memberships has %+v", got)
	}
}

func memberInvalidRole(t *testing.T, s meta.Store) {
	ws, u := workspace(t, s, "acme"), user(t, s, "ana")
	wantCode(t, s.SetMember(ctx(t), ws.ID, u.ID, auth.Role("owner")), fault.Invalid)
}

// ---- tokens and sessions

func tokensLifecycle(t *testing.T, s meta.Store) {
	ws := workspace(t, s, "acme")
	_, hash := auth.NewSecret(auth.TokenPrefix)
	tok := must(s.CreateToken(ctx(t), meta.Token{Name: "ci", WorkspaceID: ws.ID, Role: auth.Editor, Hash: hash, CreatedBy: "ana"}))(t)
	if !strings.HasPrefix(tok.ID, "tok_") || tok.CreatedAt.IsZero() || tok.LastUsedAt != nil {
		t.Fatalf("created token %+v", tok)
	}
	got := must(s.TokenByHash(ctx(t), hash))(t)
	if got.ID != tok.ID || got.Name != "ci" || got.WorkspaceID != ws.ID || got.Role != auth.Editor ||
		got.Hash != hash || got.CreatedBy != "ana" || !got.CreatedAt.Equal(tok.CreatedAt) || got.LastUsedAt != nil {
		t.Fatalf("TokenByHash = %+v, want %+v", got, tok)
	}
	_, err := s.TokenByHash(ctx(t), auth.HashSecret("trek_pat_unknown"))
	wantCode(t, err, fault.NotFound)

	at := time.Date(2025, 6, 1, 12, 30, 0, 250_000_000, time.UTC)
	ok(t, s.TouchToken(ctx(t), tok.ID, at))
	if got := must(s.TokenByHash(ctx(t), hash))(t); got.LastUsedAt == nil || !got.LastUsedAt.Equal(at) {
		t.Fatalf("LastUsedAt = %v, want %v", got.LastUsedAt, at)
	}

	_, hash2 := auth.NewSecret(auth.TokenPrefix)
	tok2 := must(s.CreateToken(ctx(t), meta.Token{Name: "etl", WorkspaceID: ws.ID, Role: auth.Viewer, Hash: hash2}))(t)
	list := must(s.Tokens(ctx(t), ws.ID))(t)
	if len(list) != 2 {
		t.Fatalf("Tokens = %+v, want 2", list)
	}
	ok(t, s.DeleteToken(ctx(t), ws.ID, tok.ID))
	if list := must(s.Tokens(ctx(t), ws.ID))(t); len(list) != 1 || list[0].ID != tok2.ID {
		t.Fatalf("Tokens after delete = %+v", list)
	}
	_, err = s.TokenByHash(ctx(t), hash)
	wantCode(t, err, fault.NotFound)
	wantCode(t, s.DeleteToken(ctx(t), ws.ID, tok.ID), fault.NotFound)
}

func tokensIsolated(t *testing.T, s meta.Store) {
	a, b := workspace(t, s, "a"), workspace(t, s, "b")
	_, hash := auth.NewSecret(auth.TokenPrefix)
	tok := must(s.CreateToken(ctx(t), meta.Token{Name: "ci", WorkspaceID: a.ID, Role: auth.Admin, Hash: hash}))(t)
	if got := must(s.Tokens(ctx(t), b.ID))(t); len(got) != 0 {
		t.Fatalf("workspace b lists a's tokens: %+v", got)
	}
	wantCode(t, s.DeleteToken(ctx(t), b.ID, tok.ID), fault.NotFound)
	if got := must(s.TokenByHash(ctx(t), hash))(t); got.WorkspaceID != a.ID {
		t.Fatalf("token moved to %s", got.WorkspaceID)
	}
}

func tokenDuplicateHash(t *testing.T, s meta.Store) {
	ws := workspace(t, s, "acme")
	_, hash := auth.NewSecret(auth.TokenPrefix)
	must(s.CreateToken(ctx(t), meta.Token{Name: "one", WorkspaceID: ws.ID, Role: auth.Viewer, Hash: hash}))(t)
	_, err := s.CreateToken(ctx(t), meta.Token{Name: "two", WorkspaceID: ws.ID, Role: auth.Viewer, Hash: hash})
	wantCode(t, err, fault.Conflict)
}

func sessionsExpire(t *testing.T, s meta.Store) {
	u := user(t, s, "ana")
	base := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	_, hash := auth.NewSecret(auth.SessionPrefix)
	sess := meta.Session{Hash: hash, UserID: u.ID, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	ok(t, s.CreateSession(ctx(t), sess))
	for _, tc := range []struct {
		at    time.Time
		valid bool
	}{
		{base, true},
		{base.Add(time.Hour - time.Millisecond), true},
		{base.Add(time.Hour), false}, // gone at the instant it expires
		{base.Add(2 * time.Hour), false},
	} {
		got, err := s.SessionByHash(ctx(t), hash, tc.at)
		if !tc.valid {
			wantCode(t, err, fault.NotFound)
			continue
		}
		ok(t, err)
		if got.Hash != hash || got.UserID != u.ID || !got.CreatedAt.Equal(sess.CreatedAt) || !got.ExpiresAt.Equal(sess.ExpiresAt) {
			t.Fatalf("SessionByHash(%v) = %+v, want %+v", tc.at, got, sess)
		}
	}
	_, err := s.SessionByHash(ctx(t), auth.HashSecret("trek_ses_unknown"), base)
	wantCode(t, err, fault.NotFound)
}

func sessionDeleted(t *testing.T, s meta.Store) {
	u := user(t, s, "ana")
	now := time.Now()
	_, hash := auth.NewSecret(auth.SessionPrefix)
	ok(t, s.CreateSession(ctx(t), meta.Session{Hash: hash, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	must(s.SessionByHash(ctx(t), hash, now))(t)
	ok(t, s.DeleteSession(ctx(t), hash))
	_, err := s.SessionByHash(ctx(t), hash, now)
	wantCode(t, err, fault.NotFound)
}

// ---- maps

func mapCreated(t *testing.T, s meta.Store) {
	ws := workspace(t, s, "acme")
	in := sampleMap("Buying a policy")
	before := time.Now().Add(-time.Second)
	m := must(s.CreateMap(ctx(t), ws.ID, in, meta.Change{Author: "ana", Message: "first draft"}))(t)
	if !strings.HasPrefix(m.ID, "map_") || m.Version != 1 || m.UpdatedBy != "ana" ||
		m.CreatedAt.Before(before) || !m.UpdatedAt.Equal(m.CreatedAt) {
		t.Fatalf("created map: id %q version %d by %q at %v/%v", m.ID, m.Version, m.UpdatedBy, m.CreatedAt, m.UpdatedAt)
	}
	got := must(s.Map(ctx(t), ws.ID, m.ID))(t)
	sameJSON(t, "Map after CreateMap", got, m)
	want := in
	want.ID, want.Version, want.CreatedAt, want.UpdatedAt, want.UpdatedBy = m.ID, 1, m.CreatedAt, m.UpdatedAt, "ana"
	sameJSON(t, "stored document", got, want)

	vs := must(s.Versions(ctx(t), ws.ID, m.ID))(t)
	if len(vs) != 1 || vs[0].Version != 1 || vs[0].Author != "ana" || vs[0].Message != "first draft" ||
		vs[0].Name != "Buying a policy" || !vs[0].CreatedAt.Equal(m.CreatedAt) {
		t.Fatalf("Versions = %+v", vs)
	}
}

func mapVersionNumbering(t *testing.T, s meta.Store) {
	ws := workspace(t, s, "acme")
	m := createMap(t, s, ws.ID, sampleMap("v1"))
	created := m.CreatedAt
	for v := 2; v <= 4; v++ {
		m.Name = fmt.Sprintf("v%d", v)
		next, err := s.UpdateMap(ctx(t), ws.ID, m, v-1, meta.Change{Author: fmt.Sprintf("user%d", v), Message: fmt.Sprintf("edit %d", v)})
		ok(t, err)
		if next.ID != m.ID || next.Version != v || next.UpdatedBy != fmt.Sprintf("user%d", v) ||
			!next.CreatedAt.Equal(created) || next.UpdatedAt.Before(m.UpdatedAt) {
			t.Fatalf("update %d returned id %q version %d by %q created %v updated %v",
				v, next.ID, next.Version, next.UpdatedBy, next.CreatedAt, next.UpdatedAt)
		}
		sameJSON(t, "Map after UpdateMap", must(s.Map(ctx(t), ws.ID, m.ID))(t), next)
		m = next
	}
	vs := must(s.Versions(ctx(t), ws.ID, m.ID))(t)
	var got []string
	for _, v := range vs {
		got = append(got, fmt.Sprintf("%d %s %s %q", v.Version, v.Name, v.Author, v.Message))
	}
	want := []string{`4 v4 user4 "edit 4"`, `3 v3 user3 "edit 3"`, `2 v2 user2 "edit 2"`, `1 v1 ana "first draft"`}
	if !slices.Equal(got, want) {
		t.Fatalf("Versions =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func mapStaleBase(t *testing.T, s meta.Store) {
	ws := workspace(t, s, "acme")
	m := createMap(t, s, ws.ID, sampleMap("Original"))
	m.Name = "Second"
	m2 := must(s.UpdateMap(ctx(t), ws.ID, m, 1, meta.Change{Author: "bob"}))(t)

	stale := m
	stale.Name = "Stale edit"
	for _, base := range []int{1, 3, 0} {
		_, err := s.UpdateMap(ctx(t), ws.ID, stale, base, meta.Change{Author: "cleo"})
		fe := wantCode(t, err, fault.Conflict)
		cur, isSummary := fe.Current.(meta.MapSummary)
		if !isSummary {
			t.Fatalf("conflict's Current is %T, want meta.MapSummary", fe.Current)
		}
		if cur.ID != m.ID || cur.Version != 2 || cur.Name != "Second" || cur.UpdatedBy != "bob" {
			t.Fatalf("conflict's Current = %+v", cur)
		}
	}
	sameJSON(t, "map after refused updates", must(s.Map(ctx(t), ws.ID, m.ID))(t), m2)
	if n := len(must(s.Versions(ctx(t), ws.ID, m.ID))(t)); n != 2 {
		t.Fatalf("%d versions after refused updates, want 2", n)
	}
}

func mapConcurrentSameBase(t *testing.T, s meta.Store) {
	ws := workspace(t, s, "acme")
	m := createMap(t, s, ws.ID, sampleMap("Contended"))
	const n = 12
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			edit := m
			edit.Name = fmt.Sprintf("edit %d", i)
			<-start
			_, errs[i] = s.UpdateMap(ctx(t), ws.ID, edit, 1, meta.Change{Author: fmt.Sprintf("user%d", i)})
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("updates %d and %d both won on base 1", winner, i)
		case err == nil:
			winner = i
		default:
			wantCode(t, err, fault.Conflict)
		}
	}
	if winner < 0 {
		t.Fatal("no update won")
	}
	got := must(s.Map(ctx(t), ws.ID, m.ID))(t)
	if got.Version != 2 || got.Name != fmt.Sprintf("edit %d", winner) {
		t.Fatalf("map is at version %d named %q; want version 2 named \"edit %d\"", got.Version, got.Name, winner)
	}
	if vs := must(s.Versions(ctx(t), ws.ID, m.ID))(t); len(vs) != 2 {
		t.Fatalf("%d versions, want 2", len(vs))
	}
}

// mapConcurrentWriters has many goroutines write at once, each on its own
// maps, with readers beside them: a store that serialises writes badly
// fails here with "database is locked" or a lost write.
func mapConcurrentWriters(t *testing.T, s meta.Store) {
	ws := workspace(t, s, "acme")
	const writers, updates = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*(updates+2)+writers)
	for w := range writers {
		wg.Go(func() {
			m, err := s.CreateMap(ctx(t), ws.ID, sampleMap(fmt.Sprintf("writer %d", w)), meta.Change{Author: "w"})
			if err != nil {
				errs <- err
				return
			}
			for v := 1; v <= updates; v++ {
				m.Description = fmt.Sprintf("update %d", v)
				if m, err = s.UpdateMap(ctx(t), ws.ID, m, v, meta.Change{Author: "w"}); err != nil {
					errs <- err
					return
				}
			}
			if _, err := s.CreatePersona(ctx(t), ws.ID, journey.Persona{Name: fmt.Sprintf("p%d", w)}); err != nil {
				errs <- err
			}
		})
		wg.Go(func() {
			for range updates {
				if _, err := s.Maps(ctx(t), ws.ID, meta.MapFilter{}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	list := must(s.Maps(ctx(t), ws.ID, meta.MapFilter{}))(t)
	if len(list) != writers {
		t.Fatalf("%d maps, want %d", len(list), writers)
	}
	for _, ms := range list {
		if ms.Version != updates+1 {
			t.Errorf("map %q at version %d, want %d", ms.Name, ms.Version, updates+1)
		}
	}
}

func mapVersionsImmutable(t *testing.T, s meta.Store) {
	ws := workspace(t, s, "acme")
	orig := createMap(t, s, ws.ID, sampleMap("Original"))
	m := orig
	m.Name = "Changed"
	m.Description = "rewritten"
	m.Stages = append(slices.Clone(m.Stages), journey.Stage{ID: "sg_3", Name: "Retention", Steps: []journey.Step{}})
	m2 := must(s.UpdateMap(ctx(t), ws.ID, m, 1, meta.Change{Author: "bob", Message: "add retention"}))(t)
	m3 := m2
	m3.Name = "Changed again"
	m3.Stages = m3.Stages[:1]
	must(s.UpdateMap(ctx(t), ws.ID, m3, 2, meta.Change{Author: "cleo"}))(t)

	got, v := must2(s.MapVersion(ctx(t), ws.ID, orig.ID, 1))(t)
	sameJSON(t, "version 1", got, orig)
	if v.Version != 1 || v.Author != "ana" || v.Message != "first draft" || v.Name != "Original" {
		t.Fatalf("version 1 record %+v", v)
	}
	got, v = must2(s.MapVersion(ctx(t), ws.ID, orig.ID, 2))(t)
	sameJSON(t, "version 2", got, m2)
	if got.Version != 2 || got.UpdatedBy != "bob" || v.Version != 2 || v.Message != "add retention" || len(got.Stages) != 3 {
		t.Fatalf("version 2: map version %d by %q with %d stages; record %+v", got.Version, got.UpdatedBy, len(got.Stages), v)
	}
	vs := must(s.Versions(ctx(t), ws.ID, orig.ID))(t)
	if len(vs) != 3 || vs[0].Version != 3 || vs[1].Version != 2 || vs[2].Version != 1 {
		t.Fatalf("Versions not newest first: %+v", vs)
	}
	if !vs[2].CreatedAt.Equal(orig.CreatedAt) {
		t.Fatalf("version 1 created %v, want %v", vs[2].CreatedAt, orig.CreatedAt)
	}
}

func must2[A, B any](a A, b B, err error) func(t *testing.T) (A, B) {
	return func(t *testing.T) (A, B) {
		t.Helper()
		ok(t, err)
		return a, b
	}
}

func mapUnknownVersion(t *testing.T, s meta.Store) {
	ws := workspace(t, s, "acme")
	m := createMap(t, s, ws.ID, sampleMap("Only one"))
	for _, v := range []int{0, 2, -1} {
		_, _, err := s.MapVersion(ctx(t), ws.ID, m.ID, v)
		wantCode(t, err, fault.NotFound)
	}
}

func mapsIsolated(t *testing.T, s meta.Store) {
	a, b := workspace(t, s, "a"), workspace(t, s, "b")
	p := must(s.CreatePersona(ctx(t), a.ID, journey.Persona{Name: "Lan"}))(t)
	in := sampleMap("A's map")
	in.PersonaIDs = []string{p.ID}
	m := createMap(t, s, a.ID, in)

	_, err := s.Map(ctx(t), b.ID, m.ID)
	wantCode(t, err, fault.NotFound)
	_, err = s.UpdateMap(ctx(t), b.ID, m, 1, meta.Change{Author: "mallory"})
	wantCode(t, err, fault.NotFound)
	_, err = s.Versions(ctx(t), b.ID, m.ID)
	wantCode(t, err, fault.NotFound)
	_, _, err = s.MapVersion(ctx(t), b.ID, m.ID, 1)
	wantCode(t, err, fault.NotFound)
	wantCode(t, s.DeleteMap(ctx(t), b.ID, m.ID), fault.NotFound)
	for _, f := range []meta.MapFilter{{}, {PersonaID: p.ID}, {Query: "map"}, {Tag: "insurance"}} {
		if got := must(s.Maps(ctx(t), b.ID, f))(t); len(got) != 0 {
			t.Fatalf("workspace b lists %v with filter %+v", mapNames(got), f)
		}
	}
	// Still whole in its own workspace.
	got := must(s.Map(ctx(t), a.ID, m.ID))(t)
	if got.Version != 1 || got.Name != "A's map" {
		t.Fatalf("a's map became version %d %q", got.Version, got.Name)
	}
}

func mapDeleted(t *testing.T, s meta.Store) {
	ws := workspace(t, s, "acme")
	m := createMap(t, s, ws.ID, sampleMap("Doomed"))
	m.Name = "Doomed v2"
	must(s.UpdateMap(ctx(t), ws.ID, m, 1, meta.Change{Author: "ana"}))(t)
	keep := createMap(t, s, ws.ID, sampleMap("Kept"))

	ok(t, s.DeleteMap(ctx(t), ws.ID, m.ID))
	_, err := s.Map(ctx(t), ws.ID, m.ID)
	wantCode(t, err, fault.NotFound)
	_, err = s.Versions(ctx(t), ws.ID, m.ID)
	wantCode(t, err, fault.NotFound)
	for _, v := range []int{1, 2} {
		_, _, err = s.MapVersion(ctx(t), ws.ID, m.ID, v)
		wantCode(t, err, fault.NotFound)
	}
	if got := mapIDs(must(s.Maps(ctx(t), ws.ID, meta.MapFilter{}))(t)); !slices.Equal(got, []string{keep.ID}) {
		t.Fatalf("Maps after delete = %v, want only %s", got, keep.ID)
	}
	wantCode(t, s.DeleteMap(ctx(t), ws.ID, m.ID), fault.NotFound)
}

func mapQueryUnicode(t *testing.T, s meta.Store) {
	ws := workspace(t, s, "acme")
	mk := func(name, desc, goal string, tags ...string) string {
		m := sampleMap(name)
		m.Description, m.Goal, m.Tags = desc, goal, tags
		return createMap(t, s, ws.ID, m).ID
	}
	vi := mk("Hành trình mua bảo hiểm", "Khách hàng tìm hiểu và mua bảo hiểm nhà", "Mua trong một lần", "Ưu tiên")
	el := mk("Άνοιγμα λογαριασμός", "Ο πελάτης ανοίγει λογαριασμό στην τράπεζα", "Γρήγορη έγκριση")
	pl := mk("Zgłoszenie szkody", "Klient zgłasza szkodę przez aplikację", "Szybka wypłata odszkodowania", "Żółty")
	en := mk("Checkout", "Web checkout", "Pay", "web")

	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"HÀNH TRÌNH", []string{vi}},                         // name, upper case
		{"bảo HIỂM NHÀ", []string{vi}},                       // description, mixed case
		{norm.NFD.String("hành trình"), []string{vi}},        // combining marks against precomposed
		{"ưu TIÊN", []string{vi}},                            // tag
		{"ΤΡΆΠΕΖΑ", []string{el}},                            // description, Greek capitals
		{"ΛΟΓΑΡΙΑΣΜΌΣ", []string{el}},                        // capital sigma against final sigma
		{"έγκριση", []string{el}},                            // goal
		{"ZGŁOSZENIE", []string{pl}},                         // name
		{"WYPŁATA", []string{pl}},                            // goal
		{"żÓŁty", []string{pl}},                              // tag
		{"  checkout  ", []string{en}},                       // surrounding space ignored
		{"", []string{en, pl, el, vi}},                       // empty query filters nothing
		{"no such words", nil},                               //
		{"hành trình checkout", nil},                         // a substring, not words in any order
		{"bảo hiểm\nKhách", nil},                             // fields are not one run of text
		{strings.ToUpper("szkodę przez"), []string{pl}},      // ToUpper of Polish ę
		{strings.ToUpper("λογαριασμό στην"), []string{el}},   //
		{strings.ToUpper("Mua trong một lần"), []string{vi}}, //
	} {
		got := mapIDs(must(s.Maps(ctx(t), ws.ID, meta.MapFilter{Query: tc.query}))(t))
		slices.Sort(got)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("query %q found %v, want %v", tc.query, got, want)
		}
	}
}

func mapQueryLiteral(t *testing.T, s meta.Store) {
	ws := workspace(t, s, "acme")
	pct := createMap(t, s, ws.ID, sampleMap("100% online")).ID
	under := createMap(t, s, ws.ID, sampleMap("snake_case")).ID
	createMap(t, s, ws.ID, sampleMap("1000 online"))
	createMap(t, s, ws.ID, sampleMap("snakeXcase"))
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"100%", []string{pct}},
		{"%", []string{pct}},
		{"e_c", []string{under}},
		{"_", []string{under}},
	} {
		got := mapIDs(must(s.Maps(ctx(t), ws.ID, meta.MapFilter{Query: tc.query}))(t))
		if !slices.Equal(got, tc.want) {
			t.Errorf("query %q found %v, want %v", tc.query, got, tc.want)
		}
	}
}

func mapFilters(t *testing.T, s meta.Store) {
	ws := workspace(t, s, "acme")
	lan := must(s.CreatePersona(ctx(t), ws.ID, journey.Persona{Name: "Lan"}))(t)
	nikos := must(s.CreatePersona(ctx(t), ws.ID, journey.Persona{Name: "Νίκος"}))(t)
	mk := func(name string, kind journey.Kind, personas []string, tags ...string) string {
		m := sampleMap(name)
		m.Kind, m.PersonaIDs, m.Tags = kind, personas, tags
		return createMap(t, s, ws.ID, m).ID
	}
	a := mk("a", journey.CurrentState, []string{lan.ID}, "Onboarding", "Mobile")
	b := mk("b", journey.FutureState, []string{lan.ID, nikos.ID}, "onboarding")
	c := mk("c", journey.ServiceBlueprint, []string{nikos.ID}, "Ώρα αιχμής")
	d := mk("d", journey.CurrentState, nil)

	for _, tc := range []struct {
		name string
		f    meta.MapFilter
		want []string
	}{
		{"no filter", meta.MapFilter{}, []string{a, b, c, d}},
		{"kind", meta.MapFilter{Kind: journey.CurrentState}, []string{a, d}},
		{"kind without maps", meta.MapFilter{Kind: journey.DayInTheLife}, nil},
		{"persona", meta.MapFilter{PersonaID: lan.ID}, []string{a, b}},
		{"second persona of a map", meta.MapFilter{PersonaID: nikos.ID}, []string{b, c}},
		{"unknown persona", meta.MapFilter{PersonaID: "per_unknown"}, nil},
		{"tag in any case", meta.MapFilter{Tag: "ONBOARDING"}, []string{a, b}},
		{"Greek tag in any case", meta.MapFilter{Tag: "ΏΡΑ ΑΙΧΜΉΣ"}, []string{c}},
		{"tag is whole, not a substring", meta.MapFilter{Tag: "board"}, nil},
		{"kind and persona", meta.MapFilter{Kind: journey.FutureState, PersonaID: lan.ID}, []string{b}},
		{"persona and tag", meta.MapFilter{PersonaID: lan.ID, Tag: "mobile"}, []string{a}},
		{"query matches part of a tag", meta.MapFilter{Query: "αιχμ"}, []string{c}},
		{"all of them", meta.MapFilter{Kind: journey.CurrentState, PersonaID: lan.ID, Tag: "onboarding", Query: "a"}, []string{a}},
	} {
		got := mapIDs(must(s.Maps(ctx(t), ws.ID, tc.f))(t))
		slices.Sort(got)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %+v found %v, want %v", tc.name, tc.f, got, want)
		}
	}
}

func mapOrderAndPaging(t *testing.T, s meta.Store) {
	ws := workspace(t, s, "acme")
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	var maps []journey.Map
	for i := range 5 {
		m := must(s.CreateMap(ctx(t), ws.ID, sampleMap(fmt.Sprintf("m%d", i)),
			meta.Change{Author: "ana", At: base.Add(time.Duration(i) * time.Hour)}))(t)
		ids = append(ids, m.ID)
		maps = append(maps, m)
	}
	// Editing the oldest map brings it to the top.
	must(s.UpdateMap(ctx(t), ws.ID, maps[0], 1, meta.Change{Author: "bob", At: base.Add(10 * time.Hour)}))(t)
	order := []string{ids[0], ids[4], ids[3], ids[2], ids[1]}

	for _, tc := range []struct {
		limit, offset int
		want          []string
	}{
		{0, 0, order},
		{2, 0, order[:2]},
		{2, 2, order[2:4]},
		{2, 4, order[4:]},
		{0, 3, order[3:]},
		{10, 0, order},
		{2, 5, nil},
	} {
		got := mapIDs(must(s.Maps(ctx(t), ws.ID, meta.MapFilter{Limit: tc.limit, Offset: tc.offset}))(t))
		if !slices.Equal(got, tc.want) {
			t.Errorf("limit %d offset %d: %v, want %v", tc.limit, tc.offset, got, tc.want)
		}
	}
}

func mapSummary(t *testing.T, s meta.Store) {
	ws := workspace(t, s, "acme")
	in := sampleMap("Summarised")
	in.PersonaIDs = []string{"per_b", "per_a"}
	in.Tags = []string{"Zeta", "alpha"}
	in.Locale = "vi"
	m := createMap(t, s, ws.ID, in)
	list := must(s.Maps(ctx(t), ws.ID, meta.MapFilter{}))(t)
	if len(list) != 1 {
		t.Fatalf("Maps = %+v", list)
	}
	want := meta.MapSummary{
		ID: m.ID, Name: "Summarised", Kind: journey.CurrentState, Description: in.Description,
		PersonaIDs: []string{"per_b", "per_a"}, Tags: []string{"Zeta", "alpha"}, Locale: "vi",
		Version: 1, Stages: 2, Steps: 3, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt, UpdatedBy: "ana",
	}
	sameJSON(t, "summary", list[0], want)

	// A map with no personas or tags lists them as empty arrays, not null.
	bare := sampleMap("Bare")
	bare.Tags = nil
	bare.Stages = nil
	createMap(t, s, ws.ID, bare)
	list = must(s.Maps(ctx(t), ws.ID, meta.MapFilter{Query: "bare"}))(t)
	if len(list) != 1 || list[0].PersonaIDs == nil || list[0].Tags == nil || list[0].Stages != 0 || list[0].Steps != 0 {
		t.Fatalf("bare map summary %+v", list)
	}

	// Counts follow the current version.
	m.Stages = m.Stages[:1]
	must(s.UpdateMap(ctx(t), ws.ID, m, 1, meta.Change{Author: "bob"}))(t)
	list = must(s.Maps(ctx(t), ws.ID, meta.MapFilter{Query: "summarised"}))(t)
	if len(list) != 1 || list[0].Stages != 1 || list[0].Steps != 1 || list[0].Version != 2 || list[0].UpdatedBy != "bob" {
		t.Fatalf("summary after update %+v", list)
	}
}

func mapTimes(t *testing.T, s meta.Store) {
	ws := workspace(t, s, "acme")
	hanoi := time.FixedZone("ICT", 7*60*60)
	at := time.Date(2025, 3, 4, 5, 6, 7, 123_000_000, hanoi)
	m := must(s.CreateMap(ctx(t), ws.ID, sampleMap("Timed"), meta.Change{Author: "ana", At: at}))(t)
	later := at.Add(1500 * time.Millisecond)
	m2 := must(s.UpdateMap(ctx(t), ws.ID, m, 1, meta.Change{Author: "ana", At: later}))(t)
	got := must(s.Map(ctx(t), ws.ID, m.ID))(t)
	v1, _ := must2(s.MapVersion(ctx(t), ws.ID, m.ID, 1))(t)
	vs := must(s.Versions(ctx(t), ws.ID, m.ID))(t)
	sums := must(s.Maps(ctx(t), ws.ID, meta.MapFilter{}))(t)
	for _, tc := range []struct {
		what      string
		got, want time.Time
	}{
		{"CreateMap CreatedAt", m.CreatedAt, at},
		{"CreateMap UpdatedAt", m.UpdatedAt, at},
		{"UpdateMap CreatedAt", m2.CreatedAt, at},
		{"UpdateMap UpdatedAt", m2.UpdatedAt, later},
		{"Map CreatedAt", got.CreatedAt, at},
		{"Map UpdatedAt", got.UpdatedAt, later},
		{"MapVersion(1) UpdatedAt", v1.UpdatedAt, at},
		{"Versions[0]", vs[0].CreatedAt, later},
		{"Versions[1]", vs[1].CreatedAt, at},
		{"summary CreatedAt", sums[0].CreatedAt, at},
		{"summary UpdatedAt", sums[0].UpdatedAt, later},
	} {
		if !tc.got.Equal(tc.want) || tc.got.Location() != time.UTC {
			t.Errorf("%s = %v, want %v in UTC", tc.what, tc.got, tc.want.UTC())
		}
	}
}

// ---- personas

func personasLifecycle(t *testing.T, s meta.Store) {
	ws := workspace(t, s, "acme")
	in := journey.Persona{
		Name: "Trần Thị Lan", Role: "Chủ cửa hàng", Locale: "vi",
		Demographics: map[string]string{"age": "34", "city": "Hà Nội"},
		Goals:        []string{"Bảo vệ cửa hàng"}, Channels: []string{"mobile", "call_centre"},
		Quote: "Tôi không có thời gian", PhotoURL: "https://example.com/lan.jpg",
	}
	p := must(s.CreatePersona(ctx(t), ws.ID, in))(t)
	if !strings.HasPrefix(p.ID, "per_") || p.CreatedAt.IsZero() || !p.UpdatedAt.Equal(p.CreatedAt) {
		t.Fatalf("created persona id %q at %v/%v", p.ID, p.CreatedAt, p.UpdatedAt)
	}
	want := in
	want.ID, want.CreatedAt, want.UpdatedAt = p.ID, p.CreatedAt, p.UpdatedAt
	sameJSON(t, "created persona", p, want)
	sameJSON(t, "Persona", must(s.Persona(ctx(t), ws.ID, p.ID))(t), want)

	other := must(s.CreatePersona(ctx(t), ws.ID, journey.Persona{Name: "Ανδρέας"}))(t)
	list := must(s.Personas(ctx(t), ws.ID))(t)
	if len(list) != 2 {
		t.Fatalf("Personas = %+v", list)
	}

	time.Sleep(2 * time.Millisecond) // so that UpdatedAt must move
	p.Quote = "Nhanh lên"
	p.Goals = nil
	up := must(s.UpdatePersona(ctx(t), ws.ID, p))(t)
	if !up.CreatedAt.Equal(p.CreatedAt) || !up.UpdatedAt.After(p.UpdatedAt) || up.ID != p.ID {
		t.Fatalf("updated persona id %q created %v updated %v (was %v)", up.ID, up.CreatedAt, up.UpdatedAt, p.UpdatedAt)
	}
	sameJSON(t, "Persona after update", must(s.Persona(ctx(t), ws.ID, p.ID))(t), up)
	sameJSON(t, "other persona untouched", must(s.Persona(ctx(t), ws.ID, other.ID))(t), other)

	ok(t, s.DeletePersona(ctx(t), ws.ID, other.ID))
	if list := must(s.Personas(ctx(t), ws.ID))(t); len(list) != 1 || list[0].ID != p.ID {
		t.Fatalf("Personas after delete = %+v", list)
	}
}

func personaDeleteInUse(t *testing.T, s meta.Store) {
	ws := workspace(t, s, "acme")
	lan := must(s.CreatePersona(ctx(t), ws.ID, journey.Persona{Name: "Lan"}))(t)
	other := must(s.CreatePersona(ctx(t), ws.ID, journey.Persona{Name: "Bartek"}))(t)
	in := sampleMap("Zakup polisy")
	in.PersonaIDs = []string{other.ID, lan.ID}
	m := createMap(t, s, ws.ID, in)
	in2 := sampleMap("Onboarding")
	in2.PersonaIDs = []string{lan.ID}
	m2 := createMap(t, s, ws.ID, in2)
	createMap(t, s, ws.ID, sampleMap("Unrelated"))

	fe := wantCode(t, s.DeletePersona(ctx(t), ws.ID, lan.ID), fault.Conflict)
	for _, name := range []string{"Zakup polisy", "Onboarding"} {
		if !strings.Contains(fe.Message, name) {
			t.Errorf("conflict %q does not name map %q", fe.Message, name)
		}
	}
	if strings.Contains(fe.Message, "Unrelated") {
		t.Errorf("conflict %q names a map that does not use the persona", fe.Message)
	}
	must(s.Persona(ctx(t), ws.ID, lan.ID))(t)

	// Only current versions count: once no map names the persona any
	// more, it can go, though old versions still name it.
	m.PersonaIDs = []string{other.ID}
	must(s.UpdateMap(ctx(t), ws.ID, m, 1, meta.Change{Author: "ana"}))(t)
	fe = wantCode(t, s.DeletePersona(ctx(t), ws.ID, lan.ID), fault.Conflict)
	if strings.Contains(fe.Message, "Zakup polisy") || !strings.Contains(fe.Message, "Onboarding") {
		t.Errorf("conflict %q should name only Onboarding", fe.Message)
	}
	ok(t, s.DeleteMap(ctx(t), ws.ID, m2.ID))
	ok(t, s.DeletePersona(ctx(t), ws.ID, lan.ID))
	_, err := s.Persona(ctx(t), ws.ID, lan.ID)
	wantCode(t, err, fault.NotFound)
	old, _ := must2(s.MapVersion(ctx(t), ws.ID, m.ID, 1))(t)
	if !slices.Contains(old.PersonaIDs, lan.ID) {
		t.Fatalf("version 1 lost its persona: %v", old.PersonaIDs)
	}
}

func personasIsolated(t *testing.T, s meta.Store) {
	a, b := workspace(t, s, "a"), workspace(t, s, "b")
	p := must(s.CreatePersona(ctx(t), a.ID, journey.Persona{Name: "Lan"}))(t)
	_, err := s.Persona(ctx(t), b.ID, p.ID)
	wantCode(t, err, fault.NotFound)
	if got := must(s.Personas(ctx(t), b.ID))(t); len(got) != 0 {
		t.Fatalf("workspace b lists %+v", got)
	}
	edit := p
	edit.Name = "Hijacked"
	_, err = s.UpdatePersona(ctx(t), b.ID, edit)
	wantCode(t, err, fault.NotFound)
	wantCode(t, s.DeletePersona(ctx(t), b.ID, p.ID), fault.NotFound)
	if got := must(s.Persona(ctx(t), a.ID, p.ID))(t); got.Name != "Lan" {
		t.Fatalf("persona renamed to %q from another workspace", got.Name)
	}
	// A map in b naming a's persona does not pin it in a.
	in := sampleMap("B's map")
	in.PersonaIDs = []string{p.ID}
	createMap(t, s, b.ID, in)
	ok(t, s.DeletePersona(ctx(t), a.ID, p.ID))
}

// ---- not found

func notFoundCases(t *testing.T, s meta.Store) {
	ws := workspace(t, s, "acme")
	u := user(t, s, "ana")
	m := createMap(t, s, ws.ID, sampleMap("Known"))
	const (
		noWS   = "ws_000000000000"
		noUser = "usr_000000000000"
		noMap  = "map_000000000000"
		noPer  = "per_000000000000"
		noTok  = "tok_000000000000"
	)
	unknownMap := sampleMap("Ghost")
	unknownMap.ID = noMap
	now := time.Now()
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"Workspace by id", func() error { _, err := s.Workspace(ctx(t), noWS); return err }},
		{"Workspace by slug", func() error { _, err := s.Workspace(ctx(t), "nope"); return err }},
		{"User by id", func() error { _, err := s.User(ctx(t), noUser); return err }},
		{"User by name", func() error { _, err := s.User(ctx(t), "nobody"); return err }},
		{"SetPassword", func() error { return s.SetPassword(ctx(t), noUser, "h") }},
		{"SetMember unknown workspace", func() error { return s.SetMember(ctx(t), noWS, u.ID, auth.Viewer) }},
		{"SetMember unknown user", func() error { return s.SetMember(ctx(t), ws.ID, noUser, auth.Viewer) }},
		{"RemoveMember not a member", func() error { return s.RemoveMember(ctx(t), ws.ID, u.ID) }},
		{"Members", func() error { _, err := s.Members(ctx(t), noWS); return err }},
		{"Memberships", func() error { _, err := s.Memberships(ctx(t), noUser); return err }},
		{"CreateToken unknown workspace", func() error {
			_, err := s.CreateToken(ctx(t), meta.Token{Name: "x", WorkspaceID: noWS, Role: auth.Viewer, Hash: "h"})
			return err
		}},
		{"TokenByHash", func() error { _, err := s.TokenByHash(ctx(t), "nohash"); return err }},
		{"Tokens", func() error { _, err := s.Tokens(ctx(t), noWS); return err }},
		{"DeleteToken", func() error { return s.DeleteToken(ctx(t), ws.ID, noTok) }},
		{"TouchToken", func() error { return s.TouchToken(ctx(t), noTok, now) }},
		{"CreateSession unknown user", func() error {
			return s.CreateSession(ctx(t), meta.Session{Hash: "h", UserID: noUser, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
		}},
		{"SessionByHash", func() error { _, err := s.SessionByHash(ctx(t), "nohash", now); return err }},
		{"DeleteSession", func() error { return s.DeleteSession(ctx(t), "nohash") }},
		{"CreateMap unknown workspace", func() error {
			_, err := s.CreateMap(ctx(t), noWS, sampleMap("x"), meta.Change{Author: "ana"})
			return err
		}},
		{"Map", func() error { _, err := s.Map(ctx(t), ws.ID, noMap); return err }},
		{"Maps unknown workspace", func() error { _, err := s.Maps(ctx(t), noWS, meta.MapFilter{}); return err }},
		{"UpdateMap", func() error {
			_, err := s.UpdateMap(ctx(t), ws.ID, unknownMap, 1, meta.Change{Author: "ana"})
			return err
		}},
		{"DeleteMap", func() error { return s.DeleteMap(ctx(t), ws.ID, noMap) }},
		{"Versions", func() error { _, err := s.Versions(ctx(t), ws.ID, noMap); return err }},
		{"MapVersion unknown map", func() error { _, _, err := s.MapVersion(ctx(t), ws.ID, noMap, 1); return err }},
		{"MapVersion unknown version", func() error { _, _, err := s.MapVersion(ctx(t), ws.ID, m.ID, 7); return err }},
		{"CreatePersona unknown workspace", func() error {
			_, err := s.CreatePersona(ctx(t), noWS, journey.Persona{Name: "x"})
			return err
		}},
		{"Persona", func() error { _, err := s.Persona(ctx(t), ws.ID, noPer); return err }},
		{"Personas unknown workspace", func() error { _, err := s.Personas(ctx(t), noWS); return err }},
		{"UpdatePersona", func() error {
			_, err := s.UpdatePersona(ctx(t), ws.ID, journey.Persona{ID: noPer, Name: "x"})
			return err
		}},
		{"DeletePersona", func() error { return s.DeletePersona(ctx(t), ws.ID, noPer) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, tc.call(), fault.NotFound)
		})
	}
}

// ---- sources, quarantine, erasures

func sourcesLifecycle(t *testing.T, s meta.Store) {
	ws := workspace(t, s, "acme")
	src, err := s.CreateSource(ctx(t), ws.ID, meta.Source{Name: "Web shop", Channel: "web", WriteKey: "wk_one"})
	if err != nil {
		t.Fatal(err)
	}
	if src.ID == "" || src.WorkspaceID != ws.ID || src.CreatedAt.IsZero() || src.Disabled {
		t.Fatalf("created %+v", src)
	}
	got, err := s.SourceByWriteKey(ctx(t), "wk_one")
	if err != nil || got.ID != src.ID {
		t.Fatalf("by write key: %+v %v", got, err)
	}
	src.Name, src.Disabled = "Sklep", true
	upd, err := s.UpdateSource(ctx(t), ws.ID, src)
	if err != nil || upd.Name != "Sklep" || !upd.Disabled || upd.WriteKey != "wk_one" {
		t.Fatalf("update: %+v %v", upd, err)
	}
	rot, err := s.RotateWriteKey(ctx(t), ws.ID, src.ID, "wk_two")
	if err != nil || rot.WriteKey != "wk_two" || rot.RotatedAt == nil {
		t.Fatalf("rotate: %+v %v", rot, err)
	}
	if _, err := s.SourceByWriteKey(ctx(t), "wk_one"); fault.CodeOf(err) != fault.NotFound {
		t.Errorf("old key still works: %v", err)
	}
	list, err := s.Sources(ctx(t), ws.ID)
	if err != nil || len(list) != 1 || list[0].WriteKey != "wk_two" {
		t.Errorf("list: %+v %v", list, err)
	}
	if _, err := s.CreateSource(ctx(t), ws.ID, meta.Source{Name: "", Channel: "web", WriteKey: "k"}); fault.CodeOf(err) != fault.Invalid {
		t.Errorf("nameless source: %v", err)
	}
}

func sourceDuplicateKey(t *testing.T, s meta.Store) {
	a, b := workspace(t, s, "acme"), workspace(t, s, "beta")
	if _, err := s.CreateSource(ctx(t), a.ID, meta.Source{Name: "A", Channel: "web", WriteKey: "same"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateSource(ctx(t), b.ID, meta.Source{Name: "B", Channel: "web", WriteKey: "same"}); fault.CodeOf(err) != fault.Conflict {
		t.Errorf("duplicate write key: %v", err)
	}
}

func sourcesIsolated(t *testing.T, s meta.Store) {
	a, b := workspace(t, s, "acme"), workspace(t, s, "beta")
	src, err := s.CreateSource(ctx(t), a.ID, meta.Source{Name: "A", Channel: "web", WriteKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Source(ctx(t), b.ID, src.ID); fault.CodeOf(err) != fault.NotFound {
		t.Errorf("read across workspaces: %v", err)
	}
	if _, err := s.RotateWriteKey(ctx(t), b.ID, src.ID, "k2"); fault.CodeOf(err) != fault.NotFound {
		t.Errorf("rotate across workspaces: %v", err)
	}
	src.Name = "stolen"
	if _, err := s.UpdateSource(ctx(t), b.ID, src); fault.CodeOf(err) != fault.NotFound {
		t.Errorf("update across workspaces: %v", err)
	}
	if list, _ := s.Sources(ctx(t), b.ID); len(list) != 0 {
		t.Errorf("other workspace lists %d sources", len(list))
	}
}

func quarantineLifecycle(t *testing.T, s meta.Store) {
	ws := workspace(t, s, "acme")
	items, err := s.AddQuarantine(ctx(t), []meta.QuarantineItem{
		{WorkspaceID: ws.ID, SourceID: "src_a", Reason: "no identifier", Raw: []byte(`{"event":"x"}`)},
		{WorkspaceID: ws.ID, SourceID: "src_b", Reason: "bad time", Raw: []byte(`{"timestamp":"then"}`)},
	})
	if err != nil || len(items) != 2 || items[0].ID == "" || items[0].Status != meta.QuarantineOpen {
		t.Fatalf("add: %+v %v", items, err)
	}
	open, err := s.QuarantineItems(ctx(t), ws.ID, meta.QuarantineFilter{Status: meta.QuarantineOpen})
	if err != nil || len(open) != 2 {
		t.Fatalf("open: %d %v", len(open), err)
	}
	bySource, _ := s.QuarantineItems(ctx(t), ws.ID, meta.QuarantineFilter{SourceID: "src_b"})
	if len(bySource) != 1 || string(bySource[0].Raw) != `{"timestamp":"then"}` {
		t.Errorf("by source: %+v", bySource)
	}
	if err := s.ResolveQuarantine(ctx(t), ws.ID, items[0].ID, meta.QuarantineReplayed, "ana"); err != nil {
		t.Fatal(err)
	}
	if err := s.ResolveQuarantine(ctx(t), ws.ID, items[0].ID, meta.QuarantineDiscarded, "ana"); fault.CodeOf(err) != fault.Conflict {
		t.Errorf("resolved twice: %v", err)
	}
	if err := s.ResolveQuarantine(ctx(t), ws.ID, items[1].ID, "open", "ana"); fault.CodeOf(err) != fault.Invalid {
		t.Errorf("resolve as open: %v", err)
	}
	it, err := s.QuarantineItem(ctx(t), ws.ID, items[0].ID)
	if err != nil || it.Status != meta.QuarantineReplayed || it.ResolvedBy != "ana" || it.ResolvedAt == nil {
		t.Errorf("resolved item: %+v %v", it, err)
	}
	open, _ = s.QuarantineItems(ctx(t), ws.ID, meta.QuarantineFilter{Status: meta.QuarantineOpen})
	if len(open) != 1 {
		t.Errorf("%d open after resolving one of two", len(open))
	}
	other := workspace(t, s, "other")
	if n, err := s.DeleteQuarantine(ctx(t), other.ID, []string{items[0].ID}); err != nil || n != 0 {
		t.Errorf("delete across workspaces: %d %v", n, err)
	}
	if n, err := s.DeleteQuarantine(ctx(t), ws.ID, []string{items[0].ID, items[1].ID, "qr_unknown"}); err != nil || n != 2 {
		t.Errorf("delete: %d %v", n, err)
	}
	if all, _ := s.QuarantineItems(ctx(t), ws.ID, meta.QuarantineFilter{}); len(all) != 0 {
		t.Errorf("%d left after delete", len(all))
	}
}

func quarantineIsolated(t *testing.T, s meta.Store) {
	a, b := workspace(t, s, "acme"), workspace(t, s, "beta")
	items, err := s.AddQuarantine(ctx(t), []meta.QuarantineItem{{WorkspaceID: a.ID, Reason: "r", Raw: []byte("{}")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.QuarantineItem(ctx(t), b.ID, items[0].ID); fault.CodeOf(err) != fault.NotFound {
		t.Errorf("read across workspaces: %v", err)
	}
	if err := s.ResolveQuarantine(ctx(t), b.ID, items[0].ID, meta.QuarantineDiscarded, "x"); fault.CodeOf(err) != fault.NotFound {
		t.Errorf("resolve across workspaces: %v", err)
	}
	if list, _ := s.QuarantineItems(ctx(t), b.ID, meta.QuarantineFilter{}); len(list) != 0 {
		t.Errorf("other workspace lists %d items", len(list))
	}
}

func erasuresRecorded(t *testing.T, s meta.Store) {
	ws := workspace(t, s, "acme")
	first, err := s.RecordErasure(ctx(t), ws.ID, meta.Erasure{CustomerID: "cus_1", Identifiers: 3, Events: 10, By: "admin", At: time.Now().Add(-time.Hour)})
	if err != nil || first.ID == "" {
		t.Fatalf("record: %+v %v", first, err)
	}
	if _, err := s.RecordErasure(ctx(t), ws.ID, meta.Erasure{CustomerID: "cus_2", Identifiers: 1, Events: 0, By: "admin"}); err != nil {
		t.Fatal(err)
	}
	list, err := s.Erasures(ctx(t), ws.ID)
	if err != nil || len(list) != 2 || list[0].CustomerID != "cus_2" || list[1].Events != 10 {
		t.Errorf("list: %+v %v", list, err)
	}
}
