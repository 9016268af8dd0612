package main

// Crash safety of the real binary: DESIGN.md's collection guarantee says an
// event answered 2xx survives a kill of the process the moment after the
// answer, and a repeated messageId is stored once. These tests SIGKILL
// `trek serve` while clients are being acknowledged, restart it on the same
// data directory and read every event back, through the running server's
// customer API and through `trek export`.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/ingest"
)

const (
	crashPassword = "crash-test-pass-1"
	// crashUsers is how many customers the load spreads over; every
	// event carries one of their userIds, so the union of their timelines
	// is every stored event.
	crashUsers = 120
	// startTimeout is generous: on a loaded 2-core machine a cold start
	// (SQLite migrations, log replay) can take seconds.
	startTimeout = 90 * time.Second
	exitTimeout  = 30 * time.Second
)

// tailBuffer keeps the last bytes a process wrote, for failure messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - 1<<20; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// trekProc is a running `trek serve`.
type trekProc struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:PORT
	stderr *tailBuffer
	exited chan struct{} // closed once Wait has returned
}

// startTrek starts `trek serve` on dir and waits until it listens. env
// adds NAME=VALUE pairs to the server's environment.
func startTrek(t *testing.T, dir string, env ...string) *trekProc {
	t.Helper()
	cmd := exec.Command(trekBinary(t), "serve", "--data", dir, "--addr", "127.0.0.1:0",
		"--admin-password", crashPassword, "--log-level", "warn")
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &trekProc{cmd: cmd, stderr: &tailBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
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
	go func() {
		cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Kill()
			<-p.exited
		}
	})
	select {
	case p.base = <-addr:
	case <-p.exited:
		t.Fatalf("trek serve exited before listening (%v):\n%s", cmd.ProcessState, p.stderr)
	case <-time.After(startTimeout):
		t.Fatalf("trek serve not listening after %v:\n%s", startTimeout, p.stderr)
	}
	return p
}

// wait waits for the process to end and returns how it ended.
func (p *trekProc) wait(t *testing.T) *os.ProcessState {
	t.Helper()
	select {
	case <-p.exited:
		return p.cmd.ProcessState
	case <-time.After(exitTimeout):
		p.cmd.Process.Kill()
		t.Fatalf("trek serve did not exit within %v:\n%s", exitTimeout, p.stderr)
		return nil
	}
}

// kill SIGKILLs the server, as a crash or the OOM killer would.
func (p *trekProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("kill trek serve: %v", err)
	}
	p.wait(t)
}

// stop ends the server gracefully and expects a clean exit.
func (p *trekProc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("stop trek serve: %v", err)
	}
	if st := p.wait(t); !st.Success() {
		t.Fatalf("trek serve exited with %v after SIGTERM:\n%s", st, p.stderr)
	}
}

// hung ends a server that stopped answering with SIGQUIT, so that the
// Go runtime prints every goroutine's stack to its log, and fails the test
// with that log.
func (p *trekProc) hung(t *testing.T, what string, err error) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
	}
	t.Fatalf("%s: %v; trek serve's goroutines:\n%s", what, err, p.stderr)
}

// killedBySIGKILL reports whether the process died of SIGKILL.
func killedBySIGKILL(st *os.ProcessState) bool {
	ws, ok := st.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// crashSite is a data directory with an admin token and one web source.
type crashSite struct {
	dir      string
	token    string
	writeKey string
}

// newCrashSite starts a server on a fresh data directory, makes an admin
// token with the CLI and a source through the API, and returns the
// running server with the site.
func newCrashSite(t *testing.T) (crashSite, *trekProc) {
	t.Helper()
	s := crashSite{dir: t.TempDir()}
	p := startTrek(t, s.dir)
	out, err := exec.Command(trekBinary(t), "token", "create", "--data", s.dir, "--name", "crash-test", "--role", "admin").Output()
	if err != nil {
		t.Fatalf("trek token create: %v", err)
	}
	s.token = strings.TrimSpace(string(out))
	body := strings.NewReader(`{"name": "Crash test", "channel": "web"}`)
	req, _ := http.NewRequest("POST", p.base+"/api/v1/sources", body)
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create source: %d %s", resp.StatusCode, raw)
	}
	var src struct{ WriteKey string }
	if err := json.Unmarshal(raw, &src); err != nil || src.WriteKey == "" {
		t.Fatalf("create source: %v %s", err, raw)
	}
	s.writeKey = src.WriteKey
	return s, p
}

