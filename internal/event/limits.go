package event

import "time"

// Limits bounds what one collection request and one event may carry. The
// zero value of every field means its default, so Limits{} is the
// documented policy; set a field only to change it.
//
// | limit          | default  | what happens past it                               |
// | -------------- | -------- | -------------------------------------------------- |
// | MaxBatchBytes  | 500 KiB  | the /v1/batch body is refused whole (TooLarge)     |
// | MaxEventBytes  | 32 KiB   | a single call is refused whole (TooLarge); inside  |
// |                |          | a batch only that event is rejected                |
// | MaxBatchEvents | 2,500    | the batch is refused whole (Invalid)               |
// | MaxProperties  | 250      | the event is rejected                              |
// | MaxDepth       | 5        | the event is rejected                              |
// | MaxNameLen     | 200      | the event is rejected                              |
// | MaxIDLen       | 256      | the event is rejected                              |
// | FutureBound    | 24 h     | the event is rejected (quarantined)                |
// | PastBound      | 3,650 d  | the event is rejected (quarantined)                |
//
// The byte limits are Segment's own, so a client library that batches
// for Segment never builds a request trek refuses.
type Limits struct {
	// MaxEventBytes caps one event as it is sent: the body of a single
	// call, or one element of a batch, in bytes of JSON.
	MaxEventBytes int
	// MaxBatchBytes caps the body of a /v1/batch request.
	MaxBatchBytes int
	// MaxBatchEvents caps the number of events in one batch.
	MaxBatchEvents int
	// MaxProperties caps the keys of any one object inside properties,
	// traits or context (the top-level object and every nested one).
	MaxProperties int
	// MaxDepth caps how deeply properties, traits and context nest: the
	// properties object itself is level 1, an object or list inside it
	// level 2, and so on. At most 64; larger values are treated as 64,
	// because the parser recurses once per level.
	MaxDepth int
	// MaxNameLen caps a track event's name and a page or screen name, in
	// characters (not bytes: Vietnamese and Greek names take two or three
	// bytes a character and should not get a shorter limit for it).
	MaxNameLen int
	// MaxIDLen caps messageId, userId, anonymousId, previousId and
	// groupId, in bytes: they are machine keys, stored and indexed as
	// bytes.
	MaxIDLen int
	// FutureBound: an event whose (skew-corrected) time is more than this
	// after it was received is rejected. Clients with a clock years ahead
	// would otherwise put events where no query looks for them.
	FutureBound time.Duration
	// PastBound: an event whose time is more than this before it was
	// received is rejected, which catches clients whose clock reset to
	// 1970 or 0001. Ten years leaves room for backfilling history through
	// the collection API, as Segment's docs suggest doing with /v1/batch.
	PastBound time.Duration
	// NoPastBound switches PastBound off: the importers set it, because
	// an event log of history (BPI Challenge 2012 is from 2011) is old by
	// nature.
	NoPastBound bool
}

// The defaults of Limits.
const (
	DefaultMaxEventBytes  = 32 << 10
	DefaultMaxBatchBytes  = 500 << 10
	DefaultMaxBatchEvents = 2500
	DefaultMaxProperties  = 250
	DefaultMaxDepth       = 5
	DefaultMaxNameLen     = 200
	DefaultMaxIDLen       = 256
	DefaultFutureBound    = 24 * time.Hour
	DefaultPastBound      = 3650 * 24 * time.Hour

	// maxDepthCeiling bounds MaxDepth: the value builder recurses once
	// per level, and beyond this nothing real nests.
	maxDepthCeiling = 64
)

// MaxKeyLen caps a key inside properties, traits or context, in bytes.
//
// Key rules: a key is non-empty, at most MaxKeyLen bytes, valid UTF-8 and
// free of control characters (C0, DEL and C1). Anything else is allowed,
// including dots, spaces and a leading `$`: PostHog and Mixpanel exports
// are full of `$`-prefixed keys ($current_url, $browser), trek adds no
// keys of its own to properties, so there is nothing to reserve the
// prefix for, and refusing it would make those histories unimportable.
const MaxKeyLen = 128

// DefaultLimits returns the documented defaults, every field filled.
func DefaultLimits() Limits { return Limits{}.WithDefaults() }

// WithDefaults returns l with every zero field set to its default and
// MaxDepth clamped. The parsers apply it themselves; a caller that reads
// the fields (to cap a request body at MaxBatchBytes before parsing, say)
// should read them from l.WithDefaults(), not from l.
func (l Limits) WithDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxEventBytes, DefaultMaxEventBytes)
	def(&l.MaxBatchBytes, DefaultMaxBatchBytes)
	def(&l.MaxBatchEvents, DefaultMaxBatchEvents)
	def(&l.MaxProperties, DefaultMaxProperties)
	def(&l.MaxDepth, DefaultMaxDepth)
	def(&l.MaxNameLen, DefaultMaxNameLen)
	def(&l.MaxIDLen, DefaultMaxIDLen)
	if l.MaxDepth > maxDepthCeiling {
		l.MaxDepth = maxDepthCeiling
	}
	if l.FutureBound <= 0 {
		l.FutureBound = DefaultFutureBound
	}
	if l.PastBound <= 0 {
		l.PastBound = DefaultPastBound
	}
	return l
}
