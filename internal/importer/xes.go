package importer

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/trekhq/trek/internal/event"
)

// XESOptions are the settings of ReadXES.
type XESOptions struct {
	// WithLifecycle names each event concept:name + "+" +
	// lifecycle:transition, pm4py's activity-plus-transition classifier,
	// instead of concept:name alone.
	WithLifecycle bool
	// Location is the zone of times written without one; default UTC.
	Location *time.Location
}

// ReadXES reads an XES event log (see the package documentation for the
// mapping) and gives each event to sink in file order. Events that cannot
// be imported (no timestamp, a value of the wrong type…) are reported to
// opt.OnReject and skipped; XML that is not well formed ends the read with
// an error naming its line and column.
func ReadXES(ctx context.Context, r io.Reader, xo XESOptions, opt Options, sink Sink) (Stats, error) {
	ru, cr := newRun(ctx, r, opt, sink)
	if err := ru.check(); err != nil {
		return Stats{}, err
	}
	dr, err := xmlDecoding(cr)
	if err != nil {
		return ru.finish(), err
	}
	if xo.Location == nil {
		xo.Location = time.UTC
	}
	xr := &xesReader{run: ru, xo: xo, s: newXMLScanner(dr, ru.opt.MaxRecordBytes), in: newInterner()}
	err = xr.read()
	return ru.finish(), err
}

type frameKind uint8

const (
	fLog    frameKind = iota
	fTrace            // <trace>
	fEvent            // <event>
	fAttr             // a scalar attribute or container: children are flattened under its key
	fList             // <list>: children are its items
	fValues           // <values> inside a list
	fItem             // an item of a list: its own children are dropped
	fSkip             // anything else: skipped with its subtree
)

type owner uint8

const (
	oNone owner = iota
	oTrace
	oEvent
)

type xesFrame struct {
	kind  frameKind
	owner owner
	key   string
	keyOK bool  // key passes event.Validate's rules for keys
	items []any // fList
	list  int   // fValues: index of its list's frame
}

type xesTrace struct {
	id     string
	traits map[string]any
	ctx    map[string]any
	frozen bool // an event has been read: trace attributes can no longer change
	events int
	reason string
	// unchecked: some value breaks (or may break) event.Validate's
	// rules, so the events go through its full walk.
	unchecked bool
}

type xesEvent struct {
	line       int
	orphan     bool
	name       string
	hasName    bool
	ts         time.Time
	hasTime    bool
	transition string
	reason     string
	unchecked  bool
}

// xesProp is an event attribute read, in the order read.
type xesProp struct {
	key string
	v   any
}

// propMaps shares the property maps of events whose attributes are the
// same: in a process log a few resources and transitions make up most
// events' attributes, and a map per event was the reader's largest
// allocation. Only attributes whose values are text, numbers or booleans
// are shared; a list gets a map of its own.
type propMaps struct {
	m   map[string]map[string]any
	key []byte
}

// propMapsMax bounds the maps kept; past it the cache starts over.
const propMapsMax = 4096

// get returns the map of props: a shared one for attributes met before.
func (pm *propMaps) get(props []xesProp) map[string]any {
	if len(props) == 0 {
		return nil
	}
	k := pm.key[:0]
	for _, p := range props {
		var kind byte
		var text string
		switch v := p.v.(type) {
		case string:
			kind, text = 's', v
		case json.Number:
			kind, text = 'n', string(v)
		case bool:
			kind, text = 'f', ""
			if v {
				kind = 't'
			}
		default:
			return buildProps(props)
		}
		k = binary.AppendUvarint(k, uint64(len(p.key)))
		k = append(k, p.key...)
		k = append(k, kind)
		k = binary.AppendUvarint(k, uint64(len(text)))
		k = append(k, text...)
	}
	pm.key = k
	if m, ok := pm.m[string(k)]; ok {
		return m
	}
	m := buildProps(props)
	if pm.m == nil || len(pm.m) >= propMapsMax {
		pm.m = make(map[string]map[string]any)
	}
	pm.m[string(k)] = m
	return m
}

func buildProps(props []xesProp) map[string]any {
	m := make(map[string]any, len(props))
	for _, p := range props {
		m[p.key] = p.v
	}
	return m
}

type xesReader struct {
	*run
	xo     XESOptions
	s      *xmlScanner
	in     *interner
	frames []xesFrame
	tr     xesTrace
	ev     xesEvent
	scr    []byte
	ok     fieldsMemo
	props  []xesProp // the current event's attributes
	shared propMaps
}

