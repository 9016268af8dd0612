package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/trekhq/trek/internal/datadir"
	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/gen"
	"github.com/trekhq/trek/internal/importer"
	"github.com/trekhq/trek/internal/ingest"
	"github.com/trekhq/trek/internal/journey"
	"github.com/trekhq/trek/internal/meta"
	"github.com/trekhq/trek/internal/meta/sqlite"
	"github.com/trekhq/trek/internal/server"
	"github.com/trekhq/trek/internal/wal"
)

// EventsDir is where a data directory keeps its events.
func EventsDir(dir string) string { return filepath.Join(dir, "events") }

type pipelineFlags struct {
	fsync        *string
	dedupWindow  *time.Duration
	traits       *string
	phoneRegion  *string
	maxAnonymous *int
	keepIP       *bool
}

func addPipelineFlags(fs *flag.FlagSet) pipelineFlags {
	return pipelineFlags{
		fsync:        fs.String("fsync", "batch", "fsync policy of the event logs: batch (every acknowledged batch is on disk) or off (faster; a crash may lose acknowledged events)"),
		dedupWindow:  fs.Duration("dedup-window", ingest.DefaultDedupWindow, "how long a messageId is remembered per source to drop repeats"),
		traits:       fs.String("identity-traits", strings.Join(event.DefaultTraitKeys, ","), "traits that identify a customer, comma-separated"),
		phoneRegion:  fs.String("phone-region", "", "country (VN, GR, PL...) assumed for phone numbers without +country code"),
		maxAnonymous: fs.Int("max-anonymous-ids", 0, "cap on anonymous ids per customer (0: the default, 100)"),
		keepIP:       fs.Bool("keep-client-ip", false, "keep context.ip truncated to its network (/24, /48); by default client addresses are dropped"),
	}
}

func (f pipelineFlags) config(dir string, sync wal.SyncPolicy) (ingest.Config, error) {
	switch *f.fsync {
	case "batch":
	case "off":
		sync = wal.SyncNever
	default:
		return ingest.Config{}, usageErr("--fsync must be batch or off")
	}
	var traits []string
	for _, t := range strings.Split(*f.traits, ",") {
		if t = strings.TrimSpace(t); t != "" {
			traits = append(traits, t)
		}
	}
	return ingest.Config{Dir: EventsDir(dir), Sync: sync, DedupWindow: *f.dedupWindow, MaxAnonymousIDs: *f.maxAnonymous, KeepClientIP: *f.keepIP,
		Identity: event.IdentifierRules{TraitKeys: traits, DefaultRegion: *f.phoneRegion}}, nil
}

// offline opens a stopped server's data directory for a bulk command: the
// directory lock, the metadata and the pipeline with fsync left to the end.
type offline struct {
	dir  *datadir.Dir
	meta *sqlite.Store
	pipe *ingest.Pipeline
}

func openOffline(ctx context.Context, dir string, pf pipelineFlags) (*offline, error) {
	d, err := datadir.Open(dir)
	if err != nil {
		return nil, err
	}
	m, err := sqlite.Open(ctx, datadir.MetaPath(dir))
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("open metadata: %w", err)
	}
	cfg, err := pf.config(dir, wal.SyncNever)
	if err != nil {
		m.Close()
		d.Close()
		return nil, err
	}
	cfg.FirstFold, cfg.ParallelFold, cfg.NoLog = ingest.BulkFirstFold, true, true
	p, err := ingest.Open(cfg, m)
	if err != nil {
		m.Close()
		d.Close()
		return nil, err
	}
	return &offline{dir: d, meta: m, pipe: p}, nil
}

// close folds what was written into column files and makes it durable.
func (o *offline) close(ctx context.Context) error {
	err := o.pipe.Flush(ctx)
	err = errors.Join(err, o.pipe.Close(), o.meta.Close(), o.dir.Close())
	return err
}

// sourceFor finds a source by id or name in a workspace, creating it (by
// name) when asked.
func sourceFor(ctx context.Context, m meta.Store, wsSlug, idOrName, channel string, create bool) (meta.Source, error) {
	ws, err := ensureWorkspace(ctx, m, wsSlug)
	if err != nil {
		return meta.Source{}, err
	}
	list, err := m.Sources(ctx, ws.ID)
	if err != nil {
		return meta.Source{}, err
	}
	for _, s := range list {
		if s.ID == idOrName || s.Name == idOrName {
			return s, nil
		}
	}
	if !create {
		return meta.Source{}, fmt.Errorf("workspace %s has no source %q", wsSlug, idOrName)
	}
	return m.CreateSource(ctx, ws.ID, meta.Source{Name: idOrName, Channel: channel, WriteKey: server.NewWriteKey()})
}

