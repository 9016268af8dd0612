// Package event is trek's event model: one customer interaction in the
// Segment Spec shape (track, identify, page, screen, group, alias), with its
// validation, normalisation and clock-skew correction. It knows nothing of
// HTTP or storage; the collection API, the importers and the store all speak
// in these types.
//
// Reading collection bodies (ParseCall, ParseEvent, ParseBatch) follows
// these rules, which the collection docs repeat:
//
//   - A malformed request is refused whole with a *fault.Error: not JSON,
//     not an object, invalid UTF-8 or a lone surrogate escape anywhere in
//     the body (refused, never replaced by U+FFFD), a batch that is not a
//     list or holds more than Limits.MaxBatchEvents events, a body over
//     the byte limits. Messages give the line and column.
//   - In a well-formed batch each event is checked on its own; an invalid
//     one becomes a Rejected with its reason and exact bytes, and the
//     others are kept.
//   - Types are strict: event, name, messageId, type are strings;
//     properties, traits, context objects; timestamps ISO-8601 strings
//     (ParseTime). userId, anonymousId, previousId and groupId may also be
//     integers, which become their digits. null is the same as absent.
//   - A key that appears twice in an object rejects the event: which of
//     the two a reader believes differs from reader to reader.
//   - Fields the call type does not have are dropped (an identify call's
//     event name), and fields outside the Spec (integrations, _metadata)
//     are ignored.
//   - Normalisation: a messageId is generated when absent; the event time
//     is corrected for the sender's clock skew when sentAt is given; the
//     channel is context.channel, else the source's, else a top-level
//     channel, else "other"; all times are UTC.
//
// Limits holds the size, depth and time bounds and their defaults;
// IdentifierRules and Identifiers give the normalised identifiers an event
// carries, for the identity graph.
package event

import "time"

// Type is a Segment Spec call type.
type Type string

// The Segment Spec call types.
const (
	Track    Type = "track"
	Identify Type = "identify"
	Page     Type = "page"
	Screen   Type = "screen"
	Group    Type = "group"
	Alias    Type = "alias"
)

// Types lists every call type.
var Types = []Type{Track, Identify, Page, Screen, Group, Alias}

// Event is one interaction after validation and normalisation.
type Event struct {
	// MessageID identifies the event within its source; repeats are
	// stored once. Generated when the sender gives none.
	MessageID string `json:"messageId"`
	Type      Type   `json:"type"`
	// Event is the name of a track call ("Order Completed").
	Event string `json:"event,omitempty"`
	// Name is the page or screen name of a page or screen call.
	Name        string `json:"name,omitempty"`
	UserID      string `json:"userId,omitempty"`
	AnonymousID string `json:"anonymousId,omitempty"`
	// PreviousID is the identifier an alias call links to UserID.
	PreviousID string `json:"previousId,omitempty"`
	GroupID    string `json:"groupId,omitempty"`
	// Channel is where the interaction happened (web, mobile, call_centre,
	// store, email, ads, social, chat, partner, crm, other): the event's own
	// context.channel when given, else its source's channel.
	Channel    string         `json:"channel,omitempty"`
	Properties map[string]any `json:"properties,omitempty"`
	Traits     map[string]any `json:"traits,omitempty"`
	Context    map[string]any `json:"context,omitempty"`

	// Timestamp is the event time, corrected for the sender's clock skew
	// when SentAt was given: OriginalTimestamp + (ReceivedAt − SentAt).
	Timestamp         time.Time `json:"timestamp"`
	OriginalTimestamp time.Time `json:"originalTimestamp,omitzero"`
	SentAt            time.Time `json:"sentAt,omitzero"`
	ReceivedAt        time.Time `json:"receivedAt"`
	// SourceID is the trek source that sent or imported the event.
	SourceID string `json:"sourceId"`
	// Seq is the event's place in its workspace's arrival order, set by
	// the event store when it reads events back. It breaks ties between
	// equal timestamps (DESIGN.md, "Time order") when events filed under
	// several keys of one customer are merged.
	Seq uint64 `json:"-"`
}

// Activity is the name analytics use for the event: the track event name,
// "Page Viewed" / "Screen Viewed" for page and screen calls, and the call
// type capitalised for the others ("Identify", "Group", "Alias").
func (e *Event) Activity() string {
	switch e.Type {
	case Track:
		return e.Event
	case Page:
		return "Page Viewed"
	case Screen:
		return "Screen Viewed"
	case Identify:
		return "Identify"
	case Group:
		return "Group"
	case Alias:
		return "Alias"
	}
	return string(e.Type)
}
