package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/trekhq/trek/internal/auth"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/journey"
	"github.com/trekhq/trek/internal/meta"
)

// CreateWorkspace implements meta.Store.
func (s *Store) CreateWorkspace(ctx context.Context, slug, name string) (meta.Workspace, error) {
	slug = strings.TrimSpace(slug)
	if slug == "" {
		return meta.Workspace{}, fault.New(fault.Invalid, "a workspace needs a slug")
	}
	ws := meta.Workspace{ID: journey.NewID("ws"), Slug: slug, Name: name, CreatedAt: now()}
	err := s.write(ctx, "create workspace "+slug, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM workspaces WHERE slug = ?`, slug).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fault.New(fault.Conflict, "a workspace with the slug %q already exists", slug)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO workspaces (id, slug, name, created_at) VALUES (?, ?, ?, ?)`,
			ws.ID, ws.Slug, ws.Name, fmtTime(ws.CreatedAt))
		return err
	})
	if err != nil {
		return meta.Workspace{}, err
	}
	return ws, nil
}

const workspaceCols = `w.id, w.slug, w.name, w.created_at`

func scanWorkspace(sc interface{ Scan(...any) error }, ws *meta.Workspace, more ...any) error {
	return sc.Scan(append([]any{&ws.ID, &ws.Slug, &ws.Name, timeCol{&ws.CreatedAt}}, more...)...)
}

// Workspace implements meta.Store. Should a slug ever equal another
// workspace's id, the id wins: ids are what the API hands out.
func (s *Store) Workspace(ctx context.Context, idOrSlug string) (meta.Workspace, error) {
	var ws meta.Workspace
	row := s.r.QueryRowContext(ctx, `SELECT `+workspaceCols+` FROM workspaces w WHERE w.id = ?1 OR w.slug = ?1
		ORDER BY w.id = ?1 DESC LIMIT 1`, idOrSlug)
	if err := scanWorkspace(row, &ws); err != nil {
		return meta.Workspace{}, wrap("find workspace "+idOrSlug, noRow(err, "workspace", idOrSlug))
	}
	return ws, nil
}

// Workspaces implements meta.Store; they come in slug order.
func (s *Store) Workspaces(ctx context.Context) ([]meta.Workspace, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+workspaceCols+` FROM workspaces w ORDER BY w.slug, w.id`)
	if err != nil {
		return nil, wrap("list workspaces", err)
	}
	defer rows.Close()
	out := []meta.Workspace{}
	for rows.Next() {
		var ws meta.Workspace
		if err := scanWorkspace(rows, &ws); err != nil {
			return nil, wrap("list workspaces", err)
		}
		out = append(out, ws)
	}
	return out, wrap("list workspaces", rows.Err())
}

// workspaceExists returns NotFound unless the workspace id exists. Writes
// call it inside their transaction; listings call it so that an unknown
// workspace is NotFound rather than an empty list.
func workspaceExists(ctx context.Context, q querier, id string) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM workspaces WHERE id = ?`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return notFound("workspace", id)
	}
	return nil
}

func userExists(ctx context.Context, q querier, id string) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE id = ?`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return notFound("user", id)
	}
	return nil
}

