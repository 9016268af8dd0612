// Package identity is trek's identity graph: it joins the identifiers a
// customer shows on different channels (userId, anonymousId, email, phone,
// configured trait keys such as a CRM id) into one customer, by union-find
// under the rules of DESIGN.md ("Identity stitching"), and it erases
// customers on request.
//
// The package is pure domain code. It does no I/O of its own: every state
// change is also recorded as a Change, which the ingest layer takes encoded
// with FlushChanges and makes durable in its write-ahead log in the same
// write as the events that caused it; Snapshot and Load write and read the
// whole graph. After a restart, Load of the last snapshot followed by Apply
// of the changes logged since gives back exactly the graph that was lost:
// the same node keys, the same customers, the same merge logs, the same
// suppression list. The formats are in docs/identity.md.
//
// Events are filed in the event store under a node key (the node of the
// identifier that Observe picks), never under a customer id, so stitching is
// retroactive for free: when two customers merge, the events already stored
// under either side's keys belong to the merged customer from that moment,
// because queries map keys to customers through Customer at read time.
//
// Concurrency: one goroutine at a time should change the graph (Observe,
// Alias, Erase, Apply, TakeChanges, FlushChanges), since the order of
// changes is the order of events; any number may read it meanwhile. Every
// method is safe to call concurrently; changes take a write lock, reads a
// read lock.
package identity

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"
	"sync"
	"time"
)

// Identifier kinds every graph knows. Other kinds (configured trait keys
// such as "crm_id") are accepted as they come.
const (
	KindUserID      = "userId"
	KindAnonymousID = "anonymousId"
	KindEmail       = "email"
	KindPhone       = "phone"
)

// The fixed kinds have fixed indexes in every graph's kind table, so the
// hot path can tell a userId or an anonymousId from the first byte of a
// node's key, and the encodings can write them as one byte.
const (
	kindUser uint64 = iota
	kindAnon
	kindEmail
	kindPhone
	fixedKinds
)

var fixedKindNames = [fixedKinds]string{KindUserID, KindAnonymousID, KindEmail, KindPhone}

// DefaultMaxAnonymousIDs is the cap on anonymous ids per customer when the
// configuration leaves it at zero. A person has a few browsers and devices
// and clears cookies now and then; a hundred is far past that, and a
// customer that reaches it is almost always a bug or abuse (a shared kiosk,
// a sender that puts one userId on everybody's events).
const DefaultMaxAnonymousIDs = 100

// MinSecretLen is the shortest secret New accepts for the suppression
// list's HMAC.
const MinSecretLen = 16

// Why merges happened or were refused. Merges recorded by a graph carry one
// of these, or, for the anonymous-id cap, a sentence naming the numbers.
const (
	// ReasonEvent: one event (or identify call) carried both identifiers.
	ReasonEvent = "identifiers on one event"
	// ReasonAlias: an alias call linked them.
	ReasonAlias = "alias"
	// ReasonSharedDevice: the anonymousId is already linked to a customer
	// with a different userId; the device is shared, and linking would fuse
	// two people.
	ReasonSharedDevice = "shared device: the anonymousId belongs to a customer with a different userId"
	// ReasonUserIDs: both customers have a userId, and the userIds differ;
	// only an alias merges them.
	ReasonUserIDs = "different userIds: only an alias merges customers with different userIds"
)

// knownReasons gives the fixed reasons a one-byte code in the encodings;
// the order is part of the format and must only ever be appended to.
var knownReasons = []string{ReasonEvent, ReasonAlias, ReasonSharedDevice, ReasonUserIDs}

func capReason(n, limit uint32) string {
	return fmt.Sprintf("anonymous id cap: the merged customer would have %d anonymous ids, more than the cap of %d", n, limit)
}

// Identifier is one normalised identifier: its kind ("userId",
// "anonymousId", "email", "phone" or a configured trait key) and its value.
// The event package normalises values (lower-cased emails, E.164 phones)
// before they reach the graph; the graph compares them byte for byte.
type Identifier struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

