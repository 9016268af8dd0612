package identity_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trekhq/trek/internal/identity"
)

var update = flag.Bool("update", false, "rewrite the testdata fixtures from the current encoders")

// fixtureSteps build the graph of testdata/graph-v1.snap: every kind of
// node (a configured kind included), accepted and refused merges of each
// reason, an alias, and an erasure that leaves tombstones and suppressed
// hashes.
var fixtureSteps = []string{
	"observe a:d1",
	"observe u:alice a:d1 e:alice@example.com",
	"observe u:bob a:d1",
	"observe crm_id:C-9 e:alice@example.com p:+48601234567",
	"observe u:carol e:carol@example.com",
	"observe u:dave e:carol@example.com",
	"alias u:carol u:dave",
	"observe u:erin a:e1",
	"observe u:erin a:e2",
	"observe u:erin a:e3",
	"observe u:eve a:v1",
	"erase u:eve",
	"observe u:frank a:kiosk",
	"observe u:gina a:kiosk",
}

func fixtureGraph(t testing.TB) (*identity.Graph, []identity.Change) {
	t.Helper()
	g := newGraph(t, 2)
	for i, s := range fixtureSteps {
		run(t, g, i, s)
	}
	return g, g.TakeChanges()
}

func golden(t *testing.T, name string, got []byte) []byte {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/identity -run %s -update to write it)", err, t.Name())
	}
	return want
}

// TestSnapshotV1Fixture pins format version 1: today's Snapshot writes it
// byte for byte, and Load reads it to the graph it was made from. When the
// format gets a version 2, the byte comparison moves to a v2 fixture and
// this file stays, to prove v1 still loads.
func TestSnapshotV1Fixture(t *testing.T) {
	g, _ := fixtureGraph(t)
	want := golden(t, "graph-v1.snap", snapshot(t, g))
	if got := snapshot(t, g); !bytes.Equal(got, want) {
		t.Errorf("Snapshot differs from testdata/graph-v1.snap; if the format changed on purpose, add a version and keep v1 loading (see docs/identity.md)")
	}

	l := load(t, want, 2)
	sameGraph(t, g, l)
	// And what the fixture means, independently of the code that wrote it.
	alice, _ := l.Lookup(ident("u:alice"))
	if got := l.Members(alice); !slices.Equal(got, idents("a:d1 u:alice e:alice@example.com crm_id:C-9 p:+48601234567")) {
		t.Errorf("alice's identifiers = %v", got)
	}
	if bob, _ := l.Lookup(ident("u:bob")); bob == alice {
		t.Error("bob joined alice over the shared device d1")
	}
	carol, _ := l.Lookup(ident("u:carol"))
	if dave, _ := l.Lookup(ident("u:dave")); dave != carol {
		t.Error("the alias of carol and dave is lost")
	}
	if e3, _ := l.Lookup(ident("a:e3")); e3 == 0 || e3 == customerOf(t, l, "u:erin") {
		t.Error("the anonymous id cap of 2 did not hold for erin's third device")
	}
	for _, s := range []string{"u:eve", "a:v1"} {
		if _, ok := l.Resolve(ident(s)); ok || !l.Suppressed(ident(s)) {
			t.Errorf("erased %s is back or not suppressed", s)
		}
	}
	var reasons []string
	for _, m := range l.MergeLog(customerOf(t, l, "u:gina")) {
		reasons = append(reasons, m.Reason)
	}
	if !slices.Equal(reasons, []string{identity.ReasonSharedDevice}) {
		t.Errorf("gina's merge log = %q", reasons)
	}
	want2 := identity.Stats{Identifiers: 16, Customers: 7, Merges: 10, Refused: 4, Erased: 1, Suppressed: 2, Seq: 33}
	if st := l.Stats(); st != want2 {
		t.Errorf("Stats = %+v, want %+v", st, want2)
	}
}

// TestChangesV1Fixture pins the change encoding: records already in
// installed trek's logs must decode forever.
func TestChangesV1Fixture(t *testing.T) {
	g, changes := fixtureGraph(t)
	want := golden(t, "changes-v1.bin", identity.EncodeChanges(changes))
	if got := identity.EncodeChanges(changes); !bytes.Equal(got, want) {
		t.Errorf("EncodeChanges differs from testdata/changes-v1.bin")
	}
	cs, err := identity.DecodeChanges(want)
	if err != nil {
		t.Fatal(err)
	}
	r := newGraph(t, 0)
	if err := r.Apply(cs); err != nil {
		t.Fatal(err)
	}
	sameGraph(t, g, r)
}

