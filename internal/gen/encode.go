package gen

import (
	"strconv"
	"time"
)

// appendNDJSON appends the person just generated to the chunk, one JSON
// line per call. It is written by hand, not with encoding/json, because
// generation is meant to run at a million events a second and reflection
// alone would cost several times that budget.
func (w *worker) appendNDJSON() {
	b := w.c.buf
	w.buildDeviceContexts()
	for _, j := range w.out {
		b = w.appendRec(b, &w.recs[j])
		b = append(b, '\n')
	}
	w.c.buf = b
}

func (w *worker) appendRec(b []byte, r *rec) []byte {
	typ := r.typ
	b = append(b, `{"type":"`...)
	b = append(b, typeNames[typ]...)
	b = append(b, '"')
	if typ == tTrack && r.act < nNames {
		b = append(b, `,"event":`...)
		b = appendStr(b, activityNames[r.act])
	}
	if (typ == tPage || typ == tScreen) && r.name != "" {
		b = append(b, `,"name":`...)
		b = appendStr(b, r.name)
	}
	b = append(b, `,"messageId":"`...)
	b = appendUUID(b, r.msg)
	b = append(b, `","timestamp":"`...)
	b = w.appendTime(b, r.raw)
	b = append(b, '"')
	if !w.p.omitSentAt {
		if r.sent != 0 {
			b = append(b, `,"sentAt":"`...)
			b = w.appendTime(b, r.sent)
			b = append(b, '"')
		}
		b = append(b, `,"receivedAt":"`...)
		b = w.appendTime(b, r.recv)
		b = append(b, '"')
	}
	if r.invalid != invNoIdentifier {
		if r.dev >= 0 {
			b = append(b, `,"anonymousId":`...)
			b = appendStr(b, w.devs[r.dev].anon)
		}
		if r.user != idNone {
			b = append(b, `,"userId":`...)
			b = appendStr(b, w.uid(r.user))
		}
		if r.prev != idNone {
			b = append(b, `,"previousId":`...)
			b = appendStr(b, w.uid(r.prev))
		}
	}
	if r.group {
		b = append(b, `,"groupId":`...)
		b = appendStr(b, w.groupID)
	}
	if r.p1 > r.p0 {
		if typ == tIdentify || typ == tGroup {
			b = append(b, `,"traits":{`...)
		} else {
			b = append(b, `,"properties":{`...)
		}
		for k, x := range w.kvs[r.p0:r.p1] {
			if k > 0 {
				b = append(b, ',')
			}
			b = appendStr(b, x.key)
			b = append(b, ':')
			b = w.appendValue(b, &x)
		}
		b = append(b, '}')
	}
	b = append(b, `,"context":{"channel":"`...)
	b = append(b, channelNames[r.ch]...)
	b = append(b, '"')
	if r.dev >= 0 {
		b = append(b, w.devCtx[r.dev]...)
	} else {
		b = append(b, serverContext...)
	}
	if c := r.camp; c != nil {
		b = append(b, `,"campaign":{"source":`...)
		b = appendStr(b, c.source)
		b = append(b, `,"medium":`...)
		b = appendStr(b, c.medium)
		if c.name != "" {
			b = append(b, `,"name":`...)
			b = appendStr(b, c.name)
		}
		if c.content != "" {
			b = append(b, `,"content":`...)
			b = appendStr(b, c.content)
		}
		b = append(b, '}')
	}
	return append(b, "}}"...)
}

func (w *worker) uid(which uint8) string {
	if which == idLoyalty {
		return w.loyaltyID
	}
	return w.userID
}

const serverContext = `,"library":{"name":"` + serverLib + `","version":"` + serverLibVer + `"}`

// buildDeviceContexts renders, once per person, the part of the context
// that every event from one device repeats.
func (w *worker) buildDeviceContexts() {
	for d := 0; d < w.nDev; d++ {
		dv := &w.devs[d]
		m := dv.model
		b := w.devCtx[d][:0]
		b = append(b, `,"library":{"name":`...)
		b = appendStr(b, m.library)
		b = append(b, `,"version":`...)
		b = appendStr(b, m.libVersion)
		b = append(b, '}')
		if m.platform != pWeb {
			b = append(b, `,"app":{"name":`...)
			b = appendStr(b, appName)
			b = append(b, `,"version":`...)
			b = appendStr(b, m.appVersion)
			b = append(b, `,"build":`...)
			b = appendStr(b, m.appBuild)
			b = append(b, '}')
		}
		b = append(b, `,"device":{"type":"`...)
		b = append(b, platformNames[m.platform]...)
		b = append(b, '"')
		if m.platform != pWeb {
			b = append(b, `,"manufacturer":`...)
			b = appendStr(b, m.manufacturer)
			b = append(b, `,"model":`...)
			b = appendStr(b, m.model)
		}
		b = append(b, `},"os":{"name":`...)
		b = appendStr(b, m.os)
		b = append(b, `,"version":`...)
		b = appendStr(b, m.osVersion)
		b = append(b, `},"locale":`...)
		b = appendStr(b, w.loc.tag)
		b = append(b, `,"timezone":`...)
		b = appendStr(b, w.loc.timezone)
		b = append(b, `,"ip":`...)
		b = appendStr(b, dv.ip)
		if m.userAgent != "" {
			b = append(b, `,"userAgent":`...)
			b = appendStr(b, m.userAgent)
		}
		w.devCtx[d] = b
	}
}