func (id Identifier) valid() bool { return id.Kind != "" && id.Value != "" }

// Cause says which event caused a merge.
type Cause struct {
	MessageID string    `json:"messageId"`
	Type      string    `json:"type"`
	Time      time.Time `json:"time"`
}

// Merge is one entry of the merge log: two customers joined into one, or a
// link between them refused.
//
// For an accepted merge, Into is the customer id that survives (the smaller
// of the two, because the oldest node is the root) and From the one that
// was absorbed. For a refused merge, Into is the customer the event was
// filed under and From the customer it was kept apart from.
type Merge struct {
	// Seq is the merge's position in the graph's history: the sequence
	// number of the Change that records it.
	Seq  uint64 `json:"seq"`
	Into uint64 `json:"into"`
	From uint64 `json:"from"`
	// Via are the two nodes whose link caused the merge: first the key the
	// event was filed under (for an alias, the user's node), then the other
	// identifier's node.
	Via     [2]uint64 `json:"via"`
	Cause   Cause     `json:"cause"`
	Reason  string    `json:"reason"`
	Refused bool      `json:"refused,omitempty"`
}

// Config configures a graph. It is not stored in snapshots: the secret must
// not sit next to the hashes it protects, and the cap is a rule that may
// change between runs (it applies to links made from then on).
type Config struct {
	// Secret keys the HMAC-SHA-256 of the suppression list. It must be the
	// same for the life of the installation: a graph loaded with another
	// secret could no longer recognise erased identifiers, so Load refuses
	// it. At least MinSecretLen bytes.
	Secret []byte
	// MaxAnonymousIDs caps the anonymous ids of one customer; a link that
	// would pass it is refused and logged. 0 means DefaultMaxAnonymousIDs.
	MaxAnonymousIDs int
}

// Stats are the graph's counts.
type Stats struct {
	// Identifiers is the number of live nodes (erased ones not counted).
	Identifiers int `json:"identifiers"`
	// Customers is the number of live customers (sets of linked nodes).
	Customers int `json:"customers"`
	// Merges and Refused count the accepted and refused merges recorded
	// since the graph began, erased customers' included.
	Merges  uint64 `json:"merges"`
	Refused uint64 `json:"refused"`
	// Erased counts customers erased; Suppressed the identifiers on the
	// suppression list.
	Erased     uint64 `json:"erased"`
	Suppressed int    `json:"suppressed"`
	// Seq is the sequence number of the last change.
	Seq uint64 `json:"seq"`
}

// setInfo describes a set of linked nodes; it is kept at the set's
// representative in the union-find forest (and is zero elsewhere).
type setInfo struct {
	cust  uint32 // the customer id: the smallest node id in the set
	size  uint32
	anon  uint32 // anonymousId nodes
	users uint32 // userId nodes
}

// Graph is an identity graph. Create one with New or Load.
//
// Nodes are numbered densely from 1 in order of first sight; 0 is never a
// node. Internally they are uint32s (four billion identifiers is more than
// any one machine's memory holds), exposed as uint64 like every other key
// in trek.
type Graph struct {
	mu sync.RWMutex

	maxAnon     uint32
	secret      []byte
	fingerprint [32]byte
	macs        sync.Pool // of hash.Hash keyed with secret

	kinds   []string          // kind table: index → kind; the first fixedKinds are fixed
	kindIdx map[string]uint64 // kinds beyond the fixed ones

	// Per node, indexed by node id; index 0 is unused. key is the node's
	// identifier packed as uvarint(kind index) + value, or "" once erased.
	key    []string
	parent []uint32
	next   []uint32 // circular list of the members of the node's set
	info   []setInfo

	index map[string]uint32 // packed identifier → node

	logs    map[uint32][]logEntry // merge log per customer id, in Seq order
	refused map[uint64]struct{}   // customer pairs whose refusal is logged

	suppressed map[[32]byte]struct{}

	seq       uint64
	live      int // live nodes
	customers int
	merges    uint64
	nrefused  uint64
	erased    uint64

	pending []Change
	scratch []byte
}

