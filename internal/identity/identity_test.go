package identity_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/identity"
)

var testSecret = []byte("a per-installation secret for tests")

func newGraph(t testing.TB, maxAnon int) *identity.Graph {
	t.Helper()
	g, err := identity.New(identity.Config{Secret: testSecret, MaxAnonymousIDs: maxAnon})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// shortKinds spells identifiers in tests as "u:alice", "a:device-1",
// "e:ana@example.com", "p:+48601234567"; any other prefix is a configured
// kind ("crm_id:C-9"), and "?" an empty kind (an alias's previousId).
var shortKinds = map[string]string{
	"u": identity.KindUserID,
	"a": identity.KindAnonymousID,
	"e": identity.KindEmail,
	"p": identity.KindPhone,
	"?": "",
}

func ident(s string) identity.Identifier {
	kind, value, _ := strings.Cut(s, ":")
	if k, ok := shortKinds[kind]; ok {
		kind = k
	}
	return identity.Identifier{Kind: kind, Value: value}
}

func idents(spec string) []identity.Identifier {
	var out []identity.Identifier
	for _, f := range strings.Fields(spec) {
		out = append(out, ident(f))
	}
	return out
}

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func cause(i int, typ string) identity.Cause {
	return identity.Cause{MessageID: fmt.Sprintf("msg-%d", i), Type: typ, Time: t0.Add(time.Duration(i) * time.Minute)}
}

// run applies one step to g: "observe IDS…", "alias PREVIOUS USER" or
// "erase ID" (erasing ID's customer). It returns the key the step filed
// its event under (0 for erase or a dropped event) and its merges.
func run(t testing.TB, g *identity.Graph, i int, step string) (uint64, []identity.Merge) {
	t.Helper()
	verb, rest, _ := strings.Cut(step, " ")
	switch verb {
	case "observe":
		return g.Observe(idents(rest), cause(i, "identify"))
	case "alias":
		ids := idents(rest)
		if len(ids) != 2 {
			t.Fatalf("step %q: alias needs two identifiers", step)
		}
		return g.Alias(ids[0], ids[1], cause(i, "alias"))
	case "erase":
		c, ok := g.Lookup(ident(rest))
		if !ok {
			t.Fatalf("step %q: %s unknown", step, rest)
		}
		g.Erase(c)
		return 0, nil
	}
	t.Fatalf("unknown step %q", step)
	return 0, nil
}

func node(t testing.TB, g *identity.Graph, s string) uint64 {
	t.Helper()
	n, ok := g.Resolve(ident(s))
	if !ok {
		t.Fatalf("%s is not in the graph", s)
	}
	return n
}

func customerOf(t testing.TB, g *identity.Graph, s string) uint64 {
	t.Helper()
	return g.Customer(node(t, g, s))
}

func TestStitchingRules(t *testing.T) {
	tests := []struct {
		name    string
		maxAnon int
		steps   []string
		// keys: per step, the identifier whose node the event is filed
		// under ("" when nothing is filed).
		keys []string
		// same: groups of identifiers that must form one customer, with
		// nothing else in it.
		same [][]string
		// apart: pairs of identifiers that must be different customers.
		apart [][2]string
		// root: identifier → identifier whose node is its customer id.
		root map[string]string
		// reasons of every merge logged, accepted or refused, in order.
		reasons []string
	}{
		{
			name: "anonymous browsing then login links the anonymous id to the user",
			steps: []string{
				"observe a:d1", "observe a:d1", "observe a:d1",
				"observe u:alice a:d1",
			},
			keys:    []string{"a:d1", "a:d1", "a:d1", "u:alice"},
			same:    [][]string{{"a:d1", "u:alice"}},
			root:    map[string]string{"u:alice": "a:d1", "a:d1": "a:d1"},
			reasons: []string{identity.ReasonEvent},
		},
		{
			name: "two devices of one user join one customer",
			steps: []string{
				"observe a:phone", "observe u:alice a:phone",
				"observe a:laptop", "observe u:alice a:laptop", "observe a:laptop",
			},
			keys:    []string{"a:phone", "u:alice", "a:laptop", "u:alice", "a:laptop"},
			same:    [][]string{{"a:phone", "u:alice", "a:laptop"}},
			root:    map[string]string{"a:laptop": "a:phone"},
			reasons: []string{identity.ReasonEvent, identity.ReasonEvent},
		},
		{
			name: "shared device stays with its first user and the second user's event is filed under the second user",
			steps: []string{
				"observe u:alice a:kiosk",
				"observe u:bob a:kiosk",
				"observe a:kiosk",
			},
			keys:    []string{"u:alice", "u:bob", "a:kiosk"},
			same:    [][]string{{"u:alice", "a:kiosk"}, {"u:bob"}},
			apart:   [][2]string{{"u:alice", "u:bob"}},
			reasons: []string{identity.ReasonEvent, identity.ReasonSharedDevice},
		},
		{
			name: "a refusal between the same two customers is logged once",
			steps: []string{
				"observe u:alice a:kiosk",
				"observe u:bob a:kiosk", "observe u:bob a:kiosk", "observe u:bob a:kiosk",
			},
			keys:    []string{"u:alice", "u:bob", "u:bob", "u:bob"},
			apart:   [][2]string{{"u:alice", "u:bob"}},
			reasons: []string{identity.ReasonEvent, identity.ReasonSharedDevice},
		},
		{
			name: "two userIds sharing an email stay apart",
			steps: []string{
				"observe u:alice e:family@example.com",
				"observe u:bob e:family@example.com",
			},
			keys:    []string{"u:alice", "u:bob"},
			same:    [][]string{{"u:alice", "e:family@example.com"}, {"u:bob"}},
			reasons: []string{identity.ReasonEvent, identity.ReasonUserIDs},
		},
		{
			name: "alias merges two userIds",
			steps: []string{
				"observe u:alice a:d1",
				"observe u:alice-2 a:d2",
				"alias u:alice u:alice-2",
			},
			keys:    []string{"u:alice", "u:alice-2", "u:alice-2"},
			same:    [][]string{{"u:alice", "a:d1", "u:alice-2", "a:d2"}},
			root:    map[string]string{"a:d2": "u:alice"},
			reasons: []string{identity.ReasonEvent, identity.ReasonEvent, identity.ReasonAlias},
		},
		{
			name: "after an alias, events of either userId stitch without a refusal",
			steps: []string{
				"observe u:alice", "observe u:alice-2",
				"alias u:alice u:alice-2",
				"observe u:alice a:d3", "observe u:alice-2 a:d3",
			},
			keys:    []string{"u:alice", "u:alice-2", "u:alice-2", "u:alice", "u:alice-2"},
			same:    [][]string{{"u:alice", "u:alice-2", "a:d3"}},
			reasons: []string{identity.ReasonAlias, identity.ReasonEvent},
		},
		{
			name: "alias of a previousId of unknown kind takes the userId the graph knows",
			steps: []string{
				"observe u:old a:d1",
				"alias ?:old u:new",
			},
			keys:    []string{"u:old", "u:new"},
			same:    [][]string{{"u:old", "a:d1", "u:new"}},
			reasons: []string{identity.ReasonEvent, identity.ReasonAlias},
		},
		{
			name: "alias of an unknown previousId of unknown kind links it as an anonymous id",
			steps: []string{
				"alias ?:cookie-7 u:alice",
			},
			keys:    []string{"u:alice"},
			same:    [][]string{{"a:cookie-7", "u:alice"}},
			reasons: []string{identity.ReasonAlias},
		},
		{
			name: "email trait links a CRM record with a web user",
			steps: []string{
				"observe a:d1",
				"observe u:web-1 a:d1 e:ana@example.com",
				"observe crm_id:C-9 e:ana@example.com",
				"observe crm_id:C-9",
			},
			keys:    []string{"a:d1", "u:web-1", "crm_id:C-9", "crm_id:C-9"},
			same:    [][]string{{"a:d1", "u:web-1", "e:ana@example.com", "crm_id:C-9"}},
			root:    map[string]string{"crm_id:C-9": "a:d1"},
			reasons: []string{identity.ReasonEvent, identity.ReasonEvent, identity.ReasonEvent},
		},
		{
			name:    "the anonymous id cap refuses the link that would pass it",
			maxAnon: 2,
			steps: []string{
				"observe u:alice a:1", "observe u:alice a:2", "observe u:alice a:3",
			},
			keys:  []string{"u:alice", "u:alice", "u:alice"},
			same:  [][]string{{"u:alice", "a:1", "a:2"}, {"a:3"}},
			apart: [][2]string{{"u:alice", "a:3"}},
			reasons: []string{identity.ReasonEvent, identity.ReasonEvent,
				"anonymous id cap: the merged customer would have 3 anonymous ids, more than the cap of 2"},
		},
		{
			name:    "the anonymous id cap holds between anonymous customers too",
			maxAnon: 2,
			steps: []string{
				"observe a:1 e:x@example.com",
				"observe a:2 e:y@example.com", "observe a:3 e:y@example.com",
				"observe a:1 e:y@example.com",
			},
			keys:  []string{"a:1", "a:2", "a:3", "a:1"},
			same:  [][]string{{"a:1", "e:x@example.com"}, {"a:2", "a:3", "e:y@example.com"}},
			apart: [][2]string{{"a:1", "a:2"}},
			reasons: []string{identity.ReasonEvent, identity.ReasonEvent, identity.ReasonEvent,
				"anonymous id cap: the merged customer would have 3 anonymous ids, more than the cap of 2"},
		},
		{
			name:    "the anonymous id cap holds for an alias",
			maxAnon: 1,
			steps: []string{
				"observe u:alice a:1", "observe u:alice-2 a:2",
				"alias u:alice u:alice-2",
			},
			keys:  []string{"u:alice", "u:alice-2", "u:alice-2"},
			apart: [][2]string{{"u:alice", "u:alice-2"}},
			reasons: []string{identity.ReasonEvent, identity.ReasonEvent,
				"anonymous id cap: the merged customer would have 2 anonymous ids, more than the cap of 1"},
		},
		{
			name: "every identifier on one event joins the event's key",
			steps: []string{
				"observe e:ana@example.com p:+48601234567 a:d1 u:ana crm_id:C-1",
			},
			keys: []string{"u:ana"},
			same: [][]string{{"e:ana@example.com", "p:+48601234567", "a:d1", "u:ana", "crm_id:C-1"}},
			root: map[string]string{"u:ana": "e:ana@example.com"},
			reasons: []string{identity.ReasonEvent, identity.ReasonEvent,
				identity.ReasonEvent, identity.ReasonEvent},
		},
		{
			name: "an event without a userId is filed under its anonymousId, else its first identifier",
			steps: []string{
				"observe e:x@example.com a:d1",
				"observe p:+302101234567 e:y@example.com",
			},
			keys:    []string{"a:d1", "p:+302101234567"},
			reasons: []string{identity.ReasonEvent, identity.ReasonEvent},
		},
		{
			name: "the oldest node is the customer id whatever the merge order",
			steps: []string{
				"observe a:old", "observe a:mid",
				"observe u:u1 a:mid",
				"observe u:u1 a:old",
			},
			keys:    []string{"a:old", "a:mid", "u:u1", "u:u1"},
			same:    [][]string{{"a:old", "a:mid", "u:u1"}},
			root:    map[string]string{"a:mid": "a:old", "u:u1": "a:old"},
			reasons: []string{identity.ReasonEvent, identity.ReasonEvent},
		},
		{
			name:  "identifiers without a kind or a value are ignored",
			steps: []string{"observe :x a:", "observe :x a:d1"},
			keys:  []string{"", "a:d1"},
			same:  [][]string{{"a:d1"}},
		},
		{
			name:  "one new identifier twice on one event makes one node",
			steps: []string{"observe a:d1 a:d1 u:alice u:alice"},
			keys:  []string{"u:alice"},
			same:  [][]string{{"a:d1", "u:alice"}},
			root:  map[string]string{"u:alice": "a:d1"},
			reasons: []string{
				identity.ReasonEvent,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph(t, tt.maxAnon)
			var logged []identity.Merge
			for i, step := range tt.steps {
				key, merges := run(t, g, i, step)
				logged = append(logged, merges...)
				want := uint64(0)
				if tt.keys[i] != "" {
					want = node(t, g, tt.keys[i])
				}
				if key != want {
					got, _ := g.Identifier(key)
					t.Errorf("step %d %q filed under %d (%v), want %s (%d)", i, step, key, got, tt.keys[i], want)
				}
			}
			for _, group := range tt.same {
				c := customerOf(t, g, group[0])
				var want []identity.Identifier
				for _, s := range group {
					if got := customerOf(t, g, s); got != c {
						t.Errorf("%s is customer %d, %s is %d; want one customer", s, got, group[0], c)
					}
					want = append(want, ident(s))
				}
				got := g.Members(c)
				if !sameSet(got, want) {
					t.Errorf("members of %s's customer = %v, want %v", group[0], got, want)
				}
				keys := g.Keys(c)
				if len(keys) != len(want) {
					t.Errorf("keys of %s's customer = %v, want %d keys", group[0], keys, len(want))
				}
			}
			for _, p := range tt.apart {
				if customerOf(t, g, p[0]) == customerOf(t, g, p[1]) {
					t.Errorf("%s and %s are one customer; they must stay apart", p[0], p[1])
				}
			}
			for s, r := range tt.root {
				if got, want := customerOf(t, g, s), node(t, g, r); got != want {
					t.Errorf("customer of %s = %d, want %d (the node of %s)", s, got, want, r)
				}
			}
			var reasons []string
			for _, m := range logged {
				reasons = append(reasons, m.Reason)
			}
			if !slices.Equal(reasons, tt.reasons) {
				t.Errorf("merge reasons = %q\nwant %q", reasons, tt.reasons)
			}
			if err := g.CheckInvariants(); err != nil {
				t.Error(err)
			}
		})
	}
}

func sameSet(a, b []identity.Identifier) bool {
	cmp := func(x, y identity.Identifier) int {
		return strings.Compare(x.Kind+"\x00"+x.Value, y.Kind+"\x00"+y.Value)
	}
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, cmp)
	slices.SortFunc(b, cmp)
	return slices.Equal(a, b)
}

