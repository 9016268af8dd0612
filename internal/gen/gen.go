// Package gen is trek's seeded generator of synthetic omnichannel journeys,
// for demos, tests and benchmarks. People arrive through ads, social, email,
// search and referrals, browse anonymously on several devices, sign up,
// buy online and in stores, call the call centre, chat, return things,
// review, refer friends, answer surveys and churn; effects can be planted
// (a checkout that fails on one platform, a channel that converts better, a
// loop of calls before churn) and the Truth says what each one should look
// like when measured, so that tests can check that trek's analytics find
// what was planted.
//
// Generation is a pure function of the Config: the same Config gives the
// same events byte for byte, whatever the machine's core count. It streams
// one person at a time, so memory does not grow with the number of
// customers. Events come out person by person, each person's in time order;
// across persons they are not globally time-sorted.
package gen

import (
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
)

// Defaults for the zero values of Config.
var DefaultStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	DefaultDays      = 90
	DefaultCustomers = 1000
	// DefaultSkewedDevices is the share of client devices whose clock is
	// off when Config.SkewedDevices is zero.
	DefaultSkewedDevices = 0.05
	// MaxCustomers bounds Config.Customers (and what Config.Events asks
	// for). 100 million events are about 4 million people; up to this
	// bound every generated email address and phone number is unique.
	MaxCustomers = 100_000_000
)

// Config says what to generate. The zero value of every field but Seed
// means its default.
type Config struct {
	Seed int64
	// Customers is the number of people. When zero, Events decides it;
	// when both are zero, DefaultCustomers.
	Customers int
	// Events is an approximate target for the number of events, used
	// when Customers is zero: the people needed are estimated from a
	// sample of the same configuration, so the result lands within a few
	// per cent of it.
	Events int
	// Start is the beginning of the period (DefaultStart when zero); Days
	// its length (DefaultDays when zero). Every valid event's time lies in
	// [Start, Start+Days).
	Start   time.Time
	Days    int
	Effects Effects
	// DuplicateRate is the share of valid events sent a second time with
	// the same messageId, as a client retrying after a lost answer does.
	DuplicateRate float64
	// InvalidRate is the share of valid events followed by an invalid
	// one (no identifier, no event name, or a timestamp decades in the
	// future).
	InvalidRate float64
	// SkewedDevices is the share of browsers and phones whose clock is
	// wrong by a minute to a few hours; their events carry a skewed
	// timestamp and sentAt. 0 means DefaultSkewedDevices; negative, none.
	SkewedDevices float64
	// OmitSentAt leaves sentAt and receivedAt out of the output and writes
	// every timestamp already corrected, for consumers that would apply
	// skew correction against their own clock (an importer that takes
	// receivedAt as the time of import).
	OmitSentAt bool
	// Workers is how many goroutines generate; 0 means GOMAXPROCS. It
	// changes the speed, never the output.
	Workers int
	// Progress, when set, is called after each batch of customers is
	// written or emitted, with the customers and lines done so far and
	// the customers in all, from the goroutine that called Generate or
	// WriteNDJSON: enough for a progress line.
	Progress func(customersDone, linesDone, customers int64)
}

// Effects are the planted effects, each switched on on its own.
type Effects struct {
	// CheckoutFailsOn is a platform ("web", "ios" or "android") on which
	// the payment step of checkout mostly fails: far fewer "Checkout
	// Started" lead to "Order Completed" there.
	CheckoutFailsOn string `json:"checkoutFailsOn,omitempty"`
	// BetterChannel is an acquisition channel ("ads", "social", "email",
	// "search" or "referral") whose people buy much more often.
	BetterChannel string `json:"betterChannel,omitempty"`
	// CallLoopBeforeChurn gives most customers who cancel a loop of three
	// to five call-centre calls in the fourteen days before they do.
	CallLoopBeforeChurn bool `json:"callLoopBeforeChurn,omitempty"`
}

// String renders the effects in the form ParseEffects reads.
func (e Effects) String() string {
	var parts []string
	if e.CheckoutFailsOn != "" {
		parts = append(parts, "checkout-fails-on="+e.CheckoutFailsOn)
	}
	if e.BetterChannel != "" {
		parts = append(parts, "better-channel="+e.BetterChannel)
	}
	if e.CallLoopBeforeChurn {
		parts = append(parts, "call-loop")
	}
	return strings.Join(parts, ",")
}

// ParseEffects reads the --effects flag of trek gen: a comma-separated list
// of checkout-fails-on=PLATFORM, better-channel=CHANNEL and call-loop
// (also call-loop=true|false). The empty string is no effect; "none" too.
func ParseEffects(s string) (Effects, error) {
	var e Effects
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return e, nil
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		key, val, hasVal := strings.Cut(part, "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if seen[key] {
			return Effects{}, fault.New(fault.Invalid, "effects: %q given twice", key)
		}
		seen[key] = true
		switch key {
		case "checkout-fails-on":
			if !slices.Contains(platformNames[:], val) {
				return Effects{}, fault.New(fault.Invalid, "effects: checkout-fails-on=%q: want one of %s", val, strings.Join(platformNames[:], ", "))
			}
			e.CheckoutFailsOn = val
		case "better-channel":
			if !slices.Contains(acqNames[:acqDirect], val) {
				return Effects{}, fault.New(fault.Invalid, "effects: better-channel=%q: want one of %s", val, strings.Join(acqNames[:acqDirect], ", "))
			}
			e.BetterChannel = val
		case "call-loop":
			switch {
			case !hasVal || val == "true":
				e.CallLoopBeforeChurn = true
			case val == "false":
			default:
				return Effects{}, fault.New(fault.Invalid, "effects: call-loop=%q: want true or false", val)
			}
		default:
			return Effects{}, fault.New(fault.Invalid, "effects: unknown effect %q: want checkout-fails-on=PLATFORM, better-channel=CHANNEL or call-loop", key)
		}
	}
	return e, nil
}

