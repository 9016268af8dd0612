package gen

import (
	"strconv"
	"time"

	"github.com/trekhq/trek/internal/event"
)

// appendEvents appends the person just generated to the chunk as
// event.Event values.
func (w *worker) appendEvents() {
	for _, j := range w.out {
		w.c.events = append(w.c.events, w.toEvent(&w.recs[j]))
	}
}

func (w *worker) toEvent(r *rec) event.Event {
	e := event.Event{
		MessageID: string(appendUUID(make([]byte, 0, 36), r.msg)),
		Type:      event.Type(typeNames[r.typ]),
		Channel:   channelNames[r.ch],
		SourceID:  sources[r.ch].ID,
	}
	if r.typ == tTrack && r.act < nNames {
		e.Event = activityNames[r.act]
	}
	if r.typ == tPage || r.typ == tScreen {
		e.Name = r.name
	}
	if r.invalid != invNoIdentifier {
		if r.dev >= 0 {
			e.AnonymousID = w.devs[r.dev].anon
		}
		if r.user != idNone {
			e.UserID = w.uid(r.user)
		}
		if r.prev != idNone {
			e.PreviousID = w.uid(r.prev)
		}
	}
	if r.group {
		e.GroupID = w.groupID
	}
	if r.p1 > r.p0 {
		m := make(map[string]any, r.p1-r.p0)
		for _, x := range w.kvs[r.p0:r.p1] {
			m[x.key] = w.value(&x)
		}
		if r.typ == tIdentify || r.typ == tGroup {
			e.Traits = m
		} else {
			e.Properties = m
		}
	}
	e.Context = w.contextMap(r)
	e.OriginalTimestamp = time.UnixMilli(r.raw).UTC()
	e.Timestamp = e.OriginalTimestamp
	if r.sent != 0 {
		e.SentAt = time.UnixMilli(r.sent).UTC()
		e.Timestamp = time.UnixMilli(r.raw + r.recv - r.sent).UTC()
	}
	e.ReceivedAt = time.UnixMilli(r.recv).UTC()
	return e
}

func (w *worker) value(x *kv) any {
	switch x.kind {
	case kStr:
		return x.s
	case kInt:
		return x.n
	case kMoney:
		return x.f
	case kBool:
		return x.n != 0
	case kID:
		return x.s + strconv.FormatUint(uint64(x.n), 16)
	case kTime:
		return string(appendTime(nil, x.n))
	case kProducts:
		lines := w.prods[x.n>>32 : x.n&0xffffffff]
		out := make([]any, len(lines))
		for k, l := range lines {
			pr := &products[l.prod]
			out[k] = map[string]any{
				"product_id": pr.id, "sku": pr.sku, "name": pr.name, "brand": pr.brand,
				"category": pr.category, "price": l.price, "quantity": int64(l.qty),
			}
		}
		return out
	}
	return nil
}

// contextMap is the context appendRec writes, as maps.
func (w *worker) contextMap(r *rec) map[string]any {
	c := map[string]any{"channel": channelNames[r.ch]}
	if r.dev < 0 {
		c["library"] = map[string]any{"name": serverLib, "version": serverLibVer}
	} else {
		dv := &w.devs[r.dev]
		m := dv.model
		c["library"] = map[string]any{"name": m.library, "version": m.libVersion}
		dev := map[string]any{"type": platformNames[m.platform]}
		if m.platform != pWeb {
			c["app"] = map[string]any{"name": appName, "version": m.appVersion, "build": m.appBuild}
			dev["manufacturer"] = m.manufacturer
			dev["model"] = m.model
		}
		c["device"] = dev
		c["os"] = map[string]any{"name": m.os, "version": m.osVersion}
		c["locale"] = w.loc.tag
		c["timezone"] = w.loc.timezone
		c["ip"] = dv.ip
		if m.userAgent != "" {
			c["userAgent"] = m.userAgent
		}
	}
	if cp := r.camp; cp != nil {
		cm := map[string]any{"source": cp.source, "medium": cp.medium}
		if cp.name != "" {
			cm["name"] = cp.name
		}
		if cp.content != "" {
			cm["content"] = cp.content
		}
		c["campaign"] = cm
	}
	return c
}
