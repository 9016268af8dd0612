package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/trekhq/trek/internal/auth"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/meta"
)

// SessionCookie is the name of the browser session cookie.
const SessionCookie = "trek_session"

// WorkspaceHeader selects the workspace of a session-authenticated request;
// tokens are bound to theirs.
const WorkspaceHeader = "X-Trek-Workspace"

// principal is who is calling, and with which role in which workspace.
type principal struct {
	user      *meta.User  // set for session logins
	token     *meta.Token // set for bearer tokens
	workspace meta.Workspace
	role      auth.Role // in workspace; empty when the caller has no workspace
}

func (p *principal) name() string {
	if p.user != nil {
		return p.user.Name
	}
	return "token:" + p.token.Name
}

// access is what a route needs of its caller.
type access int

const (
	public        access = iota // no credentials (login)
	authenticated               // any valid credentials, no workspace needed
	needViewer
	needEditor
	needAdmin
)

func (a access) role() auth.Role {
	switch a {
	case needViewer:
		return auth.Viewer
	case needEditor:
		return auth.Editor
	case needAdmin:
		return auth.Admin
	}
	return ""
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, p *principal) error

type route struct {
	method  string
	pattern string
	access  access
	h       handlerFunc
}

// handle wraps a route with authentication, authorisation and CSRF
// protection, and turns a returned error into a response.
func (s *Server) handle(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		p, err := s.authorize(r, rt.access)
		if err == nil {
			err = rt.h(w, r, p)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

func (s *Server) authorize(r *http.Request, need access) (*principal, error) {
	ctx := r.Context()
	if need == public {
		// Login is a state change made from a browser: refuse it cross-site
		// too, so a hostile page cannot log a visitor into its account.
		if err := s.cop.Check(r); err != nil {
			return nil, fault.New(fault.Forbidden, "cross-site request refused")
		}
		return nil, nil
	}
	var p *principal
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, secret, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
			return nil, fault.New(fault.Unauthenticated, "the Authorization header must be 'Bearer <token>'")
		}
		tok, err := s.meta.TokenByHash(ctx, auth.HashSecret(strings.TrimSpace(secret)))
		if err != nil {
			if fault.CodeOf(err) == fault.NotFound {
				return nil, fault.New(fault.Unauthenticated, "the bearer token is not valid")
			}
			return nil, err
		}
		ws, err := s.meta.Workspace(ctx, tok.WorkspaceID)
		if err != nil {
			return nil, err
		}
		s.touchToken(ctx, tok.ID)
		p = &principal{token: &tok, workspace: ws, role: tok.Role}
	} else {
		c, err := r.Cookie(SessionCookie)
		if err != nil || c.Value == "" {
			return nil, fault.New(fault.Unauthenticated, "log in or send a bearer token")
		}
		sess, err := s.meta.SessionByHash(ctx, auth.HashSecret(c.Value), s.cfg.Now())
		if err != nil {
			if fault.CodeOf(err) == fault.NotFound {
				return nil, fault.New(fault.Unauthenticated, "the session has expired; log in again")
			}
			return nil, err
		}
		// Cookies ride along on cross-site requests; tokens do not. So only
		// cookie-authenticated requests need the cross-origin check.
		if err := s.cop.Check(r); err != nil {
			return nil, fault.New(fault.Forbidden, "cross-site request refused")
		}
		u, err := s.meta.User(ctx, sess.UserID)
		if err != nil {
			return nil, err
		}
		p = &principal{user: &u}
		if need != authenticated {
			if err := s.chooseWorkspace(ctx, r, p); err != nil {
				return nil, err
			}
		}
	}
	if need == authenticated {
		return p, nil
	}
	if !p.role.Allows(need.role()) {
		return nil, fault.New(fault.Forbidden, "this needs the %s role in workspace %s; you have %s", need.role(), p.workspace.Slug, orNone(p.role))
	}
	return p, nil
}

func orNone(r auth.Role) string {
	if r == "" {
		return "none"
	}
	return string(r)
}