// New makes an empty graph.
func New(cfg Config) (*Graph, error) {
	if len(cfg.Secret) < MinSecretLen {
		return nil, fmt.Errorf("identity graph: the suppression secret must be at least %d bytes, got %d", MinSecretLen, len(cfg.Secret))
	}
	if cfg.MaxAnonymousIDs < 0 || int64(cfg.MaxAnonymousIDs) > 1<<31 {
		return nil, fmt.Errorf("identity graph: anonymous id cap %d out of range", cfg.MaxAnonymousIDs)
	}
	g := &Graph{
		maxAnon:    uint32(cfg.MaxAnonymousIDs),
		secret:     slices.Clone(cfg.Secret),
		kinds:      fixedKindNames[:],
		kindIdx:    map[string]uint64{},
		key:        []string{""},
		parent:     []uint32{0},
		next:       []uint32{0},
		info:       []setInfo{{}},
		index:      map[string]uint32{},
		logs:       map[uint32][]logEntry{},
		refused:    map[uint64]struct{}{},
		suppressed: map[[32]byte]struct{}{},
	}
	if g.maxAnon == 0 {
		g.maxAnon = DefaultMaxAnonymousIDs
	}
	g.kinds = slices.Clone(g.kinds)
	g.macs.New = func() any { return hmac.New(sha256.New, g.secret) }
	g.fingerprint = secretFingerprint(g.secret)
	return g, nil
}

// secretFingerprint lets Load tell whether it was given the secret the
// snapshot's suppression hashes were made with, without storing the secret.
func secretFingerprint(secret []byte) [32]byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("trek identity graph: suppression secret check"))
	var f [32]byte
	m.Sum(f[:0])
	return f
}

// suppressionHash is the keyed hash kept on the suppression list instead of
// the identifier: HMAC-SHA-256(secret, uvarint(len(kind)) ‖ kind ‖ value).
// The length prefix keeps ("ab", "c") and ("a", "bc") apart.
func (g *Graph) suppressionHash(id Identifier) [32]byte {
	m := g.macs.Get().(hash.Hash)
	m.Reset()
	var buf [binary.MaxVarintLen64]byte
	m.Write(binary.AppendUvarint(buf[:0], uint64(len(id.Kind))))
	m.Write([]byte(id.Kind))
	m.Write([]byte(id.Value))
	var h [32]byte
	m.Sum(h[:0])
	g.macs.Put(m)
	return h
}

// kindIndex finds a kind's index in the kind table.
func (g *Graph) kindIndex(kind string) (uint64, bool) {
	switch kind {
	case KindUserID:
		return kindUser, true
	case KindAnonymousID:
		return kindAnon, true
	case KindEmail:
		return kindEmail, true
	case KindPhone:
		return kindPhone, true
	}
	k, ok := g.kindIdx[kind]
	return k, ok
}

// addKind registers a new kind. Kinds are registered only when a node of
// that kind is created, so that a replay of the changes registers the same
// kinds in the same order.
func (g *Graph) addKind(kind string) uint64 {
	if k, ok := g.kindIndex(kind); ok {
		return k
	}
	k := uint64(len(g.kinds))
	kind = strings.Clone(kind)
	g.kinds = append(g.kinds, kind)
	g.kindIdx[kind] = k
	return k
}

func appendKey(dst []byte, kind uint64, value string) []byte {
	dst = binary.AppendUvarint(dst, kind)
	return append(dst, value...)
}

// kindOf returns the kind index of a packed key and where its value starts.
func kindOf(key string) (uint64, int) {
	if key != "" && key[0] < 0x80 {
		return uint64(key[0]), 1
	}
	var k uint64
	var s uint
	for i := 0; i < len(key) && i < binary.MaxVarintLen64; i++ {
		b := key[i]
		if b < 0x80 {
			return k | uint64(b)<<s, i + 1
		}
		k |= uint64(b&0x7f) << s
		s += 7
	}
	return 0, 0
}