func TestStitchingIsRetroactive(t *testing.T) {
	g := newGraph(t, 0)
	// The store files events by key; a query maps keys to customers when
	// it runs. Three anonymous page views are filed under the device's key
	// before anyone knows whose device it is.
	var anonKeys []uint64
	for i := range 3 {
		k, _ := g.Observe(idents("a:d1"), cause(i, "page"))
		anonKeys = append(anonKeys, k)
	}
	otherDevice, _ := g.Observe(idents("a:d2"), cause(3, "page"))
	login, _ := g.Observe(idents("u:alice a:d2"), cause(4, "identify"))
	if g.Customer(anonKeys[0]) == g.Customer(login) {
		t.Fatal("d1 belongs to alice before anything linked it")
	}
	// Logging in on d1 later makes the page views already filed under d1
	// alice's, and keeps those of d2.
	g.Observe(idents("u:alice a:d1"), cause(5, "identify"))
	alice := g.Customer(login)
	for _, k := range append(anonKeys, otherDevice) {
		if g.Customer(k) != alice {
			t.Errorf("key %d belongs to customer %d after login, want alice's %d", k, g.Customer(k), alice)
		}
	}
	if !slices.Contains(g.Keys(alice), anonKeys[0]) {
		t.Errorf("Keys(alice) = %v misses the anonymous key %d", g.Keys(alice), anonKeys[0])
	}
	if got := g.Customers([]uint64{anonKeys[0], otherDevice, login, 0, 999}, nil); !slices.Equal(got, []uint64{alice, alice, alice, 0, 0}) {
		t.Errorf("Customers = %v", got)
	}
}

