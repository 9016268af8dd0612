package server

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/auth"
	"github.com/trekhq/trek/internal/journey"
	"github.com/trekhq/trek/internal/meta"
)

func (e *env) createMap(body any) journey.Map {
	e.t.Helper()
	var m journey.Map
	e.must(201, e.do("POST", "/api/v1/maps", e.tokens[auth.Editor], body)).json(e.t, &m)
	return m
}

func (e *env) mapCount() int {
	e.t.Helper()
	var list struct{ Maps []meta.MapSummary }
	e.must(200, e.do("GET", "/api/v1/maps", e.tokens[auth.Viewer], nil)).json(e.t, &list)
	return len(list.Maps)
}

func TestCreateMapFillsIdsLanesAndVersion(t *testing.T) {
	e := newEnv(t)
	m := e.createMap(blankMap("Onboarding"))
	if m.ID == "" || m.Version != 1 || m.Stages[0].ID == "" || m.Stages[0].Steps[0].ID == "" || len(m.Lanes) == 0 {
		t.Fatalf("created map incomplete: %+v", m)
	}
	if m.UpdatedBy != "token:editor" {
		t.Errorf("updatedBy %q", m.UpdatedBy)
	}
	r := e.must(200, e.do("GET", "/api/v1/maps/"+m.ID, e.tokens[auth.Viewer], nil))
	if r.header.Get("ETag") != `"1"` {
		t.Errorf("ETag %q", r.header.Get("ETag"))
	}
}

