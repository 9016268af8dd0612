package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/importer"
	"github.com/trekhq/trek/internal/ingest"
	"github.com/trekhq/trek/internal/journey"
	"github.com/trekhq/trek/internal/meta"
)

// pipeline returns the ingest pipeline, or Unavailable when this server
// runs without event collection.
func (s *Server) pipeline() (*ingest.Pipeline, error) {
	if s.collect == nil {
		return nil, fault.New(fault.Unavailable, "event collection is not enabled on this server")
	}
	return s.collect.ingest, nil
}

func (s *Server) getCustomer(w http.ResponseWriter, r *http.Request, p *principal) error {
	pl, err := s.pipeline()
	if err != nil {
		return err
	}
	c, err := pl.Customer(r.Context(), p.workspace.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) customerEvents(w http.ResponseWriter, r *http.Request, p *principal) error {
	pl, err := s.pipeline()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit, err := intParam(q.Get("limit"), 100, 1, 1000)
	if err != nil {
		return fault.Fields("the query parameters are not valid", []fault.FieldError{{Path: "limit", Message: err.Error()}})
	}
	evs, next, err := pl.Timeline(r.Context(), p.workspace.ID, r.PathValue("id"), limit, q.Get("cursor"))
	if err != nil {
		return err
	}
	if evs == nil {
		evs = []event.Event{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs, "nextCursor": next})
	return nil
}

func (s *Server) eraseCustomer(w http.ResponseWriter, r *http.Request, p *principal) error {
	pl, err := s.pipeline()
	if err != nil {
		return err
	}
	e, err := pl.Erase(r.Context(), p.workspace.ID, r.PathValue("id"), p.name())
	if err != nil {
		return err
	}
	s.log.InfoContext(r.Context(), "customer erased", "workspace", p.workspace.Slug, "erasure", e.ID, "events", e.Events, "by", p.name())
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (s *Server) listErasures(w http.ResponseWriter, r *http.Request, p *principal) error {
	list, err := s.meta.Erasures(r.Context(), p.workspace.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"erasures": list})
	return nil
}

func (s *Server) listQuarantine(w http.ResponseWriter, r *http.Request, p *principal) error {
	q := r.URL.Query()
	f := meta.QuarantineFilter{SourceID: q.Get("source"), Status: meta.QuarantineStatus(q.Get("status"))}
	switch f.Status {
	case "", meta.QuarantineOpen, meta.QuarantineReplayed, meta.QuarantineDiscarded:
	default:
		return fault.Fields("the query parameters are not valid", []fault.FieldError{{Path: "status", Message: "must be open, replayed or discarded"}})
	}
	var err error
	if f.Limit, err = intParam(q.Get("limit"), 100, 1, 1000); err != nil {
		return fault.Fields("the query parameters are not valid", []fault.FieldError{{Path: "limit", Message: err.Error()}})
	}
	if f.Offset, err = intParam(q.Get("offset"), 0, 0, 1<<30); err != nil {
		return fault.Fields("the query parameters are not valid", []fault.FieldError{{Path: "offset", Message: err.Error()}})
	}
	items, err := s.meta.QuarantineItems(r.Context(), p.workspace.ID, f)
	if err != nil {
		return err
	}
	out := make([]quarantineView, len(items))
	for i, it := range items {
		out[i] = viewQuarantine(it)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

// quarantineView shows the raw payload as JSON when it is JSON, so that a
// client can edit and replay it.
type quarantineView struct {
	meta.QuarantineItem
	Raw json.RawMessage `json:"raw"`
}

func viewQuarantine(it meta.QuarantineItem) quarantineView {
	v := quarantineView{QuarantineItem: it}
	if json.Valid(it.Raw) {
		v.Raw = it.Raw
	} else {
		quoted, _ := json.Marshal(string(it.Raw))
		v.Raw = quoted
	}
	return v
}

type replayRequest struct {
	// Event is the corrected event; absent means replay the stored one as
	// it is (for example after the cause was fixed on trek's side).
	Event json.RawMessage `json:"event,omitempty"`
}

// replayQuarantine validates a quarantined event again, corrected or not,
// and stores it if it is now valid. Nothing changes if it is still invalid.
func (s *Server) replayQuarantine(w http.ResponseWriter, r *http.Request, p *principal) error {
	pl, err := s.pipeline()
	if err != nil {
		return err
	}
	var req replayRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(r, int64(s.collect.limits.MaxEventBytes)+1024, &req); err != nil {
			return err
		}
	}
	ctx := r.Context()
	it, err := s.meta.QuarantineItem(ctx, p.workspace.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if it.Status != meta.QuarantineOpen {
		return fault.New(fault.Conflict, "this event was already %s", it.Status)
	}
	src, err := s.meta.Source(ctx, p.workspace.ID, it.SourceID)
	if err != nil {
		return err
	}
	raw := []byte(req.Event)
	if len(raw) == 0 {
		raw = it.Raw
	}
	m := event.Meta{ReceivedAt: time.Now().UTC(), SourceID: src.ID, SourceChannel: src.Channel, NewID: func() string { return journey.NewID("msg") }}
	ev, err := event.ParseEvent(raw, event.Track, m, s.collect.limits)
	if err != nil {
		if rej, ok := event.AsRejected(err); ok {
			return fault.Fields("the event is still not valid; nothing was stored", []fault.FieldError{{Path: "event", Message: rej.Reason}})
		}
		return err
	}
	res, err := pl.Collect(ctx, src, event.Batch{Events: []event.Event{ev}})
	if err != nil {
		return err
	}
	if err := s.meta.ResolveQuarantine(ctx, p.workspace.ID, it.ID, meta.QuarantineReplayed, p.name()); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"replayed": it.ID, "result": res, "messageId": ev.MessageID})
	return nil
}

func (s *Server) discardQuarantine(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := s.meta.ResolveQuarantine(r.Context(), p.workspace.ID, r.PathValue("id"), meta.QuarantineDiscarded, p.name()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// importEvents reads an uploaded file (NDJSON, CSV or XES, gzip or not) into
// a source. The body streams: its size is bounded by MaxImportBytes, not by
// memory.
func (s *Server) importEvents(w http.ResponseWriter, r *http.Request, p *principal) error {
	pl, err := s.pipeline()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var errs []fault.FieldError
	format := strings.ToLower(q.Get("format"))
	if format != "ndjson" && format != "csv" && format != "xes" {
		errs = append(errs, fault.FieldError{Path: "format", Message: "must be ndjson, csv or xes"})
	}
	spec := ingest.ImportSpec{Format: format, WithLifecycle: q.Get("lifecycle") == "true",
		CSV: importer.CSVMapping{Customer: q.Get("customer"), Event: q.Get("event"), Time: q.Get("time"), Channel: q.Get("channel"), TimeLayout: q.Get("timeLayout")}}
	if format == "csv" {
		for name, v := range map[string]string{"customer": spec.CSV.Customer, "event": spec.CSV.Event, "time": spec.CSV.Time} {
			if v == "" {
				errs = append(errs, fault.FieldError{Path: name, Message: "names the CSV column of the " + name + "; required for csv"})
			}
		}
	}
	if q.Get("source") == "" {
		errs = append(errs, fault.FieldError{Path: "source", Message: "is required: the id of the source to import into"})
	}
	if errs != nil {
		return fault.Fields("the import is not valid", errs)
	}
	src, err := s.meta.Source(r.Context(), p.workspace.ID, q.Get("source"))
	if err != nil {
		return err
	}
	body, err := importer.NewReader(http.MaxBytesReader(w, r.Body, s.cfg.MaxImportBytes), importer.DefaultGzipLimits)
	if err != nil {
		return fault.New(fault.Invalid, "the upload could not be read: %v", err)
	}
	defer body.Close()
	res, err := pl.Import(r.Context(), src, body, spec, importer.Options{})
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fault.New(fault.TooLarge, "the upload is larger than %d bytes; import larger files with 'trek import' on the server", s.cfg.MaxImportBytes)
		}
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
