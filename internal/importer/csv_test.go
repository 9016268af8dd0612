package importer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/importer"
)

var basicMapping = importer.CSVMapping{Customer: "case", Event: "activity", Time: "time"}

// TestCSVHeaderErrors checks that a file the mapping cannot apply to is
// refused whole, with a message that names the column.
func TestCSVHeaderErrors(t *testing.T) {
	for _, tc := range []struct {
		name, input string
		m           importer.CSVMapping
		want        string
	}{
		{"missing customer column", "id,activity,time\n", basicMapping, `csv: the customer column "case" is not in the header; its columns are: "id", "activity", "time"`},
		{"missing time column", "case,activity,when\n", basicMapping, `csv: the time column "time" is not in the header`},
		{"missing channel column", "case,activity,time\n", importer.CSVMapping{Customer: "case", Event: "activity", Time: "time", Channel: "channel"}, `csv: the channel column "channel" is not in the header`},
		{"incomplete mapping", "case,activity,time\n", importer.CSVMapping{Customer: "case"}, "csv: the column mapping is incomplete; event: name the column that holds the event; time: name the column that holds the time"},
		{"empty file", "", basicMapping, "csv: the file is empty: it needs a header row"},
		{"duplicate column", "case,activity,time,case\n", basicMapping, `csv: the header has two columns named "case"`},
		{"bad header", "case,\"activity,time\n", basicMapping, "csv: header: line 1, column"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readAll(t, csvReader(tc.m), tc.input)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if fault.CodeOf(err) != fault.Invalid {
				t.Errorf("code %s, want invalid", fault.CodeOf(err))
			}
		})
	}
}

// TestCSVRejects checks the rows that cannot be events: each is reported
// with its line and skipped, and the rows after it are read.
func TestCSVRejects(t *testing.T) {
	for _, tc := range []struct {
		name, row, want string
	}{
		{"no customer", ",A,2024-01-01T00:00:00Z", `no customer id in column "case"`},
		{"no event", "c,,2024-01-01T00:00:00Z", `no event name in column "activity"`},
		{"no time", "c,A,", `no time in column "time"`},
		{"bad time", "c,A,2024-01-01 25:00:00", `column "time": time "2024-01-01 25:00:00" is in no format trek recognises`},
		{"ambiguous date", "c,A,03/04/2024 10:00", `column "time": time "03/04/2024 10:00" is in no format trek recognises`},
		{"too few fields", "c,A", "row has 2 fields, the header has 3"},
		{"too many fields", "c,A,2024-01-01T00:00:00Z,x", "row has 4 fields, the header has 3"},
		{"bare quote", `c,A"B,2024-01-01T00:00:00Z`, `malformed CSV: bare " in non-quoted-field`},
		{"invalid utf-8", "c,caf\xe9,2024-01-01T00:00:00Z", `column "activity" is not valid UTF-8`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			input := "case,activity,time\nc,First,2024-01-01T00:00:00Z\n" + tc.row + "\nc,Last,2024-01-02T00:00:00Z\n"
			evs, rej, err := readAll(t, csvReader(basicMapping), input)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 2 || evs[0].Event != "First" || evs[1].Event != "Last" {
				t.Errorf("events %v", evs)
			}
			if len(rej) != 1 || rej[0].line != 3 || !strings.HasPrefix(rej[0].reason, tc.want) {
				t.Fatalf("rejects %+v, want line 3 %q", rej, tc.want)
			}
		})
	}
}

