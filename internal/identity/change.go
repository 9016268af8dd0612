package identity

import (
	"encoding/binary"
	"fmt"
)

// Op is the kind of a Change.
type Op uint8

// The changes a graph makes.
const (
	// OpNode: a node was created for identifier ID, with key Node.
	OpNode Op = 1
	// OpMerge: Merge was recorded (accepted, joining its two customers, or
	// refused).
	OpMerge Op = 2
	// OpErase: customer Node was erased.
	OpErase Op = 3
)

func (o Op) String() string {
	switch o {
	case OpNode:
		return "node"
	case OpMerge:
		return "merge"
	case OpErase:
		return "erase"
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// Change is one state change of a graph, in the form the ingest layer
// makes durable. Changes record effects, not requests: replaying them does
// not apply the merge rules again, so a graph rebuilt after the cap was
// changed still has exactly the customers it had.
type Change struct {
	// Seq numbers the graph's changes from 1, without gaps.
	Seq uint64
	Op  Op
	// Node is the new node's key (OpNode) or the erased customer (OpErase).
	Node uint64
	// ID is the new node's identifier (OpNode).
	ID Identifier
	// Merge is the merge recorded (OpMerge); its Seq equals the change's.
	Merge Merge
}

// TakeChanges returns the changes made since the last call (by Observe,
// Alias and Erase) and forgets them. The ingest layer writes them to its
// log with the events that caused them, before acknowledging those events.
//
// If writing them fails, the graph in memory is ahead of what is durable;
// it cannot be rolled back, so the caller must throw it away and rebuild it
// with Load and Apply from what is durable.
func (g *Graph) TakeChanges() []Change {
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.pending
	g.pending = nil
	return c
}

// FlushChanges appends the encoding of the changes made since the last
// call (what EncodeChanges(TakeChanges()) would give) to dst and forgets
// them, reusing the graph's buffer: the allocation-free form of
// TakeChanges for the collection path. The same rule holds if writing the
// result fails.
func (g *Graph) FlushChanges(dst []byte) []byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	dst = AppendChanges(dst, g.pending)
	clear(g.pending) // drop the strings they hold
	g.pending = g.pending[:0]
	return dst
}

// Apply replays changes taken from another graph (read back from the log
// after a restart) onto this one, in order. Changes whose Seq the graph
// has already passed are skipped, so replay may start anywhere before the
// position of the snapshot the graph was loaded from. A gap in the
// sequence, or a change no graph could have made in this state, fails with
// an error wrapping ErrCorrupt; the changes before it stay applied.
func (g *Graph) Apply(changes []Change) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.pending) > 0 {
		return fmt.Errorf("apply identity changes: the graph has %d changes of its own not yet taken", len(g.pending))
	}
	for _, c := range changes {
		if c.Seq <= g.seq {
			continue
		}
		if c.Seq != g.seq+1 {
			return fmt.Errorf("apply identity change %d: %w: the graph is at change %d", c.Seq, ErrCorrupt, g.seq)
		}
		if err := g.apply(c); err != nil {
			return fmt.Errorf("apply identity change %d (%s): %w: %s", c.Seq, c.Op, ErrCorrupt, err)
		}
		g.seq = c.Seq
	}
	return nil
}

func (g *Graph) apply(c Change) error {
	switch c.Op {
	case OpNode:
		if c.Node != uint64(len(g.key)) {
			return fmt.Errorf("node %d created, but the next node is %d", c.Node, len(g.key))
		}
		if !c.ID.valid() {
			return fmt.Errorf("node %d has an empty kind or value", c.Node)
		}
		if n, _ := g.lookup(c.ID, g.scratch); n != 0 {
			return fmt.Errorf("node %d repeats the identifier of node %d", c.Node, n)
		}
		if len(g.suppressed) > 0 && g.isSuppressed(c.ID) {
			return fmt.Errorf("node %d is a suppressed identifier", c.Node)
		}
		g.newNode(c.ID)
	case OpMerge:
		m := c.Merge
		m.Seq = c.Seq
		m.Cause = cleanCause(m.Cause)
		ri, okI := g.customerRep(m.Into)
		rf, okF := g.customerRep(m.From)
		if !okI || !okF || ri == rf {
			return fmt.Errorf("merge of %d and %d, which are not two live customers", m.Into, m.From)
		}
		v0, ok0 := g.liveNode(m.Via[0])
		v1, ok1 := g.liveNode(m.Via[1])
		if !ok0 || !ok1 {
			return fmt.Errorf("merge via %d and %d, which are not live nodes", m.Via[0], m.Via[1])
		}
		r0, r1 := g.findW(v0), g.findW(v1)
		if m.Reason == "" {
			return fmt.Errorf("merge of %d and %d without a reason", m.Into, m.From)
		}
		if m.Refused {
			if r0 != ri || r1 != rf {
				return fmt.Errorf("refused merge of %d and %d via nodes of other customers", m.Into, m.From)
			}
			if _, seen := g.refused[refusedPair(uint32(m.Into), uint32(m.From))]; seen {
				return fmt.Errorf("refused merge of %d and %d logged twice", m.Into, m.From)
			}
			g.logRefused(m)
			return nil
		}
		if m.Into > m.From || !(r0 == ri && r1 == rf || r0 == rf && r1 == ri) {
			return fmt.Errorf("merge of %d into %d via nodes %d and %d is not one a graph makes", m.From, m.Into, m.Via[0], m.Via[1])
		}
		g.union(ri, rf, m)
	case OpErase:
		if _, ok := g.customerRep(c.Node); !ok {
			return fmt.Errorf("erase of %d, which is not a live customer", c.Node)
		}
		g.erase(uint32(c.Node))
	default:
		return fmt.Errorf("unknown operation %d", c.Op)
	}
	return nil
}