func TestMergeLogRecordsEveryMergeWithItsCause(t *testing.T) {
	g := newGraph(t, 0)
	g.Observe(idents("u:alice a:kiosk"), cause(1, "identify"))
	_, refused := g.Observe(idents("u:bob a:kiosk"), cause(2, "track"))
	g.Observe(idents("u:bob a:phone"), cause(3, "identify"))
	g.Alias(ident("u:bob"), ident("u:robert"), cause(4, "alias"))

	alice, bob := customerOf(t, g, "u:alice"), customerOf(t, g, "u:bob")
	kiosk, bobNode, phone, robert := node(t, g, "a:kiosk"), node(t, g, "u:bob"), node(t, g, "a:phone"), node(t, g, "u:robert")
	wantRefusal := identity.Merge{
		Seq: 5, Into: bob, From: alice, Via: [2]uint64{bobNode, kiosk},
		Cause:  cause(2, "track"),
		Reason: identity.ReasonSharedDevice, Refused: true,
	}
	if len(refused) != 1 || refused[0] != wantRefusal {
		t.Fatalf("Observe returned %+v\nwant %+v", refused, wantRefusal)
	}
	wantBob := []identity.Merge{
		wantRefusal,
		{Seq: 7, Into: bob, From: phone, Via: [2]uint64{bobNode, phone}, Cause: cause(3, "identify"), Reason: identity.ReasonEvent},
		{Seq: 9, Into: bob, From: robert, Via: [2]uint64{robert, bobNode}, Cause: cause(4, "alias"), Reason: identity.ReasonAlias},
	}
	if got := g.MergeLog(robert); !slices.Equal(got, wantBob) {
		t.Errorf("MergeLog(bob) =\n%+v\nwant\n%+v", got, wantBob)
	}
	wantAlice := []identity.Merge{
		{Seq: 3, Into: alice, From: kiosk, Via: [2]uint64{node(t, g, "u:alice"), kiosk}, Cause: cause(1, "identify"), Reason: identity.ReasonEvent},
		wantRefusal,
	}
	if got := g.MergeLog(alice); !slices.Equal(got, wantAlice) {
		t.Errorf("MergeLog(alice) =\n%+v\nwant\n%+v", got, wantAlice)
	}
	st := g.Stats()
	want := identity.Stats{Identifiers: 5, Customers: 2, Merges: 3, Refused: 1, Seq: 9}
	if st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}
}

