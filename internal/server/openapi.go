package server

import (
	_ "embed"
	"net/http"
)

// openapiDoc is the OpenAPI 3 description of the API. It is written by hand
// so that it carries real descriptions and schemas; a test checks that it
// lists exactly the routes the server has, both ways.
//
//go:embed openapi.json
var openapiDoc []byte

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request, _ *principal) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openapiDoc)
	return err
}
