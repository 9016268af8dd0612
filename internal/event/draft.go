package event

import (
	"fmt"
	"time"
)

// draft is what is read from an event's JSON object beside the Event
// fields themselves, until the call type, the batch envelope and the
// request's Meta are applied. The Event is filled in place, where it will
// be returned: an Event is a few hundred bytes, and copying it from stage
// to stage showed in the profile.
type draft struct {
	typ      string
	ts, sent time.Time
	hasTS    bool
	hasSent  bool
	orig     time.Time // originalTimestamp: RudderStack's name for the client's time
	hasOrig  bool
	category string // a page call's top-level category
	channel  string // the top-level channel field
	reason   string // set when the event is rejected while reading
}

// The event fields trek reads; a second occurrence of one rejects the
// event, because which of the two a reader believes is up to the reader.
const (
	fType = 1 << iota
	fEvent
	fName
	fCategory
	fUserID
	fAnonymousID
	fPreviousID
	fGroupID
	fMessageID
	fTimestamp
	fSentAt
	fProperties
	fTraits
	fContext
	fChannel
	fOriginalTimestamp
)

// parseDraft reads an event object (span is a valid JSON object) into e.
// Fields outside the Spec (integrations, _metadata, version,
// receivedAt…) are skipped: trek has no destinations to route to, and
// receivedAt is trek's to set, not the client's.
func parseDraft(p *builder, span []byte, scalars int, counts []int32, e *Event) (d draft) {
	p.reset(span, scalars, counts)
	p.obj++ // the event object's own count
	b := span
	i := skipWS(b, 1)
	if b[i] == '}' {
		return d
	}
	var seen int
	for {
		k, end := p.str(i)
		i = skipWS(b, skipWS(b, end)+1)
		var bit int
		vend := -1
		var reason string
		switch k {
		case "type":
			bit = fType
			d.typ, vend, reason = p.stringField(i, k)
		case "event":
			bit = fEvent
			e.Event, vend, reason = p.stringField(i, k)
		case "name":
			bit = fName
			e.Name, vend, reason = p.stringField(i, k)
		case "category":
			bit = fCategory
			d.category, vend, reason = p.stringField(i, k)
		case "channel":
			bit = fChannel
			d.channel, vend, reason = p.stringField(i, k)
		case "messageId":
			bit = fMessageID
			e.MessageID, vend, reason = p.stringField(i, k)
		case "userId":
			bit = fUserID
			e.UserID, vend, reason = p.idField(i, k)
		case "anonymousId":
			bit = fAnonymousID
			e.AnonymousID, vend, reason = p.idField(i, k)
		case "previousId":
			bit = fPreviousID
			e.PreviousID, vend, reason = p.idField(i, k)
		case "groupId":
			bit = fGroupID
			e.GroupID, vend, reason = p.idField(i, k)
		case "timestamp":
			bit = fTimestamp
			d.ts, d.hasTS, vend, reason = p.timeField(i, k)
		case "sentAt":
			bit = fSentAt
			d.sent, d.hasSent, vend, reason = p.timeField(i, k)
		case "originalTimestamp":
			bit = fOriginalTimestamp
			d.orig, d.hasOrig, vend, reason = p.timeField(i, k)
		case "properties":
			bit = fProperties
			e.Properties, vend, reason = p.objectField(i, k)
		case "traits":
			bit = fTraits
			e.Traits, vend, reason = p.objectField(i, k)
		case "context":
			bit = fContext
			e.Context, vend, reason = p.objectField(i, k)
		default:
			vend = p.skip(i)
		}
		if reason != "" {
			d.reason = reason
			return d
		}
		if seen&bit != 0 {
			d.reason = fmt.Sprintf("duplicate key %q", k)
			return d
		}
		seen |= bit
		i = skipWS(b, vend)
		if b[i] == '}' {
			return d
		}
		i = skipWS(b, i+1)
	}
}

// stringField reads a string or null ("") at b[i].
func (p *builder) stringField(i int, name string) (string, int, string) {
	switch p.b[i] {
	case '"':
		s, end := p.str(i)
		return s, end, ""
	case 'n':
		return "", i + 4, ""
	}
	return "", i, fmt.Sprintf("%s must be a string, not %s", name, kindAt(p.b, i))
}

// idField reads an identifier: a string, or an integer, which becomes the
// string of its digits (Segment coerces numeric ids to strings, and many
// databases hand out numeric user ids). A number with a fraction or an
// exponent is refused: its string form would depend on the sender's
// number formatting, and the same user would get several ids.
func (p *builder) idField(i int, name string) (string, int, string) {
	c := p.b[i]
	if c != '-' && (c < '0' || c > '9') {
		return p.stringField(i, name)
	}
	n, end := p.num(i)
	for _, c := range []byte(n) {
		if c == '.' || c == 'e' || c == 'E' {
			return "", i, fmt.Sprintf("%s must be a string or an integer, not %s", name, n)
		}
	}
	return string(n), end, ""
}

// timeField reads an ISO-8601 time or null.
func (p *builder) timeField(i int, name string) (time.Time, bool, int, string) {
	switch p.b[i] {
	case 'n':
		return time.Time{}, false, i + 4, ""
	case '"':
	default:
		return time.Time{}, false, i, fmt.Sprintf("%s must be an ISO-8601 string, not %s", name, kindAt(p.b, i))
	}
	s, end := p.str(i)
	t, ok := ParseTime(s)
	if !ok {
		return time.Time{}, false, i, fmt.Sprintf("%s %q is not an ISO-8601 time", name, truncate(s, 64))
	}
	return t, true, end, ""
}