func TestEraseRemovesEveryIdentifierAndSuppressesThem(t *testing.T) {
	g := newGraph(t, 0)
	g.Observe(idents("a:d1"), cause(1, "page"))
	g.Observe(idents("u:alice a:d1 e:alice@example.com"), cause(2, "identify"))
	g.Observe(idents("u:alice a:d2"), cause(3, "identify"))
	g.Observe(idents("crm_id:C-1 e:alice@example.com p:+84912345678"), cause(4, "identify"))
	g.Observe(idents("u:bob a:d2"), cause(5, "identify")) // d2 is alice's: refused
	bobKey := node(t, g, "u:bob")
	aliceKeys := g.Keys(customerOf(t, g, "u:alice"))
	g.TakeChanges()

	// Erasing by any of the customer's keys erases the whole customer.
	erased, keys := g.Erase(node(t, g, "a:d2"))
	want := idents("a:d1 u:alice e:alice@example.com a:d2 crm_id:C-1 p:+84912345678")
	if !slices.Equal(erased, want) {
		t.Errorf("Erase erased %v, want %v", erased, want)
	}
	if !slices.Equal(keys, aliceKeys) {
		t.Errorf("Erase returned keys %v, want %v", keys, aliceKeys)
	}
	if ch := g.TakeChanges(); len(ch) != 1 || ch[0].Op != identity.OpErase {
		t.Errorf("Erase logged %+v, want one erase", ch)
	}
	for _, id := range want {
		if n, ok := g.Resolve(id); ok {
			t.Errorf("%v still resolves to node %d", id, n)
		}
		if !g.Suppressed(id) {
			t.Errorf("%v is not suppressed", id)
		}
	}
	for _, k := range keys {
		if c := g.Customer(k); c != 0 {
			t.Errorf("erased key %d still belongs to customer %d", k, c)
		}
		if g.Members(k) != nil || g.Keys(k) != nil || g.MergeLog(k) != nil {
			t.Errorf("erased key %d still has members, keys or a merge log", k)
		}
		if _, ok := g.Identifier(k); ok {
			t.Errorf("erased key %d still has an identifier", k)
		}
	}
	if g.Suppressed(ident("u:bob")) || g.Suppressed(ident("u:alicE")) || g.Suppressed(ident("e:alice")) {
		t.Error("an identifier that was not erased is suppressed")
	}

	// Later events carrying any erased identifier are dropped whole and
	// leave nothing in the graph, even beside an identifier that is not
	// suppressed.
	before := g.Stats()
	for i, spec := range []string{"u:alice", "a:d1 u:new-user", "u:bob e:alice@example.com", "p:+84912345678"} {
		if key, merges := g.Observe(idents(spec), cause(10+i, "track")); key != 0 || merges != nil {
			t.Errorf("Observe(%s) after erasure = %d, %v; want 0 (drop)", spec, key, merges)
		}
	}
	if key, _ := g.Alias(ident("?:d1"), ident("u:someone"), cause(20, "alias")); key != 0 {
		t.Errorf("Alias from an erased anonymous id = %d, want 0 (drop)", key)
	}
	if key, _ := g.Alias(ident("u:someone"), ident("u:alice"), cause(21, "alias")); key != 0 {
		t.Errorf("Alias to an erased userId = %d, want 0 (drop)", key)
	}
	if _, ok := g.Resolve(ident("u:new-user")); ok {
		t.Error("a dropped event's other identifier entered the graph")
	}
	if ch := g.TakeChanges(); len(ch) != 0 {
		t.Errorf("dropped events logged changes %+v", ch)
	}
	after := g.Stats()
	if after.Identifiers != before.Identifiers {
		t.Errorf("dropped events changed the graph: %+v → %+v", before, after)
	}
	// Bob is untouched; the refusal in his log names alice's old customer
	// id, a number, not her identifiers.
	if k, _ := g.Observe(idents("u:bob"), cause(30, "track")); k != bobKey {
		t.Errorf("bob's event filed under %d, want %d", k, bobKey)
	}
	want2 := identity.Stats{Identifiers: 1, Customers: 1, Merges: 5, Refused: 1, Erased: 1, Suppressed: 6, Seq: 14}
	if st := g.Stats(); st != want2 {
		t.Errorf("Stats = %+v, want %+v", st, want2)
	}
	if erased, keys := g.Erase(keys[0]); erased != nil || keys != nil {
		t.Errorf("second Erase = %v, %v; want nothing", erased, keys)
	}

	// The suppression list keeps keyed hashes, not identifiers.
	var snap bytes.Buffer
	if err := g.Snapshot(&snap); err != nil {
		t.Fatal(err)
	}
	for _, id := range want {
		if bytes.Contains(snap.Bytes(), []byte(id.Value)) {
			t.Errorf("the snapshot contains the erased %q in clear", id.Value)
		}
	}
	if err := g.CheckInvariants(); err != nil {
		t.Error(err)
	}
}