// chooseWorkspace picks the workspace a logged-in user acts in: the one the
// request names, or else their first membership.
func (s *Server) chooseWorkspace(ctx context.Context, r *http.Request, p *principal) error {
	ms, err := s.meta.Memberships(ctx, p.user.ID)
	if err != nil {
		return err
	}
	want := r.Header.Get(WorkspaceHeader)
	if want == "" {
		want = r.URL.Query().Get("workspace")
	}
	for _, m := range ms {
		if want == "" || m.Workspace.Slug == want || m.Workspace.ID == want {
			p.workspace, p.role = m.Workspace, m.Role
			return nil
		}
	}
	if want == "" {
		return fault.New(fault.Forbidden, "you are not a member of any workspace")
	}
	return fault.New(fault.Forbidden, "you are not a member of workspace %s", want)
}

type loginRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

type meResponse struct {
	User        *meta.User        `json:"user,omitempty"`
	Token       *meta.Token       `json:"token,omitempty"`
	Memberships []meta.Membership `json:"memberships"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if !s.loginLimiter(clientIP(r)).Allow() {
		return fault.New(fault.RateLimited, "too many login attempts from your address; wait a minute")
	}
	var req loginRequest
	if err := decodeJSON(r, 64<<10, &req); err != nil {
		return err
	}
	ctx := r.Context()
	select {
	case s.hashSlots <- struct{}{}:
		defer func() { <-s.hashSlots }()
	case <-ctx.Done():
		return ctx.Err()
	}
	u, err := s.meta.User(ctx, strings.TrimSpace(req.Name))
	if err != nil && fault.CodeOf(err) != fault.NotFound {
		return err
	}
	hash := u.PasswordHash
	if err != nil {
		// Spend the same work on an unknown user as on a known one, so the
		// answer's timing does not tell which user names exist.
		s.dummyOnce.Do(func() {
			s.dummyHash, _ = auth.HashPassword("not-a-real-password-at-all")
		})
		hash = s.dummyHash
	}
	if cerr := auth.CheckPassword(hash, req.Password); cerr != nil || err != nil {
		if cerr != nil && !errors.Is(cerr, auth.ErrMismatch) {
			s.log.WarnContext(ctx, "check password", "user", u.ID, "err", cerr)
		}
		s.log.InfoContext(ctx, "login failed", "addr", clientIP(r))
		return fault.New(fault.Unauthenticated, "wrong user name or password")
	}
	secret, hashed := auth.NewSecret(auth.SessionPrefix)
	now := s.cfg.Now().UTC()
	if err := s.meta.CreateSession(ctx, meta.Session{Hash: hashed, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: secret, Path: "/", HttpOnly: true, Secure: !s.cfg.InsecureCookies,
		SameSite: http.SameSiteLaxMode, Expires: now.Add(s.cfg.SessionTTL), MaxAge: int(s.cfg.SessionTTL / time.Second),
	})
	ms, err := s.meta.Memberships(ctx, u.ID)
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "login", "user", u.Name)
	writeJSON(w, http.StatusOK, meResponse{User: &u, Memberships: ms})
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, p *principal) error {
	if p.user == nil {
		return fault.New(fault.Invalid, "logout ends a browser session; revoke a token with DELETE /api/v1/tokens/{id}")
	}
	c, _ := r.Cookie(SessionCookie)
	if err := s.meta.DeleteSession(r.Context(), auth.HashSecret(c.Value)); err != nil && fault.CodeOf(err) != fault.NotFound {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: !s.cfg.InsecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, p *principal) error {
	if p.token != nil {
		ws, err := s.meta.Workspace(r.Context(), p.token.WorkspaceID)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, meResponse{Token: p.token, Memberships: []meta.Membership{{Workspace: ws, Role: p.token.Role}}})
		return nil
	}
	ms, err := s.meta.Memberships(r.Context(), p.user.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, meResponse{User: p.user, Memberships: ms})
	return nil
}

type passwordRequest struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, p *principal) error {
	if p.user == nil {
		return fault.New(fault.Forbidden, "tokens have no password")
	}
	var req passwordRequest
	if err := decodeJSON(r, 64<<10, &req); err != nil {
		return err
	}
	if err := auth.CheckPassword(p.user.PasswordHash, req.Current); err != nil {
		return fault.Fields("the password was not changed", []fault.FieldError{{Path: "current", Message: "is not your current password"}})
	}
	hash, err := auth.HashPassword(req.New)
	if err != nil {
		return fault.Fields("the password was not changed", []fault.FieldError{{Path: "new", Message: err.Error()}})
	}
	if err := s.meta.SetPassword(r.Context(), p.user.ID, hash); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) loginLimiter(ip string) *rate.Limiter {
	s.loginMu.Lock()
	defer s.loginMu.Unlock()
	if len(s.loginLimits) > 10000 {
		// Forget everyone rather than grow without bound under a spray of
		// addresses; the per-address limit still holds within a burst.
		s.loginLimits = map[string]*rate.Limiter{}
	}
	l, ok := s.loginLimits[ip]
	if !ok {
		l = rate.NewLimiter(s.cfg.LoginRate, s.cfg.LoginBurst)
		s.loginLimits[ip] = l
	}
	return l
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Workspaces, members and tokens.

func (s *Server) listWorkspaces(w http.ResponseWriter, r *http.Request, p *principal) error {
	var out []meta.Membership
	if p.token != nil {
		ws, err := s.meta.Workspace(r.Context(), p.token.WorkspaceID)
		if err != nil {
			return err
		}
		out = []meta.Membership{{Workspace: ws, Role: p.token.Role}}
	} else {
		ms, err := s.meta.Memberships(r.Context(), p.user.ID)
		if err != nil {
			return err
		}
		out = ms
	}
	writeJSON(w, http.StatusOK, map[string]any{"workspaces": out})
	return nil
}

type workspaceRequest struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

func (s *Server) createWorkspace(w http.ResponseWriter, r *http.Request, p *principal) error {
	if p.user == nil {
		return fault.New(fault.Forbidden, "a token acts in one workspace and cannot create others; log in as a user")
	}
	var req workspaceRequest
	if err := decodeJSON(r, 64<<10, &req); err != nil {
		return err
	}
	if errs := validateSlug(req.Slug); errs != nil {
		return errs
	}
	if strings.TrimSpace(req.Name) == "" {
		req.Name = req.Slug
	}
	ws, err := s.meta.CreateWorkspace(r.Context(), req.Slug, strings.TrimSpace(req.Name))
	if err != nil {
		return err
	}
	if err := s.meta.SetMember(r.Context(), ws.ID, p.user.ID, auth.Admin); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, meta.Membership{Workspace: ws, Role: auth.Admin})
	return nil
}

// ValidateSlug checks a workspace slug: lower-case letters, digits and '-'.
func validateSlug(slug string) error {
	ok := len(slug) >= 2 && len(slug) <= 40
	for i, c := range slug {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0) {
			ok = false
		}
	}
	if !ok {
		return fault.Fields("the workspace is not valid", []fault.FieldError{{Path: "slug",
			Message: "must be 2-40 lower-case letters, digits or '-', not starting with '-'"}})
	}
	return nil
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request, p *principal) error {
	ms, err := s.meta.Members(r.Context(), p.workspace.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"members": ms})
	return nil
}

type memberRequest struct {
	Role     auth.Role `json:"role"`
	Password string    `json:"password,omitempty"`
}

// putMember adds a user to the workspace (creating the user when a password
// is given and the name is new) or changes their role.
func (s *Server) putMember(w http.ResponseWriter, r *http.Request, p *principal) error {
	name := r.PathValue("name")
	var req memberRequest
	if err := decodeJSON(r, 64<<10, &req); err != nil {
		return err
	}
	if !req.Role.Valid() {
		return fault.Fields("the member is not valid", []fault.FieldError{{Path: "role", Message: "must be viewer, editor or admin"}})
	}
	ctx := r.Context()
	u, err := s.meta.User(ctx, name)
	created := false
	switch {
	case err == nil:
		if req.Password != "" {
			return fault.Fields("the member was not changed", []fault.FieldError{{Path: "password",
				Message: "the user exists already; only they can change their password"}})
		}
	case fault.CodeOf(err) == fault.NotFound:
		if err := validateUserName(name); err != nil {
			return err
		}
		if req.Password == "" {
			return fault.Fields("the member was not added", []fault.FieldError{{Path: "password", Message: "is required to create a new user"}})
		}
		hash, herr := auth.HashPassword(req.Password)
		if herr != nil {
			return fault.Fields("the member was not added", []fault.FieldError{{Path: "password", Message: herr.Error()}})
		}
		if u, err = s.meta.CreateUser(ctx, name, hash); err != nil {
			return err
		}
		created = true
	default:
		return err
	}
	if req.Role != auth.Admin {
		if err := s.keepAnAdmin(ctx, p.workspace.ID, u.ID); err != nil {
			return err
		}
	}
	if err := s.meta.SetMember(ctx, p.workspace.ID, u.ID, req.Role); err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, meta.Member{UserID: u.ID, UserName: u.Name, Role: req.Role, Since: s.cfg.Now().UTC()})
	return nil
}

func validateUserName(name string) error {
	ok := len(name) >= 2 && len(name) <= 64
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-@+", c)) {
			ok = false
		}
	}
	if !ok {
		return fault.Fields("the user name is not valid", []fault.FieldError{{Path: "name",
			Message: "must be 2-64 letters, digits or . _ - @ +"}})
	}
	return nil
}

// keepAnAdmin refuses to demote or remove the workspace's last admin.
func (s *Server) keepAnAdmin(ctx context.Context, wsID, userID string) error {
	ms, err := s.meta.Members(ctx, wsID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(ms, func(m meta.Member) bool { return m.UserID == userID && m.Role == auth.Admin }) {
		return nil
	}
	admins := slices.DeleteFunc(ms, func(m meta.Member) bool { return m.Role != auth.Admin || m.UserID == userID })
	if len(admins) == 0 {
		return fault.New(fault.Conflict, "the workspace would have no admin left")
	}
	return nil
}

func (s *Server) deleteMember(w http.ResponseWriter, r *http.Request, p *principal) error {
	ctx := r.Context()
	u, err := s.meta.User(ctx, r.PathValue("name"))
	if err != nil {
		return err
	}
	if err := s.keepAnAdmin(ctx, p.workspace.ID, u.ID); err != nil {
		return err
	}
	if err := s.meta.RemoveMember(ctx, p.workspace.ID, u.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, p *principal) error {
	ts, err := s.meta.Tokens(r.Context(), p.workspace.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": ts})
	return nil
}

type tokenRequest struct {
	Name string    `json:"name"`
	Role auth.Role `json:"role"`
}

type tokenResponse struct {
	meta.Token
	Secret string `json:"token"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req tokenRequest
	if err := decodeJSON(r, 64<<10, &req); err != nil {
		return err
	}
	var errs []fault.FieldError
	if n := strings.TrimSpace(req.Name); n == "" || len(n) > 100 {
		errs = append(errs, fault.FieldError{Path: "name", Message: "must be 1-100 characters"})
	}
	if !req.Role.Valid() {
		errs = append(errs, fault.FieldError{Path: "role", Message: "must be viewer, editor or admin"})
	}
	if errs != nil {
		return fault.Fields("the token is not valid", errs)
	}
	tok, err := CreateToken(r.Context(), s.meta, p.workspace.ID, strings.TrimSpace(req.Name), req.Role, p.name())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, tok)
	return nil
}

