package identity_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/trekhq/trek/internal/identity"
)

func addFixtureSeed(f *testing.F, name string) {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
}

// FuzzLoad: no input makes Load panic or build a broken graph; what loads
// snapshots back to a form that loads to the same graph, and the loaded
// graph works.
func FuzzLoad(f *testing.F) {
	addFixtureSeed(f, "graph-v1.snap")
	f.Add(snapshot(f, newGraph(f, 0)))
	small := newGraph(f, 0)
	small.Observe(idents("u:a a:b"), cause(1, "identify"))
	f.Add(snapshot(f, small))
	f.Add([]byte("TREKIDGR\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkLoad(t, data)
		// The checksum stops almost every mutation at the door; with it
		// made right, the mutations reach the parser behind it.
		if len(data) > 4 {
			body := data[:len(data)-4]
			checkLoad(t, binary.LittleEndian.AppendUint32(slices.Clone(body), crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli))))
		}
	})
}

func checkLoad(t *testing.T, data []byte) {
	g, err := identity.Load(bytes.NewReader(data), identity.Config{Secret: testSecret, MaxAnonymousIDs: 2})
	if err != nil {
		return
	}
	if err := g.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
	s1 := snapshot(t, g)
	g2 := load(t, s1, 2)
	if s2 := snapshot(t, g2); !bytes.Equal(s1, s2) {
		t.Fatal("snapshot of a loaded snapshot is not stable")
	}
	for i, spec := range []string{"u:a a:b", "u:z a:b", "e:x a:y", "a:b"} {
		g.Observe(idents(spec), cause(i, "identify"))
	}
	if c, ok := g.Lookup(ident("a:b")); ok {
		g.Erase(c)
	}
	if err := g.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
	cs := g.TakeChanges()
	if err := g2.Apply(cs); err != nil {
		t.Fatalf("the loaded graph's own changes do not replay on its twin: %v", err)
	}
	if !bytes.Equal(snapshot(t, g), snapshot(t, g2)) {
		t.Fatal("a loaded graph and its twin diverge")
	}
}

// FuzzDecodeChanges: no record makes the decoder panic; what decodes
// encodes back to something that decodes the same, and applying it to a
// graph either works or fails cleanly.
func FuzzDecodeChanges(f *testing.F) {
	addFixtureSeed(f, "changes-v1.bin")
	f.Add(identity.EncodeChanges(nil))
	g := newGraph(f, 0)
	g.Observe(idents("u:a a:b crm_id:c"), cause(1, "identify"))
	g.Alias(ident("?:b"), ident("u:d"), cause(2, "alias"))
	g.Erase(1)
	f.Add(identity.EncodeChanges(g.TakeChanges()))
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := identity.DecodeChanges(data)
		if err != nil {
			return
		}
		again, err := identity.DecodeChanges(identity.EncodeChanges(cs))
		if err != nil {
			t.Fatalf("re-encoded changes do not decode: %v", err)
		}
		if !reflect.DeepEqual(cs, again) && !(len(cs) == 0 && len(again) == 0) {
			t.Fatalf("changes differ after a round trip:\n%+v\n%+v", cs, again)
		}
		g := newGraph(t, 0)
		g.Apply(cs)
		if err := g.CheckInvariants(); err != nil {
			t.Fatal(err)
		}
		snapshot(t, g)
	})
}

// FuzzReplay runs a program of observe, alias and erase calls, decoded
// from the input, on a live graph, and checks that a snapshot taken
// halfway plus the logged changes rebuild the same graph.
func FuzzReplay(f *testing.F) {
	f.Add([]byte{0, 2, 0, 1, 1, 1, 0, 2, 0, 2, 1, 1, 2, 1, 3, 0, 0})
	f.Add([]byte("some arbitrary program with many steps in it, erasing and aliasing"))
	f.Fuzz(func(t *testing.T, prog []byte) {
		ops := decodeProgram(prog)
		live := newGraph(t, 2)
		var logged [][]byte
		var snap []byte
		for i, o := range ops {
			o.do(live)
			if i%3 == 2 {
				logged = append(logged, identity.EncodeChanges(live.TakeChanges()))
			}
			if i == len(ops)/2 {
				snap = snapshot(t, live)
			}
		}
		logged = append(logged, identity.EncodeChanges(live.TakeChanges()))
		if err := live.CheckInvariants(); err != nil {
			t.Fatal(err)
		}
		for _, g := range []*identity.Graph{newGraph(t, 2), load(t, orEmpty(t, snap), 2)} {
			for _, b := range logged {
				cs, err := identity.DecodeChanges(b)
				if err != nil {
					t.Fatal(err)
				}
				if err := g.Apply(cs); err != nil {
					t.Fatal(err)
				}
			}
			sameGraph(t, live, g)
		}
	})
}

func orEmpty(t *testing.T, snap []byte) []byte {
	if snap == nil {
		return snapshot(t, newGraph(t, 2))
	}
	return snap
}

// decodeProgram turns bytes into calls over a universe of a few
// identifiers of each kind, so that they collide constantly.
func decodeProgram(p []byte) []op {
	kinds := []string{identity.KindUserID, identity.KindAnonymousID, identity.KindEmail, identity.KindPhone, "crm_id", ""}
	next := func() byte {
		if len(p) == 0 {
			return 0
		}
		b := p[0]
		p = p[1:]
		return b
	}
	id := func() identity.Identifier {
		b := next()
		return identity.Identifier{Kind: kinds[int(b>>4)%len(kinds)], Value: fmt.Sprint("v", b%5)}
	}
	var ops []op
	for i := 0; len(p) > 0 && i < 200; i++ {
		o := op{cause: cause(i, "track")}
		switch v := next() % 8; v {
		case 0:
			o.verb = 'e'
			o.ids = append(o.ids, id())
		case 1:
			o.verb = 'a'
			o.ids = append(o.ids, id(), identity.Identifier{Kind: identity.KindUserID, Value: fmt.Sprint("v", next()%5)})
		default:
			o.verb = 'o'
			for range 1 + next()%4 {
				o.ids = append(o.ids, id())
			}
		}
		ops = append(ops, o)
	}
	return ops
}
