package event

import (
	"encoding/json"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Identifier is one normalised identifier an event carries: a node of the
// identity graph.
type Identifier struct {
	// Kind is "userId", "anonymousId", or the trait key the value came
	// from ("email", "phone", "crm_id"…).
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// DefaultTraitKeys are the traits that identify a person unless the
// installation configures others.
var DefaultTraitKeys = []string{"email", "phone"}

// IdentifierRules configure which traits identify a customer and how
// phone numbers without a country code are read.
type IdentifierRules struct {
	// TraitKeys are the trait keys whose values are identifiers, in the
	// order Identifiers returns them. nil means none: only userId and
	// anonymousId.
	TraitKeys []string
	// DefaultRegion is the ISO 3166 country ("VN", "GR", "PL") assumed for
	// phone numbers written without a +country code; "" leaves such
	// numbers as their digits, because guessing a country would link
	// strangers in different countries who share a local number.
	DefaultRegion string
}

// Identifiers returns the normalised identifiers e carries, with no
// default phone region (see IdentifierRules.Identifiers).
func Identifiers(e Event, traitKeys []string) []Identifier {
	return IdentifierRules{TraitKeys: traitKeys}.Identifiers(&e)
}

// Identifiers returns the normalised identifiers e carries: its userId,
// then its anonymousId, then each configured trait found in e's traits
// (identify calls only: a group call's traits are the group's) or in
// context.traits, in TraitKeys order. Values that normalise to nothing
// are left out, and so are repeats.
//
// An alias call's previousId is not among them: it may be a userId or an
// anonymousId, and only the identity graph can tell which one it knows.
func (r IdentifierRules) Identifiers(e *Event) []Identifier {
	return r.AppendIdentifiers(make([]Identifier, 0, 2+len(r.TraitKeys)), e)
}

// AppendIdentifiers appends e's identifiers (see Identifiers) to out, so
// that a caller stitching event after event reuses one slice.
func (r IdentifierRules) AppendIdentifiers(out []Identifier, e *Event) []Identifier {
	first := len(out)
	add := func(kind, v string) {
		v = r.Canonical(kind, v)
		if v == "" {
			return
		}
		for _, id := range out[first:] {
			if id.Kind == kind && id.Value == v {
				return
			}
		}
		out = append(out, Identifier{Kind: kind, Value: v})
	}
	add("userId", e.UserID)
	add("anonymousId", e.AnonymousID)
	if len(r.TraitKeys) == 0 {
		return out
	}
	ctxTraits, _ := e.Context["traits"].(map[string]any)
	for _, k := range r.TraitKeys {
		if e.Type == Identify {
			if v, ok := traitString(e.Traits[k]); ok {
				add(k, v)
			}
		}
		if v, ok := traitString(ctxTraits[k]); ok {
			add(k, v)
		}
	}
	return out
}

// traitString reads a trait value that can be an identifier: a string, or
// an integer (CRM ids and phone numbers are sometimes sent as numbers).
func traitString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		if strings.ContainsAny(string(v), ".eE") {
			return "", false
		}
		return string(v), true
	}
	return "", false
}

// CanonicalID normalises an identifier's value for its kind with no
// default phone region; see IdentifierRules.Canonical.
func CanonicalID(kind, value string) string {
	return IdentifierRules{}.Canonical(kind, value)
}

// Canonical normalises an identifier's value for its kind, the same way
// for an event and for a look-up (GET /api/v1/customers/{identifier}):
// surrounding white space is dropped for every kind; an email is
// lower-cased; a phone becomes E.164 (+84901234567) when it can be read
// as a possible number, else its digits with a leading + kept. Other
// kinds are kept as sent: user ids are case-sensitive in the systems
// that issue them. "" means the value identifies nothing.
func (r IdentifierRules) Canonical(kind, value string) string {
	value = strings.TrimSpace(value)
	switch kind {
	case "email":
		return strings.ToLower(value)
	case "phone":
		return r.phone(value)
	}
	return value
}

func (r IdentifierRules) phone(v string) string {
	if v == "" {
		return ""
	}
	region := strings.ToUpper(r.DefaultRegion)
	if region == "" {
		region = "ZZ" // unknown: only +country numbers parse
	}
	if n, err := phonenumbers.Parse(v, region); err == nil && phonenumbers.IsPossibleNumber(n) {
		return phonenumbers.Format(n, phonenumbers.E164)
	}
	// Not a number phonenumbers can place: keep what identifies it, the
	// digits (and a leading +), so that "+84 90-123" and "+8490123" still
	// meet, but never invent a country.
	var b strings.Builder
	for i, c := range v {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == '+' && i == 0:
			b.WriteRune(c)
		}
	}
	if b.Len() == 0 || b.String() == "+" {
		return v // no digits at all: not a phone number, but still an identifier
	}
	return b.String()
}