func TestSuppressionHashDependsOnSecretKindAndValue(t *testing.T) {
	a := newGraph(t, 0)
	b, err := identity.New(identity.Config{Secret: []byte("another installation's secret")})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []*identity.Graph{a, b} {
		g.Observe(idents("u:ab"), cause(1, "identify"))
		c, _ := g.Lookup(ident("u:ab"))
		g.Erase(c)
	}
	var sa, sb bytes.Buffer
	if err := a.Snapshot(&sa); err != nil {
		t.Fatal(err)
	}
	if err := b.Snapshot(&sb); err != nil {
		t.Fatal(err)
	}
	// The last 36 bytes are the one hash and the checksum.
	ha, hb := sa.Bytes()[sa.Len()-36:sa.Len()-4], sb.Bytes()[sb.Len()-36:sb.Len()-4]
	if bytes.Equal(ha, hb) {
		t.Error("two secrets gave the same suppression hash")
	}
	for _, id := range idents("a:ab e:ab u:a u:abc") {
		if a.Suppressed(id) {
			t.Errorf("%v is suppressed; only userId ab was erased", id)
		}
	}
	if !a.Suppressed(ident("u:ab")) {
		t.Error("userId ab is not suppressed")
	}
}

func TestNewRefusesAShortSecret(t *testing.T) {
	for _, cfg := range []identity.Config{
		{},
		{Secret: []byte("short")},
		{Secret: testSecret, MaxAnonymousIDs: -1},
	} {
		if _, err := identity.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

func TestUnknownKeysAnswerNothing(t *testing.T) {
	g := newGraph(t, 0)
	g.Observe(idents("u:alice"), cause(1, "identify"))
	for _, k := range []uint64{0, 2, 1 << 40} {
		if g.Customer(k) != 0 || g.Members(k) != nil || g.Keys(k) != nil || g.MergeLog(k) != nil {
			t.Errorf("key %d answers as if it existed", k)
		}
		if e, ks := g.Erase(k); e != nil || ks != nil {
			t.Errorf("Erase(%d) erased something", k)
		}
	}
	if _, ok := g.Resolve(ident("crm_id:never-configured")); ok {
		t.Error("an identifier of an unknown kind resolves")
	}
	if _, ok := g.Lookup(ident("u:bob")); ok {
		t.Error("an unknown identifier has a customer")
	}
}
