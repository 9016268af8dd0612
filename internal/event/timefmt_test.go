package event_test

import (
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
)

func TestParseTime(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"2024-03-01T12:30:00.123Z", utc(2024, 3, 1, 12, 30, 0, 123e6)},
		{"2024-03-01T12:30:00Z", utc(2024, 3, 1, 12, 30, 0, 0)},
		{"2024-03-01t12:30:00z", utc(2024, 3, 1, 12, 30, 0, 0)},
		{"2024-03-01T12:30:00+07:00", utc(2024, 3, 1, 5, 30, 0, 0)},
		{"2024-03-01T12:30:00-03:30", utc(2024, 3, 1, 16, 0, 0, 0)},
		{"2024-03-01T12:30:00.123456789+0700", utc(2024, 3, 1, 5, 30, 0, 123456789)},
		{"2024-03-01T12:30:00+02", utc(2024, 3, 1, 10, 30, 0, 0)},
		{"2024-03-01 12:30:00Z", utc(2024, 3, 1, 12, 30, 0, 0)},
		{"2024-03-01T12:30:00,5Z", utc(2024, 3, 1, 12, 30, 0, 5e8)},
		{"2024-03-01T12:30", utc(2024, 3, 1, 12, 30, 0, 0)},
		{"2024-03-01T12:30:00", utc(2024, 3, 1, 12, 30, 0, 0)},
		{"2024-03-01", utc(2024, 3, 1, 0, 0, 0, 0)},
		{"2024-02-29T00:00:00Z", utc(2024, 2, 29, 0, 0, 0, 0)},
		{"2011-10-01T00:38:44.546+02:00", utc(2011, 9, 30, 22, 38, 44, 546e6)},
	} {
		got, ok := event.ParseTime(c.in)
		if !ok || !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %s, %v; want %s", c.in, got, ok, c.want)
		}
	}
	for _, in := range []string{
		"", "yesterday", "2024", "2024-3-1", "2024-03-01T", "2024-03-01T12", "2024-03-01T12:30:00.Z",
		"2024-03-01T12:30:00.1234567891Z", "2024-13-01", "2024-00-10", "2023-02-29", "2024-04-31",
		"2024-03-01T24:00:00Z", "2024-03-01T12:60:00Z", "2024-03-01T12:30:60Z", "2024-03-01T12:30:00+24:00",
		"2024-03-01T12:30:00+07:60", "2024-03-01T12:30:00 Z", "2024-03-01T12:30:00Z ", "1740830400000",
		"2024-03-01T12:30:00+7", "2024-03-01T12:30:00UTC", "２０２４-03-01",
	} {
		if got, ok := event.ParseTime(in); ok {
			t.Errorf("ParseTime(%q) = %s; want refused", in, got)
		}
	}
}

// TestParseTimeAgreesWithRFC3339 checks the hand-written parser against
// the standard library on the RFC 3339 subset they share.
func TestParseTimeAgreesWithRFC3339(t *testing.T) {
	base := time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC)
	zones := []*time.Location{time.UTC, time.FixedZone("", 7*3600), time.FixedZone("", -(3*3600 + 30*60)), time.FixedZone("", 14*3600)}
	for i := range 2000 {
		tm := base.Add(time.Duration(i) * 7919 * time.Hour / 13).Add(time.Duration(i*104729) % time.Second).In(zones[i%len(zones)])
		s := tm.Format(time.RFC3339Nano)
		got, ok := event.ParseTime(s)
		want, err := time.Parse(time.RFC3339Nano, s)
		if !ok || err != nil || !got.Equal(want) {
			t.Fatalf("%s: got %s %v, time.Parse %s %v", s, got, ok, want, err)
		}
	}
}
