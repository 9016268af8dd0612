-- Event collection: sources with their write keys, the quarantine of
-- refused events, and the record of erasures.

-- +goose Up
CREATE TABLE sources (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    channel      TEXT NOT NULL,
    write_key    TEXT NOT NULL UNIQUE,
    disabled     INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at   TEXT NOT NULL,
    rotated_at   TEXT
) STRICT;

CREATE INDEX sources_workspace ON sources (workspace_id, created_at);

CREATE TABLE quarantine (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    source_id    TEXT NOT NULL,
    reason       TEXT NOT NULL,
    raw          BLOB NOT NULL,
    received_at  TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'replayed', 'discarded')),
    resolved_at  TEXT,
    resolved_by  TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX quarantine_listing ON quarantine (workspace_id, status, received_at);

CREATE TABLE erasures (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    customer_id  TEXT NOT NULL,
    identifiers  INTEGER NOT NULL,
    events       INTEGER NOT NULL,
    by_whom      TEXT NOT NULL,
    at           TEXT NOT NULL
) STRICT;

CREATE INDEX erasures_workspace ON erasures (workspace_id, at);

-- +goose Down
DROP TABLE erasures;
DROP TABLE quarantine;
DROP TABLE sources;
