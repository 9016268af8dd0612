package event

import "time"

// ParseTime reads an ISO-8601 time as Segment clients send it:
//
//	2024-03-01T12:30:00.123Z           (JavaScript's toISOString)
//	2024-03-01T12:30:00+07:00          (RFC 3339, any offset)
//	2024-03-01T12:30:00.123456789+0700 (offset without colon, or ±hh)
//	2024-03-01 12:30:00Z               (space for T, as SQL dumps write)
//	2024-03-01T12:30                   (no seconds)
//	2024-03-01                         (a date: midnight)
//
// A time without an offset is taken as UTC: ISO-8601 calls it local time,
// but the sender's zone is unknown, and UTC is what Segment assumes. The
// fraction may have 1 to 9 digits. The result is in UTC. ok is false for
// anything else, including impossible dates (2024-02-30) and leap seconds.
//
// It is hand-written because it runs once or twice per collected event and
// time.Parse with several layouts tried in turn cost more than the rest
// of the event's validation.
func ParseTime(s string) (t time.Time, ok bool) {
	num := func(i, n int) (int, bool) {
		if i+n > len(s) {
			return 0, false
		}
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 2)
	day, ok3 := num(8, 2)
	if !ok1 || !ok2 || !ok3 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	var hour, min, sec, nsec int
	i := 10
	if i < len(s) && (s[i] == 'T' || s[i] == 't' || s[i] == ' ') {
		var okh, okm bool
		hour, okh = num(i+1, 2)
		min, okm = num(i+4, 2)
		if !okh || !okm || s[i+3] != ':' {
			return time.Time{}, false
		}
		i += 6
		if i < len(s) && s[i] == ':' {
			var oks bool
			if sec, oks = num(i+1, 2); !oks {
				return time.Time{}, false
			}
			i += 3
			if i < len(s) && (s[i] == '.' || s[i] == ',') {
				i++
				digits := 0
				for i < len(s) && s[i] >= '0' && s[i] <= '9' {
					if digits == 9 {
						return time.Time{}, false
					}
					nsec = nsec*10 + int(s[i]-'0')
					digits++
					i++
				}
				if digits == 0 {
					return time.Time{}, false
				}
				for ; digits < 9; digits++ {
					nsec *= 10
				}
			}
		}
	}
	offset := 0
	if i < len(s) {
		switch s[i] {
		case 'Z', 'z':
			i++
		case '+', '-':
			sign := 1
			if s[i] == '-' {
				sign = -1
			}
			oh, okh := num(i+1, 2)
			if !okh || oh > 23 {
				return time.Time{}, false
			}
			i += 3
			om := 0
			if i < len(s) {
				if s[i] == ':' {
					i++
				}
				var okm bool
				if om, okm = num(i, 2); !okm || om > 59 {
					return time.Time{}, false
				}
				i += 2
			}
			offset = sign * (oh*3600 + om*60)
		default:
			return time.Time{}, false
		}
	}
	if i != len(s) || month < 1 || month > 12 || day < 1 || hour > 23 || min > 59 || sec > 59 {
		return time.Time{}, false
	}
	t = time.Date(year, time.Month(month), day, hour, min, sec, nsec, time.UTC)
	if t.Day() != day { // time.Date normalised an impossible day (Feb 30)
		return time.Time{}, false
	}
	return t.Add(-time.Duration(offset) * time.Second), true
}