// fieldsMemo remembers which event names and which trace id have passed
// event.Validate's checks of an event's fields, so that most events skip
// the call (it cost as much as a tenth of reading an event). It is exact:
// each of those checks looks at one field alone (type, messageId, event
// name, userId, channel, timestamp), so an event whose name passed in one
// event and whose customer passed in another passes too, provided the
// fields that never vary in a read (type, channel, the messageId's shape:
// "xes-" and 32 hex digits) and the timestamp are fine. Any event it
// cannot vouch for goes through event.Validate, which gives the reason.
type fieldsMemo struct {
	names map[string]struct{}
	user  string
	// userOK: user passed; false until the first event passes.
	userOK bool
}

// memoNames bounds the names remembered: a log with more distinct event
// names just validates the rest in full.
const memoNames = 4096

func (m *fieldsMemo) passed(user, name string) bool {
	if !m.userOK || m.user != user {
		return false
	}
	_, ok := m.names[name]
	return ok
}

func (m *fieldsMemo) remember(user, name string) {
	m.user, m.userOK = user, true
	if m.names == nil {
		m.names = make(map[string]struct{})
	}
	if len(m.names) < memoNames {
		m.names[name] = struct{}{}
	}
}

// tsPlain reports whether event.Validate's timestamp checks pass for t,
// received at now, so that the memo may vouch for the event.
func tsPlain(t, now time.Time, lim *event.Limits) bool {
	if t.IsZero() || now.IsZero() || t.Sub(now) > lim.FutureBound {
		return false
	}
	return lim.NoPastBound || now.Sub(t) <= lim.PastBound
}

func (xr *xesReader) read() error {
	s := xr.s
	for {
		if err := s.next(); err != nil {
			return err
		}
		switch s.kind {
		case tokEOF:
			return nil
		case tokStart:
			if err := xr.start(); err != nil {
				return err
			}
		case tokEnd:
			if err := xr.end(); err != nil {
				return err
			}
		}
	}
}

func isAttrType(name []byte) bool {
	switch string(name) {
	case "string", "date", "int", "float", "boolean", "id", "list", "container":
		return true
	}
	return false
}

func (xr *xesReader) push(f xesFrame) { xr.frames = append(xr.frames, f) }

func (xr *xesReader) start() error {
	s := xr.s
	name := s.name
	if len(xr.frames) == 0 {
		if string(name) != "log" {
			return s.errorf(s.tokOff, "not an XES log: the root element is <%s>, want <log>", name)
		}
		xr.push(xesFrame{kind: fLog})
		return nil
	}
	top := &xr.frames[len(xr.frames)-1]
	switch top.kind {
	case fLog:
		switch string(name) {
		case "trace":
			xr.tr = xesTrace{traits: xr.tr.traits}
			clear(xr.tr.traits)
			xr.push(xesFrame{kind: fTrace})
		case "event":
			xr.beginEvent(true)
		default:
			// extension, global, classifier and log attributes describe
			// the log, not its events.
			xr.push(xesFrame{kind: fSkip})
		}
	case fTrace:
		switch {
		case string(name) == "event":
			xr.beginEvent(false)
		case isAttrType(name):
			if xr.tr.frozen {
				key, _ := s.attr("key")
				return s.errorf(s.tokOff, "trace attribute %q after the trace's first event: XES puts a trace's attributes before its events", key)
			}
			xr.attribute(oTrace, "")
		default:
			xr.push(xesFrame{kind: fSkip})
		}
	case fEvent:
		if isAttrType(name) {
			xr.attribute(oEvent, "")
		} else {
			xr.push(xesFrame{kind: fSkip})
		}
	case fAttr:
		if isAttrType(name) {
			xr.attribute(top.owner, top.key)
		} else {
			xr.push(xesFrame{kind: fSkip})
		}
	case fList, fValues:
		list := len(xr.frames) - 1
		if top.kind == fValues {
			list = top.list
		}
		switch {
		case top.kind == fList && string(name) == "values":
			xr.push(xesFrame{kind: fValues, owner: top.owner, list: list})
		case isAttrType(name) && string(name) != "list" && string(name) != "container":
			v, reason := xr.value(name)
			if reason != "" {
				xr.invalid(top.owner, fmt.Sprintf("list %s: %s", xr.frames[list].key, reason))
			} else {
				xr.frames[list].items = append(xr.frames[list].items, v)
			}
			xr.push(xesFrame{kind: fItem})
		default:
			xr.push(xesFrame{kind: fSkip})
		}
	default:
		xr.push(xesFrame{kind: fSkip})
	}
	return nil
}

