package journey

import _ "embed"

// schemaJSON is kept as a file rather than generated from the Go types so
// that it can carry descriptions and the rules Validate enforces; the tests
// hold the two together, and keep docs/map.schema.json identical to it.
//
//go:embed schema.json
var schemaJSON []byte

// MapSchema returns the JSON Schema (draft 2020-12) of a map document as a
// client sends it. The result is a copy the caller may keep or change.
func MapSchema() []byte { return append([]byte(nil), schemaJSON...) }
