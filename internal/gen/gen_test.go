package gen_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/gen"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the current output")

var (
	allEffects = gen.Effects{CheckoutFailsOn: "android", BetterChannel: "email", CallLoopBeforeChurn: true}
	// The data sets most tests read: big enough for the effects to
	// stand far outside sampling noise.
	plain  = gen.Config{Seed: 7, Customers: sample}
	loaded = gen.Config{Seed: 7, Customers: sample, Effects: allEffects, DuplicateRate: 0.02, InvalidRate: 0.02}
)

var sample = func() int {
	if raceDetector {
		return 1000
	}
	return 2000
}()

var channels = []string{"web", "mobile", "call_centre", "store", "email", "ads", "social", "chat", "partner", "crm", "other"}

func TestSameConfigGivesIdenticalBytesWhateverTheWorkers(t *testing.T) {
	cfg := gen.Config{Seed: 42, Customers: 700, Effects: allEffects, DuplicateRate: 0.01, InvalidRate: 0.01}
	var first []byte
	var firstTruth gen.Truth
	for _, workers := range []int{1, 2, 3, 0} {
		cfg.Workers = workers
		var buf bytes.Buffer
		tr, err := gen.WriteNDJSON(t.Context(), cfg, &buf)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first, firstTruth = buf.Bytes(), tr
			continue
		}
		if !bytes.Equal(buf.Bytes(), first) {
			t.Errorf("workers=%d: output differs from workers=1", workers)
		}
		if !reflect.DeepEqual(tr, firstTruth) {
			t.Errorf("workers=%d: truth differs from workers=1", workers)
		}
	}
}

func TestDifferentSeedsGiveDifferentData(t *testing.T) {
	var a, b bytes.Buffer
	if _, err := gen.WriteNDJSON(t.Context(), gen.Config{Seed: 1, Customers: 50}, &a); err != nil {
		t.Fatal(err)
	}
	if _, err := gen.WriteNDJSON(t.Context(), gen.Config{Seed: 2, Customers: 50}, &b); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("seeds 1 and 2 gave the same output")
	}
	// Not just shuffled: the identifiers differ too.
	ids := func(out []byte) map[string]bool {
		m := map[string]bool{}
		for _, l := range parse(t, out) {
			m[l.UserID+l.AnonymousID] = true
		}
		return m
	}
	ia, ib := ids(a.Bytes()), ids(b.Bytes())
	for k := range ia {
		if k != "" && ib[k] {
			t.Fatalf("identifier %s appears under both seeds", k)
		}
	}
}

func TestEveryLineIsAValidSegmentCallWithAnIdentifierInsideThePeriod(t *testing.T) {
	g := generate(t, plain)
	start, end := gen.DefaultStart, gen.DefaultStart.AddDate(0, 0, gen.DefaultDays)
	for i, l := range g.lines {
		where := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("line %d: "+format+"\n%s", append([]any{i + 1}, append(args, l.Raw)...)...)
		}
		if l.Invalid != "" || l.Dup {
			where("without noise asked for, got a %q line (dup %v)", l.Invalid, l.Dup)
		}
		if l.Time.Before(start) || !l.Time.Before(end) {
			where("event time %s outside [%s, %s)", l.Time, start, end)
		}
		if !slices.Contains(channels, l.Context.Channel) {
			where("context.channel %q is not a trek channel", l.Context.Channel)
		}
		switch l.Type {
		case "track":
			if l.Properties() == nil {
				where("track without properties")
			}
		case "page", "screen":
			if l.Name == "" {
				where("%s without a name", l.Type)
			}
		case "identify":
			if l.UserID == "" || l.Traits()["email"] == nil {
				where("identify without userId or traits.email")
			}
		case "group":
			if l.GroupID == "" || l.Traits()["name"] == nil {
				where("group without groupId or traits.name")
			}
		case "alias":
			if l.UserID == "" || l.PreviousID == "" {
				where("alias without userId and previousId")
			}
		}
		if l.SentAt != "" && l.ReceivedAt == "" {
			where("sentAt without receivedAt")
		}
		if l.AnonymousID != "" {
			if !slices.Contains([]string{"web", "ios", "android"}, l.Context.Device.Type) {
				where("context.device.type %q", l.Context.Device.Type)
			}
		}
	}
}

