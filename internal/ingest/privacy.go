package ingest

import (
	"maps"
	"net/netip"

	"github.com/trekhq/trek/internal/event"
)

// scrubIP removes the client address from an event's context, or with keep
// truncates it to its network, so that no full address is ever stored. The
// context map may be shared with other events (importers share one per
// trace), so it is copied before it is changed.
func scrubIP(e *event.Event, keep bool) {
	v, ok := e.Context["ip"]
	if !ok {
		return
	}
	ctx := maps.Clone(e.Context)
	delete(ctx, "ip")
	if s, isStr := v.(string); keep && isStr {
		if addr, err := netip.ParseAddr(s); err == nil {
			bits := 24
			if addr.Is6() && !addr.Is4In6() {
				bits = 48
			}
			if p, err := addr.Unmap().Prefix(bits); err == nil {
				ctx["ip"] = p.Addr().String()
			}
		}
	}
	e.Context = ctx
}
