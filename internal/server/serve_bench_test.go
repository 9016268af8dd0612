package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkCollectHTTPAt50kServe is BenchmarkCollectHTTPAt50k against the
// trek binary itself: `trek serve` built as users build it (with its
// profile-guided optimisation) in a process of its own, so that the load
// generator's allocations do not share the server's heap and garbage
// collector. Afterwards the server is stopped and `trek export` must find
// exactly the events it acknowledged. Its "cores" are the load
// generator's alone.
func BenchmarkCollectHTTPAt50kServe(b *testing.B) {
	bin := buildTrek(b)
	dir := b.TempDir()
	cmd := exec.Command(bin, "serve", "--data", dir, "--addr", "127.0.0.1:0", "--admin-password", "bench-password-1", "--log-level", "warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}
	}
	b.Cleanup(stop)
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "trek listening on "); ok {
				addr <- a
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	var base string
	select {
	case base = <-addr:
	case <-time.After(60 * time.Second):
		b.Fatalf("trek serve did not listen within a minute:\n%s", stderr.String())
	}
	token, err := exec.Command(bin, "token", "create", "--data", dir, "--name", "bench", "--role", "admin").Output()
	if err != nil {
		b.Fatalf("trek token create: %v", err)
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/sources", strings.NewReader(`{"name": "Web", "channel": "web"}`))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var src struct{ WriteKey string }
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(raw, &src) != nil {
		b.Fatalf("create source: %d %s", resp.StatusCode, raw)
	}
	tr := &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512, DisableCompression: true, IdleConnTimeout: time.Minute}
	b.Cleanup(tr.CloseIdleConnections)
	bs := &benchServer{url: base, auth: basic(src.WriteKey), client: &http.Client{Transport: tr, Timeout: time.Minute}}
	accepted := openLoopAt50k(b, bs)

	stop()
	out := filepath.Join(b.TempDir(), "export")
	if msg, err := exec.Command(bin, "export", "--data", dir, "--format", "ndjson", "--out", out).CombinedOutput(); err != nil {
		b.Fatalf("trek export: %v\n%s", err, msg)
	}
	files, _ := filepath.Glob(filepath.Join(out, "*"))
	var stored int64
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		stored += int64(bytes.Count(data, []byte("\n")))
	}
	if stored != accepted {
		b.Fatalf("trek export found %d events, trek acknowledged %d", stored, accepted)
	}
}

// buildTrek builds the trek binary as go build builds it (with
// cmd/trek/default.pgo); the build cache makes a second build quick.
func buildTrek(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "trek")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/trekhq/trek/cmd/trek").CombinedOutput(); err != nil {
		b.Fatalf("build trek: %v\n%s", err, out)
	}
	return bin
}
