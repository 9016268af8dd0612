package event

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/trekhq/trek/internal/fault"
)

// Meta is what the collection layer knows about a request that the body
// does not say.
type Meta struct {
	// ReceivedAt is when the request arrived; zero means now. It anchors
	// the skew correction and the future and past bounds.
	ReceivedAt time.Time
	// SourceID is the trek source the write key belongs to.
	SourceID string
	// SourceChannel is the source's channel, used for events that do not
	// name a known channel themselves.
	SourceChannel string
	// NewID makes a messageId for events sent without one; nil means a
	// random UUID (version 4).
	NewID func() string
}

// Batch is the result of reading a /v1/batch body.
type Batch struct {
	// Events are the valid events, normalised, in the order sent.
	Events []Event `json:"events"`
	// Rejected are the events that failed validation, each with the
	// reason and the bytes it was sent as, for the quarantine.
	Rejected []Rejected `json:"rejected"`
	// WriteKey is the body's writeKey field ("" when absent): Segment
	// accepts the key there as well as in the Authorization header.
	WriteKey string `json:"writeKey"`
}

// Rejected is one event of a well-formed request that failed validation.
// It is also the error (in the chain of the *fault.Error) that ParseCall
// returns for such an event, so that the collection layer can quarantine
// a single call as it does an element of a batch:
//
//	if rej, ok := event.AsRejected(err); ok { quarantine(rej) }
type Rejected struct {
	// Index is the event's position in the batch (0 for a single call).
	Index int `json:"index"`
	// Reason says what is wrong and where ("track call without event name").
	Reason string `json:"reason"`
	// Raw is the event exactly as sent (a copy, safe to keep).
	Raw json.RawMessage `json:"raw"`
}

func (r *Rejected) Error() string { return "event rejected" }

// AsRejected returns the rejected event in err's chain: ParseCall's and
// ParseEvent's error for a well-formed body whose event is invalid. ok is
// false for every other error, a malformed request among them.
func AsRejected(err error) (rej Rejected, ok bool) {
	var r *Rejected
	if errors.As(err, &r) {
		return *r, true
	}
	return Rejected{}, false
}

// ParseCall reads the body of a single call (POST /v1/track, /v1/identify,
// /v1/page, /v1/screen, /v1/group, /v1/alias) of type typ and returns the
// event validated and normalised. A "type" in the body must agree with
// typ; with typ == "" the body's type is used (and required).
//
// A malformed request (over MaxEventBytes: fault.TooLarge; not JSON, not
// an object, invalid UTF-8 or a lone surrogate anywhere: fault.Invalid
// with the position) is refused with a *fault.Error that has no Rejected
// in its chain. A well-formed body whose event fails validation gives a
// *fault.Error of code Invalid whose message is the reason, with a
// *Rejected in its chain.
func ParseCall(typ Type, raw []byte, meta Meta, lim Limits) (Event, error) {
	return parseOne(typ, "", raw, meta, lim)
}

// ParseEvent reads one event in the Segment shape whose type comes from
// its body, def when the body has none (the NDJSON importer passes Track;
// the quarantine's replay passes the type it recorded). Errors are as
// ParseCall's.
func ParseEvent(raw []byte, def Type, meta Meta, lim Limits) (Event, error) {
	return parseOne("", def, raw, meta, lim)
}

