package event

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trekhq/trek/internal/fault"
)

// Channels lists the channels an event can be attributed to, as sources
// and touchpoints name them.
var Channels = []string{"web", "mobile", "call_centre", "store", "email", "ads", "social", "chat", "partner", "crm", "other"}

// KnownChannel reports whether c is one of Channels.
func KnownChannel(c string) bool {
	switch c {
	case "web", "mobile", "call_centre", "store", "email", "ads", "social", "chat", "partner", "crm", "other":
		return true
	}
	return false
}

// Valid reports whether t is one of the Spec's call types.
func (t Type) Valid() bool {
	switch t {
	case Track, Identify, Page, Screen, Group, Alias:
		return true
	}
	return false
}

// Validate checks an event built in Go (by an importer, the generator, a
// replay) against the same rules the collection API applies to what it
// parses, and returns a *fault.Error of code Invalid whose message is the
// reason, or nil. lim's zero fields take their defaults.
//
// It needs the event complete: a type, a messageId, a known channel, a
// timestamp; the future and past bounds are measured from ReceivedAt when
// it is set. Values in properties, traits and context must be what JSON
// can hold: nil, bool, string, json.Number, finite float64, the integer
// types, map[string]any and []any.
func Validate(e *Event, lim Limits) error {
	lim = lim.WithDefaults()
	reason := validateFields(e, &lim)
	if reason == "" {
		reason = validateValues(e, &lim)
	}
	if reason != "" {
		return &fault.Error{Code: fault.Invalid, Message: reason}
	}
	return nil
}

// ValidateFields is Validate without the walk through properties, traits
// and context, for readers that check those values as they build them
// (the importers); lim must have its defaults (Limits.WithDefaults). It
// allocates nothing for a valid event.
func ValidateFields(e *Event, lim *Limits) error {
	if reason := validateFields(e, lim); reason != "" {
		return &fault.Error{Code: fault.Invalid, Message: reason}
	}
	return nil
}

// validateFields checks everything but the contents of properties, traits
// and context, which the parser checks as it reads them.
func validateFields(e *Event, lim *Limits) string {
	if !e.Type.Valid() {
		return fmt.Sprintf("unknown type %q", truncate(string(e.Type), 32))
	}
	if e.MessageID == "" {
		return "no messageId"
	}
	if r := idProblem("messageId", e.MessageID, lim); r != "" {
		return r
	}
	switch e.Type {
	case Track:
		if blank(e.Event) {
			return "track call without event name"
		}
		if r := nameProblem("event name", e.Event, lim); r != "" {
			return r
		}
	case Page, Screen:
		if r := nameProblem(string(e.Type)+" name", e.Name, lim); r != "" {
			return r
		}
	case Group:
		if blank(e.GroupID) {
			return "group call without groupId"
		}
	case Alias:
		if blank(e.UserID) {
			return "alias call without userId"
		}
		if blank(e.PreviousID) {
			return "alias call without previousId"
		}
	}
	if blank(e.UserID) && blank(e.AnonymousID) {
		return "no identifier: userId or anonymousId is required"
	}
	for _, f := range [...]struct{ name, v string }{
		{"userId", e.UserID}, {"anonymousId", e.AnonymousID}, {"previousId", e.PreviousID}, {"groupId", e.GroupID},
	} {
		if r := idProblem(f.name, f.v, lim); r != "" {
			return r
		}
	}
	if !KnownChannel(e.Channel) {
		return fmt.Sprintf("channel %q is not one of %s", truncate(e.Channel, 32), strings.Join(Channels, ", "))
	}
	if e.Timestamp.IsZero() {
		return "no timestamp"
	}
	if !e.ReceivedAt.IsZero() {
		if e.Timestamp.Sub(e.ReceivedAt) > lim.FutureBound {
			return fmt.Sprintf("timestamp %s is more than %s in the future", e.Timestamp.UTC().Format(time.RFC3339Nano), span(lim.FutureBound))
		}
		if !lim.NoPastBound && e.ReceivedAt.Sub(e.Timestamp) > lim.PastBound {
			return fmt.Sprintf("timestamp %s is more than %s in the past", e.Timestamp.UTC().Format(time.RFC3339Nano), span(lim.PastBound))
		}
	}
	return ""
}

// span renders a bound for a message: hours up to three days, then days.
func span(d time.Duration) string {
	if d < 72*time.Hour || d%(24*time.Hour) != 0 {
		return strings.TrimSuffix(strings.TrimSuffix(d.String(), "0s"), "0m")
	}
	return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + " days"
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }

