package identity_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/trekhq/trek/internal/identity"
)

// op is one call on a graph in a generated workload.
type op struct {
	verb  byte // 'o' observe, 'a' alias, 'e' erase
	ids   []identity.Identifier
	cause identity.Cause
}

// randomOps makes a workload over a small universe of identifiers, so that
// identifiers meet often: merges, refusals of both kinds, the cap, aliases
// and erasures all happen many times.
func randomOps(seed uint64, n, universe int) []op {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	kinds := []string{identity.KindUserID, identity.KindAnonymousID, identity.KindAnonymousID,
		identity.KindAnonymousID, identity.KindEmail, identity.KindPhone, "crm_id", "loyalty_no"}
	rid := func() identity.Identifier {
		k := kinds[r.IntN(len(kinds))]
		return identity.Identifier{Kind: k, Value: fmt.Sprintf("%s-%d", k[:1], r.IntN(universe))}
	}
	ops := make([]op, 0, n)
	for i := range n {
		o := op{cause: cause(i, "track")}
		switch x := r.IntN(100); {
		case x < 3:
			o.verb = 'e'
			o.ids = []identity.Identifier{rid()}
		case x < 12:
			o.verb = 'a'
			prev := rid()
			if r.IntN(3) == 0 {
				prev.Kind = ""
			}
			o.ids = []identity.Identifier{prev, {Kind: identity.KindUserID, Value: fmt.Sprintf("u-%d", r.IntN(universe))}}
			o.cause.Type = "alias"
		default:
			o.verb = 'o'
			for range 1 + r.IntN(4) {
				o.ids = append(o.ids, rid())
			}
			o.cause.Type = "identify"
		}
		ops = append(ops, o)
	}
	return ops
}

func (o op) do(g *identity.Graph) {
	switch o.verb {
	case 'o':
		g.Observe(o.ids, o.cause)
	case 'a':
		g.Alias(o.ids[0], o.ids[1], o.cause)
	case 'e':
		if c, ok := g.Lookup(o.ids[0]); ok {
			g.Erase(c)
		}
	}
}

func snapshot(t testing.TB, g *identity.Graph) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := g.Snapshot(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func load(t testing.TB, b []byte, maxAnon int) *identity.Graph {
	t.Helper()
	g, err := identity.Load(bytes.NewReader(b), identity.Config{Secret: testSecret, MaxAnonymousIDs: maxAnon})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// sameGraph compares two graphs through everything they answer: their
// snapshots (every node, root, merge log, count and suppressed hash) and
// their queries key by key.
func sameGraph(t testing.TB, want, got *identity.Graph) {
	t.Helper()
	if err := got.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
	if ws, gs := want.Stats(), got.Stats(); ws != gs {
		t.Fatalf("stats differ: want %+v, got %+v", ws, gs)
	}
	if !bytes.Equal(snapshot(t, want), snapshot(t, got)) {
		t.Fatal("snapshots differ")
	}
	for k := uint64(0); k <= uint64(want.Stats().Seq)+1; k++ {
		if want.Customer(k) != got.Customer(k) {
			t.Fatalf("key %d: customer %d, want %d", k, got.Customer(k), want.Customer(k))
		}
		if !slices.Equal(want.MergeLog(k), got.MergeLog(k)) {
			t.Fatalf("key %d: merge logs differ:\n%+v\n%+v", k, got.MergeLog(k), want.MergeLog(k))
		}
		if !slices.Equal(want.Members(k), got.Members(k)) {
			t.Fatalf("key %d: members differ", k)
		}
	}
}

func TestReplayOfSnapshotAndChangesRebuildsTheGraph(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			ops := randomOps(seed, 3000, 60)
			live := newGraph(t, 3)
			var logged [][]byte
			var snap []byte
			for i, o := range ops {
				o.do(live)
				if i%7 == 6 {
					logged = append(logged, identity.EncodeChanges(live.TakeChanges()))
				}
				if i == len(ops)/2 {
					// Taken while changes are pending: they are in the
					// snapshot and in the log, and replay must skip them.
					snap = snapshot(t, live)
				}
			}
			logged = append(logged, identity.EncodeChanges(live.TakeChanges()))
			st := live.Stats()
			if st.Merges == 0 || st.Refused == 0 || st.Erased == 0 {
				t.Fatalf("workload too tame: %+v", st)
			}
			if err := live.CheckInvariants(); err != nil {
				t.Fatal(err)
			}

			replay := func(g *identity.Graph) {
				for _, b := range logged {
					cs, err := identity.DecodeChanges(b)
					if err != nil {
						t.Fatal(err)
					}
					if err := g.Apply(cs); err != nil {
						t.Fatal(err)
					}
				}
			}
			t.Run("from empty", func(t *testing.T) {
				// Another cap: changes record effects, not requests, so
				// the rules of the day of replay do not matter.
				g := newGraph(t, 100)
				replay(g)
				sameGraph(t, live, g)
			})
			t.Run("from snapshot", func(t *testing.T) {
				g := load(t, snap, 3)
				replay(g)
				sameGraph(t, live, g)
			})
			t.Run("snapshot of the end", func(t *testing.T) {
				sameGraph(t, live, load(t, snapshot(t, live), 3))
			})
			t.Run("the rebuilt graph goes on like the live one", func(t *testing.T) {
				g := load(t, snap, 3)
				replay(g)
				more := randomOps(seed+100, 500, 60)
				for _, o := range more {
					o.do(live)
					o.do(g)
				}
				sameGraph(t, live, g)
				if !reflect.DeepEqual(live.TakeChanges(), g.TakeChanges()) {
					t.Error("the two graphs logged different changes")
				}
			})
		})
	}
}