func (w *worker) appendValue(b []byte, x *kv) []byte {
	switch x.kind {
	case kStr:
		return appendStr(b, x.s)
	case kInt:
		return strconv.AppendInt(b, x.n, 10)
	case kMoney:
		return strconv.AppendFloat(b, x.f, 'f', int(x.n), 64)
	case kBool:
		if x.n != 0 {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case kID:
		b = append(b, '"')
		b = append(b, x.s...)
		b = strconv.AppendUint(b, uint64(x.n), 16)
		return append(b, '"')
	case kTime:
		b = append(b, '"')
		b = appendTime(b, x.n)
		return append(b, '"')
	case kProducts:
		b = append(b, '[')
		for k, l := range w.prods[x.n>>32 : x.n&0xffffffff] {
			if k > 0 {
				b = append(b, ',')
			}
			pr := &products[l.prod]
			b = append(b, `{"product_id":`...)
			b = appendStr(b, pr.id)
			b = append(b, `,"sku":`...)
			b = appendStr(b, pr.sku)
			b = append(b, `,"name":`...)
			b = appendStr(b, pr.name)
			b = append(b, `,"brand":`...)
			b = appendStr(b, pr.brand)
			b = append(b, `,"category":`...)
			b = appendStr(b, pr.category)
			b = append(b, `,"price":`...)
			b = strconv.AppendFloat(b, l.price, 'f', w.loc.decimals, 64)
			b = append(b, `,"quantity":`...)
			b = strconv.AppendInt(b, int64(l.qty), 10)
			b = append(b, '}')
		}
		return append(b, ']')
	}
	return append(b, "null"...)
}

// appendStr appends s as a JSON string. It does not escape: every string
// the generator writes comes from its own tables or is built from them,
// digits and hex, and none holds a quote, a backslash or a control
// character (TestCatalogueNeedsNoEscaping checks the tables). Escaping
// each byte would cost a sixth of the generator's time.
func appendStr(b []byte, s string) []byte {
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// needsEscape reports whether s could not be written by appendStr.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			return true
		}
	}
	return false
}

// appendTime appends ms (since the epoch) as ISO-8601 UTC with
// milliseconds, the way Segment's libraries write times. Dates outside
// years 0–9999 go through the time package.
func appendTime(b []byte, ms int64) []byte {
	days := floorDiv(ms, day)
	rem := ms - days*day
	y, m, d := civil(days)
	if y < 0 || y > 9999 {
		return time.UnixMilli(ms).UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	}
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	return appendClock(b, rem)
}

// appendTime is the package appendTime with the date part of the last day it
// wrote kept, since a person's events fall on a handful of days.
func (w *worker) appendTime(b []byte, ms int64) []byte {
	days := floorDiv(ms, day)
	if days != w.lastDay || len(w.dayPrefix) == 0 {
		w.dayPrefix = appendTime(w.dayPrefix[:0], days*day)
		if len(w.dayPrefix) != len("2006-01-02T00:00:00.000Z") {
			return appendTime(b, ms)
		}
		w.dayPrefix = w.dayPrefix[:len("2006-01-02T")]
		w.lastDay = days
	}
	b = append(b, w.dayPrefix...)
	return appendClock(b, ms-days*day)
}

// appendClock appends the time of day rem (ms) as hh:mm:ss.mmmZ.
func appendClock(b []byte, rem int64) []byte {
	b = append2(b, rem/hour)
	b = append(b, ':')
	b = append2(b, rem/minute%60)
	b = append(b, ':')
	b = append2(b, rem/second%60)
	b = append(b, '.')
	f := rem % second
	b = append(b, byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10))
	return append(b, 'Z')
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && (a < 0) {
		q--
	}
	return q
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's days_from_civil, inverted).
func civil(days int64) (y, m, d int64) {
	z := days + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func append2(b []byte, x int64) []byte { return append(b, byte('0'+x/10), byte('0'+x%10)) }

func append4(b []byte, x int64) []byte {
	return append(b, byte('0'+x/1000), byte('0'+x/100%10), byte('0'+x/10%10), byte('0'+x%10))
}
