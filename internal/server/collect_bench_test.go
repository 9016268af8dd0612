package server

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/gen"
	"github.com/trekhq/trek/internal/ingest"
	"github.com/trekhq/trek/internal/meta"
	"github.com/trekhq/trek/internal/meta/sqlite"
)

// The collection benchmarks measure issue 3's HTTP targets: JSON batches of
// 100 events posted to /v1/batch by many keep-alive clients, each answered
// only once its events are fsynced (the default sync policy). Client and
// server share the machine's cores, as they would not in production: the
// figures are a floor.

const (
	benchBatch   = 100  // events per request, as the issue says
	benchBodies  = 1000 // distinct bodies; requests cycle through them
	benchClients = 64
)

// benchLoad is a set of pre-encoded /v1/batch bodies of generated events.
// Each request rewrites the first 8 hex digits of every messageId with the
// round it belongs to, so that no event is ever a duplicate, however many
// requests a benchmark sends: duplicates are cheaper than new events and
// would flatter the figures.
type benchLoad struct {
	bodies [][]byte
	idOffs [][]int // offsets of each body's messageId values
	bytes  int64   // bytes of all bodies
}

var (
	benchLoadOnce sync.Once
	benchLoadVal  *benchLoad
	benchLoadErr  error
)

// loadForBench generates the bodies once per process: gen's omnichannel
// journeys (pages, screens, tracks and identifies with their context), as
// a client library would send them.
func loadForBench(b *testing.B) *benchLoad {
	benchLoadOnce.Do(func() { benchLoadVal, benchLoadErr = makeBenchLoad() })
	if benchLoadErr != nil {
		b.Fatal(benchLoadErr)
	}
	return benchLoadVal
}

func makeBenchLoad() (*benchLoad, error) {
	var out bytes.Buffer
	cfg := gen.Config{Seed: 7, Events: benchBodies * benchBatch * 11 / 10, Start: time.Now().AddDate(0, 0, -90)}
	if _, err := gen.WriteNDJSON(context.Background(), cfg, &out); err != nil {
		return nil, fmt.Errorf("generate events: %w", err)
	}
	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	if len(lines) < benchBodies*benchBatch {
		return nil, fmt.Errorf("gen made %d events, want %d", len(lines), benchBodies*benchBatch)
	}
	ld := &benchLoad{}
	key := []byte(`"messageId":"`)
	for i := 0; i < benchBodies; i++ {
		var body []byte
		var offs []int
		body = append(body, `{"batch":[`...)
		for j, line := range lines[i*benchBatch : (i+1)*benchBatch] {
			if j > 0 {
				body = append(body, ',')
			}
			// receivedAt is the collector's to stamp; a client does not
			// send it.
			line = dropField(line, "receivedAt")
			k := bytes.Index(line, key)
			if k < 0 {
				return nil, fmt.Errorf("generated event without messageId: %s", line)
			}
			offs = append(offs, len(body)+k+len(key))
			body = append(body, line...)
		}
		body = append(body, `],"sentAt":"`...)
		body = time.Now().UTC().AppendFormat(body, time.RFC3339Nano)
		body = append(body, `"}`...)
		ld.bodies = append(ld.bodies, body)
		ld.idOffs = append(ld.idOffs, offs)
		ld.bytes += int64(len(body))
	}
	return ld, nil
}

// dropField removes a top-level string field from one generated line.
func dropField(line []byte, name string) []byte {
	key := []byte(`,"` + name + `":"`)
	i := bytes.Index(line, key)
	if i < 0 {
		return line
	}
	end := bytes.IndexByte(line[i+len(key):], '"')
	if end < 0 {
		return line
	}
	return append(line[:i:i], line[i+len(key)+end+1:]...)
}

// body returns request n's body in buf: body n mod benchBodies, its
// messageIds stamped with round n / benchBodies.
func (ld *benchLoad) body(n int, buf []byte) []byte {
	i := n % len(ld.bodies)
	buf = append(buf[:0], ld.bodies[i]...)
	var round [8]byte
	strconv.AppendUint(round[:0], uint64(n/len(ld.bodies))|1<<31, 16)
	for _, off := range ld.idOffs[i] {
		copy(buf[off:off+8], round[:])
	}
	return buf
}

