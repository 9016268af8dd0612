// Package chtest runs a private ClickHouse server for tests and
// benchmarks that check trek's analytics against ClickHouse's own
// functions (windowFunnel). It starts the clickhouse-server binary the
// machine has (Debian's package) on loopback, on free ports, in a
// temporary directory with a minimal configuration written here, and
// talks to it over its HTTP interface.
//
// HTTP rather than a driver: Debian bookworm ships ClickHouse 18.16,
// and github.com/ClickHouse/clickhouse-go/v2 completes its handshake
// with that server but its first query never answers, so plain net/http
// with TabSeparated and RowBinary is what works across versions.
package chtest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is a running clickhouse-server owned by this process.
type Server struct {
	dir  string
	url  string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // the process's exit, valid once done is closed
	log  *limitedWriter
	hc   *http.Client
}

// Binary finds a clickhouse-server executable: clickhouse-server on PATH
// or in /usr/sbin (where Debian puts it, often not on a user's PATH), or
// the single clickhouse binary of newer releases, run as "clickhouse
// server". It returns the command and its leading arguments.
func Binary() ([]string, error) {
	if p, err := exec.LookPath("clickhouse-server"); err == nil {
		return []string{p}, nil
	}
	for _, p := range []string{"/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return []string{p}, nil
		}
	}
	if p, err := exec.LookPath("clickhouse"); err == nil {
		return []string{p, "server"}, nil
	}
	return nil, errors.New("clickhouse-server is not installed (Debian: apt-get install clickhouse-server)")
}

// Require starts a server for tb and stops it when tb ends. Without a
// clickhouse-server binary it skips, except under CI=true, where a
// missing server must fail the run rather than pass it unchecked.
func Require(tb testing.TB) *Server {
	tb.Helper()
	if _, err := Binary(); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%v; CI must run the ClickHouse comparison", err)
		}
		tb.Skipf("%v; skipping the ClickHouse comparison", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

// config is the whole server configuration: loopback only, our ports,
// everything under dir, UTC so that DateTime means Unix seconds, and
// one passwordless user reachable from loopback.
const config = `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><console>1</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>%d</http_port>
  <tcp_port>%d</tcp_port>
  <path>%[3]s/data/</path>
  <tmp_path>%[3]s/tmp/</tmp_path>
  <user_files_path>%[3]s/user_files/</user_files_path>
  <format_schema_path>%[3]s/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>16</max_concurrent_queries>
</yandex>
`

const users = `<?xml version="1.0"?>
<yandex>
  <profiles><default><log_queries>0</log_queries></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`

// Start runs a server with its data in dir (which must exist and which
// Close leaves for its owner to remove) and waits until it answers.
// A port taken between choosing it and the server binding it is retried.
func Start(ctx context.Context, dir string) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	var last error
	for attempt := range 3 {
		d := filepath.Join(dir, "clickhouse-"+strconv.Itoa(attempt))
		s, err := start(ctx, bin, d)
		if err == nil {
			return s, nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, last
}

func start(ctx context.Context, bin []string, dir string) (*Server, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("clickhouse: make %s: %w", dir, err)
	}
	cfg := filepath.Join(dir, "config.xml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, config, ports[0], ports[1], dir), 0o644); err != nil {
		return nil, fmt.Errorf("clickhouse: write config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.xml"), []byte(users), 0o644); err != nil {
		return nil, fmt.Errorf("clickhouse: write users: %w", err)
	}
	s := &Server{
		dir:  dir,
		url:  "http://127.0.0.1:" + strconv.Itoa(ports[0]) + "/",
		done: make(chan struct{}),
		log:  &limitedWriter{n: 64 << 10},
		hc:   &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}},
	}
	args := append(bin[1:len(bin):len(bin)], "--config-file="+cfg)
	// Not CommandContext: ctx bounds the start, not the server's life.
	s.cmd = exec.Command(bin[0], args...)
	s.cmd.Dir = dir
	s.cmd.Stdout = s.log
	s.cmd.Stderr = s.cmd.Stdout
	// Its own process group, so that a signal meant for the test run
	// (Ctrl-C) reaches the server through Close, not half-way.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("clickhouse: start %s: %w", bin[0], err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	began := time.Now()
	for {
		if err := s.ping(ctx); err == nil {
			slog.Debug("clickhouse ready", "url", s.url, "after", time.Since(began))
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("clickhouse-server exited while starting (%v): %s", s.err, tail(s.log.String()))
		case <-ctx.Done():
			s.Close()
			return nil, fmt.Errorf("clickhouse-server did not answer on %s: %w: %s", s.url, ctx.Err(), tail(s.log.String()))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Server) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"ping", nil)
	if err != nil {
		return err
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ping: %s", resp.Status)
	}
	return nil
}

