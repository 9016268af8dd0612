package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/trekhq/trek/internal/fault"
)

// decodeJSON reads a JSON request body into dst strictly: the body must fit
// in limit bytes, be one JSON value of valid UTF-8, and match dst's shape
// exactly. Unknown fields and wrong types are reported with their JSON path,
// all of them at once, so a client can fix a document in one round.
func decodeJSON(r *http.Request, limit int64, dst any) error {
	raw, err := readJSONBody(r, limit)
	if err != nil {
		return err
	}
	return decodeBytes(raw, dst)
}

// readJSONBody reads a JSON request body of at most limit bytes, for a
// handler that must look at it before it knows which type it decodes to.
func readJSONBody(r *http.Request, limit int64) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return nil, fault.New(fault.Invalid, "Content-Type must be application/json, not %q", ct)
	}
	raw, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fault.New(fault.TooLarge, "the request body is larger than %d bytes", limit)
		}
		return nil, fault.New(fault.Invalid, "could not read the request body")
	}
	return raw, nil
}

func decodeBytes(raw []byte, dst any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return fault.New(fault.Invalid, "the request body is empty; a JSON document is expected")
	}
	if !utf8.Valid(raw) {
		return fault.New(fault.Invalid, "the request body is not valid UTF-8")
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return syntaxError(raw, err)
	}
	if dec.More() {
		return fault.New(fault.Invalid, "malformed JSON: unexpected data after the document at %s", position(raw, dec.InputOffset()))
	}
	var errs []fault.FieldError
	checkShape(generic, reflect.TypeOf(dst).Elem(), "", &errs)
	if len(errs) > 0 {
		return fault.Fields("the document does not have the expected shape", errs)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		// checkShape accepted it, so this is a value the shape check does
		// not model (e.g. a number out of range): report it plainly.
		return fault.New(fault.Invalid, "the document could not be read: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

func syntaxError(raw []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fault.New(fault.Invalid, "malformed JSON at %s: %s", position(raw, se.Offset), se.Error())
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fault.New(fault.Invalid, "malformed JSON: the document ends too early")
	}
	return fault.New(fault.Invalid, "malformed JSON: %s", err.Error())
}

func position(raw []byte, off int64) string {
	if off > int64(len(raw)) {
		off = int64(len(raw))
	}
	line, col := 1, 1
	for _, b := range raw[:off] {
		if b == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("line %d, column %d", line, col)
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

var timeType = reflect.TypeFor[interface{ MarshalJSON() ([]byte, error) }]()

// checkShape walks a decoded JSON value beside the Go type it must fill,
// recording unknown fields and type mismatches by JSON path.
func checkShape(v any, t reflect.Type, path string, errs *[]fault.FieldError) {
	if len(*errs) >= 50 {
		return
	}
	name := func() string {
		if path == "" {
			return "(document)"
		}
		return path
	}
	bad := func(want string) {
		*errs = append(*errs, fault.FieldError{Path: name(), Message: fmt.Sprintf("must be %s, not %s", want, jsonKind(v))})
	}
	if v == nil {
		return // null leaves the field at its zero value, as encoding/json does
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessageType {
		return // any JSON value
	}
	if t.Kind() != reflect.Interface && reflect.PointerTo(t).Implements(timeType) && t.Kind() == reflect.Struct {
		if _, ok := v.(string); !ok {
			bad("a string (RFC 3339 time)")
		}
		return
	}
	switch t.Kind() {
	case reflect.Interface:
		return
	case reflect.String:
		if _, ok := v.(string); !ok {
			bad("a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			bad("true or false")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			bad("an integer")
			return
		}
		if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
			*errs = append(*errs, fault.FieldError{Path: name(), Message: "must be an integer"})
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			bad("a number")
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			bad("a list")
			return
		}
		for i, e := range arr {
			checkShape(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), errs)
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			bad("an object")
			return
		}
		for _, k := range sortedMapKeys(obj) {
			checkShape(obj[k], t.Elem(), join(path, k), errs)
		}
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			bad("an object")
			return
		}
		fields := jsonFields(t)
		for _, k := range sortedMapKeys(obj) {
			f, ok := fields[k]
			if !ok {
				*errs = append(*errs, fault.FieldError{Path: join(path, k), Message: "is not a known field"})
				continue
			}
			checkShape(obj[k], f, join(path, k), errs)
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return "null"
}

// jsonFields maps the JSON names of a struct's exported fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			for k, v := range jsonFields(ft) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func sortedMapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
