package journey

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// csvSample is a hand-made blueprint that reaches every branch of WriteCSV:
// renamed and unnamed lanes, a custom lane, every built-in lane, a binding
// with several filters, formula-like text, and an empty step and stage.
func csvSample() *Map {
	return &Map{
		Name: "Πληρωμή λογαριασμού", Kind: ServiceBlueprint, Locale: "el",
		Lanes: []Lane{
			{ID: "actions", Kind: LaneActions, Name: "Ενέργειες"},
			{ID: "touchpoints", Kind: LaneTouchpoints},
			{ID: "thoughts", Kind: LaneThoughts, Name: "Σκέψεις"},
			{ID: "emotions", Kind: LaneEmotions, Name: "Συναισθήματα"},
			{ID: "pains", Kind: LanePainPoints, Name: "Προβλήματα"},
			{ID: "opps", Kind: LaneOpportunities, Name: "Ευκαιρίες"},
			{ID: "front", Kind: LaneFrontstage, Name: "Μπροστά"},
			{ID: "back", Kind: LaneBackstage, Name: "Πίσω"},
			{ID: "support", Kind: LaneSupport, Name: "Υποστήριξη"},
			{ID: "policies", Kind: LanePolicies, Name: "Πολιτικές"},
			{ID: "tech", Kind: LaneTechnology, Name: "Τεχνολογία"},
			{ID: "kpi", Kind: LaneCustom, Name: "Δείκτες"},
		},
		Stages: []Stage{
			{ID: "receive", Name: "Λήψη", Steps: []Step{
				{ID: "open-bill", Name: "Ανοίγει τον λογαριασμό",
					Touchpoints:   []Touchpoint{{Channel: "email", Name: "Ηλεκτρονικός λογαριασμός"}, {Channel: "mobile", Name: "Εφαρμογή"}},
					Actions:       []string{"Διαβάζει το ποσό", "Ελέγχει, με προσοχή, τη χρέωση"},
					Thoughts:      []string{"Γιατί \"αυξήθηκε\";"},
					Emotion:       &Emotion{Score: -1, Note: "Ανησυχία"},
					PainPoints:    []string{"=HYPERLINK(\"http://evil.example\",\"κλικ\")"},
					Opportunities: []string{"+ανάλυση χρέωσης"},
					Frontstage:    []string{"Email"}, Backstage: []string{"Έκδοση λογαριασμού"},
					Support: []string{"@billing"}, Policies: []string{"-30 ημέρες προθεσμία"}, Technology: []string{"\tERP"},
					Custom: map[string][]string{"kpi": {"Άνοιγμα email 62%"}},
					Binding: &Binding{Events: []string{"Email Opened", "Bill Viewed"}, Channel: "email",
						Where: []Filter{{Property: "plan", Op: OpEq, Value: "pro"}, {Property: "amount", Op: OpGte, Value: 50.5},
							{Property: "region", Op: OpIn, Value: []any{"GR", "CY"}}, {Property: "promo", Op: OpExists}}},
				},
				{ID: "wait", Name: "Περιμένει"},
			}},
			{ID: "later", Name: "Αργότερα"},
		},
	}
}

func TestWriteCSVMatchesGoldenFiles(t *testing.T) {
	tm, ok, err := TemplateByID("retail-online-purchase", "el")
	if err != nil || !ok {
		t.Fatalf("template retail-online-purchase/el: found=%v, %v", ok, err)
	}
	for name, m := range map[string]*Map{
		"retail-online-purchase.el.csv": &tm.Map,
		"blueprint-sample.el.csv":       csvSample(),
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteCSV(&buf, m); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", name)
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/journey -run TestWriteCSV -update to write it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("WriteCSV output differs from %s; if the change is intended, run go test ./internal/journey -run TestWriteCSV -update\ngot:\n%s", golden, buf.String())
			}
		})
	}
}

// readCSV parses WriteCSV output the way a spreadsheet would, after checking
// and stripping the byte-order mark.
func readCSV(t *testing.T, m *Map) [][]string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, m); err != nil {
		t.Fatal(err)
	}
	raw, ok := bytes.CutPrefix(buf.Bytes(), []byte("\xef\xbb\xbf"))
	if !ok {
		t.Fatalf("output does not start with the UTF-8 BOM: %q", buf.Bytes()[:min(10, buf.Len())])
	}
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "stage_index,stage_id,stage,step_index,step_id,step,lane,lane_kind,item_index,content" {
		t.Fatalf("header %v", rows[0])
	}
	return rows[1:]
}