// CreateUser implements meta.Store. Names are unique under Unicode case
// folding, so "Łukasz" and "łukasz" cannot be two people logging in.
func (s *Store) CreateUser(ctx context.Context, name, passwordHash string) (meta.User, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return meta.User{}, fault.New(fault.Invalid, "a user needs a name")
	}
	u := meta.User{ID: journey.NewID("usr"), Name: name, PasswordHash: passwordHash, CreatedAt: now()}
	key := fold(name)
	err := s.write(ctx, "create user "+name, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE name_key = ?`, key).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fault.New(fault.Conflict, "a user named %q already exists", name)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, name, name_key, password_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
			u.ID, u.Name, key, u.PasswordHash, fmtTime(u.CreatedAt))
		return err
	})
	if err != nil {
		return meta.User{}, err
	}
	return u, nil
}

// User implements meta.Store.
func (s *Store) User(ctx context.Context, idOrName string) (meta.User, error) {
	var u meta.User
	err := s.r.QueryRowContext(ctx, `SELECT id, name, password_hash, created_at FROM users WHERE id = ?1 OR name_key = ?2
		ORDER BY id = ?1 DESC LIMIT 1`, idOrName, fold(strings.TrimSpace(idOrName))).
		Scan(&u.ID, &u.Name, &u.PasswordHash, timeCol{&u.CreatedAt})
	if err != nil {
		return meta.User{}, wrap("find user "+idOrName, noRow(err, "user", idOrName))
	}
	return u, nil
}

// SetPassword implements meta.Store.
func (s *Store) SetPassword(ctx context.Context, userID, passwordHash string) error {
	return s.write(ctx, "set password of "+userID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, userID)
		return affected(res, err, notFound("user", userID))
	})
}

// affected returns missing when a write by id touched no row.
func affected(res sql.Result, err error, missing error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return missing
	}
	return nil
}

// CountUsers implements meta.Store.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, wrap("count users", err)
	}
	return n, nil
}

// SetMember implements meta.Store. Changing a role keeps the date the user
// joined.
func (s *Store) SetMember(ctx context.Context, workspaceID, userID string, role auth.Role) error {
	if !role.Valid() {
		return fault.New(fault.Invalid, "unknown role %q: want viewer, editor or admin", role)
	}
	return s.write(ctx, fmt.Sprintf("set member %s of %s", userID, workspaceID), func(tx *sql.Tx) error {
		if err := workspaceExists(ctx, tx, workspaceID); err != nil {
			return err
		}
		if err := userExists(ctx, tx, userID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO members (workspace_id, user_id, role, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role`,
			workspaceID, userID, string(role), fmtTime(now()))
		return err
	})
}