func (g *Graph) identifier(n uint32) Identifier {
	k, off := kindOf(g.key[n])
	return Identifier{Kind: g.kinds[k], Value: g.key[n][off:]}
}

// lookup finds id's node; the caller holds a lock. scratch is a buffer the
// caller may let lookup use.
func (g *Graph) lookup(id Identifier, scratch []byte) (uint32, []byte) {
	k, ok := g.kindIndex(id.Kind)
	if !ok {
		return 0, scratch
	}
	scratch = appendKey(scratch[:0], k, id.Value)
	return g.index[string(scratch)], scratch
}

// create adds a node for id, which must not be in the graph, and logs it.
func (g *Graph) create(id Identifier) uint32 {
	n := g.newNode(id)
	g.record(Change{Op: OpNode, Node: uint64(n), ID: g.identifier(n)})
	return n
}

func (g *Graph) newNode(id Identifier) uint32 {
	if len(g.key) >= 1<<32-1 {
		// Four billion identifiers would need hundreds of gigabytes of
		// memory first; this is not a state trek can reach.
		panic("identity graph: node ids exhausted")
	}
	k := g.addKind(id.Kind)
	n := uint32(len(g.key))
	g.scratch = appendKey(g.scratch[:0], k, id.Value)
	key := string(g.scratch)
	g.key = append(g.key, key)
	g.parent = append(g.parent, n)
	g.next = append(g.next, n)
	in := setInfo{cust: n, size: 1}
	switch k {
	case kindUser:
		in.users = 1
	case kindAnon:
		in.anon = 1
	}
	g.info = append(g.info, in)
	g.index[key] = n
	g.live++
	g.customers++
	return n
}

// record assigns the next sequence number to c and queues it for
// TakeChanges.
func (g *Graph) record(c Change) uint64 {
	g.seq++
	c.Seq = g.seq
	if c.Op == OpMerge {
		c.Merge.Seq = g.seq
	}
	g.pending = append(g.pending, c)
	return g.seq
}

// findW finds n's representative and halves the path on the way; only
// under the write lock.
func (g *Graph) findW(n uint32) uint32 {
	p := g.parent
	for p[n] != n {
		p[n] = p[p[n]]
		n = p[n]
	}
	return n
}

// find finds n's representative without changing anything, for readers.
// Union by size keeps every path shorter than log2 of the set's size, so
// readers need no compression.
func (g *Graph) find(n uint32) uint32 {
	p := g.parent
	for p[n] != n {
		n = p[n]
	}
	return n
}

// liveNode converts a key from a caller into a live node.
func (g *Graph) liveNode(key uint64) (uint32, bool) {
	if key == 0 || key >= uint64(len(g.key)) || g.key[key] == "" {
		return 0, false
	}
	return uint32(key), true
}