func TestWriteCSVRendersEveryLaneInMapOrder(t *testing.T) {
	rows := readCSV(t, csvSample())
	var got []string
	for _, r := range rows {
		got = append(got, strings.Join(r, " | "))
	}
	want := []string{
		"0 | receive | Λήψη | 0 | open-bill | Ανοίγει τον λογαριασμό | Ενέργειες | actions | 0 | Διαβάζει το ποσό",
		"0 | receive | Λήψη | 0 | open-bill | Ανοίγει τον λογαριασμό | Ενέργειες | actions | 1 | Ελέγχει, με προσοχή, τη χρέωση",
		"0 | receive | Λήψη | 0 | open-bill | Ανοίγει τον λογαριασμό | touchpoints | touchpoints | 0 | email: Ηλεκτρονικός λογαριασμός",
		"0 | receive | Λήψη | 0 | open-bill | Ανοίγει τον λογαριασμό | touchpoints | touchpoints | 1 | mobile: Εφαρμογή",
		"0 | receive | Λήψη | 0 | open-bill | Ανοίγει τον λογαριασμό | Σκέψεις | thoughts | 0 | Γιατί \"αυξήθηκε\";",
		"0 | receive | Λήψη | 0 | open-bill | Ανοίγει τον λογαριασμό | Συναισθήματα | emotions | 0 | '-1: Ανησυχία",
		"0 | receive | Λήψη | 0 | open-bill | Ανοίγει τον λογαριασμό | Προβλήματα | pain_points | 0 | '=HYPERLINK(\"http://evil.example\",\"κλικ\")",
		"0 | receive | Λήψη | 0 | open-bill | Ανοίγει τον λογαριασμό | Ευκαιρίες | opportunities | 0 | '+ανάλυση χρέωσης",
		"0 | receive | Λήψη | 0 | open-bill | Ανοίγει τον λογαριασμό | Μπροστά | frontstage | 0 | Email",
		"0 | receive | Λήψη | 0 | open-bill | Ανοίγει τον λογαριασμό | Πίσω | backstage | 0 | Έκδοση λογαριασμού",
		"0 | receive | Λήψη | 0 | open-bill | Ανοίγει τον λογαριασμό | Υποστήριξη | support | 0 | '@billing",
		"0 | receive | Λήψη | 0 | open-bill | Ανοίγει τον λογαριασμό | Πολιτικές | policies | 0 | '-30 ημέρες προθεσμία",
		"0 | receive | Λήψη | 0 | open-bill | Ανοίγει τον λογαριασμό | Τεχνολογία | technology | 0 | '\tERP",
		"0 | receive | Λήψη | 0 | open-bill | Ανοίγει τον λογαριασμό | Δείκτες | custom | 0 | Άνοιγμα email 62%",
		"0 | receive | Λήψη | 0 | open-bill | Ανοίγει τον λογαριασμό | binding | binding | 0 | events=Email Opened|Bill Viewed; channel=email; where=plan eq pro and amount gte 50.5 and region in GR|CY and promo exists",
		"0 | receive | Λήψη | 1 | wait | Περιμένει |  |  |  | ",
		"1 | later | Αργότερα |  |  |  |  |  |  | ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWriteCSVUsesDefaultLanesWhenTheMapHasNone(t *testing.T) {
	m := &Map{Name: "m", Kind: CurrentState, Stages: []Stage{{ID: "s", Name: "s", Steps: []Step{
		{ID: "a", Name: "a", PainPoints: []string{"chậm"}, Emotion: &Emotion{Score: 2}},
	}}}}
	rows := readCSV(t, m)
	if len(rows) != 2 || rows[0][6] != "emotions" || rows[0][9] != "2" || rows[1][6] != "pain_points" || rows[1][9] != "chậm" {
		t.Errorf("rows %q", rows)
	}
}

func TestWriteCSVNeutralisesFormulaCells(t *testing.T) {
	for in, want := range map[string]string{
		"=cmd|' /C calc'!A0": "'=cmd|' /C calc'!A0",
		"+33 1 23":           "'+33 1 23",
		"-2+3":               "'-2+3",
		"@SUM(A1:A2)":        "'@SUM(A1:A2)",
		"\t=1+1":             "'\t=1+1",
		"\r=1+1":             "'\r=1+1",
		"a=b":                "a=b",
		" =1":                " =1",
		"Ελληνικά":           "Ελληνικά",
		"":                   "",
	} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q; want %q", in, got, want)
		}
	}
	// Every column goes through the same guard, names and ids included.
	m := &Map{Name: "m", Kind: CurrentState, Lanes: []Lane{{ID: "c", Kind: LaneCustom, Name: "=lane"}},
		Stages: []Stage{{ID: "s", Name: "-stage", Steps: []Step{{ID: "p", Name: "@step", Custom: map[string][]string{"c": {"+x"}}}}}}}
	rows := readCSV(t, m)
	for _, cell := range []string{rows[0][2], rows[0][5], rows[0][6], rows[0][9]} {
		if !strings.HasPrefix(cell, "'") {
			t.Errorf("cell %q is not neutralised", cell)
		}
	}
}

func TestWriteCSVExportsEveryTemplateItemOnce(t *testing.T) {
	for _, loc := range Locales {
		ts, err := Templates(loc)
		if err != nil {
			t.Fatal(err)
		}
		for _, tm := range ts {
			m := tm.Map
			want := 0
			for _, s := range m.Stages {
				for _, st := range s.Steps {
					n := len(st.Actions) + len(st.Touchpoints) + len(st.Thoughts) + len(st.PainPoints) +
						len(st.Opportunities) + len(st.Frontstage) + len(st.Backstage) + len(st.Support) +
						len(st.Policies) + len(st.Technology)
					for _, v := range st.Custom {
						n += len(v)
					}
					if st.Emotion != nil {
						n++
					}
					if st.Binding != nil {
						n++
					}
					want += max(n, 1)
				}
			}
			if got := len(readCSV(t, &m)); got != want {
				t.Errorf("%s/%s: %d rows; want %d (one per lane item and binding)", tm.ID, loc, got, want)
			}
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteCSVReturnsTheWriterError(t *testing.T) {
	if err := WriteCSV(failingWriter{}, csvSample()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("err = %v; want the writer's error", err)
	}
}