func parseOne(typ, def Type, raw []byte, meta Meta, lim Limits) (Event, error) {
	lim = lim.WithDefaults()
	if len(raw) > lim.MaxEventBytes {
		return Event{}, fault.New(fault.TooLarge, "the event is %d bytes; at most %d are allowed", len(raw), lim.MaxEventBytes)
	}
	st := getState(raw, &lim)
	defer putState(st)
	sc := &st.sc
	start := skipWS(raw, 0)
	if start == len(raw) {
		return Event{}, fault.New(fault.Invalid, "the body is empty; a JSON object is expected")
	}
	end, serr := sc.skip(start)
	if serr == nil {
		if rest := skipWS(raw, end); rest != len(raw) {
			serr = sc.fail(rest, "unexpected data after the JSON document")
		}
	}
	if serr != nil {
		return Event{}, malformed(raw, serr)
	}
	if raw[start] != '{' {
		return Event{}, fault.New(fault.Invalid, "the body must be a JSON object, not %s", kindAt(raw, start))
	}
	var e Event
	d := parseDraft(&st.p, raw[start:end], sc.scalars, sc.objs, &e)
	if reason := d.finish(&e, typ, def, nil, time.Time{}, &meta, &lim); reason != "" {
		rej := &Rejected{Reason: reason, Raw: json.RawMessage(slices.Clone(raw[start:end]))}
		return Event{}, &fault.Error{Code: fault.Invalid, Message: reason, Err: rej}
	}
	return e, nil
}

func malformed(raw []byte, e *syntaxError) *fault.Error {
	if e.msg == "the body ends too early" {
		return fault.New(fault.Invalid, "malformed JSON: the body ends too early")
	}
	return fault.New(fault.Invalid, "malformed JSON at %s: %s", position(raw, e.off), e.msg)
}

// ParseBatch reads the body of POST /v1/batch:
//
//	{"batch": [event, ...], "sentAt": ..., "context": {...}, "writeKey": "..."}
//
// The batch-level context is merged into each event's context (the
// event's own keys win, as in Segment), and the batch-level sentAt is used
// for events that have none. Other top-level fields are ignored.
//
// The whole request is refused with a *fault.Error when it is malformed:
// over MaxBatchBytes (TooLarge); not JSON, invalid UTF-8 or a lone
// surrogate anywhere, not an object, no batch list, more than
// MaxBatchEvents events, or a batch-level sentAt, context or writeKey of
// the wrong shape (Invalid, saying what and where). Otherwise every event
// is either in Events or in Rejected.
func ParseBatch(raw []byte, meta Meta, lim Limits) (Batch, error) {
	lim = lim.WithDefaults()
	if len(raw) > lim.MaxBatchBytes {
		return Batch{}, fault.New(fault.TooLarge, "the batch is %d bytes; at most %d are allowed", len(raw), lim.MaxBatchBytes)
	}
	st := getState(raw, &lim)
	defer putState(st)
	env, err := scanEnvelope(&st.sc, &lim)
	if err != nil {
		return Batch{}, err
	}
	out := Batch{WriteKey: env.writeKey, Events: make([]Event, 0, len(env.spans))}
	p := &st.p
	for idx, sp := range env.spans {
		span := raw[sp[0]:sp[1]]
		var reason string
		switch {
		case len(span) > lim.MaxEventBytes:
			reason = fmt.Sprintf("the event is %d bytes; at most %d are allowed", len(span), lim.MaxEventBytes)
		case span[0] != '{':
			reason = fmt.Sprintf("an event must be a JSON object, not %s", kindAt(span, 0))
		default:
			out.Events = append(out.Events, Event{})
			e := &out.Events[len(out.Events)-1]
			d := parseDraft(p, span, sp[2], env.objs[sp[3]:], e)
			if reason = d.finish(e, "", "", env.context, env.sentAt, &meta, &lim); reason == "" {
				continue
			}
			*e = Event{} // let the rejected event's values go
			out.Events = out.Events[:len(out.Events)-1]
		}
		out.Rejected = append(out.Rejected, Rejected{Index: idx, Reason: reason, Raw: json.RawMessage(slices.Clone(span))})
	}
	return out, nil
}

// state is the scratch space of one parse, pooled: a single call would
// otherwise spend a third of its allocations growing the scanner's stacks
// and the builder's buffers from nothing.
type state struct {
	sc scanner
	p  builder
}

var states = sync.Pool{New: func() any { return new(state) }}

func getState(raw []byte, lim *Limits) *state {
	st := states.Get().(*state)
	st.sc.b, st.sc.scalars = raw, 0
	st.sc.objs = st.sc.objs[:0]
	st.p.lim = lim
	return st
}