// RemoveMember implements meta.Store.
func (s *Store) RemoveMember(ctx context.Context, workspaceID, userID string) error {
	return s.write(ctx, fmt.Sprintf("remove member %s of %s", userID, workspaceID), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM members WHERE workspace_id = ? AND user_id = ?`, workspaceID, userID)
		return affected(res, err, fault.New(fault.NotFound, "user %q is not a member of workspace %q", userID, workspaceID))
	})
}

// Members implements meta.Store; they come in name order.
func (s *Store) Members(ctx context.Context, workspaceID string) ([]meta.Member, error) {
	op := "list members of " + workspaceID
	out := []meta.Member{}
	err := s.read(ctx, op, func(tx *sql.Tx) error {
		if err := workspaceExists(ctx, tx, workspaceID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT u.id, u.name, m.role, m.created_at
			FROM members m JOIN users u ON u.id = m.user_id
			WHERE m.workspace_id = ? ORDER BY u.name_key, u.id`, workspaceID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m meta.Member
			if err := rows.Scan(&m.UserID, &m.UserName, &m.Role, timeCol{&m.Since}); err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Memberships implements meta.Store; they come in slug order.
func (s *Store) Memberships(ctx context.Context, userID string) ([]meta.Membership, error) {
	op := "list memberships of " + userID
	out := []meta.Membership{}
	err := s.read(ctx, op, func(tx *sql.Tx) error {
		if err := userExists(ctx, tx, userID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+workspaceCols+`, m.role
			FROM members m JOIN workspaces w ON w.id = m.workspace_id
			WHERE m.user_id = ? ORDER BY w.slug, w.id`, userID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m meta.Membership
			if err := scanWorkspace(rows, &m.Workspace, &m.Role); err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CreateToken implements meta.Store. The id is always new; CreatedAt is
// kept when the caller set it.
func (s *Store) CreateToken(ctx context.Context, t meta.Token) (meta.Token, error) {
	if !t.Role.Valid() {
		return meta.Token{}, fault.New(fault.Invalid, "unknown role %q: want viewer, editor or admin", t.Role)
	}
	if t.Hash == "" {
		return meta.Token{}, fault.New(fault.Invalid, "a token needs a hash")
	}
	t.ID = journey.NewID("tok")
	if t.CreatedAt.IsZero() {
		t.CreatedAt = now()
	}
	t.CreatedAt = stamp(t.CreatedAt)
	if t.LastUsedAt != nil {
		at := stamp(*t.LastUsedAt)
		t.LastUsedAt = &at
	}
	err := s.write(ctx, "create token "+t.Name, func(tx *sql.Tx) error {
		if err := workspaceExists(ctx, tx, t.WorkspaceID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM tokens WHERE hash = ?`, t.Hash).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fault.New(fault.Conflict, "a token with this secret already exists")
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens (id, workspace_id, name, role, hash, created_by, created_at, last_used_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.WorkspaceID, t.Name, string(t.Role), t.Hash, t.CreatedBy, fmtTime(t.CreatedAt), nullTime(t.LastUsedAt))
		return err
	})
	if err != nil {
		return meta.Token{}, err
	}
	return t, nil
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return fmtTime(*t)
}

const tokenCols = `id, name, workspace_id, role, hash, created_by, created_at, last_used_at`

func scanToken(sc interface{ Scan(...any) error }, t *meta.Token) error {
	return sc.Scan(&t.ID, &t.Name, &t.WorkspaceID, &t.Role, &t.Hash, &t.CreatedBy,
		timeCol{&t.CreatedAt}, nullTimeCol{&t.LastUsedAt})
}

// TokenByHash implements meta.Store.
func (s *Store) TokenByHash(ctx context.Context, hash string) (meta.Token, error) {
	var t meta.Token
	err := scanToken(s.r.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE hash = ?`, hash), &t)
	if err != nil {
		// The hash stands in for a credential; keep it out of messages.
		return meta.Token{}, wrap("find token", noRowMsg(err, "token not found"))
	}
	return t, nil
}

// Tokens implements meta.Store; they come oldest first.
func (s *Store) Tokens(ctx context.Context, workspaceID string) ([]meta.Token, error) {
	out := []meta.Token{}
	err := s.read(ctx, "list tokens of "+workspaceID, func(tx *sql.Tx) error {
		if err := workspaceExists(ctx, tx, workspaceID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE workspace_id = ? ORDER BY created_at, id`, workspaceID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t meta.Token
			if err := scanToken(rows, &t); err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteToken implements meta.Store.
func (s *Store) DeleteToken(ctx context.Context, workspaceID, id string) error {
	return s.write(ctx, "delete token "+id, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE id = ? AND workspace_id = ?`, id, workspaceID)
		return affected(res, err, notFound("token", id))
	})
}

// TouchToken implements meta.Store.
func (s *Store) TouchToken(ctx context.Context, id string, at time.Time) error {
	return s.write(ctx, "touch token "+id, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE tokens SET last_used_at = ? WHERE id = ?`, fmtTime(stamp(at)), id)
		return affected(res, err, notFound("token", id))
	})
}

// CreateSession implements meta.Store. It also drops the sessions that had
// expired by sess.CreatedAt: logins are when sessions pile up, and nobody
// else would ever remove the ones that were never logged out.
func (s *Store) CreateSession(ctx context.Context, sess meta.Session) error {
	if sess.Hash == "" {
		return fault.New(fault.Invalid, "a session needs a hash")
	}
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = now()
	}
	return s.write(ctx, "create session for "+sess.UserID, func(tx *sql.Tx) error {
		if err := userExists(ctx, tx, sess.UserID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, fmtTime(stamp(sess.CreatedAt))); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE hash = ?`, sess.Hash).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fault.New(fault.Conflict, "a session with this secret already exists")
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			sess.Hash, sess.UserID, fmtTime(stamp(sess.CreatedAt)), fmtTime(stamp(sess.ExpiresAt)))
		return err
	})
}

// SessionByHash implements meta.Store. A session is valid while at is
// before ExpiresAt: at the instant it expires it is already gone.
func (s *Store) SessionByHash(ctx context.Context, hash string, at time.Time) (meta.Session, error) {
	var sess meta.Session
	err := s.r.QueryRowContext(ctx, `SELECT hash, user_id, created_at, expires_at FROM sessions WHERE hash = ? AND expires_at > ?`,
		hash, fmtTime(stamp(at))).Scan(&sess.Hash, &sess.UserID, timeCol{&sess.CreatedAt}, timeCol{&sess.ExpiresAt})
	if err != nil {
		return meta.Session{}, wrap("find session", noRowMsg(err, "session not found or expired"))
	}
	return sess, nil
}

// DeleteSession implements meta.Store.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	return s.write(ctx, "delete session", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, hash)
		return affected(res, err, fault.New(fault.NotFound, "session not found"))
	})
}
