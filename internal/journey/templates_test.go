package journey

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode"
)

func TestTemplateLibraryCoversEveryKindAndSeveralIndustries(t *testing.T) {
	ts, err := Templates("en")
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) < 8 {
		t.Fatalf("%d templates; want at least 8", len(ts))
	}
	kinds := map[Kind]int{}
	industries := map[string]int{}
	for _, tm := range ts {
		kinds[tm.Map.Kind]++
		industries[tm.Industry]++
	}
	for _, k := range Kinds {
		if kinds[k] == 0 {
			t.Errorf("no template of kind %s", k)
		}
	}
	if len(industries) < 5 {
		t.Errorf("templates cover %d industries (%v); want at least 5", len(industries), industries)
	}
}

func TestTemplateIsValidInEveryLocale(t *testing.T) {
	en, err := Templates("en")
	if err != nil {
		t.Fatal(err)
	}
	for _, base := range en {
		for _, loc := range Locales {
			t.Run(base.ID+"/"+loc, func(t *testing.T) {
				tm, ok, err := TemplateByID(base.ID, loc)
				if err != nil || !ok {
					t.Fatalf("template missing in %s: %v", loc, err)
				}
				m := tm.Map
				if err := Validate(&m); err != nil {
					t.Fatalf("invalid: %v", err)
				}
				p := tm.Persona
				if err := ValidatePersona(&p); err != nil {
					t.Fatalf("persona invalid: %v", err)
				}
				if len(m.Stages) < 4 {
					t.Errorf("%d stages; a complete template has at least 4", len(m.Stages))
				}
				steps, bound, pains, emotions := 0, 0, 0, 0
				for _, s := range m.Stages {
					for _, st := range s.Steps {
						steps++
						if st.Binding != nil {
							bound++
						}
						pains += len(st.PainPoints)
						if st.Emotion != nil {
							emotions++
						}
						if len(st.Touchpoints) == 0 {
							t.Errorf("step %s has no touchpoint", st.ID)
						}
					}
				}
				if emotions != steps {
					t.Errorf("%d of %d steps have an emotion; every step needs one for the curve", emotions, steps)
				}
				if pains == 0 {
					t.Errorf("no pain points")
				}
				if bound == 0 {
					t.Errorf("no step is bound to events")
				}
				if m.Kind == ServiceBlueprint {
					for _, lk := range []LaneKind{LaneFrontstage, LaneBackstage, LaneSupport, LanePolicies, LaneTechnology} {
						if !hasLane(m.Lanes, lk) {
							t.Errorf("blueprint without a %s lane", lk)
						}
					}
				}
			})
		}
	}
}

func hasLane(ls []Lane, k LaneKind) bool {
	for _, l := range ls {
		if l.Kind == k {
			return true
		}
	}
	return false
}

// TestTemplateTranslationsAreCompleteAndParallel checks that each locale's
// copy is the same map as the English one (same ids, counts, scores,
// channels, bindings) with every human string translated.
func TestTemplateTranslationsAreCompleteAndParallel(t *testing.T) {
	en, err := Templates("en")
	if err != nil {
		t.Fatal(err)
	}
	for _, base := range en {
		for _, loc := range Locales[1:] {
			t.Run(base.ID+"/"+loc, func(t *testing.T) {
				tr, ok, _ := TemplateByID(base.ID, loc)
				if !ok {
					t.Fatalf("missing")
				}
				a, b := skeleton(t, base), skeleton(t, tr)
				if !reflect.DeepEqual(a, b) {
					t.Errorf("structure differs from English:\nen: %s\n%s: %s", a, loc, b)
				}
				es, ts := texts(base), texts(tr)
				if len(es) != len(ts) {
					t.Fatalf("%d strings in en, %d in %s", len(es), len(ts), loc)
				}
				for i := range es {
					if es[i].s == ts[i].s && !exempt(es[i].s) {
						t.Errorf("%s left in English: %q", ts[i].path, ts[i].s)
					}
					if strings.Contains(ts[i].s, "\\u") {
						t.Errorf("%s has an escaped character: %q", ts[i].path, ts[i].s)
					}
					switch loc {
					case "el":
						if !exempt(ts[i].s) && !hasScript(ts[i].s, unicode.Greek) {
							t.Errorf("%s has no Greek letter: %q", ts[i].path, ts[i].s)
						}
					case "vi":
						if len(strings.Fields(ts[i].s)) >= 3 && !hasNonASCIILetter(ts[i].s) {
							t.Errorf("%s has no Vietnamese diacritic: %q", ts[i].path, ts[i].s)
						}
					}
				}
			})
		}
	}
}

