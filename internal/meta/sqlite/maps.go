package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/journey"
	"github.com/trekhq/trek/internal/meta"
)

// changeTime is when a change happened: the caller's time (an importer
// replaying history) or now.
func changeTime(c meta.Change) time.Time {
	if c.At.IsZero() {
		return now()
	}
	return stamp(c.At)
}

// searchKey is what a listing's free-text query looks in: the folded
// fields, one per line. Line breaks inside a field (and in the query, see
// searchText) become spaces, so the only line breaks left are between
// fields and a query can only ever match inside one field.
func searchKey(m *journey.Map) string {
	parts := []string{searchText(m.Name), searchText(m.Description), searchText(m.Goal)}
	for _, t := range m.Tags {
		parts = append(parts, searchText(t))
	}
	return strings.Join(parts, "\n")
}

var lineBreaks = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ")

func searchText(s string) string { return lineBreaks.Replace(fold(s)) }

func countSteps(m *journey.Map) int {
	n := 0
	for _, st := range m.Stages {
		n += len(st.Steps)
	}
	return n
}

// putMap writes everything about m's current version beside the row in
// maps itself: the listing rows for its personas and tags, and the new
// immutable version.
func putMap(ctx context.Context, tx *sql.Tx, m *journey.Map, c meta.Change) error {
	for _, table := range []string{"map_personas", "map_tags"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE map_id = ?`, m.ID); err != nil {
			return err
		}
	}
	for i, p := range m.PersonaIDs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO map_personas (map_id, pos, persona_id) VALUES (?, ?, ?)`, m.ID, i, p); err != nil {
			return err
		}
	}
	for i, t := range m.Tags {
		if _, err := tx.ExecContext(ctx, `INSERT INTO map_tags (map_id, pos, tag, tag_key) VALUES (?, ?, ?, ?)`,
			m.ID, i, t, fold(strings.TrimSpace(t))); err != nil {
			return err
		}
	}
	doc, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode document: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO map_versions (map_id, version, name, document, author, message, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.Version, m.Name, string(doc), c.Author, c.Message, fmtTime(m.UpdatedAt))
	return err
}

// CreateMap implements meta.Store.
func (s *Store) CreateMap(ctx context.Context, workspaceID string, m journey.Map, c meta.Change) (journey.Map, error) {
	at := changeTime(c)
	m.ID = journey.NewID("map")
	m.Version = 1
	m.CreatedAt, m.UpdatedAt, m.UpdatedBy = at, at, c.Author
	err := s.write(ctx, fmt.Sprintf("create map %q", m.Name), func(tx *sql.Tx) error {
		if err := workspaceExists(ctx, tx, workspaceID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO maps (id, workspace_id, version, name, kind, description, goal, locale,
			search_key, stages, steps, created_at, updated_at, updated_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			m.ID, workspaceID, m.Version, m.Name, string(m.Kind), m.Description, m.Goal, m.Locale,
			searchKey(&m), len(m.Stages), countSteps(&m), fmtTime(at), fmtTime(at), m.UpdatedBy)
		if err != nil {
			return err
		}
		return putMap(ctx, tx, &m, c)
	})
	if err != nil {
		return journey.Map{}, err
	}
	return m, nil
}

// UpdateMap implements meta.Store. The base version is compared inside the
// write transaction, and writes are serialised, so of two updates on the
// same base exactly one commits and the other sees the first one's version.
func (s *Store) UpdateMap(ctx context.Context, workspaceID string, m journey.Map, base int, c meta.Change) (journey.Map, error) {
	if m.ID == "" {
		return journey.Map{}, fault.New(fault.Invalid, "the map to update has no id")
	}
	at := changeTime(c)
	err := s.write(ctx, "update map "+m.ID, func(tx *sql.Tx) error {
		var current int
		err := tx.QueryRowContext(ctx, `SELECT version, created_at FROM maps WHERE id = ? AND workspace_id = ?`, m.ID, workspaceID).
			Scan(&current, timeCol{&m.CreatedAt})
		if err != nil {
			return noRow(err, "map", m.ID)
		}
		if current != base {
			sums, err := summaries(ctx, tx, `m.id = ?`, []any{m.ID}, "")
			if err != nil {
				return err
			}
			cur := sums[0]
			who := ""
			if cur.UpdatedBy != "" {
				who = " by " + cur.UpdatedBy
			}
			return &fault.Error{
				Code: fault.Conflict,
				Message: fmt.Sprintf("map %q was changed%s since version %d; it is now at version %d",
					cur.Name, who, base, cur.Version),
				Current: cur,
			}
		}
		m.Version = current + 1
		m.UpdatedAt, m.UpdatedBy = at, c.Author
		_, err = tx.ExecContext(ctx, `UPDATE maps SET version = ?, name = ?, kind = ?, description = ?, goal = ?, locale = ?,
			search_key = ?, stages = ?, steps = ?, updated_at = ?, updated_by = ?
			WHERE id = ?`,
			m.Version, m.Name, string(m.Kind), m.Description, m.Goal, m.Locale,
			searchKey(&m), len(m.Stages), countSteps(&m), fmtTime(at), m.UpdatedBy, m.ID)
		if err != nil {
			return err
		}
		return putMap(ctx, tx, &m, c)
	})
	if err != nil {
		return journey.Map{}, err
	}
	return m, nil
}

// Map implements meta.Store. The audit fields come from the columns, not
// the document, so that the two can never disagree in what clients see.
func (s *Store) Map(ctx context.Context, workspaceID, id string) (journey.Map, error) {
	var (
		m                journey.Map
		doc, by          string
		version          int
		created, updated time.Time
	)
	err := s.r.QueryRowContext(ctx, `SELECT v.document, m.version, m.created_at, m.updated_at, m.updated_by
		FROM maps m JOIN map_versions v ON v.map_id = m.id AND v.version = m.version
		WHERE m.id = ? AND m.workspace_id = ?`, id, workspaceID).
		Scan(&doc, &version, timeCol{&created}, timeCol{&updated}, &by)
	if err != nil {
		return journey.Map{}, wrap("read map "+id, noRow(err, "map", id))
	}
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		return journey.Map{}, fmt.Errorf("read map %s: decode version %d: %w", id, version, err)
	}
	m.ID, m.Version, m.CreatedAt, m.UpdatedAt, m.UpdatedBy = id, version, created, updated, by
	return m, nil
}