func TestEventsFollowTheSegmentEcommerceSpec(t *testing.T) {
	g := generate(t, plain)
	need := map[string][]string{
		"Products Searched":       {"query"},
		"Product Viewed":          {"product_id", "sku", "name", "price", "currency"},
		"Product Added":           {"cart_id", "product_id", "quantity"},
		"Cart Viewed":             {"cart_id", "products"},
		"Checkout Started":        {"order_id", "value", "revenue", "currency", "products"},
		"Checkout Step Completed": {"checkout_id", "step", "step_name"},
		"Payment Info Entered":    {"checkout_id", "order_id", "payment_method"},
		"Order Completed":         {"order_id", "total", "revenue", "currency", "products"},
		"Order Refunded":          {"order_id", "reason"},
		"Product Reviewed":        {"product_id", "rating"},
		"Call Started":            {"call_id", "reason"},
		"Call Ended":              {"call_id", "reason", "duration"},
		"Store Visited":           {"store_id"},
		"Survey Responded":        {"survey_type", "score", "step"},
		"Email Opened":            {"email_id", "email_type"},
		"Ad Clicked":              {"ad_id", "campaign"},
	}
	seen := map[string]int{}
	for _, l := range valid(g.lines) {
		name := l.activity()
		seen[name]++
		for _, k := range need[name] {
			if _, ok := l.Properties()[k]; !ok {
				t.Fatalf("%s without properties.%s: %s", name, k, l.Raw)
			}
		}
		switch name {
		case "Product Reviewed":
			if r := l.Properties()["rating"].(float64); r < 1 || r > 5 {
				t.Fatalf("rating %v", r)
			}
		case "Survey Responded":
			s := l.Properties()["score"].(float64)
			lo, hi := -2.0, 2.0
			if l.prop("survey_type") == "csat" {
				lo, hi = 1, 5
			}
			if s < lo || s > hi {
				t.Fatalf("%s score %v outside %v..%v", l.prop("survey_type"), s, lo, hi)
			}
		case "Store Visited", "Call Started", "Chat Started", "Email Opened", "Ad Clicked":
			want := map[string][]string{"Store Visited": {"store"}, "Call Started": {"call_centre"}, "Chat Started": {"chat"},
				"Email Opened": {"email"}, "Ad Clicked": {"ads", "social"}}[name]
			if !slices.Contains(want, l.Context.Channel) {
				t.Fatalf("%s on channel %q", name, l.Context.Channel)
			}
		}
	}
	// Every name the map templates bind to appears.
	for _, name := range []string{"Ad Clicked", "Email Opened", "Page Viewed", "Screen Viewed", "Products Searched",
		"Product Viewed", "Product Added", "Cart Viewed", "Checkout Started", "Checkout Step Completed",
		"Payment Info Entered", "Order Completed", "Order Shipped", "Order Delivered", "Order Refunded",
		"Product Reviewed", "Signed Up", "Call Started", "Chat Started", "Store Visited", "Referral Sent",
		"Survey Responded", "Email Link Clicked", "Subscription Cancelled", "Identify", "Group", "Alias"} {
		if seen[name] == 0 {
			t.Errorf("no %q in %d customers", name, sample)
		}
	}
}

