// Package meta defines trek's metadata store: workspaces, users and their
// roles, bearer tokens, browser sessions, journey maps with every version,
// and personas. The interface is what the HTTP API and the CLI use; the
// embedded SQLite implementation lives in meta/sqlite, and every
// implementation must pass the contract suite in meta/metatest.
package meta

import (
	"context"
	"time"

	"github.com/trekhq/trek/internal/auth"
	"github.com/trekhq/trek/internal/journey"
)

// Store is the metadata store. Methods return *fault.Error with code
// NotFound for unknown ids, Conflict for duplicates and stale writes, and
// wrap anything else (I/O) as a plain error. Everything inside a workspace
// is addressed with its workspace id, so one workspace can never read or
// change another's data by guessing ids.
type Store interface {
	// Workspaces.
	CreateWorkspace(ctx context.Context, slug, name string) (Workspace, error)
	// Workspace finds a workspace by id or slug.
	Workspace(ctx context.Context, idOrSlug string) (Workspace, error)
	Workspaces(ctx context.Context) ([]Workspace, error)

	// Users and membership.
	CreateUser(ctx context.Context, name, passwordHash string) (User, error)
	// User finds a user by id or login name (case-insensitive).
	User(ctx context.Context, idOrName string) (User, error)
	SetPassword(ctx context.Context, userID, passwordHash string) error
	CountUsers(ctx context.Context) (int, error)
	// SetMember adds the user to the workspace or changes their role.
	SetMember(ctx context.Context, workspaceID, userID string, role auth.Role) error
	RemoveMember(ctx context.Context, workspaceID, userID string) error
	Members(ctx context.Context, workspaceID string) ([]Member, error)
	// Memberships lists the workspaces a user belongs to, by slug.
	Memberships(ctx context.Context, userID string) ([]Membership, error)

	// Bearer tokens; only their hashes are stored.
	CreateToken(ctx context.Context, t Token) (Token, error)
	TokenByHash(ctx context.Context, hash string) (Token, error)
	Tokens(ctx context.Context, workspaceID string) ([]Token, error)
	DeleteToken(ctx context.Context, workspaceID, id string) error
	// TouchToken records when a token was last used.
	TouchToken(ctx context.Context, id string, at time.Time) error

	// Browser sessions; only their hashes are stored.
	CreateSession(ctx context.Context, s Session) error
	// SessionByHash returns NotFound for unknown and expired sessions.
	SessionByHash(ctx context.Context, hash string, now time.Time) (Session, error)
	DeleteSession(ctx context.Context, hash string) error

	// Maps. Every write makes a new immutable version.
	// CreateMap stores m as version 1 with a new id and returns it as stored.
	CreateMap(ctx context.Context, workspaceID string, m journey.Map, c Change) (journey.Map, error)
	Map(ctx context.Context, workspaceID, id string) (journey.Map, error)
	Maps(ctx context.Context, workspaceID string, f MapFilter) ([]MapSummary, error)
	// UpdateMap stores m as the next version if the current version is
	// base; otherwise it returns a Conflict whose Current is the current
	// MapSummary and changes nothing.
	UpdateMap(ctx context.Context, workspaceID string, m journey.Map, base int, c Change) (journey.Map, error)
	// DeleteMap removes a map and all its versions.
	DeleteMap(ctx context.Context, workspaceID, id string) error
	// Versions lists a map's versions, newest first.
	Versions(ctx context.Context, workspaceID, id string) ([]Version, error)
	MapVersion(ctx context.Context, workspaceID, id string, version int) (journey.Map, Version, error)

	// Personas.
	CreatePersona(ctx context.Context, workspaceID string, p journey.Persona) (journey.Persona, error)
	Persona(ctx context.Context, workspaceID, id string) (journey.Persona, error)
	Personas(ctx context.Context, workspaceID string) ([]journey.Persona, error)
	UpdatePersona(ctx context.Context, workspaceID string, p journey.Persona) (journey.Persona, error)
	// DeletePersona refuses with Conflict while a map's current version
	// names the persona.
	DeletePersona(ctx context.Context, workspaceID, id string) error

	// Sources: channels that send events, each with its own write key.
	CreateSource(ctx context.Context, workspaceID string, src Source) (Source, error)
	Source(ctx context.Context, workspaceID, id string) (Source, error)
	Sources(ctx context.Context, workspaceID string) ([]Source, error)
	// SourceByWriteKey finds a source, in any workspace, by its write key.
	SourceByWriteKey(ctx context.Context, writeKey string) (Source, error)
	// UpdateSource changes a source's name, channel and disabled flag.
	UpdateSource(ctx context.Context, workspaceID string, src Source) (Source, error)
	// RotateWriteKey replaces a source's write key; the old one stops working.
	RotateWriteKey(ctx context.Context, workspaceID, id, writeKey string) (Source, error)

	// Quarantine: events refused by validation, kept with their reason and
	// raw payload until they are replayed or discarded. Durable on return.
	AddQuarantine(ctx context.Context, items []QuarantineItem) ([]QuarantineItem, error)
	QuarantineItems(ctx context.Context, workspaceID string, f QuarantineFilter) ([]QuarantineItem, error)
	QuarantineItem(ctx context.Context, workspaceID, id string) (QuarantineItem, error)
	// ResolveQuarantine marks an open item replayed or discarded; resolving
	// an item that is not open is a Conflict.
	ResolveQuarantine(ctx context.Context, workspaceID, id string, status QuarantineStatus, by string) error
	// DeleteQuarantine removes items for good, whatever their status (an
	// erased customer's payloads); unknown ids are ignored.
	DeleteQuarantine(ctx context.Context, workspaceID string, ids []string) (int, error)

	// Erasures: the record that a customer was erased, without personal data.
	RecordErasure(ctx context.Context, workspaceID string, e Erasure) (Erasure, error)
	Erasures(ctx context.Context, workspaceID string) ([]Erasure, error)

	Close() error
}

