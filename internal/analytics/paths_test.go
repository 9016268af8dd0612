package analytics

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/journey"
)

// pathsJourneys are the hand-made journeys of the paths tests.
var pathsJourneys = []procJourney{
	{1, "Home@0 Search@1 Search@2 Product@3 Cart@4 Buy@5"},
	{2, "Home@0 Product@1 Product@2 Cart@3"},
	{3, "Search@0 Home@1/email Product@2"},
	{4, "Home@0 Blog@1"},
	{5, "Blog@0"},
}

// sankey writes a result compactly: nodes as "id=customers", links as
// "source>target=customers", each in the result's order.
func sankey(r PathsResult) (nodes, links []string) {
	for _, n := range r.Nodes {
		nodes = append(nodes, fmt.Sprintf("%s=%d", n.ID, n.Customers))
	}
	for _, l := range r.Links {
		links = append(links, fmt.Sprintf("%s>%s=%d", l.Source, l.Target, l.Customers))
	}
	return nodes, links
}

func TestPathsOnHandMadeJourneys(t *testing.T) {
	home := &Matcher{Event: "Home"}
	at := func(m float64) time.Time { return procT0.Add(time.Duration(m * float64(time.Minute))) }
	for _, tc := range []struct {
		name      string
		q         PathsQuery
		customers int
		nodes     []string
		links     []string
	}{
		{
			name: "forward from an event, journeys ending early",
			q:    PathsQuery{Anchor: home, Steps: 3}, customers: 4,
			nodes: []string{"0:Home=4",
				"1:Product=2", "1:Blog=1", "1:Search=1",
				"2:Product=1", "2:Search=1", "2#end=2",
				"3:Cart=1", "3:Product=1"},
			links: []string{"0:Home>1:Product=2", "0:Home>1:Blog=1", "0:Home>1:Search=1",
				"1:Blog>2#end=1", "1:Product>2#end=1", "1:Product>2:Product=1", "1:Search>2:Search=1",
				"2:Product>3:Cart=1", "2:Search>3:Product=1"},
		},
		{
			name: "repeats collapsed",
			q:    PathsQuery{Anchor: home, Steps: 3, CollapseRepeats: true}, customers: 4,
			nodes: []string{"0:Home=4",
				"1:Product=2", "1:Blog=1", "1:Search=1",
				"2:Cart=1", "2:Product=1", "2#end=2",
				"3:Cart=1", "3#end=1"},
			links: []string{"0:Home>1:Product=2", "0:Home>1:Blog=1", "0:Home>1:Search=1",
				"1:Blog>2#end=1", "1:Product>2#end=1", "1:Product>2:Cart=1", "1:Search>2:Product=1",
				"2:Cart>3#end=1", "2:Product>3:Cart=1"},
		},
		{
			name: "top N per step, the rest as other",
			q:    PathsQuery{Anchor: home, Steps: 2, TopN: 1}, customers: 4,
			nodes: []string{"0:Home=4",
				"1:Product=2", "1#other=2",
				"2:Product=1", "2#other=1", "2#end=2"},
			links: []string{"0:Home>1#other=2", "0:Home>1:Product=2",
				"1#other>2#end=1", "1#other>2#other=1", "1:Product>2#end=1", "1:Product>2:Product=1"},
		},
		{
			name: "backward to an event",
			q:    PathsQuery{Anchor: &Matcher{Event: "Cart"}, Direction: "backward", Steps: 2}, customers: 2,
			nodes: []string{"-2:Product=1", "-2:Search=1", "-1:Product=2", "0:Cart=2"},
			links: []string{"-2:Product>-1:Product=1", "-2:Search>-1:Product=1", "-1:Product>0:Cart=2"},
		},
		{
			name: "backward past the journey's start",
			q:    PathsQuery{Anchor: &Matcher{Event: "Product"}, Direction: "backward", Steps: 3}, customers: 3,
			nodes: []string{"-3:Home=1", "-3#start=1",
				"-2:Search=2", "-2#start=1",
				"-1:Home=2", "-1:Search=1",
				"0:Product=3"},
			links: []string{"-3#start>-2:Search=1", "-3:Home>-2:Search=1",
				"-2#start>-1:Home=1", "-2:Search>-1:Home=1", "-2:Search>-1:Search=1",
				"-1:Home>0:Product=2", "-1:Search>0:Product=1"},
		},
		{
			name: "no anchor: from the journeys' start",
			q:    PathsQuery{Steps: 2}, customers: 5,
			nodes: []string{"0#start=5",
				"1:Home=3", "1:Blog=1", "1:Search=1",
				"2:Blog=1", "2:Home=1", "2:Product=1", "2:Search=1", "2#end=1"},
			links: []string{"0#start>1:Home=3", "0#start>1:Blog=1", "0#start>1:Search=1",
				"1:Blog>2#end=1", "1:Home>2:Blog=1", "1:Home>2:Product=1", "1:Home>2:Search=1", "1:Search>2:Home=1"},
		},
		{
			name: "no anchor backward: to the journeys' end",
			q:    PathsQuery{Direction: "backward", Steps: 1, Anchor: &Matcher{}}, customers: 5,
			nodes: []string{"-1:Blog=2", "-1:Buy=1", "-1:Cart=1", "-1:Product=1", "0#end=5"},
			links: []string{"-1:Blog>0#end=2", "-1:Buy>0#end=1", "-1:Cart>0#end=1", "-1:Product>0#end=1"},
		},
		{
			name: "the anchor is the first match in the range",
			q:    PathsQuery{Anchor: home, Steps: 1, From: at(1)}, customers: 1,
			nodes: []string{"0:Home=1", "1:Product=1"},
			links: []string{"0:Home>1:Product=1"},
		},
		{
			name: "the range cuts the steps",
			q:    PathsQuery{Anchor: home, Steps: 3, To: at(2)}, customers: 4,
			nodes: []string{"0:Home=4", "1:Blog=1", "1:Product=1", "1:Search=1", "1#end=1", "2#end=3"},
			links: []string{"0:Home>1#end=1", "0:Home>1:Blog=1", "0:Home>1:Product=1", "0:Home>1:Search=1",
				"1:Blog>2#end=1", "1:Product>2#end=1", "1:Search>2#end=1"},
		},
		{
			name: "an anchor with a channel",
			q:    PathsQuery{Anchor: &Matcher{Event: "Home", Channel: "email"}, Steps: 1}, customers: 1,
			nodes: []string{"0:Home=1", "1:Product=1"},
			links: []string{"0:Home>1:Product=1"},
		},
		{
			name: "an anchor of several events with a property filter",
			q: PathsQuery{Anchor: &Matcher{Events: []string{"Blog", "Cart"}, Where: []journey.Filter{
				{Property: "channel", Op: journey.OpEq, Value: "web"}}}, Steps: 1}, customers: 4,
			nodes: []string{"0:Blog=2", "0:Cart=2", "1:Buy=1", "1#end=3"},
			links: []string{"0:Blog>1#end=2", "0:Cart>1#end=1", "0:Cart>1:Buy=1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Paths(t.Context(), procIndex(t, pathsJourneys...), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			nodes, links := sankey(got)
			if got.Customers != tc.customers {
				t.Errorf("%d customers, want %d", got.Customers, tc.customers)
			}
			if !slices.Equal(nodes, tc.nodes) {
				t.Errorf("nodes\n got %q\nwant %q", nodes, tc.nodes)
			}
			if !slices.Equal(links, tc.links) {
				t.Errorf("links\n got %q\nwant %q", links, tc.links)
			}
		})
	}
}

