package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/trekhq/trek/internal/analytics"
	"github.com/trekhq/trek/internal/server"
)

// queryKinds are the kinds 'trek query' knows: the POST /api/v1/query
// kinds, then the three analytics endpoints that are not queries.
var queryKinds = []string{"funnel", "trends", "paths", "dfg", "variants", "retention", "conformance", "metrics", "activities", "discover"}

// listFlag is a repeatable string flag (--step A --step B).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// timeFlag reads an RFC 3339 time or a date (midnight UTC).
type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string {
	if f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f *timeFlag) Set(v string) error {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		f.t = t
		return nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return fmt.Errorf("%q is not a time: write 2025-03-01 or 2025-03-01T09:30:00Z", v)
	}
	f.t = t
	return nil
}

// queryFlags holds every flag a kind may use; each kind registers only
// its own, so "trek query dfg --step X" is refused as an unknown flag.
type queryFlags struct {
	jsonFile                 *string
	from, to                 timeFlag
	steps, exclude           listFlag
	window, order, breakdown *string
	measure, interval, event *string
	fromEvent, toEvent       *string
	pathSteps, top           *int
	collapse                 *bool
	minCount, limit, periods *int
	minShare                 *float64
	start, ret, period       *string
	mapID, segment           *string
	name, locale             *string
	maxSteps                 *int
	bodyFlags                []string
	setFlags                 map[string]bool
	fs                       *flag.FlagSet
}

func (q *queryFlags) str(name, value, usage string) *string {
	q.bodyFlags = append(q.bodyFlags, name)
	return q.fs.String(name, value, usage)
}

func (q *queryFlags) num(name string, value int, usage string) *int {
	q.bodyFlags = append(q.bodyFlags, name)
	return q.fs.Int(name, value, usage)
}

func (q *queryFlags) list(l *listFlag, name, usage string) {
	q.bodyFlags = append(q.bodyFlags, name)
	q.fs.Var(l, name, usage)
}

func (q *queryFlags) times(what string) {
	q.bodyFlags = append(q.bodyFlags, "from", "to")
	q.fs.Var(&q.from, "from", what+" from this time (RFC 3339 or a date, UTC), inclusive")
	q.fs.Var(&q.to, "to", what+" up to this time, exclusive")
}