// Observe files one event: it finds or creates the nodes of the
// identifiers the event carries, links them under the rules, and returns
// the key to store the event under with the merges (accepted and refused)
// the event caused. Call it for each event in arrival order.
//
// The key is the node of the event's userId if it has one, else of its
// anonymousId, else of its first identifier; every other identifier is
// linked to that node. A link is refused, and the refusal logged, when
// both sides already have a userId (they would be different people: only
// Alias joins them) or when the joined customer would have more anonymous
// ids than the cap. So on a shared device, an anonymousId first seen with
// user A stays with A, and a later event carrying it with user B is filed
// under B's node, B and A apart. A refusal between the same two customers
// is logged once; repeats change nothing.
//
// Observe returns key 0 when the event must not be stored: when one of its
// identifiers is on the suppression list (its customer was erased; the
// event is dropped whole, and nothing of it enters the graph) or when it
// carries no identifier with a kind and a value. Identifiers with an empty
// kind or value are ignored.
func (g *Graph) Observe(ids []Identifier, cause Cause) (key uint64, merges []Merge) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var buf [8]uint32
	nodes := buf[:0]
	if len(ids) > len(buf) {
		nodes = make([]uint32, 0, len(ids))
	}
	primary := -1
	for i, id := range ids {
		var n uint32
		if id.valid() {
			n, g.scratch = g.lookup(id, g.scratch)
			if n == 0 && len(g.suppressed) > 0 && g.isSuppressed(id) {
				return 0, nil
			}
			switch {
			case primary < 0:
				primary = i
			case id.Kind == KindUserID && ids[primary].Kind != KindUserID:
				primary = i
			case id.Kind == KindAnonymousID && ids[primary].Kind != KindUserID && ids[primary].Kind != KindAnonymousID:
				primary = i
			}
		}
		nodes = append(nodes, n)
	}
	if primary < 0 {
		return 0, nil
	}
	// Create the missing nodes in the order the identifiers came, so that
	// node ids follow first sight; look again, because one event may carry
	// the same new identifier twice.
	for i, id := range ids {
		if nodes[i] == 0 && id.valid() {
			n, sc := g.lookup(id, g.scratch)
			g.scratch = sc
			if n == 0 {
				n = g.create(id)
			}
			nodes[i] = n
		}
	}
	p := nodes[primary]
	for i, n := range nodes {
		if i == primary || n == 0 {
			continue
		}
		if m, ok := g.link(p, n, false, cause); ok {
			merges = append(merges, m)
		}
	}
	return uint64(p), merges
}

// Alias links previous to user explicitly, as a Segment alias call does: it
// joins their customers even when both have a userId. The anonymous-id cap
// still holds, because it is a property of every customer. The returned key
// is user's node, the key to file the alias event under; it is 0, and the
// event must be dropped, when either identifier is suppressed or user is
// not valid.
//
// A Segment alias's previousId may be an anonymousId or an earlier userId,
// and the sender does not say which. Pass previous with an empty Kind to
// let the graph choose: the userId of that value if the graph knows one,
// else the anonymousId of that value (created if new).
func (g *Graph) Alias(previous, user Identifier, cause Cause) (key uint64, merges []Merge) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !user.valid() || previous.Value == "" {
		return 0, nil
	}
	var pn, un uint32
	if previous.Kind == "" {
		previous.Kind = KindUserID
		pn, g.scratch = g.lookup(previous, g.scratch)
		if pn == 0 {
			previous.Kind = KindAnonymousID
		}
	}
	if pn == 0 {
		pn, g.scratch = g.lookup(previous, g.scratch)
	}
	un, g.scratch = g.lookup(user, g.scratch)
	if len(g.suppressed) > 0 && (pn == 0 && g.isSuppressed(previous) || un == 0 && g.isSuppressed(user)) {
		return 0, nil
	}
	if pn == 0 {
		pn = g.create(previous)
	}
	if un == 0 {
		un, g.scratch = g.lookup(user, g.scratch) // previous may equal user
		if un == 0 {
			un = g.create(user)
		}
	}
	if m, ok := g.link(un, pn, true, cause); ok {
		merges = append(merges, m)
	}
	return uint64(un), merges
}

