package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/trekhq/trek/internal/analytics"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/journey"
)

// DataAsOfHeader tells a client how fresh the data behind an analytics
// answer is: queries run on an in-memory index that may lag the store by
// the server's --analytics-staleness.
const DataAsOfHeader = "Trek-Data-As-Of"

// queryKinds maps POST /api/v1/query/{kind} to the query it runs. Each
// decodes its own request type strictly (unknown fields are refused) and
// answers the analytics package's result type: those types are the API.
var queryKinds = map[string]func(s *Server, ctx context.Context, ws string, raw []byte) (any, func(analytics.Source) (any, error), error){
	"funnel": func(s *Server, ctx context.Context, ws string, raw []byte) (any, func(analytics.Source) (any, error), error) {
		var q analytics.FunnelQuery
		return &q, func(src analytics.Source) (any, error) { return analytics.Funnel(ctx, src, q) }, decodeBytes(raw, &q)
	},
	"trends": func(s *Server, ctx context.Context, ws string, raw []byte) (any, func(analytics.Source) (any, error), error) {
		var q analytics.TrendsQuery
		return &q, func(src analytics.Source) (any, error) { return analytics.Trends(ctx, src, q) }, decodeBytes(raw, &q)
	},
	"paths": func(s *Server, ctx context.Context, ws string, raw []byte) (any, func(analytics.Source) (any, error), error) {
		var q analytics.PathsQuery
		return &q, func(src analytics.Source) (any, error) { return analytics.Paths(ctx, src, q) }, decodeBytes(raw, &q)
	},
	"dfg": func(s *Server, ctx context.Context, ws string, raw []byte) (any, func(analytics.Source) (any, error), error) {
		var q analytics.DFGQuery
		return &q, func(src analytics.Source) (any, error) { return analytics.DFG(ctx, src, q) }, decodeBytes(raw, &q)
	},
	"variants": func(s *Server, ctx context.Context, ws string, raw []byte) (any, func(analytics.Source) (any, error), error) {
		var q analytics.VariantsQuery
		return &q, func(src analytics.Source) (any, error) { return analytics.Variants(ctx, src, q) }, decodeBytes(raw, &q)
	},
	"retention": func(s *Server, ctx context.Context, ws string, raw []byte) (any, func(analytics.Source) (any, error), error) {
		var q analytics.RetentionQuery
		return &q, func(src analytics.Source) (any, error) { return analytics.Retention(ctx, src, q) }, decodeBytes(raw, &q)
	},
	"conformance": func(s *Server, ctx context.Context, ws string, raw []byte) (any, func(analytics.Source) (any, error), error) {
		var q analytics.ConformanceQuery
		if err := decodeBytes(raw, &q); err != nil {
			return nil, nil, err
		}
		if err := s.loadConformanceMap(ctx, ws, &q); err != nil {
			return nil, nil, err
		}
		return &q, func(src analytics.Source) (any, error) { return analytics.Conformance(ctx, src, q) }, nil
	},
}

// loadConformanceMap reads the stored map a conformance query names, or
// checks the inline one.
func (s *Server) loadConformanceMap(ctx context.Context, ws string, q *analytics.ConformanceQuery) error {
	switch {
	case q.MapID != "" && q.Map != nil:
		return fault.Fields("the conformance query is not valid", []fault.FieldError{{Path: "map", Message: "give mapId or map, not both"}})
	case q.MapID != "":
		m, err := s.meta.Map(ctx, ws, q.MapID)
		if err != nil {
			var fe *fault.Error
			if errors.As(err, &fe) && fe.Code == fault.NotFound {
				return fault.Fields("the conformance query is not valid", []fault.FieldError{{Path: "mapId", Message: "no map with this id in the workspace"}})
			}
			return err
		}
		q.Map = &m
	case q.Map != nil:
		journey.Normalize(q.Map)
		if err := journey.Validate(q.Map); err != nil {
			return err
		}
	default:
		return fault.Fields("the conformance query is not valid", []fault.FieldError{{Path: "mapId", Message: "is required (or an inline map)"}})
	}
	return nil
}

func (s *Server) query(w http.ResponseWriter, r *http.Request, p *principal) error {
	kind := r.PathValue("kind")
	build, ok := queryKinds[kind]
	if !ok {
		return fault.New(fault.NotFound, "there is no query kind %q; the kinds are funnel, trends, paths, dfg, variants, retention, conformance", kind)
	}
	raw, err := readJSONBody(r, s.cfg.MaxBody)
	if err != nil {
		return err
	}
	ctx, cancel := s.queryContext(r.Context())
	defer cancel()
	_, run, err := build(s, ctx, p.workspace.ID, raw)
	if err != nil {
		return err
	}
	res, asOf, err := s.analyze(ctx, p.workspace.ID, run)
	if err != nil {
		return err
	}
	w.Header().Set(DataAsOfHeader, asOf.UTC().Format(time.RFC3339Nano))
	writeJSON(w, http.StatusOK, res)
	return nil
}