// TestPathsConservesCustomers checks, on a real log, that every node's
// customers all flow on (or came in) and that each step holds everyone
// not yet gone, whatever the options.
func TestPathsConservesCustomers(t *testing.T) {
	ix := procLog(t, "helpdesk.xes.gz")
	for _, q := range []PathsQuery{
		{Steps: 10, TopN: 3},
		{Steps: 4, CollapseRepeats: true, Direction: "backward"},
		{Anchor: &Matcher{Event: "Resolve ticket"}, Steps: 6, TopN: 2, CollapseRepeats: true},
	} {
		t.Run(fmt.Sprintf("%+v", q), func(t *testing.T) {
			got, err := Paths(t.Context(), ix, q)
			if err != nil {
				t.Fatal(err)
			}
			out, in := map[string]int{}, map[string]int{}
			for _, l := range got.Links {
				out[l.Source] += l.Customers
				in[l.Target] += l.Customers
			}
			byStep := map[int]int{}
			for _, n := range got.Nodes {
				byStep[n.Step] += n.Customers
				boundary := n.Kind == "end" || n.Kind == "start"
				last := n.Step == q.Steps || n.Step == -q.Steps
				if n.Step != 0 && (n.Step > 0) == (q.Direction == "backward") {
					t.Fatalf("node %s on the wrong side", n.ID)
				}
				// Forward, customers come in from the node before; going
				// backward, they flow out to the node after.
				if n.Step != 0 && q.Direction != "backward" && in[n.ID] != n.Customers {
					t.Errorf("node %s: %d customers, %d flow in", n.ID, n.Customers, in[n.ID])
				}
				if n.Step != 0 && q.Direction == "backward" && out[n.ID] != n.Customers {
					t.Errorf("node %s: %d customers, %d flow out", n.ID, n.Customers, out[n.ID])
				}
				if !boundary && !last && n.Step != 0 {
					next := out[n.ID]
					if q.Direction == "backward" {
						next = in[n.ID]
					}
					if next != n.Customers {
						t.Errorf("node %s: %d customers, %d flow on", n.ID, n.Customers, next)
					}
				}
			}
			if byStep[0] != got.Customers || got.Customers == 0 {
				t.Errorf("step 0 holds %d of %d customers", byStep[0], got.Customers)
			}
		})
	}
}