// TestBadMapsAreRefusedWithEveryFieldNamedAndNothingStored sends one bad
// document per row and checks the status, that each expected JSON path is
// named, and that no map was stored.
func TestBadMapsAreRefusedWithEveryFieldNamedAndNothingStored(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("x", journey.MaxNameLen+1)
	cases := []struct {
		name   string
		body   string
		status int
		paths  []string
		msg    string
	}{
		{"malformed JSON", `{"name": "x",`, 400, nil, "malformed JSON"},
		{"syntax error position", "{\n \"name\": x}", 400, nil, "line 2"},
		{"empty body", ``, 400, nil, "empty"},
		{"two documents", `{"name":"a","kind":"current_state","stages":[{"name":"s","steps":[]}]} {}`, 400, nil, "after the document"},
		{"not an object", `[1,2]`, 400, []string{"(document)"}, ""},
		{"unknown top-level field", `{"name":"a","kind":"current_state","stages":[{"name":"s","steps":[]}],"colour":"red"}`, 400, []string{"colour"}, ""},
		{"unknown nested field", `{"name":"a","kind":"current_state","stages":[{"name":"s","steps":[{"name":"p","mood":3}]}]}`, 400, []string{"stages[0].steps[0].mood"}, ""},
		{"field names are case-sensitive", `{"Name":"a","kind":"current_state","stages":[]}`, 400, []string{"Name"}, ""},
		{"wrong types", `{"name":5,"kind":"current_state","stages":[{"name":"s","steps":[{"name":"p","emotion":{"score":"high"},"actions":"run"}]}]}`, 400,
			[]string{"name", "stages[0].steps[0].emotion.score", "stages[0].steps[0].actions"}, ""},
		{"fractional score", `{"name":"a","kind":"current_state","stages":[{"name":"s","steps":[{"name":"p","emotion":{"score":1.5}}]}]}`, 400,
			[]string{"stages[0].steps[0].emotion.score"}, ""},
		{"missing name and kind, no stages", `{"stages":[]}`, 400, []string{"name", "kind", "stages"}, ""},
		{"score out of range and bad channel", `{"name":"a","kind":"future_state","stages":[{"name":"s","steps":[{"name":"p","emotion":{"score":3},"touchpoints":[{"channel":"fax","name":"Fax"}]}]}]}`, 400,
			[]string{"stages[0].steps[0].emotion.score", "stages[0].steps[0].touchpoints[0].channel"}, ""},
		{"duplicate step ids across stages", `{"name":"a","kind":"current_state","stages":[{"name":"s","steps":[{"id":"x","name":"p"}]},{"name":"t","steps":[{"id":"x","name":"q"}]}]}`, 400,
			[]string{"stages[1].steps[0].id"}, ""},
		{"binding without events, bad op", `{"name":"a","kind":"current_state","stages":[{"name":"s","steps":[{"name":"p","binding":{"events":[],"where":[{"property":"plan","op":"like","value":"x"}]}}]}]}`, 400,
			[]string{"stages[0].steps[0].binding.events", "stages[0].steps[0].binding.where[0].op"}, ""},
		{"custom content for unknown lane", `{"name":"a","kind":"current_state","stages":[{"name":"s","steps":[{"name":"p","custom":{"kpis":["NPS"]}}]}]}`, 400,
			[]string{"stages[0].steps[0].custom.kpis"}, ""},
		{"unknown persona", `{"name":"a","kind":"current_state","personaIds":["per_nothere"],"stages":[{"name":"s","steps":[]}]}`, 400, []string{"personaIds[0]"}, ""},
		{"unknown detail map", `{"name":"a","kind":"current_state","stages":[{"name":"s","steps":[{"name":"p","detailMapId":"map_nothere"}]}]}`, 400,
			[]string{"stages[0].steps[0].detailMapId"}, ""},
		{"name too long", `{"name":"` + long + `","kind":"current_state","stages":[{"name":"s","steps":[]}]}`, 400, []string{"name"}, ""},
		{"invalid UTF-8", "{\"name\":\"\xff\xfe\",\"kind\":\"current_state\",\"stages\":[]}", 400, nil, "UTF-8"},
		{"bad locale", `{"name":"a","kind":"current_state","locale":"not a locale!","stages":[{"name":"s","steps":[]}]}`, 400, []string{"locale"}, ""},
		{"unknown template", `{"template":"no-such-template"}`, 400, []string{"template"}, ""},
		{"template in an unshipped locale", `{"template":"retail-online-purchase","locale":"de"}`, 400, []string{"locale"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/api/v1/maps", e.tokens[auth.Editor], c.body)
			if r.status != c.status {
				t.Fatalf("status %d, want %d; body %s", r.status, c.status, r.body)
			}
			ed := r.errorOf(t)
			got := map[string]bool{}
			for _, f := range ed.Fields {
				got[f.Path] = true
				if f.Message == "" {
					t.Errorf("field %s without a message", f.Path)
				}
			}
			for _, p := range c.paths {
				if !got[p] {
					t.Errorf("path %s not named; got %s", p, r.body)
				}
			}
			if c.msg != "" && !strings.Contains(ed.Message, c.msg) {
				t.Errorf("message %q does not mention %q", ed.Message, c.msg)
			}
		})
	}
	if n := e.mapCount(); n != 0 {
		t.Fatalf("%d maps stored by bad requests", n)
	}
}

func TestOversizeBodiesAreRefusedWith413(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxBody = 4096 })
	big := blankMap(strings.Repeat("a", 5000))
	r := e.must(413, e.do("POST", "/api/v1/maps", e.tokens[auth.Editor], big))
	if !strings.Contains(r.errorOf(t).Message, "4096") {
		t.Errorf("413 does not name the limit: %s", r.body)
	}
	if e.mapCount() != 0 {
		t.Error("an oversize map was stored")
	}
}

func TestWrongContentTypeIsRefused(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/api/v1/personas", e.tokens[auth.Editor], `name=x`, "Content-Type", "application/x-www-form-urlencoded")
	if r.status != 400 {
		t.Fatalf("status %d", r.status)
	}
}

