package cli

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func datasetPath(t *testing.T, name string) string {
	t.Helper()
	dir, _ := os.Getwd()
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", "datasets", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("shared/datasets not found beside the repository")
	return ""
}

func getJSON(t *testing.T, url, token string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		json.NewDecoder(resp.Body).Decode(v)
	}
	return resp.StatusCode
}

func TestImportOfflineThenServeShowsTheJourneys(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := run(t, "import", "--data", dir, "--quiet", datasetPath(t, "running-example.xes"))
	if code != 0 || !strings.Contains(out, "imported 42 events") || !strings.Contains(out, "42 stored") {
		t.Fatalf("import: %d %s %s", code, out, stderr)
	}
	// Again: every event is a duplicate of the first import.
	code, out, _ = run(t, "import", "--data", dir, "--quiet", datasetPath(t, "running-example.xes"))
	if code != 0 || !strings.Contains(out, "42 duplicates") {
		t.Errorf("re-import: %s", out)
	}
	code, _, stderr = run(t, "import", "--data", dir, "--quiet", "--format", "csv", datasetPath(t, "receipt.csv"))
	if code != 2 || !strings.Contains(stderr, "customer-column") {
		t.Errorf("csv without mapping: %d %s", code, stderr)
	}
	srv := serve(t, dir, "--admin-password", "flag-password-123")
	_, tok, _ := run(t, "token", "create", "--data", dir, "--name", "t")
	var c struct {
		ID         string
		EventCount int
	}
	if st := getJSON(t, srv.url+"/api/v1/customers/3", strings.TrimSpace(tok), &c); st != 200 || c.EventCount == 0 {
		t.Fatalf("customer 3: %d %+v", st, c)
	}
	// The data directory is locked while the server runs.
	code, _, stderr = run(t, "import", "--data", dir, "--quiet", datasetPath(t, "running-example.xes"))
	if code != 1 || !strings.Contains(stderr, "in use") {
		t.Errorf("import into a running server's directory: %d %s", code, stderr)
	}
}

func TestImportOnlineAndSourceCommands(t *testing.T) {
	dir := t.TempDir()
	srv := serve(t, dir, "--admin-password", "flag-password-123")
	_, tok, _ := run(t, "token", "create", "--data", dir, "--name", "ops", "--role", "admin")
	t.Setenv("TREK_TOKEN", strings.TrimSpace(tok))
	t.Setenv("TREK_SERVER", srv.url)
	code, out, stderr := run(t, "source", "create", "--name", "Call centre", "--channel", "call_centre", "--output", "json")
	if code != 0 {
		t.Fatalf("source create: %s", stderr)
	}
	var src struct{ ID, WriteKey string }
	json.Unmarshal([]byte(out), &src)
	if !strings.HasPrefix(src.WriteKey, "trek_wk_") {
		t.Fatalf("source %s", out)
	}
	code, out, _ = run(t, "source", "list")
	if code != 0 || !strings.Contains(out, "Call centre") {
		t.Errorf("list: %s", out)
	}
	code, out, stderr = run(t, "import", "--source", src.ID, "--format", "csv", "--customer-column", "case:concept:name",
		"--event-column", "concept:name", "--time-column", "time:timestamp", datasetPath(t, "receipt.csv"))
	if code != 0 || !strings.Contains(out, "imported 8577 events") {
		t.Fatalf("online import: %d %s %s", code, out, stderr)
	}
	var c struct{ EventCount int }
	if st := getJSON(t, srv.url+"/api/v1/customers/case-10011", strings.TrimSpace(tok), &c); st != 200 || c.EventCount == 0 {
		t.Errorf("imported customer: %d %+v", st, c)
	}
	if code, _, _ := run(t, "source", "disable", src.ID); code != 0 {
		t.Error("disable failed")
	}
	code, _, stderr = run(t, "import", "--source", "src_nothere", "--format", "xes", datasetPath(t, "running-example.xes"))
	if code != 1 || !strings.Contains(stderr, "404") {
		t.Errorf("unknown source: %d %s", code, stderr)
	}
}

func TestGenWritesNDJSONWithItsTruth(t *testing.T) {
	out := filepath.Join(t.TempDir(), "events.ndjson")
	code, _, stderr := run(t, "gen", "--customers", "200", "--seed", "7", "--effects", "checkout-fails-on=android", "--out", out, "--quiet")
	if code != 0 {
		t.Fatalf("gen: %s", stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d: %v", lines+1, err)
		}
		lines++
	}
	raw, err := os.ReadFile(strings.TrimSuffix(out, ".ndjson") + ".truth.json")
	if err != nil {
		t.Fatal(err)
	}
	if lines == 0 || !strings.Contains(string(raw), "android") {
		t.Errorf("%d lines; truth %.300s", lines, raw)
	}
	code, _, stderr = run(t, "gen", "--customers", "10", "--effects", "nonsense=1", "--out", out)
	if code != 2 || !strings.Contains(stderr, "effects") {
		t.Errorf("bad effects: %d %s", code, stderr)
	}
}

func TestGenIntoADataDirectoryThenExport(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := run(t, "gen", "--data", dir, "--customers", "150", "--invalid", "0.02", "--duplicates", "0.02", "--quiet")
	if code != 0 {
		t.Fatalf("gen --data: %s", stderr)
	}
	outDir := t.TempDir()
	code, out, stderr := run(t, "export", "--data", dir, "--format", "ndjson", "--out", outDir)
	if code != 0 || !strings.Contains(out, "default.ndjson") {
		t.Fatalf("export: %s %s", out, stderr)
	}
	raw, err := os.ReadFile(filepath.Join(outDir, "default.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var e struct{ MessageID, SourceID string }
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.MessageID == "" {
			t.Fatalf("export line %q: %v", line, err)
		}
		ids[e.SourceID+"/"+e.MessageID]++
	}
	for id, n := range ids {
		if n > 1 {
			t.Errorf("%s exported %d times: duplicates were stored", id, n)
		}
	}
	code, _, stderr = run(t, "export", "--data", dir, "--format", "parquet", "--out", outDir)
	if code != 0 {
		t.Fatalf("parquet export: %s", stderr)
	}
	if st, err := os.Stat(filepath.Join(outDir, "default.parquet")); err != nil || st.Size() == 0 {
		t.Errorf("parquet file: %v", err)
	}
	srv := serve(t, dir, "--admin-password", "flag-password-123")
	_, tok, _ := run(t, "token", "create", "--data", dir, "--name", "t", "--role", "admin")
	var q struct{ Items []struct{ Reason string } }
	if st := getJSON(t, srv.url+"/api/v1/quarantine", strings.TrimSpace(tok), &q); st != 200 || len(q.Items) == 0 {
		t.Errorf("generated invalid events not quarantined: %d %d", st, len(q.Items))
	}
}
