package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/trekhq/trek/internal/event"
)

// This file generates realistic events for the tests and benchmarks:
// customers with sessions spread over 90 days, 30 event names with a
// skewed distribution, 11 channels, 5 sources, Segment-like properties,
// contexts and traits, ties on timestamps, skewed client clocks.

var genEventNames = []string{
	"Page Viewed", "Product Viewed", "Products Searched", "Product Added", "Cart Viewed",
	"Checkout Started", "Payment Info Entered", "Order Completed", "Order Refunded", "Product Reviewed",
	"Signed Up", "Signed In", "Call Started", "Call Ended", "Chat Started",
	"Chat Ended", "Store Visited", "Email Opened", "Email Link Clicked", "Ad Clicked",
	"Referral Sent", "Coupon Applied", "Product Removed", "Wishlist Added", "Survey Responded",
	"Subscription Started", "Subscription Cancelled", "Push Opened", "App Opened", "Delivery Tracked",
}

var genChannels = []string{"web", "mobile", "call_centre", "store", "email", "ads", "social", "chat", "partner", "crm", "other"}

var genSources = []string{"src_web", "src_app", "src_callcentre", "src_store", "src_marketing"}

var genPages = []string{"/", "/products", "/products/shoes", "/cart", "/checkout", "/account", "/help"}

type genConfig struct {
	Seed      uint64
	Customers int
	EventsPer int // mean events per customer
	Days      int
	Start     time.Time
	// Lean leaves out properties, contexts and traits.
	Lean bool
}