func TestUnknownIdsAnswer404(t *testing.T) {
	e := newEnv(t)
	m := e.createMap(blankMap("A"))
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/maps/map_nothere"},
		{"PUT", "/api/v1/maps/map_nothere"},
		{"DELETE", "/api/v1/maps/map_nothere"},
		{"GET", "/api/v1/maps/map_nothere/versions"},
		{"GET", "/api/v1/maps/" + m.ID + "/versions/9"},
		{"POST", "/api/v1/maps/" + m.ID + "/versions/9/restore"},
		{"POST", "/api/v1/maps/map_nothere/duplicate"},
		{"GET", "/api/v1/maps/map_nothere/export"},
		{"GET", "/api/v1/personas/per_nothere"},
		{"DELETE", "/api/v1/personas/per_nothere"},
		{"GET", "/api/v1/templates/nothere"},
	} {
		body := any(nil)
		if c.method == "PUT" {
			body = blankMap("x")
		}
		r := e.do(c.method, c.path, e.tokens[auth.Admin], body, "If-Match", `"1"`)
		if r.status != 404 {
			t.Errorf("%s %s: status %d, want 404; %s", c.method, c.path, r.status, r.body)
		}
	}
}

func TestEveryUpdateIsANewVersionAndStaleWritesConflict(t *testing.T) {
	e := newEnv(t)
	m := e.createMap(blankMap("Checkout"))
	ed := e.tokens[auth.Editor]

	m.Name = "Checkout v2"
	var v2 journey.Map
	e.must(200, e.do("PUT", "/api/v1/maps/"+m.ID+"?message=rename", ed, m, "If-Match", `"1"`)).json(t, &v2)
	if v2.Version != 2 || v2.Name != "Checkout v2" {
		t.Fatalf("v2 = %+v", v2)
	}
	// A second editor still on version 1.
	stale := m
	stale.Description = "written on an old copy"
	r := e.must(409, e.do("PUT", "/api/v1/maps/"+m.ID, ed, stale, "If-Match", `"1"`))
	cur, _ := r.errorOf(t).Current.(map[string]any)
	if cur == nil || cur["version"] != float64(2) {
		t.Errorf("409 does not carry the current version: %s", r.body)
	}
	// The version field works as well as If-Match, and must agree with it.
	stale.Version = 1
	e.must(409, e.do("PUT", "/api/v1/maps/"+m.ID, ed, stale))
	e.must(400, e.do("PUT", "/api/v1/maps/"+m.ID, ed, stale, "If-Match", `"2"`))
	stale.Version = 0
	r = e.must(400, e.do("PUT", "/api/v1/maps/"+m.ID, ed, stale))
	if !strings.Contains(r.errorOf(t).Message, "If-Match") {
		t.Errorf("missing base version not explained: %s", r.body)
	}
	var got journey.Map
	e.must(200, e.do("GET", "/api/v1/maps/"+m.ID, ed, nil)).json(t, &got)
	if got.Version != 2 || got.Description != "" {
		t.Fatalf("a refused write changed the map: %+v", got)
	}

	// An invalid update changes nothing either.
	bad := got
	bad.Stages = nil
	e.must(400, e.do("PUT", "/api/v1/maps/"+m.ID, ed, bad, "If-Match", `"2"`))

	var vs struct{ Versions []meta.Version }
	e.must(200, e.do("GET", "/api/v1/maps/"+m.ID+"/versions", ed, nil)).json(t, &vs)
	if len(vs.Versions) != 2 || vs.Versions[0].Version != 2 || vs.Versions[0].Message != "rename" || vs.Versions[1].Version != 1 {
		t.Fatalf("versions = %+v", vs.Versions)
	}
	var v1 journey.Map
	e.must(200, e.do("GET", "/api/v1/maps/"+m.ID+"/versions/1", ed, nil)).json(t, &v1)
	if v1.Name != "Checkout" || v1.Version != 1 {
		t.Errorf("version 1 = %q v%d", v1.Name, v1.Version)
	}
}

