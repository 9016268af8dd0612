package gen

import (
	"cmp"
	"math"
	"slices"
	"strconv"
)

const (
	second = int64(1000)
	minute = 60 * second
	hour   = 60 * minute
	day    = 24 * hour
	never  = math.MaxInt64
)

// maxDevices bounds the anonymous ids one person has, well under any cap
// the identity graph puts on anonymous ids per customer.
const maxDevices = 4

var devicesCum = cumulative(0.50, 0.33, 0.13, 0.04)

// The model's probabilities that the planted effects change; the truth
// file reports them next to what was measured.
const (
	baseCompletion    = 0.82 // a checkout's payment goes through
	failingCompletion = 0.25 // … on the platform where checkout fails
	baseBuy           = 0.30 // a person makes a first online purchase
	betterBuy         = 0.66 // … when they came through the better channel
	loopShare         = 0.85 // a churner has a loop of calls before cancelling
	loopMinCalls      = 3
	loopWindow        = 14 * day
	futureSkew        = 75 * 365 * day
)

type device struct {
	anon  string
	model *deviceModel
	ip    string
	skew  int64
	// linkT is when the person logged in on the device: from then on its
	// events carry the userId as well as the anonymousId.
	linkT int64
}

// worker generates people one at a time into reusable buffers; one per
// goroutine.
type worker struct {
	p        *plan
	r, noise rng
	recs     []rec
	kvs      []kv
	prods    []prodLine
	out      []int32 // what to write, in order: indexes into recs
	cart     []prodLine
	c        *chunk // where the output goes
	devCtx   [maxDevices][]byte
	// The date part of the last timestamp written, reused while the
	// day does not change.
	lastDay   int64
	dayPrefix []byte

	// The person being generated.
	i                 int64
	loc               *locale
	first, last       *nameEntry
	userID, loyaltyID string
	email, typedEmail string
	phone, groupID    string
	devs              [maxDevices]device
	nDev              int
	acq               uint8
	camp              *campaign
	identified        bool
	idT               int64
	storeGoer         bool
	loyalty           bool
	consent           bool
	business          bool
	horizon           int64
	cartKey           uint64

	t tally // scratch for the truth of one person
}

func newWorker(p *plan) *worker {
	return &worker{p: p, c: &chunk{}}
}

// person generates person i: its records in time order in w.recs, what to
// write in w.out, and its share of the truth in w.c.acc.
func (w *worker) person(i int64) {
	p := w.p
	w.recs, w.kvs, w.prods, w.out, w.cart = w.recs[:0], w.kvs[:0], w.prods[:0], w.out[:0], w.cart[:0]
	w.cartKey = 0
	w.r.seed(p.seed, saltJourney, i)
	w.noise.seed(p.seed, saltNoise, i)
	w.i = i
	w.setup()

	t0 := w.r.between(p.start, p.end)
	t := w.firstTouch(t0)
	w.journey(t)

	// Time order within the person; ties keep the order of generation,
	// which is the order of cause and effect.
	slices.SortStableFunc(w.recs, func(a, b rec) int { return cmp.Compare(a.t, b.t) })
	n := 0
	for j := range w.recs {
		if w.recs[j].t >= p.start && w.recs[j].t < p.end {
			w.recs[n] = w.recs[j]
			n++
		}
	}
	w.recs = w.recs[:n]
	w.inject()
	w.tally()
}

