-- The first schema of trek's metadata store.
--
-- Times are TEXT in the fixed-width form 2006-01-02T15:04:05.000000Z (UTC,
-- microseconds), so they read well in the sqlite3 shell and compare and
-- sort correctly as strings.
--
-- Columns ending in _key hold a case-folded, NFC-normalised copy of a text
-- for case-insensitive matching: SQLite's NOCASE and LIKE fold only ASCII,
-- and trek's users write Vietnamese, Greek and Polish.

-- +goose Up
CREATE TABLE workspaces (
    id         TEXT PRIMARY KEY,
    -- slugs are ASCII by convention, so NOCASE is enough to keep "Acme" and
    -- "acme" from being two workspaces.
    slug       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
) STRICT;

CREATE TABLE members (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    created_at   TEXT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX members_user ON members (user_id);

CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    hash         TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    last_used_at TEXT
) STRICT;

CREATE INDEX tokens_workspace ON tokens (workspace_id, created_at);

CREATE TABLE sessions (
    hash       TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- maps holds what listings and filters need about each map's current
-- version, so that a listing never has to parse documents.
CREATE TABLE maps (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL CHECK (version >= 1),
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    goal         TEXT NOT NULL DEFAULT '',
    locale       TEXT NOT NULL DEFAULT '',
    -- folded name, description, goal and tags, one per line, for the
    -- listing's free-text query
    search_key   TEXT NOT NULL DEFAULT '',
    stages       INTEGER NOT NULL DEFAULT 0,
    steps        INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    updated_by   TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX maps_workspace_updated ON maps (workspace_id, updated_at DESC, id DESC);

-- The personas and tags of each map's current version, in document order,
-- as rows so that filters and the persona-in-use check can use an index.
-- persona_id has no foreign key: a document is the user's and may name a
-- persona this workspace does not have (an imported map, say), and
-- DeletePersona checks this table itself so that its refusal can name the
-- maps.
CREATE TABLE map_personas (
    map_id     TEXT NOT NULL REFERENCES maps (id) ON DELETE CASCADE,
    pos        INTEGER NOT NULL,
    persona_id TEXT NOT NULL,
    PRIMARY KEY (map_id, pos)
) STRICT, WITHOUT ROWID;

CREATE INDEX map_personas_persona ON map_personas (persona_id);

CREATE TABLE map_tags (
    map_id  TEXT NOT NULL REFERENCES maps (id) ON DELETE CASCADE,
    pos     INTEGER NOT NULL,
    tag     TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    PRIMARY KEY (map_id, pos)
) STRICT, WITHOUT ROWID;

CREATE INDEX map_tags_key ON map_tags (tag_key);

-- Every saved state of every map. Documents can be large, so this is a
-- rowid table (WITHOUT ROWID suits small rows only).
CREATE TABLE map_versions (
    map_id     TEXT NOT NULL REFERENCES maps (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL CHECK (version >= 1),
    name       TEXT NOT NULL,
    document   TEXT NOT NULL CHECK (json_valid(document)),
    author     TEXT NOT NULL DEFAULT '',
    message    TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    PRIMARY KEY (map_id, version)
) STRICT;

-- A version is history: editing one would make "what did the map say on
-- that day" unanswerable, so the database itself refuses it. Versions
-- still go away with their map (DeleteMap), through the cascade.
-- +goose StatementBegin
CREATE TRIGGER map_versions_immutable
BEFORE UPDATE ON map_versions
BEGIN
    SELECT RAISE(ABORT, 'map versions are immutable');
END;
-- +goose StatementEnd

CREATE TABLE personas (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    name_key     TEXT NOT NULL,
    document     TEXT NOT NULL CHECK (json_valid(document)),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) STRICT;

CREATE INDEX personas_workspace ON personas (workspace_id, name_key);

-- +goose Down
DROP TABLE personas;
DROP TRIGGER map_versions_immutable;
DROP TABLE map_versions;
DROP TABLE map_tags;
DROP TABLE map_personas;
DROP TABLE maps;
DROP TABLE sessions;
DROP TABLE tokens;
DROP TABLE members;
DROP TABLE users;
DROP TABLE workspaces;