func TestRestoreMakesANewVersionEqualToTheOldOne(t *testing.T) {
	e := newEnv(t)
	ed := e.tokens[auth.Editor]
	m := e.createMap(blankMap("Returns"))
	m.Stages = append(m.Stages, journey.Stage{Name: "Refund", Steps: []journey.Step{{Name: "Money back"}}})
	e.must(200, e.do("PUT", "/api/v1/maps/"+m.ID, ed, m, "If-Match", `"1"`))
	var restored journey.Map
	e.must(200, e.do("POST", "/api/v1/maps/"+m.ID+"/versions/1/restore", ed, nil)).json(t, &restored)
	if restored.Version != 3 || len(restored.Stages) != 1 {
		t.Fatalf("restored = v%d with %d stages", restored.Version, len(restored.Stages))
	}
	var vs struct{ Versions []meta.Version }
	e.must(200, e.do("GET", "/api/v1/maps/"+m.ID+"/versions", ed, nil)).json(t, &vs)
	if vs.Versions[0].Message != "Restored version 1" {
		t.Errorf("message %q", vs.Versions[0].Message)
	}
	// A restore based on a stale version conflicts.
	e.must(409, e.do("POST", "/api/v1/maps/"+m.ID+"/versions/1/restore", ed, nil, "If-Match", `"2"`))
}

func TestDiffListsAddedRemovedAndChangedParts(t *testing.T) {
	e := newEnv(t)
	ed := e.tokens[auth.Editor]
	m := e.createMap(blankMap("Diff me"))
	first := m.Stages[0].Steps[0].ID
	m.Name = "Diffed"
	m.Stages[0].Steps[0].Name = "Sees a billboard"
	m.Stages = append(m.Stages, journey.Stage{ID: "buy", Name: "Purchase", Steps: []journey.Step{{ID: "pay", Name: "Pays"}}})
	e.must(200, e.do("PUT", "/api/v1/maps/"+m.ID, ed, m, "If-Match", `"1"`))

	var d diffResponse
	e.must(200, e.do("GET", "/api/v1/maps/"+m.ID+"/diff?from=1&to=2", ed, nil)).json(t, &d)
	want := map[string]bool{"changed map name": false, "added stage buy": false, "added step pay": false, "changed step " + first: false}
	for _, c := range d.Changes {
		key := fmt.Sprintf("%s %s %s", c.Op, c.Kind, c.ID)
		if c.Kind == "map" {
			key = fmt.Sprintf("%s map %s", c.Op, c.Field)
		}
		if _, ok := want[key]; ok {
			want[key] = true
		}
	}
	for k, seen := range want {
		if !seen {
			t.Errorf("diff lacks %q: %+v", k, d.Changes)
		}
	}
	// Without parameters: the current version against the one before.
	var d2 diffResponse
	e.must(200, e.do("GET", "/api/v1/maps/"+m.ID+"/diff", ed, nil)).json(t, &d2)
	if d2.From != 1 || d2.To != 2 {
		t.Errorf("default diff %d→%d", d2.From, d2.To)
	}
	r := e.must(400, e.do("GET", "/api/v1/maps/"+m.ID+"/diff?from=7", ed, nil))
	if r.errorOf(t).Fields[0].Path != "from" {
		t.Errorf("%s", r.body)
	}
	e.must(400, e.do("GET", "/api/v1/maps/"+m.ID+"/diff?to=abc", ed, nil))
}