// register adds the flags of one kind.
func (q *queryFlags) register(kind string) {
	fs := q.fs
	if kind != "metrics" && kind != "activities" {
		q.jsonFile = fs.String("json", "", "send the request body in this JSON file as is ('-': standard input) instead of building it from flags")
	}
	switch kind {
	case "funnel":
		q.list(&q.steps, "step", "a step's event name, in order (repeat: --step A --step B)")
		q.list(&q.exclude, "exclude", "an event that voids an attempt when it comes between two steps (repeatable)")
		q.window = q.str("window", "", "conversion window from the first step: a number and s, m, h, d or w (default 7d)")
		q.order = q.str("order", "", "ordered (default), strict or any")
		q.breakdown = q.str("breakdown", "", "split by this property of the first step's event, or traits.NAME")
		q.times("first steps")
	case "trends":
		q.measure = q.str("measure", "", "conversion (of the --step funnel) or volume (of --event)")
		q.event = q.str("event", "", "the event whose volume to count (measure volume)")
		q.list(&q.steps, "step", "a funnel step's event name, in order (measure conversion; repeatable)")
		q.window = q.str("window", "", "conversion window (measure conversion; default 7d)")
		q.order = q.str("order", "", "ordered (default), strict or any (measure conversion)")
		q.interval = q.str("interval", "", "day (default), week or month, in UTC")
		q.times("periods")
	case "paths":
		q.fromEvent = q.str("from-event", "", "follow paths forward from customers' first event of this name")
		q.toEvent = q.str("to-event", "", "follow paths backward to customers' first event of this name")
		q.pathSteps = q.num("steps", 0, "how many events to follow, 1 to 10 (default 5)")
		q.top = q.num("top", 0, "events kept per step, the rest shown as (other) (default 10)")
		q.bodyFlags = append(q.bodyFlags, "collapse-repeats")
		q.collapse = fs.Bool("collapse-repeats", false, "count repeated consecutive events once")
		q.times("events")
	case "dfg":
		q.minCount = q.num("min-count", 0, "drop edges followed fewer times than this")
		q.bodyFlags = append(q.bodyFlags, "min-share")
		q.minShare = fs.Float64("min-share", 0, "drop edges below this share (0 to 1) of all transitions")
		q.times("events")
	case "variants":
		q.limit = q.num("limit", 0, "how many variants to list, most frequent first (default 100)")
		q.times("events")
	case "retention":
		q.start = q.str("start", "", "the event that puts a customer in a cohort (default: any event)")
		q.ret = q.str("return", "", "the event that counts as coming back (default: any event)")
		q.period = q.str("period", "", "day, week (default) or month, in UTC")
		q.periods = q.num("periods", 0, "periods after the cohort's own to show (default 8)")
		q.times("start events")
	case "conformance":
		q.mapID = q.str("map", "", "id of the map to measure journeys against")
		q.times("events")
	case "metrics":
		q.mapID = fs.String("map", "", "id of the map to measure (required)")
		q.window = fs.String("window", "", "conversion window from the first bound step (default 30d)")
		q.segment = fs.String("segment", "", `only this segment of customers, as JSON: {"name": "...", "where": [...]}`)
		fs.Var(&q.from, "from", "first bound steps from this time (RFC 3339 or a date, UTC), inclusive")
		fs.Var(&q.to, "to", "first bound steps up to this time, exclusive")
	case "discover":
		q.name = q.str("name", "", "name of the drafted map")
		q.locale = q.str("locale", "", "language of the text trek writes in the draft (en, vi, el, pl, ...)")
		q.bodyFlags = append(q.bodyFlags, "min-share")
		q.minShare = fs.Float64("min-share", 0, "share of journeys an event must appear in to become a step (default 0.05)")
		q.maxSteps = q.num("max-steps", 0, "at most this many steps (default 12)")
		q.times("events")
	}
}

func runQuery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	kind, args, err := subcommand(args, queryKinds...)
	if err != nil {
		return err
	}
	fs := newFlags("query "+kind, stderr)
	cf := addClientFlags(fs)
	output := fs.String("output", "table", "output: table, or json for the server's answer unchanged")
	q := &queryFlags{fs: fs}
	q.register(kind)
	pos, asJSON, c, err := parseClient(fs, args, cf, output)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("unexpected argument %q (event names go in --step, --event, --start, ...)", pos[0])
	}
	q.setFlags = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { q.setFlags[f.Name] = true })

	method, path, body, err := q.request(kind)
	if err != nil {
		return err
	}
	var raw bytes.Buffer
	hdr, err := c.do(ctx, method, path, body, nil, &raw)
	if err != nil {
		return err
	}
	if asJSON {
		_, err := stdout.Write(raw.Bytes())
		return err
	}
	if err := printQuery(stdout, kind, raw.Bytes()); err != nil {
		return fmt.Errorf("read the answer of %s %s: %w", method, path, err)
	}
	if asOf := hdr.Get(server.DataAsOfHeader); asOf != "" {
		fmt.Fprintln(stderr, "data as of", asOf)
	}
	return nil
}

