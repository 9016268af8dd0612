package journeys_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/analytics"
	"github.com/trekhq/trek/internal/journeys"
)

// clock is a settable clock for the staleness policy.
type clock struct{ now atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.now.Load()) }
func (c *clock) advance(d time.Duration) { c.now.Add(int64(d)) }

func newClock() *clock {
	c := &clock{}
	c.now.Store(t0.UnixNano())
	return c
}

func get(t *testing.T, c *journeys.Cache) (*analytics.Index, time.Time) {
	t.Helper()
	ix, at, err := c.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ix, at
}

func hasCustomer(t *testing.T, ix *analytics.Index, customer uint64) bool {
	t.Helper()
	return collectScan(t, ix, analytics.Need{})[customer].customer == customer
}

// TestCacheServesTheIndexWhileNothingChanges.
func TestCacheServesTheIndexWhileNothingChanges(t *testing.T) {
	clk := newClock()
	f := newFixture(t, fixtureOptions{journeys: journeys.CacheOptions{Staleness: time.Minute, Now: clk.Now}})
	f.send(ev{who: "u:ana", name: "Signed In", at: 1})
	c := f.cache()
	ix, at := get(t, c)
	if !at.Equal(clk.Now()) || ix.Customers() != 1 {
		t.Fatalf("first Get: %d customers at %v", ix.Customers(), at)
	}
	clk.advance(time.Hour) // age alone does not matter
	for range 3 {
		if again, _ := get(t, c); again != ix {
			t.Fatal("an unchanged store got a new index")
		}
	}
	if n := c.Builds(); n != 1 {
		t.Fatalf("%d builds, want 1", n)
	}
}

// TestCacheWithoutStalenessReflectsEveryChange: staleness 0 waits for a
// rebuild after appends and merges.
func TestCacheWithoutStalenessReflectsEveryChange(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.send(ev{who: "u:ana", name: "Signed In", at: 1}, ev{who: "a:dev-1", name: "Product Viewed", at: 0})
	c := f.cache()
	ix, _ := get(t, c)
	if ix.Customers() != 2 || ix.Events() != 2 {
		t.Fatalf("index has %d customers, %d events", ix.Customers(), ix.Events())
	}
	f.send(ev{who: "u:ana", name: "Order Completed", at: 2})
	ix, _ = get(t, c)
	if ix.Events() != 3 {
		t.Fatalf("after an append: %d events, want 3", ix.Events())
	}
	f.alias("dev-1", "ana", 3)
	ix, _ = get(t, c)
	if ix.Customers() != 1 || ix.Events() != 4 {
		t.Fatalf("after a merge: %d customers, %d events; want 1, 4", ix.Customers(), ix.Events())
	}
}

// TestCacheServesAStaleIndexWhileItRebuilds: within the staleness the old
// index is served at once and one rebuild runs; past it, Get waits.
func TestCacheServesAStaleIndexWhileItRebuilds(t *testing.T) {
	clk := newClock()
	f := newFixture(t, fixtureOptions{journeys: journeys.CacheOptions{Staleness: time.Minute, Now: clk.Now}})
	f.send(ev{who: "u:ana", name: "Signed In", at: 1})
	c := f.cache()
	old, builtAt := get(t, c)

	clk.advance(30 * time.Second)
	f.send(ev{who: "u:bob", name: "Signed In", at: 2})
	ix, at := get(t, c)
	if ix != old || !at.Equal(builtAt) {
		t.Fatal("a change within the staleness did not serve the current index")
	}
	// The background rebuild lands; then the new index is served.
	deadline := time.Now().Add(10 * time.Second)
	for ix == old {
		if time.Now().After(deadline) {
			t.Fatal("the background rebuild never landed")
		}
		time.Sleep(5 * time.Millisecond)
		ix, at = get(t, c)
	}
	if ix.Customers() != 2 || !at.Equal(clk.Now()) {
		t.Fatalf("rebuilt index: %d customers at %v", ix.Customers(), at)
	}
	if n := c.Builds(); n != 2 {
		t.Fatalf("%d builds, want 2: one background rebuild for several stale Gets", n)
	}

	// Past the staleness a change is waited for.
	clk.advance(2 * time.Minute)
	f.send(ev{who: "u:cy", name: "Signed In", at: 3})
	ix, _ = get(t, c)
	if ix.Customers() != 3 {
		t.Fatalf("index older than the staleness served: %d customers", ix.Customers())
	}
}