// crashBatch is one /v1/batch body and the events it carries.
type crashBatch struct {
	body  []byte
	ids   []string // messageIds, in order
	users []string // userId of each event
}

func crashUser(i int) string { return fmt.Sprintf("crash-u%03d", i) }

// makeBatch builds a batch of n track events with unique messageIds made
// from prefix. Every event carries a userId and most an anonymousId of one
// of the user's two devices, so the identity log is written too.
func makeBatch(rng *rand.Rand, prefix string, n int, users func() int) crashBatch {
	b := crashBatch{ids: make([]string, n), users: make([]string, n)}
	evs := make([]map[string]any, n)
	now := time.Now().UTC()
	for i := range n {
		u := users()
		b.ids[i] = fmt.Sprintf("%s-e%03d", prefix, i)
		b.users[i] = crashUser(u)
		ev := map[string]any{
			"type": "track", "messageId": b.ids[i], "userId": b.users[i],
			"event":      []string{"Page Viewed", "Product Viewed", "Cart Updated", "Order Completed"}[rng.IntN(4)],
			"timestamp":  now.Add(-time.Duration(rng.IntN(3600)) * time.Second).Format(time.RFC3339Nano),
			"properties": map[string]any{"n": i, "price": float64(rng.IntN(10000)) / 100},
		}
		if rng.IntN(4) != 0 {
			ev["anonymousId"] = fmt.Sprintf("anon-%d-%d", u, rng.IntN(2))
		}
		evs[i] = ev
	}
	body, err := json.Marshal(map[string]any{"batch": evs, "sentAt": now.Format(time.RFC3339Nano)})
	if err != nil {
		panic(err)
	}
	b.body = body
	return b
}

// collectAnswer is the JSON of a 200 from the collection API.
type collectAnswer struct {
	Success     bool
	Accepted    int
	Duplicates  int
	Quarantined int
}

// postBatch sends a batch with the write key as the HTTP Basic user name.
// err is set when no complete answer came back.
func postBatch(ctx context.Context, hc *http.Client, base, writeKey string, b crashBatch) (int, collectAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/v1/batch", bytes.NewReader(b.body))
	if err != nil {
		return 0, collectAnswer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(writeKey+":")))
	resp, err := hc.Do(req)
	if err != nil {
		return 0, collectAnswer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, collectAnswer{}, err
	}
	var a collectAnswer
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &a); err != nil {
			return 0, collectAnswer{}, fmt.Errorf("200 with an unreadable body %q: %w", raw, err)
		}
	}
	return resp.StatusCode, a, nil
}

// ledger is what the clients sent and what trek acknowledged.
type ledger struct {
	mu    sync.Mutex
	sent  map[string]string // messageId → userId, for every event ever sent
	acked map[string]bool
}

func newLedger() *ledger {
	return &ledger{sent: map[string]string{}, acked: map[string]bool{}}
}

func (l *ledger) send(b crashBatch) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, id := range b.ids {
		l.sent[id] = b.users[i]
	}
}

func (l *ledger) ack(b crashBatch) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range b.ids {
		l.acked[id] = true
	}
}

func (l *ledger) counts() (sent, acked int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.sent), len(l.acked)
}

// check compares the messageIds read back from trek (id → times found)
// with the ledger: every acknowledged event exactly once, no event twice,
// nothing that was never sent.
func (l *ledger) check(t *testing.T, how string, found map[string]int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var lost, doubled, foreign []string
	for id, n := range found {
		if n > 1 {
			doubled = append(doubled, fmt.Sprintf("%s×%d", id, n))
		}
		if _, ok := l.sent[id]; !ok {
			foreign = append(foreign, id)
		}
	}
	for id := range l.acked {
		if found[id] == 0 {
			lost = append(lost, id)
		}
	}
	report := func(what string, ids []string) {
		if len(ids) == 0 {
			return
		}
		slices.Sort(ids)
		t.Errorf("%s: %d %s, e.g. %v", how, len(ids), what, ids[:min(len(ids), 10)])
	}
	report("acknowledged events missing", lost)
	report("events stored more than once", doubled)
	report("events stored that were never sent", foreign)
}

