package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ from the current output")

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// queryServer serves a data directory holding the textbook running
// example (6 cases, 42 events, 6 variants) and returns its URL and a
// viewer token, both also set as TREK_SERVER and TREK_TOKEN.
func queryServer(t *testing.T) (url, token string) {
	t.Helper()
	dir := t.TempDir()
	if code, out, stderr := run(t, "import", "--data", dir, "--quiet", datasetPath(t, "running-example.xes")); code != 0 {
		t.Fatalf("import: %d %s %s", code, out, stderr)
	}
	srv := serve(t, dir, "--admin-password", "flag-password-123")
	code, tok, stderr := run(t, "token", "create", "--data", dir, "--name", "analyst")
	if code != 0 {
		t.Fatalf("token create: %s", stderr)
	}
	token = strings.TrimSpace(tok)
	t.Setenv("TREK_SERVER", srv.url)
	t.Setenv("TREK_TOKEN", token)
	return srv.url, token
}

func TestQueryCommandsPrintTablesAndTheServersJSON(t *testing.T) {
	url, token := queryServer(t)

	funnel := []string{"query", "funnel", "--step", "register request", "--step", "decide", "--step", "pay compensation", "--window", "52w"}
	tables := []struct {
		name   string
		args   []string
		golden string
	}{
		{"a funnel's steps with conversion, drop-off and median time", funnel, "query-funnel.txt"},
		{"the DFG's nodes and its edges by count", []string{"query", "dfg"}, "query-dfg.txt"},
		{"the six variants of the running example", []string{"query", "variants"}, "query-variants.txt"},
		{"a DFG without its rare edges", []string{"query", "dfg", "--min-count", "3"}, "query-dfg-min3.txt"},
	}
	for _, tc := range tables {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := run(t, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.HasPrefix(stderr, "data as of ") {
				t.Errorf("no data freshness on stderr: %q", stderr)
			}
			golden(t, tc.golden, out)
		})
	}

	t.Run("the funnel as the server's JSON unchanged", func(t *testing.T) {
		code, out, stderr := run(t, append(funnel, "--output", "json")...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var res struct {
			Steps []struct {
				Event     string
				Customers int
				DropOff   int
			}
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		// Every case registers and decides; cases 2, 3 and 6 pay.
		want := []int{6, 6, 3}
		if len(res.Steps) != 3 {
			t.Fatalf("steps: %+v", res.Steps)
		}
		for i, s := range res.Steps {
			if s.Customers != want[i] {
				t.Errorf("step %d (%s): %d customers, want %d", i+1, s.Event, s.Customers, want[i])
			}
		}
		if res.Steps[2].DropOff != 3 {
			t.Errorf("drop-off at pay compensation: %d, want 3", res.Steps[2].DropOff)
		}
		body := `{"steps":[{"event":"register request"},{"event":"decide"},{"event":"pay compensation"}],"window":"52w"}`
		if direct := post(t, url+"/api/v1/query/funnel", token, body); direct != out {
			t.Errorf("the CLI's JSON differs from the server's:\n%s\n%s", out, direct)
		}
	})

	t.Run("a body from standard input with --json -", func(t *testing.T) {
		withStdin(t, `{"limit": 2}`)
		code, out, stderr := run(t, "query", "variants", "--json", "-", "--output", "json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var res struct {
			Total    int
			Variants []json.RawMessage
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil || res.Total != 6 || len(res.Variants) != 2 {
			t.Errorf("variants with limit 2: %v %s", err, out)
		}
	})

	errs := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stderr []string
	}{
		{"an unknown step names its field path", []string{"query", "funnel", "--step", "register request", "--step", "no such event"}, "", 1,
			[]string{"HTTP 400", `steps[1].event: no event named "no such event"`}},
		{"a reversed range from a JSON body", []string{"query", "funnel", "--json", "-"},
			`{"steps": [{"event": "decide"}], "from": "2011-02-01T00:00:00Z", "to": "2011-01-01T00:00:00Z"}`, 1,
			[]string{"HTTP 400", "to: must be after from"}},
		{"an unknown field in a JSON body", []string{"query", "dfg", "--json", "-"}, `{"minCount": 1, "colour": "red"}`, 1,
			[]string{"HTTP 400", "colour"}},
		{"a funnel without steps", []string{"query", "funnel"}, "", 2, []string{"--step EVENT"}},
		{"--json with query flags", []string{"query", "variants", "--json", "-", "--limit", "3"}, `{}`, 2, []string{"leave out --limit"}},
		{"a flag of another kind", []string{"query", "dfg", "--step", "decide"}, "", 2, []string{"-step"}},
		{"an unknown kind", []string{"query", "sankey"}, "", 2, []string{`unknown subcommand "sankey"`}},
		{"a bad time", []string{"query", "dfg", "--from", "yesterday"}, "", 2, []string{`"yesterday" is not a time`}},
		{"paths from and to an event", []string{"query", "paths", "--from-event", "decide", "--to-event", "decide"}, "", 2, []string{"not both"}},
		{"metrics without a map", []string{"query", "metrics"}, "", 2, []string{"--map ID is required"}},
		{"metrics of a map that does not exist", []string{"query", "metrics", "--map", "map_nothere"}, "", 1, []string{"HTTP 404"}},
		{"discover with a viewer token", []string{"query", "discover"}, "", 1, []string{"HTTP 403"}},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			if tc.stdin != "" {
				withStdin(t, tc.stdin)
			}
			code, out, stderr := run(t, tc.args...)
			if code != tc.code || out != "" {
				t.Errorf("exit %d (want %d), stdout %q", code, tc.code, out)
			}
			for _, s := range tc.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
	t.Run("the unknown step's message, whole", func(t *testing.T) {
		_, _, stderr := run(t, "query", "funnel", "--step", "register request", "--step", "no such event")
		golden(t, "query-funnel-unknown-step.txt", stderr)
	})
}

// TestQueryKindsReadTheirAnswers runs each remaining kind against the
// running example and checks a number a reader can verify by hand.
func TestQueryKindsReadTheirAnswers(t *testing.T) {
	_, _ = queryServer(t)
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"weekly conversion with the previous range", []string{"query", "trends", "--step", "register request", "--step", "decide",
			"--window", "30d", "--from", "2010-12-27", "--to", "2011-01-10", "--interval", "week"},
			[]string{"2010-12-27 3 3 100.0%", "2011-01-03 3 3 100.0%", "total 6 6 100.0%", "previous range 0 0 0.0%"}},
		{"daily volume of an event", []string{"query", "trends", "--event", "decide", "--from", "2010-12-01", "--to", "2011-02-01", "--interval", "month"},
			[]string{"PERIOD CUSTOMERS EVENTS", "total 6 9"}},
		{"paths forward from the first event", []string{"query", "paths", "--from-event", "register request", "--steps", "1"},
			[]string{"6 customers", "0 register request 6", "1 examine casually 3", "0 register request 1 examine casually 3"}},
		{"weekly retention cohorts", []string{"query", "retention", "--start", "register request", "--return", "decide", "--periods", "2"},
			[]string{"COHORT CUSTOMERS WEEK 0 WEEK 1 WEEK 2", "2010-12-27 3 0.0% 100.0% 0.0%", "all 6"}},
		{"activities with their channels", []string{"query", "activities"},
			[]string{"check ticket 9 6 other 9", "register request 6 6 other 6"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := run(t, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, w := range tc.want {
				if !hasRow(out, w) {
					t.Errorf("no row starts with %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestDurationsReadAsPeopleSayThem(t *testing.T) {
	cases := []struct {
		seconds float64
		want    string
	}{
		{0, "0s"},
		{45.4, "45s"},
		{60, "1m"},
		{303, "5m 3s"},
		{7500, "2h 5m"},
		{7200, "2h"},
		{86400*3 + 3600*4 + 59, "3d 4h"},
		{-1, "-"},
	}
	for _, tc := range cases {
		if got := duration(tc.seconds); got != tc.want {
			t.Errorf("duration(%v) = %q, want %q", tc.seconds, got, tc.want)
		}
	}
}

func TestTimeFlagTakesRFC3339OrADate(t *testing.T) {
	cases := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"2025-03-01", time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), false},
		{"2025-03-01T09:30:00Z", time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC), false},
		{"2025-03-01T09:30:00+02:00", time.Date(2025, 3, 1, 7, 30, 0, 0, time.UTC), false},
		{"01/03/2025", time.Time{}, true},
	}
	for _, tc := range cases {
		var f timeFlag
		err := f.Set(tc.in)
		if (err != nil) != tc.err || !f.t.Equal(tc.want) {
			t.Errorf("Set(%q) = %v, %v; want %v (error %v)", tc.in, f.t, err, tc.want, tc.err)
		}
	}
}

// hasRow reports whether a line of a table starts with row, comparing
// words so that column widths do not matter.
func hasRow(table, row string) bool {
	for _, line := range strings.Split(table, "\n") {
		if strings.HasPrefix(strings.Join(strings.Fields(line), " "), row) {
			return true
		}
	}
	return false
}

func post(t *testing.T, url, token, body string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, raw)
	}
	return string(raw)
}

// withStdin makes body the process's standard input for the test.
func withStdin(t *testing.T, body string) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stdin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, bytes.NewBufferString(body)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = f
	t.Cleanup(func() { os.Stdin = old; f.Close() })
}