// benchServer is a whole trek server on loopback: sqlite metadata, the
// ingest pipeline with its default durable sync, and one web source.
type benchServer struct {
	url    string // where /v1/batch is
	pipe   *ingest.Pipeline
	src    meta.Source
	auth   string
	client *http.Client
}

func newBenchServer(b *testing.B) *benchServer {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	m, err := sqlite.Open(ctx, filepath.Join(dir, "trek.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	ws, err := m.CreateWorkspace(ctx, "default", "Default")
	if err != nil {
		b.Fatal(err)
	}
	src, err := m.CreateSource(ctx, ws.ID, meta.Source{Name: "Web", Channel: "web", WriteKey: "wk_bench"})
	if err != nil {
		b.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	srv, err := New(Config{Logger: quiet}, m)
	if err != nil {
		b.Fatal(err)
	}
	p, err := ingest.Open(ingest.Config{Dir: filepath.Join(dir, "events"), Logger: quiet}, m)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	srv.EnableCollection(p, event.Limits{}, 0)
	hs := httptest.NewServer(srv)
	b.Cleanup(hs.Close)
	tr := &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512, DisableCompression: true, IdleConnTimeout: time.Minute}
	b.Cleanup(tr.CloseIdleConnections)
	return &benchServer{url: hs.URL, pipe: p, src: src, auth: basic(src.WriteKey), client: &http.Client{Transport: tr, Timeout: time.Minute}}
}

// post sends one batch and reports how many events trek accepted.
func (bs *benchServer) post(body []byte) (accepted int, err error) {
	req, err := http.NewRequest("POST", bs.url+"/v1/batch", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", bs.auth)
	req.Header.Set("Content-Type", "application/json")
	resp, err := bs.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d: %s", resp.StatusCode, answer)
	}
	var n int
	if i := bytes.Index(answer, []byte(`"accepted":`)); i >= 0 {
		rest := answer[i+len(`"accepted":`):]
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		n, _ = strconv.Atoi(string(rest[:j]))
	}
	return n, nil
}

// checkStored fails the benchmark unless the store holds exactly what trek
// acknowledged: a fast benchmark that lost events would be no result.
func (bs *benchServer) checkStored(b *testing.B, accepted int64) {
	b.Helper()
	st, err := bs.pipe.Store(context.Background(), bs.src.WorkspaceID)
	if err != nil {
		b.Fatal(err)
	}
	if got := st.Stats().Events; got != accepted {
		b.Fatalf("the store holds %d events, trek acknowledged %d", got, accepted)
	}
}

// latencies collects answer times from many goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d...)
	l.mu.Unlock()
}

// unanswered marks a request that failed: it sorts after every answer
// time and reports as +Inf, so refusals cannot improve a percentile.
const unanswered = time.Duration(math.MaxInt64)

func (l *latencies) report(b *testing.B) {
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	ms := func(d time.Duration) float64 {
		if d == unanswered {
			return math.Inf(1)
		}
		return float64(d.Microseconds()) / 1000
	}
	q := func(p float64) float64 { return ms(l.d[min(len(l.d)-1, int(p*float64(len(l.d))))]) }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(ms(l.d[len(l.d)-1]), "max-ms")
}

// BenchmarkCollectHTTP posts batches of 100 events from 64 keep-alive
// clients as fast as trek answers them (closed loop): events/s is the
// issue's ≥ 100,000 target; p50 and p99 are answer times at that load.
// Each b.N is one request of 100 events.
func BenchmarkCollectHTTP(b *testing.B) {
	ld := loadForBench(b)
	bs := newBenchServer(b)
	var next atomic.Int64
	var accepted atomic.Int64
	lat := &latencies{}
	// Warm the connections, the write-key cache and the workspace, which
	// opens on its first event.
	if _, err := bs.post(ld.body(int(next.Add(1)-1), nil)); err != nil {
		b.Fatal(err)
	}
	accepted.Store(benchBatch)
	b.SetParallelism(benchClients / max(1, testingProcs()))
	b.SetBytes(ld.bytes / int64(len(ld.bodies)))
	heap0 := heapInuse()
	cpu0 := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var buf []byte
		var mine []time.Duration
		for pb.Next() {
			buf = ld.body(int(next.Add(1)-1), buf)
			t0 := time.Now()
			n, err := bs.post(buf)
			if err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
			accepted.Add(int64(n))
		}
		lat.add(mine)
	})
	b.StopTimer()
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N*benchBatch)/sec, "events/s")
	cpu := (cpuTime() - cpu0).Seconds()
	b.ReportMetric(float64(b.N*benchBatch)/cpu, "events/cpu-s")
	// The cores the process had: well below 2 when neighbours load the
	// machine, and then events/s says more about them than about trek.
	b.ReportMetric(cpu/sec, "cores")
	lat.report(b)
	bs.checkStored(b, accepted.Load())
	// What trek keeps in memory per event it took: the head, the dedup
	// index, the identity graph.
	b.ReportMetric(float64(heapInuse()-heap0)/float64(b.N*benchBatch), "retained-B/event")
}