func TestTruthCountsEqualTheOutput(t *testing.T) {
	for _, cfg := range []gen.Config{plain, loaded} {
		g := generate(t, cfg)
		c := g.truth.Counts
		var events, dups, withSentAt, skewed int64
		invalid := map[string]int64{"no_identifier": 0, "no_event_name": 0, "future_timestamp": 0}
		byType, byEvent, byChannel := map[string]int64{}, map[string]int64{}, map[string]int64{}
		var first, last time.Time
		for _, l := range g.lines {
			switch {
			case l.Invalid != "":
				invalid[l.Invalid]++
				continue
			case l.Dup:
				dups++
				continue
			}
			events++
			byType[l.Type]++
			byEvent[l.activity()]++
			byChannel[l.Context.Channel]++
			if l.SentAt != "" {
				withSentAt++
				if l.SentAt != l.ReceivedAt {
					skewed++
				}
			}
			if first.IsZero() || l.Time.Before(first) {
				first = l.Time
			}
			if l.Time.After(last) {
				last = l.Time
			}
		}
		check := func(what string, got, want any) {
			t.Helper()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%+v: %s: output has %v, truth says %v", cfg.Effects, what, got, want)
			}
		}
		check("lines", int64(len(g.lines)), c.Lines)
		check("events", events, c.Events)
		check("duplicates", dups, c.Duplicates)
		check("invalid", invalid, c.Invalid)
		check("by type", byType, c.ByType)
		check("by event", byEvent, c.ByEvent)
		check("by channel", byChannel, c.ByChannel)
		check("with sentAt", withSentAt, c.WithSentAt)
		check("skewed", skewed, c.Skewed)
		check("first", first, c.First)
		check("last", last, c.Last)
		if c.Lines != c.Events+c.Duplicates+c.Invalid["no_identifier"]+c.Invalid["no_event_name"]+c.Invalid["future_timestamp"] {
			t.Errorf("lines %d ≠ events + duplicates + invalid", c.Lines)
		}
		if cfg.DuplicateRate > 0 && (c.Duplicates == 0 || c.Invalid["no_identifier"] == 0 || c.Invalid["no_event_name"] == 0 || c.Invalid["future_timestamp"] == 0) {
			t.Errorf("noise asked for, but counts are %+v", c)
		}
		if skewed == 0 {
			t.Error("no event from a device with a wrong clock")
		}
	}
}

func TestStitchingFindsTheCustomersTheTruthCounts(t *testing.T) {
	g := generate(t, loaded)
	c := stitch(g.lines)
	cu := g.truth.Customers
	if got := int64(c.count()); got != cu.Customers {
		t.Errorf("stitching the output gives %d customers, truth says %d", got, cu.Customers)
	}
	users := map[string]map[string]bool{} // root → userIds
	anons := map[string]map[string]bool{}
	aliased := map[string]bool{}
	for i, l := range valid(g.lines) {
		r := c.of[i]
		if l.UserID != "" {
			if users[r] == nil {
				users[r] = map[string]bool{}
			}
			users[r][l.UserID] = true
		}
		if l.AnonymousID != "" {
			if anons[r] == nil {
				anons[r] = map[string]bool{}
			}
			anons[r][l.AnonymousID] = true
		}
		if l.Type == "alias" {
			aliased[r] = true
		}
	}
	var identified, devices, multiDevice int64
	for r, u := range users {
		identified++
		// Two userIds in one customer only through an alias: the rule that
		// keeps shared devices from fusing strangers.
		if len(u) > 1 && !aliased[r] {
			t.Errorf("customer %s has userIds %v without an alias", r, u)
		}
	}
	for _, a := range anons {
		devices += int64(len(a))
		if len(a) > 1 {
			multiDevice++
		}
		if len(a) > 4 {
			t.Errorf("a customer with %d anonymousIds", len(a))
		}
	}
	if identified != cu.Identified || devices != cu.Devices {
		t.Errorf("output: %d identified customers, %d devices; truth: %d, %d", identified, devices, cu.Identified, cu.Devices)
	}
	if multiDevice == 0 || int64(len(aliased)) != cu.Aliased || cu.Aliased == 0 {
		t.Errorf("%d customers on several devices, %d aliased (truth %d)", multiDevice, len(aliased), cu.Aliased)
	}
	if cu.Persons != int64(sample) || cu.IdentifiedPersons+cu.AnonymousPersons != cu.Persons || cu.Customers < cu.Persons/2 {
		t.Errorf("customer counts do not add up: %+v", cu)
	}
}

