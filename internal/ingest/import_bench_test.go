package ingest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/gen"
	"github.com/trekhq/trek/internal/importer"
	"github.com/trekhq/trek/internal/meta"
	"github.com/trekhq/trek/internal/meta/sqlite"
	"github.com/trekhq/trek/internal/wal"
)

// The import benchmarks measure issue 3's bulk-import target (≥ 500,000
// events/s for NDJSON and XES) on the path of 'trek import --data': the
// reader, dedup, identity stitching and the event store under
// wal.SyncNever, ending with the fold into column files. Each has a "read"
// sub-benchmark of the reader alone into a sink that drops the events, so
// that the difference between the two is what the pipeline and the store
// cost.

// benchNDJSONEvents is the size of the generated NDJSON file.
const benchNDJSONEvents = 200_000

var (
	benchNDJSONOnce sync.Once
	benchNDJSONData []byte
	benchNDJSONErr  error
)

// benchNDJSON generates the NDJSON input once per process: gen's
// omnichannel journeys, as Segment's archives hold them.
func benchNDJSON(b *testing.B) []byte {
	benchNDJSONOnce.Do(func() {
		var buf bytes.Buffer
		_, benchNDJSONErr = gen.WriteNDJSON(context.Background(), gen.Config{Seed: 3, Events: benchNDJSONEvents}, &buf)
		benchNDJSONData = buf.Bytes()
	})
	if benchNDJSONErr != nil {
		b.Fatal(benchNDJSONErr)
	}
	return benchNDJSONData
}

// benchDatasetsDir finds ../shared/datasets by walking up from the working
// directory, or skips.
func benchDatasetsDir(b *testing.B) string {
	dir, _ := os.Getwd()
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", "datasets")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
	}
	b.Skip("shared/datasets not found above the working directory")
	return ""
}

// benchPipeline opens a pipeline in a fresh directory as trek import
// opens one (sync policy, folds, no event log), and a source to import
// into. The caller closes it before the next iteration, so that one
// import's memory and files do not weigh on the next.
func benchPipeline(b *testing.B) (p *Pipeline, src meta.Source, dir string, done func()) {
	b.Helper()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "trek-import-bench-")
	if err != nil {
		b.Fatal(err)
	}
	m, err := sqlite.Open(ctx, filepath.Join(dir, "trek.db"))
	if err != nil {
		b.Fatal(err)
	}
	ws, err := m.CreateWorkspace(ctx, "default", "Default")
	if err != nil {
		b.Fatal(err)
	}
	src, err = m.CreateSource(ctx, ws.ID, meta.Source{Name: "import", Channel: "other", WriteKey: "wk"})
	if err != nil {
		b.Fatal(err)
	}
	p, err = Open(Config{Dir: filepath.Join(dir, "events"), Sync: wal.SyncNever, FirstFold: BulkFirstFold, ParallelFold: true, NoLog: true, Logger: slog.New(slog.DiscardHandler)}, m)
	if err != nil {
		b.Fatal(err)
	}
	closed := false
	done = func() {
		if closed {
			return
		}
		closed = true
		if err := p.Close(); err != nil {
			b.Error(err)
		}
		m.Close()
		os.RemoveAll(dir)
	}
	b.Cleanup(done)
	return p, src, dir, done
}

// columnBytes is the size of the column files under a pipeline's
// directory: the store's BytesOnDisk also counts the log's active segment
// (up to 64 MiB), which an import leaves behind until it rolls.
func columnBytes(b *testing.B, dir string) int64 {
	files, err := filepath.Glob(filepath.Join(dir, "events", "*", "events", "*.col"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no column files under %s (%v)", dir, err)
	}
	var n int64
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			b.Fatal(err)
		}
		n += fi.Size()
	}
	return n
}

