package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/journey"
	"github.com/trekhq/trek/internal/meta"
)

func (s *Server) apiRoutes() []route {
	return []route{
		{"POST", "/api/v1/auth/login", public, s.login},
		{"POST", "/api/v1/auth/logout", authenticated, s.logout},
		{"GET", "/api/v1/me", authenticated, s.me},
		{"PUT", "/api/v1/me/password", authenticated, s.changePassword},
		{"GET", "/api/v1/workspaces", authenticated, s.listWorkspaces},
		{"POST", "/api/v1/workspaces", authenticated, s.createWorkspace},
		{"GET", "/api/v1/members", needAdmin, s.listMembers},
		{"PUT", "/api/v1/members/{name}", needAdmin, s.putMember},
		{"DELETE", "/api/v1/members/{name}", needAdmin, s.deleteMember},
		{"GET", "/api/v1/tokens", needAdmin, s.listTokens},
		{"POST", "/api/v1/tokens", needAdmin, s.createToken},
		{"DELETE", "/api/v1/tokens/{id}", needAdmin, s.deleteToken},

		{"GET", "/api/v1/sources", needAdmin, s.listSources},
		{"POST", "/api/v1/sources", needAdmin, s.createSource},
		{"GET", "/api/v1/sources/counts", needAdmin, s.sourceCounts},
		{"GET", "/api/v1/sources/{id}", needAdmin, s.getSource},
		{"PATCH", "/api/v1/sources/{id}", needAdmin, s.updateSource},
		{"POST", "/api/v1/sources/{id}/rotate", needAdmin, s.rotateSource},

		{"GET", "/api/v1/quarantine", needAdmin, s.listQuarantine},
		{"POST", "/api/v1/quarantine/{id}/replay", needAdmin, s.replayQuarantine},
		{"POST", "/api/v1/quarantine/{id}/discard", needAdmin, s.discardQuarantine},
		{"POST", "/api/v1/import", needAdmin, s.importEvents},
		{"GET", "/api/v1/customers/{id}", needViewer, s.getCustomer},
		{"GET", "/api/v1/customers/{id}/events", needViewer, s.customerEvents},
		{"DELETE", "/api/v1/customers/{id}", needAdmin, s.eraseCustomer},
		{"GET", "/api/v1/erasures", needAdmin, s.listErasures},

		{"GET", "/api/v1/openapi.json", needViewer, s.openAPI},
		{"GET", "/api/v1/schema/map", needViewer, s.mapSchema},
		{"GET", "/api/v1/templates", needViewer, s.listTemplates},
		{"GET", "/api/v1/templates/{id}", needViewer, s.getTemplate},

		{"GET", "/api/v1/maps", needViewer, s.listMaps},
		{"POST", "/api/v1/maps", needEditor, s.createMap},
		{"POST", "/api/v1/maps/import", needEditor, s.importMap},
		{"GET", "/api/v1/maps/{id}", needViewer, s.getMap},
		{"PUT", "/api/v1/maps/{id}", needEditor, s.updateMap},
		{"DELETE", "/api/v1/maps/{id}", needEditor, s.deleteMap},
		{"POST", "/api/v1/maps/{id}/duplicate", needEditor, s.duplicateMap},
		{"GET", "/api/v1/maps/{id}/export", needViewer, s.exportMap},
		{"GET", "/api/v1/maps/{id}/versions", needViewer, s.listVersions},
		{"GET", "/api/v1/maps/{id}/versions/{version}", needViewer, s.getVersion},
		{"POST", "/api/v1/maps/{id}/versions/{version}/restore", needEditor, s.restoreVersion},
		{"GET", "/api/v1/maps/{id}/diff", needViewer, s.diffMap},
		{"GET", "/api/v1/maps/{id}/metrics", needViewer, s.mapMetrics},
		{"POST", "/api/v1/maps/discover", needEditor, s.discoverMap},
		{"POST", "/api/v1/query/{kind}", needViewer, s.query},
		{"GET", "/api/v1/activities", needViewer, s.activities},

		{"GET", "/api/v1/personas", needViewer, s.listPersonas},
		{"POST", "/api/v1/personas", needEditor, s.createPersona},
		{"GET", "/api/v1/personas/{id}", needViewer, s.getPersona},
		{"PUT", "/api/v1/personas/{id}", needEditor, s.updatePersona},
		{"DELETE", "/api/v1/personas/{id}", needEditor, s.deletePersona},
	}
}