func TestAnonymousSessionsAreIdentifiedLater(t *testing.T) {
	g := generate(t, plain)
	// For each device: did it send anonymous events before its first
	// identify, and did that identify carry a userId?
	type dev struct{ before, identified bool }
	devs := map[string]*dev{}
	for _, l := range valid(g.lines) {
		if l.AnonymousID == "" {
			continue
		}
		d := devs[l.AnonymousID]
		if d == nil {
			d = &dev{}
			devs[l.AnonymousID] = d
		}
		switch {
		case l.Type == "identify" && l.UserID != "":
			d.identified = true
		case !d.identified && l.UserID == "":
			d.before = true
		}
	}
	var late, never int
	for _, d := range devs {
		switch {
		case d.before && d.identified:
			late++
		case !d.identified:
			never++
		}
	}
	if late < len(devs)/10 || never == 0 {
		t.Errorf("of %d devices, %d browsed anonymously before being identified and %d never were", len(devs), late, never)
	}
}

func TestIdentifyCarriesEmailAndPhoneTraits(t *testing.T) {
	g := generate(t, plain)
	var phones, messy int
	for _, l := range valid(g.lines) {
		if l.Type != "identify" {
			continue
		}
		email, _ := l.Traits()["email"].(string)
		if !strings.Contains(email, "@example.") && !strings.Contains(strings.ToLower(email), "@example.") {
			t.Fatalf("email %q", email)
		}
		if email != strings.ToLower(strings.TrimSpace(email)) {
			messy++
		}
		if p, ok := l.Traits()["phone"].(string); ok {
			if !strings.HasPrefix(p, "+") {
				t.Fatalf("phone %q is not international", p)
			}
			phones++
		}
	}
	if phones == 0 || messy == 0 {
		t.Errorf("%d identify calls with a phone, %d with an email typed in capitals or with spaces", phones, messy)
	}
}

func TestNoiseLeavesTheValidEventsAsTheyWere(t *testing.T) {
	cfg := gen.Config{Seed: 3, Customers: 200}
	clean := generate(t, cfg)
	cfg.DuplicateRate, cfg.InvalidRate = 0.05, 0.05
	noisy := generate(t, cfg)
	var kept [][]byte
	for _, l := range valid(noisy.lines) {
		kept = append(kept, l.Raw)
	}
	want := bytes.Split(bytes.TrimSuffix(clean.out, []byte("\n")), []byte("\n"))
	if len(kept) != len(want) {
		t.Fatalf("%d valid lines with noise, %d without", len(kept), len(want))
	}
	for i := range want {
		if !bytes.Equal(kept[i], want[i]) {
			t.Fatalf("line %d changed by noise:\n%s\n%s", i, kept[i], want[i])
		}
	}
	// A resend is the very same line, right after the first.
	for i := 1; i < len(noisy.lines); i++ {
		if l := noisy.lines[i]; l.Dup && !bytes.Equal(l.Raw, noisy.lines[i-1].Raw) {
			t.Fatalf("duplicate at line %d is not a resend of the line before", i+1)
		}
	}
}