func TestPathsRefusesInvalidQueries(t *testing.T) {
	ix := procIndex(t, pathsJourneys...)
	for _, tc := range []struct {
		name  string
		q     PathsQuery
		paths []string
	}{
		{"reversed range", PathsQuery{From: procT0, To: procT0.Add(-time.Second)}, []string{"to"}},
		{"unknown anchor", PathsQuery{Anchor: &Matcher{Event: "Nope"}}, []string{"anchor.event"}},
		{"bad direction", PathsQuery{Direction: "sideways"}, []string{"direction"}},
		{"too many steps", PathsQuery{Steps: maxPathSteps + 1}, []string{"steps"}},
		{"negative steps", PathsQuery{Steps: -1}, []string{"steps"}},
		{"topN too big", PathsQuery{TopN: maxPathTopN + 1}, []string{"topN"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Paths(t.Context(), ix, tc.q)
			checkInvalid(t, err, tc.paths)
		})
	}
}

// TestProcessQueriesDecodeFromJSON checks the field names of the API
// contract: a request body decodes into the query, every field used.
func TestProcessQueriesDecodeFromJSON(t *testing.T) {
	from, to := "2025-06-01T00:00:00Z", "2025-07-01T00:00:00Z"
	decode := func(body string, into any) {
		t.Helper()
		d := json.NewDecoder(strings.NewReader(body))
		d.DisallowUnknownFields()
		if err := d.Decode(into); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
	}
	var pq PathsQuery
	decode(`{"anchor": {"event": "Home", "channel": "web"}, "direction": "backward", "steps": 4, "topN": 3,
		"collapseRepeats": true, "from": "`+from+`", "to": "`+to+`"}`, &pq)
	if pq.Anchor == nil || pq.Anchor.Event != "Home" || pq.Anchor.Channel != "web" || pq.Direction != "backward" ||
		pq.Steps != 4 || pq.TopN != 3 || !pq.CollapseRepeats || pq.From.IsZero() || !pq.To.After(pq.From) {
		t.Errorf("paths query %+v", pq)
	}
	var dq DFGQuery
	decode(`{"activities": ["A"], "minCount": 2, "minShare": 0.1, "from": "`+from+`", "to": "`+to+`"}`, &dq)
	if len(dq.Activities) != 1 || dq.MinCount != 2 || dq.MinShare != 0.1 || dq.From.IsZero() || dq.To.IsZero() {
		t.Errorf("dfg query %+v", dq)
	}
	var vq VariantsQuery
	decode(`{"activities": ["A"], "limit": 7, "from": "`+from+`", "to": "`+to+`"}`, &vq)
	if len(vq.Activities) != 1 || vq.Limit != 7 || vq.From.IsZero() || vq.To.IsZero() {
		t.Errorf("variants query %+v", vq)
	}
	// The answers carry the names.
	ix := procIndex(t, pathsJourneys...)
	dfg, err := DFG(t.Context(), ix, DFGQuery{})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := Variants(t.Context(), ix, VariantsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := Paths(t.Context(), ix, PathsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		v    any
		keys []string
	}{
		{dfg, []string{`"nodes":[{"event":`, `"count":`, `"edges":[{"from":`, `"to":`, `"medianSeconds":`, `"p90Seconds":`}},
		{vs, []string{`"total":`, `"variants":[{"events":[`, `"customers":`}},
		{ps, []string{`"nodes":[{"id":`, `"step":`, `"event":`, `"customers":`, `"links":[{"source":`, `"target":`}},
	} {
		b, err := json.Marshal(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range tc.keys {
			if !strings.Contains(string(b), k) {
				t.Errorf("%s has no %s", b, k)
			}
		}
	}
}
