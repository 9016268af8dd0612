package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/journey"
	"github.com/trekhq/trek/internal/meta"
)

const sourceCols = `id, workspace_id, name, channel, write_key, disabled, created_at, rotated_at`

func scanSource(sc interface{ Scan(...any) error }, s *meta.Source) error {
	return sc.Scan(&s.ID, &s.WorkspaceID, &s.Name, &s.Channel, &s.WriteKey, &s.Disabled,
		timeCol{&s.CreatedAt}, nullTimeCol{&s.RotatedAt})
}

// CreateSource implements meta.Store. The id is always new.
func (s *Store) CreateSource(ctx context.Context, workspaceID string, src meta.Source) (meta.Source, error) {
	if strings.TrimSpace(src.Name) == "" || src.WriteKey == "" || src.Channel == "" {
		return meta.Source{}, fault.New(fault.Invalid, "a source needs a name, a channel and a write key")
	}
	src.ID = journey.NewID("src")
	src.WorkspaceID = workspaceID
	if src.CreatedAt.IsZero() {
		src.CreatedAt = now()
	}
	src.CreatedAt = stamp(src.CreatedAt)
	src.RotatedAt = nil
	err := s.write(ctx, "create source "+src.Name, func(tx *sql.Tx) error {
		if err := workspaceExists(ctx, tx, workspaceID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sources (`+sourceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)`,
			src.ID, workspaceID, src.Name, src.Channel, src.WriteKey, src.Disabled, fmtTime(src.CreatedAt))
		return err
	})
	if err != nil {
		return meta.Source{}, err
	}
	return src, nil
}

// Source implements meta.Store.
func (s *Store) Source(ctx context.Context, workspaceID, id string) (meta.Source, error) {
	var src meta.Source
	err := scanSource(s.r.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM sources WHERE workspace_id = ? AND id = ?`, workspaceID, id), &src)
	if err != nil {
		return meta.Source{}, wrap("find source", noRow(err, "source", id))
	}
	return src, nil
}

// Sources implements meta.Store; they come oldest first.
func (s *Store) Sources(ctx context.Context, workspaceID string) ([]meta.Source, error) {
	out := []meta.Source{}
	err := s.read(ctx, "list sources of "+workspaceID, func(tx *sql.Tx) error {
		if err := workspaceExists(ctx, tx, workspaceID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+sourceCols+` FROM sources WHERE workspace_id = ? ORDER BY created_at, id`, workspaceID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var src meta.Source
			if err := scanSource(rows, &src); err != nil {
				return err
			}
			out = append(out, src)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SourceByWriteKey implements meta.Store.
func (s *Store) SourceByWriteKey(ctx context.Context, writeKey string) (meta.Source, error) {
	var src meta.Source
	err := scanSource(s.r.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM sources WHERE write_key = ?`, writeKey), &src)
	if err != nil {
		// The key is a credential; keep it out of messages.
		return meta.Source{}, wrap("find source by write key", noRowMsg(err, "unknown write key"))
	}
	return src, nil
}

// UpdateSource implements meta.Store.
func (s *Store) UpdateSource(ctx context.Context, workspaceID string, src meta.Source) (meta.Source, error) {
	if strings.TrimSpace(src.Name) == "" || src.Channel == "" {
		return meta.Source{}, fault.New(fault.Invalid, "a source needs a name and a channel")
	}
	var out meta.Source
	err := s.write(ctx, "update source "+src.ID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sources SET name = ?, channel = ?, disabled = ? WHERE workspace_id = ? AND id = ?`,
			src.Name, src.Channel, src.Disabled, workspaceID, src.ID)
		if err := affected(res, err, notFound("source", src.ID)); err != nil {
			return err
		}
		return scanSource(tx.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM sources WHERE id = ?`, src.ID), &out)
	})
	if err != nil {
		return meta.Source{}, err
	}
	return out, nil
}

// RotateWriteKey implements meta.Store.
func (s *Store) RotateWriteKey(ctx context.Context, workspaceID, id, writeKey string) (meta.Source, error) {
	if writeKey == "" {
		return meta.Source{}, fault.New(fault.Invalid, "a source needs a write key")
	}
	var out meta.Source
	err := s.write(ctx, "rotate write key of "+id, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sources SET write_key = ?, rotated_at = ? WHERE workspace_id = ? AND id = ?`,
			writeKey, fmtTime(now()), workspaceID, id)
		if err := affected(res, err, notFound("source", id)); err != nil {
			return err
		}
		return scanSource(tx.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM sources WHERE id = ?`, id), &out)
	})
	if err != nil {
		return meta.Source{}, err
	}
	return out, nil
}

const quarantineCols = `id, workspace_id, source_id, reason, raw, received_at, status, resolved_at, resolved_by`

func scanQuarantine(sc interface{ Scan(...any) error }, q *meta.QuarantineItem) error {
	return sc.Scan(&q.ID, &q.WorkspaceID, &q.SourceID, &q.Reason, &q.Raw, timeCol{&q.ReceivedAt}, &q.Status,
		nullTimeCol{&q.ResolvedAt}, &q.ResolvedBy)
}