func (xr *xesReader) end() error {
	f := xr.frames[len(xr.frames)-1]
	xr.frames = xr.frames[:len(xr.frames)-1]
	switch f.kind {
	case fEvent:
		return xr.finishEvent()
	case fList:
		xr.set(f.owner, f.key, f.keyOK, f.items)
	}
	return nil
}

func (xr *xesReader) beginEvent(orphan bool) {
	s := xr.s
	if !orphan && !xr.tr.frozen {
		xr.tr.frozen = true
		if len(xr.tr.traits) > 0 {
			// One map per trace, shared by its events (see Sink).
			traits := make(map[string]any, len(xr.tr.traits))
			for k, v := range xr.tr.traits {
				traits[k] = v
			}
			xr.tr.ctx = map[string]any{"traits": traits}
			xr.tr.unchecked = xr.tr.unchecked || len(traits) > xr.lim.MaxProperties
		}
	}
	xr.ev = xesEvent{line: s.lineAt(s.tokOff), orphan: orphan}
	clear(xr.props) // drop the last event's values
	xr.props = xr.props[:0]
	s.mark = s.tokOff
	xr.push(xesFrame{kind: fEvent, owner: oEvent})
}

// attribute handles the start of an attribute element whose parent
// flattens into prefix.
func (xr *xesReader) attribute(o owner, prefix string) {
	s := xr.s
	typ := s.name
	kb, ka := s.attr("key")
	if ka == nil {
		xr.invalid(o, fmt.Sprintf("<%s> attribute without a key", typ))
		xr.push(xesFrame{kind: fSkip})
		return
	}
	if ka.badText {
		xr.invalid(o, "an attribute key is not valid text (invalid UTF-8 or a control character)")
		xr.push(xesFrame{kind: fSkip})
		return
	}
	var key string
	var keyGood bool
	if prefix == "" {
		key, keyGood = xr.in.key(kb)
	} else {
		key = prefix + "." + string(kb)
		keyGood = keyOK(key)
	}
	switch string(typ) {
	case "list":
		xr.push(xesFrame{kind: fList, owner: o, key: key, keyOK: keyGood, items: []any{}})
		return
	case "container":
		xr.push(xesFrame{kind: fAttr, owner: o, key: key, keyOK: keyGood})
		return
	}
	xr.push(xesFrame{kind: fAttr, owner: o, key: key, keyOK: keyGood})
	vb, va := s.attr("value")
	if va == nil {
		xr.invalid(o, fmt.Sprintf("attribute %s has no value", key))
		return
	}
	if va.badText {
		xr.invalid(o, fmt.Sprintf("attribute %s: value is not valid text (invalid UTF-8 or a control character)", key))
		return
	}
	if prefix == "" {
		switch {
		case o == oEvent && key == "concept:name":
			xr.ev.name, xr.ev.hasName = xr.in.bytes(vb), true
			return
		case o == oEvent && key == "time:timestamp":
			t, ok := parseISO(vb, xr.xo.Location)
			if !ok {
				xr.invalid(o, fmt.Sprintf("time:timestamp %q is not an xs:dateTime", vb))
				return
			}
			xr.ev.ts, xr.ev.hasTime = t, true
			return
		case o == oEvent && key == "lifecycle:transition":
			xr.ev.transition = xr.in.bytes(vb)
		case o == oTrace && key == "concept:name":
			xr.tr.id = xr.in.bytes(vb)
			return
		}
	}
	v, reason := xr.value(typ)
	if reason != "" {
		xr.invalid(o, fmt.Sprintf("attribute %s: %s", key, reason))
		return
	}
	xr.set(o, key, keyGood, v)
}

