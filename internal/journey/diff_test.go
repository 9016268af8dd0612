package journey

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// diffBase is a small blueprint-like map in Vietnamese, with a Greek stage,
// so that every test also runs on non-ASCII names.
func diffBase() *Map {
	return &Map{
		ID: "mp_1", Name: "Mua sắm trực tuyến", Kind: CurrentState, Description: "Hành trình mua hàng",
		Goal: "Tăng chuyển đổi", PersonaIDs: []string{"ps_1"}, Locale: "vi", Tags: []string{"bán lẻ"},
		Lanes: []Lane{
			{ID: "actions", Kind: LaneActions, Name: "Hành động"},
			{ID: "touchpoints", Kind: LaneTouchpoints},
			{ID: "emotions", Kind: LaneEmotions, Name: "Cảm xúc"},
			{ID: "kpi", Kind: LaneCustom, Name: "KPI"},
		},
		Stages: []Stage{
			{ID: "aware", Name: "Nhận thức", Steps: []Step{
				{ID: "see-ad", Name: "Thấy quảng cáo", Actions: []string{"Cuộn Facebook"},
					Touchpoints: []Touchpoint{{Channel: "social", Name: "Facebook"}}, Emotion: &Emotion{Score: 1}},
				{ID: "search", Name: "Tìm kiếm", Binding: &Binding{Events: []string{"Products Searched"}}},
				{ID: "compare", Name: "So sánh", Custom: map[string][]string{"kpi": {"Tỉ lệ thoát"}}},
			}},
			{ID: "buy", Name: "Αγορά", Description: "Πληρωμή", Steps: []Step{
				{ID: "cart", Name: "Giỏ hàng"},
				{ID: "pay", Name: "Thanh toan", PainPoints: []string{"Phí giao hàng hiện muộn"},
					Binding: &Binding{Events: []string{"Order Completed"}, Where: []Filter{{Property: "total", Op: OpGt, Value: 100.0}}}},
				{ID: "confirm", Name: "Xác nhận"},
			}},
			{ID: "after", Name: "Sau mua", Steps: []Step{
				{ID: "deliver", Name: "Giao hàng"},
				{ID: "review", Name: "Đánh giá"},
			}},
		},
		Version: 3, CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), UpdatedBy: "us_1",
	}
}

func stageByID(m *Map, id string) *Stage {
	for i := range m.Stages {
		if m.Stages[i].ID == id {
			return &m.Stages[i]
		}
	}
	panic("no stage " + id)
}

func stepByID(m *Map, id string) *Step {
	for i := range m.Stages {
		for j := range m.Stages[i].Steps {
			if m.Stages[i].Steps[j].ID == id {
				return &m.Stages[i].Steps[j]
			}
		}
	}
	panic("no step " + id)
}

// moveStep takes step id out of its stage and inserts it into stage to at
// index at.
func moveStep(m *Map, id, to string, at int) {
	st := *stepByID(m, id)
	for i := range m.Stages {
		m.Stages[i].Steps = slices.DeleteFunc(m.Stages[i].Steps, func(s Step) bool { return s.ID == id })
	}
	s := stageByID(m, to)
	s.Steps = slices.Insert(s.Steps, at, st)
}

// summary renders a change on one line so that expectations read like the
// output a client would see.
func summary(c Change) string {
	js := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			return err.Error()
		}
		return string(b)
	}
	parts := []string{string(c.Op), string(c.Kind), c.ID}
	if c.StageID != "" {
		parts = append(parts, "in="+c.StageID)
	}
	if c.Field != "" {
		parts = append(parts, "field="+c.Field)
	}
	parts = append(parts, c.Path)
	if c.Op == Changed || c.Op == Moved {
		parts = append(parts, js(c.From)+"→"+js(c.To))
	}
	return strings.Join(parts, " ")
}

func summaries(cs []Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = summary(c)
	}
	return out
}