// idProblem: identifiers are at most MaxIDLen bytes of valid UTF-8 with no
// control characters (a NUL or a newline in a user id is a bug upstream,
// and would make the id unprintable in every list that shows it).
func idProblem(name, v string, lim *Limits) string {
	if len(v) > lim.MaxIDLen {
		return fmt.Sprintf("%s is %d bytes; at most %d are allowed", name, len(v), lim.MaxIDLen)
	}
	return textProblem(name, v)
}

// nameProblem: event, page and screen names are at most MaxNameLen
// characters of valid UTF-8 with no control characters.
func nameProblem(name, v string, lim *Limits) string {
	if n := utf8.RuneCountInString(v); n > lim.MaxNameLen {
		return fmt.Sprintf("%s is %d characters; at most %d are allowed", name, n, lim.MaxNameLen)
	}
	return textProblem(name, v)
}

func textProblem(name, v string) string {
	i := 0
	// Eight bytes at a time while all are printable ASCII, as ids and
	// names nearly always are.
	for ; i+8 <= len(v); i += 8 {
		x := uint64(v[i]) | uint64(v[i+1])<<8 | uint64(v[i+2])<<16 | uint64(v[i+3])<<24 |
			uint64(v[i+4])<<32 | uint64(v[i+5])<<40 | uint64(v[i+6])<<48 | uint64(v[i+7])<<56
		del := x ^ 0x7f7f7f7f7f7f7f7f
		if (x|(x-0x2020202020202020)|(del-0x0101010101010101)&^del)&0x8080808080808080 != 0 {
			break
		}
	}
	for ; i < len(v); i++ {
		c := v[i]
		if c >= 0x20 && c < 0x7f {
			continue
		}
		r, n := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError && n <= 1 {
			return name + " is not valid UTF-8"
		}
		if isControl(r) {
			return name + " contains a control character"
		}
		i += n - 1
	}
	return ""
}

// validateValues walks properties, traits and context with the rules the
// parser applies while reading them. When several values are wrong it
// reports the one whose path sorts first, so that the reason does not
// depend on map iteration order.
func validateValues(e *Event, lim *Limits) string {
	var w walker
	w.lim = lim
	w.object(e.Properties, 1, []string{"properties"})
	w.object(e.Traits, 1, []string{"traits"})
	w.object(e.Context, 1, []string{"context"})
	return w.best
}

type walker struct {
	lim      *Limits
	best     string
	bestPath string
}

func (w *walker) fail(path []string, msg string) {
	p := renderPath(path)
	if w.best == "" || p < w.bestPath {
		w.best, w.bestPath = p+": "+msg, p
	}
}

func renderPath(path []string) string {
	var b strings.Builder
	for i, seg := range path {
		if i > 0 && seg[0] != '[' {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	return b.String()
}

func (w *walker) object(m map[string]any, depth int, path []string) {
	if m == nil {
		return
	}
	if depth > w.lim.MaxDepth {
		w.fail(path, fmt.Sprintf("nesting deeper than %d", w.lim.MaxDepth))
		return
	}
	if len(m) > w.lim.MaxProperties {
		w.fail(path, fmt.Sprintf("more than %d keys", w.lim.MaxProperties))
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if msg := keyProblem(k); msg != "" {
			w.fail(path, msg)
			continue
		}
		w.value(m[k], depth+1, append(path, keySeg(k)))
	}
}

func (w *walker) value(v any, depth int, path []string) {
	switch v := v.(type) {
	case nil, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
	case string:
		if !utf8.ValidString(v) {
			w.fail(path, "invalid UTF-8")
		}
	case json.Number:
		if !validNumber(string(v)) {
			w.fail(path, fmt.Sprintf("%q is not a JSON number", truncate(string(v), 32)))
		}
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			w.fail(path, "not a finite number")
		}
	case float32:
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			w.fail(path, "not a finite number")
		}
	case map[string]any:
		w.object(v, depth, path)
	case []any:
		if depth > w.lim.MaxDepth {
			w.fail(path, fmt.Sprintf("nesting deeper than %d", w.lim.MaxDepth))
			return
		}
		for i, x := range v {
			w.value(x, depth+1, append(path, "["+strconv.Itoa(i)+"]"))
		}
	default:
		w.fail(path, fmt.Sprintf("a %T cannot be stored; use a string, number, boolean, object or list", v))
	}
}

func validNumber(s string) bool {
	if s == "" {
		return false
	}
	sc := scanner{b: []byte(s)}
	end, err := sc.num(0)
	return err == nil && end == len(s)
}