// queryContext bounds a query's time and the number running at once, so
// that analytics cannot starve collection of the machine's cores.
func (s *Server) queryContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.QueryTimeout)
}

// analyze runs a query on the workspace's index, or on the store itself
// when the query needs what the index does not keep (event properties,
// context, traits).
func (s *Server) analyze(ctx context.Context, ws string, run func(analytics.Source) (any, error)) (any, time.Time, error) {
	pl, err := s.pipeline()
	if err != nil {
		return nil, time.Time{}, err
	}
	select {
	case s.querySlots <- struct{}{}:
		defer func() { <-s.querySlots }()
	case <-ctx.Done():
		return nil, time.Time{}, queryErr(ctx.Err())
	}
	cache, err := pl.Journeys(ctx, ws)
	if err != nil {
		return nil, time.Time{}, err
	}
	ix, asOf, err := cache.Get(ctx)
	if err != nil {
		return nil, time.Time{}, queryErr(err)
	}
	res, err := run(ix)
	if errors.Is(err, analytics.ErrNeedsEvents) || errors.Is(err, analytics.ErrNeedsTraits) {
		asOf = s.cfg.Now()
		res, err = run(cache.Source())
	}
	if err != nil {
		return nil, time.Time{}, queryErr(err)
	}
	return res, asOf, nil
}

// queryErr turns a query's deadline into a message a user can act on.
func queryErr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &fault.Error{Code: fault.Unavailable, Message: "the query took longer than the server allows; narrow its range or steps, or raise --query-timeout", Err: err}
	}
	if errors.Is(err, context.Canceled) {
		// The client went away or the server is stopping: not a fault of
		// trek's to log as one.
		return &fault.Error{Code: fault.Unavailable, Message: "the query was cancelled", Err: err}
	}
	return err
}

func (s *Server) mapMetrics(w http.ResponseWriter, r *http.Request, p *principal) error {
	m, err := s.meta.Map(r.Context(), p.workspace.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	var q analytics.MapMetricsQuery
	var errs []fault.FieldError
	v := r.URL.Query()
	for name, dst := range map[string]*time.Time{"from": &q.From, "to": &q.To} {
		if s := v.Get(name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				errs = append(errs, fault.FieldError{Path: name, Message: "must be an RFC 3339 time (2025-03-01T00:00:00Z)"})
			}
			*dst = t
		}
	}
	q.Window = v.Get("window")
	if seg := v.Get("segment"); seg != "" {
		var sg analytics.Segment
		if err := decodeBytes([]byte(seg), &sg); err != nil {
			errs = append(errs, fault.FieldError{Path: "segment", Message: "must be a segment as JSON ({\"where\": [...], \"performed\": {...}}): " + err.Error()})
		} else {
			q.Segment = &sg
		}
	}
	if len(errs) > 0 {
		return fault.Fields("the query parameters are not valid", errs)
	}
	ctx, cancel := s.queryContext(r.Context())
	defer cancel()
	res, asOf, err := s.analyze(ctx, p.workspace.ID, func(src analytics.Source) (any, error) {
		return analytics.MapMetricsFor(ctx, src, &m, q)
	})
	if err != nil {
		return err
	}
	w.Header().Set(DataAsOfHeader, asOf.UTC().Format(time.RFC3339Nano))
	writeJSON(w, http.StatusOK, struct {
		MapID   string `json:"mapId"`
		Version int    `json:"version"`
		analytics.MapMetrics
	}{m.ID, m.Version, res.(analytics.MapMetrics)})
	return nil
}

func (s *Server) activities(w http.ResponseWriter, r *http.Request, p *principal) error {
	ctx, cancel := s.queryContext(r.Context())
	defer cancel()
	res, asOf, err := s.analyze(ctx, p.workspace.ID, func(src analytics.Source) (any, error) {
		return analytics.ListActivities(ctx, src)
	})
	if err != nil {
		return err
	}
	w.Header().Set(DataAsOfHeader, asOf.UTC().Format(time.RFC3339Nano))
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) discoverMap(w http.ResponseWriter, r *http.Request, p *principal) error {
	var q analytics.DiscoverQuery
	if err := decodeJSON(r, s.cfg.MaxBody, &q); err != nil {
		return err
	}
	ctx, cancel := s.queryContext(r.Context())
	defer cancel()
	res, asOf, err := s.analyze(ctx, p.workspace.ID, func(src analytics.Source) (any, error) {
		return analytics.Discover(ctx, src, q)
	})
	if err != nil {
		return err
	}
	w.Header().Set(DataAsOfHeader, asOf.UTC().Format(time.RFC3339Nano))
	writeJSON(w, http.StatusOK, res)
	return nil
}
