package analytics

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/importer"
)

// procT0 is the origin of the hand-made journeys' times.
var procT0 = time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC)

// procJourney is a hand-made journey: a customer and its events written
// "name@minutes" or "name@minutes/channel" (default web), space-separated,
// in file order ("A@0 B@1.5/email C@1.5").
type procJourney struct {
	id  uint64
	evs string
}

// procIndex builds an Index of hand-made journeys, each event's Seq its
// place in the journey, over three parts so that merging is exercised.
func procIndex(t testing.TB, js ...procJourney) *Index {
	t.Helper()
	b := NewIndexBuilder(IndexOptions{KeepEvents: true, KeepTraits: true, Parts: 3})
	for _, j := range js {
		var evs []event.Event
		for i, tok := range strings.Fields(j.evs) {
			name, mins, ok := strings.Cut(tok, "@")
			ch := "web"
			if c, after, ok := strings.Cut(mins, "/"); ok {
				mins, ch = c, after
			}
			m, err := strconv.ParseFloat(mins, 64)
			if !ok || err != nil {
				t.Fatalf("journey %d: bad event %q", j.id, tok)
			}
			evs = append(evs, event.Event{Type: event.Track, Event: name, Channel: ch,
				Timestamp: procT0.Add(time.Duration(m * float64(time.Minute))), Seq: uint64(i)})
		}
		b.Add(j.id, evs)
	}
	return b.Build()
}

// procDatasets is the directory of the real event logs. Outside CI a
// missing directory skips the test; with CI=true it fails it.
func procDatasets(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "datasets")
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		msg := fmt.Sprintf("the real event logs are not at %s", dir)
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (CI=true, so this test may not be skipped)", msg)
		}
		t.Skip(msg)
	}
	return dir
}

var procLogs struct {
	sync.Mutex
	ix  map[string]*Index
	raw map[string][]rawTrace
}