func TestDiffReportsEachOpOnEachKind(t *testing.T) {
	cases := []struct {
		name string
		edit func(m *Map)
		want []string
	}{
		{"equal maps", func(m *Map) {}, nil},
		{"store fields are ignored", func(m *Map) {
			m.ID, m.Version, m.UpdatedBy = "mp_2", 4, "us_2"
			m.CreatedAt, m.UpdatedAt = time.Now(), time.Now()
		}, nil},
		{"missing and empty lists are the same", func(m *Map) {
			stepByID(m, "cart").Thoughts = []string{}
			stepByID(m, "compare").Custom["other"] = nil
			m.Stages[0].Steps[0].Touchpoints = append([]Touchpoint(nil), m.Stages[0].Steps[0].Touchpoints...)
		}, nil},

		{"map name", func(m *Map) { m.Name = "Mua sắm" },
			[]string{`changed map  field=name name "Mua sắm trực tuyến"→"Mua sắm"`}},
		{"map kind", func(m *Map) { m.Kind = FutureState },
			[]string{`changed map  field=kind kind "current_state"→"future_state"`}},
		{"map description", func(m *Map) { m.Description = "" },
			[]string{`changed map  field=description description "Hành trình mua hàng"→""`}},
		{"map goal", func(m *Map) { m.Goal = "Giảm bỏ giỏ" },
			[]string{`changed map  field=goal goal "Tăng chuyển đổi"→"Giảm bỏ giỏ"`}},
		{"map personas", func(m *Map) { m.PersonaIDs = append(m.PersonaIDs, "ps_2") },
			[]string{`changed map  field=personaIds personaIds ["ps_1"]→["ps_1","ps_2"]`}},
		{"map locale", func(m *Map) { m.Locale = "el" },
			[]string{`changed map  field=locale locale "vi"→"el"`}},
		{"map tags emptied", func(m *Map) { m.Tags = nil },
			[]string{`changed map  field=tags tags ["bán lẻ"]→[]`}},

		{"lane added", func(m *Map) { m.Lanes = slices.Insert(m.Lanes, 1, Lane{ID: "pains", Kind: LanePainPoints}) },
			[]string{`added lane pains lanes[1]`}},
		{"lane removed", func(m *Map) { m.Lanes = slices.Delete(m.Lanes, 1, 2) },
			[]string{`removed lane touchpoints lanes[1]`}},
		{"lane renamed", func(m *Map) { m.Lanes[3].Name = "Chỉ số" },
			[]string{`changed lane kpi field=name lanes[3].name "KPI"→"Chỉ số"`}},
		{"lane kind", func(m *Map) { m.Lanes[3].Kind = LaneOpportunities },
			[]string{`changed lane kpi field=kind lanes[3].kind "custom"→"opportunities"`}},
		{"lane moved to the top", func(m *Map) { m.Lanes = append([]Lane{m.Lanes[3]}, m.Lanes[:3]...) },
			[]string{`moved lane kpi lanes[0] {"index":3}→{"index":0}`}},

		{"stage added with a new step", func(m *Map) {
			m.Stages = slices.Insert(m.Stages, 1, Stage{ID: "think", Name: "Σκέψη", Steps: []Step{{ID: "ask", Name: "Hỏi bạn bè"}}})
		}, []string{`added stage think stages[1]`, `added step ask in=think stages[1].steps[0]`}},
		{"stage removed with its steps", func(m *Map) { m.Stages = m.Stages[:2] },
			[]string{`removed stage after stages[2]`, `removed step deliver in=after stages[2].steps[0]`, `removed step review in=after stages[2].steps[1]`}},
		{"stage renamed", func(m *Map) { m.Stages[1].Name = "Αγορά και πληρωμή" },
			[]string{`changed stage buy field=name stages[1].name "Αγορά"→"Αγορά και πληρωμή"`}},
		{"stage description", func(m *Map) { m.Stages[1].Description = "Ταμείο" },
			[]string{`changed stage buy field=description stages[1].description "Πληρωμή"→"Ταμείο"`}},
		{"stage moved to the front moves only that stage", func(m *Map) { m.Stages = append([]Stage{m.Stages[2]}, m.Stages[:2]...) },
			[]string{`moved stage after stages[0] {"index":2}→{"index":0}`}},

		{"step inserted does not move its siblings", func(m *Map) {
			s := stageByID(m, "buy")
			s.Steps = slices.Insert(s.Steps, 0, Step{ID: "coupon", Name: "Nhập mã giảm giá"})
		}, []string{`added step coupon in=buy stages[1].steps[0]`}},
		{"step removed does not move its siblings", func(m *Map) {
			s := stageByID(m, "buy")
			s.Steps = slices.Delete(s.Steps, 0, 1)
		}, []string{`removed step cart in=buy stages[1].steps[0]`}},
		{"step dragged to the end of its stage", func(m *Map) { moveStep(m, "see-ad", "aware", 2) },
			[]string{`moved step see-ad in=aware stages[0].steps[2] {"stageId":"aware","index":0}→{"stageId":"aware","index":2}`}},
		{"step moved to another stage", func(m *Map) { moveStep(m, "compare", "buy", 0) },
			[]string{`moved step compare in=buy stages[1].steps[0] {"stageId":"aware","index":2}→{"stageId":"buy","index":0}`}},
		{"step moved out of a removed stage", func(m *Map) {
			moveStep(m, "review", "buy", 3)
			m.Stages = m.Stages[:2]
		}, []string{
			`moved step review in=buy stages[1].steps[3] {"stageId":"after","index":1}→{"stageId":"buy","index":3}`,
			`removed stage after stages[2]`,
			`removed step deliver in=after stages[2].steps[0]`,
		}},
		{"step moved into a new stage", func(m *Map) {
			m.Stages = append(m.Stages, Stage{ID: "loyal", Name: "Trung thành"})
			moveStep(m, "review", "loyal", 0)
		}, []string{
			`added stage loyal stages[3]`,
			`moved step review in=loyal stages[3].steps[0] {"stageId":"after","index":1}→{"stageId":"loyal","index":0}`,
		}},

		{"step name with diacritics only", func(m *Map) { stepByID(m, "pay").Name = "Thanh toán" },
			[]string{`changed step pay in=buy field=name stages[1].steps[1].name "Thanh toan"→"Thanh toán"`}},
		{"step description", func(m *Map) { stepByID(m, "cart").Description = "Xem giỏ" },
			[]string{`changed step cart in=buy field=description stages[1].steps[0].description ""→"Xem giỏ"`}},
		{"step touchpoints", func(m *Map) { stepByID(m, "see-ad").Touchpoints[0].Channel = "ads" },
			[]string{`changed step see-ad in=aware field=touchpoints stages[0].steps[0].touchpoints [{"channel":"social","name":"Facebook"}]→[{"channel":"ads","name":"Facebook"}]`}},
		{"step actions", func(m *Map) { stepByID(m, "see-ad").Actions = nil },
			[]string{`changed step see-ad in=aware field=actions stages[0].steps[0].actions ["Cuộn Facebook"]→[]`}},
		{"step thoughts", func(m *Map) { stepByID(m, "cart").Thoughts = []string{"Đắt quá"} },
			[]string{`changed step cart in=buy field=thoughts stages[1].steps[0].thoughts []→["Đắt quá"]`}},
		{"step emotion", func(m *Map) { stepByID(m, "see-ad").Emotion = &Emotion{Score: -2, Note: "Bực"} },
			[]string{`changed step see-ad in=aware field=emotion stages[0].steps[0].emotion {"score":1}→{"score":-2,"note":"Bực"}`}},
		{"step emotion cleared", func(m *Map) { stepByID(m, "see-ad").Emotion = nil },
			[]string{`changed step see-ad in=aware field=emotion stages[0].steps[0].emotion {"score":1}→null`}},
		{"step pain points", func(m *Map) { stepByID(m, "pay").PainPoints[0] = "Phí ẩn" },
			[]string{`changed step pay in=buy field=painPoints stages[1].steps[1].painPoints ["Phí giao hàng hiện muộn"]→["Phí ẩn"]`}},
		{"step blueprint lanes", func(m *Map) {
			st := stepByID(m, "deliver")
			st.Opportunities, st.Frontstage, st.Backstage = []string{"o"}, []string{"f"}, []string{"b"}
			st.Support, st.Policies, st.Technology = []string{"s"}, []string{"p"}, []string{"t"}
		}, []string{
			`changed step deliver in=after field=opportunities stages[2].steps[0].opportunities []→["o"]`,
			`changed step deliver in=after field=frontstage stages[2].steps[0].frontstage []→["f"]`,
			`changed step deliver in=after field=backstage stages[2].steps[0].backstage []→["b"]`,
			`changed step deliver in=after field=support stages[2].steps[0].support []→["s"]`,
			`changed step deliver in=after field=policies stages[2].steps[0].policies []→["p"]`,
			`changed step deliver in=after field=technology stages[2].steps[0].technology []→["t"]`,
		}},
		{"step custom lane", func(m *Map) { stepByID(m, "compare").Custom["kpi"] = []string{"Tỉ lệ thoát", "CTR"} },
			[]string{`changed step compare in=aware field=custom.kpi stages[0].steps[2].custom.kpi ["Tỉ lệ thoát"]→["Tỉ lệ thoát","CTR"]`}},
		{"step custom lane emptied", func(m *Map) { stepByID(m, "compare").Custom = nil },
			[]string{`changed step compare in=aware field=custom.kpi stages[0].steps[2].custom.kpi ["Tỉ lệ thoát"]→[]`}},
		{"step binding filter", func(m *Map) { stepByID(m, "pay").Binding.Where[0].Value = 200.0 },
			[]string{`changed step pay in=buy field=binding stages[1].steps[1].binding {"events":["Order Completed"],"where":[{"property":"total","op":"gt","value":100}]}→{"events":["Order Completed"],"where":[{"property":"total","op":"gt","value":200}]}`}},
		{"step binding added", func(m *Map) { stepByID(m, "cart").Binding = &Binding{Events: []string{"Cart Viewed"}, Channel: "web"} },
			[]string{`changed step cart in=buy field=binding stages[1].steps[0].binding null→{"events":["Cart Viewed"],"channel":"web"}`}},
		{"step detail map", func(m *Map) { stepByID(m, "review").DetailMapID = "mp_9" },
			[]string{`changed step review in=after field=detailMapId stages[2].steps[1].detailMapId ""→"mp_9"`}},
		{"step moved and renamed reports both", func(m *Map) {
			moveStep(m, "cart", "after", 2)
			stepByID(m, "cart").Name = "Giỏ"
		}, []string{
			`moved step cart in=after stages[2].steps[2] {"stageId":"buy","index":0}→{"stageId":"after","index":2}`,
			`changed step cart in=after field=name stages[2].steps[2].name "Giỏ hàng"→"Giỏ"`,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			from, to := diffBase(), diffBase()
			tc.edit(to)
			got := summaries(Diff(from, to))
			if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("Diff:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(tc.want, "\n      "))
			}
		})
	}
}

