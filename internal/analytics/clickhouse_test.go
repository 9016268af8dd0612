package analytics

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/chtest"
	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/gen"
)

// The ClickHouse comparison feeds trek and ClickHouse the very same rows
// (customer, second, event, seq) and checks that trek's ordered funnel
// and ClickHouse's windowFunnel count the same customers at every level.
//
// Precision: Debian's ClickHouse (18.16) has DateTime in whole seconds
// and no DateTime64, so both sides get times truncated to the second.
// That makes equal timestamps common, and an ordered funnel's answer
// depends on the order of tied events (a step and the next one in the
// same second count only in that order). trek orders ties by arrival
// (Seq); windowFunnel sorts a customer's events stably by time, so ties
// keep the order the rows were read in. The rows are given seq as their
// position, the table is ordered by (c, t, seq) and merged into one part,
// and the comparison query reads it with one thread: ClickHouse then
// meets ties in seq order, the order trek uses, and ties are compared
// rather than avoided.

// chRows are customers' events as both sides see them, customer by
// customer, each customer's by (time, seq).
type chRows struct {
	names   []string // activity names by code
	offsets []int    // customer c (0-based) is [offsets[c], offsets[c+1])
	secs    []uint32 // Unix seconds
	acts    []uint16
}

func (r *chRows) customers() int { return len(r.offsets) - 1 }
func (r *chRows) events() int    { return len(r.secs) }

// customerID is the id both sides give customer c.
func customerID(c int) uint64 { return uint64(c) + 1 }