func (s *Server) mapSchema(w http.ResponseWriter, r *http.Request, _ *principal) error {
	w.Header().Set("Content-Type", "application/schema+json")
	_, err := w.Write(journey.MapSchema())
	return err
}

// Templates.

type templateSummary struct {
	ID          string         `json:"id"`
	Kind        journey.Kind   `json:"kind"`
	Industry    string         `json:"industry"`
	Locale      string         `json:"locale"`
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Persona     string         `json:"persona"`
	Stages      []stageSummary `json:"stages"`
}

type stageSummary struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Steps []string `json:"steps"`
}

func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request, _ *principal) error {
	q := r.URL.Query()
	locale := q.Get("locale")
	ts, err := journey.Templates(locale)
	if err != nil {
		return err
	}
	out := make([]templateSummary, 0, len(ts))
	for _, t := range ts {
		if k := q.Get("kind"); k != "" && string(t.Map.Kind) != k {
			continue
		}
		if ind := q.Get("industry"); ind != "" && t.Industry != ind {
			continue
		}
		sum := templateSummary{ID: t.ID, Kind: t.Map.Kind, Industry: t.Industry, Locale: t.Map.Locale,
			Name: t.Map.Name, Description: t.Map.Description, Persona: t.Persona.Name, Stages: []stageSummary{}}
		for _, st := range t.Map.Stages {
			ss := stageSummary{ID: st.ID, Name: st.Name, Steps: []string{}}
			for _, step := range st.Steps {
				ss.Steps = append(ss.Steps, step.Name)
			}
			sum.Stages = append(sum.Stages, ss)
		}
		out = append(out, sum)
	}
	writeJSON(w, http.StatusOK, map[string]any{"locale": journey.SupportedLocale(locale), "templates": out})
	return nil
}