// putState returns st to the pool without the references that belong to
// the caller's body or to the events made (the slab, the span's string).
func putState(st *state) {
	st.sc.b = nil
	st.p = builder{buf: st.p.buf[:0]}
	// One huge body should not pin its scratch space for ever.
	if cap(st.sc.objs) > 1<<16 {
		st.sc.objs = nil
	}
	if cap(st.p.buf) > 1<<16 {
		st.p.buf = nil
	}
	states.Put(st)
}

// envelope is the top level of a batch body.
type envelope struct {
	spans    [][4]int // each element of "batch": start, end, scalars, first index in objs
	objs     []int32  // the scanner's member counts (scanner.objs)
	context  map[string]any
	sentAt   time.Time
	writeKey string
}

func scanEnvelope(sc *scanner, lim *Limits) (*envelope, error) {
	raw := sc.b
	i := skipWS(raw, 0)
	if i == len(raw) {
		return nil, fault.New(fault.Invalid, "the body is empty; a JSON object is expected")
	}
	if raw[i] != '{' {
		// Validate first: a syntax error is the better message.
		if _, serr := sc.skip(i); serr != nil {
			return nil, malformed(raw, serr)
		}
		return nil, fault.New(fault.Invalid, "the body must be a JSON object with a batch list, not %s", kindAt(raw, i))
	}
	env := &envelope{}
	var seen struct{ batch, context, sentAt, writeKey bool }
	once := func(flag *bool, key string) error {
		if *flag {
			return fault.New(fault.Invalid, "the body has %q twice", key)
		}
		*flag = true
		return nil
	}
	i = skipWS(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		i++
	} else {
		for {
			kstart := i
			vstart, serr := sc.key(i)
			if serr != nil {
				return nil, malformed(raw, serr)
			}
			// Envelope keys are plain ASCII in every client; a key with
			// escapes just does not match and is skipped.
			kend := kstart + 1
			for kend < len(raw) && raw[kend] != '"' && raw[kend] != '\\' {
				kend++
			}
			key := string(raw[kstart+1 : kend])
			if raw[kend] == '\\' {
				key = ""
			}
			i = vstart
			if i >= len(raw) {
				return nil, malformed(raw, sc.eof())
			}
			switch key {
			case "batch":
				if err := once(&seen.batch, key); err != nil {
					return nil, err
				}
				if raw[i] != '[' {
					if _, serr := sc.skip(i); serr != nil {
						return nil, malformed(raw, serr)
					}
					return nil, fault.New(fault.Invalid, "batch must be a list of events, not %s", kindAt(raw, i))
				}
				if i, serr = scanList(sc, i, lim.MaxBatchEvents, &env.spans); serr != nil {
					if serr.msg == tooMany {
						return nil, fault.New(fault.Invalid, "the batch has more than %d events", lim.MaxBatchEvents)
					}
					return nil, malformed(raw, serr)
				}
			default:
				vend, serr := sc.skip(i)
				if serr != nil {
					return nil, malformed(raw, serr)
				}
				if err := env.field(key, raw, i, vend, lim, once, &seen.context, &seen.sentAt, &seen.writeKey); err != nil {
					return nil, err
				}
				i = vend
			}
			i = skipWS(raw, i)
			if i >= len(raw) {
				return nil, malformed(raw, sc.eof())
			}
			if raw[i] == '}' {
				i++
				break
			}
			if raw[i] != ',' {
				return nil, malformed(raw, sc.unexpected(i, "expected ',' or '}' after an object member"))
			}
			i = skipWS(raw, i+1)
		}
	}
	if rest := skipWS(raw, i); rest != len(raw) {
		return nil, malformed(raw, sc.fail(rest, "unexpected data after the JSON document"))
	}
	if !seen.batch {
		return nil, fault.New(fault.Invalid, "the body has no batch list")
	}
	env.objs = sc.objs
	return env, nil
}