func TestGenerateEmitsTheEventsWriteNDJSONWrites(t *testing.T) {
	cfg := gen.Config{Seed: 11, Customers: 150, Effects: allEffects, DuplicateRate: 0.02, InvalidRate: 0.02}
	g := generate(t, cfg)
	var evs []event.Event
	tr, err := gen.Generate(t.Context(), cfg, func(e event.Event) error {
		evs = append(evs, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tr, g.truth) {
		t.Error("Generate and WriteNDJSON disagree on the truth")
	}
	if len(evs) != len(g.lines) {
		t.Fatalf("Generate emitted %d events, WriteNDJSON wrote %d lines", len(evs), len(g.lines))
	}
	sources := map[string]string{}
	for _, s := range gen.Sources() {
		sources[s.ID] = s.Channel
	}
	generic := func(v any) any {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var out any
		json.Unmarshal(b, &out)
		return out
	}
	for i, e := range evs {
		l := &g.lines[i]
		var raw map[string]json.RawMessage
		json.Unmarshal(l.Raw, &raw)
		var lineProps, lineTraits, lineContext any
		json.Unmarshal(raw["properties"], &lineProps)
		json.Unmarshal(raw["traits"], &lineTraits)
		json.Unmarshal(raw["context"], &lineContext)
		name := ""
		if l.Event != nil {
			name = *l.Event
		}
		switch {
		case e.MessageID != l.MessageID, string(e.Type) != l.Type, e.Event != name, e.Name != l.Name,
			e.UserID != l.UserID, e.AnonymousID != l.AnonymousID, e.PreviousID != l.PreviousID, e.GroupID != l.GroupID:
			t.Fatalf("event %d: %+v\nline: %s", i, e, l.Raw)
		case !e.Timestamp.Equal(l.Time) || !e.OriginalTimestamp.Equal(parseTime(t, l.Timestamp)):
			t.Fatalf("event %d: timestamp %s (original %s), line says %s (corrected %s)", i, e.Timestamp, e.OriginalTimestamp, l.Timestamp, l.Time)
		case e.Channel != l.Context.Channel || sources[e.SourceID] != e.Channel:
			t.Fatalf("event %d: channel %q, source %q; line channel %q", i, e.Channel, e.SourceID, l.Context.Channel)
		case e.Properties != nil && !reflect.DeepEqual(generic(e.Properties), lineProps):
			t.Fatalf("event %d: properties %v, line %v", i, generic(e.Properties), lineProps)
		case e.Traits != nil && !reflect.DeepEqual(generic(e.Traits), lineTraits):
			t.Fatalf("event %d: traits %v, line %v", i, generic(e.Traits), lineTraits)
		case !reflect.DeepEqual(generic(e.Context), lineContext):
			t.Fatalf("event %d: context %v, line %v", i, generic(e.Context), lineContext)
		}
		if l.SentAt != "" && (!e.SentAt.Equal(parseTime(t, l.SentAt)) || !e.ReceivedAt.Equal(parseTime(t, l.ReceivedAt))) {
			t.Fatalf("event %d: sentAt %s receivedAt %s; line %s %s", i, e.SentAt, e.ReceivedAt, l.SentAt, l.ReceivedAt)
		}
	}
}

func TestProgressCountsUpToTheTotal(t *testing.T) {
	var calls, lastCustomers, lastLines int64
	cfg := gen.Config{Seed: 1, Customers: 300, Progress: func(done, lines, total int64) {
		calls++
		if done < lastCustomers || lines < lastLines || total != 300 {
			t.Errorf("progress went from %d/%d to %d/%d of %d", lastCustomers, lastLines, done, lines, total)
		}
		lastCustomers, lastLines = done, lines
	}}
	tr, err := gen.WriteNDJSON(t.Context(), cfg, &countingWriter{})
	if err != nil {
		t.Fatal(err)
	}
	if calls < 2 || lastCustomers != 300 || lastLines != tr.Counts.Lines {
		t.Errorf("%d progress calls, last %d customers %d lines; truth has %d lines", calls, lastCustomers, lastLines, tr.Counts.Lines)
	}
}

func TestOmitSentAtWritesCorrectedTimestamps(t *testing.T) {
	with := generate(t, gen.Config{Seed: 5, Customers: 100})
	without := generate(t, gen.Config{Seed: 5, Customers: 100, OmitSentAt: true})
	if len(with.lines) != len(without.lines) {
		t.Fatalf("%d lines with sentAt, %d without", len(with.lines), len(without.lines))
	}
	for i := range without.lines {
		l := &without.lines[i]
		if l.SentAt != "" || l.ReceivedAt != "" {
			t.Fatalf("line %d has sentAt or receivedAt: %s", i+1, l.Raw)
		}
		if !l.Time.Equal(with.lines[i].Time) {
			t.Fatalf("line %d: timestamp %s, but the corrected time with sentAt is %s", i+1, l.Time, with.lines[i].Time)
		}
	}
	if without.truth.Counts.WithSentAt != 0 {
		t.Errorf("truth counts %d events with sentAt", without.truth.Counts.WithSentAt)
	}
}

func TestStartAndDaysBoundTheEventTimes(t *testing.T) {
	start := time.Date(2019, 2, 27, 12, 0, 0, 0, time.UTC)
	g := generate(t, gen.Config{Seed: 9, Customers: 300, Start: start, Days: 3})
	end := start.AddDate(0, 0, 3)
	for _, l := range g.lines {
		if l.Time.Before(start) || !l.Time.Before(end) {
			t.Fatalf("event at %s outside [%s, %s)", l.Time, start, end)
		}
	}
	if !g.truth.Config.Start.Equal(start) || !g.truth.Config.End.Equal(end) {
		t.Errorf("truth period %s – %s", g.truth.Config.Start, g.truth.Config.End)
	}
}

func TestEventsTargetLandsNearIt(t *testing.T) {
	// Small targets are a few dozen people, whose event counts vary a
	// lot; the estimate tightens as the target grows.
	for _, tc := range []struct {
		target int
		within float64
	}{{5000, 0.2}, {40000, 0.08}} {
		target := tc.target
		tr, err := gen.WriteNDJSON(t.Context(), gen.Config{Seed: 1, Events: target}, &countingWriter{})
		if err != nil {
			t.Fatal(err)
		}
		if d := float64(tr.Counts.Lines)/float64(target) - 1; d < -tc.within || d > tc.within {
			t.Errorf("asked for about %d events, got %d from %d customers", target, tr.Counts.Lines, tr.Config.Customers)
		}
	}
}

func TestInvalidConfigIsRefusedWithTheField(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   gen.Config
		field string
	}{
		{"negative customers", gen.Config{Customers: -1}, "customers"},
		{"negative events", gen.Config{Events: -5}, "events"},
		{"negative days", gen.Config{Days: -1}, "days"},
		{"duplicate rate above one half", gen.Config{DuplicateRate: 0.9}, "duplicateRate"},
		{"invalid rate not a number", gen.Config{InvalidRate: nan()}, "invalidRate"},
		{"skew share above one", gen.Config{SkewedDevices: 2}, "skewedDevices"},
		{"unknown platform", gen.Config{Effects: gen.Effects{CheckoutFailsOn: "windows"}}, "effects.checkoutFailsOn"},
		{"unknown channel", gen.Config{Effects: gen.Effects{BetterChannel: "tv"}}, "effects.betterChannel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gen.WriteNDJSON(t.Context(), tc.cfg, &countingWriter{})
			fe, ok := fault.As(err)
			if !ok || fe.Code != fault.Invalid || len(fe.Fields) != 1 || fe.Fields[0].Path != tc.field {
				t.Fatalf("got %v, want an invalid error on %s", err, tc.field)
			}
		})
	}
}

