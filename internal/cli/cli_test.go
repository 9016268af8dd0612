package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a server goroutine writing while the
// test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listening = regexp.MustCompile(`trek listening on (http://\S+)`)

type running struct {
	url    string
	stdout *syncBuffer
	stderr *syncBuffer
	stop   func() int
}

// serve runs 'trek serve' in-process on a free port and waits until it
// listens.
func serve(t *testing.T, dir string, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errb := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, append([]string{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, args...), out, errb)
	}()
	deadline := time.Now().Add(90 * time.Second) // argon2 under -race on a busy machine is slow
	for {
		if m := listening.FindStringSubmatch(out.String()); m != nil {
			var once sync.Once
			code := 0
			stop := func() int {
				once.Do(func() { cancel(); code = <-done })
				return code
			}
			t.Cleanup(func() { stop() })
			return &running{url: m[1], stdout: out, stderr: errb, stop: stop}
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("serve exited with %d before listening:\n%s\n%s", code, out.String(), errb.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start:\n%s\n%s", out.String(), errb.String())
		}
	}
}

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func login(t *testing.T, url, name, password string) int {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": name, "password": password})
	resp, err := http.Post(url+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

var generated = regexp.MustCompile(`created user admin with password (\S+)`)

func TestFirstStartCreatesTheAdminOnceWithAGeneratedPassword(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TREK_ADMIN_PASSWORD", "")
	os.Unsetenv("TREK_ADMIN_PASSWORD")
	srv := serve(t, dir)
	m := generated.FindStringSubmatch(srv.stdout.String())
	if m == nil {
		t.Fatalf("no generated password printed:\n%s", srv.stdout.String())
	}
	if strings.Contains(srv.stderr.String(), m[1]) {
		t.Error("the generated password appears in the log")
	}
	if code := login(t, srv.url, "admin", m[1]); code != 200 {
		t.Fatalf("login with the printed password: %d", code)
	}
	if code := srv.stop(); code != 0 {
		t.Fatalf("serve exited with %d on shutdown:\n%s", code, srv.stderr.String())
	}
	again := serve(t, dir)
	if generated.MatchString(again.stdout.String()) {
		t.Error("a second start created the admin again")
	}
	if code := login(t, again.url, "admin", m[1]); code != 200 {
		t.Errorf("the admin's password changed on restart: %d", code)
	}
}

func TestAdminPasswordComesFromTheFlagOrTheEnvironment(t *testing.T) {
	t.Run("flag", func(t *testing.T) {
		srv := serve(t, t.TempDir(), "--admin-password", "flag-password-123")
		if code := login(t, srv.url, "admin", "flag-password-123"); code != 200 {
			t.Errorf("login: %d", code)
		}
		if generated.MatchString(srv.stdout.String()) {
			t.Error("printed a password that was given")
		}
	})
	t.Run("environment", func(t *testing.T) {
		t.Setenv("TREK_ADMIN_PASSWORD", "env-password-456")
		srv := serve(t, t.TempDir())
		if code := login(t, srv.url, "admin", "env-password-456"); code != 200 {
			t.Errorf("login: %d", code)
		}
	})
	t.Run("the flag wins over the environment", func(t *testing.T) {
		t.Setenv("TREK_ADMIN_PASSWORD", "env-password-456")
		srv := serve(t, t.TempDir(), "--admin-password", "flag-password-123")
		if code := login(t, srv.url, "admin", "flag-password-123"); code != 200 {
			t.Errorf("login: %d", code)
		}
	})
	t.Run("too short a password is refused", func(t *testing.T) {
		code, _, stderr := run(t, "serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--admin-password", "short")
		if code != 2 || !strings.Contains(stderr, "admin-password") {
			t.Errorf("exit %d: %s", code, stderr)
		}
	})
}

func TestASecondServerOnTheSameDataDirectoryIsRefused(t *testing.T) {
	dir := t.TempDir()
	serve(t, dir, "--admin-password", "flag-password-123")
	code, _, stderr := run(t, "serve", "--data", dir, "--addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(stderr, "in use") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

func TestTokenCreatePrintsOnlyTheTokenWhileTheServerRuns(t *testing.T) {
	dir := t.TempDir()
	srv := serve(t, dir, "--admin-password", "flag-password-123")
	code, out, stderr := run(t, "token", "create", "--data", dir, "--name", "ci", "--role", "editor")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	tok := strings.TrimSpace(out)
	if strings.Count(out, "\n") != 1 || !strings.HasPrefix(tok, "trek_pat_") {
		t.Fatalf("stdout is not the token alone: %q", out)
	}
	req, _ := http.NewRequest("GET", srv.url+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var me struct {
		Token struct{ Role string }
	}
	json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()
	if resp.StatusCode != 200 || me.Token.Role != "editor" {
		t.Errorf("token: %d %+v", resp.StatusCode, me)
	}
	code, out, _ = run(t, "token", "list", "--data", dir)
	if code != 0 || !strings.Contains(out, "ci") || strings.Contains(out, tok) {
		t.Errorf("token list: %d %s", code, out)
	}
}

func TestTokenAndUserCommandsRefuseBadInput(t *testing.T) {
	dir := t.TempDir()
	run(t, "user", "create", "--data", dir, "--name", "boot", "--password", "long enough password") // creates the database
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"token", "create", "--data", dir, "--role", "editor"}, 2, "--name"},
		{[]string{"token", "create", "--data", dir, "--name", "x", "--role", "owner"}, 2, "unknown role"},
		{[]string{"token", "create", "--data", dir, "--name", "x", "--workspace", "nowhere"}, 1, "nowhere"},
		{[]string{"token", "create", "--data", filepath.Join(dir, "missing"), "--name", "x"}, 1, "missing"},
		{[]string{"token", "fly"}, 2, "unknown subcommand"},
		{[]string{"user", "create", "--data", dir, "--name", "kim", "--password", "short"}, 2, "shorter"},
		{[]string{"user", "create", "--data", dir, "--name", "boot", "--password", "long enough password"}, 1, "boot"},
		{[]string{"nonsense"}, 2, "unknown command"},
		{[]string{"serve", "--bogus"}, 2, "bogus"},
	} {
		code, _, stderr := run(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d mentioning %q", c.args, code, stderr, c.code, c.msg)
		}
	}
}

func TestUserCreateAndPasswd(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := run(t, "user", "create", "--data", dir, "--name", "zofia", "--password", "first password!", "--role", "editor", "--workspace", "acme")
	if code != 0 || !strings.Contains(out, "editor in acme") {
		t.Fatalf("exit %d: %s %s", code, out, stderr)
	}
	if code, _, stderr := run(t, "user", "passwd", "--data", dir, "--name", "zofia", "--password", "second password!"); code != 0 {
		t.Fatalf("passwd: %s", stderr)
	}
	srv := serve(t, dir)
	if login(t, srv.url, "zofia", "first password!") != 401 || login(t, srv.url, "zofia", "second password!") != 200 {
		t.Error("passwd did not take effect")
	}
	if generated.MatchString(srv.stdout.String()) {
		t.Error("an admin was created although a user exists")
	}
}

func TestMapAndVersionCommandsAgainstARunningServer(t *testing.T) {
	dir := t.TempDir()
	srv := serve(t, dir, "--admin-password", "flag-password-123")
	_, tokOut, _ := run(t, "token", "create", "--data", dir, "--name", "cli", "--role", "editor")
	t.Setenv("TREK_TOKEN", strings.TrimSpace(tokOut))
	t.Setenv("TREK_SERVER", srv.url)

	code, out, stderr := run(t, "map", "create", "--template", "travel-trip-booking", "--locale", "el", "--output", "json")
	if code != 0 {
		t.Fatalf("create: %d %s", code, stderr)
	}
	var m struct {
		ID, Name string
		Version  int
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil || m.ID == "" {
		t.Fatalf("create output %q: %v", out, err)
	}
	code, out, _ = run(t, "map", "list")
	if code != 0 || !strings.Contains(out, m.ID) || !strings.Contains(out, m.Name) {
		t.Errorf("list: %d\n%s", code, out)
	}
	code, out, _ = run(t, "map", "show", m.ID)
	if code != 0 || !strings.Contains(out, m.Name) {
		t.Errorf("show: %d\n%s", code, out)
	}
	exported := filepath.Join(t.TempDir(), "map.json")
	if code, _, stderr := run(t, "map", "export", m.ID, "--out", exported); code != 0 {
		t.Fatalf("export: %s", stderr)
	}
	csvFile := filepath.Join(t.TempDir(), "map.csv")
	if code, _, stderr := run(t, "map", "export", m.ID, "--format", "csv", "--out", csvFile); code != 0 {
		t.Fatalf("export csv: %s", stderr)
	}
	if raw, _ := os.ReadFile(csvFile); !strings.Contains(string(raw), "stage_id") {
		t.Errorf("csv export: %.200s", raw)
	}
	code, out, stderr = run(t, "map", "import", exported)
	if code != 0 || !strings.Contains(out, "imported map") {
		t.Fatalf("import: %d %s %s", code, out, stderr)
	}

	// Versions: restore version 1 after a change made through the API.
	code, out, _ = run(t, "version", "list", m.ID)
	if code != 0 || !strings.Contains(out, "Created from template") {
		t.Errorf("version list: %d\n%s", code, out)
	}
	code, out, stderr = run(t, "version", "restore", m.ID, "1")
	if code != 0 || !strings.Contains(out, "as version 2") {
		t.Errorf("restore: %d %s %s", code, out, stderr)
	}
	code, out, _ = run(t, "version", "diff", m.ID, "--from", "1", "--to", "2")
	if code != 0 || !strings.Contains(out, "0 changes") {
		t.Errorf("diff of a restore: %d\n%s", code, out)
	}

	// Errors from the server reach the user with their reason.
	code, _, stderr = run(t, "map", "show", "map_nothere")
	if code != 1 || !strings.Contains(stderr, "404") {
		t.Errorf("show unknown: %d %s", code, stderr)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"format":"trek.map","formatVersion":1,"map":{"name":"","kind":"x","stages":[]}}`), 0o600)
	code, _, stderr = run(t, "map", "import", bad)
	if code != 1 || !strings.Contains(stderr, "kind") {
		t.Errorf("import bad: %d %s", code, stderr)
	}
	code, _, stderr = run(t, "map", "list", "--token", "trek_pat_wrong")
	if code != 1 || !strings.Contains(stderr, "401") {
		t.Errorf("bad token: %d %s", code, stderr)
	}
	if code, _, _ := run(t, "map", "delete", m.ID); code != 0 {
		t.Error("delete failed")
	}
}

func TestDemoSeedFillsAnEmptyWorkspaceOnce(t *testing.T) {
	dir := t.TempDir()
	srv := serve(t, dir, "--admin-password", "flag-password-123", "--demo")
	_, tokOut, _ := run(t, "token", "create", "--data", dir, "--name", "cli")
	count := func() int {
		req, _ := http.NewRequest("GET", srv.url+"/api/v1/maps", nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(tokOut))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var list struct {
			Maps []struct{ Kind, Locale string }
		}
		raw, _ := io.ReadAll(resp.Body)
		json.Unmarshal(raw, &list)
		kinds, locales := map[string]bool{}, map[string]bool{}
		for _, m := range list.Maps {
			kinds[m.Kind], locales[m.Locale] = true, true
		}
		if len(kinds) != 4 || len(locales) != 4 {
			t.Errorf("demo maps cover kinds %v and locales %v", kinds, locales)
		}
		return len(list.Maps)
	}
	n := count()
	if n < 8 {
		t.Fatalf("demo has %d maps", n)
	}
	srv.stop()
	srv = serve(t, dir, "--demo")
	if again := count(); again != n {
		t.Errorf("a second demo start made %d maps, had %d", again, n)
	}
}
