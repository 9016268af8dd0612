package ingest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/identity"
	"github.com/trekhq/trek/internal/meta"
)

// CustomerPrefix starts every customer id trek gives out: "cus_" and the
// customer's root node in the identity graph.
const CustomerPrefix = "cus_"

// Customer is one person after stitching.
type Customer struct {
	ID          string                `json:"id"`
	Identifiers []identity.Identifier `json:"identifiers"`
	Traits      map[string]any        `json:"traits"`
	FirstSeen   *time.Time            `json:"firstSeen"`
	LastSeen    *time.Time            `json:"lastSeen"`
	EventCount  int                   `json:"eventCount"`
	Merges      []identity.Merge      `json:"merges"`
}

// CustomerID formats a customer id.
func CustomerID(root uint64) string { return CustomerPrefix + strconv.FormatUint(root, 10) }

// resolve finds a customer by trek's id or by any of their identifiers,
// trying the identifier kinds in order: userId, anonymousId, then the
// identifying traits (email, phone, ...), each normalised as at collection.
// A query passes the graph it loaded once, so that all its lookups see the
// same graph even if the writer rebuilds it meanwhile.
func (sp *space) resolve(g *identity.Graph, idOrIdentifier string) (uint64, bool) {
	if rest, ok := strings.CutPrefix(idOrIdentifier, CustomerPrefix); ok {
		if n, err := strconv.ParseUint(rest, 10, 64); err == nil {
			if _, ok := g.Identifier(n); ok {
				return g.Customer(n), true
			}
		}
	}
	kinds := append([]string{identity.KindUserID, identity.KindAnonymousID}, sp.p.cfg.Identity.TraitKeys...)
	for _, k := range kinds {
		v := sp.p.cfg.Identity.Canonical(k, idOrIdentifier)
		if v == "" {
			continue
		}
		if c, ok := g.Lookup(identity.Identifier{Kind: k, Value: v}); ok {
			return c, true
		}
	}
	return 0, false
}

