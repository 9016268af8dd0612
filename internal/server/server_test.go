package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/auth"
	"github.com/trekhq/trek/internal/meta"
	"github.com/trekhq/trek/internal/meta/sqlite"
)

// env is a real trek server on a loopback port over a real SQLite file,
// with one token per role in workspace "default" and an admin token in a
// second workspace "other".
type env struct {
	t          *testing.T
	srv        *Server
	http       *httptest.Server
	store      meta.Store
	ws         meta.Workspace
	other      meta.Workspace
	tokens     map[auth.Role]string
	otherAdmin string
}

const testPassword = "correct horse battery"

func newEnv(t *testing.T, cfgs ...func(*Config)) *env {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "trek.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cfg := Config{Logger: slog.New(slog.DiscardHandler)}
	for _, f := range cfgs {
		f(&cfg)
	}
	srv, err := New(cfg, store)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	e := &env{t: t, srv: srv, http: hs, store: store, tokens: map[auth.Role]string{}}
	if e.ws, err = store.CreateWorkspace(ctx, "default", "Default"); err != nil {
		t.Fatal(err)
	}
	if e.other, err = store.CreateWorkspace(ctx, "other", "Other"); err != nil {
		t.Fatal(err)
	}
	for _, r := range []auth.Role{auth.Viewer, auth.Editor, auth.Admin} {
		e.tokens[r] = e.token(e.ws.ID, string(r), r)
	}
	e.otherAdmin = e.token(e.other.ID, "other-admin", auth.Admin)
	return e
}

func (e *env) token(wsID, name string, r auth.Role) string {
	e.t.Helper()
	secret, hash := auth.NewSecret(auth.TokenPrefix)
	if _, err := e.store.CreateToken(context.Background(), meta.Token{Name: name, WorkspaceID: wsID, Role: r, Hash: hash, CreatedAt: time.Now()}); err != nil {
		e.t.Fatal(err)
	}
	return secret
}

// user creates a user with a role in the default workspace.
func (e *env) user(name string, r auth.Role) meta.User {
	e.t.Helper()
	hash, err := auth.HashPassword(testPassword)
	if err != nil {
		e.t.Fatal(err)
	}
	u, err := e.store.CreateUser(context.Background(), name, hash)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.SetMember(context.Background(), e.ws.ID, u.ID, r); err != nil {
		e.t.Fatal(err)
	}
	return u
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %d answer %s: %v", r.status, r.body, err)
	}
}

// errorOf decodes an error answer.
func (r reply) errorOf(t *testing.T) errorDetail {
	t.Helper()
	var b errorBody
	r.json(t, &b)
	return b.Error
}

// do sends a request; body may be nil, a string (sent as is), or a value
// encoded as JSON. hdr holds extra headers as name, value pairs.
func (e *env) do(method, path, token string, body any, hdr ...string) reply {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.http.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.http.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: raw}
}

func (e *env) must(want int, r reply) reply {
	e.t.Helper()
	if r.status != want {
		e.t.Fatalf("status %d, want %d; body %s", r.status, want, r.body)
	}
	return r
}

func TestHealthAndMetricsNeedNoCredentials(t *testing.T) {
	e := newEnv(t)
	e.must(200, e.do("GET", "/healthz", "", nil))
	r := e.must(200, e.do("GET", "/metrics", "", nil))
	if !bytes.Contains(r.body, []byte("trek_http_requests_total")) {
		t.Errorf("metrics lack trek_http_requests_total:\n%.500s", r.body)
	}
}

func TestResponsesCarrySecurityHeaders(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/api/v1/maps", e.tokens[auth.Viewer], nil)
	for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Cache-Control": "no-store"} {
		if got := r.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
}

func TestUnknownAPIPathIsJSON404(t *testing.T) {
	e := newEnv(t)
	r := e.must(404, e.do("GET", "/api/v1/nope", e.tokens[auth.Admin], nil))
	if e := r.errorOf(t); e.Code != "not_found" {
		t.Errorf("code %q", e.Code)
	}
}
