package gen_test

import (
	"slices"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/gen"
)

// The effects are measured from the output with the tests' own reading of
// it, compared with the truth, and checked to stand out when planted and
// to be absent when not.

type ratio struct{ total, matched int64 }

func (r ratio) rate() float64 {
	if r.total == 0 {
		return 0
	}
	return float64(r.matched) / float64(r.total)
}

func sameRate(t *testing.T, what string, got ratio, want gen.Rate) {
	t.Helper()
	if got.total != want.Total || got.matched != want.Matched {
		t.Errorf("%s: output gives %d/%d, truth says %d/%d", what, got.matched, got.total, want.Matched, want.Total)
	}
}

// checkoutByPlatform: per Checkout Started, was its order_id completed.
func checkoutByPlatform(lines []line) map[string]ratio {
	completed := map[string]bool{}
	for _, l := range valid(lines) {
		if l.activity() == "Order Completed" {
			completed[l.prop("order_id")] = true
		}
	}
	out := map[string]ratio{}
	for _, l := range valid(lines) {
		if l.activity() != "Checkout Started" {
			continue
		}
		r := out[l.Context.Device.Type]
		r.total++
		if completed[l.prop("order_id")] {
			r.matched++
		}
		out[l.Context.Device.Type] = r
	}
	return out
}

func TestCheckoutFailsOnOnePlatformOnlyWhenPlanted(t *testing.T) {
	for _, tc := range []struct {
		cfg     gen.Config
		planted bool
	}{{loaded, true}, {plain, false}} {
		g := generate(t, tc.cfg)
		sig := g.truth.Effects.CheckoutFailsOn
		by := checkoutByPlatform(g.lines)
		var others ratio
		for pf, r := range by {
			sameRate(t, "checkout on "+pf, r, sig.ByPlatform[pf])
			if pf != "android" {
				others.total += r.total
				others.matched += r.matched
			}
		}
		android := by["android"]
		if android.total < 40 || others.total < 200 {
			t.Fatalf("too few checkouts to tell: android %d, others %d", android.total, others.total)
		}
		t.Logf("planted=%v: android %.2f (%d), others %.2f (%d)", tc.planted, android.rate(), android.total, others.rate(), others.total)
		if tc.planted {
			sameRate(t, "target", android, sig.Target)
			sameRate(t, "others", others, sig.Others)
			if !sig.Planted || sig.Platform != "android" || android.rate() > others.rate()-0.4 {
				t.Errorf("planted failure not visible: android %.2f, others %.2f", android.rate(), others.rate())
			}
		} else if sig.Planted || diff(android.rate(), others.rate()) > 0.1 {
			t.Errorf("no failure planted, yet android %.2f vs others %.2f", android.rate(), others.rate())
		}
	}
}

func diff(a, b float64) float64 {
	if a > b {
		return a - b
	}
	return b - a
}

// firstTouch: per stitched customer, the channel of the first event's
// campaign and whether the customer ever completed an order.
func firstTouch(lines []line) map[string]ratio {
	c := stitch(lines)
	type cust struct {
		first     time.Time
		channel   string
		converted bool
	}
	custs := map[string]*cust{}
	for i, l := range valid(lines) {
		k := custs[c.of[i]]
		if k == nil {
			k = &cust{first: l.Time, channel: "direct"}
			if l.Context.Campaign != nil {
				k.channel = gen.FirstTouchChannel(l.Context.Campaign.Medium)
			}
			custs[c.of[i]] = k
		} else if l.Time.Before(k.first) {
			// Lines of one customer are in time order; an earlier
			// one later in the file would be a bug.
			panic("customer's events out of order at " + l.MessageID)
		}
		if l.activity() == "Order Completed" {
			k.converted = true
		}
	}
	out := map[string]ratio{}
	for _, k := range custs {
		r := out[k.channel]
		r.total++
		if k.converted {
			r.matched++
		}
		out[k.channel] = r
	}
	return out
}