// request builds the HTTP request of a kind: from --json, or from flags.
func (q *queryFlags) request(kind string) (method, path string, body any, err error) {
	switch kind {
	case "metrics":
		if *q.mapID == "" {
			return "", "", nil, usageErr("--map ID is required")
		}
		v := url.Values{}
		if !q.from.t.IsZero() {
			v.Set("from", q.from.t.Format(time.RFC3339))
		}
		if !q.to.t.IsZero() {
			v.Set("to", q.to.t.Format(time.RFC3339))
		}
		if *q.window != "" {
			v.Set("window", *q.window)
		}
		if *q.segment != "" {
			v.Set("segment", *q.segment)
		}
		path = "/api/v1/maps/" + url.PathEscape(*q.mapID) + "/metrics"
		if len(v) > 0 {
			path += "?" + v.Encode()
		}
		return "GET", path, nil, nil
	case "activities":
		return "GET", "/api/v1/activities", nil, nil
	}
	path = "/api/v1/query/" + kind
	if kind == "discover" {
		path = "/api/v1/maps/discover"
	}
	if *q.jsonFile != "" {
		for _, name := range q.bodyFlags {
			if q.setFlags[name] {
				return "", "", nil, usageErr("--json sends its file as is; leave out --%s", name)
			}
		}
		raw, err := readInput(*q.jsonFile)
		if err != nil {
			return "", "", nil, err
		}
		if !json.Valid(raw) {
			return "", "", nil, usageErr("%s is not JSON", inputName(*q.jsonFile))
		}
		return "POST", path, raw, nil
	}
	body, err = q.body(kind)
	return "POST", path, body, err
}

func inputName(name string) string {
	if name == "-" {
		return "standard input"
	}
	return name
}

func matchers(names []string) []analytics.Matcher {
	ms := make([]analytics.Matcher, len(names))
	for i, n := range names {
		ms[i] = analytics.Matcher{Event: n}
	}
	return ms
}

// body builds a kind's request from flags. The server validates it; the
// CLI only refuses what it cannot express.
func (q *queryFlags) body(kind string) (any, error) {
	from, to := q.from.t, q.to.t
	switch kind {
	case "funnel":
		if len(q.steps) == 0 {
			return nil, usageErr("give the funnel's steps: --step EVENT --step EVENT ... (or --json FILE)")
		}
		fq := analytics.FunnelQuery{Steps: matchers(q.steps), Window: *q.window, Order: *q.order, From: from, To: to,
			Exclusions: matchers(q.exclude)}
		if len(fq.Exclusions) == 0 {
			fq.Exclusions = nil
		}
		if *q.breakdown != "" {
			fq.Breakdown = &analytics.Breakdown{Property: *q.breakdown}
		}
		return fq, nil
	case "trends":
		tq := analytics.TrendsQuery{Measure: *q.measure, Window: *q.window, Order: *q.order, Interval: *q.interval, From: from, To: to}
		if tq.Measure == "" {
			tq.Measure = analytics.MeasureConversion
			if *q.event != "" {
				tq.Measure = analytics.MeasureVolume
			}
		}
		if len(q.steps) > 0 {
			tq.Steps = matchers(q.steps)
		}
		if *q.event != "" {
			tq.Event = &analytics.Matcher{Event: *q.event}
		}
		return tq, nil
	case "paths":
		pq := analytics.PathsQuery{Steps: *q.pathSteps, TopN: *q.top, CollapseRepeats: *q.collapse, From: from, To: to}
		switch {
		case *q.fromEvent != "" && *q.toEvent != "":
			return nil, usageErr("give --from-event or --to-event, not both")
		case *q.fromEvent != "":
			pq.Anchor, pq.Direction = &analytics.Matcher{Event: *q.fromEvent}, "forward"
		case *q.toEvent != "":
			pq.Anchor, pq.Direction = &analytics.Matcher{Event: *q.toEvent}, "backward"
		}
		return pq, nil
	case "dfg":
		return analytics.DFGQuery{MinCount: *q.minCount, MinShare: *q.minShare, From: from, To: to}, nil
	case "variants":
		return analytics.VariantsQuery{Limit: *q.limit, From: from, To: to}, nil
	case "retention":
		rq := analytics.RetentionQuery{Start: analytics.Matcher{Event: *q.start}, Period: *q.period, Periods: *q.periods, From: from, To: to}
		if *q.ret != "" {
			rq.Return = &analytics.Matcher{Event: *q.ret}
		}
		return rq, nil
	case "conformance":
		if *q.mapID == "" {
			return nil, usageErr("--map ID is required (or --json FILE with an inline map)")
		}
		return analytics.ConformanceQuery{MapID: *q.mapID, From: from, To: to}, nil
	case "discover":
		return analytics.DiscoverQuery{Name: *q.name, Locale: *q.locale, MinShare: *q.minShare, MaxSteps: *q.maxSteps, From: from, To: to}, nil
	}
	return nil, fmt.Errorf("query kind %q has no flags", kind)
}

