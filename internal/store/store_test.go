package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/wal"
)

// openStore opens a store for a test. Its log is not fsynced: the tests
// that need durability against a real crash (the SIGKILL test) open
// their stores themselves; every other reopen here follows a Close, which
// syncs, and an fsync per append would only make the tests slow.
func openStore(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	opts.Sync = wal.SyncNever
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := Open(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func appendAll(t testing.TB, s *Store, recs []Record, batch int) {
	t.Helper()
	for i := 0; i < len(recs); i += batch {
		if err := s.Append(context.Background(), recs[i:min(i+batch, len(recs))]); err != nil {
			t.Fatal(err)
		}
	}
}

// journeys reads the whole store through Journeys, checking that keys
// come in ascending order, each once.
func journeys(t testing.TB, s *Store) []keyed {
	t.Helper()
	var out []keyed
	first := true
	var last uint64
	err := s.Journeys(context.Background(), func(key uint64, evs []event.Event) error {
		if !first && key <= last {
			t.Fatalf("key %d after key %d", key, last)
		}
		if len(evs) == 0 {
			t.Fatalf("key %d with no events", key)
		}
		first, last = false, key
		for _, e := range evs {
			out = append(out, keyed{key, normalize(e)})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameJourneys(t testing.TB, got, want []keyed) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d events, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("event %d differs:\n got  %+v\n want %+v", i, got[i], want[i])
		}
	}
}

// useSmallBlocks makes column files of many small blocks, so that small
// tests cross block boundaries. Tests that use it do not run in parallel.
func useSmallBlocks(t *testing.T, rows int) {
	old := defaultBlockRows
	defaultBlockRows = rows
	t.Cleanup(func() { defaultBlockRows = old })
}

func TestReopenReplaysTheLogIntoTheSameJourneys(t *testing.T) {
	dir := t.TempDir()
	recs := genArrival(genConfig{Seed: 1, Customers: 300})
	want := expected(recs)
	s := openStore(t, dir, Options{})
	appendAll(t, s, recs, 37)
	sameJourneys(t, journeys(t, s), want)
	if st := s.Stats(); st.Events != int64(len(recs)) || st.HeadEvents != int64(len(recs)) || st.ColumnFiles != 0 || st.Keys != 300 {
		t.Errorf("stats %+v", st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, Options{})
	sameJourneys(t, journeys(t, s), want)
}

func TestFoldedEventsSurviveReopen(t *testing.T) {
	useSmallBlocks(t, 100)
	dir := t.TempDir()
	recs := genArrival(genConfig{Seed: 2, Customers: 300})
	want := expected(recs)
	s := openStore(t, dir, Options{})
	half := len(recs) / 2
	appendAll(t, s, recs[:half], 50)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	appendAll(t, s, recs[half:], 50)
	sameJourneys(t, journeys(t, s), want) // one file and the head
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.ColumnFiles != 2 || st.HeadEvents != 0 || st.Events != int64(len(recs)) || st.Keys != 300 || st.CoreBytes <= 0 || st.BytesOnDisk <= st.CoreBytes {
		t.Errorf("stats after two flushes: %+v", st)
	}
	sameJourneys(t, journeys(t, s), want)
	s.Close()
	s = openStore(t, dir, Options{})
	sameJourneys(t, journeys(t, s), want)
	if st := s.Stats(); st.ColumnFiles != 2 || st.HeadEvents != 0 {
		t.Errorf("stats after reopen: %+v", st)
	}
}

func TestTiesOnTimestampKeepArrivalOrderAcrossHeadAndFiles(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	n := 0
	add := func(ts time.Time, count int) {
		var recs []Record
		for range count {
			n++
			recs = append(recs, Record{Key: 7, Event: event.Event{Type: event.Track, Event: "Step",
				MessageID: fmt.Sprintf("m%02d", n), Timestamp: ts, ReceivedAt: ts}})
		}
		if err := s.Append(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
	}
	flush := func() {
		if err := s.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	add(at, 3)                   // m01..m03 → file 1
	flush()                      //
	add(at, 2)                   // m04, m05 → file 2
	add(at.Add(-time.Second), 1) // m06, earlier → file 2
	flush()                      //
	add(at, 2)                   // m07, m08 → head
	add(at.Add(time.Second), 1)  // m09 → head
	add(at.Add(-time.Second), 1) // m10 → head
	want := "m06 m10 m01 m02 m03 m04 m05 m07 m08 m09"
	check := func(when string) {
		t.Helper()
		var ids []string
		for _, k := range journeys(t, s) {
			ids = append(ids, k.Event.MessageID)
		}
		if got := strings.Join(ids, " "); got != want {
			t.Errorf("%s: order %s, want %s", when, got, want)
		}
		evs, err := s.Events(context.Background(), 7)
		if err != nil {
			t.Fatal(err)
		}
		ids = ids[:0]
		for _, e := range evs {
			ids = append(ids, e.MessageID)
		}
		if got := strings.Join(ids, " "); got != want {
			t.Errorf("%s: Events order %s, want %s", when, got, want)
		}
	}
	check("head and two files")
	s.Close()
	s = openStore(t, dir, Options{})
	check("after reopen")
	flush()
	check("all in files")
}

func TestEventsReadsOneKeyFromHeadAndFiles(t *testing.T) {
	useSmallBlocks(t, 64)
	s := openStore(t, t.TempDir(), Options{})
	recs := genArrival(genConfig{Seed: 3, Customers: 120})
	appendAll(t, s, recs[:len(recs)/2], 100)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	appendAll(t, s, recs[len(recs)/2:], 100)
	want := expected(recs)
	byKey := map[uint64][]keyed{}
	for _, k := range want {
		byKey[k.Key] = append(byKey[k.Key], k)
	}
	for _, key := range []uint64{1, 4, 181, 358, 2, 100000} {
		evs, err := s.Events(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		var got []keyed
		for _, e := range evs {
			got = append(got, keyed{key, normalize(e)})
		}
		sameJourneys(t, got, byKey[key])
	}
}

func TestEraseRemovesKeysEverywhere(t *testing.T) {
	useSmallBlocks(t, 50)
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	recs := genArrival(genConfig{Seed: 4, Customers: 100})
	// key 4 (customer 1) has events in the first file, the second and the
	// head; key 7 only in files; key 10 only in the head.
	var onlyHead []Record
	var rest []Record
	for _, r := range recs {
		if r.Key == 10 {
			onlyHead = append(onlyHead, r)
		} else {
			rest = append(rest, r)
		}
	}
	third := len(rest) / 3
	appendAll(t, s, rest[:third], 40)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	appendAll(t, s, rest[third:2*third], 40)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var headPart []Record
	for _, r := range rest[2*third:] {
		if r.Key != 7 {
			headPart = append(headPart, r)
		}
	}
	appendAll(t, s, headPart, 40)
	appendAll(t, s, onlyHead, 40)

	erased := map[uint64]bool{4: true, 7: true, 10: true}
	var kept []Record
	var erasedIDs []string
	for _, r := range append(append(rest[:2*third:2*third], headPart...), onlyHead...) {
		if erased[r.Key] {
			erasedIDs = append(erasedIDs, r.Event.MessageID)
		} else {
			kept = append(kept, r)
		}
	}
	removed, err := s.Erase(context.Background(), []uint64{4, 7, 10, 999999})
	if err != nil {
		t.Fatal(err)
	}
	if removed != len(erasedIDs) {
		t.Errorf("Erase removed %d events, want %d", removed, len(erasedIDs))
	}
	check := func(when string) {
		t.Helper()
		sameJourneys(t, journeys(t, s), expected(kept))
		for k := range erased {
			if evs, err := s.Events(context.Background(), k); err != nil || len(evs) != 0 {
				t.Errorf("%s: Events(%d) = %d events, %v", when, k, len(evs), err)
			}
		}
		var nd bytes.Buffer
		if err := s.ExportNDJSON(context.Background(), &nd); err != nil {
			t.Fatal(err)
		}
		var pq bytes.Buffer
		if err := s.ExportParquet(context.Background(), &pq); err != nil {
			t.Fatal(err)
		}
		for _, id := range erasedIDs {
			if bytes.Contains(nd.Bytes(), []byte(id)) {
				t.Fatalf("%s: NDJSON export still holds erased event %s", when, id)
			}
		}
		readParquet(t, pq.Bytes(), func(r ParquetRow) {
			if erased[r.CustomerKey] {
				t.Fatalf("%s: Parquet export still holds erased key %d", when, r.CustomerKey)
			}
		})
		// The column files themselves no longer hold the events.
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if !strings.HasSuffix(e.Name(), colSuffix) {
				continue
			}
			f, err := openColFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			src := newFileSource(f, 1<<colKey|1<<colMessageID, nil)
			for {
				ok, err := src.next()
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				if erased[src.r.sk.key] || slices.Contains(erasedIDs, src.r.ev.MessageID) {
					t.Fatalf("%s: column file %s still holds an erased event: key %d %s", when, e.Name(), src.r.sk.key, src.r.ev.MessageID)
				}
			}
			f.close()
		}
	}
	check("after erase")
	s.Close()
	s = openStore(t, dir, Options{})
	check("after reopen")
	if st := s.Stats(); st.Events != int64(len(kept)) || st.Keys != 97 {
		t.Errorf("stats after erase: %+v", st)
	}
}

func TestACrashAroundTheManifestLosesAndDoublesNothing(t *testing.T) {
	for _, point := range []string{"before-manifest", "after-manifest"} {
		t.Run(point, func(t *testing.T) {
			dir := t.TempDir()
			recs := genArrival(genConfig{Seed: 5, Customers: 80})
			want := expected(recs)
			s := openStore(t, dir, Options{})
			appendAll(t, s, recs[:200], 50)
			if err := s.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			appendAll(t, s, recs[200:], 50)
			s.crashAt = func(p string) bool { return p == point }
			if err := s.Flush(context.Background()); !errors.Is(err, errSimulatedCrash) {
				t.Fatalf("flush: %v", err)
			}
			s.Close()
			cols, _ := filepath.Glob(filepath.Join(dir, "*"+colSuffix))
			if len(cols) != 2 {
				t.Fatalf("after the crash %d column files on disk, want the old and the new one", len(cols))
			}
			s = openStore(t, dir, Options{})
			sameJourneys(t, journeys(t, s), want)
			st := s.Stats()
			if point == "before-manifest" && (st.ColumnFiles != 1 || st.HeadEvents != int64(len(recs)-200)) ||
				point == "after-manifest" && (st.ColumnFiles != 2 || st.HeadEvents != 0) {
				t.Errorf("stats after reopen: %+v", st)
			}
			cols, _ = filepath.Glob(filepath.Join(dir, "*"+colSuffix))
			if len(cols) != st.ColumnFiles {
				t.Errorf("%d column files on disk, %d listed: the unlisted one was not removed", len(cols), st.ColumnFiles)
			}
			// And the store goes on from there.
			if err := s.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			s.Close()
			s = openStore(t, dir, Options{})
			sameJourneys(t, journeys(t, s), want)
		})
	}
}

func TestBackgroundFoldsAndCompactionKeepEveryEvent(t *testing.T) {
	useSmallBlocks(t, 64)
	dir := t.TempDir()
	recs := genArrival(genConfig{Seed: 6, Customers: 200, Lean: true})
	s := openStore(t, dir, Options{HeadEvents: 100})
	appendAll(t, s, recs, 20)
	s.waitFolds()
	st := s.Stats()
	if st.ColumnFiles == 0 || st.ColumnFiles > compactFiles+1 {
		t.Errorf("%d column files after many folds, want 1..%d", st.ColumnFiles, compactFiles+1)
	}
	sameJourneys(t, journeys(t, s), expected(recs))
	s.Close()
	s = openStore(t, dir, Options{HeadEvents: 100})
	sameJourneys(t, journeys(t, s), expected(recs))
}

// waitFolds waits until no background fold is running.
func (s *Store) waitFolds() {
	for {
		s.mu.Lock()
		folding, done := s.folding, s.foldDone
		s.mu.Unlock()
		if !folding {
			return
		}
		<-done
	}
}

func TestConcurrentAppendsQueriesAndFolds(t *testing.T) {
	useSmallBlocks(t, 64)
	dir := t.TempDir()
	recs := genArrival(genConfig{Seed: 7, Customers: 150})
	s := openStore(t, dir, Options{HeadEvents: 150})
	ctx := context.Background()
	var wg sync.WaitGroup
	const writers = 4
	for w := range writers {
		wg.Go(func() {
			for i := w * 10; i < len(recs); i += writers * 10 {
				if err := s.Append(ctx, recs[i:min(i+10, len(recs))]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			seen := map[string]bool{}
			err := s.Journeys(ctx, func(key uint64, evs []event.Event) error {
				for i, e := range evs {
					if seen[e.MessageID] {
						return fmt.Errorf("event %s seen twice", e.MessageID)
					}
					seen[e.MessageID] = true
					if i > 0 && e.Timestamp.Before(evs[i-1].Timestamp) {
						return fmt.Errorf("key %d out of time order", key)
					}
				}
				return nil
			})
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := s.Events(ctx, 4); err != nil {
				t.Error(err)
				return
			}
			s.Stats()
		}
	})
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			if err := s.Flush(ctx); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()
	s.waitFolds()
	// Arrival order differs from recs' order between writers, so compare
	// as sets of messageIds and per key time order.
	got := journeys(t, s)
	ids := map[string]int{}
	for _, k := range got {
		ids[k.Event.MessageID]++
	}
	for _, r := range recs {
		if ids[r.Event.MessageID] != 1 {
			t.Fatalf("event %s stored %d times", r.Event.MessageID, ids[r.Event.MessageID])
		}
	}
	if len(got) != len(recs) {
		t.Fatalf("%d events stored, want %d", len(got), len(recs))
	}
}

func TestMessagesSinceReadsOnlyRecentEvents(t *testing.T) {
	useSmallBlocks(t, 40)
	s := openStore(t, t.TempDir(), Options{})
	recs := genArrival(genConfig{Seed: 8, Customers: 100})
	appendAll(t, s, recs[:len(recs)/2], 100)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	appendAll(t, s, recs[len(recs)/2:], 100)
	since := recs[len(recs)/3].Event.ReceivedAt
	want := map[string]time.Time{}
	for _, r := range recs {
		if !r.Event.ReceivedAt.Before(since) {
			want[r.Event.SourceID+"/"+r.Event.MessageID] = r.Event.ReceivedAt
		}
	}
	got := map[string]time.Time{}
	err := s.Messages(context.Background(), since, func(src, id string, at time.Time) {
		k := src + "/" + id
		if _, dup := got[k]; dup {
			t.Errorf("message %s given twice", k)
		}
		got[k] = at
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Messages gave %d messages, want %d", len(got), len(want))
	}
}

// failingLog is a log whose appends fail as a full disk makes them.
type failingLog struct {
	writeAheadLog
	err error
}

func (l failingLog) Append(context.Context, []byte) (uint64, error) { return 0, l.err }

func TestAppendPassesUpTheLogsUnavailableErrorUnchanged(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	full := fault.New(fault.Unavailable, "disk full")
	s.wal = failingLog{writeAheadLog: s.wal, err: full}
	recs := genArrival(genConfig{Seed: 9, Customers: 3})
	err := s.Append(context.Background(), recs)
	if err != error(full) {
		t.Fatalf("Append returned %v, want the log's error itself", err)
	}
	if st := s.Stats(); st.Events != 0 {
		t.Errorf("a failed append left %d events in the store", st.Events)
	}
}

func TestAppendRefusesAValueItCannotEncode(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	e := event.Event{Type: event.Track, Event: "x", MessageID: "m", Timestamp: time.Now(),
		Properties: map[string]any{"f": func() {}}}
	err := s.Append(context.Background(), []Record{{Key: 1, Event: e}})
	if fault.CodeOf(err) != fault.Invalid {
		t.Fatalf("Append of a function value: %v, want an Invalid error", err)
	}
}

func TestOpenRefusesAManifestOfAnotherFormat(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, manifestName), []byte(`{"format": 2, "walLSN": 0, "nextSeq": 0, "nextFile": 1, "files": []}`), 0o600)
	_, err := Open(context.Background(), dir, Options{Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "format 2") {
		t.Fatalf("Open: %v, want an error naming the format", err)
	}
}

func TestOpenFailsLoudlyWhenAListedFileIsMissing(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	appendAll(t, s, genArrival(genConfig{Seed: 10, Customers: 10}), 10)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	cols, _ := filepath.Glob(filepath.Join(dir, "*"+colSuffix))
	os.Remove(cols[0])
	if _, err := Open(context.Background(), dir, Options{Logger: slog.New(slog.DiscardHandler)}); err == nil {
		t.Fatal("Open with a listed column file missing succeeded")
	}
}

func TestEncodingCoversEveryEventField(t *testing.T) {
	// If event.Event gains a field, the store must learn to keep it
	// (codec.go, colfile.go, export.go) before this list is updated.
	known := []string{"MessageID", "Type", "Event", "Name", "UserID", "AnonymousID", "PreviousID",
		"GroupID", "Channel", "Properties", "Traits", "Context", "Timestamp", "OriginalTimestamp",
		"SentAt", "ReceivedAt", "SourceID", "Seq"} // Seq is not stored as such: it is the arrival order the store keeps
	var fields []string
	typ := reflect.TypeFor[event.Event]()
	for i := range typ.NumField() {
		fields = append(fields, typ.Field(i).Name)
	}
	if !slices.Equal(fields, known) {
		t.Fatalf("event.Event has fields %v; the store keeps %v", fields, known)
	}
	// And every field survives the log encoding and a column file.
	at := time.Date(2025, 5, 6, 7, 8, 9, 123456789, time.UTC)
	e := event.Event{MessageID: "m", Type: event.Alias, Event: "e", Name: "n", UserID: "u",
		AnonymousID: "a", PreviousID: "p", GroupID: "g", Channel: "web",
		Properties: map[string]any{"k": "v"}, Traits: map[string]any{"t": true},
		Context: map[string]any{"c": nil}, Timestamp: at, OriginalTimestamp: at.Add(-time.Hour),
		SentAt: at.Add(time.Minute), ReceivedAt: at.Add(2 * time.Minute), SourceID: "s"}
	v := reflect.ValueOf(e)
	for i := range v.NumField() {
		if v.Field(i).IsZero() && typ.Field(i).Name != "Seq" {
			t.Fatalf("test event leaves %s empty", typ.Field(i).Name)
		}
	}
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	appendAll(t, s, []Record{{Key: 3, Event: e}}, 1)
	sameJourneys(t, journeys(t, s), []keyed{{3, e}})
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	sameJourneys(t, journeys(t, s), []keyed{{3, e}})
}

// TestJourneysMemoryStaysFarBelowTheDataSize reads a store of many column
// files through Journeys and checks that the heap grows by a small part
// of what the store holds: a scan holds one block per file and one key's
// events, not the data.
func TestJourneysMemoryStaysFarBelowTheDataSize(t *testing.T) {
	useSmallBlocks(t, 400)
	old := compactFiles
	compactFiles = 100 // keep the files apart: a scan must merge them all
	t.Cleanup(func() { compactFiles = old })
	dir := t.TempDir()
	s := openStore(t, dir, Options{HeadEvents: 1 << 30})
	var total int
	var dataBytes int64
	const files = 10
	recs := genArrival(genConfig{Seed: 40, Customers: 3000})
	for i := range files {
		part := recs[i*len(recs)/files : (i+1)*len(recs)/files]
		appendAll(t, s, part, 500)
		if err := s.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		total += len(part)
	}
	for _, r := range recs {
		b, _ := json.Marshal(r.Event)
		dataBytes += int64(len(b))
	}
	recs = nil
	s.Close()
	s = openStore(t, dir, Options{})
	if st := s.Stats(); st.ColumnFiles != files || st.Events != int64(total) {
		t.Fatalf("stats %+v", st)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	n, keys := 0, 0
	err := s.Journeys(context.Background(), func(key uint64, evs []event.Event) error {
		n += len(evs)
		if keys++; keys%300 == 0 {
			// Live memory: what the scan holds, not garbage awaiting
			// collection.
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != total {
		t.Fatalf("Journeys gave %d events, want %d", n, total)
	}
	growth := int64(peak) - int64(base)
	t.Logf("%d events, %d bytes as JSON; live heap grew by at most %d bytes during the scan", total, dataBytes, growth)
	if growth > dataBytes/10 {
		t.Errorf("heap grew by %d bytes during a scan of %d bytes of events", growth, dataBytes)
	}
}

func TestJourneysFieldsDecodesOnlyWhatItIsAskedFor(t *testing.T) {
	recs := genArrival(genConfig{Seed: 41, Customers: 60})
	s := storeWithHeadAndFiles(t, recs)
	project := func(e event.Event, f Fields) event.Event {
		p := event.Event{Type: e.Type, Event: e.Event, Name: e.Name, Channel: e.Channel, SourceID: e.SourceID, Timestamp: e.Timestamp}
		if f&FieldIDs != 0 {
			p.UserID, p.AnonymousID, p.PreviousID, p.GroupID = e.UserID, e.AnonymousID, e.PreviousID, e.GroupID
		}
		if f&FieldMessage != 0 {
			p.MessageID, p.OriginalTimestamp, p.SentAt, p.ReceivedAt = e.MessageID, e.OriginalTimestamp, e.SentAt, e.ReceivedAt
		}
		if f&FieldProperties != 0 {
			p.Properties = e.Properties
		}
		if f&FieldTraits != 0 {
			p.Traits = e.Traits
		}
		if f&FieldContext != 0 {
			p.Context = e.Context
		}
		return p
	}
	for _, f := range []Fields{0, FieldIDs, FieldMessage, FieldProperties, FieldTraits, FieldContext, FieldProperties | FieldContext, AllFields} {
		t.Run(fmt.Sprintf("fields %05b", f), func(t *testing.T) {
			var want []keyed
			for _, k := range expected(recs) {
				want = append(want, keyed{k.Key, project(k.Event, f)})
			}
			var got []keyed
			err := s.JourneysFields(context.Background(), f, func(key uint64, evs []event.Event) error {
				for _, e := range evs {
					got = append(got, keyed{key, normalize(e)})
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			sameJourneys(t, got, want)
		})
	}
}

func TestAppendsWaitWhenTheHeadOutgrowsARunningFold(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{HeadEvents: 100})
	release, reached := make(chan struct{}), make(chan struct{}, 1)
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free) // before Close, which waits for the fold
	s.crashAt = func(p string) bool {
		if p == "before-manifest" {
			select {
			case reached <- struct{}{}:
			default:
			}
			<-release
		}
		return false
	}
	recs := genArrival(genConfig{Seed: 50, Customers: 60, Lean: true})
	appendAll(t, s, recs[:100], 50) // the head is full: a fold starts, and hangs
	<-reached
	appendAll(t, s, recs[100:300], 50)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := s.Append(ctx, recs[300:310])
	if fault.CodeOf(err) != fault.Unavailable {
		t.Fatalf("append past twice the head size while folding: %v, want Unavailable", err)
	}
	free()
	if err := s.Append(context.Background(), recs[300:310]); err != nil {
		t.Fatalf("append after the fold: %v", err)
	}
	s.waitFolds()
	if got := len(journeys(t, s)); got != 310 {
		t.Fatalf("%d events stored, want 310", got)
	}
}

func TestReplayCutsALogRecordThatIsNotTheStores(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	recs := genArrival(genConfig{Seed: 51, Customers: 10})
	appendAll(t, s, recs[:20], 10)
	s.Close()
	// A record whose checksum holds but whose content is garbage.
	l, err := wal.Open(filepath.Join(dir, "wal"), wal.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Replay(func(uint64, []byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(context.Background(), []byte{recFormat, recEvents, 1, 5, 0xff}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	s = openStore(t, dir, Options{})
	sameJourneys(t, journeys(t, s), expected(recs[:20]))
	appendAll(t, s, recs[20:], 10)
	s.Close()
	s = openStore(t, dir, Options{})
	sameJourneys(t, journeys(t, s), expected(recs))
}

func TestReplayRefusesALogRecordOfANewerFormat(t *testing.T) {
	dir := t.TempDir()
	l, err := wal.Open(filepath.Join(dir, "wal"), wal.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Replay(func(uint64, []byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(context.Background(), []byte{recFormat + 1, recEvents}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	_, err = Open(context.Background(), dir, Options{Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "record format 2") {
		t.Fatalf("Open over a newer record: %v, want it refused", err)
	}
}

func TestFlushesCompactInTheBackgroundPastEightFiles(t *testing.T) {
	useSmallBlocks(t, 32)
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	recs := genArrival(genConfig{Seed: 52, Customers: 100, Lean: true})
	for i := range 12 {
		appendAll(t, s, recs[i*len(recs)/12:(i+1)*len(recs)/12], 100)
		if err := s.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	s.Close() // waits for the compaction
	s = openStore(t, dir, Options{})
	if st := s.Stats(); st.ColumnFiles > compactFiles {
		t.Errorf("%d column files after 12 flushes, want at most %d", st.ColumnFiles, compactFiles)
	}
	sameJourneys(t, journeys(t, s), expected(recs))
	cols, _ := filepath.Glob(filepath.Join(dir, "*"+colSuffix))
	if st := s.Stats(); len(cols) != st.ColumnFiles {
		t.Errorf("%d column files on disk, %d listed", len(cols), st.ColumnFiles)
	}
}

// AppendEvents, which takes the events by reference, stores what Append
// stores, and refuses keys and events that do not pair up.
func TestAppendEventsStoresWhatAppendStores(t *testing.T) {
	recs := genArrival(genConfig{Seed: 7, Customers: 40})
	a := openStore(t, t.TempDir(), Options{})
	appendAll(t, a, recs, 25)
	b := openStore(t, t.TempDir(), Options{})
	for i := 0; i < len(recs); i += 25 {
		part := recs[i:min(i+25, len(recs))]
		keys := make([]uint64, len(part))
		evs := make([]*event.Event, len(part))
		for j := range part {
			keys[j], evs[j] = part[j].Key, &part[j].Event
		}
		if err := b.AppendEvents(t.Context(), keys, evs); err != nil {
			t.Fatal(err)
		}
	}
	sameJourneys(t, journeys(t, b), journeys(t, a))
	sameJourneys(t, journeys(t, b), expected(recs))
	if err := b.AppendEvents(t.Context(), []uint64{1, 2}, []*event.Event{&recs[0].Event}); err == nil {
		t.Fatal("two keys for one event were accepted")
	}
	if st := b.Stats(); st.Events != int64(len(recs)) {
		t.Fatalf("%d events stored after a refused append, want %d", st.Events, len(recs))
	}
}