func TestBetterChannelConvertsBetterOnlyWhenPlanted(t *testing.T) {
	for _, tc := range []struct {
		cfg     gen.Config
		planted bool
	}{{loaded, true}, {plain, false}} {
		g := generate(t, tc.cfg)
		sig := g.truth.Effects.BetterChannel
		by := firstTouch(g.lines)
		var others ratio
		for ch, r := range by {
			sameRate(t, "first touch "+ch, r, sig.ByChannel[ch])
			if ch != "email" && ch != "direct" {
				others.total += r.total
				others.matched += r.matched
			}
		}
		email := by["email"]
		t.Logf("planted=%v: email %.3f (%d), others %.3f (%d)", tc.planted, email.rate(), email.total, others.rate(), others.total)
		if email.total < 100 {
			t.Fatalf("only %d customers came by email", email.total)
		}
		if tc.planted {
			sameRate(t, "target", email, sig.Target)
			sameRate(t, "others", others, sig.Others)
			if email.rate() < 1.8*others.rate() {
				t.Errorf("planted channel not visible: email %.3f, others %.3f", email.rate(), others.rate())
			}
		} else if r := email.rate() / others.rate(); r < 0.8 || r > 1.3 {
			// Email brings people the shop already knows, so fewer of
			// their orders are lost to devices never linked: about 1.1×
			// the others without any effect (docs/gen.md).
			t.Errorf("no channel planted, yet email converts %.2f× the others", r)
		}
	}
}

// churnLoops: per customer who cancelled, were there ≥ 3 Call Started in
// the 14 days up to it; per member who did not, in any 14 days.
func churnLoops(lines []line) (churned, retained ratio) {
	c := stitch(lines)
	calls := map[string][]time.Time{}
	cancel := map[string]time.Time{}
	member := map[string]bool{}
	for i, l := range valid(lines) {
		k := c.of[i]
		switch l.activity() {
		case "Call Started":
			calls[k] = append(calls[k], l.Time)
		case "Subscription Cancelled":
			if _, ok := cancel[k]; !ok {
				cancel[k] = l.Time
			}
		case "Subscription Started":
			member[k] = true
		}
	}
	const window = 14 * 24 * time.Hour
	for k := range member {
		cs := calls[k]
		slices.SortFunc(cs, func(a, b time.Time) int { return a.Compare(b) })
		if tc, ok := cancel[k]; ok {
			churned.total++
			n := 0
			for _, x := range cs {
				if !x.Before(tc.Add(-window)) && !x.After(tc) {
					n++
				}
			}
			if n >= 3 {
				churned.matched++
			}
			continue
		}
		retained.total++
		for i := 0; i+2 < len(cs); i++ {
			if cs[i+2].Sub(cs[i]) <= window {
				retained.matched++
				break
			}
		}
	}
	return churned, retained
}

func TestCallLoopBeforeChurnOnlyWhenPlanted(t *testing.T) {
	for _, tc := range []struct {
		cfg     gen.Config
		planted bool
	}{{loaded, true}, {plain, false}} {
		g := generate(t, tc.cfg)
		sig := g.truth.Effects.CallLoopBeforeChurn
		churned, retained := churnLoops(g.lines)
		sameRate(t, "churned", churned, sig.Churned)
		sameRate(t, "retained", retained, sig.Retained)
		t.Logf("planted=%v: churned with a loop %.2f (%d), retained with one %.3f (%d)", tc.planted, churned.rate(), churned.total, retained.rate(), retained.total)
		if churned.total < 25 {
			t.Fatalf("only %d churned customers", churned.total)
		}
		if retained.rate() > 0.05 {
			t.Errorf("%.3f of retained members have a call loop", retained.rate())
		}
		if tc.planted != (churned.rate() > 0.6) || !tc.planted && churned.rate() > 0.1 {
			t.Errorf("planted=%v, and %.2f of churners had a loop of calls", tc.planted, churned.rate())
		}
	}
}

func TestEffectsAreMeasuredTheSameAcrossSeeds(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		cfg := loaded
		cfg.Seed, cfg.Customers = seed, 2000
		tr, err := gen.WriteNDJSON(t.Context(), cfg, &countingWriter{})
		if err != nil {
			t.Fatal(err)
		}
		e := tr.Effects
		if e.CheckoutFailsOn.Target.Rate > e.CheckoutFailsOn.Others.Rate-0.4 ||
			e.BetterChannel.Target.Rate < 1.8*e.BetterChannel.Others.Rate ||
			e.CallLoopBeforeChurn.Churned.Rate < 0.6 {
			t.Errorf("seed %d: effects do not stand out: %+v", seed, e)
		}
	}
}