// CreateToken makes a bearer token and stores its hash; the secret is in the
// result and nowhere else.
func CreateToken(ctx context.Context, store meta.Store, wsID, name string, role auth.Role, by string) (tokenResponse, error) {
	secret, hash := auth.NewSecret(auth.TokenPrefix)
	tok, err := store.CreateToken(ctx, meta.Token{Name: name, WorkspaceID: wsID, Role: role, Hash: hash, CreatedBy: by, CreatedAt: time.Now().UTC()})
	if err != nil {
		return tokenResponse{}, err
	}
	return tokenResponse{Token: tok, Secret: secret}, nil
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := s.meta.DeleteToken(r.Context(), p.workspace.ID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// touchToken records a token's use at most once a minute: the metadata store
// makes every write durable with an fsync, which the hot path of every API
// call should not pay.
func (s *Server) touchToken(ctx context.Context, id string) {
	now := s.cfg.Now()
	s.touchMu.Lock()
	last, ok := s.touched[id]
	if ok && now.Sub(last) < time.Minute {
		s.touchMu.Unlock()
		return
	}
	if len(s.touched) > 10000 {
		s.touched = map[string]time.Time{}
	}
	s.touched[id] = now
	s.touchMu.Unlock()
	if err := s.meta.TouchToken(ctx, id, now); err != nil {
		s.log.WarnContext(ctx, "record token use", "token", id, "err", err)
	}
}