func TestApplySkipsChangesItHasAndRefusesImpossibleOnes(t *testing.T) {
	base := func(t *testing.T) (*identity.Graph, []identity.Change) {
		live := newGraph(t, 0)
		live.Observe(idents("u:alice a:d1"), cause(1, "identify"))
		live.Observe(idents("u:bob a:d1"), cause(2, "identify"))
		live.Observe(idents("a:d2"), cause(3, "page"))
		return live, live.TakeChanges()
	}
	// The base history: change 1 makes node 1 (alice), 2 node 2 (d1),
	// 3 merges them, 4 makes node 3 (bob), 5 refuses bob/alice, 6 makes
	// node 4 (d2).
	tests := []struct {
		name   string
		change identity.Change
	}{
		{"a gap in the sequence", identity.Change{Seq: 8, Op: identity.OpNode, Node: 5, ID: ident("a:x")}},
		{"a node that is not the next", identity.Change{Seq: 7, Op: identity.OpNode, Node: 9, ID: ident("a:x")}},
		{"a node for a known identifier", identity.Change{Seq: 7, Op: identity.OpNode, Node: 5, ID: ident("u:bob")}},
		{"a node without a value", identity.Change{Seq: 7, Op: identity.OpNode, Node: 5, ID: ident("u:")}},
		{"a merge of nodes that are not customers", identity.Change{Seq: 7, Op: identity.OpMerge,
			Merge: identity.Merge{Into: 2, From: 4, Via: [2]uint64{2, 4}, Reason: identity.ReasonEvent}}},
		{"a merge of a customer with itself", identity.Change{Seq: 7, Op: identity.OpMerge,
			Merge: identity.Merge{Into: 1, From: 1, Via: [2]uint64{1, 2}, Reason: identity.ReasonEvent}}},
		{"a merge via nodes of other customers", identity.Change{Seq: 7, Op: identity.OpMerge,
			Merge: identity.Merge{Into: 3, From: 4, Via: [2]uint64{1, 4}, Reason: identity.ReasonEvent}}},
		{"a merge into the younger customer", identity.Change{Seq: 7, Op: identity.OpMerge,
			Merge: identity.Merge{Into: 4, From: 3, Via: [2]uint64{4, 3}, Reason: identity.ReasonEvent}}},
		{"a merge without a reason", identity.Change{Seq: 7, Op: identity.OpMerge,
			Merge: identity.Merge{Into: 3, From: 4, Via: [2]uint64{3, 4}}}},
		{"a refusal logged twice", identity.Change{Seq: 7, Op: identity.OpMerge,
			Merge: identity.Merge{Into: 3, From: 1, Via: [2]uint64{3, 2}, Reason: identity.ReasonSharedDevice, Refused: true}}},
		{"a merge via an unknown node", identity.Change{Seq: 7, Op: identity.OpMerge,
			Merge: identity.Merge{Into: 3, From: 4, Via: [2]uint64{3, 60}, Reason: identity.ReasonEvent}}},
		{"an erasure of a node that is not a customer", identity.Change{Seq: 7, Op: identity.OpErase, Node: 2}},
		{"an unknown operation", identity.Change{Seq: 7, Op: 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, history := base(t)
			g := newGraph(t, 0)
			if err := g.Apply(history); err != nil {
				t.Fatal(err)
			}
			err := g.Apply([]identity.Change{tt.change})
			if !errors.Is(err, identity.ErrCorrupt) {
				t.Fatalf("Apply = %v, want an error wrapping ErrCorrupt", err)
			}
			if g.Stats().Seq != 6 {
				t.Errorf("the graph moved to change %d", g.Stats().Seq)
			}
			if err := g.CheckInvariants(); err != nil {
				t.Error(err)
			}
		})
	}

	t.Run("changes the graph has are skipped", func(t *testing.T) {
		live, history := base(t)
		g := newGraph(t, 0)
		for range 3 {
			if err := g.Apply(history); err != nil {
				t.Fatal(err)
			}
		}
		if err := g.Apply(history[2:4]); err != nil {
			t.Fatal(err)
		}
		sameGraph(t, live, g)
	})
	t.Run("a node for a suppressed identifier", func(t *testing.T) {
		live, history := base(t)
		live.Erase(1)
		history = append(history, live.TakeChanges()...)
		g := newGraph(t, 0)
		if err := g.Apply(history); err != nil {
			t.Fatal(err)
		}
		err := g.Apply([]identity.Change{{Seq: 8, Op: identity.OpNode, Node: 5, ID: ident("a:d1")}})
		if !errors.Is(err, identity.ErrCorrupt) || !strings.Contains(err.Error(), "suppressed") {
			t.Errorf("Apply = %v, want a refusal naming suppression", err)
		}
	})
	t.Run("a graph with changes of its own not taken", func(t *testing.T) {
		_, history := base(t)
		g := newGraph(t, 0)
		g.Observe(idents("u:zed"), cause(1, "identify"))
		if err := g.Apply(history); err == nil {
			t.Error("Apply mixed replayed changes with untaken ones")
		}
	})
}