// plan is a Config resolved: defaults filled, names turned into indexes,
// times in milliseconds.
type plan struct {
	seed        int64
	persons     int64
	start, end  int64
	days        int
	effects     Effects
	failOn      int8 // platform, -1 for none
	better      int8 // acquisition channel, -1 for none
	callLoop    bool
	dupRate     float64
	invalidRate float64
	skewShare   float64
	omitSentAt  bool
	workers     int
	progress    func(customersDone, linesDone, customers int64)
}

func (c Config) plan() (*plan, error) {
	var errs []fault.FieldError
	bad := func(path, format string, args ...any) {
		errs = append(errs, fault.FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	if c.Customers < 0 || c.Customers > MaxCustomers {
		bad("customers", "must be between 0 and %d", MaxCustomers)
	}
	if c.Events < 0 {
		bad("events", "must not be negative")
	}
	if c.Days < 0 || c.Days > 36600 {
		bad("days", "must be between 1 and 36600 (0 for the default)")
	}
	for _, r := range []struct {
		path string
		v    float64
	}{{"duplicateRate", c.DuplicateRate}, {"invalidRate", c.InvalidRate}} {
		if !(r.v >= 0 && r.v <= 0.5) {
			bad(r.path, "must be between 0 and 0.5")
		}
	}
	if !(c.SkewedDevices <= 1) { // NaN too
		bad("skewedDevices", "must be at most 1")
	}
	if c.Workers < 0 {
		bad("workers", "must not be negative")
	}
	p := &plan{seed: c.Seed, effects: c.Effects, failOn: -1, better: -1, callLoop: c.Effects.CallLoopBeforeChurn,
		dupRate: c.DuplicateRate, invalidRate: c.InvalidRate, omitSentAt: c.OmitSentAt, progress: c.Progress}
	if f := c.Effects.CheckoutFailsOn; f != "" {
		if i := slices.Index(platformNames[:], f); i >= 0 {
			p.failOn = int8(i)
		} else {
			bad("effects.checkoutFailsOn", "%q is not a platform (web, ios, android)", f)
		}
	}
	if b := c.Effects.BetterChannel; b != "" {
		if i := slices.Index(acqNames[:acqDirect], b); i >= 0 {
			p.better = int8(i)
		} else {
			bad("effects.betterChannel", "%q is not an acquisition channel (ads, social, email, search, referral)", b)
		}
	}
	if len(errs) > 0 {
		return nil, fault.Fields("invalid generator configuration", errs)
	}
	start := c.Start
	if start.IsZero() {
		start = DefaultStart
	}
	p.days = c.Days
	if p.days == 0 {
		p.days = DefaultDays
	}
	p.start = start.UnixMilli()
	p.end = p.start + int64(p.days)*day
	switch {
	case c.SkewedDevices == 0:
		p.skewShare = DefaultSkewedDevices
	case c.SkewedDevices > 0:
		p.skewShare = c.SkewedDevices
	}
	p.workers = c.Workers
	if p.workers == 0 {
		p.workers = runtime.GOMAXPROCS(0)
	}
	switch {
	case c.Customers > 0:
		p.persons = int64(c.Customers)
	case c.Events > 0:
		p.persons = p.personsFor(int64(c.Events))
	default:
		p.persons = DefaultCustomers
	}
	return p, nil
}

// personsFor estimates how many people make about n events, from the mean
// of a sample of this very configuration, so the estimate follows Days and
// the noise rates.
func (p *plan) personsFor(n int64) int64 {
	const sample = 400
	g := newWorker(p)
	lines := int64(0)
	for i := int64(0); i < sample; i++ {
		g.person(i)
		lines += int64(len(g.out))
	}
	perPerson := float64(lines) / sample
	k := int64(math.Round(float64(n) / perPerson))
	return min(max(k, 1), MaxCustomers)
}

// Generate generates the journeys cfg describes and calls emit with each
// event, person by person and each person's events in time order. The
// events are in their normalised form, as trek's collection pipeline would
// store them: Timestamp is the corrected event time, OriginalTimestamp and
// SentAt what the client sent, SourceID one of Sources(). Numbers in
// properties are int64 (counts, ids, ratings, durations) or float64
// (money); product lists are []any of map[string]any. Duplicates and
// invalid events, when asked for, are emitted as the sender would send
// them. Generate stops at the first error from emit or ctx and returns it.
func Generate(ctx context.Context, cfg Config, emit func(e event.Event) error) (Truth, error) {
	p, err := cfg.plan()
	if err != nil {
		return Truth{}, err
	}
	return run(ctx, p, (*worker).appendEvents, func(c *chunk) error {
		for i := range c.events {
			if err := emit(c.events[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// WriteNDJSON generates the journeys cfg describes and writes them to w as
// newline-delimited JSON, one Segment Spec call per line in the raw form a
// client library sends (type, messageId, timestamp, sentAt, identifiers,
// properties or traits, context), with the receivedAt the collector
// stamped, as Segment's own archives carry it. This is the shape trek's
// collection API and its NDJSON importer accept.
func WriteNDJSON(ctx context.Context, cfg Config, w io.Writer) (Truth, error) {
	p, err := cfg.plan()
	if err != nil {
		return Truth{}, err
	}
	return run(ctx, p, (*worker).appendNDJSON, func(c *chunk) error {
		if _, err := w.Write(c.buf); err != nil {
			return fmt.Errorf("write generated events: %w", err)
		}
		return nil
	})
}
