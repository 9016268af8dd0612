package journey

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

var csvHeader = []string{"stage_index", "stage_id", "stage", "step_index", "step_id", "step", "lane", "lane_kind", "item_index", "content"}

// WriteCSV writes m as a CSV table with one row per item of a lane of a step:
// stages, their steps and each step's lanes in the order the map shows them
// (m.Lanes, or the kind's default lanes when the map has none), then the
// step's binding. Indices count from 0, like the paths in trek's errors and
// diffs. A step with no content at all, or a stage with no steps, still gets
// one row so that nothing on the map is missing from the export.
//
// The output is for spreadsheets, so it is shaped for them: every cell that a
// spreadsheet would run as a formula is made inert (see csvCell), and lines
// end in CRLF as RFC 4180 and Excel expect.
func WriteCSV(w io.Writer, m *Map) error {
	bw := bufio.NewWriter(w)
	// Excel reads a CSV file without a byte-order mark in the system's legacy
	// code page, which garbles Vietnamese, Greek and Polish text; the UTF-8
	// BOM makes it read UTF-8. Other CSV readers ignore or strip it.
	if _, err := bw.WriteString("\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	write := func(cells ...string) {
		for i, c := range cells {
			cells[i] = csvCell(c)
		}
		_ = cw.Write(cells) // the error is sticky and read from cw.Error below
	}
	write(append([]string(nil), csvHeader...)...)

	lanes := m.Lanes
	if len(lanes) == 0 {
		lanes = DefaultLanes(m.Kind)
	}
	for i, s := range m.Stages {
		si := strconv.Itoa(i)
		if len(s.Steps) == 0 {
			write(si, s.ID, s.Name, "", "", "", "", "", "", "")
		}
		for j, st := range s.Steps {
			row := func(lane, kind string, k int, content string) {
				write(si, s.ID, s.Name, strconv.Itoa(j), st.ID, st.Name, lane, kind, strconv.Itoa(k), content)
			}
			rows := 0
			for _, l := range lanes {
				name := l.Name
				if name == "" {
					name = string(l.Kind)
				}
				for k, item := range laneItems(&st, l) {
					row(name, string(l.Kind), k, item)
					rows++
				}
			}
			if st.Binding != nil {
				row("binding", "binding", 0, bindingText(st.Binding))
				rows++
			}
			if rows == 0 {
				write(si, s.ID, s.Name, strconv.Itoa(j), st.ID, st.Name, "", "", "", "")
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// laneItems returns the content of lane l on step st as one string per item.
func laneItems(st *Step, l Lane) []string {
	switch l.Kind {
	case LaneActions:
		return st.Actions
	case LaneTouchpoints:
		out := make([]string, len(st.Touchpoints))
		for i, t := range st.Touchpoints {
			out[i] = t.Channel + ": " + t.Name
		}
		return out
	case LaneThoughts:
		return st.Thoughts
	case LaneEmotions:
		if st.Emotion == nil {
			return nil
		}
		s := strconv.Itoa(st.Emotion.Score)
		if st.Emotion.Note != "" {
			s += ": " + st.Emotion.Note
		}
		return []string{s}
	case LanePainPoints:
		return st.PainPoints
	case LaneOpportunities:
		return st.Opportunities
	case LaneFrontstage:
		return st.Frontstage
	case LaneBackstage:
		return st.Backstage
	case LaneSupport:
		return st.Support
	case LanePolicies:
		return st.Policies
	case LaneTechnology:
		return st.Technology
	case LaneCustom:
		return st.Custom[l.ID]
	}
	return nil
}

// bindingText renders a binding on one line, e.g.
// "events=Order Completed|Order Refunded; channel=web; where=plan eq pro and seats gte 5".
func bindingText(b *Binding) string {
	parts := []string{"events=" + strings.Join(b.Events, "|")}
	if b.Channel != "" {
		parts = append(parts, "channel="+b.Channel)
	}
	if len(b.Where) > 0 {
		conds := make([]string, len(b.Where))
		for i, f := range b.Where {
			conds[i] = f.Property + " " + string(f.Op)
			if f.Value != nil {
				conds[i] += " " + filterValue(f.Value)
			}
		}
		parts = append(parts, "where="+strings.Join(conds, " and "))
	}
	return strings.Join(parts, "; ")
}

func filterValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case []any:
		s := make([]string, len(v))
		for i, x := range v {
			s[i] = filterValue(x)
		}
		return strings.Join(s, "|")
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(raw)
}

// csvCell makes a cell safe to open in a spreadsheet. Excel, LibreOffice and
// Google Sheets run a cell that starts with =, +, - or @ as a formula (tab and
// CR are stripped first and then the same happens), so a map's text could
// otherwise run commands or leak data on the machine of whoever opens the
// export (CSV injection). A leading single quote makes them show it as text.
// Negative emotion scores ("-1: …") are quoted too: the rule has no
// exceptions, because a partial one is how injection gets through.
func csvCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