func (w *worker) setup() {
	r, p := &w.r, w.p
	w.loc = &locales[r.pick(localeCum)]
	w.first = &w.loc.first[r.intn(len(w.loc.first))]
	w.last = &w.loc.last[r.intn(len(w.loc.last))]
	// Bijections of the person's index: unique without bookkeeping.
	w.userID = "usr_" + string(appendHex(nil, mix64(uint64(w.i)^mix64(uint64(p.seed)^saltUser))))
	w.loyaltyID = "loy_" + string(appendHex(nil, mix64(uint64(w.i)^mix64(uint64(p.seed)^saltLoyalty))))
	domain := []string{"example.com", "example.net", "example.org"}[r.intn(3)]
	local := w.first.ascii + "." + w.last.ascii + "." + strconv.FormatInt(w.i, 36)
	w.email = local + "@" + domain
	w.typedEmail = w.email
	if r.chance(0.1) {
		// People type their address in all sorts of ways; trek must
		// lower-case and trim it to find them again.
		w.typedEmail = " " + titleASCII(w.first.ascii) + "." + titleASCII(w.last.ascii) + "." + strconv.FormatInt(w.i, 36) + "@" + titleASCII(domain) + " "
	}
	w.phone = ""
	if w.loc.phonePrefix != "" && r.chance(0.6) {
		// (i·a + b) mod 10⁸ is a bijection for i < 10⁸ (a is prime to
		// 10⁸), so phones are unique too.
		x := (uint64(w.i)*48271 + uint64(mix64(uint64(p.seed))%1e8)) % 1e8
		d := strconv.FormatUint(x+1e8, 10)[1:]
		w.phone = w.loc.phonePrefix + d[:2] + " " + d[2:5] + " " + d[5:]
	}
	w.business = r.chance(0.04)
	w.groupID = ""
	if w.business {
		// Neighbours share a company, so groups have several members.
		w.groupID = "org_" + string(appendHex(nil, mix64(uint64(w.i/8)^mix64(uint64(p.seed)^saltGroup))))
	}
	w.storeGoer = r.chance(0.3)
	w.loyalty = w.storeGoer && r.chance(0.7)
	w.consent = r.chance(0.7)
	w.identified, w.idT = false, never
	w.horizon = p.end

	w.acq = uint8(r.pick(acqCum))
	w.camp = &campaigns[w.acq][r.intn(len(campaigns[w.acq]))]
	w.nDev = r.pick(devicesCum) + 1
	for d := 0; d < w.nDev; d++ {
		dv := &w.devs[d]
		m := r.pick(deviceCum)
		if d == 0 && w.acq != acqAds && w.acq != acqSocial {
			// Search results, emails and friends' links open in a browser.
			m = r.pick(webModelCum)
		}
		dv.model = &deviceModels[m]
		dv.anon = string(r.uuid(nil))
		dv.ip = ips[r.intn(len(ips))]
		dv.skew = 0
		if r.chance(p.skewShare) {
			dv.skew = r.between(minute, 3*hour)
			if r.chance(0.5) {
				dv.skew = -dv.skew
			}
		}
		dv.linkT = never
	}
}