func TestLoadRefusesDamagedSnapshots(t *testing.T) {
	g, _ := fixtureGraph(t)
	good := snapshot(t, g)

	t.Run("every truncation", func(t *testing.T) {
		for n := range len(good) {
			if _, err := identity.Load(bytes.NewReader(good[:n]), identity.Config{Secret: testSecret}); !errors.Is(err, identity.ErrCorrupt) {
				t.Fatalf("a snapshot cut to %d of %d bytes: %v", n, len(good), err)
			}
		}
	})
	t.Run("every flipped byte", func(t *testing.T) {
		for i := range good {
			bad := slices.Clone(good)
			bad[i] ^= 0x41
			if _, err := identity.Load(bytes.NewReader(bad), identity.Config{Secret: testSecret}); err == nil {
				t.Fatalf("a snapshot with byte %d flipped loads", i)
			}
		}
	})
	tests := []struct {
		name    string
		data    []byte
		secret  []byte
		corrupt bool
		message string
	}{
		{"another file", []byte("SQLite format 3\x00 and more"), testSecret, true, "not an identity snapshot"},
		{"a version from the future", append([]byte("TREKIDGR\x02"), good[9:]...), testSecret, true, "unknown version 2"},
		{"bytes after the checksum", append(slices.Clone(good), 0), testSecret, true, "after the checksum"},
		{"another installation's secret", good, []byte("not the secret the graph was made with"), false, "another suppression secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := identity.Load(bytes.NewReader(tt.data), identity.Config{Secret: tt.secret})
			if err == nil || errors.Is(err, identity.ErrCorrupt) != tt.corrupt || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("Load = %v; want an error saying %q (corrupt: %v)", err, tt.message, tt.corrupt)
			}
		})
	}
	t.Run("a read error", func(t *testing.T) {
		r := io.MultiReader(bytes.NewReader(good[:40]), iotestErr{})
		_, err := identity.Load(r, identity.Config{Secret: testSecret})
		if !errors.Is(err, errDisk) {
			t.Errorf("Load = %v, want the reader's error", err)
		}
	})
	t.Run("a snapshot read one byte at a time", func(t *testing.T) {
		l, err := identity.Load(oneByteReader{bytes.NewReader(good)}, identity.Config{Secret: testSecret, MaxAnonymousIDs: 2})
		if err != nil {
			t.Fatal(err)
		}
		sameGraph(t, g, l)
	})
	t.Run("a writer that fails", func(t *testing.T) {
		if err := g.Snapshot(failWriter{}); !errors.Is(err, errDisk) {
			t.Errorf("Snapshot = %v, want the writer's error", err)
		}
	})
}

var errDisk = errors.New("input/output error")

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, errDisk }

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errDisk }

type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

// TestLoadRefusesSnapshotsNoGraphCouldWrite feeds Load snapshots with a
// right checksum and a wrong structure.
func TestLoadRefusesSnapshotsNoGraphCouldWrite(t *testing.T) {
	good := snapshot(t, newGraph(t, 0))
	header := good[:len("TREKIDGR")+1+32] // magic, version, secret fingerprint
	uv := func(v uint64) []byte { return binary.AppendUvarint(nil, v) }
	str := func(s string) []byte { return append(uv(uint64(len(s))), s...) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	kinds := cat(uv(4), str("userId"), str("anonymousId"), str("email"), str("phone"))
	counts := cat(uv(5), uv(0), uv(0), uv(0)) // seq 5, no merges, refusals or erasures
	node := func(kind uint64, v string, d uint64) []byte { return cat(uv(kind+1), str(v), uv(d)) }
	merge := cat(uv(1), uv(2), uv(1), uv(2), []byte{0}, uv(1), str("m"), str("track"), uv(0), uv(0))
	twoNodes := cat(uv(2), node(0, "u", 0), node(1, "a", 1))
	none := uv(0)

	tests := []struct {
		name string
		body []byte
		says string
	}{
		{"a graph that is well formed (the control)", cat(counts, kinds, twoNodes, uv(1), uv(1), uv(1), uv(1), merge, none), ""},
		{"fixed kinds out of place", cat(counts, uv(4), str("anonymousId"), str("userId"), str("email"), str("phone"), none, none, none), "kind 0"},
		{"a kind twice", cat(counts, uv(5), str("userId"), str("anonymousId"), str("email"), str("phone"), str("email"), none, none, none), "twice"},
		{"a node of an unknown kind", cat(counts, kinds, uv(1), node(8, "x", 0), none, none), "unknown kind"},
		{"an identifier twice", cat(counts, kinds, uv(2), node(0, "u", 0), node(0, "u", 0), none, none), "repeats"},
		{"a node without a value", cat(counts, kinds, uv(1), node(0, "", 0), none, none), "empty value"},
		{"a node whose customer is not a customer", cat(counts, kinds, uv(3), node(0, "u", 0), node(1, "a", 1), node(1, "b", 1), none, none), "not a customer"},
		{"a node whose customer is before node 1", cat(counts, kinds, uv(1), node(0, "u", 1), none, none), "out of range"},
		{"a merge log of a node that is not a customer", cat(counts, kinds, twoNodes, uv(1), uv(2), uv(1), uv(1), merge, none), "not a customer"},
		{"an empty merge log", cat(counts, kinds, twoNodes, uv(1), uv(1), uv(0), none), "empty merge log"},
		{"merge log entries out of order", cat(counts, kinds, twoNodes, uv(1), uv(1), uv(2), uv(2), merge, uv(0), merge, none), "out of order"},
		{"a merge log entry after the snapshot's last change", cat(counts, kinds, twoNodes, uv(1), uv(1), uv(1), uv(6), merge, none), "out of order"},
		{"suppressed hashes out of order", cat(counts, kinds, none, none, uv(2), bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{1}, 32)), "out of order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := cat(header, tt.body)
			b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
			_, err := identity.Load(bytes.NewReader(b), identity.Config{Secret: testSecret})
			if tt.says == "" {
				if err != nil {
					t.Fatalf("the control does not load: %v", err)
				}
				return
			}
			if !errors.Is(err, identity.ErrCorrupt) || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Load = %v; want ErrCorrupt saying %q", err, tt.says)
			}
		})
	}
}