// customerRep returns the representative of the set whose customer id is
// cust, if cust is one.
func (g *Graph) customerRep(cust uint64) (uint32, bool) {
	n, ok := g.liveNode(cust)
	if !ok {
		return 0, false
	}
	r := g.findW(n)
	return r, g.info[r].cust == n
}

// The change encoding's version: the first byte of every encoded batch.
const changesV1 = 1

// The kind codes of the change encoding: the fixed kinds by index, any
// other kind spelled out after kindLiteral.
const kindLiteral = fixedKinds

// EncodeChanges encodes changes for the write-ahead log. The format is
// described in docs/identity.md.
func EncodeChanges(changes []Change) []byte {
	return AppendChanges(nil, changes)
}

// AppendChanges appends the encoding of changes to dst and returns it.
func AppendChanges(dst []byte, changes []Change) []byte {
	dst = append(dst, changesV1)
	dst = binary.AppendUvarint(dst, uint64(len(changes)))
	var prev uint64
	for _, c := range changes {
		// Sequence numbers of one batch are consecutive, so after the
		// first the delta is one byte.
		dst = binary.AppendUvarint(dst, c.Seq-prev)
		prev = c.Seq
		dst = append(dst, byte(c.Op))
		switch c.Op {
		case OpNode:
			dst = binary.AppendUvarint(dst, c.Node)
			dst = appendKind(dst, c.ID.Kind)
			dst = appendString(dst, c.ID.Value)
		case OpMerge:
			dst = appendMerge(dst, c.Merge)
		case OpErase:
			dst = binary.AppendUvarint(dst, c.Node)
		}
	}
	return dst
}

func appendKind(dst []byte, kind string) []byte {
	for i, k := range fixedKindNames {
		if k == kind {
			return append(dst, byte(i))
		}
	}
	dst = append(dst, byte(kindLiteral))
	return appendString(dst, kind)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// appendMerge writes a merge without its Seq, which the reader knows.
func appendMerge(dst []byte, m Merge) []byte {
	dst = binary.AppendUvarint(dst, m.Into)
	dst = binary.AppendUvarint(dst, m.From)
	dst = binary.AppendUvarint(dst, m.Via[0])
	dst = binary.AppendUvarint(dst, m.Via[1])
	var flags byte
	if m.Refused {
		flags |= 1
	}
	dst = append(dst, flags)
	code := 0
	for i, r := range knownReasons {
		if r == m.Reason {
			code = i + 1
			break
		}
	}
	dst = binary.AppendUvarint(dst, uint64(code))
	if code == 0 {
		dst = appendString(dst, m.Reason)
	}
	dst = appendString(dst, m.Cause.MessageID)
	dst = appendString(dst, m.Cause.Type)
	dst = binary.AppendVarint(dst, m.Cause.Time.Unix())
	return binary.AppendUvarint(dst, uint64(m.Cause.Time.Nanosecond()))
}

// DecodeChanges decodes what EncodeChanges wrote. Any deviation from the
// format (a truncated record, an unknown operation or version, bytes
// left over) fails with an error wrapping ErrCorrupt.
func DecodeChanges(b []byte) ([]Change, error) {
	d := decoder{b: b}
	if v := d.byte(); d.err == nil && v != changesV1 {
		return nil, fmt.Errorf("decode identity changes: %w: unknown version %d", ErrCorrupt, v)
	}
	n := d.uvarint()
	// Every change takes at least three bytes; a count beyond that is a
	// lie that must not turn into a huge allocation.
	if d.err == nil && n > uint64(len(d.b))/3 {
		return nil, fmt.Errorf("decode identity changes: %w: %d changes in %d bytes", ErrCorrupt, n, len(d.b))
	}
	out := make([]Change, 0, n)
	var seq uint64
	for i := uint64(0); i < n && d.err == nil; i++ {
		delta := d.uvarint()
		// Sequence numbers start at 1 and increase.
		if d.err == nil && (delta == 0 || seq+delta < seq) {
			d.fail("change %d: sequence does not increase", i)
		}
		seq += delta
		c := Change{Seq: seq, Op: Op(d.byte())}
		switch c.Op {
		case OpNode:
			c.Node = d.uvarint()
			c.ID.Kind = d.kind()
			c.ID.Value = d.string(maxValueLen)
		case OpMerge:
			c.Merge = decodeMerge(&d)
			c.Merge.Seq = seq
		case OpErase:
			c.Node = d.uvarint()
		default:
			d.fail("change %d: unknown operation %d", i, c.Op)
		}
		out = append(out, c)
	}
	if d.err == nil && len(d.b) > 0 {
		d.fail("%d bytes after the last change", len(d.b))
	}
	if d.err != nil {
		return nil, fmt.Errorf("decode identity changes: %w", d.err)
	}
	return out, nil
}

// decoder reads the change encoding from a byte slice. The first error
// sticks; later reads return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad or truncated varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad or truncated varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string(max int) string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) || n > uint64(max) {
		d.fail("string of %d bytes with %d left", n, len(d.b))
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) kind() string {
	k := d.byte()
	switch {
	case d.err != nil:
		return ""
	case uint64(k) < fixedKinds:
		return fixedKindNames[k]
	case uint64(k) == kindLiteral:
		return d.string(maxValueLen)
	}
	d.fail("unknown kind code %d", k)
	return ""
}