func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request, _ *principal) error {
	t, ok, err := journey.TemplateByID(r.PathValue("id"), r.URL.Query().Get("locale"))
	if err != nil {
		return err
	}
	if !ok {
		return fault.New(fault.NotFound, "no template %q", r.PathValue("id"))
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// Maps.

func (s *Server) listMaps(w http.ResponseWriter, r *http.Request, p *principal) error {
	q := r.URL.Query()
	f := meta.MapFilter{Query: q.Get("q"), Kind: journey.Kind(q.Get("kind")), PersonaID: q.Get("persona"), Tag: q.Get("tag")}
	var errs []fault.FieldError
	if f.Kind != "" && !journey.ValidKind(f.Kind) {
		errs = append(errs, fault.FieldError{Path: "kind", Message: "is not a map kind"})
	}
	var err error
	if f.Limit, err = intParam(q.Get("limit"), 100, 1, 1000); err != nil {
		errs = append(errs, fault.FieldError{Path: "limit", Message: err.Error()})
	}
	if f.Offset, err = intParam(q.Get("offset"), 0, 0, 1<<30); err != nil {
		errs = append(errs, fault.FieldError{Path: "offset", Message: err.Error()})
	}
	if errs != nil {
		return fault.Fields("the query parameters are not valid", errs)
	}
	maps, err := s.meta.Maps(r.Context(), p.workspace.ID, f)
	if err != nil {
		return err
	}
	if maps == nil {
		maps = []meta.MapSummary{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"maps": maps})
	return nil
}

func intParam(s string, def, min, max int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		return 0, fmt.Errorf("must be an integer from %d to %d", min, max)
	}
	return n, nil
}

// createMapRequest is either a whole map document or a reference to a
// template; the template form is recognised by its "template" field.
type fromTemplate struct {
	Template    string   `json:"template"`
	Locale      string   `json:"locale,omitempty"`
	Name        string   `json:"name,omitempty"`
	PersonaIDs  []string `json:"personaIds,omitempty"`
	WithPersona bool     `json:"withPersona,omitempty"`
	Message     string   `json:"message,omitempty"`
}

func (s *Server) createMap(w http.ResponseWriter, r *http.Request, p *principal) error {
	raw, err := readBody(r, s.cfg.MaxBody)
	if err != nil {
		return err
	}
	var probe map[string]json.RawMessage
	_ = json.Unmarshal(raw, &probe)
	var m journey.Map
	msg := r.URL.Query().Get("message")
	if _, ok := probe["template"]; ok {
		var req fromTemplate
		if err := decodeBytes(raw, &req); err != nil {
			return err
		}
		m, err = s.mapFromTemplate(r.Context(), p, req)
		if err != nil {
			return err
		}
		if msg == "" {
			msg = req.Message
		}
		if msg == "" {
			msg = "Created from template " + req.Template
		}
	} else if err := decodeBytes(raw, &m); err != nil {
		return err
	}
	created, err := s.saveNewMap(r.Context(), p, m, msg)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/maps/"+created.ID)
	writeMap(w, http.StatusCreated, created)
	return nil
}

func (s *Server) mapFromTemplate(ctx context.Context, p *principal, req fromTemplate) (journey.Map, error) {
	t, ok, err := journey.TemplateByID(req.Template, req.Locale)
	if err != nil {
		return journey.Map{}, err
	}
	if !ok {
		return journey.Map{}, fault.Fields("the map was not created", []fault.FieldError{{Path: "template", Message: fmt.Sprintf("no template %q", req.Template)}})
	}
	if req.Locale != "" && journey.SupportedLocale(req.Locale) != strings.ToLower(strings.SplitN(req.Locale, "-", 2)[0]) {
		return journey.Map{}, fault.Fields("the map was not created", []fault.FieldError{{Path: "locale",
			Message: "templates exist in " + strings.Join(journey.Locales, ", ")}})
	}
	m := t.Map
	if req.Name != "" {
		m.Name = req.Name
	}
	m.PersonaIDs = req.PersonaIDs
	if req.WithPersona {
		per, err := s.meta.CreatePersona(ctx, p.workspace.ID, t.Persona)
		if err != nil {
			return journey.Map{}, err
		}
		m.PersonaIDs = append(m.PersonaIDs, per.ID)
	}
	return m, nil
}

func readBody(r *http.Request, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return nil, fault.New(fault.Invalid, "Content-Type must be application/json, not %q", ct)
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, limit)); err != nil {
		if _, ok := err.(*http.MaxBytesError); ok {
			return nil, fault.New(fault.TooLarge, "the request body is larger than %d bytes", limit)
		}
		return nil, fault.New(fault.Invalid, "could not read the request body")
	}
	return buf.Bytes(), nil
}

// checkRefs makes sure a map names only personas and detail maps of its own
// workspace, so a map can never point into another organisation's data.
func (s *Server) checkRefs(ctx context.Context, wsID string, m *journey.Map) error {
	var errs []fault.FieldError
	for i, id := range m.PersonaIDs {
		if _, err := s.meta.Persona(ctx, wsID, id); err != nil {
			if fault.CodeOf(err) != fault.NotFound {
				return err
			}
			errs = append(errs, fault.FieldError{Path: fmt.Sprintf("personaIds[%d]", i), Message: "names no persona of this workspace"})
		}
	}
	for i, st := range m.Stages {
		for j, step := range st.Steps {
			if step.DetailMapID == "" {
				continue
			}
			if step.DetailMapID == m.ID {
				errs = append(errs, fault.FieldError{Path: fmt.Sprintf("stages[%d].steps[%d].detailMapId", i, j), Message: "a map cannot detail itself"})
				continue
			}
			if _, err := s.meta.Map(ctx, wsID, step.DetailMapID); err != nil {
				if fault.CodeOf(err) != fault.NotFound {
					return err
				}
				errs = append(errs, fault.FieldError{Path: fmt.Sprintf("stages[%d].steps[%d].detailMapId", i, j), Message: "names no map of this workspace"})
			}
		}
	}
	if errs != nil {
		return fault.Fields("the map is not valid", errs)
	}
	return nil
}