func TestTemplatesAreListedInTheAskedLanguageAndMakeMaps(t *testing.T) {
	e := newEnv(t)
	var list struct {
		Locale    string
		Templates []templateSummary
	}
	e.must(200, e.do("GET", "/api/v1/templates?locale=vi", e.tokens[auth.Viewer], nil)).json(t, &list)
	if list.Locale != "vi" || len(list.Templates) < 8 {
		t.Fatalf("locale %s, %d templates", list.Locale, len(list.Templates))
	}
	var en struct{ Templates []templateSummary }
	e.must(200, e.do("GET", "/api/v1/templates?locale=en", e.tokens[auth.Viewer], nil)).json(t, &en)
	for i, tm := range list.Templates {
		if tm.ID != en.Templates[i].ID || tm.Name == en.Templates[i].Name || tm.Stages[0].Name == en.Templates[i].Stages[0].Name {
			t.Errorf("template %s not in Vietnamese: %q / %q", tm.ID, tm.Name, tm.Stages[0].Name)
		}
		if len(tm.Stages) == 0 || len(tm.Stages[0].Steps) == 0 {
			t.Errorf("template %s summary without stages or steps", tm.ID)
		}
	}
	var full journey.Template
	e.must(200, e.do("GET", "/api/v1/templates/"+list.Templates[0].ID+"?locale=el", e.tokens[auth.Viewer], nil)).json(t, &full)
	if full.Map.Locale != "el" {
		t.Errorf("template preview locale %q", full.Map.Locale)
	}

	m := e.createMap(map[string]any{"template": "retail-online-purchase", "locale": "vi", "name": "Hành trình mua hàng", "withPersona": true})
	tm, _, _ := journey.TemplateByID("retail-online-purchase", "vi")
	if m.Name != "Hành trình mua hàng" || m.Locale != "vi" || m.Stages[0].Name != tm.Map.Stages[0].Name || len(m.PersonaIDs) != 1 {
		t.Fatalf("map from template: %q %q %q personas %v", m.Name, m.Locale, m.Stages[0].Name, m.PersonaIDs)
	}
	var per journey.Persona
	e.must(200, e.do("GET", "/api/v1/personas/"+m.PersonaIDs[0], e.tokens[auth.Viewer], nil)).json(t, &per)
	if per.Name != tm.Persona.Name {
		t.Errorf("persona %q, want %q", per.Name, tm.Persona.Name)
	}
}

func TestSchemaIsServed(t *testing.T) {
	e := newEnv(t)
	r := e.must(200, e.do("GET", "/api/v1/schema/map", e.tokens[auth.Viewer], nil))
	var s map[string]any
	r.json(t, &s)
	if s["$schema"] == nil || s["properties"] == nil {
		t.Errorf("not a JSON Schema: %.200s", r.body)
	}
}

func TestMapListFiltersBySearchKindPersonaAndTag(t *testing.T) {
	e := newEnv(t)
	ed := e.tokens[auth.Editor]
	var per journey.Persona
	e.must(201, e.do("POST", "/api/v1/personas", ed, map[string]any{"name": "Ελένη"})).json(t, &per)
	a := blankMap("Ταξίδι στην Αθήνα")
	a["tags"] = []string{"travel"}
	a["personaIds"] = []string{per.ID}
	e.createMap(a)
	b := blankMap("Loan application")
	b["kind"] = "service_blueprint"
	e.createMap(b)
	for q, want := range map[string]int{
		"":                        2,
		"?q=ΑΘΉΝΑ":                1,
		"?q=loan":                 1,
		"?kind=service_blueprint": 1,
		"?persona=" + per.ID:      1,
		"?tag=travel":             1,
		"?tag=none":               0,
		"?limit=1":                1,
	} {
		var list struct{ Maps []meta.MapSummary }
		e.must(200, e.do("GET", "/api/v1/maps"+q, e.tokens[auth.Viewer], nil)).json(t, &list)
		if len(list.Maps) != want {
			t.Errorf("%s: %d maps, want %d", q, len(list.Maps), want)
		}
	}
	e.must(400, e.do("GET", "/api/v1/maps?kind=poster", e.tokens[auth.Viewer], nil))
	e.must(400, e.do("GET", "/api/v1/maps?limit=-1", e.tokens[auth.Viewer], nil))
}

