package server

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/trekhq/trek/internal/auth"
)

// TestOpenAPIListsExactlyTheServedRoutes compares the hand-written OpenAPI
// document with the router both ways, and checks that it marks as public
// exactly the routes that need no credentials.
func TestOpenAPIListsExactlyTheServedRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openapiDoc, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi version %q", doc.OpenAPI)
	}
	e := newEnv(t)
	served := map[string]access{"GET /healthz": public, "GET /metrics": public}
	for _, rt := range e.srv.routes {
		served[rt.method+" "+rt.pattern] = rt.access
	}
	// The collection endpoints authenticate by write key, not by the API's
	// credentials, so from the API's point of view they are public.
	for path := range collectPaths {
		served["POST "+path] = public
		served["OPTIONS "+path] = public
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			if method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			key := strings.ToUpper(method) + " " + path
			documented[key] = true
			acc, ok := served[key]
			if !ok {
				t.Errorf("documented but not served: %s", key)
				continue
			}
			var op struct {
				Security *[]map[string][]string `json:"security"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Errorf("%s: %v", key, err)
				continue
			}
			// Public: no security requirement, or only the write key.
			isPublic := op.Security != nil
			if isPublic {
				for _, req := range *op.Security {
					for scheme := range req {
						isPublic = isPublic && scheme == "writeKey"
					}
				}
			}
			if isPublic != (acc == public) {
				t.Errorf("%s: documented public=%v, served public=%v", key, isPublic, acc == public)
			}
		}
	}
	var missing []string
	for key := range served {
		if !documented[key] {
			missing = append(missing, key)
		}
	}
	slices.Sort(missing)
	for _, k := range missing {
		t.Errorf("served but not documented: %s", k)
	}
	r := e.must(200, e.do("GET", "/api/v1/openapi.json", e.tokens[auth.Viewer], nil))
	if string(r.body) != string(openapiDoc) {
		t.Error("served document differs from the embedded one")
	}
}