func (s *Server) saveNewMap(ctx context.Context, p *principal, m journey.Map, msg string) (journey.Map, error) {
	m.ID, m.Version = "", 0
	journey.Normalize(&m)
	if err := journey.Validate(&m); err != nil {
		return journey.Map{}, err
	}
	if err := s.checkRefs(ctx, p.workspace.ID, &m); err != nil {
		return journey.Map{}, err
	}
	if msg == "" {
		msg = "Created"
	}
	return s.meta.CreateMap(ctx, p.workspace.ID, m, meta.Change{Author: p.name(), Message: msg, At: s.cfg.Now()})
}

func writeMap(w http.ResponseWriter, status int, m journey.Map) {
	w.Header().Set("ETag", etag(m.Version))
	writeJSON(w, status, m)
}

func etag(v int) string { return `"` + strconv.Itoa(v) + `"` }

func (s *Server) getMap(w http.ResponseWriter, r *http.Request, p *principal) error {
	m, err := s.meta.Map(r.Context(), p.workspace.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeMap(w, http.StatusOK, m)
	return nil
}

// baseVersion reads the version an update was based on from If-Match (an
// ETag as given by GET) or, failing that, the document's version field.
func baseVersion(r *http.Request, doc int) (int, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		if doc <= 0 {
			return 0, fault.New(fault.Invalid, "say which version the change is based on: an If-Match header with the map's ETag, or a version field")
		}
		return doc, nil
	}
	h = strings.TrimPrefix(h, "W/")
	n, err := strconv.Atoi(strings.Trim(h, `"`))
	if err != nil || n <= 0 {
		return 0, fault.New(fault.Invalid, "If-Match must be a map version as given in the ETag header, e.g. \"3\"")
	}
	if doc > 0 && doc != n {
		return 0, fault.New(fault.Invalid, "If-Match (%d) and the document's version field (%d) disagree", n, doc)
	}
	return n, nil
}

func (s *Server) updateMap(w http.ResponseWriter, r *http.Request, p *principal) error {
	var m journey.Map
	if err := decodeJSON(r, s.cfg.MaxBody, &m); err != nil {
		return err
	}
	base, err := baseVersion(r, m.Version)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if m.ID != "" && m.ID != id {
		return fault.Fields("the map is not valid", []fault.FieldError{{Path: "id", Message: "differs from the map id in the URL"}})
	}
	updated, err := s.saveMapVersion(r.Context(), p, id, m, base, r.URL.Query().Get("message"))
	if err != nil {
		return err
	}
	writeMap(w, http.StatusOK, updated)
	return nil
}

func (s *Server) saveMapVersion(ctx context.Context, p *principal, id string, m journey.Map, base int, msg string) (journey.Map, error) {
	if _, err := s.meta.Map(ctx, p.workspace.ID, id); err != nil {
		return journey.Map{}, err
	}
	m.ID = id
	journey.Normalize(&m)
	if err := journey.Validate(&m); err != nil {
		return journey.Map{}, err
	}
	if err := s.checkRefs(ctx, p.workspace.ID, &m); err != nil {
		return journey.Map{}, err
	}
	return s.meta.UpdateMap(ctx, p.workspace.ID, m, base, meta.Change{Author: p.name(), Message: msg, At: s.cfg.Now()})
}

