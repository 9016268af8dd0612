package importer_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/importer"
)

// datasets finds ../shared/datasets, the real event logs that sit beside
// the repository, by walking up from the test's directory. The test is
// skipped only when it is truly absent.
func datasets(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "datasets")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no shared/datasets directory beside the repository or above it: the real-log tests need ../shared/datasets")
		}
		dir = parent
	}
}

// logShape is what process-mining users know of a log: cases, events,
// variants and event classes.
type logShape struct {
	customers, events, variants, names int
}

// shape computes a log's shape from the events a reader yields, the way
// DESIGN.md defines a journey: each customer's events ordered by time,
// ties kept in arrival (here: sink-call) order.
func shape(t testing.TB, events []event.Event) logShape {
	t.Helper()
	type arrived struct {
		e   *event.Event
		seq int
	}
	byCustomer := map[string][]arrived{}
	names := map[string]bool{}
	for i := range events {
		e := &events[i]
		byCustomer[e.UserID] = append(byCustomer[e.UserID], arrived{e, i})
		names[e.Activity()] = true
	}
	variants := map[string]int{}
	for _, evs := range byCustomer {
		slices.SortFunc(evs, func(a, b arrived) int {
			if c := a.e.Timestamp.Compare(b.e.Timestamp); c != 0 {
				return c
			}
			return a.seq - b.seq
		})
		var key strings.Builder
		for _, a := range evs {
			key.WriteString(a.e.Activity())
			key.WriteByte(0)
		}
		variants[key.String()]++
	}
	return logShape{customers: len(byCustomer), events: len(events), variants: len(variants), names: len(names)}
}

type readFunc func(ctx context.Context, r io.Reader, opt importer.Options, sink importer.Sink) (importer.Stats, error)

func xesReader(xo importer.XESOptions) readFunc {
	return func(ctx context.Context, r io.Reader, opt importer.Options, sink importer.Sink) (importer.Stats, error) {
		return importer.ReadXES(ctx, r, xo, opt, sink)
	}
}

func csvReader(m importer.CSVMapping) readFunc {
	return func(ctx context.Context, r io.Reader, opt importer.Options, sink importer.Sink) (importer.Stats, error) {
		return importer.ReadCSV(ctx, r, m, opt, sink)
	}
}

// collect reads a file with read and returns its events, failing the test
// on any reject.
func collect(t testing.TB, path string, read readFunc, opt importer.Options) ([]event.Event, importer.Stats) {
	t.Helper()
	f, err := importer.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if opt.OnReject == nil {
		opt.OnReject = func(line int, reason string, raw []byte) {
			t.Errorf("%s: line %d rejected: %s", filepath.Base(path), line, reason)
		}
	}
	var out []event.Event
	st, err := read(t.Context(), f, opt, func(e event.Event) error {
		out = append(out, e)
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	return out, st
}

var receiptMapping = importer.CSVMapping{Customer: "case:concept:name", Event: "concept:name", Time: "time:timestamp"}

// TestRealLogs imports the real logs in ../shared/datasets and checks the
// counts their README gives, which are also what pm4py reports for them.
func TestRealLogs(t *testing.T) {
	dir := datasets(t)
	for _, tc := range []struct {
		name string
		file string
		read readFunc
		want logShape
	}{
		{"bpic2012", "bpic2012.xes.gz", xesReader(importer.XESOptions{}), logShape{13087, 262200, 4366, 24}},
		{"bpic2012 with lifecycle", "bpic2012.xes.gz", xesReader(importer.XESOptions{WithLifecycle: true}), logShape{13087, 262200, 0, 36}},
		{"helpdesk", "helpdesk.xes.gz", xesReader(importer.XESOptions{}), logShape{4580, 21348, 226, 0}},
		{"receipt", "receipt.csv", csvReader(receiptMapping), logShape{1434, 8577, 116, 0}},
		{"running example", "running-example.xes", xesReader(importer.XESOptions{}), logShape{6, 42, 6, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			events, st := collect(t, filepath.Join(dir, tc.file), tc.read, importer.Options{SourceID: "src_test"})
			got := shape(t, events)
			// Zero in want: not a known number for that log.
			if tc.want.variants == 0 {
				got.variants = 0
			}
			if tc.want.names == 0 {
				got.names = 0
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if st.Events != int64(len(events)) || st.Rejected != 0 {
				t.Errorf("stats %+v for %d events", st, len(events))
			}
			ids := make(map[string]bool, len(events))
			for i := range events {
				e := &events[i]
				if ids[e.MessageID] {
					t.Fatalf("messageId %s given twice", e.MessageID)
				}
				ids[e.MessageID] = true
				if e.Type != event.Track || e.SourceID != "src_test" || e.Channel != "other" || e.Timestamp.IsZero() || e.ReceivedAt.IsZero() {
					t.Fatalf("event %d: %+v", i, e)
				}
				if err := event.Validate(e, event.Limits{NoPastBound: true}); err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
			}
		})
	}
}

// TestRealLogsBPIC2012Event checks one event of BPIC 2012 field by field:
// the mapping of XES onto trek's event.
func TestRealLogsBPIC2012Event(t *testing.T) {
	f, err := importer.Open(filepath.Join(datasets(t), "bpic2012.xes.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The first trace is enough: stop there.
	enough := errors.New("enough")
	var events []event.Event
	_, err = importer.ReadXES(t.Context(), f, importer.XESOptions{WithLifecycle: true}, importer.Options{SourceID: "s"}, func(e event.Event) error {
		if events = append(events, e); len(events) == 4 {
			return enough
		}
		return nil
	})
	if !errors.Is(err, enough) {
		t.Fatal(err)
	}
	e := events[3] // the fourth event of the first trace
	want := time.Date(2011, 9, 30, 22, 39, 38, 875e6, time.UTC)
	if e.UserID != "173688" || e.Event != "W_Completeren aanvraag+SCHEDULE" || !e.Timestamp.Equal(want) {
		t.Errorf("got %s %q at %v", e.UserID, e.Event, e.Timestamp)
	}
	if e.Properties["org:resource"] != "112" || e.Properties["lifecycle:transition"] != "SCHEDULE" || len(e.Properties) != 2 {
		t.Errorf("properties %v", e.Properties)
	}
	traits, _ := e.Context["traits"].(map[string]any)
	if traits["AMOUNT_REQ"] != "20000" || traits["REG_DATE"] != "2011-09-30T22:38:44.546Z" || len(traits) != 2 {
		t.Errorf("context %v", e.Context)
	}
}

// TestReimportSameIDs checks that reading a log twice gives the same
// messageIds, whatever the lifecycle flag, so that a repeated import is
// deduplicated.
func TestReimportSameIDs(t *testing.T) {
	dir := datasets(t)
	path := filepath.Join(dir, "running-example.xes")
	a, _ := collect(t, path, xesReader(importer.XESOptions{}), importer.Options{SourceID: "s"})
	b, _ := collect(t, path, xesReader(importer.XESOptions{WithLifecycle: true}), importer.Options{SourceID: "s", Now: func() time.Time { return importTime }})
	c, _ := collect(t, path, xesReader(importer.XESOptions{}), importer.Options{SourceID: "other"})
	for i := range a {
		if a[i].MessageID != b[i].MessageID {
			t.Errorf("event %d: messageId %s then %s", i, a[i].MessageID, b[i].MessageID)
		}
		if a[i].MessageID == c[i].MessageID {
			t.Errorf("event %d: the same messageId in two sources", i)
		}
	}
}
