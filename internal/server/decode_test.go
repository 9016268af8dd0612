package server

import (
	"encoding/json"
	"testing"

	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/journey"
)

func TestDecodeNamesPathsOfUnknownFieldsAndWrongTypes(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []string
	}{
		{"unknown in list element", `{"stages":[{"name":"a"},{"nme":"b"}]}`, []string{"stages[1].nme"}},
		{"wrong type in map value", `{"stages":[{"steps":[{"custom":{"kpi":[1]}}]}]}`, []string{"stages[0].steps[0].custom.kpi[0]"}},
		{"object for string", `{"name":{"en":"x"}}`, []string{"name"}},
		{"string for list", `{"tags":"a,b"}`, []string{"tags"}},
		{"number for bool-free filter value is fine", `{"stages":[{"steps":[{"binding":{"events":["a"],"where":[{"property":"p","op":"gt","value":3}]}}]}]}`, nil},
		{"time must be a string", `{"createdAt": 5}`, []string{"createdAt"}},
		{"null is allowed", `{"description": null, "emotion": null}`, []string{"emotion"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var m journey.Map
			err := decodeBytes([]byte(c.in), &m)
			if c.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			fe, ok := fault.As(err)
			if !ok || fe.Code != fault.Invalid {
				t.Fatalf("error %v", err)
			}
			got := map[string]bool{}
			for _, f := range fe.Fields {
				got[f.Path] = true
			}
			for _, p := range c.want {
				if !got[p] {
					t.Errorf("%s not named in %v", p, fe.Fields)
				}
			}
		})
	}
}

// FuzzDecodeMap feeds arbitrary bytes to the map decoder and validator: they
// must never panic, and whatever they accept must survive a JSON round trip
// and still validate.
func FuzzDecodeMap(f *testing.F) {
	f.Add([]byte(`{"name":"a","kind":"current_state","stages":[{"name":"s","steps":[{"name":"p","emotion":{"score":1}}]}]}`))
	f.Add([]byte(`{"name":"a","kind":"service_blueprint","lanes":[{"id":"k","kind":"custom","name":"KPI"}],"stages":[{"id":"x","name":"s","steps":[{"id":"y","name":"p","custom":{"k":["NPS"]},"binding":{"events":["E"],"where":[{"property":"a","op":"in","value":[1,"b"]}]}}]}]}`))
	f.Add([]byte(`{"stages":[{"steps":[{"touchpoints":[{"channel":"web"}]}]}]`))
	f.Add([]byte("\xff"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var m journey.Map
		if err := decodeBytes(raw, &m); err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("decode error is not a fault: %v", err)
			}
			return
		}
		journey.Normalize(&m)
		if journey.Validate(&m) != nil {
			return
		}
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var again journey.Map
		if err := decodeBytes(out, &again); err != nil {
			t.Fatalf("a valid map does not decode after a round trip: %v\n%s", err, out)
		}
		if err := journey.Validate(&again); err != nil {
			t.Fatalf("a valid map is invalid after a round trip: %v", err)
		}
	})
}
