package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/trekhq/trek/internal/auth"
	"github.com/trekhq/trek/internal/journey"
	"github.com/trekhq/trek/internal/meta"
)

// fixtures makes one map and one persona so that routes with ids reach
// their handlers, and returns a path for a route pattern.
func (e *env) fixtures() func(pattern string) string {
	e.t.Helper()
	ctx := context.Background()
	per, err := e.store.CreatePersona(ctx, e.ws.ID, journey.Persona{Name: "Anna"})
	if err != nil {
		e.t.Fatal(err)
	}
	m := journey.Map{Name: "Fixture", Kind: journey.CurrentState, Stages: []journey.Stage{{ID: "s1", Name: "S", Steps: []journey.Step{{ID: "p1", Name: "P"}}}}}
	journey.Normalize(&m)
	created, err := e.store.CreateMap(ctx, e.ws.ID, m, meta.Change{Author: "test"})
	if err != nil {
		e.t.Fatal(err)
	}
	return func(pattern string) string {
		r := strings.NewReplacer("{id}", created.ID, "{version}", "1", "{name}", "nobody-here")
		p := r.Replace(pattern)
		if strings.HasPrefix(pattern, "/api/v1/personas/") {
			p = strings.Replace(pattern, "{id}", per.ID, 1)
		}
		if strings.HasPrefix(pattern, "/api/v1/tokens/") {
			p = strings.Replace(pattern, "{id}", "tok_unknown", 1)
		}
		if strings.HasPrefix(pattern, "/api/v1/templates/") {
			p = strings.Replace(pattern, "{id}", "retail-online-purchase", 1)
		}
		return p
	}
}

func TestEveryRouteRefusesMissingOrBadCredentials(t *testing.T) {
	e := newEnv(t)
	path := e.fixtures()
	for _, rt := range e.srv.routes {
		if rt.access == public {
			continue
		}
		t.Run(rt.method+" "+rt.pattern, func(t *testing.T) {
			for name, hdr := range map[string][]string{
				"no credentials":   nil,
				"unknown token":    {"Authorization", "Bearer trek_pat_forged"},
				"malformed header": {"Authorization", "Basic YWRtaW46YWRtaW4="},
				"unknown cookie":   {"Cookie", SessionCookie + "=trek_ses_forged"},
			} {
				r := e.do(rt.method, path(rt.pattern), "", "{}", hdr...)
				if r.status != http.StatusUnauthorized {
					t.Errorf("%s: status %d, want 401; body %s", name, r.status, r.body)
				}
				if r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s: 401 without WWW-Authenticate", name)
				}
			}
		})
	}
}

func TestEveryRouteAllowsItsRoleAndRefusesLowerOnes(t *testing.T) {
	e := newEnv(t)
	path := e.fixtures()
	roles := []auth.Role{auth.Viewer, auth.Editor, auth.Admin}
	for _, rt := range e.srv.routes {
		if rt.access == public || rt.access == authenticated {
			continue
		}
		t.Run(rt.method+" "+rt.pattern, func(t *testing.T) {
			for _, r := range roles {
				// An empty object: enough to get past authorisation, and
				// harmless to every route that would change something.
				rep := e.do(rt.method, path(rt.pattern), e.tokens[r], "{}")
				allowed := r.Allows(rt.access.role())
				switch {
				case allowed && (rep.status == 401 || rep.status == 403):
					t.Errorf("%s: refused with %d; body %s", r, rep.status, rep.body)
				case !allowed && rep.status != 403:
					t.Errorf("%s: status %d, want 403; body %s", r, rep.status, rep.body)
				case !allowed && !strings.Contains(rep.errorOf(t).Message, string(rt.access.role())):
					t.Errorf("%s: the 403 does not say which role is needed: %s", r, rep.body)
				}
			}
		})
	}
}