// field reads the envelope's context, sentAt and writeKey; it ignores
// other keys (Segment's libraries add their own, such as metadata).
func (env *envelope) field(key string, raw []byte, i, end int, lim *Limits, once func(*bool, string) error, ctx, sent, wk *bool) error {
	switch key {
	case "context":
		if err := once(ctx, key); err != nil {
			return err
		}
		switch raw[i] {
		case 'n':
			return nil
		case '{':
		default:
			return fault.New(fault.Invalid, "the batch's context must be an object, not %s", kindAt(raw, i))
		}
		p := newBuilder(raw[i:end], lim)
		m, _, ferr := p.object(0, 1)
		if ferr != nil {
			return fault.New(fault.Invalid, "the batch's %s", ferr.at("context").reason())
		}
		env.context = m
	case "sentAt":
		if err := once(sent, key); err != nil {
			return err
		}
		switch raw[i] {
		case 'n':
			return nil
		case '"':
		default:
			return fault.New(fault.Invalid, "the batch's sentAt must be an ISO-8601 string, not %s", kindAt(raw, i))
		}
		s, _ := newBuilder(raw[i:end], lim).str(0)
		t, ok := ParseTime(s)
		if !ok {
			return fault.New(fault.Invalid, "the batch's sentAt %q is not an ISO-8601 time", truncate(s, 64))
		}
		env.sentAt = t
	case "writeKey":
		if err := once(wk, key); err != nil {
			return err
		}
		switch raw[i] {
		case 'n':
			return nil
		case '"':
		default:
			return fault.New(fault.Invalid, "writeKey must be a string, not %s", kindAt(raw, i))
		}
		env.writeKey, _ = newBuilder(raw[i:end], lim).str(0)
	}
	return nil
}

const tooMany = "too many elements"

// scanList validates the list at raw[i] == '[' and records the span of
// each element, stopping with tooMany past max elements (before reading
// the rest: a batch of a million events is refused at its 2,501st).
func scanList(sc *scanner, i, max int, spans *[][4]int) (int, *syntaxError) {
	raw := sc.b
	i = skipWS(raw, i+1)
	if i < len(raw) && raw[i] == ']' {
		return i + 1, nil
	}
	for {
		if len(*spans) == max {
			return i, &syntaxError{off: i, msg: tooMany}
		}
		if i >= len(raw) {
			return i, sc.eof()
		}
		sc.scalars = 0
		objs := len(sc.objs)
		end, serr := sc.skip(i)
		if serr != nil {
			return end, serr
		}
		*spans = append(*spans, [4]int{i, end, sc.scalars, objs})
		i = skipWS(raw, end)
		if i >= len(raw) {
			return i, sc.eof()
		}
		switch raw[i] {
		case ']':
			return i + 1, nil
		case ',':
			i = skipWS(raw, i+1)
		default:
			return i, sc.unexpected(i, "expected ',' or ']' after a list element")
		}
	}
}

// WriteKeyOf returns the writeKey field of a collection body (a single call
// or a batch), or "" when there is none or the body is not a JSON object.
// The collection layer needs the key, and with it the source, before it
// can parse the body with the source's Meta; this reads only the top
// level, skipping every other value, so it costs a fraction of a parse.
func WriteKeyOf(raw []byte) string {
	sc := scanner{b: raw}
	i := skipWS(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return ""
	}
	i = skipWS(raw, i+1)
	for i < len(raw) && raw[i] == '"' {
		kstart := i
		vstart, serr := sc.key(i)
		if serr != nil {
			return ""
		}
		vend, serr := sc.skip(vstart)
		if serr != nil {
			return ""
		}
		if vstart-kstart > 10 && string(raw[kstart:kstart+10]) == `"writeKey"` && raw[vstart] == '"' {
			s, _ := newBuilder(raw[vstart:vend], &Limits{}).str(0)
			return s
		}
		i = skipWS(raw, vend)
		if i >= len(raw) || raw[i] != ',' {
			return ""
		}
		i = skipWS(raw, i+1)
	}
	return ""
}

// newUUID makes a random (version 4) UUID for events sent without a
// messageId.
func newUUID() string {
	var u [16]byte
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}