// procLog imports a real log through internal/importer, as trek's import
// does (concept:name is the event name, the case id the customer), into
// an Index; each event's Seq is its place in the file, so that ties on
// time keep file order. Indexes are cached across tests.
func procLog(t testing.TB, name string) *Index {
	t.Helper()
	dir := procDatasets(t)
	procLogs.Lock()
	defer procLogs.Unlock()
	if ix, ok := procLogs.ix[name]; ok {
		return ix
	}
	f, err := importer.Open(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	opt := importer.Options{SourceID: "src_test", OnReject: func(line int, reason string, _ []byte) {
		t.Errorf("%s: line %d rejected: %s", name, line, reason)
	}}
	byCase := map[string][]event.Event{}
	var cases []string
	var seq uint64
	sink := func(e event.Event) error {
		seq++
		e.Seq = seq
		if _, ok := byCase[e.UserID]; !ok {
			cases = append(cases, e.UserID)
		}
		byCase[e.UserID] = append(byCase[e.UserID], e)
		return nil
	}
	if strings.HasSuffix(name, ".csv") {
		m := importer.CSVMapping{Customer: "case:concept:name", Event: "concept:name", Time: "time:timestamp"}
		_, err = importer.ReadCSV(t.Context(), f, m, opt, sink)
	} else {
		_, err = importer.ReadXES(t.Context(), f, importer.XESOptions{}, opt, sink)
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	b := NewIndexBuilder(IndexOptions{})
	for i, c := range cases {
		b.Add(uint64(i+1), byCase[c])
	}
	ix := b.Build()
	if procLogs.ix == nil {
		procLogs.ix = map[string]*Index{}
	}
	procLogs.ix[name] = ix
	return ix
}

// rawTrace is one trace of an XES file as its own XML says, read without
// trek's importer: the events' names and times, in time order, ties in
// file order.
type rawTrace struct {
	names []string
	times []time.Time
}

// readRawXES reads the traces of an XES file (gzipped or not) without
// trek's importer: a second reading of the file, to check trek's numbers
// against. It relies on the layout the real logs share, one XML element
// per line, and fails on any line it does not expect around an event, so
// that it cannot skip one silently; it is plain line matching, several
// times faster than encoding/xml, which matters under -race. Traces are
// cached across tests.
func readRawXES(t testing.TB, path string) []rawTrace {
	t.Helper()
	procLogs.Lock()
	defer procLogs.Unlock()
	if raw, ok := procLogs.raw[path]; ok {
		return raw
	}
	f, err := importer.Open(path) // only to gunzip
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		traces  []rawTrace
		inEvent bool
		name    string
		at      time.Time
		line    int
	)
	value := func(b []byte) string {
		v, _, ok := bytes.Cut(b, []byte(`"`))
		if !ok {
			t.Fatalf("%s:%d: no closing quote", path, line)
		}
		return html.UnescapeString(string(v))
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		switch {
		case string(b) == "<trace>":
			traces = append(traces, rawTrace{})
		case string(b) == "<event>":
			if inEvent || len(traces) == 0 {
				t.Fatalf("%s:%d: an event outside a trace or inside another", path, line)
			}
			inEvent, name, at = true, "", time.Time{}
		case string(b) == "</event>":
			if !inEvent || name == "" || at.IsZero() {
				t.Fatalf("%s:%d: an event without a name or a time", path, line)
			}
			inEvent = false
			tr := &traces[len(traces)-1]
			tr.names = append(tr.names, name)
			tr.times = append(tr.times, at)
		case bytes.HasPrefix(b, []byte("<event")) || bytes.HasPrefix(b, []byte("<trace")) || bytes.HasPrefix(b, []byte("</trace")) && string(b) != "</trace>":
			t.Fatalf("%s:%d: unexpected %q", path, line, b)
		case !inEvent:
		case bytes.HasPrefix(b, []byte(`<string key="concept:name" value="`)):
			name = value(b[len(`<string key="concept:name" value="`):])
		case bytes.HasPrefix(b, []byte(`<date key="time:timestamp" value="`)):
			v := value(b[len(`<date key="time:timestamp" value="`):])
			if at, err = time.Parse(time.RFC3339Nano, v); err != nil {
				t.Fatalf("%s:%d: time %q: %v", path, line, v, err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for i := range traces {
		tr := &traces[i]
		idx := make([]int, len(tr.names))
		for k := range idx {
			idx[k] = k
		}
		slices.SortStableFunc(idx, func(a, b int) int { return tr.times[a].Compare(tr.times[b]) })
		names, times := make([]string, len(idx)), make([]time.Time, len(idx))
		for k, i := range idx {
			names[k], times[k] = tr.names[i], tr.times[i]
		}
		tr.names, tr.times = names, times
	}
	if procLogs.raw == nil {
		procLogs.raw = map[string][]rawTrace{}
	}
	procLogs.raw[path] = traces
	return traces
}

// naiveDFG counts the directly-follows graph of raw traces the plainest
// way: every pair of consecutive events, with the times between them
// sorted, median and p90 by the textbook formula.
func naiveDFG(traces []rawTrace) DFGResult {
	type key struct{ a, b string }
	counts := map[key][]float64{}
	custs := map[key]int{}
	fromStart := map[string][]float64{}
	nodes := map[string]*DFGNode{}
	var res DFGResult
	for _, tr := range traces {
		if len(tr.names) == 0 {
			continue
		}
		res.Customers++
		seen := map[string]bool{}
		seenEdge := map[key]bool{}
		for i, n := range tr.names {
			res.Events++
			nd := nodes[n]
			if nd == nil {
				nd = &DFGNode{Event: n}
				nodes[n] = nd
			}
			nd.Count++
			fromStart[n] = append(fromStart[n], tr.times[i].Sub(tr.times[0]).Seconds())
			if !seen[n] {
				seen[n] = true
				nd.Customers++
			}
			if i == 0 {
				nd.Start++
			}
			if i == len(tr.names)-1 {
				nd.End++
			}
			if i > 0 {
				k := key{tr.names[i-1], n}
				counts[k] = append(counts[k], tr.times[i].Sub(tr.times[i-1]).Seconds())
				if !seenEdge[k] {
					seenEdge[k] = true
					custs[k]++
				}
				res.Transitions++
			}
		}
	}
	med := func(ds []float64) float64 {
		slices.Sort(ds)
		n := len(ds)
		if n%2 == 0 {
			return (ds[n/2-1] + ds[n/2]) / 2
		}
		return ds[n/2]
	}
	for _, n := range nodes {
		n.MedianSecondsFromStart = med(fromStart[n.Event])
		res.Nodes = append(res.Nodes, *n)
	}
	for k, ds := range counts {
		m := med(ds)
		n := len(ds)
		pos := 0.9 * float64(n-1)
		lo := int(pos)
		p90 := ds[lo]
		if lo+1 < n {
			p90 += (ds[lo+1] - ds[lo]) * (pos - float64(lo))
		}
		res.Edges = append(res.Edges, DFGEdge{From: k.a, To: k.b, Count: n, Customers: custs[k], MedianSeconds: m, P90Seconds: p90})
	}
	slices.SortFunc(res.Nodes, func(a, b DFGNode) int {
		return cmp.Or(b.Count-a.Count, strings.Compare(a.Event, b.Event))
	})
	slices.SortFunc(res.Edges, func(a, b DFGEdge) int {
		return cmp.Or(b.Count-a.Count, strings.Compare(a.From, b.From), strings.Compare(a.To, b.To))
	})
	return res
}

// sameDFG reports the first difference between two graphs, times compared
// to a microsecond.
func sameDFG(got, want DFGResult) string {
	if got.Customers != want.Customers || got.Events != want.Events || got.Transitions != want.Transitions {
		return fmt.Sprintf("totals: got %d customers, %d events, %d transitions; want %d, %d, %d",
			got.Customers, got.Events, got.Transitions, want.Customers, want.Events, want.Transitions)
	}
	if len(got.Nodes) != len(want.Nodes) {
		return fmt.Sprintf("got %d nodes, want %d:\n%+v\n%+v", len(got.Nodes), len(want.Nodes), got.Nodes, want.Nodes)
	}
	for i := range got.Nodes {
		g, w := got.Nodes[i], want.Nodes[i]
		if math.Abs(g.MedianSecondsFromStart-w.MedianSecondsFromStart) <= 1e-6 {
			g.MedianSecondsFromStart = w.MedianSecondsFromStart
		}
		if g != w {
			return fmt.Sprintf("node %d: got %+v, want %+v", i, got.Nodes[i], want.Nodes[i])
		}
	}
	if len(got.Edges) != len(want.Edges) {
		return fmt.Sprintf("got %d edges, want %d:\n%+v\n%+v", len(got.Edges), len(want.Edges), got.Edges, want.Edges)
	}
	for i := range got.Edges {
		g, w := got.Edges[i], want.Edges[i]
		if g.From != w.From || g.To != w.To || g.Count != w.Count || g.Customers != w.Customers ||
			math.Abs(g.MedianSeconds-w.MedianSeconds) > 1e-6 || math.Abs(g.P90Seconds-w.P90Seconds) > 1e-6 {
			return fmt.Sprintf("edge %d: got %+v, want %+v", i, g, w)
		}
	}
	return ""
}

func TestDFGOnHandMadeJourneys(t *testing.T) {
	journeys := []procJourney{
		{1, "A@0 B@1 C@3"},
		{2, "A@0 B@2 B@3 C@4"},
		{3, "A@0 C@10"},
		// B and C at the same minute: file order (C then B) decides.
		{4, "C@0 B@0"},
	}
	at := func(m float64) time.Time { return procT0.Add(time.Duration(m * float64(time.Minute))) }
	for _, tc := range []struct {
		name  string
		q     DFGQuery
		nodes []DFGNode
		edges []DFGEdge
	}{
		{
			name: "every event",
			nodes: []DFGNode{
				{Event: "B", Count: 4, Customers: 3, End: 1, MedianSecondsFromStart: 90},
				{Event: "C", Count: 4, Customers: 4, Start: 1, End: 3, MedianSecondsFromStart: 210},
				{Event: "A", Count: 3, Customers: 3, Start: 3},
			},
			edges: []DFGEdge{
				// A→B: 60 s and 120 s; median 90, p90 60+60·0.9.
				{From: "A", To: "B", Count: 2, Customers: 2, MedianSeconds: 90, P90Seconds: 114},
				// B→C: 120 s and 60 s.
				{From: "B", To: "C", Count: 2, Customers: 2, MedianSeconds: 90, P90Seconds: 114},
				{From: "A", To: "C", Count: 1, Customers: 1, MedianSeconds: 600, P90Seconds: 600},
				{From: "B", To: "B", Count: 1, Customers: 1, MedianSeconds: 60, P90Seconds: 60},
				{From: "C", To: "B", Count: 1, Customers: 1, MedianSeconds: 0, P90Seconds: 0},
			},
		},
		{
			name: "range drops the events outside",
			q:    DFGQuery{From: at(1), To: at(4)},
			nodes: []DFGNode{
				{Event: "B", Count: 3, Customers: 2, Start: 2, End: 1},
				{Event: "C", Count: 1, Customers: 1, End: 1, MedianSecondsFromStart: 120},
			},
			edges: []DFGEdge{
				{From: "B", To: "B", Count: 1, Customers: 1, MedianSeconds: 60, P90Seconds: 60},
				{From: "B", To: "C", Count: 1, Customers: 1, MedianSeconds: 120, P90Seconds: 120},
			},
		},
		{
			name: "activities filter joins the kept events",
			q:    DFGQuery{Activities: []string{"A", "C"}},
			nodes: []DFGNode{
				{Event: "C", Count: 4, Customers: 4, Start: 1, End: 4, MedianSecondsFromStart: 210},
				{Event: "A", Count: 3, Customers: 3, Start: 3},
			},
			edges: []DFGEdge{
				// 180, 240 and 600 s.
				{From: "A", To: "C", Count: 3, Customers: 3, MedianSeconds: 240, P90Seconds: 528},
			},
		},
		{
			name: "minCount keeps nodes with an edge left or enough count",
			q:    DFGQuery{MinCount: 2},
			nodes: []DFGNode{
				{Event: "B", Count: 4, Customers: 3, End: 1, MedianSecondsFromStart: 90},
				{Event: "C", Count: 4, Customers: 4, Start: 1, End: 3, MedianSecondsFromStart: 210},
				{Event: "A", Count: 3, Customers: 3, Start: 3},
			},
			edges: []DFGEdge{
				{From: "A", To: "B", Count: 2, Customers: 2, MedianSeconds: 90, P90Seconds: 114},
				{From: "B", To: "C", Count: 2, Customers: 2, MedianSeconds: 90, P90Seconds: 114},
			},
		},
		{
			// 7 transitions: 0.25 of them is 1.75, so only the edges of 2
			// stay; A (3 of 11 events, 0.27) stays by itself, C too.
			name: "minShare of transitions for edges, of events for lone nodes",
			q:    DFGQuery{MinShare: 0.25, Activities: []string{"A", "C"}},
			nodes: []DFGNode{
				{Event: "C", Count: 4, Customers: 4, Start: 1, End: 4, MedianSecondsFromStart: 210},
				{Event: "A", Count: 3, Customers: 3, Start: 3},
			},
			edges: []DFGEdge{
				{From: "A", To: "C", Count: 3, Customers: 3, MedianSeconds: 240, P90Seconds: 528},
			},
		},
		{
			name: "a lone node below the threshold goes",
			q:    DFGQuery{MinCount: 4},
			nodes: []DFGNode{
				{Event: "B", Count: 4, Customers: 3, End: 1, MedianSecondsFromStart: 90},
				{Event: "C", Count: 4, Customers: 4, Start: 1, End: 3, MedianSecondsFromStart: 210},
			},
			edges: []DFGEdge{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ix := procIndex(t, journeys...)
			got, err := DFG(t.Context(), ix, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			want := DFGResult{Nodes: tc.nodes, Edges: tc.edges}
			for _, n := range tc.nodes {
				want.Events += n.Count
				want.Customers += n.Start
			}
			want.Transitions = want.Events - want.Customers
			if tc.q.MinCount > 0 || tc.q.MinShare > 0 {
				// The totals are of the graph before the thresholds.
				full, err := DFG(t.Context(), ix, DFGQuery{From: tc.q.From, To: tc.q.To, Activities: tc.q.Activities})
				if err != nil {
					t.Fatal(err)
				}
				want.Customers, want.Events, want.Transitions = full.Customers, full.Events, full.Transitions
			}
			if d := sameDFG(got, want); d != "" {
				t.Error(d)
			}
		})
	}
}

func TestDFGRefusesInvalidQueries(t *testing.T) {
	ix := procIndex(t, procJourney{1, "A@0 B@1"})
	for _, tc := range []struct {
		name  string
		q     DFGQuery
		paths []string
	}{
		{"reversed range", DFGQuery{From: procT0, To: procT0}, []string{"to"}},
		{"unknown and empty activities", DFGQuery{Activities: []string{"A", "Nope", " "}}, []string{"activities[1]", "activities[2]"}},
		{"too many activities", DFGQuery{Activities: make([]string, maxActivityFilter+1)}, []string{"activities"}},
		{"negative minCount", DFGQuery{MinCount: -1}, []string{"minCount"}},
		{"minShare above one", DFGQuery{MinShare: 1.5}, []string{"minShare"}},
		{"minShare not a number", DFGQuery{MinShare: math.NaN()}, []string{"minShare"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DFG(t.Context(), ix, tc.q)
			checkInvalid(t, err, tc.paths)
		})
	}
}

// checkInvalid checks that err is an Invalid fault naming exactly paths.
func checkInvalid(t *testing.T, err error, paths []string) {
	t.Helper()
	var f *fault.Error
	if !errors.As(err, &f) || f.Code != fault.Invalid {
		t.Fatalf("got %v, want an invalid-query fault", err)
	}
	var got []string
	for _, fe := range f.Fields {
		got = append(got, fe.Path)
	}
	if !slices.Equal(got, paths) {
		t.Errorf("fault names %v, want %v (%v)", got, paths, f.Fields)
	}
}

func TestDFGStopsWhenCancelled(t *testing.T) {
	ix := procIndex(t, procJourney{1, "A@0 B@1"})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := DFG(ctx, ix, DFGQuery{}); err == nil {
		t.Fatal("a cancelled query answered")
	}
}

// TestDFGRunningExampleGolden checks the graph of the textbook log against
// a golden derived by hand from its six traces, and the golden against a
// plain count over the traces read from the XML directly.
func TestDFGRunningExampleGolden(t *testing.T) {
	dir := procDatasets(t)
	raw, err := os.ReadFile(filepath.Join("testdata", "dfg_running_example.json"))
	if err != nil {
		t.Fatal(err)
	}
	var golden DFGResult
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	if d := sameDFG(naiveDFG(readRawXES(t, filepath.Join(dir, "running-example.xes"))), golden); d != "" {
		t.Fatalf("the golden disagrees with the traces: %s", d)
	}
	got, err := DFG(t.Context(), procLog(t, "running-example.xes"), DFGQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if d := sameDFG(got, golden); d != "" {
		t.Error(d)
	}
}

// TestDFGOfRealLogs checks the graphs of real logs against their known
// totals (node counts sum to the events, edge counts to events − cases)
// and against a count of every node and edge over the XML read directly.
func TestDFGOfRealLogs(t *testing.T) {
	for _, tc := range []struct {
		file                   string
		events, cases, classes int
	}{
		{"helpdesk.xes.gz", 21348, 4580, 0},
		{"bpic2012.xes.gz", 262200, 13087, 24},
	} {
		t.Run(tc.file, func(t *testing.T) {
			if testing.Short() && tc.file == "bpic2012.xes.gz" {
				t.Skip("reads a 262,200-event log twice")
			}
			dir := procDatasets(t)
			got, err := DFG(t.Context(), procLog(t, tc.file), DFGQuery{})
			if err != nil {
				t.Fatal(err)
			}
			nodes, edges := 0, 0
			for _, n := range got.Nodes {
				nodes += n.Count
			}
			for _, e := range got.Edges {
				edges += e.Count
			}
			if nodes != tc.events || edges != tc.events-tc.cases || got.Customers != tc.cases {
				t.Errorf("node counts sum to %d (want %d), edge counts to %d (want %d), %d customers",
					nodes, tc.events, edges, tc.events-tc.cases, got.Customers)
			}
			if tc.classes != 0 && len(got.Nodes) != tc.classes {
				t.Errorf("%d activities, want %d", len(got.Nodes), tc.classes)
			}
			want := naiveDFG(readRawXES(t, filepath.Join(dir, tc.file)))
			if d := sameDFG(got, want); d != "" {
				t.Error(d)
			}
		})
	}
}

// FuzzDFGAndVariantsMatchNaive builds journeys from arbitrary bytes (each
// byte an event: activity, time step, a new customer now and then, times
// that may go back so that the Index must sort) and checks the graph and
// the variants against the plain counts over the same traces.
func FuzzDFGAndVariantsMatchNaive(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 0x80, 1, 2, 0x41, 0x42})
	f.Add([]byte{0x10, 0x10, 0x10, 0x90, 0x20, 0x24, 0x08})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		names := []string{"A", "B", "C", "D"}
		b := NewIndexBuilder(IndexOptions{Parts: 3})
		var traces []rawTrace
		var evs []event.Event
		var minute int
		flush := func() {
			if len(evs) == 0 {
				return
			}
			b.Add(uint64(len(traces)+1), evs)
			var tr rawTrace
			for _, e := range evs {
				tr.names = append(tr.names, e.Event)
				tr.times = append(tr.times, e.Timestamp)
			}
			// Journey order: by time, ties in the order given.
			idx := make([]int, len(tr.names))
			for i := range idx {
				idx[i] = i
			}
			slices.SortStableFunc(idx, func(a, b int) int { return tr.times[a].Compare(tr.times[b]) })
			var sorted rawTrace
			for _, i := range idx {
				sorted.names = append(sorted.names, tr.names[i])
				sorted.times = append(sorted.times, tr.times[i])
			}
			traces = append(traces, sorted)
			evs = nil
		}
		for i, c := range data {
			if c&0x80 != 0 {
				flush()
			}
			// Bits 2–4 move the clock by −2 to +5 minutes.
			minute += int(c>>2&7) - 2
			evs = append(evs, event.Event{Type: event.Track, Event: names[c&3], Channel: "web",
				Timestamp: procT0.Add(time.Duration(minute) * time.Minute), Seq: uint64(i)})
		}
		flush()
		ix := b.Build()
		got, err := DFG(t.Context(), ix, DFGQuery{})
		if err != nil {
			t.Fatal(err)
		}
		want := naiveDFG(traces)
		if want.Nodes == nil {
			want.Nodes, want.Edges = []DFGNode{}, []DFGEdge{}
		}
		if d := sameDFG(got, want); d != "" {
			t.Fatal(d)
		}
		vs, err := Variants(t.Context(), ix, VariantsQuery{Limit: maxVariants})
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]int{}
		for _, tr := range traces {
			counts[strings.Join(tr.names, " ")]++
		}
		if vs.Total != len(counts) || vs.Customers != len(traces) {
			t.Fatalf("%d variants over %d customers; want %d over %d", vs.Total, vs.Customers, len(counts), len(traces))
		}
		for _, v := range vs.Variants {
			if n := counts[strings.Join(v.Events, " ")]; n != v.Customers {
				t.Fatalf("variant %v: %d customers, want %d", v.Events, v.Customers, n)
			}
		}
	})
}
