package gen

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"
)

// Truth is what a generation planted and what it emitted, for tests and
// demos to check measurements against. Every count is of what was really
// emitted (after the period's end cut journeys short), not of what the
// model intended; the model's own probabilities are there too, as Planted*.
type Truth struct {
	Generator string      `json:"generator"`
	Config    TruthConfig `json:"config"`
	Counts    Counts      `json:"counts"`
	Customers Customers   `json:"customers"`
	Effects   Signatures  `json:"effects"`
	Surveys   Surveys     `json:"surveys"`
}

// TruthConfig is the resolved configuration the data was generated with.
type TruthConfig struct {
	Seed          int64     `json:"seed"`
	Customers     int64     `json:"customers"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	Days          int       `json:"days"`
	Effects       Effects   `json:"effects"`
	DuplicateRate float64   `json:"duplicateRate"`
	InvalidRate   float64   `json:"invalidRate"`
	SkewedDevices float64   `json:"skewedDevices"`
	OmitSentAt    bool      `json:"omitSentAt,omitempty"`
}

// Counts counts the output. Events is what a store should hold once
// duplicates are dropped and invalid events quarantined:
// Lines = Events + Duplicates + the sum of Invalid. The maps count those
// Events by call type, by activity name (event.Event.Activity: the track
// event name, "Page Viewed", "Screen Viewed", "Identify", "Group",
// "Alias") and by channel.
type Counts struct {
	Lines      int64            `json:"lines"`
	Events     int64            `json:"events"`
	Duplicates int64            `json:"duplicates"`
	Invalid    map[string]int64 `json:"invalid"`
	ByType     map[string]int64 `json:"byType"`
	ByEvent    map[string]int64 `json:"byEvent"`
	ByChannel  map[string]int64 `json:"byChannel"`
	// WithSentAt events carry sentAt; Skewed of them come from a device
	// whose clock is wrong, so their timestamp needs correcting.
	WithSentAt int64 `json:"withSentAt"`
	Skewed     int64 `json:"skewed"`
	// First and Last are the earliest and latest (corrected) event times.
	First time.Time `json:"first,omitzero"`
	Last  time.Time `json:"last,omitzero"`
}

// Customers counts people and what identity stitching should make of
// them. A person is one simulated human. Their identifiers (userId, a
// loyalty-card userId, one anonymousId per device) join into one customer
// wherever an event carries two of them or an alias links them; a device
// never logged in on, or a loyalty card never linked by an alias, stays a
// customer of its own, as it would in any real data. Customers is the
// number of customers stitching must find, and no stitching rule can
// merge two persons: no identifier is shared between persons.
type Customers struct {
	Persons           int64 `json:"persons"`
	IdentifiedPersons int64 `json:"identifiedPersons"` // with a userId on some event
	AnonymousPersons  int64 `json:"anonymousPersons"`
	Devices           int64 `json:"devices"` // distinct anonymousIds
	Customers         int64 `json:"customers"`
	Identified        int64 `json:"identified"` // customers with a userId
	Anonymous         int64 `json:"anonymous"`  // customers with only anonymousIds
	// Aliased persons had a loyalty card userId linked to their account
	// by an alias call: the one way two userIds may join.
	Aliased int64 `json:"aliased"`
}

// Rate is Matched out of Total; Rate is 0 when Total is.
type Rate struct {
	Total   int64   `json:"total"`
	Matched int64   `json:"matched"`
	Rate    float64 `json:"rate"`
}

func rate(total, matched int64) Rate {
	r := Rate{Total: total, Matched: matched}
	if total > 0 {
		r.Rate = math.Round(float64(matched)/float64(total)*1e6) / 1e6
	}
	return r
}

// Signatures holds, for each effect that can be planted, how it shows in
// the data. They are measured whether the effect is on or off, so a test
// can see both the effect and its absence.
type Signatures struct {
	CheckoutFailsOn     CheckoutSignature `json:"checkoutFailsOn"`
	BetterChannel       ChannelSignature  `json:"betterChannel"`
	CallLoopBeforeChurn ChurnSignature    `json:"callLoopBeforeChurn"`
}

// CheckoutSignature: per checkout, whether "Checkout Started" led to
// "Order Completed". The two share properties.order_id; the platform is
// the Checkout Started event's context.device.type. Target is the
// planted platform's rate, Others all other platforms together.
type CheckoutSignature struct {
	Planted  bool   `json:"planted"`
	Platform string `json:"platform,omitempty"`
	From     string `json:"from"`
	To       string `json:"to"`
	JoinedBy string `json:"joinedBy"`
	By       string `json:"by"`
	// The model's chance that a checkout completes, elsewhere and on
	// the failing platform.
	PlantedBaseRate    float64         `json:"plantedBaseRate"`
	PlantedFailingRate float64         `json:"plantedFailingRate"`
	ByPlatform         map[string]Rate `json:"byPlatform"`
	Target             Rate            `json:"target"`
	Others             Rate            `json:"others"`
}

// ChannelSignature: per customer (after stitching), whether they placed
// an order ("Order Completed", online or in a store), by the acquisition
// channel of their first event: its context.campaign.medium, mapped by
// FirstTouchChannel (cpc: ads, paid_social: social, email: email,
// organic: search, referral: referral; no campaign: direct). Target is the
// planted channel, Others the other four campaign channels ("direct"
// customers, who are devices and cards never linked to an account, are
// left out of both).
type ChannelSignature struct {
	Planted         bool            `json:"planted"`
	Channel         string          `json:"channel,omitempty"`
	FirstTouch      string          `json:"firstTouch"`
	Goal            string          `json:"goal"`
	PlantedBaseRate float64         `json:"plantedBaseRate"`
	PlantedRate     float64         `json:"plantedRate"`
	ByChannel       map[string]Rate `json:"byChannel"`
	Target          Rate            `json:"target"`
	Others          Rate            `json:"others"`
}

// ChurnSignature: Churned counts customers with a "Subscription
// Cancelled" and, as Matched, those with at least MinCalls "Call Started"
// in the WindowDays days up to it (both ends included). Retained is the
// baseline: members who did not cancel, matched when some WindowDays-day
// window holds MinCalls calls.
type ChurnSignature struct {
	Planted      bool    `json:"planted"`
	CallEvent    string  `json:"callEvent"`
	ChurnEvent   string  `json:"churnEvent"`
	MinCalls     int     `json:"minCalls"`
	WindowDays   int     `json:"windowDays"`
	PlantedShare float64 `json:"plantedShare"`
	Churned      Rate    `json:"churned"`
	Retained     Rate    `json:"retained"`
}

// Surveys summarises "Survey Responded" per kind and step: the emotion
// curve (score −2..2) and CSAT (1..5).
type Surveys struct {
	Emotion map[string]Score `json:"emotion"`
	CSAT    map[string]Score `json:"csat"`
}

// Score is the number of answers and their mean.
type Score struct {
	Responses int64   `json:"responses"`
	Mean      float64 `json:"mean"`
}

// WriteTruth writes t as indented JSON. The output is deterministic: map
// keys are sorted.
func WriteTruth(w io.Writer, t Truth) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return fmt.Errorf("encode truth: %w", err)
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write truth: %w", err)
	}
	return nil
}

// acc sums the truth of a range of people; accs add up.
type acc struct {
	lines, events, dups, withSentAt, skewed int64
	invalid                                 [nInvalid]int64
	byType                                  [nTypes]int64
	byName                                  [nNames]int64
	byChannel                               [nChannels]int64
	minT, maxT                              int64

	persons, identifiedPersons, devices int64
	customers, identified, aliased      int64

	checkout                                [nPlatforms][2]int64
	touch                                   [nAcq][2]int64
	churned, churnedLoop, retained, retLoop int64
	surveys                                 [nSteps][2]int64 // responses, sum of scores
}

func (a *acc) add(b *acc) {
	if b.events > 0 {
		if a.events == 0 || b.minT < a.minT {
			a.minT = b.minT
		}
		if a.events == 0 || b.maxT > a.maxT {
			a.maxT = b.maxT
		}
	}
	a.lines += b.lines
	a.events += b.events
	a.dups += b.dups
	a.withSentAt += b.withSentAt
	a.skewed += b.skewed
	for i := range a.invalid {
		a.invalid[i] += b.invalid[i]
	}
	for i := range a.byType {
		a.byType[i] += b.byType[i]
	}
	for i := range a.byName {
		a.byName[i] += b.byName[i]
	}
	for i := range a.byChannel {
		a.byChannel[i] += b.byChannel[i]
	}
	a.persons += b.persons
	a.identifiedPersons += b.identifiedPersons
	a.devices += b.devices
	a.customers += b.customers
	a.identified += b.identified
	a.aliased += b.aliased
	for i := range a.checkout {
		a.checkout[i][0] += b.checkout[i][0]
		a.checkout[i][1] += b.checkout[i][1]
	}
	for i := range a.touch {
		a.touch[i][0] += b.touch[i][0]
		a.touch[i][1] += b.touch[i][1]
	}
	a.churned += b.churned
	a.churnedLoop += b.churnedLoop
	a.retained += b.retained
	a.retLoop += b.retLoop
	for i := range a.surveys {
		a.surveys[i][0] += b.surveys[i][0]
		a.surveys[i][1] += b.surveys[i][1]
	}
}

// tally is per-person scratch for the truth: a union-find over the
// person's identifiers. Nodes: 0 the userId, 1 the loyalty-card userId,
// 2… the devices' anonymousIds.
type tally struct {
	parent    [2 + maxDevices]int8
	present   [2 + maxDevices]bool
	first     [2 + maxDevices]int32 // a root's first record, -1 if none yet
	converted [2 + maxDevices]bool
	orders    []uint64
	calls     []int64
}

func (t *tally) find(x int8) int8 {
	for t.parent[x] != x {
		t.parent[x] = t.parent[t.parent[x]]
		x = t.parent[x]
	}
	return x
}

func (t *tally) union(a, b int8) {
	a, b = t.find(a), t.find(b)
	if a != b {
		t.parent[b] = a
	}
}

func isCSAT(step uint8) bool { return step == stepDelivery || step == stepCall }

// tally adds the person just generated to the chunk's truth.
func (w *worker) tally() {
	a, t := &w.c.acc, &w.t
	for i := range t.parent {
		t.parent[i], t.present[i], t.first[i], t.converted[i] = int8(i), false, -1, false
	}
	// Output lines: the same record twice in a row is a resend.
	prev := int32(-1)
	for _, j := range w.out {
		a.lines++
		if j == prev {
			a.dups++
		} else if inv := w.recs[j].invalid; inv != invNone {
			a.invalid[inv]++
		}
		prev = j
	}
	a.persons++
	nValid := len(w.recs)
	for nValid > 0 && w.recs[nValid-1].invalid != invNone {
		nValid--
	}
	valid := w.recs[:nValid]
	t.orders = t.orders[:0]
	aliased := false
	var cancelT int64 = -1
	subscribed := false
	for j := range valid {
		r := &valid[j]
		if a.events == 0 || r.t < a.minT {
			a.minT = r.t
		}
		if a.events == 0 || r.t > a.maxT {
			a.maxT = r.t
		}
		a.events++
		a.byType[r.typ]++
		a.byName[r.act]++
		a.byChannel[r.ch]++
		if r.sent != 0 {
			a.withSentAt++
			if r.dev >= 0 && w.devs[r.dev].skew != 0 {
				a.skewed++
			}
		}
		node := int8(-1)
		if r.user != idNone {
			node = int8(r.user - 1)
			t.present[node] = true
		}
		if r.dev >= 0 {
			dn := 2 + r.dev
			t.present[dn] = true
			if node >= 0 {
				t.union(node, dn)
			}
			node = dn
		}
		if r.prev != idNone {
			t.present[r.prev-1] = true
			t.union(node, int8(r.prev-1))
			aliased = true
		}
		switch r.act {
		case nOrderCompleted:
			t.orders = append(t.orders, r.key)
		case nSubscriptionStarted:
			subscribed = true
		case nSubscriptionCancelled:
			if cancelT < 0 {
				cancelT = r.t
			}
		case nSurveyResponded:
			a.surveys[r.step][0]++
			a.surveys[r.step][1] += int64(r.score)
		}
	}
	for i := 2; i < len(t.present); i++ {
		if t.present[i] {
			a.devices++
		}
	}
	if t.present[0] || t.present[1] {
		a.identifiedPersons++
	}
	if aliased {
		a.aliased++
	}
	for i := range t.present {
		if t.present[i] && t.find(int8(i)) == int8(i) {
			a.customers++
			if t.find(0) == int8(i) && t.present[0] || t.find(1) == int8(i) && t.present[1] {
				a.identified++
			}
		}
	}
	// Second pass, now that the components are known: first touch and
	// conversion per customer, checkouts, the calls before churn.
	calls := t.calls[:0]
	for j := range valid {
		r := &valid[j]
		root := w.rootOf(r)
		if t.first[root] < 0 {
			t.first[root] = int32(j)
		}
		switch r.act {
		case nOrderCompleted:
			t.converted[root] = true
		case nCheckoutStarted:
			pf := w.devs[r.dev].model.platform
			a.checkout[pf][0]++
			for _, k := range t.orders {
				if k == r.key {
					a.checkout[pf][1]++
					break
				}
			}
		case nCallStarted:
			calls = append(calls, r.t)
		}
	}
	for i := range t.first {
		if t.first[i] < 0 {
			continue
		}
		acq := acqDirect
		if c := valid[t.first[i]].camp; c != nil {
			acq = acqIndex(c.medium)
		}
		a.touch[acq][0]++
		if t.converted[i] {
			a.touch[acq][1]++
		}
	}
	t.calls = calls
	switch {
	case cancelT >= 0:
		a.churned++
		n := 0
		for _, c := range calls {
			if c >= cancelT-loopWindow && c <= cancelT {
				n++
			}
		}
		if n >= loopMinCalls {
			a.churnedLoop++
		}
	case subscribed:
		a.retained++
		if maxInWindow(calls, loopWindow) >= loopMinCalls {
			a.retLoop++
		}
	}
}

// rootOf is the customer (root node) a record belongs to.
func (w *worker) rootOf(r *rec) int8 {
	if r.dev >= 0 {
		return w.t.find(2 + r.dev)
	}
	return w.t.find(int8(r.user - 1))
}

func acqIndex(medium string) uint8 {
	for i, m := range acqMedium[:acqDirect] {
		if m == medium {
			return uint8(i)
		}
	}
	return acqDirect
}

// maxInWindow is the most of the sorted times that fit in one closed
// window of length win.
func maxInWindow(ts []int64, win int64) int {
	best, lo := 0, 0
	for hi := range ts {
		for ts[hi]-ts[lo] > win {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// truth turns the summed acc into the Truth.
func (p *plan) truth(a *acc) Truth {
	tr := Truth{Generator: "trek gen"}
	tr.Config = TruthConfig{
		Seed: p.seed, Customers: p.persons,
		Start: time.UnixMilli(p.start).UTC(), End: time.UnixMilli(p.end).UTC(), Days: p.days,
		Effects: p.effects, DuplicateRate: p.dupRate, InvalidRate: p.invalidRate,
		SkewedDevices: p.skewShare, OmitSentAt: p.omitSentAt,
	}
	c := &tr.Counts
	c.Lines, c.Events, c.Duplicates = a.lines, a.events, a.dups
	c.WithSentAt, c.Skewed = a.withSentAt, a.skewed
	c.Invalid = map[string]int64{}
	for i := invNone + 1; i < nInvalid; i++ {
		c.Invalid[invalidNames[i]] = a.invalid[i]
	}
	c.ByType, c.ByEvent, c.ByChannel = map[string]int64{}, map[string]int64{}, map[string]int64{}
	for i, n := range a.byType {
		if n > 0 {
			c.ByType[typeNames[i]] = n
		}
	}
	for i, n := range a.byName {
		if n > 0 {
			c.ByEvent[activityNames[i]] = n
		}
	}
	for i, n := range a.byChannel {
		if n > 0 {
			c.ByChannel[channelNames[i]] = n
		}
	}
	if a.events > 0 {
		c.First, c.Last = time.UnixMilli(a.minT).UTC(), time.UnixMilli(a.maxT).UTC()
	}
	tr.Customers = Customers{
		Persons: a.persons, IdentifiedPersons: a.identifiedPersons, AnonymousPersons: a.persons - a.identifiedPersons,
		Devices: a.devices, Customers: a.customers, Identified: a.identified, Anonymous: a.customers - a.identified,
		Aliased: a.aliased,
	}

	co := CheckoutSignature{
		Planted: p.failOn >= 0, Platform: p.effects.CheckoutFailsOn,
		From: activityNames[nCheckoutStarted], To: activityNames[nOrderCompleted],
		JoinedBy: "properties.order_id", By: "context.device.type",
		PlantedBaseRate: baseCompletion, PlantedFailingRate: failingCompletion,
		ByPlatform: map[string]Rate{},
	}
	var ot, om int64
	for pf := range a.checkout {
		co.ByPlatform[platformNames[pf]] = rate(a.checkout[pf][0], a.checkout[pf][1])
		if int8(pf) == p.failOn {
			co.Target = co.ByPlatform[platformNames[pf]]
		} else {
			ot += a.checkout[pf][0]
			om += a.checkout[pf][1]
		}
	}
	co.Others = rate(ot, om)
	tr.Effects.CheckoutFailsOn = co

	ch := ChannelSignature{
		Planted: p.better >= 0, Channel: p.effects.BetterChannel,
		FirstTouch:      "context.campaign.medium of the customer's first event",
		Goal:            activityNames[nOrderCompleted],
		PlantedBaseRate: baseBuy, PlantedRate: betterBuy,
		ByChannel: map[string]Rate{},
	}
	ot, om = 0, 0
	for i := range a.touch {
		ch.ByChannel[acqNames[i]] = rate(a.touch[i][0], a.touch[i][1])
		switch {
		case uint8(i) == acqDirect:
		case int8(i) == p.better:
			ch.Target = ch.ByChannel[acqNames[i]]
		default:
			ot += a.touch[i][0]
			om += a.touch[i][1]
		}
	}
	ch.Others = rate(ot, om)
	tr.Effects.BetterChannel = ch

	tr.Effects.CallLoopBeforeChurn = ChurnSignature{
		Planted: p.callLoop, CallEvent: activityNames[nCallStarted], ChurnEvent: activityNames[nSubscriptionCancelled],
		MinCalls: loopMinCalls, WindowDays: int(loopWindow / day), PlantedShare: loopShare,
		Churned:  rate(a.churned, a.churnedLoop),
		Retained: rate(a.retained, a.retLoop),
	}

	tr.Surveys = Surveys{Emotion: map[string]Score{}, CSAT: map[string]Score{}}
	for s := stepNone + 1; s < nSteps; s++ {
		n := a.surveys[s][0]
		if n == 0 {
			continue
		}
		sc := Score{Responses: n, Mean: math.Round(float64(a.surveys[s][1])/float64(n)*1e4) / 1e4}
		if isCSAT(s) {
			tr.Surveys.CSAT[stepNames[s]] = sc
		} else {
			tr.Surveys.Emotion[stepNames[s]] = sc
		}
	}
	return tr
}
