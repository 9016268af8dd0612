package journey

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/trekhq/trek/internal/fault"
)

// Limits on a map document. They keep one document small enough to store as a
// version on every save and to render on one screen.
const (
	MaxNameLen    = 200
	MaxTextLen    = 4000
	MaxStages     = 50
	MaxSteps      = 100 // per stage
	MaxListItems  = 50  // per lane per step
	MaxLanes      = 40
	MaxTags       = 30
	MaxPersonas   = 20
	MaxBindEvents = 20
	MaxFilters    = 20
)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// validator collects every problem of a document instead of stopping at the
// first, so a user fixes them all in one round.
type validator struct{ errs []fault.FieldError }

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, fault.FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) text(path, s string, required bool, max int) {
	switch {
	case required && strings.TrimSpace(s) == "":
		v.add(path, "is required")
	case !utf8.ValidString(s):
		v.add(path, "is not valid UTF-8")
	case utf8.RuneCountInString(s) > max:
		v.add(path, "is longer than %d characters", max)
	}
}

func (v *validator) list(path string, items []string, max int) {
	if len(items) > max {
		v.add(path, "has %d items; at most %d are allowed", len(items), max)
		return
	}
	for i, s := range items {
		v.text(fmt.Sprintf("%s[%d]", path, i), s, true, MaxTextLen)
	}
}

func (v *validator) id(path, id string, seen map[string]string) {
	if !idPattern.MatchString(id) {
		v.add(path, "must be 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit")
		return
	}
	if prev, ok := seen[id]; ok {
		v.add(path, "duplicates the id at %s", prev)
		return
	}
	seen[id] = path
}

// ValidChannel reports whether c is one of Channels.
func ValidChannel(c string) bool { return slices.Contains(Channels, c) }

// ValidKind reports whether k is a map kind.
func ValidKind(k Kind) bool { return slices.Contains(Kinds, k) }

// Validate checks a map document and returns a fault.Invalid error naming
// every offending field by its JSON path, or nil.
func Validate(m *Map) error {
	var v validator
	v.text("name", m.Name, true, MaxNameLen)
	if !ValidKind(m.Kind) {
		v.add("kind", "must be one of %s", joinKinds())
	}
	v.text("description", m.Description, false, MaxTextLen)
	v.text("goal", m.Goal, false, MaxTextLen)
	if m.Locale != "" {
		if _, err := language.Parse(m.Locale); err != nil {
			v.add("locale", "is not a BCP 47 language tag (e.g. en, vi, el, pl)")
		}
	}
	if len(m.PersonaIDs) > MaxPersonas {
		v.add("personaIds", "has %d items; at most %d are allowed", len(m.PersonaIDs), MaxPersonas)
	}
	seenPersona := map[string]bool{}
	for i, p := range m.PersonaIDs {
		path := fmt.Sprintf("personaIds[%d]", i)
		if !idPattern.MatchString(p) {
			v.add(path, "is not a persona id")
		} else if seenPersona[p] {
			v.add(path, "names the same persona twice")
		}
		seenPersona[p] = true
	}
	if len(m.Tags) > MaxTags {
		v.add("tags", "has %d items; at most %d are allowed", len(m.Tags), MaxTags)
	}
	for i, t := range m.Tags {
		v.text(fmt.Sprintf("tags[%d]", i), t, true, 60)
	}

	lanes := map[string]string{}
	custom := map[string]bool{}
	if len(m.Lanes) > MaxLanes {
		v.add("lanes", "has %d lanes; at most %d are allowed", len(m.Lanes), MaxLanes)
	}
	for i, l := range m.Lanes {
		p := fmt.Sprintf("lanes[%d]", i)
		v.id(p+".id", l.ID, lanes)
		if !slices.Contains(LaneKinds, l.Kind) {
			v.add(p+".kind", "must be one of %s", joinLaneKinds())
		}
		v.text(p+".name", l.Name, l.Kind == LaneCustom, MaxNameLen)
		if l.Kind == LaneCustom {
			custom[l.ID] = true
		}
	}

	if len(m.Stages) == 0 {
		v.add("stages", "a map needs at least one stage")
	}
	if len(m.Stages) > MaxStages {
		v.add("stages", "has %d stages; at most %d are allowed", len(m.Stages), MaxStages)
	}
	stageIDs := map[string]string{}
	stepIDs := map[string]string{}
	for i := range m.Stages {
		s := &m.Stages[i]
		p := fmt.Sprintf("stages[%d]", i)
		v.id(p+".id", s.ID, stageIDs)
		v.text(p+".name", s.Name, true, MaxNameLen)
		v.text(p+".description", s.Description, false, MaxTextLen)
		if len(s.Steps) > MaxSteps {
			v.add(p+".steps", "has %d steps; at most %d are allowed", len(s.Steps), MaxSteps)
		}
		for j := range s.Steps {
			v.step(fmt.Sprintf("%s.steps[%d]", p, j), &s.Steps[j], stepIDs, custom)
		}
	}
	if len(v.errs) > 0 {
		return fault.Fields("the map is not valid", v.errs)
	}
	return nil
}