// summaryCols is one listing row. Personas and tags come back as JSON
// arrays in document order, so a listing is one query however many maps
// it shows.
const summaryCols = `m.id, m.name, m.kind, m.description, m.locale, m.version, m.stages, m.steps,
	m.created_at, m.updated_at, m.updated_by,
	(SELECT json_group_array(p.persona_id ORDER BY p.pos) FROM map_personas p WHERE p.map_id = m.id),
	(SELECT json_group_array(t.tag ORDER BY t.pos) FROM map_tags t WHERE t.map_id = m.id)`

// summaries lists the maps matching cond, most recently changed first;
// tail goes after the ORDER BY (a LIMIT and OFFSET).
func summaries(ctx context.Context, q querier, cond string, args []any, tail string) ([]meta.MapSummary, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+summaryCols+` FROM maps m WHERE `+cond+`
		ORDER BY m.updated_at DESC, m.id DESC `+tail, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []meta.MapSummary{}
	for rows.Next() {
		var (
			ms            meta.MapSummary
			personas, tgs string
		)
		if err := rows.Scan(&ms.ID, &ms.Name, &ms.Kind, &ms.Description, &ms.Locale, &ms.Version, &ms.Stages, &ms.Steps,
			timeCol{&ms.CreatedAt}, timeCol{&ms.UpdatedAt}, &ms.UpdatedBy, &personas, &tgs); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(personas), &ms.PersonaIDs); err != nil {
			return nil, fmt.Errorf("decode personas of map %s: %w", ms.ID, err)
		}
		if err := json.Unmarshal([]byte(tgs), &ms.Tags); err != nil {
			return nil, fmt.Errorf("decode tags of map %s: %w", ms.ID, err)
		}
		out = append(out, ms)
	}
	return out, rows.Err()
}