func nan() float64 { z := 0.0; return z / z }

func TestEmitErrorAndCancellationStopGeneration(t *testing.T) {
	stop := errors.New("disk full")
	n := 0
	_, err := gen.Generate(t.Context(), gen.Config{Seed: 1, Customers: 5000}, func(event.Event) error {
		n++
		if n == 100 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 100 {
		t.Errorf("after an emit error: %v, %d events emitted", err, n)
	}

	ctx, cancel := context.WithCancel(t.Context())
	n = 0
	_, err = gen.Generate(ctx, gen.Config{Seed: 1, Customers: 100000}, func(event.Event) error {
		n++
		if n == 1000 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n > 1000+100*64 {
		t.Errorf("after cancel: %v, %d events emitted", err, n)
	}

	_, err = gen.WriteNDJSON(t.Context(), gen.Config{Seed: 1, Customers: 1000}, failingWriter{stop})
	if !errors.Is(err, stop) {
		t.Errorf("after a write error: %v", err)
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// memoryEnv makes the test binary, run as a child, generate the number of
// customers it names and print the peak live heap: in a process of its
// own, the heap holds nothing but the generator.
const memoryEnv = "TREK_GEN_TEST_MEMORY"

func TestMain(m *testing.M) {
	if n := os.Getenv(memoryEnv); n != "" {
		customers, err := strconv.Atoi(n)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		var ms runtime.MemStats
		var top uint64
		events := 0
		_, err = gen.Generate(context.Background(), gen.Config{Seed: 1, Customers: customers, Workers: 2}, func(event.Event) error {
			events++
			if events%2000 == 0 {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				top = max(top, ms.HeapAlloc)
			}
			return nil
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		fmt.Println(top, events)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestMemoryStaysFlat generates ten times as many customers and checks
// that the peak live heap does not follow: generation holds one person at
// a time, and a few chunks of people in flight.
func TestMemoryStaysFlat(t *testing.T) {
	peak := func(customers int) (heap uint64, events int) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), memoryEnv+"="+strconv.Itoa(customers), "GORACE=atexit_sleep_ms=0")
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("child generating %d customers: %v", customers, err)
		}
		if _, err := fmt.Sscan(string(out), &heap, &events); err != nil {
			t.Fatalf("child said %q: %v", out, err)
		}
		return heap, events
	}
	small, se := peak(500)
	large, le := peak(5000)
	t.Logf("peak live heap: %d KiB for %d events, %d KiB for %d events", small>>10, se, large>>10, le)
	if large > small*3/2+2<<20 {
		t.Errorf("peak live heap grew from %d KiB to %d KiB with 10× the customers", small>>10, large>>10)
	}
}

func TestGoldenOutput(t *testing.T) {
	cfg := gen.Config{Seed: 2025, Customers: 6, Effects: allEffects, DuplicateRate: 0.05, InvalidRate: 0.05}
	var out, truth bytes.Buffer
	tr, err := gen.WriteNDJSON(t.Context(), cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := gen.WriteTruth(&truth, tr); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name string
		got  []byte
	}{{"small.ndjson", out.Bytes()}, {"small.truth.json", truth.Bytes()}} {
		path := filepath.Join("testdata", f.name)
		if *update {
			if err := os.WriteFile(path, f.got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./internal/gen -run TestGoldenOutput -update to write it)", err)
		}
		if !bytes.Equal(f.got, want) {
			t.Errorf("%s differs from the golden file; if the change is intended, run go test ./internal/gen -run TestGoldenOutput -update", path)
		}
	}
}

func TestTruthRoundTripsThroughJSON(t *testing.T) {
	g := generate(t, loaded)
	var buf bytes.Buffer
	if err := gen.WriteTruth(&buf, g.truth); err != nil {
		t.Fatal(err)
	}
	var back gen.Truth
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, g.truth) {
		t.Errorf("truth changed through JSON:\n%+v\n%+v", back, g.truth)
	}
}

func TestSourcesCoverEveryChannelUsed(t *testing.T) {
	g := generate(t, plain)
	have := map[string]bool{}
	for _, s := range gen.Sources() {
		have[s.Channel] = true
		if s.ID == "" || s.Name == "" {
			t.Errorf("source %+v", s)
		}
	}
	for ch := range g.truth.Counts.ByChannel {
		if !have[ch] {
			t.Errorf("events on channel %q, but no source for it", ch)
		}
	}
}