// Source is a channel that sends events with its own write key.
type Source struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspaceId"`
	Name        string `json:"name"`
	Channel     string `json:"channel"`
	// WriteKey is shown to admins: like Segment's, it is embedded in web
	// pages and apps, so it only allows sending events and is not a secret
	// in the way a token is.
	WriteKey  string     `json:"writeKey"`
	Disabled  bool       `json:"disabled"`
	CreatedAt time.Time  `json:"createdAt"`
	RotatedAt *time.Time `json:"rotatedAt,omitempty"`
}

// QuarantineStatus is where a quarantined event stands.
type QuarantineStatus string

// Quarantine statuses.
const (
	QuarantineOpen      QuarantineStatus = "open"
	QuarantineReplayed  QuarantineStatus = "replayed"
	QuarantineDiscarded QuarantineStatus = "discarded"
)

// QuarantineItem is one refused event.
type QuarantineItem struct {
	ID          string           `json:"id"`
	WorkspaceID string           `json:"workspaceId"`
	SourceID    string           `json:"sourceId"`
	Reason      string           `json:"reason"`
	Raw         []byte           `json:"raw"`
	ReceivedAt  time.Time        `json:"receivedAt"`
	Status      QuarantineStatus `json:"status"`
	ResolvedAt  *time.Time       `json:"resolvedAt,omitempty"`
	ResolvedBy  string           `json:"resolvedBy,omitempty"`
}

// QuarantineFilter narrows a quarantine listing.
type QuarantineFilter struct {
	SourceID string
	Status   QuarantineStatus // empty: every status
	Limit    int              // 0 means 100
	Offset   int
}

// Erasure records that a customer's data was erased.
type Erasure struct {
	ID          string    `json:"id"`
	CustomerID  string    `json:"customerId"`
	Identifiers int       `json:"identifiers"`
	Events      int       `json:"events"`
	By          string    `json:"by"`
	At          time.Time `json:"at"`
}

// Workspace is one organisation's data.
type Workspace struct {
	ID        string    `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
}

// User is a person who logs in to the web app.
type User struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"createdAt"`
}

// Member is a user's role in one workspace.
type Member struct {
	UserID   string    `json:"userId"`
	UserName string    `json:"userName"`
	Role     auth.Role `json:"role"`
	Since    time.Time `json:"since"`
}

// Membership is one workspace a user belongs to.
type Membership struct {
	Workspace Workspace `json:"workspace"`
	Role      auth.Role `json:"role"`
}

// Token is a bearer token for programs, bound to one workspace and role.
type Token struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	WorkspaceID string     `json:"workspaceId"`
	Role        auth.Role  `json:"role"`
	Hash        string     `json:"-"`
	CreatedBy   string     `json:"createdBy,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	LastUsedAt  *time.Time `json:"lastUsedAt,omitempty"`
}

// Session is a logged-in browser.
type Session struct {
	Hash      string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Change describes who made a version and why.
type Change struct {
	Author  string // user or token name
	Message string
	At      time.Time // zero means now
}

// Version is one saved state of a map.
type Version struct {
	Version   int       `json:"version"`
	Author    string    `json:"author"`
	Message   string    `json:"message,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	Name      string    `json:"name"` // the map's name in that version
}

// MapFilter narrows a map listing. Empty fields do not filter.
type MapFilter struct {
	Query     string // case-insensitive substring of name, description, goal or tags
	Kind      journey.Kind
	PersonaID string
	Tag       string
	Limit     int // 0 means no limit
	Offset    int
}

// MapSummary is a map in a listing.
type MapSummary struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Kind        journey.Kind `json:"kind"`
	Description string       `json:"description,omitempty"`
	PersonaIDs  []string     `json:"personaIds"`
	Tags        []string     `json:"tags"`
	Locale      string       `json:"locale,omitempty"`
	Version     int          `json:"version"`
	Stages      int          `json:"stages"`
	Steps       int          `json:"steps"`
	CreatedAt   time.Time    `json:"createdAt"`
	UpdatedAt   time.Time    `json:"updatedAt"`
	UpdatedBy   string       `json:"updatedBy"`
}