// link tries to join the customers of nodes a and b (a being the node the
// event is filed under). It reports the merge it logged, if any.
func (g *Graph) link(a, b uint32, alias bool, cause Cause) (Merge, bool) {
	ra, rb := g.findW(a), g.findW(b)
	if ra == rb {
		return Merge{}, false
	}
	ia, ib := g.info[ra], g.info[rb]
	m := Merge{Into: uint64(ia.cust), From: uint64(ib.cust), Via: [2]uint64{uint64(a), uint64(b)}, Cause: cleanCause(cause)}
	switch {
	case !alias && ia.users > 0 && ib.users > 0:
		m.Refused = true
		m.Reason = ReasonUserIDs
		if ka, _ := kindOf(g.key[a]); ka == kindAnon {
			m.Reason = ReasonSharedDevice
		} else if kb, _ := kindOf(g.key[b]); kb == kindAnon {
			m.Reason = ReasonSharedDevice
		}
	case uint64(ia.anon)+uint64(ib.anon) > uint64(g.maxAnon):
		m.Refused = true
		m.Reason = capReason(ia.anon+ib.anon, g.maxAnon)
	case alias:
		m.Reason = ReasonAlias
	default:
		m.Reason = ReasonEvent
	}
	if m.Refused {
		pair := refusedPair(ia.cust, ib.cust)
		if _, seen := g.refused[pair]; seen {
			return Merge{}, false
		}
		m.Seq = g.record(Change{Op: OpMerge, Merge: m})
		g.logRefused(m)
		return m, true
	}
	if m.Into > m.From {
		m.Into, m.From = m.From, m.Into
	}
	m.Seq = g.record(Change{Op: OpMerge, Merge: m})
	g.union(ra, rb, m)
	return m, true
}

func refusedPair(a, b uint32) uint64 {
	if a > b {
		a, b = b, a
	}
	return uint64(a)<<32 | uint64(b)
}

// logRefused appends a refused merge to both customers' logs: each of them
// was kept apart from the other.
func (g *Graph) logRefused(m Merge) {
	g.refused[refusedPair(uint32(m.Into), uint32(m.From))] = struct{}{}
	e := entryOf(m)
	g.logs[e.into] = append(g.logs[e.into], e)
	g.logs[e.from] = append(g.logs[e.from], e)
	g.nrefused++
}

// union joins the sets with representatives ra and rb by size, so that
// paths stay short for readers, and keeps the smallest node id as the
// customer id whichever representative wins.
func (g *Graph) union(ra, rb uint32, m Merge) {
	if g.info[ra].size < g.info[rb].size {
		ra, rb = rb, ra
	}
	ia, ib := &g.info[ra], &g.info[rb]
	ca, cb := ia.cust, ib.cust
	g.parent[rb] = ra
	ia.size += ib.size
	ia.anon += ib.anon
	ia.users += ib.users
	ia.cust = min(ca, cb)
	*ib = setInfo{}
	g.next[ra], g.next[rb] = g.next[rb], g.next[ra]
	g.customers--
	g.merges++

	la, lb := g.logs[ca], g.logs[cb]
	delete(g.logs, ca)
	delete(g.logs, cb)
	g.logs[ia.cust] = append(mergeLogs(la, lb), entryOf(m))
}

// mergeLogs joins two Seq-ordered logs into one; a refused merge between
// the two customers is in both and is kept once.
func mergeLogs(a, b []logEntry) []logEntry {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	out := make([]logEntry, 0, len(a)+len(b)+1)
	for len(a) > 0 && len(b) > 0 {
		switch {
		case a[0].seq < b[0].seq:
			out, a = append(out, a[0]), a[1:]
		case a[0].seq > b[0].seq:
			out, b = append(out, b[0]), b[1:]
		default:
			out, a, b = append(out, a[0]), a[1:], b[1:]
		}
	}
	out = append(out, a...)
	return append(out, b...)
}

// logEntry is a Merge as the merge logs keep it: half the size, because
// a graph holds about one per identifier. Node ids fit in uint32 (see
// Graph), and the reason and the call type are codes unless they are
// not one of the usual ones.
type logEntry struct {
	seq        uint64
	sec        int64
	into, from uint32
	via        [2]uint32
	nsec       uint32
	reason     uint8 // knownReasons[reason-1], or 0: rare.reason
	typ        uint8 // knownTypes[typ-1], or 0: rare.typ
	refused    bool
	msgID      string
	rare       *rareText
}

type rareText struct{ reason, typ string }

// knownTypes are the call types a cause usually has; "" is for causes
// without one.
var knownTypes = []string{"track", "identify", "page", "screen", "group", "alias", ""}