func TestAuthenticatedRoutesAcceptAnyRole(t *testing.T) {
	e := newEnv(t)
	for _, r := range []auth.Role{auth.Viewer, auth.Editor, auth.Admin} {
		var me meResponse
		e.must(200, e.do("GET", "/api/v1/me", e.tokens[r], nil)).json(t, &me)
		if me.Token == nil || me.Token.Role != r || len(me.Memberships) != 1 || me.Memberships[0].Workspace.Slug != "default" {
			t.Errorf("%s: /me = %+v", r, me)
		}
		e.must(200, e.do("GET", "/api/v1/workspaces", e.tokens[r], nil))
	}
}

func TestTokensOfOneWorkspaceCannotSeeAnother(t *testing.T) {
	e := newEnv(t)
	path := e.fixtures()
	for _, p := range []string{"/api/v1/maps/{id}", "/api/v1/maps/{id}/versions", "/api/v1/personas/{id}"} {
		e.must(404, e.do("GET", path(p), e.otherAdmin, nil))
	}
	var list struct{ Maps []meta.MapSummary }
	e.must(200, e.do("GET", "/api/v1/maps", e.otherAdmin, nil)).json(t, &list)
	if len(list.Maps) != 0 {
		t.Errorf("other workspace lists %d maps", len(list.Maps))
	}
	e.must(404, e.do("DELETE", path("/api/v1/maps/{id}"), e.otherAdmin, nil))
	e.must(200, e.do("GET", path("/api/v1/maps/{id}"), e.tokens[auth.Viewer], nil))
}

// login logs a user in and returns the session cookie.
func (e *env) login(name, password string) (reply, *http.Cookie) {
	e.t.Helper()
	r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"name": name, "password": password})
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == SessionCookie {
			return r, c
		}
	}
	return r, nil
}

func TestLoginSetsAHardenedSessionCookieAndLogoutEndsIt(t *testing.T) {
	e := newEnv(t)
	e.user("maria", auth.Editor)
	r, c := e.login("maria", testPassword)
	e.must(200, r)
	if c == nil {
		t.Fatal("no session cookie")
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || !c.Secure {
		t.Errorf("cookie not hardened: HttpOnly=%v SameSite=%v Secure=%v", c.HttpOnly, c.SameSite, c.Secure)
	}
	cookie := []string{"Cookie", SessionCookie + "=" + c.Value}
	var me meResponse
	e.must(200, e.do("GET", "/api/v1/me", "", nil, cookie...)).json(t, &me)
	if me.User == nil || me.User.Name != "maria" || len(me.Memberships) != 1 || me.Memberships[0].Role != auth.Editor {
		t.Fatalf("/me = %s", r.body)
	}
	if strings.Contains(string(e.do("GET", "/api/v1/me", "", nil, cookie...).body), "argon2") {
		t.Error("/me leaks the password hash")
	}
	// An editor may write maps with the cookie from the same origin.
	e.must(201, e.do("POST", "/api/v1/maps", "", blankMap("Cookie map"), append(cookie, "Sec-Fetch-Site", "same-origin")...))
	e.must(204, e.do("POST", "/api/v1/auth/logout", "", nil, cookie...))
	e.must(401, e.do("GET", "/api/v1/me", "", nil, cookie...))
}

func TestLoginRefusesWrongPasswordsAndUnknownUsersAlike(t *testing.T) {
	e := newEnv(t)
	e.user("maria", auth.Viewer)
	r1, c1 := e.login("maria", "wrong password!")
	r2, c2 := e.login("nobody", testPassword)
	if r1.status != 401 || r2.status != 401 || c1 != nil || c2 != nil {
		t.Fatalf("statuses %d %d", r1.status, r2.status)
	}
	if r1.errorOf(t).Message != r2.errorOf(t).Message {
		t.Errorf("messages differ, revealing which users exist: %q vs %q", r1.errorOf(t).Message, r2.errorOf(t).Message)
	}
}

func TestCookieWritesFromAnotherSiteAreRefused(t *testing.T) {
	e := newEnv(t)
	e.user("maria", auth.Admin)
	_, c := e.login("maria", testPassword)
	cookie := []string{"Cookie", SessionCookie + "=" + c.Value}
	for name, hdr := range map[string][]string{
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site", "cross-site"},
		"foreign Origin":            {"Origin", "https://evil.example"},
	} {
		r := e.do("POST", "/api/v1/maps", "", blankMap("Forged"), append(cookie, hdr...)...)
		if r.status != 403 {
			t.Errorf("%s: status %d, want 403", name, r.status)
		}
	}
	var list struct{ Maps []meta.MapSummary }
	e.must(200, e.do("GET", "/api/v1/maps", e.tokens[auth.Viewer], nil)).json(t, &list)
	if len(list.Maps) != 0 {
		t.Errorf("a forged request stored a map")
	}
	// A cross-site login is refused too (login CSRF).
	r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"name": "maria", "password": testPassword}, "Sec-Fetch-Site", "cross-site")
	if r.status != 403 {
		t.Errorf("cross-site login: status %d, want 403", r.status)
	}
	// Bearer tokens are not sent by browsers on their own, so they are exempt.
	e.must(201, e.do("POST", "/api/v1/maps", e.tokens[auth.Editor], blankMap("Token map"), "Origin", "https://ci.example"))
}

