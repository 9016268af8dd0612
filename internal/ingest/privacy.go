package ingest

import (
	"maps"
	"net/netip"

	"github.com/trekhq/trek/internal/event"
)

// clientIPKey is the context key of the client address. By default the
// event store leaves it out of every event it stores (store.Options
// OmitContext), so that no address is ever written; with KeepClientIP,
// truncateIP cuts it to its network first.
const clientIPKey = "ip"

// truncateIP replaces the client address in an event's context with its
// network (/24 for IPv4, /48 for IPv6), and drops a value that is not an
// address. The context map may be shared with other events (importers
// share one per trace), so it is copied before it is changed.
func truncateIP(e *event.Event) {
	v, ok := e.Context[clientIPKey]
	if !ok {
		return
	}
	ctx := maps.Clone(e.Context)
	delete(ctx, clientIPKey)
	if s, isStr := v.(string); isStr {
		if addr, err := netip.ParseAddr(s); err == nil {
			bits := 24
			if addr.Is6() && !addr.Is4In6() {
				bits = 48
			}
			if p, err := addr.Unmap().Prefix(bits); err == nil {
				ctx[clientIPKey] = p.Addr().String()
			}
		}
	}
	e.Context = ctx
}
