package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/analytics"
	"github.com/trekhq/trek/internal/auth"
	"github.com/trekhq/trek/internal/gen"
	"github.com/trekhq/trek/internal/importer"
	"github.com/trekhq/trek/internal/ingest"
	"github.com/trekhq/trek/internal/journey"
)

// analyticsEnv is a collecting server whose workspace holds generated
// data with every effect planted, and the generator's ground truth.
type analyticsEnv struct {
	*collectEnv
	truth gen.Truth
}

func newAnalyticsEnv(t *testing.T, customers int, cfgs ...func(*ingest.Config)) *analyticsEnv {
	t.Helper()
	ce := newCollectEnv(t, cfgs...)
	cfg := gen.Config{Seed: 11, Customers: customers, Days: 60, Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Effects: gen.Effects{CheckoutFailsOn: "android", BetterChannel: "email", CallLoopBeforeChurn: true}}
	var buf bytes.Buffer
	truth, err := gen.WriteNDJSON(context.Background(), cfg, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ce.pipe.Import(context.Background(), ce.src, &buf, ingest.ImportSpec{Format: "ndjson"}, importer.Options{}); err != nil {
		t.Fatal(err)
	}
	return &analyticsEnv{collectEnv: ce, truth: truth}
}

func (ae *analyticsEnv) query(kind string, body any) reply {
	ae.t.Helper()
	return ae.do("POST", "/api/v1/query/"+kind, ae.tokens[auth.Viewer], body)
}

func TestQueryEndpointsAnswerEveryKind(t *testing.T) {
	ae := newAnalyticsEnv(t, 400)
	var f analytics.FunnelResult
	r := ae.must(200, ae.query("funnel", map[string]any{
		"steps":  []map[string]any{{"event": "Product Viewed"}, {"event": "Checkout Started"}, {"event": "Order Completed"}},
		"window": "7d",
	}))
	r.json(t, &f)
	if len(f.Steps) != 3 || f.Steps[0].Customers == 0 || f.Steps[2].Customers == 0 || f.Steps[2].Customers > f.Steps[1].Customers {
		t.Errorf("funnel: %+v", f.Steps)
	}
	if r.header.Get(DataAsOfHeader) == "" {
		t.Errorf("no %s header", DataAsOfHeader)
	}
	// A property filter sends the query to the store itself; the answer
	// must be a subset of the unfiltered one.
	var ff analytics.FunnelResult
	ae.must(200, ae.query("funnel", map[string]any{
		"steps": []map[string]any{{"event": "Checkout Started", "where": []map[string]any{{"property": "context.device.type", "op": "eq", "value": "android"}}}, {"event": "Order Completed"}},
	})).json(t, &ff)
	if ff.Steps[0].Customers == 0 || ff.Steps[0].Customers >= f.Steps[1].Customers {
		t.Errorf("filtered funnel %+v against %+v", ff.Steps, f.Steps)
	}
	var v analytics.VariantsResult
	ae.must(200, ae.query("variants", map[string]any{"limit": 5})).json(t, &v)
	if v.Total == 0 || len(v.Variants) != 5 {
		t.Errorf("variants: total %d, %d listed", v.Total, len(v.Variants))
	}
	var d analytics.DFGResult
	ae.must(200, ae.query("dfg", map[string]any{})).json(t, &d)
	if len(d.Nodes) == 0 || len(d.Edges) == 0 {
		t.Errorf("dfg: %d nodes %d edges", len(d.Nodes), len(d.Edges))
	}
	ae.must(200, ae.query("paths", map[string]any{"anchor": map[string]any{"event": "Product Viewed"}}))
	ae.must(200, ae.query("retention", map[string]any{"start": map[string]any{"event": "Order Completed"}, "period": "week"}))
	ae.must(200, ae.query("trends", map[string]any{"measure": "volume", "event": map[string]any{"event": "Order Completed"},
		"interval": "week", "from": "2025-01-06T00:00:00Z", "to": "2025-02-03T00:00:00Z"}))
	var acts analytics.ActivitiesResult
	ae.must(200, ae.do("GET", "/api/v1/activities", ae.tokens[auth.Viewer], nil)).json(t, &acts)
	if len(acts.Activities) < 10 {
		t.Errorf("activities: %d", len(acts.Activities))
	}
	var disc analytics.DiscoverResult
	ae.must(200, ae.do("POST", "/api/v1/maps/discover", ae.tokens[auth.Editor], map[string]any{"name": "Drafted"})).json(t, &disc)
	if err := journey.Validate(&disc.Map); err != nil || len(disc.Steps) == 0 {
		t.Errorf("discovered map: %v, %d steps", err, len(disc.Steps))
	}
	ae.must(403, ae.do("POST", "/api/v1/maps/discover", ae.tokens[auth.Viewer], map[string]any{}))
}

func TestInvalidQueriesAnswer400WithTheReason(t *testing.T) {
	ae := newAnalyticsEnv(t, 50)
	tests := []struct {
		kind string
		body any
		path string
	}{
		{"funnel", map[string]any{"steps": []any{}}, "steps"},
		{"funnel", map[string]any{"steps": []map[string]any{{"event": "Product Viewed"}, {"event": "No Such Event"}}}, "steps[1].event"},
		{"funnel", map[string]any{"steps": []map[string]any{{"event": "Product Viewed"}}, "window": "0d"}, "window"},
		{"funnel", map[string]any{"steps": []map[string]any{{"event": "Product Viewed"}}, "from": "2025-02-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}, "to"},
		{"funnel", map[string]any{"steps": []map[string]any{{"event": "Product Viewed"}}, "colour": "red"}, "colour"},
		{"conformance", map[string]any{"mapId": "nope"}, "mapId"},
	}
	for _, tc := range tests {
		r := ae.must(400, ae.query(tc.kind, tc.body))
		found := false
		for _, f := range r.errorOf(t).Fields {
			found = found || f.Path == tc.path
		}
		if !found {
			t.Errorf("%s %v: error %s does not name %s", tc.kind, tc.body, r.body, tc.path)
		}
	}
	ae.must(404, ae.query("nothing", map[string]any{}))
	ae.must(401, ae.do("POST", "/api/v1/query/funnel", "", map[string]any{}))
}

// The retail template's bound steps, measured on data where checkout
// fails on Android: the Android segment loses its customers at the pay
// step, and the other customers do not.
func TestLiveMapShowsThePlantedCheckoutFailureAtThePayStep(t *testing.T) {
	ae := newAnalyticsEnv(t, 2000)
	var tpl struct{ Map journey.Map }
	ae.must(200, ae.do("GET", "/api/v1/templates/retail-online-purchase?locale=vi", ae.tokens[auth.Viewer], nil)).json(t, &tpl)
	var m journey.Map
	ae.must(201, ae.do("POST", "/api/v1/maps", ae.tokens[auth.Editor], tpl.Map)).json(t, &m)

	metrics := func(seg any) analytics.MapMetrics {
		t.Helper()
		u := "/api/v1/maps/" + m.ID + "/metrics?from=2025-01-01T00:00:00Z&to=2025-03-02T00:00:00Z"
		if seg != nil {
			b, _ := json.Marshal(seg)
			u += "&segment=" + url.QueryEscape(string(b))
		}
		var res analytics.MapMetrics
		ae.must(200, ae.do("GET", u, ae.tokens[auth.Viewer], nil)).json(t, &res)
		return res
	}
	step := func(res analytics.MapMetrics, id string) analytics.StepMetrics {
		for _, s := range res.Steps {
			if s.StepID == id {
				return s
			}
		}
		t.Fatalf("no step %s", id)
		return analytics.StepMetrics{}
	}
	checkoutOn := func(op string) map[string]any {
		return map[string]any{"performed": map[string]any{"event": "Checkout Started",
			"where": []map[string]any{{"property": "context.device.type", "op": op, "value": "android"}}}}
	}
	all := metrics(nil)
	if all.Conformance == nil || all.Conformance.Journeys == 0 || step(all, "compare-products").Customers == 0 {
		t.Fatalf("metrics: %+v", all)
	}
	// The emotion curve measured from survey answers equals what the
	// generator planted, step by step (every answer lies in the range).
	for stepID, truthStep := range map[string]string{"search-shop": "search", "start-checkout": "checkout", "return-item": "return"} {
		e, want := step(all, stepID).MeasuredEmotion, ae.truth.Surveys.Emotion[truthStep]
		if e == nil || e.Responses != want.Responses || e.Mean != want.Mean {
			t.Errorf("step %s: measured emotion %+v, want %+v", stepID, e, want)
		}
	}
	if e := step(all, "compare-products").MeasuredEmotion; e != nil {
		t.Errorf("a step nobody was asked about has a measured emotion: %+v", e)
	}
	if all.BoundSteps != 12 || len(all.Stages) != 6 {
		t.Errorf("bound steps %d, stages %d", all.BoundSteps, len(all.Stages))
	}
	android, others := metrics(checkoutOn("eq")), metrics(checkoutOn("neq"))
	pa, po := step(android, "pay"), step(others, "pay")
	t.Logf("pay from previous: android %d/%d = %.2f, others %d/%d = %.2f", pa.FromPrevious, step(android, "choose-delivery").Customers, pa.ConversionFromPrevious,
		po.FromPrevious, step(others, "choose-delivery").Customers, po.ConversionFromPrevious)
	if step(android, "start-checkout").Customers < 30 {
		t.Fatalf("too few Android checkouts to tell: %d", step(android, "start-checkout").Customers)
	}
	if pa.ConversionFromPrevious > po.ConversionFromPrevious-0.3 {
		t.Errorf("pay step: android converts %.2f, others %.2f; the planted failure should show", pa.ConversionFromPrevious, po.ConversionFromPrevious)
	}
	// Of all the bound steps, pay is where the two segments differ most.
	worst, gap := "", 0.0
	for _, s := range android.Steps {
		if o := step(others, s.StepID); s.Bound && o.ConversionFromPrevious-s.ConversionFromPrevious > gap {
			worst, gap = s.StepID, o.ConversionFromPrevious-s.ConversionFromPrevious
		}
	}
	if worst != "pay" {
		t.Errorf("the segments differ most at %s (by %.2f), want pay", worst, gap)
	}
	// The planted rates (truth) are per checkout; the measured step
	// rates are per customer, so they agree only roughly.
	sig := ae.truth.Effects.CheckoutFailsOn
	if !strings.EqualFold(sig.Platform, "android") || sig.Target.Rate > sig.Others.Rate-0.3 {
		t.Errorf("truth does not show the planted effect: %+v", sig)
	}
	ae.must(400, ae.do("GET", "/api/v1/maps/"+m.ID+"/metrics?from=yesterday", ae.tokens[auth.Viewer], nil))
	ae.must(404, ae.do("GET", "/api/v1/maps/nope/metrics", ae.tokens[auth.Viewer], nil))
}

// Stitching is retroactive in queries: a customer who started a funnel
// anonymously on one device and finished it logged in on another counts
// as one converting customer once an identify call links the two, even
// though every event had arrived before the link; and an erased customer
// leaves the numbers at once.
func TestFunnelCountsCustomersMergedAfterTheirEventsArrived(t *testing.T) {
	ce := newCollectEnv(t) // analytics staleness 0: every answer is fresh
	batch := func(evs ...map[string]any) {
		t.Helper()
		b := make([]any, len(evs))
		for i, e := range evs {
			if e["type"] == nil {
				e["type"] = "track"
			}
			e["timestamp"] = "2025-03-03T10:0" + strconv.Itoa(i) + ":00Z"
			b[i] = e
		}
		ce.must(200, ce.send("/v1/batch", map[string]any{"batch": b}))
	}
	funnel := func() []int64 {
		t.Helper()
		var f analytics.FunnelResult
		ce.must(200, ce.do("POST", "/api/v1/query/funnel", ce.tokens[auth.Viewer], map[string]any{
			"steps": []map[string]any{{"event": "Product Viewed"}, {"event": "Order Completed"}}})).json(t, &f)
		return []int64{f.Steps[0].Customers, f.Steps[1].Customers}
	}
	batch(map[string]any{"anonymousId": "phone-1", "event": "Product Viewed"},
		map[string]any{"userId": "dana", "event": "Order Completed"})
	if got := funnel(); got[0] != 1 || got[1] != 0 {
		t.Fatalf("before the link: %v, want [1 0]", got)
	}
	// The link comes later, in its own request.
	batch(map[string]any{"type": "identify", "anonymousId": "phone-1", "userId": "dana"})
	if got := funnel(); got[0] != 1 || got[1] != 1 {
		t.Errorf("after the link: %v, want [1 1]", got)
	}
	ce.must(200, ce.do("DELETE", "/api/v1/customers/dana", ce.tokens[auth.Admin], nil))
	if got := funnel(); got[0] != 0 || got[1] != 0 {
		t.Errorf("after erasing dana: %v, want [0 0]", got)
	}
}

// An index that keeps the events' properties answers exactly as the
// event store does: the same queries on the same data, one workspace
// with the compact index (property queries go to the store) and one
// with the full one.
func TestTheFullIndexAnswersAsTheStoreDoes(t *testing.T) {
	compact := newAnalyticsEnv(t, 300)
	full := newAnalyticsEnv(t, 300, func(c *ingest.Config) { c.Journeys.FullUpTo = 1 << 30; c.Journeys.FullContext = true })
	queries := []struct {
		kind string
		body any
	}{
		{"funnel", map[string]any{"steps": []map[string]any{{"event": "Checkout Started"}, {"event": "Order Completed"}},
			"breakdown": map[string]any{"property": "context.device.type"}}},
		{"funnel", map[string]any{"steps": []map[string]any{{"event": "Product Viewed", "where": []map[string]any{{"property": "price", "op": "gte", "value": 20}}},
			{"event": "Order Completed", "where": []map[string]any{{"property": "revenue", "op": "gt", "value": 0}}}}, "window": "30d"}},
		{"retention", map[string]any{"start": map[string]any{"event": "Order Completed", "where": []map[string]any{{"property": "currency", "op": "eq", "value": "PLN"}}}, "period": "week"}},
		{"paths", map[string]any{"anchor": map[string]any{"event": "Checkout Started", "where": []map[string]any{{"property": "context.device.type", "op": "eq", "value": "ios"}}}}},
	}
	for _, q := range queries {
		a := compact.must(200, compact.query(q.kind, q.body))
		b := full.must(200, full.query(q.kind, q.body))
		if !bytes.Equal(a.body, b.body) {
			t.Errorf("%s %v:\nstore: %.400s\nindex: %.400s", q.kind, q.body, a.body, b.body)
		}
		if !bytes.Contains(a.body, []byte(`"customers":`)) || bytes.Contains(a.body, []byte(`{"customers":0,`)) {
			t.Errorf("%s %v: nothing matched, so the comparison shows nothing: %.300s", q.kind, q.body, a.body)
		}
	}
	var f analytics.FunnelResult
	full.must(200, full.query(queries[0].kind, queries[0].body)).json(t, &f)
	if len(f.Breakdowns) < 3 {
		t.Errorf("breakdown by device type: %+v", f.Breakdowns)
	}
}