// progress prints a self-overwriting progress line on a terminal-like
// writer: events, events/s and bytes done of total.
func progress(w io.Writer, start time.Time) func(done, total int64, events int64) {
	return func(done, total int64, events int64) {
		el := time.Since(start).Seconds()
		rate := 0.0
		if el > 0 {
			rate = float64(events) / el
		}
		pct := ""
		if total > 0 {
			pct = fmt.Sprintf(" %5.1f%% of %s", 100*float64(done)/float64(total), bytesHuman(total))
		}
		fmt.Fprintf(w, "\r%d events, %.0f events/s%s   ", events, rate, pct)
	}
}

func bytesHuman(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("import", stderr)
	dir := fs.String("data", "", "data directory of a stopped server (offline import)")
	cf := addClientFlags(fs)
	*cf.server = ""
	format := fs.String("format", "", "ndjson, csv or xes (default: from the file name)")
	source := fs.String("source", "import", "source id or name to import into (offline: created if missing)")
	channel := fs.String("channel", "other", "channel of a source created for the import")
	ws := fs.String("workspace", DefaultWorkspace, "workspace (offline import)")
	customer := fs.String("customer-column", "", "CSV: column of the customer id")
	eventCol := fs.String("event-column", "", "CSV: column of the event name")
	timeCol := fs.String("time-column", "", "CSV: column of the event time")
	channelCol := fs.String("channel-column", "", "CSV: column of the channel (optional)")
	timeLayout := fs.String("time-layout", "", "CSV: Go time layout of the time column (default: detected)")
	lifecycle := fs.Bool("lifecycle", false, "XES: add lifecycle:transition to the event name (name+transition)")
	quiet := fs.Bool("quiet", false, "no progress line")
	pf := addPipelineFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("give one file to import (gzip is fine)")
	}
	file := pos[0]
	if *format == "" {
		*format = formatOf(file)
	}
	spec := ingest.ImportSpec{Format: *format, WithLifecycle: *lifecycle,
		CSV: importer.CSVMapping{Customer: *customer, Event: *eventCol, Time: *timeCol, Channel: *channelCol, TimeLayout: *timeLayout}}
	if *format == "csv" && (*customer == "" || *eventCol == "" || *timeCol == "") {
		return usageErr("csv needs --customer-column, --event-column and --time-column")
	}
	if (*dir == "") == (*cf.server == "") {
		return usageErr("give --data DIR (server stopped) or --server URL --token T (server running)")
	}
	if *cf.server != "" {
		if *source == "import" {
			return usageErr("give --source with the id of the source to import into (see 'trek source list')")
		}
		return importOnline(ctx, cf, file, *source, spec, stdout)
	}
	defer batchGC()()
	o, err := openOffline(ctx, *dir, pf)
	if err != nil {
		return err
	}
	src, err := sourceFor(ctx, o.meta, *ws, *source, *channel, true)
	if err != nil {
		o.close(ctx)
		return err
	}
	in, err := importer.Open(file)
	if err != nil {
		o.close(ctx)
		return err
	}
	defer in.Close()
	start := time.Now()
	opt := importer.Options{}
	if !*quiet {
		opt.Progress = progress(stderr, start)
	}
	res, err := o.pipe.Import(ctx, src, in, spec, opt)
	if !*quiet {
		fmt.Fprintln(stderr)
	}
	if cerr := o.close(ctx); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(stdout, "imported %d events into source %s (%s) in %s (%.0f events/s): %d stored, %d duplicates, %d rejected into the quarantine\n",
		res.Read, src.Name, src.ID, el.Round(time.Millisecond), float64(res.Read)/el.Seconds(), res.Accepted, res.Duplicates, res.Quarantined)
	return nil
}

func formatOf(file string) string {
	name := strings.TrimSuffix(strings.ToLower(file), ".gz")
	switch {
	case strings.HasSuffix(name, ".xes"):
		return "xes"
	case strings.HasSuffix(name, ".csv"):
		return "csv"
	}
	return "ndjson"
}