// benchImport runs one whole import per iteration into a fresh pipeline
// and reports events/s of wall and of CPU time, the size of the column
// files (core columns, the issue's ≤ 12 bytes target, and all of them) and
// the heap the open pipeline retains per event after the import.
func benchImport(b *testing.B, open func() io.Reader, spec ImportSpec, want int64) {
	// The collector as trek import sets it, unless GOGC says otherwise.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(BulkGCPercent))
	}
	var events, retained, coreBytes, colBytes int64
	var took, cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		p, src, dir, done := benchPipeline(b)
		in := open()
		heapBefore := heapInuse()
		b.StartTimer()
		start, cpu0 := time.Now(), cpuTime()
		res, err := p.Import(context.Background(), src, in, spec, importer.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		took += time.Since(start)
		cpu += cpuTime() - cpu0
		b.StopTimer()
		if c, ok := in.(io.Closer); ok {
			c.Close()
		}
		if want > 0 && res.Accepted != int(want) {
			b.Fatalf("imported %d events, want %d (%+v)", res.Accepted, want, res)
		}
		events += int64(res.Accepted)
		st, err := p.Store(context.Background(), src.WorkspaceID)
		if err != nil {
			b.Fatal(err)
		}
		stats := st.Stats()
		coreBytes, colBytes = stats.CoreBytes, columnBytes(b, dir)
		// What the open pipeline keeps once the events are in column
		// files: the identity graph, the dedup index, caches.
		retained = heapInuse() - heapBefore
		done()
		b.StartTimer()
	}
	n := float64(events) / float64(b.N)
	b.ReportMetric(float64(events)/took.Seconds(), "events/s")
	b.ReportMetric(float64(events)/cpu.Seconds(), "events/cpu-s")
	// The cores the process had (and used): the reader and the writer
	// can use two.
	b.ReportMetric(cpu.Seconds()/took.Seconds(), "cores")
	b.ReportMetric(float64(coreBytes)/n, "core-B/event")
	b.ReportMetric(float64(colBytes)/n, "col-B/event")
	b.ReportMetric(float64(retained)/n, "retained-B/event")
}

// benchRead runs the reader alone into a sink that drops the events.
func benchRead(b *testing.B, open func() io.Reader, read func(io.Reader, importer.Options, importer.Sink) (importer.Stats, error)) {
	var events int64
	cpu0 := cpuTime()
	for b.Loop() {
		in := open()
		st, err := read(in, importer.Options{SourceID: "src_bench"}, func(event.Event) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		if c, ok := in.(io.Closer); ok {
			c.Close()
		}
		events += st.Events
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(events)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
}

// BenchmarkImportNDJSON imports 200k generated events from memory.
func BenchmarkImportNDJSON(b *testing.B) {
	data := benchNDJSON(b)
	open := func() io.Reader { return bytes.NewReader(data) }
	b.Run("read", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		benchRead(b, open, func(r io.Reader, o importer.Options, s importer.Sink) (importer.Stats, error) {
			return importer.ReadNDJSON(context.Background(), r, o, s)
		})
	})
	b.Run("pipeline", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		benchImport(b, open, ImportSpec{Format: "ndjson"}, 0)
	})
}

// BenchmarkImportXES imports BPI Challenge 2012 (262,200 events, 13,087
// cases) from its gzipped file, as 'trek import' does.
func BenchmarkImportXES(b *testing.B) {
	path := filepath.Join(benchDatasetsDir(b), "bpic2012.xes.gz")
	open := func() io.Reader {
		f, err := importer.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		return f
	}
	b.Run("read", func(b *testing.B) {
		benchRead(b, open, func(r io.Reader, o importer.Options, s importer.Sink) (importer.Stats, error) {
			return importer.ReadXES(context.Background(), r, importer.XESOptions{}, o, s)
		})
	})
	b.Run("pipeline", func(b *testing.B) {
		benchImport(b, open, ImportSpec{Format: "xes"}, 262_200)
	})
}

// heapInuse is the heap in use after two collections: buffers left in a
// sync.Pool survive the first, and the previous iteration's could make the
// heap before an import look larger than after it.
func heapInuse() int64 {
	runtime.GC()
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