// Close stops the server (SIGTERM, then SIGKILL after ten seconds) and
// waits for it to exit.
func (s *Server) Close() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	// Idle keep-alive connections would hold the server's shutdown.
	s.hc.CloseIdleConnections()
	began := time.Now()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	defer func() { slog.Debug("clickhouse stopped", "after", time.Since(began)) }()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("clickhouse-server did not stop on SIGTERM within 10s; killed")
	}
	return nil
}

// CPUTime is the CPU time (user and system) the server process has used
// so far, from /proc: on a shared machine, a query's CPU time says more
// than its wall time.
func (s *Server) CPUTime() (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("clickhouse: CPU time: %w", err)
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// utime and stime are fields 14 and 15, in clock ticks (USER_HZ,
	// 100 on every Linux build that matters).
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("clickhouse: CPU time: cannot read /proc/%d/stat", s.cmd.Process.Pid)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	k, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("clickhouse: CPU time: cannot read /proc/%d/stat", s.cmd.Process.Pid)
	}
	return time.Duration(u+k) * 10 * time.Millisecond, nil
}

// Query runs one statement and returns its whole answer. body, when not
// nil, is sent as the statement's data (INSERT ... FORMAT X). settings
// are ClickHouse settings for this statement only.
func (s *Server) Query(ctx context.Context, sql string, body io.Reader, settings map[string]string) ([]byte, error) {
	q := url.Values{"query": {sql}}
	for k, v := range settings {
		q.Set(k, v)
	}
	method := http.MethodGet
	if body != nil {
		method = http.MethodPost
	} else if !isRead(sql) {
		method, body = http.MethodPost, http.NoBody
	}
	req, err := http.NewRequestWithContext(ctx, method, s.url+"?"+q.Encode(), body)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: %w", err)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: %s: %w", short(sql), err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: %s: read answer: %w", short(sql), err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("clickhouse: %s: %s: %s", short(sql), resp.Status, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// Exec runs statements that answer nothing, one after another.
func (s *Server) Exec(ctx context.Context, sqls ...string) error {
	for _, sql := range sqls {
		if _, err := s.Query(ctx, sql, nil, nil); err != nil {
			return err
		}
	}
	return nil
}

// isRead reports whether sql may go as a GET, which ClickHouse runs in
// read-only mode.
func isRead(sql string) bool {
	f := strings.ToUpper(strings.TrimSpace(sql))
	return strings.HasPrefix(f, "SELECT") || strings.HasPrefix(f, "WITH")
}

func short(sql string) string {
	sql = strings.Join(strings.Fields(sql), " ")
	if len(sql) > 80 {
		return sql[:80] + "…"
	}
	return sql
}

func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}

// freePorts asks the kernel for n free loopback ports. They are free
// when asked; Start retries should another process take one first.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("clickhouse: find a free port: %w", err)
		}
		ls = append(ls, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

// limitedWriter keeps the first n bytes of the server's output, for
// error messages, and drops the rest. The process writes while Start
// may read.
type limitedWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
	n  int
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if room := w.n - w.b.Len(); room > 0 {
		w.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (w *limitedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// RowBinary appends values in ClickHouse's RowBinary input format, the
// cheapest way to load many rows: integers little-endian, DateTime as
// UInt32 seconds, strings with a varint length.
type RowBinary []byte

// UInt64 appends a UInt64.
func (b RowBinary) UInt64(v uint64) RowBinary { return binary.LittleEndian.AppendUint64(b, v) }

// UInt32 appends a UInt32 or a DateTime (Unix seconds).
func (b RowBinary) UInt32(v uint32) RowBinary { return binary.LittleEndian.AppendUint32(b, v) }

// String appends a String.
func (b RowBinary) String(s string) RowBinary {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}
