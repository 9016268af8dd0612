package identity_test

import (
	"slices"
	"testing"
)

func TestCustomerTableMapsEveryKeyToItsCustomerNow(t *testing.T) {
	g := newGraph(t, 0)
	a1, _ := g.Observe(idents("a:dev-1"), cause(1, "page"))                      // node 1
	u1, _ := g.Observe(idents("u:ana a:dev-1 e:ana@x.io"), cause(2, "identify")) // nodes 2, 3 join 1
	b1, _ := g.Observe(idents("a:dev-2"), cause(3, "page"))                      // node 4
	u2, _ := g.Observe(idents("u:bob"), cause(4, "track"))                       // node 5
	c1, _ := g.Observe(idents("a:dev-3"), cause(5, "page"))                      // node 6, erased below
	g.Alias(ident("?:dev-2"), ident("u:bob"), cause(6, "alias"))                 // 4 and 5 join
	g.Erase(c1)

	got := g.CustomerTable(nil)
	want := []uint32{0, 1, 1, 1, 4, 4, 0}
	if !slices.Equal(got, want) {
		t.Fatalf("table %v, want %v", got, want)
	}
	for _, k := range []uint64{a1, u1, b1, u2, c1} {
		if uint64(got[k]) != g.Customer(k) {
			t.Errorf("key %d: table says %d, Customer says %d", k, got[k], g.Customer(k))
		}
	}
	// A second call reuses the buffer and sees later changes.
	g.Observe(idents("u:cy"), cause(7, "track"))
	again := g.CustomerTable(got)
	if len(again) != 8 || again[7] != 7 {
		t.Fatalf("after a new node: %v", again)
	}
}