func TestDiffOfEqualMapsEncodesAsEmptyArray(t *testing.T) {
	cs := Diff(diffBase(), diffBase())
	if cs == nil {
		t.Fatal("Diff returned nil; want an empty slice")
	}
	raw, err := json.Marshal(cs)
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != "[]" {
		t.Errorf("encoded as %s; want []", raw)
	}
}

func TestDiffEncodesChangesInTheAPIShape(t *testing.T) {
	from, to := diffBase(), diffBase()
	stepByID(to, "pay").Name = "Thanh toán"
	moveStep(to, "compare", "buy", 0)
	to.Stages[2].Steps = to.Stages[2].Steps[:1]
	raw, err := json.Marshal(Diff(from, to))
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"op": "moved", "kind": "step", "id": "compare", "stageId": "buy", "name": "So sánh", "path": "stages[1].steps[0]",
			"from": map[string]any{"stageId": "aware", "index": 2.0}, "to": map[string]any{"stageId": "buy", "index": 0.0}},
		{"op": "changed", "kind": "step", "id": "pay", "stageId": "buy", "name": "Thanh toán", "field": "name",
			"path": "stages[1].steps[2].name", "from": "Thanh toan", "to": "Thanh toán"},
		{"op": "removed", "kind": "step", "id": "review", "stageId": "after", "name": "Đánh giá", "path": "stages[2].steps[1]",
			"from": map[string]any{"id": "review", "name": "Đánh giá"}, "to": nil},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %s\nwant %s", raw, mustJSON(t, want))
	}
}