// printQuery prints a kind's answer as tables.
func printQuery(w io.Writer, kind string, raw []byte) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	var err error
	switch kind {
	case "funnel":
		var r analytics.FunnelResult
		if err = json.Unmarshal(raw, &r); err == nil {
			printFunnel(tw, r)
		}
	case "trends":
		var r analytics.TrendsResult
		if err = json.Unmarshal(raw, &r); err == nil {
			printTrends(tw, r)
		}
	case "paths":
		var r analytics.PathsResult
		if err = json.Unmarshal(raw, &r); err == nil {
			printPaths(tw, r)
		}
	case "dfg":
		var r analytics.DFGResult
		if err = json.Unmarshal(raw, &r); err == nil {
			printDFG(tw, r)
		}
	case "variants":
		var r analytics.VariantsResult
		if err = json.Unmarshal(raw, &r); err == nil {
			printVariants(tw, r)
		}
	case "retention":
		var r analytics.RetentionResult
		if err = json.Unmarshal(raw, &r); err == nil {
			printRetention(tw, r)
		}
	case "conformance":
		var r analytics.ConformanceResult
		if err = json.Unmarshal(raw, &r); err == nil {
			printConformance(tw, r)
		}
	case "metrics":
		var r struct {
			MapID   string `json:"mapId"`
			Version int    `json:"version"`
			analytics.MapMetrics
		}
		if err = json.Unmarshal(raw, &r); err == nil {
			fmt.Fprintf(tw, "map %s, version %d: %d customers reached the first bound step\n\n", r.MapID, r.Version, r.Customers)
			printMetrics(tw, r.MapMetrics)
		}
	case "activities":
		var r analytics.ActivitiesResult
		if err = json.Unmarshal(raw, &r); err == nil {
			printActivities(tw, r)
		}
	case "discover":
		var r analytics.DiscoverResult
		if err = json.Unmarshal(raw, &r); err == nil {
			printDiscover(tw, r)
		}
	default:
		err = errors.New("unknown kind " + kind)
	}
	if err != nil {
		return err
	}
	return tw.Flush()
}

// pct prints a share (0..1) as a percentage.
func pct(share float64) string {
	return strconv.FormatFloat(share*100, 'f', 1, 64) + "%"
}

// duration prints seconds the way people say them: the two largest units
// ("2h 5m", "3d 4h", "45s").
func duration(seconds float64) string {
	if math.IsNaN(seconds) || seconds < 0 {
		return "-"
	}
	s := int64(math.Round(seconds))
	if s < 60 {
		return fmt.Sprintf("%ds", s)
	}
	units := []struct {
		n    int64
		name string
	}{{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}}
	for i, u := range units[:3] {
		if s >= u.n {
			big, rest := s/u.n, (s%u.n)/units[i+1].n
			if rest == 0 {
				return fmt.Sprintf("%d%s", big, u.name)
			}
			return fmt.Sprintf("%d%s %d%s", big, u.name, rest, units[i+1].name)
		}
	}
	return fmt.Sprintf("%ds", s)
}

func optDuration(seconds *float64) string {
	if seconds == nil {
		return "-"
	}
	return duration(*seconds)
}

