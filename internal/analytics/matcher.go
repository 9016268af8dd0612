package analytics

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/journey"
)

// Matcher says which events count: any of the activity names (Event and
// Events together; none means any event), on Channel when set, with every
// filter in Where true. It is a map step's binding in query form.
type Matcher struct {
	Event   string           `json:"event,omitempty"`
	Events  []string         `json:"events,omitempty"`
	Channel string           `json:"channel,omitempty"`
	Where   []journey.Filter `json:"where,omitempty"`
}

// FromBinding turns a map step's binding into a Matcher.
func FromBinding(b *journey.Binding) Matcher {
	return Matcher{Events: b.Events, Channel: b.Channel, Where: b.Where}
}

// names returns the activity names of m.
func (m Matcher) names() []string {
	if m.Event == "" {
		return m.Events
	}
	return append([]string{m.Event}, m.Events...)
}

// Label is a short human name for m: its activity names joined.
func (m Matcher) Label() string {
	n := m.names()
	if len(n) == 0 {
		return "any event"
	}
	return strings.Join(n, " | ")
}

// NeedsEvents reports whether m reads event properties or context, which
// the compact columns do not hold.
func (m Matcher) NeedsEvents() bool {
	for _, f := range m.Where {
		if k, _ := propertyKind(f.Property); k == propEvent || k == propContext {
			return true
		}
	}
	return false
}

// NeedsContext reports whether m reads the events' context.
func (m Matcher) NeedsContext() bool {
	for _, f := range m.Where {
		if k, _ := propertyKind(f.Property); k == propContext {
			return true
		}
	}
	return false
}

// need adds what m reads to n.
func (m Matcher) need(n *Need) {
	n.Events = n.Events || m.NeedsEvents()
	n.Context = n.Context || m.NeedsContext()
	n.Traits = n.Traits || m.NeedsTraits()
}

// NeedsTraits reports whether m reads customer traits.
func (m Matcher) NeedsTraits() bool {
	for _, f := range m.Where {
		if k, _ := propertyKind(f.Property); k == propTrait {
			return true
		}
	}
	return false
}

// Kinds of property a filter can name.
const (
	propEvent   = iota // an event property: "plan", "properties.plan"
	propContext        // "context.device.type"
	propTrait          // a customer trait: "traits.email"
	propChannel        // the event's channel: "channel"
)

// propertyKind splits a filter's property into its kind and path. The
// bare name "channel" is the event's channel, as in a binding; event
// properties may be written with or without "properties.".
func propertyKind(p string) (int, []string) {
	switch {
	case p == "channel":
		return propChannel, nil
	case strings.HasPrefix(p, "context."):
		return propContext, strings.Split(p[len("context."):], ".")
	case strings.HasPrefix(p, "traits."):
		return propTrait, strings.Split(p[len("traits."):], ".")
	case strings.HasPrefix(p, "properties."):
		return propEvent, strings.Split(p[len("properties."):], ".")
	}
	return propEvent, strings.Split(p, ".")
}

// validate checks m, reporting problems through add under path p. Names
// must be known to acts unless allowUnknown: a query naming an event that
// never happened is almost always a typo, while a map's binding may name
// one that has not happened yet.
func (m Matcher) validate(p string, acts *Dict, allowUnknown bool, add func(path, format string, args ...any)) {
	for i, n := range m.names() {
		if strings.TrimSpace(n) == "" {
			add(fmt.Sprintf("%s.events[%d]", p, i), "is empty")
			continue
		}
		if !allowUnknown {
			if _, ok := acts.Lookup(n); !ok {
				add(p+".event", "no event named %q has been received in this workspace", n)
			}
		}
	}
	if m.Channel != "" && !journey.ValidChannel(m.Channel) {
		add(p+".channel", "must be one of %s", strings.Join(journey.Channels, ", "))
	}
	if len(m.Where) > journey.MaxFilters {
		add(p+".where", "has %d items; at most %d are allowed", len(m.Where), journey.MaxFilters)
	}
	for i, f := range m.Where {
		journey.ValidateFilter(fmt.Sprintf("%s.where[%d]", p, i), f, add)
	}
}

// matcher is a compiled Matcher.
type matcher struct {
	anyAct bool
	acts   []bool // by activity code
	// late holds the names the dictionary did not know at compile time;
	// codes from known on were given after, and are matched by name.
	late  map[string]bool
	dict  *Dict
	known int
	// chanCode is the code of the channel asked for, -1 for any.
	chanCode int
	event    []pred // on event properties, context or channel
	traits   []pred // on customer traits
}

type pred struct {
	kind int
	path []string
	f    journey.Filter
	// chanCodes holds, for a filter on the channel, which channel codes
	// pass (compared once per code, not once per event).
	chanOK func(code uint16) bool
}

func compileMatcher(m Matcher, acts, chans *Dict) *matcher {
	c := &matcher{chanCode: -1}
	names := m.names()
	if len(names) == 0 {
		c.anyAct = true
	}
	// Lookup, not Code: a query must not add names to the workspace's
	// dictionary (a typo would then pass for an event that happened, and
	// every request could grow it). A name not known yet is kept aside: a
	// streaming Source may meet it later in the same scan, under a code
	// past those known here.
	for _, n := range names {
		code, ok := acts.Lookup(n)
		if !ok {
			if c.late == nil {
				c.late = map[string]bool{}
			}
			c.late[n] = true
			continue
		}
		for int(code) >= len(c.acts) {
			c.acts = append(c.acts, false)
		}
		c.acts[code] = true
	}
	c.dict = acts
	c.known = acts.Len()
	if m.Channel != "" {
		c.chanCode = int(min(chans.Code(m.Channel), maxChannels))
	}
	for _, f := range m.Where {
		kind, path := propertyKind(f.Property)
		p := pred{kind: kind, path: path, f: f}
		switch kind {
		case propChannel:
			f := f
			p.chanOK = func(code uint16) bool {
				return compare(chans.Name(uint32(code)), true, f)
			}
			c.event = append(c.event, p)
		case propTrait:
			c.traits = append(c.traits, p)
		default:
			c.event = append(c.event, p)
		}
	}
	return c
}