func TestDecodeChangesRefusesMalformedRecords(t *testing.T) {
	live := newGraph(t, 0)
	live.Observe(idents("u:alice a:d1 crm_id:C-1"), cause(1, "identify"))
	live.Erase(1)
	good := identity.EncodeChanges(live.TakeChanges())
	cs, err := identity.DecodeChanges(good)
	if err != nil || len(cs) != 6 {
		t.Fatalf("DecodeChanges = %d changes, %v", len(cs), err)
	}
	for n := range len(good) {
		if _, err := identity.DecodeChanges(good[:n]); !errors.Is(err, identity.ErrCorrupt) {
			t.Errorf("a record cut to %d of %d bytes decodes: %v", n, len(good), err)
		}
	}
	for _, b := range [][]byte{
		append(slices.Clone(good), 0),                 // bytes after the last change
		append([]byte{2}, good[1:]...),                // unknown version
		{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, // a count no record can hold
		{1, 1, 1, 9},               // unknown operation
		{1, 2, 1, 3, 1, 0, 3, 1},   // a sequence that does not increase
		{1, 1, 0, 3, 1},            // a sequence that starts at 0
		{1, 1, 1, 1, 1, 7, 1, 'x'}, // unknown kind code
	} {
		if _, err := identity.DecodeChanges(b); !errors.Is(err, identity.ErrCorrupt) {
			t.Errorf("DecodeChanges(%x) = %v, want ErrCorrupt", b, err)
		}
	}
	if cs, err := identity.DecodeChanges(identity.EncodeChanges(nil)); err != nil || len(cs) != 0 {
		t.Errorf("an empty batch decodes to %v, %v", cs, err)
	}
}

// TestReadersRunBesideTheWriter is for -race: queries, snapshots and
// stats run while one goroutine stitches.
func TestReadersRunBesideTheWriter(t *testing.T) {
	g := newGraph(t, 5)
	ops := randomOps(7, 4000, 200)
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for i, o := range ops {
			o.do(g)
			if i%50 == 0 {
				identity.EncodeChanges(g.TakeChanges())
			}
		}
	}()
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				k := uint64(i%300 + 1)
				if c := g.Customer(k); c > k {
					t.Errorf("customer %d of key %d is younger than the key", c, k)
					return
				}
				g.Members(k)
				g.Keys(k)
				g.MergeLog(k)
				g.Lookup(ops[i%len(ops)].ids[0])
				g.Suppressed(ops[i%len(ops)].ids[0])
				g.Stats()
				if i%200 == 0 {
					buf.Reset()
					if err := g.Snapshot(&buf); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if err := g.CheckInvariants(); err != nil {
		t.Error(err)
	}
}

func TestFlushChangesEncodesWhatTakeChangesReturns(t *testing.T) {
	ops := randomOps(11, 400, 30)
	a, b := newGraph(t, 3), newGraph(t, 3)
	var viaTake, viaFlush []byte
	buf := []byte("prefix")
	for i, o := range ops {
		o.do(a)
		o.do(b)
		if i%9 == 8 {
			viaTake = append(viaTake, identity.EncodeChanges(a.TakeChanges())...)
			buf = b.FlushChanges(buf[:0])
			viaFlush = append(viaFlush, buf...)
		}
	}
	viaTake = append(viaTake, identity.EncodeChanges(a.TakeChanges())...)
	viaFlush = append(viaFlush, b.FlushChanges(nil)...)
	if !bytes.Equal(viaTake, viaFlush) {
		t.Error("FlushChanges and EncodeChanges(TakeChanges()) disagree")
	}
	if cs := b.TakeChanges(); len(cs) != 0 {
		t.Errorf("FlushChanges left %d changes behind", len(cs))
	}
	if got := b.FlushChanges([]byte("x")); !bytes.Equal(got, append([]byte("x"), identity.EncodeChanges(nil)...)) {
		t.Errorf("FlushChanges with nothing pending = %x", got)
	}
}