func entryOf(m Merge) logEntry {
	e := logEntry{
		seq:     m.Seq,
		sec:     m.Cause.Time.Unix(),
		into:    uint32(m.Into),
		from:    uint32(m.From),
		via:     [2]uint32{uint32(m.Via[0]), uint32(m.Via[1])},
		nsec:    uint32(m.Cause.Time.Nanosecond()),
		refused: m.Refused,
		msgID:   m.Cause.MessageID,
	}
	if i := slices.Index(knownReasons, m.Reason); i >= 0 {
		e.reason = uint8(i + 1)
	}
	if i := slices.Index(knownTypes, m.Cause.Type); i >= 0 {
		e.typ = uint8(i + 1)
	}
	if e.reason == 0 || e.typ == 0 {
		e.rare = &rareText{reason: m.Reason, typ: m.Cause.Type}
	}
	return e
}

func (e *logEntry) merge() Merge {
	m := Merge{
		Seq:     e.seq,
		Into:    uint64(e.into),
		From:    uint64(e.from),
		Via:     [2]uint64{uint64(e.via[0]), uint64(e.via[1])},
		Refused: e.refused,
		Cause:   Cause{MessageID: e.msgID, Time: time.Unix(e.sec, int64(e.nsec)).UTC()},
	}
	if e.reason > 0 {
		m.Reason = knownReasons[e.reason-1]
	} else {
		m.Reason = e.rare.reason
	}
	if e.typ > 0 {
		m.Cause.Type = knownTypes[e.typ-1]
	} else {
		m.Cause.Type = e.rare.typ
	}
	return m
}

// cleanCause copies the cause's strings: a sender's messageId is often a
// slice of a whole request body, which the merge log must not keep alive.
func cleanCause(c Cause) Cause {
	c.MessageID = strings.Clone(c.MessageID)
	switch c.Type {
	case "track", "identify", "page", "screen", "group", "alias", "":
		// Already a constant in every caller that matters; keeping it
		// costs nothing.
	default:
		c.Type = strings.Clone(c.Type)
	}
	c.Time = c.Time.UTC()
	return c
}

// Erase removes a customer from the graph: every node linked to it (its
// anonymous ids included) goes, and their identifiers go on the
// suppression list, so that Observe drops any later event that carries one
// of them. It returns the erased identifiers and their node keys (the
// store's keys for the customer's events, to delete them), in node order.
// customer may be any key of the customer; an unknown or already erased
// key erases nothing and returns nil.
//
// The erased identifiers stay in clear in whatever the ingest layer logged
// before (change records, events); it must write a snapshot and drop the
// older log to finish the erasure on disk.
func (g *Graph) Erase(customer uint64) (erased []Identifier, keys []uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n, ok := g.liveNode(customer)
	if !ok {
		return nil, nil
	}
	cust := g.info[g.findW(n)].cust
	g.record(Change{Op: OpErase, Node: uint64(cust)})
	return g.erase(cust)
}

// erase removes the set whose customer id is cust.
func (g *Graph) erase(cust uint32) ([]Identifier, []uint64) {
	r := g.findW(cust)
	members := g.membersOf(r)
	erased := make([]Identifier, len(members))
	keys := make([]uint64, len(members))
	for i, m := range members {
		id := g.identifier(m)
		erased[i] = id
		keys[i] = uint64(m)
		g.suppressed[g.suppressionHash(id)] = struct{}{}
		delete(g.index, g.key[m])
	}
	for _, m := range members {
		g.key[m] = ""
		g.parent[m] = m
		g.next[m] = m
		g.info[m] = setInfo{}
	}
	delete(g.logs, cust)
	g.live -= len(members)
	g.customers--
	g.erased++
	return erased, keys
}

// membersOf lists the nodes of the set with representative r in ascending
// order.
func (g *Graph) membersOf(r uint32) []uint32 {
	out := make([]uint32, 0, g.info[r].size)
	for n := r; ; {
		out = append(out, n)
		n = g.next[n]
		if n == r {
			break
		}
	}
	slices.Sort(out)
	return out
}