func TestDuplicateAndDelete(t *testing.T) {
	e := newEnv(t)
	ed := e.tokens[auth.Editor]
	m := e.createMap(blankMap("Original"))
	var dup journey.Map
	e.must(201, e.do("POST", "/api/v1/maps/"+m.ID+"/duplicate", ed, map[string]string{"name": "Copy"})).json(t, &dup)
	if dup.ID == m.ID || dup.Name != "Copy" || dup.Version != 1 || dup.Stages[0].Name != m.Stages[0].Name {
		t.Fatalf("dup = %+v", dup)
	}
	e.must(201, e.do("POST", "/api/v1/maps/"+m.ID+"/duplicate", ed, nil))
	e.must(204, e.do("DELETE", "/api/v1/maps/"+m.ID, ed, nil))
	e.must(404, e.do("GET", "/api/v1/maps/"+m.ID, ed, nil))
	e.must(404, e.do("GET", "/api/v1/maps/"+m.ID+"/versions/1", ed, nil))
	if e.mapCount() != 2 {
		t.Errorf("%d maps left", e.mapCount())
	}
}

func TestExportThenImportGivesAnEqualMap(t *testing.T) {
	e := newEnv(t)
	src := e.createMap(map[string]any{"template": "banking-account-opening", "locale": "el", "withPersona": true})
	r := e.must(200, e.do("GET", "/api/v1/maps/"+src.ID+"/export", e.tokens[auth.Viewer], nil))
	if !strings.Contains(r.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("export is not an attachment: %q", r.header.Get("Content-Disposition"))
	}
	var ex Export
	r.json(t, &ex)
	if ex.Format != ExportFormat || ex.FormatVersion != 1 || len(ex.Personas) != 1 {
		t.Fatalf("export header %+v", ex)
	}

	t.Run("into the same workspace links the persona", func(t *testing.T) {
		var res importResponse
		e.must(201, e.do("POST", "/api/v1/maps/import", e.tokens[auth.Editor], r.body)).json(t, &res)
		if len(res.Personas.Linked) != 1 || len(res.Personas.Created) != 0 {
			t.Errorf("personas %+v", res.Personas)
		}
		assertSameMap(t, src, res.Map)
		if !reflect.DeepEqual(res.Map.PersonaIDs, src.PersonaIDs) {
			t.Errorf("persona ids %v, want %v", res.Map.PersonaIDs, src.PersonaIDs)
		}
	})
	t.Run("into another workspace creates the persona", func(t *testing.T) {
		var res importResponse
		e.must(201, e.do("POST", "/api/v1/maps/import", e.otherAdmin, r.body)).json(t, &res)
		if len(res.Personas.Created) != 1 {
			t.Fatalf("personas %+v", res.Personas)
		}
		assertSameMap(t, src, res.Map)
		var per journey.Persona
		e.must(200, e.do("GET", "/api/v1/personas/"+res.Map.PersonaIDs[0], e.otherAdmin, nil)).json(t, &per)
		if per.Name != ex.Personas[0].Name {
			t.Errorf("persona %q", per.Name)
		}
	})
	t.Run("a bad import changes nothing", func(t *testing.T) {
		before := e.mapCount()
		var bad Export
		_ = json.Unmarshal(r.body, &bad)
		bad.Map.Stages[0].Steps[0].Emotion = &journey.Emotion{Score: 9}
		rep := e.must(400, e.do("POST", "/api/v1/maps/import", e.tokens[auth.Editor], bad))
		if rep.errorOf(t).Fields[0].Path != "stages[0].steps[0].emotion.score" {
			t.Errorf("%s", rep.body)
		}
		bad = Export{Format: "something-else", FormatVersion: 1, Map: ex.Map}
		e.must(400, e.do("POST", "/api/v1/maps/import", e.tokens[auth.Editor], bad))
		if e.mapCount() != before {
			t.Error("a refused import stored a map")
		}
	})
}