func importOnline(ctx context.Context, cf clientFlags, file, source string, spec ingest.ImportSpec, stdout io.Writer) error {
	c, err := cf.client()
	if err != nil {
		return err
	}
	raw, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("open %s: %w", file, err)
	}
	defer raw.Close()
	v := url.Values{"format": {spec.Format}, "source": {source}}
	if spec.WithLifecycle {
		v.Set("lifecycle", "true")
	}
	for k, val := range map[string]string{"customer": spec.CSV.Customer, "event": spec.CSV.Event, "time": spec.CSV.Time,
		"channel": spec.CSV.Channel, "timeLayout": spec.CSV.TimeLayout} {
		if val != "" {
			v.Set(k, val)
		}
	}
	var res ingest.ImportResult
	if _, err := c.upload(ctx, "/api/v1/import?"+v.Encode(), raw, &res); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %d events: %d stored, %d duplicates, %d rejected into the quarantine\n",
		res.Read, res.Accepted, res.Duplicates, res.Quarantined)
	return nil
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", stderr)
	dir := fs.String("data", "", "data directory of a stopped server (required)")
	format := fs.String("format", "parquet", "parquet or ndjson")
	out := fs.String("out", "", "directory to write into (required); one file per workspace")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" || *out == "" {
		return usageErr("--data and --out are required")
	}
	if *format != "parquet" && *format != "ndjson" {
		return usageErr("--format must be parquet or ndjson")
	}
	o, err := openOffline(ctx, *dir, addPipelineFlags(newFlags("", io.Discard)))
	if err != nil {
		return err
	}
	defer o.close(ctx)
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", *out, err)
	}
	wss, err := o.meta.Workspaces(ctx)
	if err != nil {
		return err
	}
	for _, ws := range wss {
		st, err := o.pipe.Store(ctx, ws.ID)
		if err != nil {
			return err
		}
		path := filepath.Join(*out, ws.Slug+"."+*format)
		if err := writeExport(ctx, path, *format, st.ExportParquet, st.ExportNDJSON); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (%d events)\n", path, st.Stats().Events)
	}
	return nil
}