// openLoopFor is how long BenchmarkCollectHTTPAt50k runs. Five seconds are
// 250,000 events, a quarter of the store's head: -openloop=25s also covers
// the head's fold into a column file and the largest heap before it.
var openLoopFor = flag.Duration("openloop", 5*time.Second, "how long BenchmarkCollectHTTPAt50k sends for")

// BenchmarkCollectHTTPAt50k sends 500 requests of 100 events a second
// (50,000 events/s) for a few seconds on a fixed schedule (open loop) and
// reports the answer times: p99 is the issue's < 50 ms target. Times run
// from when a request was due, not from when it left, so a stalled server
// cannot hide its stall by delaying the next requests. The run lasts the
// same whatever b.N is (ns/op means nothing here): a longer -benchtime
// must not multiply it.
func BenchmarkCollectHTTPAt50k(b *testing.B) {
	bs := newBenchServer(b)
	accepted := openLoopAt50k(b, bs)
	bs.checkStored(b, accepted)
}

// openLoopAt50k sends BenchmarkCollectHTTPAt50k's load to bs and reports
// its answer times; it returns how many events trek acknowledged.
func openLoopAt50k(b *testing.B, bs *benchServer) int64 {
	const rate = 500 // requests/s
	dur := *openLoopFor
	if testing.Short() {
		dur = min(dur, 2*time.Second)
	}
	ld := loadForBench(b)
	var next atomic.Int64
	var accepted atomic.Int64
	// Warm up: open the workspace and enough connections for the load.
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			n, err := bs.post(ld.body(int(next.Add(1)-1), nil))
			if err != nil {
				b.Error(err)
			}
			accepted.Add(int64(n))
		})
	}
	wg.Wait()
	n := int(dur.Seconds() * rate)
	d := make([]time.Duration, n)
	var failed atomic.Int64
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for i := range n {
		due := start.Add(time.Duration(i) * time.Second / rate)
		time.Sleep(time.Until(due))
		body := ld.body(int(next.Add(1)-1), nil)
		wg.Go(func() {
			got, err := bs.post(body)
			d[i] = time.Since(due)
			if err != nil {
				// Refused or failed: not answered in time, whatever
				// its answer time was.
				d[i] = unanswered
				if failed.Add(1) == 1 {
					b.Log(err)
				}
				return
			}
			accepted.Add(int64(got))
		})
	}
	wg.Wait()
	took := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(n*benchBatch)/took.Seconds(), "events/s")
	b.ReportMetric((cpuTime()-cpu0).Seconds()/took.Seconds(), "cores")
	(&latencies{d: d}).report(b)
	b.ReportMetric(float64(failed.Load()), "failed")
	return accepted.Load()
}

// testingProcs is GOMAXPROCS: RunParallel starts parallelism × GOMAXPROCS
// goroutines.
func testingProcs() int { return runtime.GOMAXPROCS(0) }

// heapInuse is the heap in use after a collection.
func heapInuse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// cpuTime is the process's user and system time: on a shared machine,
// events per CPU-second say more about the code than events per second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
