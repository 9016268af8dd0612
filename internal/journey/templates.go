package journey

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
)

// Locales are the languages trek ships in; every template exists in each.
var Locales = []string{"en", "vi", "el", "pl"}

// Template is a built-in map to start from, with the persona it was drawn for.
type Template struct {
	ID       string  `json:"id"`
	Industry string  `json:"industry"`
	Persona  Persona `json:"persona"`
	Map      Map     `json:"map"`
}

//go:embed templates/*.json
var templateFS embed.FS

var (
	loadOnce  sync.Once
	templates map[string]map[string]*Template // id → locale → template
	loadErr   error
)

func loadTemplates() {
	templates = map[string]map[string]*Template{}
	files, err := fs.Glob(templateFS, "templates/*.json")
	if err != nil {
		loadErr = err
		return
	}
	for _, f := range files {
		base := strings.TrimSuffix(path.Base(f), ".json")
		dot := strings.LastIndexByte(base, '.')
		if dot < 0 {
			loadErr = fmt.Errorf("template file %s: name is not <id>.<locale>.json", f)
			return
		}
		id, locale := base[:dot], base[dot+1:]
		raw, err := templateFS.ReadFile(f)
		if err != nil {
			loadErr = fmt.Errorf("read template %s: %w", f, err)
			return
		}
		var t Template
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&t); err != nil {
			loadErr = fmt.Errorf("decode template %s: %w", f, err)
			return
		}
		if t.ID != id || t.Map.Locale != locale {
			loadErr = fmt.Errorf("template %s: id %q and locale %q do not match the file name", f, t.ID, t.Map.Locale)
			return
		}
		if templates[id] == nil {
			templates[id] = map[string]*Template{}
		}
		templates[id][locale] = &t
	}
}

// Templates returns every built-in template in the given locale, sorted by
// id. A locale trek does not ship falls back to English.
func Templates(locale string) ([]Template, error) {
	loadOnce.Do(loadTemplates)
	if loadErr != nil {
		return nil, loadErr
	}
	locale = SupportedLocale(locale)
	ids := make([]string, 0, len(templates))
	for id := range templates {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]Template, 0, len(ids))
	for _, id := range ids {
		if t, ok := templates[id][locale]; ok {
			out = append(out, t.Clone())
		}
	}
	return out, nil
}

// TemplateByID returns one template in the given locale (English when the
// locale is not shipped), or false.
func TemplateByID(id, locale string) (Template, bool, error) {
	loadOnce.Do(loadTemplates)
	if loadErr != nil {
		return Template{}, false, loadErr
	}
	t, ok := templates[id][SupportedLocale(locale)]
	if !ok {
		return Template{}, false, nil
	}
	return t.Clone(), true, nil
}

// SupportedLocale maps a requested locale (e.g. "vi-VN", "EL") to one trek
// ships, falling back to English.
func SupportedLocale(l string) string {
	l = strings.ToLower(strings.TrimSpace(l))
	if i := strings.IndexAny(l, "-_"); i > 0 {
		l = l[:i]
	}
	if slices.Contains(Locales, l) {
		return l
	}
	return "en"
}

// Clone returns a deep copy, so callers may change the result freely.
func (t *Template) Clone() Template {
	raw, err := json.Marshal(t)
	if err != nil {
		panic(err) // a Template always marshals
	}
	var c Template
	if err := json.Unmarshal(raw, &c); err != nil {
		panic(err)
	}
	return c
}