func (g *Graph) isSuppressed(id Identifier) bool {
	_, ok := g.suppressed[g.suppressionHash(id)]
	return ok
}

// Suppressed reports whether id belongs to an erased customer, so that an
// event carrying it must not be stored. Observe and Alias check it
// themselves.
func (g *Graph) Suppressed(id Identifier) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if len(g.suppressed) == 0 || !id.valid() {
		return false
	}
	return g.isSuppressed(id)
}

// Customer returns the customer id of the customer that node key belongs
// to now: the smallest node id in its set. It is 0 when key is not a live
// node (never assigned, or erased).
func (g *Graph) Customer(key uint64) uint64 {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n, ok := g.liveNode(key)
	if !ok {
		return 0
	}
	return uint64(g.info[g.find(n)].cust)
}

// Customers maps many keys to their customers under one lock, for queries
// that group a whole scan's events: dst[i] = Customer(keys[i]). It appends
// to dst and returns it.
func (g *Graph) Customers(keys []uint64, dst []uint64) []uint64 {
	g.mu.RLock()
	defer g.mu.RUnlock()
	for _, k := range keys {
		var c uint64
		if n, ok := g.liveNode(k); ok {
			c = uint64(g.info[g.find(n)].cust)
		}
		dst = append(dst, c)
	}
	return dst
}

// Resolve finds the node of an identifier.
func (g *Graph) Resolve(id Identifier) (node uint64, ok bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	var buf [64]byte
	n, _ := g.lookup(id, buf[:0])
	return uint64(n), n != 0
}

// Lookup finds the customer an identifier belongs to.
func (g *Graph) Lookup(id Identifier) (customer uint64, ok bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	var buf [64]byte
	n, _ := g.lookup(id, buf[:0])
	if n == 0 {
		return 0, false
	}
	return uint64(g.info[g.find(n)].cust), true
}

// Identifier returns the identifier of node key.
func (g *Graph) Identifier(key uint64) (Identifier, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n, ok := g.liveNode(key)
	if !ok {
		return Identifier{}, false
	}
	return g.identifier(n), true
}

// Members lists the identifiers of the customer that key belongs to, in
// node order (order of first sight); nil for an unknown key.
func (g *Graph) Members(key uint64) []Identifier {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n, ok := g.liveNode(key)
	if !ok {
		return nil
	}
	nodes := g.membersOf(g.find(n))
	out := make([]Identifier, len(nodes))
	for i, m := range nodes {
		out[i] = g.identifier(m)
	}
	return out
}

// Keys lists every node key of the customer that key belongs to, in
// ascending order: the store files a customer's events under all of them.
func (g *Graph) Keys(key uint64) []uint64 {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n, ok := g.liveNode(key)
	if !ok {
		return nil
	}
	nodes := g.membersOf(g.find(n))
	out := make([]uint64, len(nodes))
	for i, m := range nodes {
		out[i] = uint64(m)
	}
	return out
}

// MergeLog returns the merges, accepted and refused, that involved the
// customer key belongs to (or any of the customers it was made of), oldest
// first.
func (g *Graph) MergeLog(key uint64) []Merge {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n, ok := g.liveNode(key)
	if !ok {
		return nil
	}
	log := g.logs[g.info[g.find(n)].cust]
	out := make([]Merge, len(log))
	for i := range log {
		out[i] = log[i].merge()
	}
	return out
}

// Stats returns the graph's counts.
func (g *Graph) Stats() Stats {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return Stats{
		Identifiers: g.live,
		Customers:   g.customers,
		Merges:      g.merges,
		Refused:     g.nrefused,
		Erased:      g.erased,
		Suppressed:  len(g.suppressed),
		Seq:         g.seq,
	}
}

// ErrCorrupt is wrapped by every error of Apply, Load and DecodeChanges
// that comes from bytes or changes that no graph could have produced.
var ErrCorrupt = errors.New("corrupt identity data")