func TestDiffEdgeCases(t *testing.T) {
	t.Run("map level change on a map named in Greek keeps the new name", func(t *testing.T) {
		from, to := diffBase(), diffBase()
		to.Name = "Ηλεκτρονικές αγορές"
		cs := Diff(from, to)
		if len(cs) != 1 || cs[0].Name != "Ηλεκτρονικές αγορές" || cs[0].ID != "" {
			t.Errorf("got %+v", cs)
		}
	})
	t.Run("removed elements carry their old name and stage", func(t *testing.T) {
		from, to := diffBase(), diffBase()
		to.Stages = to.Stages[1:]
		cs := Diff(from, to)
		if cs[0].Name != "Nhận thức" || cs[1].StageID != "aware" || cs[1].Name != "Thấy quảng cáo" {
			t.Errorf("got %+v", cs[:2])
		}
	})
	t.Run("diff from nil lists the whole map as added", func(t *testing.T) {
		m := diffBase()
		got := summaries(Diff(nil, m))
		var added int
		for _, s := range got {
			if strings.HasPrefix(s, "added ") {
				added++
			}
		}
		if want := 4 + 3 + 8; added != want { // lanes, stages, steps
			t.Errorf("%d added; want %d:\n%s", added, want, strings.Join(got, "\n"))
		}
	})
	t.Run("inputs are not modified", func(t *testing.T) {
		from, to := diffBase(), diffBase()
		to.Stages[0].Steps = nil
		to.Tags = nil
		a, b := mustJSON(t, from), mustJSON(t, to)
		Diff(from, to)
		if mustJSON(t, from) != a || mustJSON(t, to) != b {
			t.Error("Diff changed its input")
		}
	})
	t.Run("duplicate ids do not panic", func(t *testing.T) {
		from, to := diffBase(), diffBase()
		to.Stages[1].Steps[0].ID = "see-ad"
		to.Stages = append(to.Stages, to.Stages[0])
		Diff(from, to)
		Diff(to, from)
	})
}

