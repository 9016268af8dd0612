package importer_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/importer"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var importTime = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func fixedOptions() importer.Options {
	return importer.Options{SourceID: "src_golden", Now: func() time.Time { return importTime }}
}

// render reads a fixture and writes what the reader made of it: each event
// as JSON and each reject with its line and reason, in the order the sink
// and OnReject saw them.
func render(t *testing.T, path string, read readFunc) []byte {
	t.Helper()
	f, err := importer.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	opt := fixedOptions()
	opt.OnReject = func(line int, reason string, raw []byte) {
		fmt.Fprintf(&out, "reject line %d: %s\n\traw: %s\n", line, reason, bytes.ReplaceAll(raw, []byte("\n"), []byte("\n\t     ")))
	}
	st, err := read(t.Context(), f, opt, func(e event.Event) error {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		out.Write(b)
		out.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&out, "stats: %d events, %d rejected\n", st.Events, st.Rejected)
	return out.Bytes()
}

// TestGolden checks the whole mapping of each format onto trek's events
// on a small fixture that uses every feature the reader maps, and every
// way an event can be rejected. Run with -update to rewrite the golden
// files after a deliberate change, and review their diff.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		file string
		read readFunc
	}{
		{"sample.xes", xesReader(importer.XESOptions{})},
		{"sample.ndjson", importer.ReadNDJSON},
		{"sample.csv", csvReader(importer.CSVMapping{Customer: "case", Event: "activity", Time: "when", Channel: "touchpoint"})},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got := render(t, filepath.Join("testdata", tc.file), tc.read)
			golden := filepath.Join("testdata", tc.file+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (run with -update and review the diff):\n%s", golden, got)
			}
		})
	}
}