func writeExport(ctx context.Context, path, format string, parquet, ndjson func(context.Context, io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".export-*")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	write := ndjson
	if format == "parquet" {
		write = parquet
	}
	if err := write(ctx, f); err != nil {
		f.Close()
		return fmt.Errorf("export %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func runGen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gen", stderr)
	seed := fs.Int64("seed", 1, "random seed: the same seed gives the same data")
	customers := fs.Int("customers", 0, "number of people (default: from --events)")
	events := fs.Int("events", 0, "approximate number of events when --customers is not given (default 10,000 customers)")
	days := fs.Int("days", 0, "length of the period in days (default 90)")
	startS := fs.String("start", "", "start of the period, RFC 3339 date (default 2026-01-01)")
	effects := fs.String("effects", "", "planted effects: checkout-fails-on=android,better-channel=email,call-loop")
	duplicates := fs.Float64("duplicates", 0, "share of events sent twice with the same messageId")
	invalid := fs.Float64("invalid", 0, "share of events followed by an invalid one")
	out := fs.String("out", "", "NDJSON file to write ('-' for standard output)")
	truthFile := fs.String("truth", "", "file for the JSON ground truth (default: beside --out or in --data)")
	dir := fs.String("data", "", "write straight into this data directory (server stopped) instead of --out")
	ws := fs.String("workspace", DefaultWorkspace, "workspace to fill with --data")
	quiet := fs.Bool("quiet", false, "no progress line")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	cfg := gen.Config{Seed: *seed, Customers: *customers, Events: *events, Days: *days, DuplicateRate: *duplicates, InvalidRate: *invalid}
	if *startS != "" {
		t, err := time.Parse("2006-01-02", *startS)
		if err != nil {
			if t, err = time.Parse(time.RFC3339, *startS); err != nil {
				return usageErr("--start must be a date like 2026-01-01")
			}
		}
		cfg.Start = t
	}
	var err error
	if cfg.Effects, err = gen.ParseEffects(*effects); err != nil {
		return usageErr("--effects: %v", err)
	}
	if (*out == "") == (*dir == "") {
		return usageErr("give --out FILE (NDJSON) or --data DIR")
	}
	start := time.Now()
	if !*quiet {
		cfg.Progress = func(done, lines, all int64) {
			fmt.Fprintf(stderr, "\r%d of %d customers, %d events, %.0f events/s   ", done, all, lines, float64(lines)/time.Since(start).Seconds())
		}
	}
	var truth gen.Truth
	if *out != "" {
		truth, err = genToFile(ctx, cfg, *out, stdout)
		if *truthFile == "" && *out != "-" {
			*truthFile = strings.TrimSuffix(*out, filepath.Ext(*out)) + ".truth.json"
		}
	} else {
		truth, err = genToData(ctx, cfg, *dir, *ws)
		if *truthFile == "" {
			*truthFile = filepath.Join(*dir, "gen.truth.json")
		}
	}
	if !*quiet {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return err
	}
	if *truthFile != "" {
		raw, err := json.MarshalIndent(truth, "", "  ")
		if err != nil {
			return err
		}
		if err := datadir.WriteFileAtomic(*truthFile, append(raw, '\n'), 0o644); err != nil {
			return fmt.Errorf("write truth: %w", err)
		}
		fmt.Fprintf(stderr, "ground truth in %s\n", *truthFile)
	}
	return nil
}

func genToFile(ctx context.Context, cfg gen.Config, out string, stdout io.Writer) (gen.Truth, error) {
	if out == "-" {
		return gen.WriteNDJSON(ctx, cfg, stdout)
	}
	f, err := os.Create(out)
	if err != nil {
		return gen.Truth{}, fmt.Errorf("create %s: %w", out, err)
	}
	truth, err := gen.WriteNDJSON(ctx, cfg, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return truth, err
}

// genToData feeds generated events through the ingest pipeline of a
// stopped server's data directory, as if the generated sources had sent
// them: invalid ones land in the quarantine, repeats are deduplicated.
func genToData(ctx context.Context, cfg gen.Config, dir, wsSlug string) (gen.Truth, error) {
	o, err := openOffline(ctx, dir, addPipelineFlags(newFlags("", io.Discard)))
	if err != nil {
		return gen.Truth{}, err
	}
	srcs := map[string]meta.Source{}
	for _, gs := range gen.Sources() {
		s, err := sourceFor(ctx, o.meta, wsSlug, gs.Name, gs.Channel, true)
		if err != nil {
			o.close(ctx)
			return gen.Truth{}, err
		}
		srcs[gs.ID] = s
	}
	limits := event.DefaultLimits()
	limits.NoPastBound = true
	batches := map[string]*event.Batch{}
	flush := func(id string) error {
		b := batches[id]
		if b == nil || len(b.Events)+len(b.Rejected) == 0 {
			return nil
		}
		_, err := o.pipe.Collect(ctx, srcs[id], *b)
		batches[id] = &event.Batch{}
		return err
	}
	truth, err := gen.Generate(ctx, cfg, func(e event.Event) error {
		src, ok := srcs[e.SourceID]
		if !ok {
			return fmt.Errorf("generated event from unknown source %q", e.SourceID)
		}
		e.SourceID = src.ID
		b := batches[src.ID]
		if b == nil {
			b = &event.Batch{}
			batches[src.ID] = b
			srcs[src.ID] = src
		}
		if verr := event.Validate(&e, limits); verr != nil {
			raw, _ := json.Marshal(e)
			b.Rejected = append(b.Rejected, event.Rejected{Reason: reasonOf(verr), Raw: raw})
		} else {
			b.Events = append(b.Events, e)
		}
		if len(b.Events) >= 8192 {
			return flush(src.ID)
		}
		return nil
	})
	for id := range batches {
		if ferr := flush(id); err == nil {
			err = ferr
		}
	}
	if cerr := o.close(ctx); err == nil {
		err = cerr
	}
	return truth, err
}

func reasonOf(err error) string {
	if rej, ok := event.AsRejected(err); ok {
		return rej.Reason
	}
	if fe, ok := fault.As(err); ok {
		return fe.Message
	}
	return err.Error()
}

func runSource(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub, args, err := subcommand(args, "create", "list", "rotate", "disable", "enable")
	if err != nil {
		return err
	}
	fs := newFlags("source "+sub, stderr)
	cf := addClientFlags(fs)
	output := fs.String("output", "table", "output: table or json")
	var name, channel *string
	if sub == "create" {
		name = fs.String("name", "", "name of the source (required)")
		channel = fs.String("channel", "web", "channel: "+strings.Join(journey.Channels, ", "))
	}
	pos, asJSON, c, err := parseClient(fs, args, cf, output)
	if err != nil {
		return err
	}
	var src meta.Source
	switch sub {
	case "list":
		var res struct {
			Sources []meta.Source `json:"sources"`
		}
		if _, err := c.do(ctx, "GET", "/api/v1/sources", nil, nil, &res); err != nil {
			return err
		}
		if asJSON {
			return printJSON(stdout, res)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tCHANNEL\tSTATE\tWRITE KEY")
		for _, s := range res.Sources {
			state := "enabled"
			if s.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, s.Name, s.Channel, state, s.WriteKey)
		}
		return tw.Flush()
	case "create":
		if *name == "" {
			return usageErr("--name is required")
		}
		if _, err := c.do(ctx, "POST", "/api/v1/sources", map[string]string{"name": *name, "channel": *channel}, nil, &src); err != nil {
			return err
		}
	default:
		if len(pos) != 1 {
			return usageErr("give the source id")
		}
		id := url.PathEscape(pos[0])
		switch sub {
		case "rotate":
			_, err = c.do(ctx, "POST", "/api/v1/sources/"+id+"/rotate", nil, nil, &src)
		case "disable", "enable":
			_, err = c.do(ctx, "PATCH", "/api/v1/sources/"+id, map[string]bool{"disabled": sub == "disable"}, nil, &src)
		}
		if err != nil {
			return err
		}
	}
	if asJSON {
		return printJSON(stdout, src)
	}
	fmt.Fprintf(stdout, "%s %s (%s, %s) write key %s\n", sub+"d", src.ID, src.Name, src.Channel, src.WriteKey)
	return nil
}