// objectField reads properties, traits or context: an object or null.
func (p *builder) objectField(i int, name string) (map[string]any, int, string) {
	switch p.b[i] {
	case 'n':
		return nil, i + 4, ""
	case '{':
	default:
		return nil, i, fmt.Sprintf("%s must be an object, not %s", name, kindAt(p.b, i))
	}
	m, end, ferr := p.object(i, 1)
	if ferr != nil {
		return nil, i, ferr.at(name).reason()
	}
	return m, end, ""
}

// finish applies the call type, the batch envelope (context and sentAt)
// and the request's Meta to a draft and its event, normalises the event
// and validates it. It returns the reason the event is rejected, or "".
//
// typ is the endpoint's type ("" for a batch element), def the type of an
// event whose body names none.
func (d *draft) finish(e *Event, typ, def Type, batchCtx map[string]any, batchSent time.Time, meta *Meta, lim *Limits) string {
	if d.reason != "" {
		return d.reason
	}
	switch {
	case typ != "" && d.typ != "" && Type(d.typ) != typ:
		return fmt.Sprintf("type %q does not match the %s call", truncate(d.typ, 32), typ)
	case typ != "":
		e.Type = typ
	case d.typ != "":
		e.Type = Type(d.typ)
	case def != "":
		e.Type = def
	default:
		return "no type: one of track, identify, page, screen, group or alias is required"
	}
	if !e.Type.Valid() {
		return fmt.Sprintf("unknown type %q", truncate(string(e.Type), 32))
	}

	// Keep only the fields the call type has, so that what is stored
	// means what the Spec says (an identify call has no event name).
	switch e.Type {
	case Track:
		e.Name, e.GroupID, e.PreviousID, e.Traits = "", "", "", nil
	case Identify:
		e.Event, e.Name, e.GroupID, e.PreviousID, e.Properties = "", "", "", "", nil
	case Page, Screen:
		e.Event, e.GroupID, e.PreviousID, e.Traits = "", "", "", nil
	case Group:
		e.Event, e.Name, e.PreviousID, e.Properties = "", "", "", nil
	case Alias:
		e.Event, e.Name, e.GroupID, e.Properties, e.Traits = "", "", "", nil, nil
	}
	// Segment's page call carries its category beside the name; trek's
	// event has no field for it, so it goes where analytics.js puts it
	// too: properties.category, unless the properties already say.
	if e.Type == Page && d.category != "" {
		if _, ok := e.Properties["category"]; !ok {
			if len(e.Properties) >= lim.MaxProperties {
				return fmt.Sprintf("properties: more than %d keys", lim.MaxProperties)
			}
			if e.Properties == nil {
				e.Properties = make(map[string]any, 1)
			}
			e.Properties["category"] = d.category
		}
	}

	if e.MessageID == "" {
		if meta.NewID != nil {
			e.MessageID = meta.NewID()
		} else {
			e.MessageID = newUUID()
		}
	}

	// Times. Segment's skew correction: the client's clock is off by
	// (sentAt − receivedAt), so the event time is moved by the opposite.
	// RudderStack's libraries send the client's time as
	// originalTimestamp instead of timestamp; it is the same clock, so it
	// gets the same correction. When both are sent, timestamp wins, as in
	// Segment, where originalTimestamp is an output field.
	if !d.hasTS && d.hasOrig {
		d.ts, d.hasTS = d.orig, true
	}
	recv := meta.ReceivedAt
	if recv.IsZero() {
		recv = time.Now()
	}
	e.ReceivedAt = recv.UTC()
	sent, hasSent := d.sent, d.hasSent
	if !hasSent && !batchSent.IsZero() {
		sent, hasSent = batchSent, true
	}
	if hasSent {
		e.SentAt = sent
	}
	switch {
	case d.hasTS && hasSent:
		e.OriginalTimestamp = d.ts
		e.Timestamp = d.ts.Add(e.ReceivedAt.Sub(sent)).UTC()
	case d.hasTS:
		e.OriginalTimestamp = d.ts
		e.Timestamp = d.ts
	default:
		e.Timestamp = e.ReceivedAt
	}

	if batchCtx != nil {
		merged := make(map[string]any, len(batchCtx)+len(e.Context))
		for k, v := range batchCtx {
			// A copy per event: the events go their own ways (a later
			// stage may scrub context.ip of one of them).
			merged[k] = deepCopy(v)
		}
		for k, v := range e.Context {
			merged[k] = v
		}
		if len(merged) > lim.MaxProperties {
			return fmt.Sprintf("context: more than %d keys", lim.MaxProperties)
		}
		e.Context = merged
	}

	e.Channel = channelOf(e.Context, meta.SourceChannel, d.channel)
	e.SourceID = meta.SourceID
	return validateFields(e, lim)
}

// channelOf decides an event's channel: context.channel when it names a
// trek channel (the way a sender says where an interaction happened, e.g.
// a call-centre system sending through a CRM source); else the source's
// channel; else a top-level "channel" when it names a trek channel
// (trek's own NDJSON export has it there, and importers have no source
// channel); else "other". The top-level field comes after the source
// because Segment and RudderStack libraries fill it with their own
// notion ("server", "web", "mobile"), which says which library sent the
// event, not where the customer was.
func channelOf(ctx map[string]any, source, top string) string {
	if c, ok := ctx["channel"].(string); ok && KnownChannel(c) {
		return c
	}
	if KnownChannel(source) {
		return source
	}
	if KnownChannel(top) {
		return top
	}
	return "other"
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, x := range v {
			l[i] = deepCopy(x)
		}
		return l
	}
	return v
}