// Maps implements meta.Store.
func (s *Store) Maps(ctx context.Context, workspaceID string, f meta.MapFilter) ([]meta.MapSummary, error) {
	cond := []string{`m.workspace_id = ?`}
	args := []any{workspaceID}
	// instr, not LIKE: a query is plain text, and '%' or '_' in it must
	// match themselves.
	if q := searchText(strings.TrimSpace(f.Query)); q != "" {
		cond = append(cond, `instr(m.search_key, ?) > 0`)
		args = append(args, q)
	}
	if f.Kind != "" {
		cond = append(cond, `m.kind = ?`)
		args = append(args, string(f.Kind))
	}
	if f.PersonaID != "" {
		cond = append(cond, `EXISTS (SELECT 1 FROM map_personas p WHERE p.map_id = m.id AND p.persona_id = ?)`)
		args = append(args, f.PersonaID)
	}
	if t := fold(strings.TrimSpace(f.Tag)); t != "" {
		cond = append(cond, `EXISTS (SELECT 1 FROM map_tags t WHERE t.map_id = m.id AND t.tag_key = ?)`)
		args = append(args, t)
	}
	tail := ""
	if f.Limit > 0 || f.Offset > 0 {
		limit := -1 // SQLite's "no limit", needed to write an OFFSET
		if f.Limit > 0 {
			limit = f.Limit
		}
		tail = `LIMIT ? OFFSET ?`
		args = append(args, limit, max(0, f.Offset))
	}
	var out []meta.MapSummary
	err := s.read(ctx, "list maps of "+workspaceID, func(tx *sql.Tx) error {
		if err := workspaceExists(ctx, tx, workspaceID); err != nil {
			return err
		}
		var err error
		out, err = summaries(ctx, tx, strings.Join(cond, " AND "), args, tail)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteMap implements meta.Store; the versions go with the map through
// the foreign keys' cascade.
func (s *Store) DeleteMap(ctx context.Context, workspaceID, id string) error {
	return s.write(ctx, "delete map "+id, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM maps WHERE id = ? AND workspace_id = ?`, id, workspaceID)
		return affected(res, err, notFound("map", id))
	})
}

func mapExists(ctx context.Context, q querier, workspaceID, id string) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM maps WHERE id = ? AND workspace_id = ?`, id, workspaceID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return notFound("map", id)
	}
	return nil
}

// Versions implements meta.Store.
func (s *Store) Versions(ctx context.Context, workspaceID, id string) ([]meta.Version, error) {
	out := []meta.Version{}
	err := s.read(ctx, "list versions of map "+id, func(tx *sql.Tx) error {
		if err := mapExists(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT version, author, message, created_at, name
			FROM map_versions WHERE map_id = ? ORDER BY version DESC`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v meta.Version
			if err := rows.Scan(&v.Version, &v.Author, &v.Message, timeCol{&v.CreatedAt}, &v.Name); err != nil {
				return err
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MapVersion implements meta.Store. The map comes back as it was saved in
// that version: UpdatedAt and UpdatedBy are that version's.
func (s *Store) MapVersion(ctx context.Context, workspaceID, id string, version int) (journey.Map, meta.Version, error) {
	var (
		m       journey.Map
		v       meta.Version
		doc     string
		created time.Time
	)
	err := s.read(ctx, fmt.Sprintf("read map %s version %d", id, version), func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT v.document, v.version, v.author, v.message, v.created_at, v.name, m.created_at
			FROM maps m JOIN map_versions v ON v.map_id = m.id
			WHERE m.id = ? AND m.workspace_id = ? AND v.version = ?`, id, workspaceID, version).
			Scan(&doc, &v.Version, &v.Author, &v.Message, timeCol{&v.CreatedAt}, &v.Name, timeCol{&created})
		if errors.Is(err, sql.ErrNoRows) {
			if err := mapExists(ctx, tx, workspaceID, id); err != nil {
				return err
			}
			return fault.New(fault.NotFound, "map %q has no version %d", id, version)
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(doc), &m); err != nil {
			return fmt.Errorf("decode document: %w", err)
		}
		return nil
	})
	if err != nil {
		return journey.Map{}, meta.Version{}, err
	}
	m.ID, m.Version, m.CreatedAt, m.UpdatedAt, m.UpdatedBy = id, v.Version, created, v.CreatedAt, v.Author
	return m, v, nil
}

// CreatePersona implements meta.Store.
func (s *Store) CreatePersona(ctx context.Context, workspaceID string, p journey.Persona) (journey.Persona, error) {
	p.ID = journey.NewID("per")
	p.CreatedAt = now()
	p.UpdatedAt = p.CreatedAt
	doc, err := json.Marshal(p)
	if err != nil {
		return journey.Persona{}, fmt.Errorf("create persona: encode: %w", err)
	}
	err = s.write(ctx, fmt.Sprintf("create persona %q", p.Name), func(tx *sql.Tx) error {
		if err := workspaceExists(ctx, tx, workspaceID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO personas (id, workspace_id, name, name_key, document, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			p.ID, workspaceID, p.Name, fold(p.Name), string(doc), fmtTime(p.CreatedAt), fmtTime(p.UpdatedAt))
		return err
	})
	if err != nil {
		return journey.Persona{}, err
	}
	return p, nil
}

func scanPersona(sc interface{ Scan(...any) error }) (journey.Persona, error) {
	var (
		p                journey.Persona
		id, doc          string
		created, updated time.Time
	)
	if err := sc.Scan(&id, &doc, timeCol{&created}, timeCol{&updated}); err != nil {
		return p, err
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return p, fmt.Errorf("decode persona %s: %w", id, err)
	}
	p.ID, p.CreatedAt, p.UpdatedAt = id, created, updated
	return p, nil
}

// Persona implements meta.Store.
func (s *Store) Persona(ctx context.Context, workspaceID, id string) (journey.Persona, error) {
	p, err := scanPersona(s.r.QueryRowContext(ctx, `SELECT id, document, created_at, updated_at
		FROM personas WHERE id = ? AND workspace_id = ?`, id, workspaceID))
	if err != nil {
		return journey.Persona{}, wrap("read persona "+id, noRow(err, "persona", id))
	}
	return p, nil
}

// Personas implements meta.Store; they come in name order.
func (s *Store) Personas(ctx context.Context, workspaceID string) ([]journey.Persona, error) {
	out := []journey.Persona{}
	err := s.read(ctx, "list personas of "+workspaceID, func(tx *sql.Tx) error {
		if err := workspaceExists(ctx, tx, workspaceID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, document, created_at, updated_at
			FROM personas WHERE workspace_id = ? ORDER BY name_key, id`, workspaceID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scanPersona(rows)
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdatePersona implements meta.Store. Personas are not versioned: the
// last write wins.
func (s *Store) UpdatePersona(ctx context.Context, workspaceID string, p journey.Persona) (journey.Persona, error) {
	if p.ID == "" {
		return journey.Persona{}, fault.New(fault.Invalid, "the persona to update has no id")
	}
	p.UpdatedAt = now()
	err := s.write(ctx, "update persona "+p.ID, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT created_at FROM personas WHERE id = ? AND workspace_id = ?`, p.ID, workspaceID).
			Scan(timeCol{&p.CreatedAt})
		if err != nil {
			return noRow(err, "persona", p.ID)
		}
		doc, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("encode: %w", err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE personas SET name = ?, name_key = ?, document = ?, updated_at = ? WHERE id = ?`,
			p.Name, fold(p.Name), string(doc), fmtTime(p.UpdatedAt), p.ID)
		return err
	})
	if err != nil {
		return journey.Persona{}, err
	}
	return p, nil
}

// DeletePersona implements meta.Store. Only current versions count: old
// versions are history and may name a persona that no longer exists. The
// conflict's Current lists the maps in the way, as summaries, so that a
// client can link to them.
func (s *Store) DeletePersona(ctx context.Context, workspaceID, id string) error {
	return s.write(ctx, "delete persona "+id, func(tx *sql.Tx) error {
		var name string
		err := tx.QueryRowContext(ctx, `SELECT name FROM personas WHERE id = ? AND workspace_id = ?`, id, workspaceID).Scan(&name)
		if err != nil {
			return noRow(err, "persona", id)
		}
		using, err := summaries(ctx, tx, `m.workspace_id = ? AND EXISTS
			(SELECT 1 FROM map_personas p WHERE p.map_id = m.id AND p.persona_id = ?)`, []any{workspaceID, id}, "")
		if err != nil {
			return err
		}
		if len(using) > 0 {
			names := make([]string, len(using))
			for i, ms := range using {
				names[i] = fmt.Sprintf("%q", ms.Name)
			}
			return &fault.Error{
				Code: fault.Conflict,
				Message: fmt.Sprintf("persona %q is still named by %s %s; remove it there first",
					name, plural(len(using), "map", "maps"), strings.Join(names, ", ")),
				Current: using,
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM personas WHERE id = ?`, id)
		return err
	})
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