// TestCSVTimes checks the time formats detected without a layout, and a
// given layout.
func TestCSVTimes(t *testing.T) {
	want := time.Date(2024, 3, 1, 9, 30, 15, 0, time.UTC)
	for _, tc := range []struct {
		value, layout string
		want          time.Time
	}{
		{"2024-03-01T09:30:15Z", "", want},
		{"2024-03-01T10:30:15+01:00", "", want},
		{"2024-03-01 10:30:15.000000+01:00", "", want},
		{"2024-03-01 10:30:15+0100", "", want},
		{"2024-03-01 10:30:15+01", "", want},
		{"2024-03-01 09:30:15", "", want},
		{"2024-03-01t09:30:15z", "", want},
		{"2024-03-01 09:30:15 UTC", "", want},
		{"2024-03-01T09:30:15.123456789123Z", "", want.Add(123456789)},
		{"2024-03-01T09:30:15,5Z", "", want.Add(500 * time.Millisecond)},
		{"2024-03-01", "", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"2024/03/01 09:30:15", "", want},
		{"01.03.2024 09:30:15", "", want},
		{"Fri, 01 Mar 2024 09:30:15 +0000", "", want},
		{"1709285415", "", want},
		{"1709285415000", "", want},
		{"03/01/2024 09:30", "01/02/2006 15:04", want.Truncate(time.Minute)},
		{"1.3.24 9.30.15", "2.1.06 15.04.05", want},
	} {
		input := "case,activity,time\nc,A,\"" + tc.value + "\"\n"
		m := basicMapping
		m.TimeLayout = tc.layout
		evs, rej, err := readAll(t, csvReader(m), input)
		if err != nil || len(rej) > 0 || len(evs) != 1 {
			t.Errorf("%q: err %v, rejects %v", tc.value, err, rej)
			continue
		}
		if !evs[0].Timestamp.Equal(tc.want) || evs[0].Timestamp.Location() != time.UTC {
			t.Errorf("%q: %v, want %v", tc.value, evs[0].Timestamp, tc.want)
		}
	}
}

// TestCSVLayoutMismatch checks that a given layout is not second-guessed.
func TestCSVLayoutMismatch(t *testing.T) {
	m := basicMapping
	m.TimeLayout = "02/01/2006"
	_, rej, err := readAll(t, csvReader(m), "case,activity,time\nc,A,2024-03-01T09:30:15Z\n")
	if err != nil || len(rej) != 1 || rej[0].reason != `column "time": time "2024-03-01T09:30:15Z" does not match the layout "02/01/2006"` {
		t.Fatalf("err %v, rejects %v", err, rej)
	}
}

// TestCSVDialects checks separator detection, a byte-order mark, CRLF and
// quoted fields, times in a location, and properties.
func TestCSVDialects(t *testing.T) {
	athens, err := time.LoadLocation("Europe/Athens")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	for _, tc := range []struct {
		name, input string
		comma       rune
	}{
		{"semicolon", "\xef\xbb\xbfcase;activity;time;note\r\nc;A;2024-07-01 12:00:00;\"x; y\"\r\n", 0},
		{"tab", "case\tactivity\ttime\tnote\nc\tA\t2024-07-01 12:00:00\tx; y\n", 0},
		{"pipe", "case|activity|time|note\nc|A|2024-07-01 12:00:00|x; y\n", 0},
		{"given", "case;activity;time;note\nc;A;2024-07-01 12:00:00;x, y\n", ';'},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := basicMapping
			m.Comma = tc.comma
			m.Location = athens
			evs, rej, err := readAll(t, csvReader(m), tc.input)
			if err != nil || len(rej) > 0 || len(evs) != 1 {
				t.Fatalf("err %v, rejects %v, %d events", err, rej, len(evs))
			}
			e := evs[0]
			if e.UserID != "c" || e.Event != "A" || !e.Timestamp.Equal(time.Date(2024, 7, 1, 9, 0, 0, 0, time.UTC)) {
				t.Errorf("got %+v", e)
			}
			if note := e.Properties["note"]; note != "x; y" && note != "x, y" {
				t.Errorf("properties %v", e.Properties)
			}
		})
	}
}

// TestCSVLongRow checks the cap on a row's size: encoding/csv has none,
// and an unterminated quote would otherwise read the whole file into
// memory.
func TestCSVLongRow(t *testing.T) {
	opt := fixedOptions()
	opt.MaxRecordBytes = 1 << 10
	input := "case,activity,time\nc,\"" + strings.Repeat("x", 200<<10)
	_, err := importer.ReadCSV(t.Context(), strings.NewReader(input), basicMapping, opt, func(event.Event) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "csv: a row longer than 1024 bytes") {
		t.Fatalf("got %v", err)
	}
}
