package analytics

import (
	"encoding/json"
	"testing"

	"github.com/trekhq/trek/internal/journey"
)

func TestFiltersCompareValuesAsTheStoreAndImportsGiveThem(t *testing.T) {
	f := func(op journey.Op, v any) journey.Filter { return journey.Filter{Property: "p", Op: op, Value: v} }
	tests := []struct {
		name  string
		value any
		ok    bool
		f     journey.Filter
		want  bool
	}{
		{"store number equals a query number", json.Number("42"), true, f(journey.OpEq, 42.0), true},
		{"store number above a bound", json.Number("120.5"), true, f(journey.OpGte, 50.0), true},
		{"store number below a bound", json.Number("-1"), true, f(journey.OpGt, 0.0), false},
		{"a CSV number as text compares as a number", "99", true, f(journey.OpLt, 100.0), true},
		{"two texts compare as text", "10", true, f(journey.OpEq, "10.0"), false},
		{"text order for dates", "2025-03-01", true, f(journey.OpGte, "2025-02-28"), true},
		{"contains ignores case", "Android 14", true, f(journey.OpContains, "android"), true},
		{"in a list", json.Number("3"), true, f(journey.OpIn, []any{1.0, 3.0}), true},
		{"not in a list when absent", nil, false, f(journey.OpNotIn, []any{"x"}), true},
		{"neq when absent", nil, false, f(journey.OpNeq, "x"), true},
		{"eq when absent", nil, false, f(journey.OpEq, "x"), false},
		{"exists", "", true, f(journey.OpExists, nil), true},
		{"not exists", nil, false, f(journey.OpNotExists, nil), true},
		{"booleans", true, true, f(journey.OpEq, true), true},
		{"a CSV boolean as text equals the boolean", "true", true, f(journey.OpEq, true), true},
		{"a boolean is not another text", "yes", true, f(journey.OpEq, true), false},
		{"a number bound against text", "abc", true, f(journey.OpGt, 1.0), false},
	}
	for _, tc := range tests {
		if got := compare(tc.value, tc.ok, tc.f); got != tc.want {
			t.Errorf("%s: compare(%#v, %s %v) = %v, want %v", tc.name, tc.value, tc.f.Op, tc.f.Value, got, tc.want)
		}
	}
}

func TestPropertyNamesAddressTheirKind(t *testing.T) {
	for in, want := range map[string]int{"channel": propChannel, "plan": propEvent, "properties.plan": propEvent, "context.device.type": propContext, "traits.email": propTrait} {
		if got, _ := propertyKind(in); got != want {
			t.Errorf("propertyKind(%q) = %d, want %d", in, got, want)
		}
	}
}
