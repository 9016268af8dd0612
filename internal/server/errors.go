package server

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/trekhq/trek/internal/fault"
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[fault.Code]int{
	fault.Invalid:         http.StatusBadRequest,
	fault.NotFound:        http.StatusNotFound,
	fault.Conflict:        http.StatusConflict,
	fault.Unauthenticated: http.StatusUnauthorized,
	fault.Forbidden:       http.StatusForbidden,
	fault.TooLarge:        http.StatusRequestEntityTooLarge,
	fault.RateLimited:     http.StatusTooManyRequests,
	fault.Unavailable:     http.StatusServiceUnavailable,
	fault.Internal:        http.StatusInternalServerError,
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    fault.Code         `json:"code"`
	Message string             `json:"message"`
	Fields  []fault.FieldError `json:"fields,omitempty"`
	Current any                `json:"current,omitempty"`
}

// writeError answers with err's status and a JSON body. Internal errors are
// logged with their cause and shown to the client only as a generic message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	fe, ok := fault.As(err)
	if !ok || fe.Code == fault.Internal {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		fe = fault.New(fault.Internal, "internal error; the server log has the details")
	}
	status := statusOf[fe.Code]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	switch fe.Code {
	case fault.Unauthenticated:
		if w.Header().Get("WWW-Authenticate") == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="trek"`)
		}
	case fault.RateLimited, fault.Unavailable:
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, status, errorBody{Error: errorDetail{Code: fe.Code, Message: fe.Message, Fields: fe.Fields, Current: fe.Current}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		slog.Debug("write response", "err", err)
	}
}