func titleASCII(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// add appends a record at time t and returns its index. dev < 0 is a
// server-side event (no device context, no sentAt).
func (w *worker) add(t int64, typ, act, ch uint8, dev int) int {
	r := rec{t: t, typ: typ, act: act, ch: ch, dev: int8(dev), p0: int32(len(w.kvs)), p1: int32(len(w.kvs))}
	hi, lo := w.r.u64(), w.r.u64()
	for k := 0; k < 8; k++ {
		r.msg[k] = byte(hi >> (56 - 8*k))
		r.msg[8+k] = byte(lo >> (56 - 8*k))
	}
	r.msg[6] = r.msg[6]&0x0f | 0x40
	r.msg[8] = r.msg[8]&0x3f | 0x80
	if dev >= 0 {
		dv := &w.devs[dev]
		if t >= dv.linkT {
			r.user = idUser
		}
		// Client libraries queue events and flush them in batches a few
		// seconds later; a wrong clock shifts both timestamp and sentAt,
		// and the collector's receivedAt − sentAt undoes the shift.
		flush := t + w.r.between(50, 4*second)
		r.raw, r.sent, r.recv = t+dv.skew, flush+dv.skew, flush
	} else {
		r.raw, r.recv = t, t+w.r.between(100, 3*second)
	}
	if w.p.omitSentAt {
		r.raw, r.sent = t, 0
	}
	w.recs = append(w.recs, r)
	return len(w.recs) - 1
}

// server adds a server-side event about the person, carrying uid.
func (w *worker) server(t int64, act, ch uint8, uid uint8) int {
	j := w.add(t, tTrack, act, ch, -1)
	w.recs[j].user = uid
	return j
}

func (w *worker) cur() *rec { return &w.recs[len(w.recs)-1] }

func (w *worker) prop(k kv) {
	w.kvs = append(w.kvs, k)
	w.cur().p1 = int32(len(w.kvs))
}

func (w *worker) str(key, s string)       { w.prop(kv{key: key, s: s, kind: kStr}) }
func (w *worker) num(key string, n int64) { w.prop(kv{key: key, n: n, kind: kInt}) }
func (w *worker) flag(key string, b bool) { w.prop(kv{key: key, n: b2i(b), kind: kBool}) }
func (w *worker) id(key, prefix string, x uint64) {
	w.prop(kv{key: key, s: prefix, n: int64(x), kind: kID})
}
func (w *worker) money(key string, f float64) {
	w.prop(kv{key: key, f: w.round(f), n: int64(w.loc.decimals), kind: kMoney})
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// local converts an amount in pounds to the person's currency, rounded as
// prices in it are.
func (w *worker) local(gbp float64) float64 {
	x := gbp * w.loc.rate
	if w.loc.decimals == 0 {
		return math.Round(x/1000) * 1000
	}
	return math.Round(x*100) / 100
}

func (w *worker) channelOf(d int) uint8 {
	if w.devs[d].model.platform == pWeb {
		return chWeb
	}
	return chMobile
}

// gap is the pause between two clicks of a session.
func (w *worker) gap() int64 { return w.r.between(4*second, 75*second) }

// nextSession picks the start of a session about meanDays after t, at an
// hour of the person's local day when people shop.
func (w *worker) nextSession(t int64, meanDays float64) int64 {
	off := w.loc.tzOffsetMin * minute
	at := t + 30*minute + int64(w.r.exp(meanDays)*float64(day))
	dayStart := (at+off)/day*day - off
	s := dayStart + int64(w.r.pick(hourCum))*hour + w.r.between(0, hour)
	if s < t+20*minute {
		s += day
	}
	return s
}

// pickDevice chooses the device of a new session: mostly the first one.
func (w *worker) pickDevice() int {
	if w.nDev == 1 || w.r.chance(0.55) {
		return 0
	}
	return w.r.intn(w.nDev)
}

// linkedDevice returns a device the person is logged in on at t, or -1.
func (w *worker) linkedDevice(t int64) int {
	start := w.r.intn(w.nDev)
	for k := 0; k < w.nDev; k++ {
		d := (start + k) % w.nDev
		if w.devs[d].linkT <= t {
			return d
		}
	}
	return -1
}

// firstTouch adds how the person first came and returns when they land.
func (w *worker) firstTouch(t int64) int64 {
	c := w.camp
	switch w.acq {
	case acqAds:
		w.add(t, tTrack, nAdClicked, chAds, 0)
		w.cur().camp = c
		w.id("ad_id", "ad_", w.r.u64()>>40)
		w.str("campaign", c.name)
		w.str("network", c.source)
		w.str("placement", c.content)
		return t + w.r.between(2*second, 8*second)
	case acqSocial:
		if w.r.chance(0.35) {
			w.add(t, tTrack, nVideoPlaybackStarted, chSocial, 0)
			w.cur().camp = c
			w.id("video_id", "vid_", w.r.u64()>>44)
			w.str("platform", c.source)
			t += w.r.between(20*second, 3*minute)
		}
		w.add(t, tTrack, nAdClicked, chSocial, 0)
		w.cur().camp = c
		w.id("ad_id", "ad_", w.r.u64()>>40)
		w.str("campaign", c.name)
		w.str("network", c.source)
		w.str("placement", c.content)
		return t + w.r.between(2*second, 8*second)
	case acqEmail:
		// A newsletter subscriber: the shop knows them already, so the
		// email events carry their userId from the first one.
		w.identified, w.idT = true, t
		key := w.r.u64() >> 24
		w.server(t, nEmailOpened, chEmail, idUser)
		w.cur().camp = c
		w.id("email_id", "em_", key)
		w.str("email_type", "marketing")
		w.str("campaign_id", c.name)
		t += w.r.between(20*second, 20*minute)
		w.server(t, nEmailLinkClicked, chEmail, idUser)
		w.cur().camp = c
		w.id("email_id", "em_", key)
		w.str("email_type", "marketing")
		w.str("link_url", webHost+"/")
		return t + w.r.between(2*second, 6*second)
	}
	return t
}

// journey adds everything after the first touch.
func (w *worker) journey(t int64) {
	p, r := w.p, &w.r
	pBuy := baseBuy
	if int8(w.acq) == p.better {
		pBuy = betterBuy
	}
	willBuy := r.chance(pBuy)
	nPre := 1 + r.geom(0.45, 5)
	d := 0
	for s := 0; s < nPre && t < p.end; s++ {
		var camp *campaign
		if s == 0 {
			camp = w.camp
			if w.acq == acqEmail {
				// The link carries the userId (analytics.js's ajs_uid),
				// so the landing page identifies the browser at once.
				w.devs[0].linkT = t
				w.add(t, tIdentify, nIdentify, w.channelOf(0), 0)
				w.str("email", w.typedEmail)
				t += r.between(200, 2*second)
			}
		} else {
			t = w.nextSession(t, 2)
			d = w.pickDevice()
			if willBuy && s == nPre-1 && w.r.chance(0.7) {
				// People mostly buy on the device they found the shop on.
				d = 0
			}
		}
		t = w.session(d, t, camp, willBuy && s == nPre-1)
		if !willBuy && !w.identified && r.chance(0.07) {
			t = w.signUp(d, t+w.gap())
		}
	}
	if !willBuy {
		for k := r.geom(0.35, 3); k > 0 && t < p.end; k-- {
			t = w.nextSession(t, 9)
			t = w.session(w.pickDevice(), t, nil, false)
		}
		w.background(t)
		return
	}
	var ok bool
	var key uint64
	for attempt := 0; ; attempt++ {
		t, key, ok = w.checkout(d, t, "")
		if ok || attempt == 2 || !r.chance(0.5) || t >= p.end {
			break
		}
		// Back later, often on another device.
		t = t + r.between(hour, 48*hour)
		if w.nDev > 1 {
			d = (d + 1 + r.intn(w.nDev-1)) % w.nDev
		}
		t = w.session(d, t, nil, true)
	}
	if !ok {
		w.background(t)
		return
	}
	w.fulfil(t, key, d)
	tOrder := t
	if r.chance(0.45) {
		w.subscription(t + r.between(minute, 10*minute))
	}
	for k := 0; r.chance(0.5 * math.Pow(0.8, float64(k))); k++ {
		t = w.nextSession(t, 24)
		if t >= w.horizon {
			break
		}
		switch x := r.float(); {
		case x < 0.3 && w.storeGoer:
			w.storeVisit(t, true)
		case x < 0.45 && w.consent:
			// A replenishment reminder brings them back.
			key := r.u64() >> 24
			c := &campaigns[acqEmail][0]
			w.server(t, nEmailOpened, chEmail, idUser)
			w.id("email_id", "em_", key)
			w.str("email_type", "replenishment")
			w.str("campaign_id", "replenishment")
			t += r.between(minute, 3*hour)
			w.server(t, nEmailLinkClicked, chEmail, idUser)
			w.id("email_id", "em_", key)
			w.str("email_type", "replenishment")
			w.str("link_url", webHost+"/cart")
			d := w.linkedDevice(t)
			if d < 0 {
				d = 0
			}
			t = w.session(d, t+r.between(2*second, 10*second), c, true)
			if t2, key, ok := w.checkout(d, t, "replenishment_email"); ok {
				w.fulfil(t2, key, d)
			}
		default:
			d := w.linkedDevice(t)
			if d < 0 {
				d = w.pickDevice()
			}
			t = w.session(d, t, nil, true)
			if t2, key, ok := w.checkout(d, t, ""); ok {
				w.fulfil(t2, key, d)
			}
		}
	}
	w.background(tOrder)
}

// session adds one visit on device d from t and returns when it ends.
// buying makes a visit that fills the cart for a checkout.
func (w *worker) session(d int, t int64, camp *campaign, buying bool) int64 {
	r := &w.r
	if w.identified && w.devs[d].linkT > t && r.chance(0.6) {
		t = w.signIn(d, t)
	}
	cat := categories[r.intn(len(categories))]
	landing := pgHome
	if camp != nil && r.chance(0.6) {
		landing = pgCategory
	}
	w.view(d, t, landing, cat, -1, camp)
	if r.chance(0.45) {
		t += w.gap()
		w.add(t, tTrack, nProductsSearched, w.channelOf(d), d)
		w.str("query", w.loc.queries[r.intn(len(w.loc.queries))])
	}
	if !buying {
		w.cart = w.cart[:0]
	}
	if len(w.cart) == 0 {
		w.cartKey = r.u64() >> 24
	}
	addP := 0.1
	if buying {
		addP = 0.5
	}
	for n := 1 + r.geom(0.55, 6); n > 0; n-- {
		t += w.gap()
		if r.chance(0.15) {
			cat = categories[r.intn(len(categories))]
		}
		inCat := productsByCategory[cat]
		pi := inCat[r.intn(len(inCat))]
		w.view(d, t, pgProduct, cat, pi, nil)
		t += r.between(500, 3*second)
		w.add(t, tTrack, nProductViewed, w.channelOf(d), d)
		w.product(pi, 0)
		if r.chance(addP) || (buying && n == 1 && len(w.cart) == 0) {
			t += w.gap()
			qty := int32(1)
			if r.chance(0.2) {
				qty = 2
			}
			w.add(t, tTrack, nProductAdded, w.channelOf(d), d)
			w.id("cart_id", "cart_", w.cartKey)
			w.product(pi, int64(qty))
			w.cart = append(w.cart, prodLine{prod: int32(pi), qty: qty, price: w.local(products[pi].price)})
		}
	}
	if len(w.cart) > 0 && (buying || r.chance(0.4)) {
		t += w.gap()
		w.view(d, t, pgCart, cat, -1, nil)
		t += r.between(300, 2*second)
		w.add(t, tTrack, nCartViewed, w.channelOf(d), d)
		w.id("cart_id", "cart_", w.cartKey)
		w.products("products", w.cart)
	}
	if r.chance(0.04) {
		t += w.gap()
		w.add(t, tTrack, nChatStarted, chChat, d)
		w.id("chat_id", "chat_", r.u64()>>24)
		w.str("topic", chatTopics[r.intn(len(chatTopics)-1)])
	}
	if r.chance(0.03) {
		t += w.gap()
		w.survey(t, d, w.channelOf(d), "emotion", stepSearch, int8(r.intn(3)-1))
	}
	return t
}

// view adds a page call on the web or a screen call in the app.
func (w *worker) view(d int, t int64, page int, cat string, prod int, camp *campaign) {
	pg := &pages[page]
	if w.devs[d].model.platform != pWeb {
		w.add(t, tScreen, nScreenViewed, chMobile, d)
		w.cur().name = pg.name
		w.cur().camp = camp
		w.str("name", pg.name)
		return
	}
	w.add(t, tPage, nPageViewed, chWeb, d)
	w.cur().name = pg.name
	w.cur().camp = camp
	switch {
	case prod >= 0:
		w.str("path", products[prod].path)
		w.str("url", products[prod].url)
		w.str("title", products[prod].name)
	case page == pgCategory:
		w.str("path", categoryPaths[cat][0])
		w.str("url", categoryPaths[cat][1])
		w.str("title", cat)
	default:
		w.str("path", pg.path)
		w.str("url", pg.url)
		w.str("title", pg.title)
	}
	if camp != nil {
		if ref := referrerOf(camp); ref != "" {
			w.str("referrer", ref)
		}
	}
}

// product adds the Segment Spec product properties; qty 0 leaves out the
// quantity.
func (w *worker) product(pi int, qty int64) {
	pr := &products[pi]
	w.str("product_id", pr.id)
	w.str("sku", pr.sku)
	w.str("category", pr.category)
	w.str("name", pr.name)
	w.str("brand", pr.brand)
	w.money("price", w.local(pr.price))
	w.str("currency", w.loc.currency)
	if qty > 0 {
		w.num("quantity", qty)
	}
}

func (w *worker) products(key string, lines []prodLine) {
	lo := len(w.prods)
	w.prods = append(w.prods, lines...)
	w.prop(kv{key: key, n: int64(lo)<<32 | int64(len(w.prods)), kind: kProducts})
}

func (w *worker) cartTotal() float64 {
	s := 0.0
	for _, l := range w.cart {
		s += l.price * float64(l.qty)
	}
	return w.round(s)
}

func (w *worker) round(x float64) float64 {
	if w.loc.decimals == 0 {
		return math.Round(x)
	}
	return math.Round(x*100) / 100
}

// signUp creates the account on device d: an identify call with the
// person's traits, then Signed Up.
func (w *worker) signUp(d int, t int64) int64 {
	r := &w.r
	w.identified, w.idT = true, t
	w.devs[d].linkT = t
	w.add(t, tIdentify, nIdentify, w.channelOf(d), d)
	w.str("email", w.typedEmail)
	w.str("firstName", w.first.display)
	w.str("lastName", w.last.display)
	if w.phone != "" {
		w.str("phone", w.phone)
	}
	w.prop(kv{key: "createdAt", n: t, kind: kTime})
	t += r.between(100, 1500)
	w.add(t, tTrack, nSignedUp, w.channelOf(d), d)
	w.str("method", signupMethods[r.intn(len(signupMethods))])
	if w.business {
		t += r.between(2*second, 30*second)
		w.add(t, tGroup, nGroup, w.channelOf(d), d)
		w.cur().group = true
		w.str("name", companies[int(w.i/8)%len(companies)])
		w.str("industry", industries[int(w.i/8)%len(industries)])
		w.num("employees", int64(10+(w.i/8)%400))
	}
	return t
}

// signIn logs the person in on device d, which links its anonymousId.
func (w *worker) signIn(d int, t int64) int64 {
	w.devs[d].linkT = t
	w.add(t, tIdentify, nIdentify, w.channelOf(d), d)
	w.str("email", w.typedEmail)
	t += w.r.between(100, 1500)
	w.add(t, tTrack, nSignedIn, w.channelOf(d), d)
	w.str("method", signupMethods[w.r.intn(len(signupMethods))])
	return t
}

// completion is the chance that a checkout's payment goes through on a
// platform.
func (w *worker) completion(platform uint8) float64 {
	if int8(platform) == w.p.failOn {
		return failingCompletion
	}
	return baseCompletion
}

// checkout runs the checkout of the cart on device d. It returns when it
// ended, the order's key and whether the order went through.
func (w *worker) checkout(d int, t int64, source string) (int64, uint64, bool) {
	r := &w.r
	t += w.gap()
	if !w.identified {
		t = w.signUp(d, t) + w.gap()
	} else if w.devs[d].linkT > t {
		t = w.signIn(d, t) + w.gap()
	}
	if len(w.cart) == 0 {
		pi := r.intn(len(products))
		w.cart = append(w.cart, prodLine{prod: int32(pi), qty: 1, price: w.local(products[pi].price)})
	}
	ch := w.channelOf(d)
	key := r.u64() >> 16
	total := w.cartTotal()
	shipping := 0.0
	if total < w.local(50) {
		shipping = w.local(3.99)
	}
	tax := w.round(total / 6)
	w.view(d, t, pgCheckout, "", -1, nil)
	t += r.between(2*second, 10*second)
	w.add(t, tTrack, nCheckoutStarted, ch, d)
	w.cur().key = key
	w.id("order_id", "ord_", key)
	w.id("checkout_id", "chk_", key)
	w.money("value", total+shipping)
	w.money("revenue", w.round(total-tax))
	w.str("currency", w.loc.currency)
	w.products("products", w.cart)
	t += r.between(30*second, 2*minute)
	w.add(t, tTrack, nCheckoutStepCompleted, ch, d)
	w.id("checkout_id", "chk_", key)
	w.num("step", 2)
	w.str("step_name", "delivery")
	w.str("shipping_method", shipMethods[r.intn(len(shipMethods))])
	t += r.between(20*second, 90*second)
	w.add(t, tTrack, nPaymentInfoEntered, ch, d)
	w.id("checkout_id", "chk_", key)
	w.id("order_id", "ord_", key)
	w.num("step", 3)
	pay := payMethods[r.intn(len(payMethods))]
	w.str("payment_method", pay)
	ok := r.chance(w.completion(w.devs[d].model.platform))
	if ok {
		t += r.between(3*second, 20*second)
		w.add(t, tTrack, nOrderCompleted, ch, d)
		w.cur().key = key
		w.id("order_id", "ord_", key)
		w.id("checkout_id", "chk_", key)
		w.money("total", total+shipping)
		w.money("revenue", w.round(total-tax))
		w.money("shipping", shipping)
		w.money("tax", tax)
		w.str("currency", w.loc.currency)
		if source != "" {
			w.str("source", source)
		}
		w.products("products", w.cart)
		t += r.between(300, 2*second)
		w.view(d, t, pgConfirmation, "", -1, nil)
		w.cart = w.cart[:0]
	} else {
		if r.chance(0.5) {
			// Trying the card again does not help.
			t += r.between(30*second, 2*minute)
			w.add(t, tTrack, nPaymentInfoEntered, ch, d)
			w.id("checkout_id", "chk_", key)
			w.id("order_id", "ord_", key)
			w.num("step", 3)
			w.str("payment_method", pay)
		}
		if r.chance(0.1) {
			t += w.gap()
			w.add(t, tTrack, nChatStarted, chChat, d)
			w.id("chat_id", "chat_", r.u64()>>24)
			w.str("topic", "payment_problem")
		}
	}
	if r.chance(0.12) {
		score := int8(r.intn(2) + 1)
		if !ok {
			score = -int8(r.intn(2) + 1)
		}
		t += r.between(5*second, 30*second)
		w.survey(t, d, ch, "emotion", stepCheckout, score)
	}
	return t, key, ok
}

// survey adds a Survey Responded; d < 0 sends it from the survey tool.
func (w *worker) survey(t int64, d int, ch uint8, kind string, step uint8, score int8) {
	if d >= 0 {
		w.add(t, tTrack, nSurveyResponded, ch, d)
	} else {
		w.server(t, nSurveyResponded, ch, idUser)
	}
	w.cur().score, w.cur().step = score, step
	w.id("survey_id", "srv_", w.r.u64()>>24)
	w.str("survey_type", kind)
	w.str("step", stepNames[step])
	// The event the answer is about, so that an emotion curve can put
	// it on the map step bound to that event.
	w.str("about_event", activityNames[stepEvents[step]])
	w.num("score", int64(score))
}

// fulfil adds what follows an online order: shipping, delivery, and
// sometimes a review, a return, a CSAT survey and a referral.
func (w *worker) fulfil(t int64, key uint64, d int) {
	r := &w.r
	carrier := carriers[r.intn(len(carriers))]
	ts := t + r.between(6*hour, 30*hour)
	w.server(ts, nOrderShipped, chPartner, idUser)
	w.id("order_id", "ord_", key)
	w.str("carrier", carrier)
	w.str("shipping_method", shipMethods[r.intn(len(shipMethods))])
	if r.chance(0.65) {
		te := ts + r.between(5*minute, 8*hour)
		ek := r.u64() >> 24
		w.server(te, nEmailOpened, chEmail, idUser)
		w.id("email_id", "em_", ek)
		w.str("email_type", "shipping")
		w.id("order_id", "ord_", key)
		if r.chance(0.35) {
			w.server(te+r.between(5*second, 5*minute), nEmailLinkClicked, chEmail, idUser)
			w.id("email_id", "em_", ek)
			w.str("email_type", "shipping")
			w.str("link_url", "https://track.example.com/parcel")
		}
	}
	td := ts + r.between(day, 4*day)
	w.server(td, nOrderDelivered, chPartner, idUser)
	w.id("order_id", "ord_", key)
	w.str("carrier", carrier)
	w.flag("pickup_point", r.chance(0.3))
	returned := r.chance(0.09)
	if r.chance(0.15) {
		score := int8(r.pick(csatCum) + 1)
		w.survey(td+r.between(2*hour, 2*day), -1, chEmail, "csat", stepDelivery, score)
	}
	if returned {
		tr := td + r.between(2*day, 14*day)
		if r.chance(0.3) {
			w.call(tr-r.between(hour, 2*day), "return", false)
		}
		ch, uid := chWeb, idUser
		if w.storeGoer && r.chance(0.5) {
			ch = chStore
			if w.loyalty {
				uid = idLoyalty
			}
		}
		w.server(tr, nOrderRefunded, ch, uid)
		w.id("order_id", "ord_", key)
		w.str("currency", w.loc.currency)
		w.str("reason", refundReasons[r.intn(len(refundReasons))])
		if r.chance(0.2) {
			w.survey(tr+r.between(hour, day), -1, chEmail, "emotion", stepReturn, -int8(r.intn(3)))
		}
	}
	if r.chance(0.2) {
		rating := int64(r.pick(ratingCum) + 1)
		if returned {
			rating = int64(r.intn(3) + 1)
		}
		tv := td + r.between(2*day, 10*day)
		w.add(tv, tTrack, nProductReviewed, w.channelOf(d), d)
		w.id("review_id", "rev_", r.u64()>>24)
		w.str("product_id", products[r.intn(len(products))].id)
		w.num("rating", rating)
	}
	if r.chance(0.07) {
		tf := td + r.between(day, 20*day)
		w.add(tf, tTrack, nReferralSent, w.channelOf(d), d)
		w.id("referral_code", "ref_", r.u64()>>32)
		w.str("method", []string{"link", "email", "whatsapp"}[r.intn(3)])
	}
}

var (
	csatCum   = cumulative(0.06, 0.08, 0.16, 0.35, 0.35)
	ratingCum = cumulative(0.06, 0.06, 0.13, 0.30, 0.45)
)

// call adds one call-centre call: Call Started, Call Ended, and sometimes
// the IVR's CSAT question.
func (w *worker) call(t int64, reason string, loop bool) {
	r := &w.r
	key := r.u64() >> 24
	w.server(t, nCallStarted, chCallCentre, idUser)
	w.id("call_id", "call_", key)
	w.str("reason", reason)
	w.str("direction", "inbound")
	w.str("queue", w.loc.country+"_customer_service")
	dur := r.between(90, 900)
	if loop {
		dur = r.between(400, 1800)
	}
	w.server(t+dur*second, nCallEnded, chCallCentre, idUser)
	w.id("call_id", "call_", key)
	w.str("reason", reason)
	w.num("duration", dur)
	w.flag("resolved", !loop && r.chance(0.75))
	if r.chance(0.25) {
		score := int8(r.pick(csatCum) + 1)
		if loop {
			score = int8(r.intn(2) + 1)
		}
		w.survey(t+dur*second+r.between(5*second, minute), -1, chCallCentre, "csat", stepCall, score)
	}
}

// storeVisit adds a visit to a store, with a purchase when buy is set.
// Visits of people without a loyalty card leave no trace.
func (w *worker) storeVisit(t int64, buy bool) {
	r := &w.r
	// Only a loyalty card makes a store visitor known to the shop.
	if !w.loyalty {
		return
	}
	uid := idLoyalty
	st := &w.loc.stores[r.intn(len(w.loc.stores))]
	w.server(t, nStoreVisited, chStore, uid)
	w.str("store_id", st.id)
	w.str("store_name", st.name)
	w.str("city", st.city)
	if !buy {
		return
	}
	w.cart = w.cart[:0]
	for n := 1 + r.geom(0.4, 3); n > 0; n-- {
		pi := r.intn(len(products))
		w.cart = append(w.cart, prodLine{prod: int32(pi), qty: 1, price: w.local(products[pi].price)})
	}
	key := r.u64() >> 16
	total := w.cartTotal()
	w.server(t+r.between(5*minute, 40*minute), nOrderCompleted, chStore, uid)
	w.cur().key = key
	w.id("order_id", "ord_", key)
	w.money("total", total)
	w.money("revenue", w.round(total-w.round(total/6)))
	w.str("currency", w.loc.currency)
	w.str("store_id", st.id)
	w.products("products", w.cart)
	w.cart = w.cart[:0]
}

// subscription starts a membership at t; some members cancel later, and
// with the call-loop effect most of those call again and again first.
func (w *worker) subscription(t int64) {
	r := &w.r
	w.server(t, nSubscriptionStarted, chCRM, idUser)
	w.str("plan", "plus")
	w.money("price", w.local(4.99))
	w.str("currency", w.loc.currency)
	w.str("billing_period", "monthly")
	if !r.chance(0.5) {
		return
	}
	tc := t + r.between(15*day, 75*day)
	w.horizon = tc
	if w.p.callLoop && r.chance(loopShare) {
		n := loopMinCalls + r.intn(3)
		reason := loopReasons[r.intn(len(loopReasons))]
		for k := 0; k < n; k++ {
			// Spread over the 13 days before, one call a slot, so
			// none falls outside the 14-day window.
			slot := (13*day - 2*hour) / int64(n)
			tk := tc - 13*day + int64(k)*slot + r.between(0, slot-hour)
			w.call(tk, reason, true)
		}
	}
	w.server(tc, nSubscriptionCancelled, chCRM, idUser)
	w.str("plan", "plus")
	w.str("reason", cancelReasons[r.intn(len(cancelReasons))])
}

// background adds what happens around the person's own visits from t on:
// newsletters, calls, store visits, the loyalty card being linked.
func (w *worker) background(t int64) {
	r, p := &w.r, w.p
	if w.identified && w.consent {
		// Weekly newsletter, on the same weekday for everybody.
		c := &campaigns[acqEmail][0]
		for s := p.start + 3*day + 10*hour; s < w.horizon; s += 7 * day {
			if s < w.idT || !r.chance(0.22) {
				continue
			}
			to := s + int64(r.exp(5)*float64(hour))
			key := r.u64() >> 24
			w.server(to, nEmailOpened, chEmail, idUser)
			w.cur().camp = c
			w.id("email_id", "em_", key)
			w.str("email_type", "newsletter")
			w.str("campaign_id", c.name)
			if r.chance(0.3) {
				tc := to + r.between(5*second, 10*minute)
				w.server(tc, nEmailLinkClicked, chEmail, idUser)
				w.cur().camp = c
				w.id("email_id", "em_", key)
				w.str("email_type", "newsletter")
				w.str("link_url", webHost+"/")
				if d := w.linkedDevice(tc); d >= 0 && r.chance(0.6) {
					w.session(d, tc+r.between(2*second, 8*second), c, false)
				}
			}
		}
	}
	if w.identified {
		// Calls that have nothing to do with churn: about one in
		// two customers calls in 90 days.
		for tc := w.idT + int64(r.exp(200)*float64(day)); tc < w.horizon; tc += int64(r.exp(200) * float64(day)) {
			w.call(tc, callReasons[r.intn(len(callReasons))], false)
		}
	}
	if w.storeGoer {
		start := t
		for ts := start + int64(r.exp(20)*float64(day)); ts < w.horizon; ts += int64(r.exp(20)*float64(day)) + hour {
			w.storeVisit(ts, r.chance(0.3))
		}
	}
	if w.loyalty && w.identified && r.chance(0.55) {
		tl := max(w.idT, t) + r.between(day, 30*day)
		if d := w.linkedDevice(tl); d >= 0 && tl < w.horizon {
			w.view(d, tl, pgLoyalty, "", -1, nil)
			w.add(tl+r.between(5*second, minute), tAlias, nAlias, w.channelOf(d), d)
			w.cur().prev = idLoyalty
		}
	}
}

// inject adds the noise the configuration asks for: a valid event sent
// twice, an invalid event after a valid one. It draws from its own stream,
// so the valid events do not change when it is switched on.
func (w *worker) inject() {
	p := w.p
	n := len(w.recs)
	for j := 0; j < n; j++ {
		w.out = append(w.out, int32(j))
		if p.dupRate == 0 && p.invalidRate == 0 {
			continue
		}
		if w.noise.chance(p.dupRate) {
			w.out = append(w.out, int32(j))
		}
		if w.noise.chance(p.invalidRate) {
			bad := w.recs[j]
			bad.invalid = uint8(1 + w.noise.intn(int(nInvalid-1)))
			hi, lo := w.noise.u64(), w.noise.u64()
			for k := 0; k < 8; k++ {
				bad.msg[k] = byte(hi >> (56 - 8*k))
				bad.msg[8+k] = byte(lo >> (56 - 8*k))
			}
			bad.msg[6] = bad.msg[6]&0x0f | 0x40
			bad.msg[8] = bad.msg[8]&0x3f | 0x80
			switch bad.invalid {
			case invNoEventName:
				bad.typ, bad.act = tTrack, nNames
			case invFutureTimestamp:
				// A device whose clock says it is decades ahead: in
				// the future whenever the data is sent or imported.
				bad.raw, bad.sent = bad.recv+futureSkew, 0
			}
			w.recs = append(w.recs, bad)
			w.out = append(w.out, int32(len(w.recs)-1))
		}
	}
}
