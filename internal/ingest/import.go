package ingest

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/importer"
	"github.com/trekhq/trek/internal/meta"
)

// importBatch is how many events an import hands the writer at once: large
// enough that the fsync per group is amortised, small enough to keep the
// memory of one group modest.
const importBatch = 8192

// ImportSpec says how to read a file.
type ImportSpec struct {
	Format        string // ndjson, csv or xes
	CSV           importer.CSVMapping
	WithLifecycle bool // XES: event name + "+" + lifecycle:transition
}

// ImportResult sums up an import.
type ImportResult struct {
	Result
	Read     int64 `json:"read"`
	Rejected int64 `json:"rejected"`
}

// Import reads events from r in the given format into src's workspace,
// through the same dedup, stitching and quarantine as collection. Rows the
// reader cannot use are quarantined with their line and reason.
func (p *Pipeline) Import(ctx context.Context, src meta.Source, r io.Reader, spec ImportSpec, opt importer.Options) (ImportResult, error) {
	var res ImportResult
	var pending event.Batch
	// One batch is stored while the reader fills the next, so reading and
	// writing use both cores; at most one batch is in flight.
	type outcome struct {
		r   Result
		err error
	}
	var inflight chan outcome
	// The in-flight batch's events are reused for the batch after next
	// once Collect has answered: the writer copies each event into its
	// records and keeps nothing of the slice. A fresh 8,192-event slice
	// per batch is 2.4 MB for the allocator to clear and the collector to
	// scan, 288 bytes per event.
	var sent, spare []event.Event
	wait := func() error {
		if inflight == nil {
			return nil
		}
		o := <-inflight
		inflight = nil
		res.Accepted += o.r.Accepted
		res.Duplicates += o.r.Duplicates
		res.Quarantined += o.r.Quarantined
		res.Suppressed += o.r.Suppressed
		if o.err == nil {
			spare, sent = sent[:0], nil
		}
		return o.err
	}
	flush := func() error {
		if err := wait(); err != nil {
			return err
		}
		if len(pending.Events) == 0 && len(pending.Rejected) == 0 {
			return nil
		}
		b := pending
		sent = b.Events
		if spare == nil {
			spare = make([]event.Event, 0, importBatch)
		}
		pending, spare = event.Batch{Events: spare}, nil
		ch := make(chan outcome, 1)
		inflight = ch
		go func() {
			r, err := p.Collect(ctx, src, b)
			ch <- outcome{r, err}
		}()
		return nil
	}
	opt.SourceID = src.ID
	if opt.DefaultChannel == "" {
		opt.DefaultChannel = src.Channel
	}
	userReject := opt.OnReject
	opt.OnReject = func(line int, reason string, raw []byte) {
		if userReject != nil {
			userReject(line, reason, raw)
		}
		pending.Rejected = append(pending.Rejected, event.Rejected{Index: line,
			Reason: fmt.Sprintf("line %d: %s", line, reason), Raw: append([]byte(nil), raw...)})
	}
	sink := func(e event.Event) error {
		pending.Events = append(pending.Events, e)
		if len(pending.Events) >= importBatch {
			return flush()
		}
		return nil
	}
	var st importer.Stats
	var err error
	switch strings.ToLower(spec.Format) {
	case "ndjson", "jsonl":
		st, err = importer.ReadNDJSON(ctx, r, opt, sink)
	case "csv":
		st, err = importer.ReadCSV(ctx, r, spec.CSV, opt, sink)
	case "xes":
		st, err = importer.ReadXES(ctx, r, importer.XESOptions{WithLifecycle: spec.WithLifecycle}, opt, sink)
	default:
		return res, fault.Fields("the import is not valid", []fault.FieldError{{Path: "format", Message: "must be ndjson, csv or xes"}})
	}
	if err == nil {
		err = flush()
	}
	if werr := wait(); err == nil {
		err = werr
	}
	res.Read, res.Rejected = st.Events, st.Rejected
	return res, err
}
