package importer

import (
	"fmt"
	"strings"
	"time"
)

// parseISO reads an ISO-8601 / RFC 3339 / xs:dateTime time, the forms that
// event files use, without going through time.Parse's layout machinery
// (it runs once per event, so it is on the hot path of every import):
//
//	YYYY-MM-DD
//	YYYY-MM-DD(T|t| )hh:mm[:ss[(.|,)fraction]][zone]
//	zone: Z | z | ±hh | ±hhmm | ±hh:mm | " UTC" | " Z"
//
// A time without a zone is in loc. Fractions past nanoseconds are cut. The
// result is in UTC.
func parseISO(b []byte, loc *time.Location) (time.Time, bool) {
	if len(b) < 10 || b[4] != '-' || b[7] != '-' {
		return time.Time{}, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	if !ok1 || !ok2 || !ok3 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) {
		return time.Time{}, false
	}
	var hour, min, sec, nsec int
	rest := b[10:]
	if len(rest) > 0 {
		if c := rest[0]; c != 'T' && c != 't' && c != ' ' {
			return time.Time{}, false
		}
		rest = rest[1:]
		if len(rest) < 5 || rest[2] != ':' {
			return time.Time{}, false
		}
		var okh, okm bool
		hour, okh = digits(rest[0:2])
		min, okm = digits(rest[3:5])
		if !okh || !okm || hour > 23 || min > 59 {
			return time.Time{}, false
		}
		rest = rest[5:]
		if len(rest) >= 3 && rest[0] == ':' {
			var oks bool
			sec, oks = digits(rest[1:3])
			if !oks || sec > 59 {
				return time.Time{}, false
			}
			rest = rest[3:]
			if len(rest) > 1 && (rest[0] == '.' || rest[0] == ',') {
				i := 1
				scale := 100000000
				for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
					nsec += int(rest[i]-'0') * scale
					scale /= 10
				}
				if i == 1 {
					return time.Time{}, false
				}
				rest = rest[i:]
			}
		}
	}
	// Seconds since the epoch by arithmetic: time.Date's normalisation
	// costs more than the rest of the parse.
	unix := daysFromCivil(year, month, day)*86400 + int64(hour*3600+min*60+sec)
	switch {
	case len(rest) == 0:
		if loc != nil && loc != time.UTC {
			return time.Date(year, time.Month(month), day, hour, min, sec, nsec, loc).UTC(), true
		}
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case string(rest) == " UTC" || string(rest) == " Z":
	case rest[0] == '+' || rest[0] == '-':
		z := rest[1:]
		var zh, zm int
		var okh, okm bool
		switch len(z) {
		case 2:
			zh, okh = digits(z)
			okm = true
		case 4:
			zh, okh = digits(z[0:2])
			zm, okm = digits(z[2:4])
		case 5:
			if z[2] != ':' {
				return time.Time{}, false
			}
			zh, okh = digits(z[0:2])
			zm, okm = digits(z[3:5])
		}
		if !okh || !okm || zh > 23 || zm > 59 {
			return time.Time{}, false
		}
		off := int64(zh*3600 + zm*60)
		if rest[0] == '+' {
			unix -= off
		} else {
			unix += off
		}
	default:
		return time.Time{}, false
	}
	return time.Unix(unix, int64(nsec)).UTC(), true
}

// daysFromCivil is the number of days from 1970-01-01 to the given date
// of the proleptic Gregorian calendar (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := m - 3
	if m <= 2 {
		mp = m + 9
	}
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// digits reads a short run of ASCII digits.
func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// csvLayouts are the layouts a CSV time column is tried with after the
// ISO forms, most specific first. Day-first and month-first slashed dates
// ("02/01/2006") are left out on purpose: "03/04/2011" is both, and a
// wrong guess would silently move events by months; such files need
// CSVMapping.TimeLayout.
var csvLayouts = []string{
	"2006/01/02 15:04:05.999999999",
	"2006/01/02 15:04:05",
	"2006/01/02 15:04",
	"2006/01/02",
	"02.01.2006 15:04:05.999999999",
	"02.01.2006 15:04:05",
	"02.01.2006 15:04",
	"02.01.2006",
	time.RFC1123Z,
	time.RFC1123,
	time.RFC850,
	time.ANSIC,
	"2006-01-02 15:04:05.999999999 -0700 MST", // Go's own time.Time.String
}

// timeParser parses the times of one column: by a given layout, or by
// auto-detection, remembering the layout that worked last so that a file
// in one format pays for the detection once.
type timeParser struct {
	layout string // given by the user; "" for auto-detection
	loc    *time.Location
	last   string // auto: the layout that parsed the previous value
}

func (p *timeParser) parse(b []byte) (time.Time, error) {
	if p.layout != "" {
		t, err := time.ParseInLocation(p.layout, string(b), p.loc)
		if err != nil {
			return time.Time{}, fmt.Errorf("time %q does not match the layout %q", b, p.layout)
		}
		return t.UTC(), nil
	}
	if t, ok := parseISO(b, p.loc); ok {
		return t, nil
	}
	if t, ok := parseEpoch(b); ok {
		return t, nil
	}
	s := strings.TrimSpace(string(b))
	if p.last != "" {
		if t, err := time.ParseInLocation(p.last, s, p.loc); err == nil {
			return t.UTC(), nil
		}
	}
	for _, l := range csvLayouts {
		if t, err := time.ParseInLocation(l, s, p.loc); err == nil {
			p.last = l
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q is in no format trek recognises (ISO 8601, RFC 3339, 2006/01/02 15:04:05, 02.01.2006 15:04:05, RFC 1123, Unix seconds or milliseconds); give the column's layout", b)
}

// parseEpoch reads Unix seconds (10 digits) or milliseconds (13 digits):
// other lengths are too easily something else (20111011 is a date).
func parseEpoch(b []byte) (time.Time, bool) {
	if len(b) != 10 && len(b) != 13 {
		return time.Time{}, false
	}
	n := int64(0)
	for _, c := range b {
		if c < '0' || c > '9' {
			return time.Time{}, false
		}
		n = n*10 + int64(c-'0')
	}
	if len(b) == 10 {
		return time.Unix(n, 0).UTC(), true
	}
	return time.UnixMilli(n).UTC(), true
}