func TestSessionUserPicksWorkspaceByHeaderAndOnlyTheirOwn(t *testing.T) {
	e := newEnv(t)
	u := e.user("maria", auth.Viewer)
	if err := e.store.SetMember(context.Background(), e.other.ID, u.ID, auth.Admin); err != nil {
		t.Fatal(err)
	}
	_, c := e.login("maria", testPassword)
	cookie := []string{"Cookie", SessionCookie + "=" + c.Value}
	e.must(403, e.do("GET", "/api/v1/members", "", nil, cookie...)) // viewer in default, the first
	e.must(200, e.do("GET", "/api/v1/members", "", nil, append(cookie, WorkspaceHeader, "other")...))
	r := e.must(403, e.do("GET", "/api/v1/maps", "", nil, append(cookie, WorkspaceHeader, "nowhere")...))
	if !strings.Contains(r.errorOf(t).Message, "nowhere") {
		t.Errorf("message does not name the workspace: %s", r.body)
	}
}

func TestLoginAttemptsAreRateLimited(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LoginRate = rate.Every(time.Hour); c.LoginBurst = 3 })
	for i := 0; i < 3; i++ {
		e.must(401, e.do("POST", "/api/v1/auth/login", "", map[string]string{"name": "x", "password": "yyyyyyyyyyyy"}))
	}
	r := e.must(429, e.do("POST", "/api/v1/auth/login", "", map[string]string{"name": "x", "password": "yyyyyyyyyyyy"}))
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}

func TestExpiredSessionsAreRefused(t *testing.T) {
	now := time.Now()
	e := newEnv(t, func(c *Config) { c.Now = func() time.Time { return now } })
	e.user("maria", auth.Viewer)
	_, c := e.login("maria", testPassword)
	now = now.Add(DefaultSessionTTL + time.Minute)
	e.must(401, e.do("GET", "/api/v1/me", "", nil, "Cookie", SessionCookie+"="+c.Value))
}

