package server

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/journey"
	"github.com/trekhq/trek/internal/meta"
)

// NewWriteKey returns a fresh write key: 192 random bits, URL-safe, with a
// prefix that makes it recognisable in logs and by secret scanners.
func NewWriteKey() string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return "trek_wk_" + base64.RawURLEncoding.EncodeToString(b[:])
}

type sourceRequest struct {
	Name     *string `json:"name"`
	Channel  *string `json:"channel"`
	Disabled *bool   `json:"disabled"`
}

func (req sourceRequest) apply(src *meta.Source) error {
	var errs []fault.FieldError
	if req.Name != nil {
		src.Name = strings.TrimSpace(*req.Name)
	}
	if req.Channel != nil {
		src.Channel = *req.Channel
	}
	if req.Disabled != nil {
		src.Disabled = *req.Disabled
	}
	if src.Name == "" || len(src.Name) > 200 {
		errs = append(errs, fault.FieldError{Path: "name", Message: "must be 1-200 characters"})
	}
	if !journey.ValidChannel(src.Channel) {
		errs = append(errs, fault.FieldError{Path: "channel", Message: "must be one of " + strings.Join(journey.Channels, ", ")})
	}
	if errs != nil {
		return fault.Fields("the source is not valid", errs)
	}
	return nil
}

func (s *Server) listSources(w http.ResponseWriter, r *http.Request, p *principal) error {
	list, err := s.meta.Sources(r.Context(), p.workspace.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"sources": list})
	return nil
}

func (s *Server) createSource(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req sourceRequest
	if err := decodeJSON(r, 64<<10, &req); err != nil {
		return err
	}
	src := meta.Source{WriteKey: NewWriteKey()}
	if err := req.apply(&src); err != nil {
		return err
	}
	created, err := s.meta.CreateSource(r.Context(), p.workspace.ID, src)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/sources/"+created.ID)
	writeJSON(w, http.StatusCreated, created)
	return nil
}

// SourceCounts is what the collection API received from one source since
// the server started.
type SourceCounts struct {
	SourceID     string     `json:"sourceId"`
	Accepted     int64      `json:"accepted"`
	Deduplicated int64      `json:"deduplicated"`
	Quarantined  int64      `json:"quarantined"`
	Suppressed   int64      `json:"suppressed"`
	LastEventAt  *time.Time `json:"lastEventAt"`
}

// sourceCounts answers the live counts of the workspace's sources, so an
// admin wiring up a source sees its events arrive at once (the analytics
// index may lag by its staleness).
func (s *Server) sourceCounts(w http.ResponseWriter, r *http.Request, p *principal) error {
	srcs, err := s.meta.Sources(r.Context(), p.workspace.ID)
	if err != nil {
		return err
	}
	out := struct {
		Since   *time.Time     `json:"since"`
		Sources []SourceCounts `json:"sources"`
	}{Sources: []SourceCounts{}}
	if s.collect != nil {
		since := s.collect.started.UTC()
		out.Since = &since
	}
	for _, src := range srcs {
		c := SourceCounts{SourceID: src.ID}
		if s.collect != nil {
			if v, ok := s.collect.received.Load(src.ID); ok {
				sc := v.(*sourceCounts)
				c.Accepted, c.Deduplicated = sc.accepted.Load(), sc.deduplicated.Load()
				c.Quarantined, c.Suppressed = sc.quarantined.Load(), sc.suppressed.Load()
				if ns := sc.last.Load(); ns != 0 {
					t := time.Unix(0, ns).UTC()
					c.LastEventAt = &t
				}
			}
		}
		out.Sources = append(out.Sources, c)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getSource(w http.ResponseWriter, r *http.Request, p *principal) error {
	src, err := s.meta.Source(r.Context(), p.workspace.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, src)
	return nil
}

func (s *Server) updateSource(w http.ResponseWriter, r *http.Request, p *principal) error {
	src, err := s.meta.Source(r.Context(), p.workspace.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	var req sourceRequest
	if err := decodeJSON(r, 64<<10, &req); err != nil {
		return err
	}
	if err := req.apply(&src); err != nil {
		return err
	}
	updated, err := s.meta.UpdateSource(r.Context(), p.workspace.ID, src)
	if err != nil {
		return err
	}
	s.collect.forget(src.WriteKey)
	writeJSON(w, http.StatusOK, updated)
	return nil
}

func (s *Server) rotateSource(w http.ResponseWriter, r *http.Request, p *principal) error {
	old, err := s.meta.Source(r.Context(), p.workspace.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	rotated, err := s.meta.RotateWriteKey(r.Context(), p.workspace.ID, old.ID, NewWriteKey())
	if err != nil {
		return err
	}
	s.collect.forget(old.WriteKey)
	writeJSON(w, http.StatusOK, rotated)
	return nil
}