func funnelRows(w io.Writer, lead string, steps []analytics.FunnelStep) {
	for i, s := range steps {
		fromPrev, drop := pct(s.ConversionFromPrevious), strconv.FormatInt(s.DropOff, 10)
		if i == 0 {
			fromPrev, drop = "-", "-"
		}
		fmt.Fprintf(w, "%s%d\t%s\t%d\t%s\t%s\t%s\t%s\n", lead, i+1, s.Event, s.Customers, fromPrev,
			pct(s.ConversionFromFirst), drop, optDuration(s.MedianSecondsFromPrevious))
	}
}

const funnelHeader = "STEP\tEVENT\tCUSTOMERS\tFROM PREVIOUS\tFROM FIRST\tDROP-OFF\tMEDIAN TIME\n"

func printFunnel(w *tabwriter.Writer, r analytics.FunnelResult) {
	fmt.Fprintf(w, "%s funnel, %s window\n\n", r.Order, duration(r.WindowSeconds))
	fmt.Fprint(w, funnelHeader)
	funnelRows(w, "", r.Steps)
	if len(r.Breakdowns) > 0 {
		fmt.Fprint(w, "\nBREAKDOWN\t"+funnelHeader)
		for _, b := range r.Breakdowns {
			funnelRows(w, b.Value+"\t", b.Steps)
		}
	}
	if len(r.Segments) > 0 {
		fmt.Fprint(w, "\nSEGMENT\t"+funnelHeader)
		for _, s := range r.Segments {
			funnelRows(w, s.Name+"\t", s.Steps)
		}
	}
	if c := r.Customers; c != nil {
		fmt.Fprintf(w, "\n%d customers", c.Total)
		if len(c.IDs) < int(c.Total) {
			fmt.Fprintf(w, " (first %d)", len(c.IDs))
		}
		fmt.Fprintln(w, ":")
		for _, id := range c.IDs {
			fmt.Fprintln(w, id)
		}
	}
}

func printTrends(w *tabwriter.Writer, r analytics.TrendsResult) {
	conv := r.Measure == analytics.MeasureConversion
	if conv {
		fmt.Fprintln(w, "PERIOD\tCUSTOMERS\tCONVERTED\tCONVERSION")
	} else {
		fmt.Fprintln(w, "PERIOD\tCUSTOMERS\tEVENTS")
	}
	row := func(label string, p analytics.TrendPoint) {
		if conv {
			fmt.Fprintf(w, "%s\t%d\t%d\t%s\n", label, p.Customers, p.Converted, pct(p.Value))
		} else {
			fmt.Fprintf(w, "%s\t%d\t%d\n", label, p.Customers, p.Events)
		}
	}
	for _, p := range r.Series {
		row(p.Start.UTC().Format(time.DateOnly), p)
	}
	row("total", r.Total)
	row("previous range", r.PreviousTotal)
}

func printPaths(w *tabwriter.Writer, r analytics.PathsResult) {
	fmt.Fprintf(w, "%d customers\n\n", r.Customers)
	fmt.Fprintln(w, "STEP\tEVENT\tCUSTOMERS")
	label := map[string]string{}
	for _, n := range r.Nodes {
		label[n.ID] = fmt.Sprintf("%d %s", n.Step, n.Event)
		fmt.Fprintf(w, "%d\t%s\t%d\n", n.Step, n.Event, n.Customers)
	}
	fmt.Fprintln(w, "\nFROM\tTO\tCUSTOMERS")
	for _, l := range r.Links {
		fmt.Fprintf(w, "%s\t%s\t%d\n", label[l.Source], label[l.Target], l.Customers)
	}
}