func (v *validator) step(p string, st *Step, ids map[string]string, custom map[string]bool) {
	v.id(p+".id", st.ID, ids)
	v.text(p+".name", st.Name, true, MaxNameLen)
	v.text(p+".description", st.Description, false, MaxTextLen)
	if len(st.Touchpoints) > MaxListItems {
		v.add(p+".touchpoints", "has %d items; at most %d are allowed", len(st.Touchpoints), MaxListItems)
	}
	for k, t := range st.Touchpoints {
		tp := fmt.Sprintf("%s.touchpoints[%d]", p, k)
		if !ValidChannel(t.Channel) {
			v.add(tp+".channel", "must be one of %s", strings.Join(Channels, ", "))
		}
		v.text(tp+".name", t.Name, true, MaxNameLen)
	}
	v.list(p+".actions", st.Actions, MaxListItems)
	v.list(p+".thoughts", st.Thoughts, MaxListItems)
	if st.Emotion != nil {
		if st.Emotion.Score < -2 || st.Emotion.Score > 2 {
			v.add(p+".emotion.score", "must be an integer from -2 to 2")
		}
		v.text(p+".emotion.note", st.Emotion.Note, false, MaxTextLen)
	}
	v.list(p+".painPoints", st.PainPoints, MaxListItems)
	v.list(p+".opportunities", st.Opportunities, MaxListItems)
	v.list(p+".frontstage", st.Frontstage, MaxListItems)
	v.list(p+".backstage", st.Backstage, MaxListItems)
	v.list(p+".support", st.Support, MaxListItems)
	v.list(p+".policies", st.Policies, MaxListItems)
	v.list(p+".technology", st.Technology, MaxListItems)
	for _, lane := range sortedKeys(st.Custom) {
		cp := fmt.Sprintf("%s.custom.%s", p, lane)
		if !custom[lane] {
			v.add(cp, "names no custom lane of this map")
			continue
		}
		v.list(cp, st.Custom[lane], MaxListItems)
	}
	if st.Binding != nil {
		v.binding(p+".binding", st.Binding)
	}
	if st.DetailMapID != "" && !idPattern.MatchString(st.DetailMapID) {
		v.add(p+".detailMapId", "is not a map id")
	}
}

func (v *validator) binding(p string, b *Binding) {
	if len(b.Events) == 0 {
		v.add(p+".events", "a binding needs at least one event name")
	}
	if len(b.Events) > MaxBindEvents {
		v.add(p+".events", "has %d items; at most %d are allowed", len(b.Events), MaxBindEvents)
	}
	for i, e := range b.Events {
		v.text(fmt.Sprintf("%s.events[%d]", p, i), e, true, MaxNameLen)
	}
	if b.Channel != "" && !ValidChannel(b.Channel) {
		v.add(p+".channel", "must be one of %s", strings.Join(Channels, ", "))
	}
	if len(b.Where) > MaxFilters {
		v.add(p+".where", "has %d items; at most %d are allowed", len(b.Where), MaxFilters)
	}
	for i, f := range b.Where {
		ValidateFilter(fmt.Sprintf("%s.where[%d]", p, i), f, v.add)
	}
}

// ValidateFilter checks one property filter, reporting problems through add.
func ValidateFilter(p string, f Filter, add func(path, format string, args ...any)) {
	if strings.TrimSpace(f.Property) == "" {
		add(p+".property", "is required")
	}
	switch f.Op {
	case OpExists, OpNotExists:
		if f.Value != nil {
			add(p+".value", "must be absent for op %q", f.Op)
		}
	case OpIn, OpNotIn:
		if _, ok := f.Value.([]any); !ok {
			add(p+".value", "must be a list for op %q", f.Op)
		}
	case OpGt, OpGte, OpLt, OpLte:
		switch f.Value.(type) {
		case float64, string:
		default:
			add(p+".value", "must be a number or a string for op %q", f.Op)
		}
	case OpEq, OpNeq, OpContains, OpNotContains:
		switch f.Value.(type) {
		case string, float64, bool:
		default:
			add(p+".value", "must be a string, number or boolean for op %q", f.Op)
		}
	default:
		ops := make([]string, len(Ops))
		for i, o := range Ops {
			ops[i] = string(o)
		}
		add(p+".op", "must be one of %s", strings.Join(ops, ", "))
	}
}

// ValidatePersona checks a persona and returns a fault.Invalid error naming
// every offending field, or nil.
func ValidatePersona(p *Persona) error {
	var v validator
	v.text("name", p.Name, true, MaxNameLen)
	v.text("role", p.Role, false, MaxNameLen)
	v.text("quote", p.Quote, false, MaxTextLen)
	if p.PhotoURL != "" {
		u, err := url.Parse(p.PhotoURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			v.add("photoUrl", "must be an http or https URL")
		} else if len(p.PhotoURL) > 2048 {
			v.add("photoUrl", "is longer than 2048 characters")
		}
	}
	if len(p.Demographics) > MaxListItems {
		v.add("demographics", "has %d entries; at most %d are allowed", len(p.Demographics), MaxListItems)
	}
	for _, k := range sortedKeys(p.Demographics) {
		if strings.TrimSpace(k) == "" || len(k) > 60 {
			v.add("demographics", "keys must be 1-60 characters")
			continue
		}
		v.text("demographics."+k, p.Demographics[k], false, MaxNameLen)
	}
	v.list("goals", p.Goals, MaxListItems)
	v.list("needs", p.Needs, MaxListItems)
	v.list("frustrations", p.Frustrations, MaxListItems)
	v.list("motivations", p.Motivations, MaxListItems)
	for i, c := range p.Channels {
		if !ValidChannel(c) {
			v.add(fmt.Sprintf("channels[%d]", i), "must be one of %s", strings.Join(Channels, ", "))
		}
	}
	if p.Locale != "" {
		if _, err := language.Parse(p.Locale); err != nil {
			v.add("locale", "is not a BCP 47 language tag (e.g. en, vi, el, pl)")
		}
	}
	if len(v.errs) > 0 {
		return fault.Fields("the persona is not valid", v.errs)
	}
	return nil
}

func joinKinds() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

func joinLaneKinds() string {
	s := make([]string, len(LaneKinds))
	for i, k := range LaneKinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
