package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/trekhq/trek/web"
)

// webCSP is the Content-Security-Policy of the web app's pages: everything
// from trek itself, nothing inline, no framing. Images may also be data:
// URLs, which the app's icons use.
const webCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// isAppPath tells the web app's paths from the API's. Everything under
// /api/ and /v1/, and the health and metrics endpoints, stays with the API
// router exactly as it was; every other path belongs to the app.
func isAppPath(p string) bool {
	switch {
	case p == "/api" || strings.HasPrefix(p, "/api/"),
		p == "/v1" || strings.HasPrefix(p, "/v1/"),
		p == "/healthz", p == "/metrics":
		return false
	}
	return true
}

type webFile struct {
	body        []byte
	etag        string
	contentType string
}

// webApp serves the built single-page app from memory.
type webApp struct {
	files map[string]webFile // by path without the leading slash
	index webFile
}

// newWebApp reads every file of the built app once, so requests never
// touch the file system and each file's ETag is its content hash.
func newWebApp(dist fs.FS) (*webApp, error) {
	app := &webApp{files: map[string]webFile{}}
	err := fs.WalkDir(dist, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(dist, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = http.DetectContentType(b)
		}
		app.files[p] = webFile{body: b, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`, contentType: ct}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the built web app: %w", err)
	}
	idx, ok := app.files["index.html"]
	if !ok {
		return nil, fmt.Errorf("the built web app has no index.html; run 'npm run build --prefix web'")
	}
	app.index = idx
	return app, nil
}

func (a *webApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", webCSP)
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	f, ok := a.files[name]
	switch {
	case ok && strings.HasPrefix(name, "assets/"):
		// Vite puts a content hash in every asset's name: a changed file is
		// a new URL, so browsers may keep these for good.
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	case ok && name != "index.html":
		h.Set("Cache-Control", "public, max-age=3600")
	case !ok && strings.HasPrefix(name, "assets/"):
		// A missing asset is an old page asking for a file of a previous
		// build; answering with index.html would feed HTML to a script tag.
		http.NotFound(w, r)
		return
	default:
		// index.html, for its own path and for every route of the app, so
		// a bookmarked /maps/{id} loads; revalidated on every visit, so a
		// new build is seen at once.
		f = a.index
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("Content-Type", f.contentType)
	h.Set("ETag", f.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}

func (s *Server) mountWeb() error {
	app, err := newWebApp(web.Dist())
	if err != nil {
		return err
	}
	s.web = s.instrument("web", app)
	return nil
}