func printDFG(w *tabwriter.Writer, r analytics.DFGResult) {
	fmt.Fprintf(w, "%d customers, %d events, %d transitions\n\n", r.Customers, r.Events, r.Transitions)
	fmt.Fprintln(w, "EVENT\tCOUNT\tCUSTOMERS\tSTARTS\tENDS")
	for _, n := range r.Nodes {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\n", n.Event, n.Count, n.Customers, n.Start, n.End)
	}
	edges := append([]analytics.DFGEdge(nil), r.Edges...)
	sort.SliceStable(edges, func(i, j int) bool { return edges[i].Count > edges[j].Count })
	fmt.Fprintln(w, "\nFROM\tTO\tCOUNT\tCUSTOMERS\tMEDIAN\tP90")
	for _, e := range edges {
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%s\t%s\n", e.From, e.To, e.Count, e.Customers, duration(e.MedianSeconds), duration(e.P90Seconds))
	}
}

func printVariants(w *tabwriter.Writer, r analytics.VariantsResult) {
	fmt.Fprintf(w, "%d variants over %d customers", r.Total, r.Customers)
	if len(r.Variants) < r.Total {
		fmt.Fprintf(w, " (the %d commonest shown)", len(r.Variants))
	}
	fmt.Fprintln(w, "\n\nCUSTOMERS\tSHARE\tMEDIAN\tEVENTS")
	for _, v := range r.Variants {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", v.Customers, pct(v.Share), duration(v.MedianSeconds), strings.Join(v.Events, " → "))
	}
}

func printRetention(w *tabwriter.Writer, r analytics.RetentionResult) {
	n := 0
	for _, c := range r.Cohorts {
		n = max(n, len(c.Periods))
	}
	for _, p := range r.Summary.Periods {
		n = max(n, p.Period+1)
	}
	fmt.Fprint(w, "COHORT\tCUSTOMERS")
	for k := range n {
		fmt.Fprintf(w, "\t%s %d", strings.ToUpper(r.Period), k)
	}
	fmt.Fprintln(w)
	for _, c := range r.Cohorts {
		fmt.Fprintf(w, "%s\t%d", c.Start.UTC().Format(time.DateOnly), c.Customers)
		for _, p := range c.Periods {
			mark := ""
			if !p.Complete {
				mark = "*"
			}
			fmt.Fprintf(w, "\t%s%s", pct(p.Share), mark)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "all\t%d", r.Summary.Customers)
	k := 0
	for _, p := range r.Summary.Periods {
		for ; k < p.Period; k++ {
			fmt.Fprint(w, "\t-")
		}
		fmt.Fprintf(w, "\t%s", pct(p.Share))
		k++
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "\n* the period is not over yet")
}

func printConformance(w *tabwriter.Writer, r analytics.ConformanceResult) {
	fmt.Fprintf(w, "%d journeys against %d bound steps: mean fitness %.3f, end to end %d (%s), exact %d (%s)\n",
		r.Journeys, r.BoundSteps, r.MeanFitness, r.EndToEnd, pct(r.EndToEndShare), r.Exact, pct(r.ExactShare))
	fmt.Fprintln(w, "\nSTEP\tNAME\tJOURNEYS\tSKIPPED\tREPEATED\tWRONG ORDER")
	for _, s := range r.Steps {
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%d\n", s.StepID, s.Name, s.Journeys, s.Skipped, s.Repeated, s.WrongOrder)
	}
	if len(r.Deviations) > 0 {
		fmt.Fprintf(w, "\nDEVIATION\tSTEP OR EVENT\tJOURNEYS\tEXAMPLES\n")
		for _, d := range r.Deviations {
			what := d.Step
			if d.Event != "" {
				what = d.Event
			}
			fmt.Fprintf(w, "%s\t%s\t%d\t%s\n", d.Kind, what, d.Journeys, strings.Join(d.Examples, " "))
		}
		if r.TotalDeviations > len(r.Deviations) {
			fmt.Fprintf(w, "(%d more kinds of deviation)\n", r.TotalDeviations-len(r.Deviations))
		}
	}
	for _, c := range r.Customers {
		fmt.Fprintf(w, "\n%s: fitness %.3f; hit %s; skipped %s; repeated %s; wrong order %s; outside %s\n", c.Customer, c.Fitness,
			list(c.Hit), list(c.Skipped), list(c.Repeated), list(c.WrongOrder), list(c.Outside))
	}
}

func list(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ", ")
}

