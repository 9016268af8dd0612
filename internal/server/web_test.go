package server

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func TestIsAppPathLeavesTheAPIAlone(t *testing.T) {
	for _, tc := range []struct {
		path string
		app  bool
	}{
		{"/", true},
		{"/maps/map_abc", true},
		{"/assets/index-abc.js", true},
		{"/favicon.svg", true},
		{"/apiary", true},
		{"/v1x", true},
		{"/healthz/x", true},
		{"/api", false},
		{"/api/", false},
		{"/api/v1/maps", false},
		{"/v1", false},
		{"/v1/track", false},
		{"/v1/t", false},
		{"/healthz", false},
		{"/metrics", false},
	} {
		if got := isAppPath(tc.path); got != tc.app {
			t.Errorf("isAppPath(%q) = %v, want %v", tc.path, got, tc.app)
		}
	}
}

func testApp(t *testing.T) http.Handler {
	t.Helper()
	app, err := newWebApp(fstest.MapFS{
		"index.html":           {Data: []byte(`<!doctype html><script src="/assets/app-1234.js"></script>`)},
		"assets/app-1234.js":   {Data: []byte(`console.log("trek")`)},
		"assets/app-1234.css":  {Data: []byte(`body{}`)},
		"favicon.svg":          {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
		"assets/font-9876.bin": {Data: []byte{0, 1, 2, 3}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func TestWebAppServesFilesWithTheirCaching(t *testing.T) {
	app := testApp(t)
	for _, tc := range []struct {
		method, path string
		status       int
		body         string // prefix
		contentType  string // prefix
		cache        string
	}{
		{"GET", "/", 200, "<!doctype html>", "text/html", "no-cache"},
		{"GET", "/index.html", 200, "<!doctype html>", "text/html", "no-cache"},
		{"GET", "/maps/map_abc", 200, "<!doctype html>", "text/html", "no-cache"},
		{"GET", "/some/deep/route?x=1", 200, "<!doctype html>", "text/html", "no-cache"},
		{"GET", "/assets/app-1234.js", 200, `console.log`, "text/javascript", "public, max-age=31536000, immutable"},
		{"GET", "/assets/app-1234.css", 200, `body{}`, "text/css", "public, max-age=31536000, immutable"},
		{"GET", "/assets/../assets/app-1234.css", 200, `body{}`, "text/css", "public, max-age=31536000, immutable"},
		{"GET", "/favicon.svg", 200, "<svg", "image/svg+xml", "public, max-age=3600"},
		{"GET", "/assets/app-old.js", 404, "404", "text/plain", ""},
		{"HEAD", "/", 200, "", "text/html", "no-cache"},
		{"POST", "/", 405, "method not allowed", "text/plain", ""},
		{"DELETE", "/maps/x", 405, "method not allowed", "text/plain", ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			app.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d; body %q", w.Code, tc.status, w.Body.String())
			}
			if !strings.HasPrefix(w.Body.String(), tc.body) {
				t.Errorf("body %q, want it to start with %q", w.Body.String(), tc.body)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, tc.contentType) {
				t.Errorf("Content-Type %q, want %q", ct, tc.contentType)
			}
			if cc := w.Header().Get("Cache-Control"); cc != tc.cache {
				t.Errorf("Cache-Control %q, want %q", cc, tc.cache)
			}
			if tc.status == 200 && w.Header().Get("Content-Security-Policy") != webCSP {
				t.Errorf("Content-Security-Policy %q", w.Header().Get("Content-Security-Policy"))
			}
		})
	}
}

func TestWebAppAnswersNotModifiedForAKnownETag(t *testing.T) {
	app := testApp(t)
	for _, path := range []string{"/", "/maps/x", "/assets/app-1234.js"} {
		w := httptest.NewRecorder()
		app.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		etag := w.Header().Get("ETag")
		if etag == "" {
			t.Fatalf("%s: no ETag", path)
		}
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("If-None-Match", etag)
		w = httptest.NewRecorder()
		app.ServeHTTP(w, r)
		if w.Code != http.StatusNotModified {
			t.Errorf("%s with If-None-Match %s: status %d, want 304", path, etag, w.Code)
		}
	}
}

func TestWebAppNeedsAnIndex(t *testing.T) {
	_, err := newWebApp(fstest.MapFS{"assets/a.js": {Data: []byte("x")}})
	if err == nil || !strings.Contains(err.Error(), "index.html") {
		t.Fatalf("err = %v, want one naming index.html", err)
	}
}

// TestServerServesTheEmbeddedAppBesideTheAPI runs the real server with the
// committed build: the app answers outside the API, and the API, health,
// metrics and collection paths answer as they always did.
func TestServerServesTheEmbeddedAppBesideTheAPI(t *testing.T) {
	e := newEnv(t)
	r := e.must(200, e.do("GET", "/", "", nil))
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || r.header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("GET /: Content-Type %q, Cache-Control %q", r.header.Get("Content-Type"), r.header.Get("Cache-Control"))
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("GET /: Content-Security-Policy %q", csp)
	}
	if r.header.Get("X-Frame-Options") != "DENY" || r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("GET /: security headers missing: %v", r.header)
	}
	assets := regexp.MustCompile(`/assets/[A-Za-z0-9_.-]+\.(js|css)`).FindAllString(string(r.body), -1)
	if len(assets) < 2 {
		t.Fatalf("index.html names %d scripts and styles, want both:\n%s", len(assets), r.body)
	}
	for _, a := range assets {
		ar := e.must(200, e.do("GET", a, "", nil))
		if ar.header.Get("Cache-Control") != "public, max-age=31536000, immutable" || len(ar.body) == 0 {
			t.Errorf("%s: Cache-Control %q, %d bytes", a, ar.header.Get("Cache-Control"), len(ar.body))
		}
	}
	deep := e.must(200, e.do("GET", "/maps/map_unknown", "", nil))
	if string(deep.body) != string(r.body) {
		t.Errorf("GET /maps/map_unknown is not index.html")
	}

	e.must(200, e.do("GET", "/healthz", "", nil))
	e.must(200, e.do("GET", "/metrics", "", nil))
	if got := e.must(401, e.do("GET", "/api/v1/maps", "", nil)).errorOf(t).Code; got != "unauthenticated" {
		t.Errorf("GET /api/v1/maps without credentials: code %q", got)
	}
	if got := e.must(404, e.do("GET", "/api/v1/nothing-here", e.tokens["viewer"], nil)).errorOf(t).Code; got != "not_found" {
		t.Errorf("unknown API path: code %q", got)
	}
	// Without collection enabled, /v1/ is the router's plain 404, not the app.
	if v := e.do("GET", "/v1/track", "", nil); v.status != 404 || strings.Contains(string(v.body), "<!doctype") {
		t.Errorf("GET /v1/track: %d %q", v.status, v.body)
	}
	if m := e.must(200, e.do("GET", "/metrics", "", nil)); !strings.Contains(string(m.body), `route="web"`) {
		t.Errorf("metrics do not count the app's requests under route=\"web\"")
	}
}