// TestCacheNeverServesAnErasedCustomer: whatever the staleness, the Get
// after an erasure waits for an index without the customer.
func TestCacheNeverServesAnErasedCustomer(t *testing.T) {
	clk := newClock()
	f := newFixture(t, fixtureOptions{journeys: journeys.CacheOptions{Staleness: time.Hour, Now: clk.Now, KeepTraits: true}})
	f.send(ev{who: "u:eve", at: 1, traits: map[string]any{"email": "eve@example.com"}},
		ev{who: "u:eve", name: "Signed In", at: 2}, ev{who: "u:fay", name: "Signed In", at: 3})
	eve := f.customer("u:eve")
	c := f.cache()
	ix, _ := get(t, c)
	if !hasCustomer(t, ix, eve) || !ix.HasTraits() {
		t.Fatal("eve missing before the erasure")
	}
	if _, err := f.pipe.Erase(context.Background(), f.ws, "eve", "test"); err != nil {
		t.Fatal(err)
	}
	ix, _ = get(t, c)
	if hasCustomer(t, ix, eve) || ix.Customers() != 1 {
		t.Fatalf("after the erasure the index has %d customers, eve among them: %v", ix.Customers(), hasCustomer(t, ix, eve))
	}
}

// TestCacheConcurrentGetsShareOneBuild.
func TestCacheConcurrentGetsShareOneBuild(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.generate(9, 200, 0)
	c := f.cache()
	for round, want := range []int{1, 2} {
		if round == 1 {
			f.send(ev{who: "u:new", name: "Signed In", at: 1})
		}
		const callers = 8
		var wg sync.WaitGroup
		start := make(chan struct{})
		got := make([]*analytics.Index, callers)
		for i := range callers {
			wg.Go(func() {
				<-start
				ix, _, err := c.Get(context.Background())
				if err != nil {
					t.Error(err)
				}
				got[i] = ix
			})
		}
		close(start)
		wg.Wait()
		for i := range got {
			if got[i] != got[0] {
				t.Fatalf("round %d: callers got different indexes", round)
			}
		}
		if n := c.Builds(); n != want {
			t.Fatalf("round %d: %d builds, want %d", round, n, want)
		}
	}
}

// TestCacheGetHonoursItsContext: a caller that stops waiting gets its
// context's error; the build goes on for the others.
func TestCacheGetHonoursItsContext(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.send(ev{who: "u:ana", name: "Signed In", at: 1})
	c := f.cache()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := c.Get(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get with a cancelled context: %v", err)
	}
	ix, _ := get(t, c)
	if ix.Customers() != 1 || c.Builds() != 1 {
		t.Fatalf("%d customers after %d builds; want the abandoned caller's build, shared", ix.Customers(), c.Builds())
	}
	c.Close()
	if _, _, err := c.Get(context.Background()); err == nil {
		t.Fatal("Get after Close succeeded")
	}
}

// TestCacheKeepsTheEventsOfASmallWorkspace: up to FullUpTo events the
// Index answers queries on properties itself; past it, it is compact.
func TestCacheKeepsTheEventsOfASmallWorkspace(t *testing.T) {
	for _, tc := range []struct {
		fullUpTo int64
		want     bool
	}{{0, false}, {2, false}, {3, true}, {100, true}} {
		f := newFixture(t, fixtureOptions{journeys: journeys.CacheOptions{FullUpTo: tc.fullUpTo}})
		f.send(ev{who: "u:ana", name: "Signed In", at: 1}, ev{who: "u:ana", name: "Order Completed", at: 2}, ev{who: "u:bo", name: "Signed In", at: 3})
		ix, _ := get(t, f.cache())
		if got := ix.HasEvents() && ix.HasTraits(); got != tc.want {
			t.Errorf("FullUpTo %d with 3 events: index keeps events %v, want %v", tc.fullUpTo, got, tc.want)
		}
		if tc.want {
			if err := ix.Scan(context.Background(), analytics.Need{Events: true}, func(int, *analytics.Journey) error { return nil }); err != nil {
				t.Errorf("scan for events: %v", err)
			}
		}
	}
}