func printMetrics(w *tabwriter.Writer, m analytics.MapMetrics) {
	fmt.Fprintln(w, "STEP\tNAME\tCUSTOMERS\tFROM PREVIOUS\tFROM START\tDROP-OFF\tMEDIAN TIME\tIN ORDER")
	first := true
	for _, s := range m.Steps {
		if !s.Bound {
			fmt.Fprintf(w, "%s\t%s\t(not bound)\t\t\t\t\t\n", s.StepID, s.Name)
			continue
		}
		fromPrev, fromStart := fmt.Sprintf("%d (%s)", s.FromPrevious, pct(s.ConversionFromPrevious)), fmt.Sprintf("%d (%s)", s.FromStart, pct(s.ConversionFromStart))
		drop := fmt.Sprintf("%d (%s)", s.DropOff, pct(s.DropOffShare))
		if first {
			fromPrev, fromStart, drop, first = "-", "-", "-", false
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%d\n", s.StepID, s.Name, s.Customers, fromPrev, fromStart,
			drop, optDuration(s.MedianSecondsFromPrevious), s.InOrder)
	}
	fmt.Fprintln(w, "\nSTAGE\tNAME\tENTERED\tCOMPLETED\tCONVERSION\tDROP-OFF")
	for _, s := range m.Stages {
		if !s.Bound {
			fmt.Fprintf(w, "%s\t%s\t(not bound)\t\t\t\n", s.StageID, s.Name)
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%s\t%d\n", s.StageID, s.Name, s.Entered, s.Completed, pct(s.Conversion), s.DropOff)
	}
	if len(m.WorstDropOffs) > 0 {
		fmt.Fprintf(w, "\nworst drop-offs: %s\n", strings.Join(m.WorstDropOffs, ", "))
	}
	if c := m.Conformance; c != nil {
		fmt.Fprintf(w, "conformance: %d journeys, mean fitness %.3f, end to end %s\n", c.Journeys, c.MeanFitness, pct(c.EndToEndShare))
	}
}

func printActivities(w *tabwriter.Writer, r analytics.ActivitiesResult) {
	fmt.Fprintln(w, "EVENT\tEVENTS\tCUSTOMERS\tCHANNELS")
	for _, a := range r.Activities {
		chans := make([]string, 0, len(a.Channels))
		for ch := range a.Channels {
			chans = append(chans, ch)
		}
		// Most events first, so the channel that carries the event leads.
		sort.Slice(chans, func(i, j int) bool {
			if a.Channels[chans[i]] != a.Channels[chans[j]] {
				return a.Channels[chans[i]] > a.Channels[chans[j]]
			}
			return chans[i] < chans[j]
		})
		for i, ch := range chans {
			chans[i] = fmt.Sprintf("%s %d", ch, a.Channels[ch])
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\n", a.Event, a.Events, a.Customers, strings.Join(chans, ", "))
	}
}

func printDiscover(w *tabwriter.Writer, r analytics.DiscoverResult) {
	printOutline(w, &r.Map)
	fmt.Fprintf(w, "\nfrom %d journeys\n\nSTEP\tEVENT\tJOURNEYS\tSHARE\tMEDIAN POSITION\tCHANNEL\tMAIN PATH\n", r.Journeys)
	for _, s := range r.Steps {
		main := "no"
		if s.MainPath {
			main = "yes"
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%g\t%s\t%s\n", s.StepID, s.Event, s.Journeys, pct(s.Share), s.MedianPosition, s.Channel, main)
	}
	fmt.Fprintln(w, "\nThis draft is not saved; --output json gives it as the answer's \"map\".")
}