// generateRows generates cfg's events and keys each by its userId, else
// its anonymousId, without stitching: the generator's people become
// several customers (one per anonymous device never logged in on, one
// per loyalty card), which is what a warehouse table keyed that way
// holds. A key's events are put in time order, stably.
func generateRows(ctx context.Context, cfg gen.Config) (*chRows, error) {
	keys := map[string]uint32{}
	codes := map[string]uint16{}
	var names []string
	var custs, secs []uint32
	var acts []uint16
	_, err := gen.Generate(ctx, cfg, func(e event.Event) error {
		key := "u:" + e.UserID
		if e.UserID == "" {
			key = "a:" + e.AnonymousID
		}
		c, ok := keys[key]
		if !ok {
			c = uint32(len(keys))
			keys[key] = c
		}
		name := e.Activity()
		a, ok := codes[name]
		if !ok {
			if len(names) == 1<<16 {
				return fmt.Errorf("more than %d activity names", 1<<16)
			}
			a = uint16(len(names))
			codes[name] = a
			names = append(names, name)
		}
		sec := e.Timestamp.Unix()
		if sec <= 0 || sec > 1<<32-1 {
			return fmt.Errorf("event %s at %s is outside ClickHouse's DateTime", e.MessageID, e.Timestamp)
		}
		custs = append(custs, c)
		secs = append(secs, uint32(sec))
		acts = append(acts, a)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	// A counting sort by customer keeps each customer's events in the
	// order generated, then a stable sort by second puts them in
	// journey order.
	r := &chRows{names: names, offsets: make([]int, len(keys)+1), secs: make([]uint32, len(secs)), acts: make([]uint16, len(acts))}
	for _, c := range custs {
		r.offsets[c+1]++
	}
	for c := range len(keys) {
		r.offsets[c+1] += r.offsets[c]
	}
	next := slices.Clone(r.offsets[:len(keys)])
	for i, c := range custs {
		k := next[c]
		next[c]++
		r.secs[k], r.acts[k] = secs[i], acts[i]
	}
	custs, secs, acts = nil, nil, nil
	type ev struct {
		sec uint32
		act uint16
	}
	var buf []ev
	for c := range r.customers() {
		lo, hi := r.offsets[c], r.offsets[c+1]
		if slices.IsSorted(r.secs[lo:hi]) {
			continue
		}
		buf = buf[:0]
		for i := lo; i < hi; i++ {
			buf = append(buf, ev{r.secs[i], r.acts[i]})
		}
		slices.SortStableFunc(buf, func(a, b ev) int { return int(a.sec) - int(b.sec) })
		for i, e := range buf {
			r.secs[lo+i], r.acts[lo+i] = e.sec, e.act
		}
	}
	return r, nil
}

// index builds trek's Index from the rows; an event's Seq is its row
// position, the seq ClickHouse gets.
func (r *chRows) index(parts int) *Index {
	b := NewIndexBuilder(IndexOptions{Parts: parts})
	var evs []event.Event
	for c := range r.customers() {
		lo, hi := r.offsets[c], r.offsets[c+1]
		evs = evs[:0]
		for i := lo; i < hi; i++ {
			evs = append(evs, event.Event{Type: event.Track, Event: r.names[r.acts[i]], Timestamp: time.Unix(int64(r.secs[i]), 0).UTC(), Seq: uint64(i)})
		}
		b.Add(customerID(c), evs)
	}
	return b.Build()
}

// loadClickHouse creates table ev (c UInt64, t DateTime, e String, plus
// seq UInt64 when withSeq) ordered by (c, t[, seq]) and streams the rows
// into it in RowBinary.
func (r *chRows) loadClickHouse(ctx context.Context, s *chtest.Server, withSeq bool) error {
	cols, order := "c UInt64, t DateTime, e String", "c, t"
	if withSeq {
		cols, order = cols+", seq UInt64", order+", seq"
	}
	if err := s.Exec(ctx, "DROP TABLE IF EXISTS ev", "CREATE TABLE ev ("+cols+") ENGINE = MergeTree ORDER BY ("+order+")"); err != nil {
		return err
	}
	pr, pw := io.Pipe()
	go func() {
		var b chtest.RowBinary
		for c := range r.customers() {
			for i := r.offsets[c]; i < r.offsets[c+1]; i++ {
				b = b.UInt64(customerID(c)).UInt32(r.secs[i]).String(r.names[r.acts[i]])
				if withSeq {
					b = b.UInt64(uint64(i))
				}
			}
			if len(b) >= 1<<20 {
				if _, err := pw.Write(b); err != nil {
					return
				}
				b = b[:0]
			}
		}
		_, err := pw.Write(b)
		pw.CloseWithError(err)
	}()
	_, err := s.Query(ctx, "INSERT INTO ev FORMAT RowBinary", pr, map[string]string{"max_insert_block_size": "4194304"})
	pr.CloseWithError(err)
	if err != nil {
		return fmt.Errorf("load %d rows: %w", r.events(), err)
	}
	return nil
}

// windowFunnelSQL is q as a windowFunnel query over table ev giving the
// customers per level, 0 to k. The range bounds the first step inside
// its condition, not in WHERE: later steps may fall after To.
func windowFunnelSQL(q FunnelQuery) (string, error) {
	w, err := ParseWindow(q.Window)
	if err != nil {
		return "", err
	}
	var conds []string
	for s, m := range q.Steps {
		if m.Channel != "" || len(m.Where) > 0 {
			return "", fmt.Errorf("steps[%d]: only event names translate to ClickHouse here", s)
		}
		var quoted []string
		for _, n := range m.names() {
			quoted = append(quoted, sqlString(n))
		}
		cond := "e IN (" + strings.Join(quoted, ", ") + ")"
		if s == 0 && !q.From.IsZero() {
			cond += " AND t >= toDateTime(" + strconv.FormatInt(q.From.Unix(), 10) + ")"
		}
		if s == 0 && !q.To.IsZero() {
			cond += " AND t < toDateTime(" + strconv.FormatInt(q.To.Unix(), 10) + ")"
		}
		conds = append(conds, "("+cond+")")
	}
	return fmt.Sprintf("SELECT level, count() FROM (SELECT c, windowFunnel(%d)(t, %s) AS level FROM ev GROUP BY c) GROUP BY level ORDER BY level FORMAT TabSeparated",
		int64(w/time.Second), strings.Join(conds, ", ")), nil
}

func sqlString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// clickHouseFunnel runs q with windowFunnel and returns, like trek's
// steps, the customers who reached each step (level ≥ step).
func clickHouseFunnel(ctx context.Context, s *chtest.Server, q FunnelQuery, settings map[string]string) ([]int64, error) {
	sql, err := windowFunnelSQL(q)
	if err != nil {
		return nil, err
	}
	out, err := s.Query(ctx, sql, nil, settings)
	if err != nil {
		return nil, err
	}
	perLevel := make([]int64, len(q.Steps)+1)
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		level, count, ok := strings.Cut(line, "\t")
		l, err1 := strconv.Atoi(level)
		n, err2 := strconv.ParseInt(count, 10, 64)
		if !ok || err1 != nil || err2 != nil || l < 0 || l >= len(perLevel) {
			return nil, fmt.Errorf("windowFunnel answered %q, not a level and a count", line)
		}
		perLevel[l] = n
	}
	reached := make([]int64, len(q.Steps))
	var sum int64
	for l := len(q.Steps); l >= 1; l-- {
		sum += perLevel[l]
		reached[l-1] = sum
	}
	return reached, nil
}

// stepTies counts customers with two events in one second that match
// different steps of q (or the same step twice), the cases where the
// order of tied events decides the answer.
func (r *chRows) stepTies(q FunnelQuery) int {
	step := map[string]bool{}
	for _, m := range q.Steps {
		for _, n := range m.names() {
			step[n] = true
		}
	}
	n := 0
	for c := range r.customers() {
		for i := r.offsets[c] + 1; i < r.offsets[c+1]; i++ {
			if r.secs[i] == r.secs[i-1] && step[r.names[r.acts[i]]] && step[r.names[r.acts[i-1]]] {
				n++
				break
			}
		}
	}
	return n
}

// oneThread makes ClickHouse read the single merged part in table order,
// so that ties reach windowFunnel in seq order (see the top of the file).
var oneThread = map[string]string{"max_threads": "1"}

func TestFunnelAgreesWithClickHouseWindowFunnelOnGeneratedData(t *testing.T) {
	s := chtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rows, err := generateRows(ctx, gen.Config{Seed: 11, Customers: 3000, Effects: gen.Effects{CheckoutFailsOn: "android"}})
	if err != nil {
		t.Fatal(err)
	}
	ix := rows.index(2)
	if err := rows.loadClickHouse(ctx, s, true); err != nil {
		t.Fatal(err)
	}
	if err := s.Exec(ctx, "OPTIMIZE TABLE ev FINAL"); err != nil {
		t.Fatal(err)
	}
	if out, err := s.Query(ctx, "SELECT count(), uniqExact(c), (SELECT count() FROM system.parts WHERE active AND table = 'ev') FROM ev FORMAT TabSeparated", nil, nil); err != nil {
		t.Fatal(err)
	} else if want := fmt.Sprintf("%d\t%d\t1\n", rows.events(), rows.customers()); string(out) != want {
		t.Fatalf("ClickHouse holds (rows, customers, parts) %q; want %q", out, want)
	}
	t.Logf("%d events of %d customers", rows.events(), rows.customers())

	start := gen.DefaultStart
	day := 24 * time.Hour
	shop := []string{"Product Viewed", "Product Added", "Checkout Started", "Payment Info Entered", "Order Completed"}
	tests := []struct {
		name     string
		q        FunnelQuery
		wantTies bool // the data has same-second step events for this funnel
	}{
		{name: "two steps, one hour", q: FunnelQuery{Steps: steps(shop[:2]...), Window: "1h"}},
		{name: "three steps, one day", q: FunnelQuery{Steps: steps(shop[:3]...), Window: "1d"}},
		{name: "five steps, seven days", q: FunnelQuery{Steps: steps(shop...), Window: "7d"}},
		{name: "five steps, thirty minutes", q: FunnelQuery{Steps: steps(shop...), Window: "30m"}},
		{name: "four steps, one day, first step in days 20 to 50",
			q: FunnelQuery{Steps: steps(shop[1:]...), Window: "1d", From: start.Add(20 * day), To: start.Add(50 * day)}},
		{name: "checkout to order, one hour, range ending mid-period",
			q: FunnelQuery{Steps: steps("Checkout Started", "Payment Info Entered", "Order Completed"), Window: "1h", From: start.Add(30 * day), To: start.Add(31*day + 7*time.Hour)}},
		{name: "the same event twice, then another",
			q: FunnelQuery{Steps: steps("Product Viewed", "Product Viewed", "Product Added"), Window: "1d"}},
		{name: "page to cart across channels, one hour",
			q: FunnelQuery{Steps: steps("Page Viewed", "Product Viewed", "Product Added", "Cart Viewed"), Window: "1h", From: start.Add(10 * day), To: start.Add(80 * day)}, wantTies: true},
		{name: "a step of several events",
			q: FunnelQuery{Steps: []Matcher{{Event: "Ad Clicked", Events: []string{"Email Link Clicked"}}, {Event: "Signed Up", Events: []string{"Signed In"}}, {Event: "Order Completed"}}, Window: "7d"}},
		{name: "identify then sign-up in the same second", q: FunnelQuery{Steps: steps("Identify", "Signed Up"), Window: "1m"}, wantTies: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Funnel(ctx, ix, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			got := customersPerStep(res.Steps)
			want, err := clickHouseFunnel(ctx, s, tc.q, oneThread)
			if err != nil {
				t.Fatal(err)
			}
			if !equalInts(got, want) {
				t.Errorf("trek %v, ClickHouse windowFunnel %v", got, want)
			}
			if want[0] == 0 || want[len(want)-1] == 0 {
				t.Errorf("ClickHouse gives %v: the funnel checks nothing unless someone reaches its last step", want)
			}
			ties := rows.stepTies(tc.q)
			if tc.wantTies && ties == 0 {
				t.Errorf("no customer has step events in the same second; the case no longer tests ties")
			}
			t.Logf("trek %v = ClickHouse; %d customers with same-second step events", got, ties)
		})
	}
}

// TestFunnelAgreesWithClickHouseOnEdgeCases runs hand-made journeys on
// both sides; each case has its hand-computed level too.
func TestFunnelAgreesWithClickHouseOnEdgeCases(t *testing.T) {
	s := chtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := uint32(time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC).Unix())
	at := func(sec uint32) time.Time { return time.Unix(int64(base+sec), 0).UTC() }
	type row struct {
		sec uint32
		act string
	}
	tests := []struct {
		name  string
		steps []string
		win   string
		from  time.Time
		to    time.Time
		rows  []row // in arrival order
		level int
	}{
		{"tie, steps in order", []string{"A", "B"}, "1h", time.Time{}, time.Time{}, []row{{0, "A"}, {0, "B"}}, 2},
		{"tie, steps reversed", []string{"A", "B"}, "1h", time.Time{}, time.Time{}, []row{{0, "B"}, {0, "A"}}, 1},
		{"last step exactly at the window", []string{"A", "B"}, "10s", time.Time{}, time.Time{}, []row{{0, "A"}, {10, "B"}}, 2},
		{"last step a second past the window", []string{"A", "B"}, "10s", time.Time{}, time.Time{}, []row{{0, "A"}, {11, "B"}}, 1},
		{"a later start rescues the attempt", []string{"A", "B"}, "10s", time.Time{}, time.Time{}, []row{{0, "A"}, {5, "A"}, {14, "B"}}, 2},
		{"one event fills one step", []string{"A", "A"}, "1h", time.Time{}, time.Time{}, []row{{0, "A"}}, 1},
		{"a repeated event fills two steps", []string{"A", "A"}, "1h", time.Time{}, time.Time{}, []row{{0, "A"}, {0, "A"}}, 2},
		{"window counts from the first step, not the previous", []string{"A", "B", "C"}, "10s", time.Time{}, time.Time{}, []row{{0, "A"}, {9, "B"}, {12, "C"}}, 2},
		{"steps out of order count only in order", []string{"A", "B", "C"}, "1h", time.Time{}, time.Time{}, []row{{0, "B"}, {1, "A"}, {2, "C"}, {3, "B"}}, 2},
		{"first step before the range", []string{"A", "B"}, "1h", at(100), at(200), []row{{50, "A"}, {150, "B"}}, 0},
		{"first step in the range, the next after it", []string{"A", "B"}, "1h", at(100), at(200), []row{{150, "A"}, {300, "B"}}, 2},
		{"first step at the range's end is outside", []string{"A", "B"}, "1h", at(100), at(200), []row{{200, "A"}, {201, "B"}}, 0},
		{"an early start outside the range, a later one inside", []string{"A", "B", "C"}, "1h", at(100), at(200), []row{{90, "A"}, {110, "B"}, {120, "A"}, {130, "B"}, {140, "C"}}, 3},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &chRows{offsets: []int{0, len(tc.rows)}}
			codes := map[string]uint16{}
			for _, x := range tc.rows {
				if _, ok := codes[x.act]; !ok {
					codes[x.act] = uint16(len(r.names))
					r.names = append(r.names, x.act)
				}
				r.secs = append(r.secs, base+x.sec)
				r.acts = append(r.acts, codes[x.act])
			}
			for _, n := range tc.steps {
				if _, ok := codes[n]; !ok {
					t.Fatalf("step %q has no event; every step must be known to trek", n)
				}
			}
			if err := r.loadClickHouse(ctx, s, true); err != nil {
				t.Fatal(err)
			}
			q := FunnelQuery{Steps: steps(tc.steps...), Window: tc.win, From: tc.from, To: tc.to}
			res, err := Funnel(ctx, r.index(1), q)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]int64, len(tc.steps))
			for l := range tc.level {
				want[l] = 1
			}
			ch, err := clickHouseFunnel(ctx, s, q, oneThread)
			if err != nil {
				t.Fatal(err)
			}
			if got := customersPerStep(res.Steps); !equalInts(got, want) || !equalInts(ch, want) {
				t.Errorf("case %d: trek %v, ClickHouse %v, by hand %v", i, got, ch, want)
			}
		})
	}
}