// readViaAPI reads every test customer's timeline from a running server
// and counts the messageIds in it. A server that takes minutes for that
// is hung, and is made to show where.
func readViaAPI(t *testing.T, p *trekProc, token string) map[string]int {
	t.Helper()
	found := map[string]int{}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	hc := &http.Client{}
	base := p.base
	for u := range crashUsers {
		cursor := ""
		for {
			q := url.Values{"limit": {"1000"}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/customers/"+url.PathEscape(crashUser(u))+"/events?"+q.Encode(), nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := hc.Do(req)
			if err != nil {
				p.hung(t, "read timeline of "+crashUser(u), err)
			}
			raw, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatalf("read timeline of %s: %v", crashUser(u), err)
			}
			if resp.StatusCode == http.StatusNotFound {
				break // never stored: the ledger says whether that is right
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("read timeline of %s: %d %s", crashUser(u), resp.StatusCode, raw)
			}
			var page struct {
				Events []struct {
					MessageID string `json:"messageId"`
					UserID    string `json:"userId"`
				}
				NextCursor string
			}
			if err := json.Unmarshal(raw, &page); err != nil {
				t.Fatalf("read timeline of %s: %v", crashUser(u), err)
			}
			for _, e := range page.Events {
				if e.UserID != crashUser(u) {
					t.Errorf("event %s of %s is in the timeline of %s", e.MessageID, e.UserID, crashUser(u))
				}
				found[e.MessageID]++
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
	}
	return found
}

// readViaExport runs `trek export --format ndjson` on a stopped server's
// data directory and counts the messageIds in it.
func readViaExport(t *testing.T, dir string) map[string]int {
	t.Helper()
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, trekBinary(t), "export", "--data", dir, "--format", "ndjson", "--out", out)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGQUIT) } // a stack dump if it hangs
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("trek export: %v\n%s", err, msg)
	}
	f, err := os.Open(filepath.Join(out, "default.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	found := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e struct {
			MessageID string `json:"messageId"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.MessageID == "" {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		found[e.MessageID]++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return found
}

// crashClient sends batches until its round ends. A batch that got no 200
// stays pending and is sent again, first thing in the next round, as a
// Segment client retries: its events must then be stored exactly once
// whether or not the first attempt reached the disk.
type crashClient struct {
	id      int
	rng     *rand.Rand
	next    int
	pending *crashBatch
}

// hung is called when a request timed out while the server was running.
func (c *crashClient) run(ctx context.Context, t *testing.T, hc *http.Client, base, writeKey string, led *ledger, inFlight *atomic.Int64, hung func()) {
	for ctx.Err() == nil {
		if c.pending == nil {
			b := makeBatch(c.rng, fmt.Sprintf("c%d-b%05d", c.id, c.next), 20+c.rng.IntN(81), func() int { return c.rng.IntN(crashUsers) })
			c.next++
			led.send(b)
			c.pending = &b
		}
		b := *c.pending
		inFlight.Add(1)
		status, a, err := postBatch(ctx, hc, base, writeKey, b)
		inFlight.Add(-1)
		switch {
		case err != nil:
			var ue *url.Error
			if errors.As(err, &ue) && ue.Timeout() && ctx.Err() == nil {
				t.Errorf("batch %s: no answer within the client's timeout while trek was running: %v", b.ids[0], err)
				hung()
			}
			// The server died under the request, or the round ended.
			return
		case status == http.StatusOK:
			if !a.Success || a.Accepted+a.Duplicates != len(b.ids) || a.Quarantined != 0 {
				t.Errorf("batch %s: 200 with %+v for %d events", b.ids[0], a, len(b.ids))
			}
			led.ack(b)
			c.pending = nil
			// A pause keeps the volume, and with it the time every round's
			// full read-back takes, modest: what matters is that requests
			// are in flight when the kill lands, not how many.
			time.Sleep(time.Duration(5+c.rng.IntN(25)) * time.Millisecond)
		case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
			time.Sleep(20 * time.Millisecond) // shed load: retry the same batch
		default:
			t.Errorf("batch %s: unexpected status %d", b.ids[0], status)
			return
		}
	}
}

func crashRounds(t *testing.T) int {
	if v := os.Getenv("TREK_CRASH_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("TREK_CRASH_ROUNDS=%q: want a positive number", v)
		}
		return n
	}
	return 8
}

// TestKillDuringCollectionLosesAndDoublesNothing kills the server at a
// random moment while clients are being acknowledged, restarts it on the
// same data directory and checks, every round, that every acknowledged
// event is stored exactly once and no event twice: through the restarted
// server's customer API, and every third round first through `trek
// export` on the killed server's files (the offline recovery path).
// TREK_CRASH_ROUNDS sets the number of rounds (default 8); TREK_CRASH_SEED
// replays a run.
func TestKillDuringCollectionLosesAndDoublesNothing(t *testing.T) {
	rounds := crashRounds(t)
	// With the default rounds the test keeps to a time budget; a count
	// asked for with TREK_CRASH_ROUNDS is run in full.
	budget := 35 * time.Second
	if os.Getenv("TREK_CRASH_ROUNDS") != "" {
		budget = 0
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("TREK_CRASH_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("TREK_CRASH_SEED=%q: %v", v, err)
		}
	}
	t.Logf("TREK_CRASH_SEED=%d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	site, p := newCrashSite(t)
	led := newLedger()
	const nClients = 4
	clients := make([]*crashClient, nClients)
	for i := range clients {
		clients[i] = &crashClient{id: i, rng: rand.New(rand.NewPCG(seed, uint64(i)+2))}
	}
	start := time.Now()
	for round := range rounds {
		hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: nClients}}
		ctx, cancel := context.WithCancel(context.Background())
		var inFlight atomic.Int64
		var wg sync.WaitGroup
		var dump sync.Once
		// A stack dump of the server, in its log, shows where it hangs.
		hung := func() { dump.Do(func() { p.cmd.Process.Signal(syscall.SIGQUIT) }) }
		for _, c := range clients {
			wg.Go(func() { c.run(ctx, t, hc, p.base, site.writeKey, led, &inFlight, hung) })
		}
		// Kill at a random moment, but only while a request is in flight.
		time.Sleep(time.Duration(30+rng.IntN(220)) * time.Millisecond)
		for deadline := time.Now().Add(5 * time.Second); inFlight.Load() == 0 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		busy := inFlight.Load()
		p.kill(t)
		cancel()
		wg.Wait()
		hc.CloseIdleConnections()
		if t.Failed() {
			t.Fatalf("round %d: the load failed; server log:\n%s", round, p.stderr)
		}
		sent, acked := led.counts()
		if acked == 0 && round == 0 {
			t.Fatalf("round 0 acknowledged nothing; server log:\n%s", p.stderr)
		}

		var exported time.Duration
		if round%3 == 2 {
			t0 := time.Now()
			led.check(t, fmt.Sprintf("round %d, trek export of the killed server's files", round), readViaExport(t, site.dir))
			exported = time.Since(t0)
		}
		t0 := time.Now()
		p = startTrek(t, site.dir)
		t1 := time.Now()
		led.check(t, fmt.Sprintf("round %d, customer API after restart", round), readViaAPI(t, p, site.token))
		t.Logf("round %d: killed with %d requests in flight; %d events sent, %d acknowledged so far; export %v, restart %v, read-back %v",
			round, busy, sent, acked, exported.Round(time.Millisecond), t1.Sub(t0).Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
		if t.Failed() {
			t.Fatalf("round %d failed (TREK_CRASH_SEED=%d); server log after restart:\n%s", round, seed, p.stderr)
		}
		if budget > 0 && round >= 2 && time.Since(start) > budget {
			// A machine this loaded would push the package past its time
			// limit; the rounds done (an export round among them) stand.
			t.Logf("stopping after %d of %d rounds: %v used of the %v budget", round+1, rounds, time.Since(start).Round(time.Millisecond), budget)
			rounds = round + 1
			break
		}
	}
	// The batches the last kill left unanswered are sent once more, as
	// clients would, then everything is read from a cleanly stopped server.
	hc := &http.Client{Timeout: 20 * time.Second}
	for _, c := range clients {
		if c.pending == nil {
			continue
		}
		status, a, err := postBatch(context.Background(), hc, p.base, site.writeKey, *c.pending)
		if err != nil || status != http.StatusOK || a.Accepted+a.Duplicates != len(c.pending.ids) {
			t.Fatalf("retry of %s after restart: %d %+v %v", c.pending.ids[0], status, a, err)
		}
		led.ack(*c.pending)
		c.pending = nil
	}
	p.stop(t)
	found := readViaExport(t, site.dir)
	led.check(t, "trek export after the last round", found)
	sent, acked := led.counts()
	if acked != sent {
		t.Errorf("%d events sent, %d acknowledged after every retry", sent, acked)
	}
	t.Logf("%d rounds in %v: %d events acknowledged, %d stored", rounds, time.Since(start).Round(time.Millisecond), acked, len(found))
}

// TestKillBetweenEventWriteAndAnswer lands the kill exactly after the
// event store's durable append and before anything that follows it (the
// dedup index, the answer), with the ingest test hook
// TREK_TEST_KILL_AFTER_APPEND. The request was never answered, yet its
// events are durable: after a restart they are there exactly once, and
// the client's retry of the same batch is deduplicated.
func TestKillBetweenEventWriteAndAnswer(t *testing.T) {
	site, p := newCrashSite(t)
	p.stop(t)
	// The first batch is append 1 and is answered; the second is append
	// 2, after which the process kills itself.
	p = startTrek(t, site.dir, ingest.KillAfterAppendEnv+"=2")
	rng := rand.New(rand.NewPCG(1, 2))
	led := newLedger()
	hc := &http.Client{Timeout: 30 * time.Second}
	first := makeBatch(rng, "first", 30, func() int { return rng.IntN(crashUsers / 2) })
	led.send(first)
	status, a, err := postBatch(context.Background(), hc, p.base, site.writeKey, first)
	if err != nil || status != http.StatusOK || a.Accepted != len(first.ids) {
		t.Fatalf("first batch: %d %+v %v\n%s", status, a, err, p.stderr)
	}
	led.ack(first)
	// New customers only, so the identity log's record for them is the
	// last thing before the events' append.
	second := makeBatch(rng, "second", 50, func() int { return crashUsers/2 + rng.IntN(crashUsers/2) })
	led.send(second)
	status, a, err = postBatch(context.Background(), hc, p.base, site.writeKey, second)
	if err == nil {
		t.Fatalf("second batch was answered %d %+v; the hook should have killed trek before any answer", status, a)
	}
	if st := p.wait(t); !killedBySIGKILL(st) {
		t.Fatalf("trek serve ended with %v, not by its SIGKILL hook:\n%s", st, p.stderr)
	}

	p = startTrek(t, site.dir)
	found := readViaAPI(t, p, site.token)
	led.check(t, "customer API after restart", found)
	for _, id := range second.ids {
		if found[id] != 1 {
			t.Fatalf("event %s of the unanswered batch is stored %d times, want 1: its append was durable", id, found[id])
		}
	}
	// The client never got an answer, so it sends the batch again: every
	// event is a duplicate, none is stored twice. So is a late repeat of
	// the first batch.
	for _, b := range []crashBatch{second, first} {
		status, a, err = postBatch(context.Background(), hc, p.base, site.writeKey, b)
		if err != nil || status != http.StatusOK {
			t.Fatalf("retry of %s: %d %v", b.ids[0], status, err)
		}
		if a.Accepted != 0 || a.Duplicates != len(b.ids) {
			t.Errorf("retry of %s: %+v, want all %d events deduplicated", b.ids[0], a, len(b.ids))
		}
		led.ack(b)
	}
	led.check(t, "customer API after the retries", readViaAPI(t, p, site.token))
	p.stop(t)
	found = readViaExport(t, site.dir)
	led.check(t, "trek export", found)
	if len(found) != len(first.ids)+len(second.ids) {
		t.Errorf("export holds %d events, want %d", len(found), len(first.ids)+len(second.ids))
	}
}