// events returns every event of a customer, across all their keys, in
// time order (ties keep each key's arrival order).
func (sp *space) events(ctx context.Context, g *identity.Graph, root uint64) ([]event.Event, error) {
	var all []event.Event
	for _, k := range g.Keys(root) {
		evs, err := sp.store.Events(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("read events of key %d: %w", k, err)
		}
		all = append(all, evs...)
	}
	slices.SortFunc(all, func(a, b event.Event) int {
		if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
			return c
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
	return all, nil
}

// Customer returns a customer found by trek's id or any identifier.
func (p *Pipeline) Customer(ctx context.Context, wsID, idOrIdentifier string) (Customer, error) {
	sp, err := p.space(ctx, wsID)
	if err != nil {
		return Customer{}, err
	}
	g := sp.graph.Load()
	root, ok := sp.resolve(g, idOrIdentifier)
	if !ok {
		return Customer{}, fault.New(fault.NotFound, "no customer with id or identifier %q", idOrIdentifier)
	}
	evs, err := sp.events(ctx, g, root)
	if err != nil {
		return Customer{}, err
	}
	c := Customer{ID: CustomerID(root), Identifiers: g.Members(root), Traits: map[string]any{},
		EventCount: len(evs), Merges: g.MergeLog(root)}
	if c.Merges == nil {
		c.Merges = []identity.Merge{}
	}
	if len(evs) > 0 {
		first, last := evs[0].Timestamp, evs[len(evs)-1].Timestamp
		c.FirstSeen, c.LastSeen = &first, &last
	}
	// Traits: identify calls' traits, the latest value of each winning.
	for _, e := range evs {
		if e.Type != event.Identify {
			continue
		}
		for k, v := range e.Traits {
			c.Traits[k] = v
		}
	}
	return c, nil
}

// Timeline returns a page of a customer's events across every channel, in
// time order, and the cursor of the next page ("" at the end).
func (p *Pipeline) Timeline(ctx context.Context, wsID, idOrIdentifier string, limit int, cursor string) ([]event.Event, string, error) {
	sp, err := p.space(ctx, wsID)
	if err != nil {
		return nil, "", err
	}
	g := sp.graph.Load()
	root, ok := sp.resolve(g, idOrIdentifier)
	if !ok {
		return nil, "", fault.New(fault.NotFound, "no customer with id or identifier %q", idOrIdentifier)
	}
	off, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	evs, err := sp.events(ctx, g, root)
	if err != nil {
		return nil, "", err
	}
	if off > len(evs) {
		off = len(evs)
	}
	end := min(off+limit, len(evs))
	next := ""
	if end < len(evs) {
		next = encodeCursor(end)
	}
	return evs[off:end], next, nil
}

func encodeCursor(off int) string {
	return base64.RawURLEncoding.EncodeToString(binary.AppendUvarint(nil, uint64(off)))
}

func decodeCursor(c string) (int, error) {
	if c == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	n, k := binary.Uvarint(raw)
	if err != nil || k <= 0 || k != len(raw) || n > 1<<40 {
		return 0, fault.Fields("the request is not valid", []fault.FieldError{{Path: "cursor", Message: "is not a cursor this API gave out"}})
	}
	return int(n), nil
}

// Erase deletes a customer's events, traits and identifiers everywhere and
// keeps the identifiers on the suppression list; it records the erasure
// without personal data.
func (p *Pipeline) Erase(ctx context.Context, wsID, idOrIdentifier, by string) (meta.Erasure, error) {
	sp, err := p.space(ctx, wsID)
	if err != nil {
		return meta.Erasure{}, err
	}
	root, ok := sp.resolve(sp.graph.Load(), idOrIdentifier)
	if !ok {
		return meta.Erasure{}, fault.New(fault.NotFound, "no customer with id or identifier %q", idOrIdentifier)
	}
	r := &request{kind: reqErase, customer: root, by: by}
	if _, err := sp.submit(ctx, r); err != nil {
		return meta.Erasure{}, err
	}
	return r.erased, nil
}

// erase runs on the writer goroutine. Events go first: if trek stops
// between the two steps, the customer is left with no events and the
// erasure is simply asked for again; the other order could leave events
// that no identifier leads to any more.
func (sp *space) erase(ctx context.Context, root uint64, by string) (meta.Erasure, error) {
	g := sp.graph.Load()
	keys := g.Keys(root)
	if len(keys) == 0 {
		return meta.Erasure{}, fault.New(fault.NotFound, "customer %s was already erased", CustomerID(root))
	}
	removed, err := sp.store.Erase(ctx, keys)
	if err != nil {
		return meta.Erasure{}, &fault.Error{Code: fault.Unavailable, Message: "could not erase the customer's events; retry", Err: err}
	}
	erased, _ := g.Erase(root)
	if err := sp.logIdentity(ctx); err != nil {
		return meta.Erasure{}, err
	}
	// The identity log's earlier records name the erased identifiers in
	// clear; a snapshot (which keeps only their keyed hashes) replaces them.
	if err := sp.snapshot(true); err != nil {
		return meta.Erasure{}, &fault.Error{Code: fault.Unavailable, Message: "the customer was erased but the identity log could not be compacted; retry", Err: err}
	}
	if err := sp.purgeQuarantine(ctx, erased); err != nil {
		return meta.Erasure{}, fmt.Errorf("purge quarantine of %s: %w", CustomerID(root), err)
	}
	rec, err := sp.p.meta.RecordErasure(ctx, sp.ws, meta.Erasure{CustomerID: CustomerID(root), Identifiers: len(erased), Events: removed, By: by})
	if err != nil {
		return meta.Erasure{}, fmt.Errorf("record erasure of %s: %w", CustomerID(root), err)
	}
	return rec, nil
}

// purgeQuarantine deletes quarantined payloads that mention any of the
// erased identifiers: refused events are personal data too.
func (sp *space) purgeQuarantine(ctx context.Context, erased []identity.Identifier) error {
	needles := make([][]byte, 0, len(erased))
	for _, id := range erased {
		q, _ := json.Marshal(id.Value)
		needles = append(needles, q)
	}
	const page = 1000
	for off := 0; ; off += page {
		items, err := sp.p.meta.QuarantineItems(ctx, sp.ws, meta.QuarantineFilter{Limit: page, Offset: off})
		if err != nil {
			return err
		}
		var doomed []string
		for _, it := range items {
			for _, n := range needles {
				if bytes.Contains(it.Raw, n) {
					doomed = append(doomed, it.ID)
					break
				}
			}
		}
		if len(doomed) > 0 {
			if _, err := sp.p.meta.DeleteQuarantine(ctx, sp.ws, doomed); err != nil {
				return err
			}
			off -= len(doomed)
		}
		if len(items) < page {
			return nil
		}
	}
}