// AddQuarantine implements meta.Store: every item in one transaction.
func (s *Store) AddQuarantine(ctx context.Context, items []meta.QuarantineItem) ([]meta.QuarantineItem, error) {
	out := make([]meta.QuarantineItem, len(items))
	for i, q := range items {
		if q.WorkspaceID == "" || q.Reason == "" {
			return nil, fault.New(fault.Invalid, "a quarantined event needs a workspace and a reason")
		}
		q.ID = journey.NewID("qr")
		q.Status = meta.QuarantineOpen
		q.ResolvedAt, q.ResolvedBy = nil, ""
		if q.ReceivedAt.IsZero() {
			q.ReceivedAt = now()
		}
		q.ReceivedAt = stamp(q.ReceivedAt)
		if q.Raw == nil {
			q.Raw = []byte{}
		}
		out[i] = q
	}
	err := s.write(ctx, "quarantine events", func(tx *sql.Tx) error {
		for _, q := range out {
			if _, err := tx.ExecContext(ctx, `INSERT INTO quarantine (`+quarantineCols+`) VALUES (?, ?, ?, ?, ?, ?, 'open', NULL, '')`,
				q.ID, q.WorkspaceID, q.SourceID, q.Reason, q.Raw, fmtTime(q.ReceivedAt)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// QuarantineItems implements meta.Store; newest first.
func (s *Store) QuarantineItems(ctx context.Context, workspaceID string, f meta.QuarantineFilter) ([]meta.QuarantineItem, error) {
	q := `SELECT ` + quarantineCols + ` FROM quarantine WHERE workspace_id = ?`
	args := []any{workspaceID}
	if f.SourceID != "" {
		q += ` AND source_id = ?`
		args = append(args, f.SourceID)
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, string(f.Status))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += ` ORDER BY received_at DESC, id LIMIT ? OFFSET ?`
	args = append(args, limit, max(f.Offset, 0))
	out := []meta.QuarantineItem{}
	err := s.read(ctx, "list quarantine of "+workspaceID, func(tx *sql.Tx) error {
		if err := workspaceExists(ctx, tx, workspaceID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var it meta.QuarantineItem
			if err := scanQuarantine(rows, &it); err != nil {
				return err
			}
			out = append(out, it)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// QuarantineItem implements meta.Store.
func (s *Store) QuarantineItem(ctx context.Context, workspaceID, id string) (meta.QuarantineItem, error) {
	var it meta.QuarantineItem
	err := scanQuarantine(s.r.QueryRowContext(ctx, `SELECT `+quarantineCols+` FROM quarantine WHERE workspace_id = ? AND id = ?`, workspaceID, id), &it)
	if err != nil {
		return meta.QuarantineItem{}, wrap("find quarantined event", noRow(err, "quarantined event", id))
	}
	return it, nil
}

// ResolveQuarantine implements meta.Store.
func (s *Store) ResolveQuarantine(ctx context.Context, workspaceID, id string, status meta.QuarantineStatus, by string) error {
	if status != meta.QuarantineReplayed && status != meta.QuarantineDiscarded {
		return fault.New(fault.Invalid, "a quarantined event is resolved as replayed or discarded, not %q", status)
	}
	return s.write(ctx, "resolve quarantined event "+id, func(tx *sql.Tx) error {
		var cur string
		err := tx.QueryRowContext(ctx, `SELECT status FROM quarantine WHERE workspace_id = ? AND id = ?`, workspaceID, id).Scan(&cur)
		if err != nil {
			return noRow(err, "quarantined event", id)
		}
		if cur != string(meta.QuarantineOpen) {
			return fault.New(fault.Conflict, "quarantined event %s was already %s", id, cur)
		}
		_, err = tx.ExecContext(ctx, `UPDATE quarantine SET status = ?, resolved_at = ?, resolved_by = ? WHERE id = ?`,
			string(status), fmtTime(now()), by, id)
		return err
	})
}

// DeleteQuarantine implements meta.Store.
func (s *Store) DeleteQuarantine(ctx context.Context, workspaceID string, ids []string) (int, error) {
	n := 0
	err := s.write(ctx, "delete quarantined events", func(tx *sql.Tx) error {
		for _, id := range ids {
			res, err := tx.ExecContext(ctx, `DELETE FROM quarantine WHERE workspace_id = ? AND id = ?`, workspaceID, id)
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += int(k)
		}
		return nil
	})
	return n, err
}

// RecordErasure implements meta.Store.
func (s *Store) RecordErasure(ctx context.Context, workspaceID string, e meta.Erasure) (meta.Erasure, error) {
	e.ID = journey.NewID("era")
	if e.At.IsZero() {
		e.At = now()
	}
	e.At = stamp(e.At)
	err := s.write(ctx, "record erasure", func(tx *sql.Tx) error {
		if err := workspaceExists(ctx, tx, workspaceID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO erasures (id, workspace_id, customer_id, identifiers, events, by_whom, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			e.ID, workspaceID, e.CustomerID, e.Identifiers, e.Events, e.By, fmtTime(e.At))
		return err
	})
	if err != nil {
		return meta.Erasure{}, err
	}
	return e, nil
}

// Erasures implements meta.Store; newest first.
func (s *Store) Erasures(ctx context.Context, workspaceID string) ([]meta.Erasure, error) {
	out := []meta.Erasure{}
	err := s.read(ctx, "list erasures of "+workspaceID, func(tx *sql.Tx) error {
		if err := workspaceExists(ctx, tx, workspaceID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, customer_id, identifiers, events, by_whom, at FROM erasures WHERE workspace_id = ? ORDER BY at DESC, id`, workspaceID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e meta.Erasure
			if err := rows.Scan(&e.ID, &e.CustomerID, &e.Identifiers, &e.Events, &e.By, timeCol{&e.At}); err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