func TestAdminsManageMembersAndTokens(t *testing.T) {
	e := newEnv(t)
	admin := e.tokens[auth.Admin]
	e.must(201, e.do("PUT", "/api/v1/members/kostas", admin, map[string]string{"role": "editor", "password": "a long enough password"}))
	r := e.do("PUT", "/api/v1/members/jan", admin, map[string]string{"role": "editor"})
	if r.status != 400 || r.errorOf(t).Fields[0].Path != "password" {
		t.Errorf("new member without password: %d %s", r.status, r.body)
	}
	e.must(200, e.do("PUT", "/api/v1/members/kostas", admin, map[string]string{"role": "viewer"}))
	rl, _ := e.login("kostas", "a long enough password")
	e.must(200, rl)

	var created tokenResponse
	e.must(201, e.do("POST", "/api/v1/tokens", admin, map[string]string{"name": "ci", "role": "viewer"})).json(t, &created)
	if !strings.HasPrefix(created.Secret, auth.TokenPrefix) {
		t.Fatalf("token %q", created.Secret)
	}
	e.must(200, e.do("GET", "/api/v1/maps", created.Secret, nil))
	list := e.must(200, e.do("GET", "/api/v1/tokens", admin, nil))
	if strings.Contains(string(list.body), created.Secret) || strings.Contains(string(list.body), auth.HashSecret(created.Secret)) {
		t.Error("token listing reveals a secret or its hash")
	}
	e.must(204, e.do("DELETE", "/api/v1/tokens/"+created.ID, admin, nil))
	e.must(401, e.do("GET", "/api/v1/maps", created.Secret, nil))
}

func TestTheLastAdminCannotBeRemovedOrDemoted(t *testing.T) {
	e := newEnv(t)
	e.user("solo", auth.Admin)
	admin := e.tokens[auth.Admin]
	e.must(409, e.do("PUT", "/api/v1/members/solo", admin, map[string]string{"role": "viewer"}))
	e.must(409, e.do("DELETE", "/api/v1/members/solo", admin, nil))
	e.user("second", auth.Admin)
	e.must(204, e.do("DELETE", "/api/v1/members/solo", admin, nil))
}

func TestUsersCreateWorkspacesAndBecomeTheirAdmins(t *testing.T) {
	e := newEnv(t)
	e.user("maria", auth.Viewer)
	_, c := e.login("maria", testPassword)
	cookie := []string{"Cookie", SessionCookie + "=" + c.Value}
	e.must(201, e.do("POST", "/api/v1/workspaces", "", map[string]string{"slug": "acme", "name": "Acme"}, cookie...))
	e.must(200, e.do("GET", "/api/v1/members", "", nil, append(cookie, WorkspaceHeader, "acme")...))
	e.must(409, e.do("POST", "/api/v1/workspaces", "", map[string]string{"slug": "acme"}, cookie...))
	r := e.must(400, e.do("POST", "/api/v1/workspaces", "", map[string]string{"slug": "Not OK"}, cookie...))
	if r.errorOf(t).Fields[0].Path != "slug" {
		t.Errorf("%s", r.body)
	}
	e.must(403, e.do("POST", "/api/v1/workspaces", e.tokens[auth.Admin], map[string]string{"slug": "tok"}))
}

func TestUsersChangeTheirOwnPassword(t *testing.T) {
	e := newEnv(t)
	e.user("maria", auth.Viewer)
	_, c := e.login("maria", testPassword)
	cookie := []string{"Cookie", SessionCookie + "=" + c.Value}
	r := e.must(400, e.do("PUT", "/api/v1/me/password", "", map[string]string{"current": "wrong one!!", "new": "brand new password"}, cookie...))
	if r.errorOf(t).Fields[0].Path != "current" {
		t.Errorf("%s", r.body)
	}
	e.must(204, e.do("PUT", "/api/v1/me/password", "", map[string]string{"current": testPassword, "new": "brand new password"}, cookie...))
	if r, _ := e.login("maria", testPassword); r.status != 401 {
		t.Error("old password still works")
	}
	if r, _ := e.login("maria", "brand new password"); r.status != 200 {
		t.Error("new password does not work")
	}
}

func blankMap(name string) map[string]any {
	return map[string]any{"name": name, "kind": "current_state", "stages": []any{
		map[string]any{"name": "Awareness", "steps": []any{map[string]any{"name": "Sees an ad"}}},
	}}
}