// TestDiffListsChangesTopToBottomWithRemovalsWhereTheyWere checks the order a
// reader sees: map, lanes, then each stage of the new version with its steps,
// and each removed element right after the survivor that preceded it.
func TestDiffListsChangesTopToBottomWithRemovalsWhereTheyWere(t *testing.T) {
	from, to := diffBase(), diffBase()
	to.Goal = "Giữ chân khách"
	to.Lanes = slices.Delete(to.Lanes, 0, 1)                             // first lane removed
	to.Lanes = append(to.Lanes, Lane{ID: "pains", Kind: LanePainPoints}) // one added at the end
	to.Stages[0].Steps = slices.Delete(to.Stages[0].Steps, 1, 2)         // search removed
	stepByID(to, "compare").Name = "So sánh giá"
	to.Stages = slices.Delete(to.Stages, 1, 2) // buy removed...
	to.Stages[0].Steps = append(to.Stages[0].Steps, diffBase().Stages[1].Steps[1])
	to.Stages = append(to.Stages, Stage{ID: "loyal", Name: "Lòng trung thành", Steps: []Step{{ID: "refer", Name: "Giới thiệu"}}})

	want := []string{
		`changed map  field=goal goal "Tăng chuyển đổi"→"Giữ chân khách"`,
		`removed lane actions lanes[0]`,
		`added lane pains lanes[3]`,
		`removed step search in=aware stages[0].steps[1]`,
		`changed step compare in=aware field=name stages[0].steps[1].name "So sánh"→"So sánh giá"`,
		`moved step pay in=aware stages[0].steps[2] {"stageId":"buy","index":1}→{"stageId":"aware","index":2}`,
		`removed stage buy stages[1]`,
		`removed step cart in=buy stages[1].steps[0]`,
		`removed step confirm in=buy stages[1].steps[2]`,
		`added stage loyal stages[2]`,
		`added step refer in=loyal stages[2].steps[0]`,
	}
	got := summaries(Diff(from, to))
	if !slices.Equal(got, want) {
		t.Errorf("Diff:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

// TestDiffMovesOnlyWhatLeftTheLongestKeptOrder shuffles steps at random and
// checks that the moved count is the least that explains the new order: the
// number of steps minus the longest run that kept its relative order.
func TestDiffMovesOnlyWhatLeftTheLongestKeptOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		n := 1 + r.IntN(12)
		from := &Map{Name: "m", Kind: CurrentState, Stages: []Stage{{ID: "s", Name: "s"}}}
		for i := range n {
			from.Stages[0].Steps = append(from.Stages[0].Steps, Step{ID: "st" + strconv.Itoa(i), Name: "Bước " + strconv.Itoa(i)})
		}
		to := &Map{Name: "m", Kind: CurrentState, Stages: []Stage{{ID: "s", Name: "s", Steps: slices.Clone(from.Stages[0].Steps)}}}
		r.Shuffle(n, func(i, j int) {
			to.Stages[0].Steps[i], to.Stages[0].Steps[j] = to.Stages[0].Steps[j], to.Stages[0].Steps[i]
		})
		order := make([]int, n)
		for i, st := range to.Stages[0].Steps {
			order[i], _ = strconv.Atoi(strings.TrimPrefix(st.ID, "st"))
		}
		moved := 0
		for _, c := range Diff(from, to) {
			if c.Op != Moved {
				t.Fatalf("round %d: unexpected %s", round, summary(c))
			}
			moved++
		}
		if want := n - longestIncreasing(order); moved != want {
			t.Fatalf("round %d: order %v: %d moved; want %d", round, order, moved, want)
		}
	}
}

// longestIncreasing is the quadratic textbook LIS length, an independent
// check on the patience-sorting one Diff uses.
func longestIncreasing(a []int) int {
	best := 0
	l := make([]int, len(a))
	for i := range a {
		l[i] = 1
		for j := range i {
			if a[j] < a[i] && l[j]+1 > l[i] {
				l[i] = l[j] + 1
			}
		}
		best = max(best, l[i])
	}
	return best
}

// TestDiffPathsPointAtTheReportedValue resolves every change's path in the
// version it refers to and checks that it finds the reported value, so the
// web app can highlight exactly that spot.
func TestDiffPathsPointAtTheReportedValue(t *testing.T) {
	from, to := diffBase(), diffBase()
	to.Name = "Mua sắm"
	to.Lanes[2].Name = "Συναισθήματα"
	to.Lanes = append(to.Lanes[1:], to.Lanes[0])
	moveStep(to, "compare", "after", 1)
	stepByID(to, "compare").Custom["kpi"] = nil
	stepByID(to, "pay").Emotion = &Emotion{Score: -1, Note: "Lo lắng"}
	to.Stages[1].Steps = slices.Delete(to.Stages[1].Steps, 0, 1)
	to.Stages = append(to.Stages[1:], Stage{ID: "new", Name: "Mới", Steps: []Step{{ID: "n1", Name: "Một"}}})

	docs := map[bool]any{} // keyed by "is the older version"
	for old, m := range map[bool]*Map{true: from, false: to} {
		var v any
		if err := json.Unmarshal([]byte(mustJSON(t, m)), &v); err != nil {
			t.Fatal(err)
		}
		docs[old] = v
	}
	cs := Diff(from, to)
	if len(cs) < 8 {
		t.Fatalf("only %d changes: %v", len(cs), summaries(cs))
	}
	for _, c := range cs {
		got, found := resolve(docs[c.Op == Removed], c.Path)
		var want any
		switch c.Op {
		case Removed:
			want = c.From
		case Added, Changed:
			want = c.To
		case Moved:
			obj, _ := got.(map[string]any)
			if !found || obj["id"] != c.ID {
				t.Errorf("%s: path finds %v, not element %s", summary(c), got, c.ID)
			}
			continue
		}
		var w any
		if err := json.Unmarshal([]byte(mustJSON(t, want)), &w); err != nil {
			t.Fatal(err)
		}
		if got == nil && (w == nil || reflect.DeepEqual(w, []any{})) {
			continue // an emptied field is left out of the document, or null
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s: path finds %v; want %v", summary(c), got, w)
		}
	}
}

var pathPart = regexp.MustCompile(`^([^.\[]+)((?:\[\d+\])*)`)

// resolve follows a path such as stages[1].steps[0].custom.kpi in a decoded
// JSON document.
func resolve(doc any, path string) (any, bool) {
	for path != "" {
		m := pathPart.FindStringSubmatch(path)
		if m == nil {
			return nil, false
		}
		obj, ok := doc.(map[string]any)
		if !ok {
			return nil, false
		}
		if doc, ok = obj[m[1]]; !ok {
			return nil, false
		}
		for _, ix := range regexp.MustCompile(`\d+`).FindAllString(m[2], -1) {
			i, _ := strconv.Atoi(ix)
			arr, ok := doc.([]any)
			if !ok || i >= len(arr) {
				return nil, false
			}
			doc = arr[i]
		}
		path = strings.TrimPrefix(path[len(m[0]):], ".")
	}
	return doc, true
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(fmt.Errorf("marshal: %w", err))
	}
	return string(raw)
}