func (s *Server) deleteMap(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := s.meta.DeleteMap(r.Context(), p.workspace.ID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type duplicateRequest struct {
	Name string `json:"name"`
}

func (s *Server) duplicateMap(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req duplicateRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(r, 64<<10, &req); err != nil {
			return err
		}
	}
	src, err := s.meta.Map(r.Context(), p.workspace.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if req.Name != "" {
		src.Name = req.Name
	} else {
		src.Name += " (2)"
	}
	created, err := s.saveNewMap(r.Context(), p, src, fmt.Sprintf("Duplicated from %s version %d", src.ID, src.Version))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/maps/"+created.ID)
	writeMap(w, http.StatusCreated, created)
	return nil
}

func (s *Server) listVersions(w http.ResponseWriter, r *http.Request, p *principal) error {
	vs, err := s.meta.Versions(r.Context(), p.workspace.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": vs})
	return nil
}

func versionParam(r *http.Request, name, s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fault.Fields("the request is not valid", []fault.FieldError{{Path: name, Message: "must be a version number (1, 2, ...)"}})
	}
	return n, nil
}

func (s *Server) getVersion(w http.ResponseWriter, r *http.Request, p *principal) error {
	n, err := versionParam(r, "version", r.PathValue("version"))
	if err != nil {
		return err
	}
	m, v, err := s.meta.MapVersion(r.Context(), p.workspace.ID, r.PathValue("id"), n)
	if err != nil {
		return err
	}
	w.Header().Set("X-Trek-Version-Author", v.Author)
	writeJSON(w, http.StatusOK, m)
	return nil
}

// restoreVersion saves an old version's document as a new version; history
// is never rewritten.
func (s *Server) restoreVersion(w http.ResponseWriter, r *http.Request, p *principal) error {
	n, err := versionParam(r, "version", r.PathValue("version"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	id := r.PathValue("id")
	old, _, err := s.meta.MapVersion(ctx, p.workspace.ID, id, n)
	if err != nil {
		return err
	}
	cur, err := s.meta.Map(ctx, p.workspace.ID, id)
	if err != nil {
		return err
	}
	base := cur.Version
	if r.Header.Get("If-Match") != "" {
		if base, err = baseVersion(r, 0); err != nil {
			return err
		}
	}
	// References may have gone since: drop what no longer exists rather than
	// refuse to restore.
	if err := s.checkRefs(ctx, p.workspace.ID, &old); err != nil {
		s.dropDeadRefs(ctx, p.workspace.ID, &old)
	}
	restored, err := s.saveMapVersion(ctx, p, id, old, base, fmt.Sprintf("Restored version %d", n))
	if err != nil {
		return err
	}
	writeMap(w, http.StatusOK, restored)
	return nil
}

func (s *Server) dropDeadRefs(ctx context.Context, wsID string, m *journey.Map) {
	kept := m.PersonaIDs[:0]
	for _, id := range m.PersonaIDs {
		if _, err := s.meta.Persona(ctx, wsID, id); err == nil {
			kept = append(kept, id)
		}
	}
	m.PersonaIDs = kept
	for i := range m.Stages {
		for j := range m.Stages[i].Steps {
			st := &m.Stages[i].Steps[j]
			if st.DetailMapID == "" {
				continue
			}
			if _, err := s.meta.Map(ctx, wsID, st.DetailMapID); err != nil || st.DetailMapID == m.ID {
				st.DetailMapID = ""
			}
		}
	}
}

type diffResponse struct {
	From    int              `json:"from"`
	To      int              `json:"to"`
	Changes []journey.Change `json:"changes"`
}

func (s *Server) diffMap(w http.ResponseWriter, r *http.Request, p *principal) error {
	ctx := r.Context()
	id := r.PathValue("id")
	cur, err := s.meta.Map(ctx, p.workspace.ID, id)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	from, to := cur.Version-1, cur.Version
	if v := q.Get("from"); v != "" {
		if from, err = versionParam(r, "from", v); err != nil {
			return err
		}
	}
	if v := q.Get("to"); v != "" {
		if to, err = versionParam(r, "to", v); err != nil {
			return err
		}
	}
	if from < 1 {
		from = 1
	}
	a, _, err := s.meta.MapVersion(ctx, p.workspace.ID, id, from)
	if err != nil {
		return versionNotFound(err, "from", from)
	}
	b, _, err := s.meta.MapVersion(ctx, p.workspace.ID, id, to)
	if err != nil {
		return versionNotFound(err, "to", to)
	}
	writeJSON(w, http.StatusOK, diffResponse{From: from, To: to, Changes: journey.Diff(&a, &b)})
	return nil
}

func versionNotFound(err error, param string, v int) error {
	if fault.CodeOf(err) == fault.NotFound {
		return fault.Fields("the request is not valid", []fault.FieldError{{Path: param, Message: fmt.Sprintf("the map has no version %d", v)}})
	}
	return err
}

// Export and import.

// ExportFormat names trek's map export document; FormatVersion changes when
// its shape does, and import reads every version it ever wrote.
const (
	ExportFormat        = "trek.map"
	ExportFormatVersion = 1
)

// Export is a map with the personas it names, so it can be imported into
// another workspace or another trek server.
type Export struct {
	Format        string            `json:"format"`
	FormatVersion int               `json:"formatVersion"`
	ExportedAt    time.Time         `json:"exportedAt"`
	Map           journey.Map       `json:"map"`
	Personas      []journey.Persona `json:"personas"`
}

func (s *Server) exportMap(w http.ResponseWriter, r *http.Request, p *principal) error {
	ctx := r.Context()
	m, err := s.meta.Map(ctx, p.workspace.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	name := fileName(m.Name)
	switch f := r.URL.Query().Get("format"); f {
	case "", "json":
		ex := Export{Format: ExportFormat, FormatVersion: ExportFormatVersion, ExportedAt: s.cfg.Now().UTC(), Map: m, Personas: []journey.Persona{}}
		for _, id := range m.PersonaIDs {
			per, err := s.meta.Persona(ctx, p.workspace.ID, id)
			if err != nil {
				return err
			}
			ex.Personas = append(ex.Personas, per)
		}
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.trek.json"`)
		writeJSON(w, http.StatusOK, ex)
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		return journey.WriteCSV(w, &m)
	default:
		return fault.Fields("the request is not valid", []fault.FieldError{{Path: "format", Message: "must be json or csv"}})
	}
	return nil
}

// fileName makes an ASCII file name from a map name for Content-Disposition.
func fileName(name string) string {
	var b strings.Builder
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			b.WriteRune(c)
		case c == ' ' && b.Len() > 0:
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "map"
	}
	return b.String()
}

type importResponse struct {
	Map      journey.Map `json:"map"`
	Personas struct {
		Created []string `json:"created"`
		Linked  []string `json:"linked"`
	} `json:"personas"`
	Warnings []string `json:"warnings"`
}

// importMap creates a new map from an export. Personas that exist in this
// workspace under the same id are linked; others are created anew. Links to
// detail maps that do not exist here are dropped with a warning.
func (s *Server) importMap(w http.ResponseWriter, r *http.Request, p *principal) error {
	var ex Export
	if err := decodeJSON(r, s.cfg.MaxBody, &ex); err != nil {
		return err
	}
	if ex.Format != ExportFormat || ex.FormatVersion < 1 || ex.FormatVersion > ExportFormatVersion {
		return fault.Fields("the import is not valid", []fault.FieldError{{Path: "format",
			Message: fmt.Sprintf("must be %q with formatVersion 1 to %d, as written by map export", ExportFormat, ExportFormatVersion)}})
	}
	ctx := r.Context()
	var resp importResponse
	resp.Personas.Created, resp.Personas.Linked, resp.Warnings = []string{}, []string{}, []string{}
	// Validate everything before writing anything, so a bad import changes
	// nothing.
	m := ex.Map
	journey.Normalize(&m)
	byID := map[string]journey.Persona{}
	for i, per := range ex.Personas {
		if err := journey.ValidatePersona(&per); err != nil {
			fe, _ := fault.As(err)
			for k := range fe.Fields {
				fe.Fields[k].Path = fmt.Sprintf("personas[%d].%s", i, fe.Fields[k].Path)
			}
			return fe
		}
		byID[per.ID] = per
	}
	for _, id := range m.PersonaIDs {
		if _, err := s.meta.Persona(ctx, p.workspace.ID, id); err == nil {
			continue
		}
		if _, ok := byID[id]; !ok {
			return fault.New(fault.Invalid, "the map names persona %s, which is neither in this workspace nor in the import", id)
		}
	}
	if err := journey.Validate(&m); err != nil {
		return err
	}
	ids := make([]string, 0, len(m.PersonaIDs))
	for _, id := range m.PersonaIDs {
		if _, err := s.meta.Persona(ctx, p.workspace.ID, id); err == nil {
			ids = append(ids, id)
			resp.Personas.Linked = append(resp.Personas.Linked, id)
			continue
		}
		created, err := s.meta.CreatePersona(ctx, p.workspace.ID, byID[id])
		if err != nil {
			return err
		}
		ids = append(ids, created.ID)
		resp.Personas.Created = append(resp.Personas.Created, created.ID)
	}
	m.PersonaIDs = ids
	for i := range m.Stages {
		for j := range m.Stages[i].Steps {
			st := &m.Stages[i].Steps[j]
			if st.DetailMapID == "" {
				continue
			}
			if _, err := s.meta.Map(ctx, p.workspace.ID, st.DetailMapID); err != nil {
				resp.Warnings = append(resp.Warnings, fmt.Sprintf("step %s linked to map %s, which is not in this workspace; the link was dropped", st.ID, st.DetailMapID))
				st.DetailMapID = ""
			}
		}
	}
	created, err := s.saveNewMap(ctx, p, m, "Imported")
	if err != nil {
		return err
	}
	resp.Map = created
	w.Header().Set("Location", "/api/v1/maps/"+created.ID)
	writeJSON(w, http.StatusCreated, resp)
	return nil
}

// Personas.

func (s *Server) listPersonas(w http.ResponseWriter, r *http.Request, p *principal) error {
	ps, err := s.meta.Personas(r.Context(), p.workspace.ID)
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []journey.Persona{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"personas": ps})
	return nil
}

func (s *Server) createPersona(w http.ResponseWriter, r *http.Request, p *principal) error {
	var per journey.Persona
	if err := decodeJSON(r, s.cfg.MaxBody, &per); err != nil {
		return err
	}
	per.ID = ""
	if err := journey.ValidatePersona(&per); err != nil {
		return err
	}
	created, err := s.meta.CreatePersona(r.Context(), p.workspace.ID, per)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/personas/"+created.ID)
	writeJSON(w, http.StatusCreated, created)
	return nil
}

func (s *Server) getPersona(w http.ResponseWriter, r *http.Request, p *principal) error {
	per, err := s.meta.Persona(r.Context(), p.workspace.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, per)
	return nil
}

func (s *Server) updatePersona(w http.ResponseWriter, r *http.Request, p *principal) error {
	var per journey.Persona
	if err := decodeJSON(r, s.cfg.MaxBody, &per); err != nil {
		return err
	}
	id := r.PathValue("id")
	if per.ID != "" && per.ID != id {
		return fault.Fields("the persona is not valid", []fault.FieldError{{Path: "id", Message: "differs from the persona id in the URL"}})
	}
	per.ID = id
	if err := journey.ValidatePersona(&per); err != nil {
		return err
	}
	updated, err := s.meta.UpdatePersona(r.Context(), p.workspace.ID, per)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, updated)
	return nil
}

func (s *Server) deletePersona(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := s.meta.DeletePersona(r.Context(), p.workspace.ID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