func (c genConfig) withDefaults() genConfig {
	if c.EventsPer == 0 {
		c.EventsPer = 10
	}
	if c.Days == 0 {
		c.Days = 90
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return c
}

// genCustomers calls fn with each customer's events, customer by customer,
// each customer's events in time order.
func genCustomers(cfg genConfig, fn func(recs []Record)) {
	cfg = cfg.withDefaults()
	r := rand.New(rand.NewPCG(cfg.Seed, 0x7265c))
	span := int64(cfg.Days) * 24 * 3600 * 1000
	var recs []Record
	msg := 0
	for c := range cfg.Customers {
		recs = recs[:0]
		key := uint64(c)*3 + 1
		n := 1 + r.IntN(2*cfg.EventsPer-1)
		anon := fmt.Sprintf("anon-%d-%d", c, r.IntN(1000))
		user := ""
		if r.IntN(3) > 0 {
			user = fmt.Sprintf("user-%d", c)
		}
		sessions := 1 + r.IntN(4)
		starts := make([]int64, sessions)
		for i := range starts {
			starts[i] = cfg.Start.UnixMilli() + r.Int64N(span)
		}
		slices.Sort(starts)
		for i := range n {
			s := i * sessions / n
			t := starts[s] + int64(i-s*n/sessions)*(5000+r.Int64N(115000))
			if i > 0 && r.IntN(50) == 0 {
				t = recs[i-1].Event.Timestamp.UnixMilli() // a tie
			}
			ch := genChannels[(s+c)%len(genChannels)]
			if r.IntN(4) == 0 {
				ch = genChannels[r.IntN(len(genChannels))]
			}
			e := event.Event{
				MessageID:   fmt.Sprintf("msg-%08d-%x", msg, r.Uint32()),
				Type:        event.Track,
				Event:       genEventNames[zipf(r, len(genEventNames))],
				AnonymousID: anon,
				UserID:      user,
				Channel:     ch,
				SourceID:    genSources[(s+c)%len(genSources)],
				Timestamp:   time.UnixMilli(t).UTC(),
				ReceivedAt:  time.UnixMilli(t + r.Int64N(2000)).UTC(),
			}
			msg++
			switch r.IntN(20) {
			case 0:
				e.Type, e.Event, e.Name = event.Page, "", genPages[r.IntN(len(genPages))]
			case 1:
				e.Type, e.Event, e.Name = event.Screen, "", "Home"
			case 2:
				if user != "" {
					e.Type, e.Event = event.Identify, ""
					if !cfg.Lean {
						e.Traits = map[string]any{"email": user + "@example.com", "plan": "pro", "age": json.Number("41")}
					}
				}
			case 3:
				e.SentAt = e.ReceivedAt.Add(-time.Duration(r.IntN(3000)) * time.Millisecond)
				e.OriginalTimestamp = e.Timestamp.Add(-42 * time.Second)
			}
			if !cfg.Lean {
				e.Properties = genProperties(r, e.Event)
				e.Context = map[string]any{
					"library":   map[string]any{"name": "analytics.js", "version": "4.1.0"},
					"page":      map[string]any{"path": genPages[r.IntN(len(genPages))], "title": "Shop"},
					"userAgent": "Mozilla/5.0 (X11; Linux x86_64)",
					"os":        map[string]any{"name": []string{"ios", "android", "web"}[c%3]},
				}
			}
			recs = append(recs, Record{Key: key, Event: e})
		}
		fn(recs)
	}
}

// zipf picks an index in [0, n) with a skewed distribution, as event
// names are in real data.
func zipf(r *rand.Rand, n int) int {
	for {
		i := int(r.ExpFloat64() * float64(n) / 5)
		if i < n {
			return i
		}
	}
}

func genProperties(r *rand.Rand, name string) map[string]any {
	switch name {
	case "Product Viewed", "Product Added", "Product Removed", "Wishlist Added":
		return map[string]any{
			"product_id": fmt.Sprintf("sku-%d", r.IntN(500)),
			"price":      json.Number(fmt.Sprintf("%d.%02d", 5+r.IntN(200), r.IntN(100))),
			"quantity":   json.Number(fmt.Sprint(1 + r.IntN(3))),
			"in_stock":   r.IntN(10) > 0,
		}
	case "Order Completed":
		return map[string]any{
			"order_id": fmt.Sprintf("ord-%d", r.Uint32()),
			"revenue":  json.Number(fmt.Sprintf("%d.%02d", 20+r.IntN(500), r.IntN(100))),
			"currency": "EUR",
			"products": []any{
				map[string]any{"product_id": fmt.Sprintf("sku-%d", r.IntN(500)), "quantity": json.Number("1")},
			},
			"coupon": nil,
		}
	case "Products Searched":
		return map[string]any{"query": []string{"shoes", "red shoes", "giày", "παπούτσια", "buty"}[r.IntN(5)]}
	case "Survey Responded":
		return map[string]any{"score": json.Number(fmt.Sprint(r.IntN(5) - 2)), "step": "Checkout"}
	case "Call Started", "Call Ended":
		return map[string]any{"reason": "billing", "duration": json.Number(fmt.Sprint(r.IntN(900)))}
	}
	if r.IntN(3) == 0 {
		return nil
	}
	return map[string]any{"campaign": "spring", "ratio": json.Number("0.25")}
}

// genArrival returns the customers' events in arrival order: by receive
// time, as a live source would send them.
func genArrival(cfg genConfig) []Record {
	var all []Record
	genCustomers(cfg, func(recs []Record) { all = append(all, recs...) })
	slices.SortStableFunc(all, func(a, b Record) int { return a.Event.ReceivedAt.Compare(b.Event.ReceivedAt) })
	return all
}

// normalize gives an event the form the store returns: UTC times, maps
// as a JSON round trip with UseNumber gives them, no empty properties.
func normalize(e event.Event) event.Event {
	e.Seq = 0 // arrival order: the store sets it on read, tests check order directly
	e.Timestamp = e.Timestamp.UTC()
	e.OriginalTimestamp = e.OriginalTimestamp.UTC()
	e.SentAt = e.SentAt.UTC()
	e.ReceivedAt = e.ReceivedAt.UTC()
	e.Properties = jsonRoundTrip(e.Properties)
	if len(e.Properties) == 0 {
		e.Properties = nil
	}
	e.Traits = jsonRoundTrip(e.Traits)
	e.Context = jsonRoundTrip(e.Context)
	return e
}

func jsonRoundTrip(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	var out map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		panic(err)
	}
	return out
}

// keyed is an event with the key it is stored under.
type keyed struct {
	Key   uint64
	Event event.Event
}

// expected is what Journeys must give for records appended in the given
// order: by key, then time, then arrival.
func expected(recs []Record) []keyed {
	out := make([]keyed, len(recs))
	for i, r := range recs {
		out[i] = keyed{r.Key, normalize(r.Event)}
	}
	slices.SortStableFunc(out, func(a, b keyed) int {
		if a.Key != b.Key {
			if a.Key < b.Key {
				return -1
			}
			return 1
		}
		return a.Event.Timestamp.Compare(b.Event.Timestamp)
	})
	return out
}