// exempt reports whether s may stay the same in every language: short
// acronyms and codes such as "SMS", "CRM" or "24/7".
func exempt(s string) bool {
	for _, r := range s {
		if unicode.IsLower(r) {
			return false
		}
	}
	return len([]rune(s)) <= 8
}

func hasScript(s string, tab *unicode.RangeTable) bool {
	for _, r := range s {
		if unicode.Is(tab, r) {
			return true
		}
	}
	return false
}

func hasNonASCIILetter(s string) bool {
	for _, r := range s {
		if r > unicode.MaxASCII && unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

type text struct{ path, s string }

// texts lists the human strings of a template in a fixed order.
func texts(tm Template) []text {
	var out []text
	add := func(p, s string) {
		if s != "" {
			out = append(out, text{p, s})
		}
	}
	addAll := func(p string, ss []string) {
		for i, s := range ss {
			add(fmt.Sprintf("%s[%d]", p, i), s)
		}
	}
	p := tm.Persona
	add("persona.name", p.Name)
	add("persona.role", p.Role)
	add("persona.quote", p.Quote)
	for _, k := range sortedKeys(p.Demographics) {
		add("persona.demographics."+k, p.Demographics[k])
	}
	addAll("persona.goals", p.Goals)
	addAll("persona.needs", p.Needs)
	addAll("persona.frustrations", p.Frustrations)
	addAll("persona.motivations", p.Motivations)
	m := tm.Map
	add("map.name", m.Name)
	add("map.description", m.Description)
	add("map.goal", m.Goal)
	addAll("map.tags", m.Tags)
	for i, l := range m.Lanes {
		add(fmt.Sprintf("map.lanes[%d].name", i), l.Name)
	}
	for i, s := range m.Stages {
		sp := fmt.Sprintf("map.stages[%d]", i)
		add(sp+".name", s.Name)
		add(sp+".description", s.Description)
		for j, st := range s.Steps {
			pp := fmt.Sprintf("%s.steps[%d]", sp, j)
			add(pp+".name", st.Name)
			add(pp+".description", st.Description)
			for k, tp := range st.Touchpoints {
				add(fmt.Sprintf("%s.touchpoints[%d].name", pp, k), tp.Name)
			}
			addAll(pp+".actions", st.Actions)
			addAll(pp+".thoughts", st.Thoughts)
			if st.Emotion != nil {
				add(pp+".emotion.note", st.Emotion.Note)
			}
			addAll(pp+".painPoints", st.PainPoints)
			addAll(pp+".opportunities", st.Opportunities)
			addAll(pp+".frontstage", st.Frontstage)
			addAll(pp+".backstage", st.Backstage)
			addAll(pp+".support", st.Support)
			addAll(pp+".policies", st.Policies)
			addAll(pp+".technology", st.Technology)
			for _, k := range sortedKeys(st.Custom) {
				addAll(pp+".custom."+k, st.Custom[k])
			}
		}
	}
	return out
}

// skeleton is a template with every human string blanked but its shape kept,
// as JSON, so two locales can be compared for structure.
func skeleton(t *testing.T, tm Template) string {
	t.Helper()
	blank := func(ss []string) []string {
		out := make([]string, len(ss))
		for i := range out {
			out[i] = "_"
		}
		return out
	}
	c := tm.Clone()
	c.Persona.Name, c.Persona.Role, c.Persona.Quote = "", "", ""
	for k := range c.Persona.Demographics {
		c.Persona.Demographics[k] = "_"
	}
	c.Persona.Goals, c.Persona.Needs = blank(c.Persona.Goals), blank(c.Persona.Needs)
	c.Persona.Frustrations, c.Persona.Motivations = blank(c.Persona.Frustrations), blank(c.Persona.Motivations)
	m := &c.Map
	m.Name, m.Description, m.Goal, m.Locale = "", "", "", ""
	m.Tags = blank(m.Tags)
	for i := range m.Lanes {
		m.Lanes[i].Name = ""
	}
	for i := range m.Stages {
		s := &m.Stages[i]
		s.Name, s.Description = "", ""
		for j := range s.Steps {
			st := &s.Steps[j]
			st.Name, st.Description = "", ""
			for k := range st.Touchpoints {
				st.Touchpoints[k].Name = ""
			}
			st.Actions, st.Thoughts = blank(st.Actions), blank(st.Thoughts)
			if st.Emotion != nil {
				st.Emotion.Note = ""
			}
			st.PainPoints, st.Opportunities = blank(st.PainPoints), blank(st.Opportunities)
			st.Frontstage, st.Backstage, st.Support = blank(st.Frontstage), blank(st.Backstage), blank(st.Support)
			st.Policies, st.Technology = blank(st.Policies), blank(st.Technology)
			for k, v := range st.Custom {
				st.Custom[k] = blank(v)
			}
		}
	}
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}