func assertSameMap(t *testing.T, want, got journey.Map) {
	t.Helper()
	a, _ := json.Marshal(stripMeta(want))
	b, _ := json.Marshal(stripMeta(got))
	if string(a) != string(b) {
		t.Errorf("imported map differs:\nwant %s\ngot  %s", a, b)
	}
}

// stripMeta drops what export and import legitimately change: the id,
// version, audit fields and persona ids (remapped when personas are created
// in the target workspace).
func stripMeta(m journey.Map) journey.Map {
	m.ID, m.Version, m.UpdatedBy, m.PersonaIDs = "", 0, "", nil
	m.CreatedAt, m.UpdatedAt = time.Time{}, time.Time{}
	return m
}

func TestCSVExportHasOneRowPerStepAndLaneItem(t *testing.T) {
	e := newEnv(t)
	src := e.createMap(map[string]any{"template": "retail-online-purchase", "locale": "pl"})
	r := e.must(200, e.do("GET", "/api/v1/maps/"+src.ID+"/export?format=csv", e.tokens[auth.Viewer], nil))
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Errorf("content type %q", r.header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(r.body), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	items := 0
	for _, st := range src.Stages {
		for _, sp := range st.Steps {
			items += len(sp.Actions) + len(sp.Touchpoints) + len(sp.Thoughts) + len(sp.PainPoints) + len(sp.Opportunities)
		}
	}
	if len(rows)-1 < items {
		t.Errorf("%d rows for at least %d lane items", len(rows)-1, items)
	}
	e.must(400, e.do("GET", "/api/v1/maps/"+src.ID+"/export?format=xlsx", e.tokens[auth.Viewer], nil))
}

func TestPersonasCRUDAndDeleteRefusedWhileUsed(t *testing.T) {
	e := newEnv(t)
	ed := e.tokens[auth.Editor]
	var per journey.Persona
	e.must(201, e.do("POST", "/api/v1/personas", ed, map[string]any{
		"name": "Nguyễn Thị Mai", "role": "Chủ cửa hàng", "goals": []string{"Bán nhiều hơn"}, "channels": []string{"mobile", "store"},
		"demographics": map[string]string{"age": "34"}, "photoUrl": "https://example.com/mai.jpg",
	})).json(t, &per)
	r := e.must(400, e.do("POST", "/api/v1/personas", ed, map[string]any{"name": "", "channels": []string{"pigeon"}, "photoUrl": "javascript:alert(1)"}))
	paths := map[string]bool{}
	for _, f := range r.errorOf(t).Fields {
		paths[f.Path] = true
	}
	for _, p := range []string{"name", "channels[0]", "photoUrl"} {
		if !paths[p] {
			t.Errorf("%s not named: %s", p, r.body)
		}
	}
	per.Quote = "Tôi cần thời gian"
	var upd journey.Persona
	e.must(200, e.do("PUT", "/api/v1/personas/"+per.ID, ed, per)).json(t, &upd)
	if upd.Quote != per.Quote || upd.Name != per.Name {
		t.Errorf("update lost data: %+v", upd)
	}
	m := blankMap("Used")
	m["personaIds"] = []string{per.ID}
	used := e.createMap(m)
	r = e.must(409, e.do("DELETE", "/api/v1/personas/"+per.ID, ed, nil))
	if !strings.Contains(r.errorOf(t).Message, "Used") {
		t.Errorf("409 does not name the map: %s", r.body)
	}
	e.must(204, e.do("DELETE", "/api/v1/maps/"+used.ID, ed, nil))
	e.must(204, e.do("DELETE", "/api/v1/personas/"+per.ID, ed, nil))
	var list struct{ Personas []journey.Persona }
	e.must(200, e.do("GET", "/api/v1/personas", ed, nil)).json(t, &list)
	if len(list.Personas) != 0 {
		t.Errorf("%d personas left", len(list.Personas))
	}
}