// value converts the current attribute element's value by its type.
func (xr *xesReader) value(typ []byte) (any, string) {
	vb, va := xr.s.attr("value")
	if va == nil {
		return nil, fmt.Sprintf("<%s> without a value", typ)
	}
	if va.badText {
		return nil, "value is not valid text (invalid UTF-8 or a control character)"
	}
	switch string(typ) {
	case "string", "id":
		return xr.in.value(vb), ""
	case "date":
		t, ok := parseISO(vb, xr.xo.Location)
		if !ok {
			return nil, fmt.Sprintf("date %q is not an xs:dateTime", vb)
		}
		return t.Format(time.RFC3339Nano), ""
	case "int":
		n, err := strconv.ParseInt(string(vb), 10, 64)
		if err != nil {
			return nil, fmt.Sprintf("int %q is not a 64-bit integer", vb)
		}
		if isJSONNumber(vb) {
			return json.Number(xr.in.bytes(vb)), ""
		}
		return json.Number(strconv.FormatInt(n, 10)), ""
	case "float":
		f, err := strconv.ParseFloat(string(vb), 64)
		if err != nil && !isRangeErr(err) {
			return nil, fmt.Sprintf("float %q is not a number", vb)
		}
		switch {
		case math.IsNaN(f) || math.IsInf(f, 0):
			// JSON has no NaN or infinities: keep the XES text.
			return xr.in.value(vb), ""
		case isJSONNumber(vb):
			return json.Number(xr.in.bytes(vb)), ""
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), ""
	case "boolean":
		switch {
		case strings.EqualFold(string(vb), "true") || string(vb) == "1":
			return true, ""
		case strings.EqualFold(string(vb), "false") || string(vb) == "0":
			return false, ""
		}
		return nil, fmt.Sprintf("boolean %q is neither true nor false", vb)
	}
	return nil, fmt.Sprintf("unknown attribute type <%s>", typ)
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// isJSONNumber reports whether b is a number as JSON writes it, so that
// it can be kept as its own text.
func isJSONNumber(b []byte) bool {
	d := jsonDecoder{data: b}
	nb, err := d.numberBytes()
	return err == nil && len(nb) == len(b)
}

// set stores a property or trait. The values the reader makes always
// keep event.Validate's rules (valid text, JSON numbers, flat lists at
// depth 2 or 3); a key may not.
func (xr *xesReader) set(o owner, key string, keyGood bool, v any) {
	switch o {
	case oEvent:
		xr.props = append(xr.props, xesProp{key, v})
		xr.ev.unchecked = xr.ev.unchecked || !keyGood
	case oTrace:
		if xr.tr.traits == nil {
			xr.tr.traits = make(map[string]any, 4)
		}
		xr.tr.traits[key] = v
		xr.tr.unchecked = xr.tr.unchecked || !keyGood
	}
}

// invalid records why the owner of an attribute cannot be imported; the
// first reason is the one reported.
func (xr *xesReader) invalid(o owner, reason string) {
	switch o {
	case oEvent:
		if xr.ev.reason == "" {
			xr.ev.reason = reason
		}
	case oTrace:
		if xr.tr.reason == "" {
			xr.tr.reason = "trace: " + reason
		}
	}
}

func (xr *xesReader) finishEvent() error {
	s := xr.s
	ev := &xr.ev
	var raw []byte
	if s.mark >= 0 {
		raw = s.buf[s.mark:s.pos]
		s.mark = -1
	}
	index := 0
	if !ev.orphan {
		index = xr.tr.events
		xr.tr.events++
	}
	var reason string
	switch {
	case ev.orphan:
		reason = "event outside a trace: it has no customer"
	case xr.tr.reason != "":
		reason = xr.tr.reason
	case ev.reason != "":
		reason = ev.reason
	case xr.tr.id == "":
		reason = "the event's trace has no concept:name (case id): it has no customer"
	case !ev.hasName || ev.name == "":
		reason = "event without concept:name"
	case !ev.hasTime:
		reason = "event without time:timestamp"
	}
	if reason != "" {
		return xr.reject(ev.line, reason, raw)
	}
	name := ev.name
	if xr.xo.WithLifecycle && ev.transition != "" {
		xr.scr = append(append(append(xr.scr[:0], name...), '+'), ev.transition...)
		name = xr.in.bytes(xr.scr)
	}
	props := xr.shared.get(xr.props)
	id := xr.ids.start()
	id = appendPartString(id, xr.tr.id)
	id = binary.AppendUvarint(id, uint64(index))
	id = appendPartString(id, ev.name)
	id = binary.BigEndian.AppendUint64(id, uint64(ev.ts.UnixNano()))
	e := event.Event{
		MessageID:  xr.ids.end("xes", id),
		Type:       event.Track,
		Event:      name,
		UserID:     xr.tr.id,
		Channel:    xr.channel,
		Properties: props,
		Context:    xr.tr.ctx,
		Timestamp:  ev.ts,
		ReceivedAt: xr.now,
		SourceID:   xr.opt.SourceID,
	}
	// Lists sit at depth 2 in properties and 3 in context.traits.
	checked := !ev.unchecked && !xr.tr.unchecked && len(props) <= xr.lim.MaxProperties && xr.lim.MaxDepth >= 3
	if !checked || !tsPlain(ev.ts, xr.now, &xr.lim) || !xr.ok.passed(e.UserID, name) {
		if reason := validate(&e, &xr.lim, checked); reason != "" {
			return xr.reject(ev.line, reason, raw)
		}
		if checked {
			xr.ok.remember(e.UserID, name)
		}
	}
	if err := xr.emit(&e); err != nil {
		return fmt.Errorf("xes: event at line %d: %w", ev.line, err)
	}
	return nil
}
