package journey

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite testdata golden files and docs/map.schema.json from the current output")

const docsSchema = "../../docs/map.schema.json"

func TestDocsMapSchemaIsACopyOfSchemaJSON(t *testing.T) {
	if *update {
		if err := os.MkdirAll(filepath.Dir(docsSchema), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(docsSchema, MapSchema(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	docs, err := os.ReadFile(docsSchema)
	if err != nil {
		t.Fatalf("%v; copy internal/journey/schema.json to docs/map.schema.json (or run go test ./internal/journey -run TestDocsMapSchema -update)", err)
	}
	if !bytes.Equal(docs, MapSchema()) {
		t.Errorf("docs/map.schema.json differs from internal/journey/schema.json, which is the one trek serves; copy it over (cp internal/journey/schema.json docs/map.schema.json, or go test ./internal/journey -run TestDocsMapSchema -update)")
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(MapSchema()))
	if err != nil {
		t.Fatalf("schema.json is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "https://raw.githubusercontent.com/trekhq/trek/main/docs/map.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	// Compiling also checks the schema against the draft 2020-12 metaschema.
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("schema.json does not compile: %v", err)
	}
	return sch
}

func schemaCheck(sch *jsonschema.Schema, raw []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

// goCheck runs a document through what the server does with it: a strict
// decode that refuses unknown fields and wrong types, Normalize, Validate.
func goCheck(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var m Map
	if err := dec.Decode(&m); err != nil {
		return err
	}
	Normalize(&m)
	return Validate(&m)
}

func TestEveryTemplateValidatesAgainstTheSchema(t *testing.T) {
	sch := compileSchema(t)
	n := 0
	for _, loc := range Locales {
		ts, err := Templates(loc)
		if err != nil {
			t.Fatal(err)
		}
		for _, tm := range ts {
			n++
			raw, err := json.Marshal(tm.Map)
			if err != nil {
				t.Fatal(err)
			}
			if err := schemaCheck(sch, raw); err != nil {
				t.Errorf("template %s/%s: %v", tm.ID, loc, err)
			}
		}
	}
	if n == 0 {
		t.Fatal("no templates to check")
	}
}

// A long name at the limit, in a script where bytes and characters differ,
// checks that the schema and Validate count the same thing.
var name200 = strings.Repeat("ữ", MaxNameLen)

var validMaps = []struct{ name, doc string }{
	{"minimal, ids left to the server", `{"name":"Μ","kind":"current_state","stages":[{"name":"Στάδιο"}]}`},
	{"every field", `{
		"id":"mp_abc","name":"Mua sắm","kind":"service_blueprint","description":"Hành trình","goal":"Mua nhanh",
		"personaIds":["ps_1","ps_2"],"locale":"vi-VN","tags":["bán lẻ","web"],
		"lanes":[{"id":"actions","kind":"actions"},{"id":"tp","kind":"touchpoints","name":"Điểm chạm"},{"id":"kpi","kind":"custom","name":"KPI"}],
		"stages":[{"id":"s1","name":"Nhận thức","description":"d","steps":[
			{"id":"p1","name":"Thấy quảng cáo","description":"d",
			 "touchpoints":[{"channel":"social","name":"Facebook"},{"channel":"call_centre","name":"Tổng đài"}],
			 "actions":["a"],"thoughts":["t"],"emotion":{"score":-2,"note":"Bực"},"painPoints":["p"],"opportunities":["o"],
			 "frontstage":["f"],"backstage":["b"],"support":["s"],"policies":["p"],"technology":["t"],
			 "custom":{"kpi":["CTR 2%"]},
			 "binding":{"events":["Ad Clicked","Page Viewed"],"channel":"ads","where":[
				{"property":"plan","op":"eq","value":"pro"},{"property":"paid","op":"neq","value":true},
				{"property":"total","op":"gte","value":10.5},{"property":"day","op":"lt","value":"2025-01-01"},
				{"property":"country","op":"in","value":["VN","GR"]},{"property":"coupon","op":"exists"},
				{"property":"ref","op":"not_exists","value":null}]},
			 "detailMapId":"mp_detail"}]}],
		"version":7,"createdAt":"2025-01-02T03:04:05Z","updatedAt":"2025-02-03T04:05:06.5+07:00","updatedBy":"us_1"}`},
	{"limits reached, not passed", `{"name":"` + name200 + `","kind":"day_in_the_life","stages":[{"id":"s","name":"s","steps":[
		{"name":"x","emotion":{"score":2}}]}]}`},
	{"empty stage", `{"name":"Podróż","kind":"future_state","locale":"pl","stages":[{"id":"s","name":"Zakup","steps":[]}]}`},
}

func TestHandMadeMapsPassSchemaAndValidate(t *testing.T) {
	sch := compileSchema(t)
	for _, tc := range validMaps {
		t.Run(tc.name, func(t *testing.T) {
			if err := schemaCheck(sch, []byte(tc.doc)); err != nil {
				t.Errorf("schema: %v", err)
			}
			if err := goCheck([]byte(tc.doc)); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

// TestInvalidMapsFailSchemaAndValidate is what keeps the schema and Validate
// from drifting apart: each document must be refused by both.
func TestInvalidMapsFailSchemaAndValidate(t *testing.T) {
	sch := compileSchema(t)
	// step returns a one-step map whose step has the given extra fields.
	step := func(fields string) string {
		return `{"name":"m","kind":"current_state","stages":[{"id":"s","name":"s","steps":[{"id":"p","name":"p",` + fields + `}]}]}`
	}
	cases := []struct{ name, doc string }{
		{"bad kind", `{"name":"m","kind":"journey","stages":[{"name":"s"}]}`},
		{"emotion score 3", step(`"emotion":{"score":3}`)},
		{"emotion score -3", step(`"emotion":{"score":-3}`)},
		{"emotion score not an integer", step(`"emotion":{"score":1.5}`)},
		{"unknown map field", `{"name":"m","kind":"current_state","owner":"x","stages":[{"name":"s"}]}`},
		{"unknown step field", step(`"colour":"red"`)},
		{"unknown touchpoint field", step(`"touchpoints":[{"channel":"web","name":"w","url":"x"}]`)},
		{"missing name", `{"kind":"current_state","stages":[{"name":"s"}]}`},
		{"blank name", `{"name":"   ","kind":"current_state","stages":[{"name":"s"}]}`},
		{"name too long", `{"name":"` + name200 + `x","kind":"current_state","stages":[{"name":"s"}]}`},
		{"missing step name", `{"name":"m","kind":"current_state","stages":[{"name":"s","steps":[{"id":"p"}]}]}`},
		{"bad touchpoint channel", step(`"touchpoints":[{"channel":"fax","name":"Fax"}]`)},
		{"bad binding channel", step(`"binding":{"events":["E"],"channel":"telegram"}`)},
		{"no stages", `{"name":"m","kind":"current_state","stages":[]}`},
		{"bad stage id", `{"name":"m","kind":"current_state","stages":[{"id":"-s","name":"s"}]}`},
		{"tag too long", `{"name":"m","kind":"current_state","tags":["` + strings.Repeat("t", 61) + `"],"stages":[{"name":"s"}]}`},
		{"same persona twice", `{"name":"m","kind":"current_state","personaIds":["ps_1","ps_1"],"stages":[{"name":"s"}]}`},
		{"bad locale", `{"name":"m","kind":"current_state","locale":"e","stages":[{"name":"s"}]}`},
		{"bad lane kind", `{"name":"m","kind":"current_state","lanes":[{"id":"x","kind":"feelings"}],"stages":[{"name":"s"}]}`},
		{"custom lane without a name", `{"name":"m","kind":"current_state","lanes":[{"id":"x","kind":"custom"}],"stages":[{"name":"s"}]}`},
		{"empty lane item", step(`"actions":[""]`)},
		{"too many items", step(`"actions":[` + strings.TrimSuffix(strings.Repeat(`"a",`, MaxListItems+1), ",") + `]`)},
		{"binding without events", step(`"binding":{"events":[]}`)},
		{"filter with a bad op", step(`"binding":{"events":["E"],"where":[{"property":"p","op":"like","value":"x"}]}`)},
		{"filter in without a list", step(`"binding":{"events":["E"],"where":[{"property":"p","op":"in","value":"x"}]}`)},
		{"filter eq without a value", step(`"binding":{"events":["E"],"where":[{"property":"p","op":"eq"}]}`)},
		{"filter exists with a value", step(`"binding":{"events":["E"],"where":[{"property":"p","op":"exists","value":1}]}`)},
		{"filter without a property", step(`"binding":{"events":["E"],"where":[{"property":" ","op":"exists"}]}`)},
		{"bad detail map id", step(`"detailMapId":"map one"`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !json.Valid([]byte(tc.doc)) {
				t.Fatalf("test document is not JSON: %s", tc.doc)
			}
			if err := schemaCheck(sch, []byte(tc.doc)); err == nil {
				t.Errorf("the schema accepts it")
			} else {
				t.Logf("schema: %#v", err)
			}
			if err := goCheck([]byte(tc.doc)); err == nil {
				t.Errorf("Validate accepts it")
			} else {
				t.Logf("Go: %v", err)
			}
		})
	}
}

// TestSchemaEnumsAndLimitsMatchTheGoRules reads the schema's enums, limits
// and id pattern and compares them with the values Validate uses.
func TestSchemaEnumsAndLimitsMatchTheGoRules(t *testing.T) {
	var s map[string]any
	if err := json.Unmarshal(MapSchema(), &s); err != nil {
		t.Fatal(err)
	}
	get := func(path string) any {
		var v any = s
		for _, k := range strings.Split(path, "/") {
			obj, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("schema has no %s", path)
			}
			v = obj[k]
		}
		return v
	}
	strs := func(path string) []string {
		var out []string
		list, _ := get(path).([]any)
		for _, v := range list {
			s, _ := v.(string)
			out = append(out, s)
		}
		return out
	}
	asStrings := func(v any) []string {
		rv := reflect.ValueOf(v)
		out := make([]string, rv.Len())
		for i := range out {
			out[i] = rv.Index(i).String()
		}
		return out
	}
	for path, want := range map[string][]string{
		"properties/kind/enum":            asStrings(Kinds),
		"$defs/channel/enum":              Channels,
		"$defs/lane/properties/kind/enum": asStrings(LaneKinds),
		"$defs/filter/properties/op/enum": asStrings(Ops),
	} {
		if got := strs(path); !slices.Equal(got, want) {
			t.Errorf("%s = %v; Go has %v", path, got, want)
		}
	}
	if got := get("$defs/id/pattern"); got != idPattern.String() {
		t.Errorf("id pattern %v; Go has %s", got, idPattern)
	}
	for path, want := range map[string]int{
		"$defs/name/maxLength":                       MaxNameLen,
		"$defs/lane/properties/name/maxLength":       MaxNameLen,
		"$defs/text/maxLength":                       MaxTextLen,
		"$defs/item/maxLength":                       MaxTextLen,
		"$defs/items/maxItems":                       MaxListItems,
		"$defs/step/properties/touchpoints/maxItems": MaxListItems,
		"properties/stages/maxItems":                 MaxStages,
		"$defs/stage/properties/steps/maxItems":      MaxSteps,
		"properties/lanes/maxItems":                  MaxLanes,
		"properties/tags/maxItems":                   MaxTags,
		"properties/tags/items/maxLength":            60,
		"properties/personaIds/maxItems":             MaxPersonas,
		"$defs/binding/properties/events/maxItems":   MaxBindEvents,
		"$defs/binding/properties/where/maxItems":    MaxFilters,
		"$defs/emotion/properties/score/minimum":     -2,
		"$defs/emotion/properties/score/maximum":     2,
	} {
		if got, ok := get(path).(float64); !ok || int(got) != want {
			t.Errorf("%s = %v; Go has %d", path, get(path), want)
		}
	}
}

// TestSchemaListsExactlyTheGoFields compares each object's properties with
// the JSON names of the Go struct it describes, so that a field added to
// map.go cannot be forgotten in the schema (which would then reject it).
func TestSchemaListsExactlyTheGoFields(t *testing.T) {
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Defs       map[string]struct {
			Properties           map[string]json.RawMessage `json:"properties"`
			AdditionalProperties *bool                      `json:"additionalProperties"`
		} `json:"$defs"`
		AdditionalProperties *bool `json:"additionalProperties"`
	}
	if err := json.Unmarshal(MapSchema(), &s); err != nil {
		t.Fatal(err)
	}
	check := func(what string, props map[string]json.RawMessage, additional *bool, typ reflect.Type) {
		var got, want []string
		for k := range props {
			got = append(got, k)
		}
		for f := range typ.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			want = append(want, name)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: schema lists %v; Go type %s has %v", what, got, typ, want)
		}
		if additional == nil || *additional {
			t.Errorf("%s: additionalProperties must be false: the server rejects unknown fields", what)
		}
	}
	check("map", s.Properties, s.AdditionalProperties, reflect.TypeFor[Map]())
	for def, typ := range map[string]reflect.Type{
		"lane":       reflect.TypeFor[Lane](),
		"stage":      reflect.TypeFor[Stage](),
		"step":       reflect.TypeFor[Step](),
		"touchpoint": reflect.TypeFor[Touchpoint](),
		"emotion":    reflect.TypeFor[Emotion](),
		"binding":    reflect.TypeFor[Binding](),
		"filter":     reflect.TypeFor[Filter](),
	} {
		d, ok := s.Defs[def]
		if !ok {
			t.Errorf("schema has no $defs/%s", def)
			continue
		}
		check(fmt.Sprintf("$defs/%s", def), d.Properties, d.AdditionalProperties, typ)
	}
}