// matchCode checks the parts of the matcher the compact columns decide.
func (c *matcher) matchCode(act uint32, ch uint16) bool {
	if !c.matchAct(act) {
		return false
	}
	return c.chanCode == -1 || c.chanCode == int(ch)
}

// matchAct reports whether the matcher takes activity code act.
func (c *matcher) matchAct(act uint32) bool {
	switch {
	case c.anyAct:
		return true
	case int(act) < len(c.acts):
		return c.acts[act]
	case int(act) < c.known || c.late == nil:
		return false
	}
	return c.late[c.dict.Name(act)]
}

// match checks event i of j. Trait filters are checked once per journey
// by matchCustomer, not here.
func (c *matcher) match(j *Journey, i int) bool {
	if !c.matchCode(j.Acts[i], j.Chans[i]) {
		return false
	}
	for k := range c.event {
		p := &c.event[k]
		if p.chanOK != nil {
			if !p.chanOK(j.Chans[i]) {
				return false
			}
			continue
		}
		var v any
		var ok bool
		if p.kind == propContext {
			v, ok = lookup(j.Context(i), p.path)
		} else {
			v, ok = lookup(j.Properties(i), p.path)
		}
		if !compare(v, ok, p.f) {
			return false
		}
	}
	return true
}

// matchCustomer checks the trait filters against the journey's traits.
func (c *matcher) matchCustomer(j *Journey) bool {
	for k := range c.traits {
		p := &c.traits[k]
		v, ok := lookup(j.Traits, p.path)
		if !compare(v, ok, p.f) {
			return false
		}
	}
	return true
}

// simple reports whether the matcher is decided by the compact columns
// alone, so a query can precompute it per activity and channel code.
func (c *matcher) simple() bool { return len(c.event) == 0 && len(c.traits) == 0 }

func lookup(m map[string]any, path []string) (any, bool) {
	var cur any = m
	for _, k := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[k]; !ok {
			return nil, false
		}
	}
	return cur, cur != nil
}

// compare applies a filter to a value (ok false: the property is absent).
// Numbers compare as numbers, also when one side is a numeric string (a
// CSV import keeps "42" as text); everything else compares as text.
func compare(v any, ok bool, f journey.Filter) bool {
	switch f.Op {
	case journey.OpExists:
		return ok
	case journey.OpNotExists:
		return !ok
	case journey.OpNeq, journey.OpNotContains, journey.OpNotIn:
		if !ok {
			return true
		}
	default:
		if !ok {
			return false
		}
	}
	switch f.Op {
	case journey.OpEq:
		return equal(v, f.Value)
	case journey.OpNeq:
		return !equal(v, f.Value)
	case journey.OpContains:
		return strings.Contains(strings.ToLower(text(v)), strings.ToLower(text(f.Value)))
	case journey.OpNotContains:
		return !strings.Contains(strings.ToLower(text(v)), strings.ToLower(text(f.Value)))
	case journey.OpIn, journey.OpNotIn:
		list, _ := f.Value.([]any)
		in := false
		for _, x := range list {
			if equal(v, x) {
				in = true
				break
			}
		}
		return in == (f.Op == journey.OpIn)
	case journey.OpGt, journey.OpGte, journey.OpLt, journey.OpLte:
		c, ok := order(v, f.Value)
		if !ok {
			return false
		}
		switch f.Op {
		case journey.OpGt:
			return c > 0
		case journey.OpGte:
			return c >= 0
		case journey.OpLt:
			return c < 0
		}
		return c <= 0
	}
	return false
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case json.Number:
		// The event store hands numbers back as written, unrounded.
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}

func equal(a, b any) bool {
	if x, ok := number(a); ok {
		if y, ok := number(b); ok {
			_, as := a.(string)
			_, bs := b.(string)
			if !(as && bs) {
				return x == y
			}
		}
	}
	// Booleans equal only booleans, or their text ("true" from a CSV).
	return text(a) == text(b)
}

func order(a, b any) (int, bool) {
	if x, ok := number(a); ok {
		if y, ok := number(b); ok {
			switch {
			case x < y:
				return -1, true
			case x > y:
				return 1, true
			}
			return 0, true
		}
	}
	as, aok := a.(string)
	bs, bok := b.(string)
	if !aok || !bok {
		return 0, false
	}
	return strings.Compare(as, bs), true
}

// text renders a value for text comparison and breakdown labels.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case json.Number:
		return x.String()
	}
	return fmt.Sprint(v)
}

// invalid builds the fault for a query's problems.
func invalid(msg string, errs []fault.FieldError) error {
	if len(errs) == 0 {
		return nil
	}
	return &fault.Error{Code: fault.Invalid, Message: msg, Fields: errs}
}

// problems collects a query's field errors.
type problems struct{ errs []fault.FieldError }

func (p *problems) add(path, format string, args ...any) {
	p.errs = append(p.errs, fault.FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
}
