package main

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/jinlaiban/openplatform/shared/fn"
)

//go:embed web
var webFiles embed.FS

// SDKVersions are the JS-SDK versions served at /sdk/jssdk-<version>.js. A published
// version never changes: a new one gets a new file.
var SDKVersions = []string{"1.0.0"}

type file struct {
	body        []byte
	etag        string
	contentType string
}

type server struct {
	cfg       config
	files     map[string]func() file // by path under web/, e.g. "assets/css/app.css"; read and hashed on first use
	pageCSP   string                 // the home page, the console, every response by default
	simCSP    string                 // the simulator: may frame the services it opens
	configDoc []byte
}

func newServer(cfg config) (http.Handler, error) {
	store, err := cfg.storeOrigin()
	if err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, files: map[string]func() file{}}
	root, _ := fs.Sub(webFiles, "web")
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		// Reading and hashing every file took a millisecond of every cold start; each is
		// done once, when first asked for.
		s.files[p] = sync.OnceValue(func() file {
			b, _ := fs.ReadFile(root, p) // embedded: cannot fail for a walked name
			sum := sha256.Sum256(b)
			ct := mime.TypeByExtension(path.Ext(p))
			if ct == "" {
				ct = "application/octet-stream"
			}
			return file{body: b, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, contentType: ct}
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.pageCSP = csp(store, "'none'")
	frames := "'self' https:"
	if cfg.AllowHTTPLocalhost {
		frames += " http://localhost:* http://127.0.0.1:*"
	}
	s.simCSP = csp(store, frames)
	s.configDoc = portalConfig(cfg)

	r := fn.NewRouter()
	r.Handle("GET /{$}", s.page("index.html", s.pageCSP))
	r.Handle("GET /console", redirect("/console/"))
	r.Handle("GET /console/", s.page("console.html", s.pageCSP))
	if cfg.Simulator {
		r.Handle("GET /simulator", redirect("/simulator/"))
		r.Handle("GET /simulator/", s.page("simulator.html", s.simCSP))
	}
	r.Handle("GET /assets/", s.asset)
	r.Handle("GET /sdk/", s.sdk)
	r.Handle("GET /portal-config.json", s.portalConfig)
	r.Handle("GET /favicon.ico", s.favicon)
	r.Handle("GET /", s.notFound)
	return s.headers(r), nil
}

// csp is the Content-Security-Policy of the platform's pages: the platform's own scripts
// and styles only (nothing inline), its APIs and the object store for uploads, and frames
// only where the simulator shows services.
func csp(store, frames string) string {
	extra := ""
	if store != "" {
		extra = " " + store
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data: blob:" + extra,
		"connect-src 'self'" + extra,
		"font-src 'self'",
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-src " + frames,
		"frame-ancestors 'none'",
		"require-trusted-types-for 'script'",
		"trusted-types 'none'",
	}, "; ")
}

// headers sets what every answer carries: the strict CSP (pages override it where needed),
// no MIME sniffing, no referrer beyond the origin, no framing, no powerful features.
func (s *server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", s.pageCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
		next.ServeHTTP(w, r)
	})
}

func redirect(to string) fn.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		http.Redirect(w, r, to, http.StatusMovedPermanently)
		return nil
	}
}

// page serves an HTML page with its CSP; the console's own routes (/console/apps/…) are
// drawn by its script, so every path below /console/ is the console page.
func (s *server) page(name, policy string) fn.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Security-Policy", policy)
		w.Header().Set("Cache-Control", "no-cache")
		s.serve(w, r, name)
		return nil
	}
}

func (s *server) asset(w http.ResponseWriter, r *http.Request) error {
	p := strings.TrimPrefix(r.URL.Path, "/")
	if _, ok := s.files[p]; !ok || strings.Contains(p, "..") {
		return s.notFound(w, r)
	}
	w.Header().Set("Cache-Control", "no-cache") // revalidated by ETag: the file names are not versioned
	s.serve(w, r, p)
	return nil
}

// sdk serves the JS-SDK to vendors' pages on any origin: an immutable file per version.
func (s *server) sdk(w http.ResponseWriter, r *http.Request) error {
	p := strings.TrimPrefix(r.URL.Path, "/")
	if _, ok := s.files[p]; !ok || !strings.HasPrefix(p, "sdk/jssdk-") || !strings.HasSuffix(p, ".js") {
		return fn.NotFound("JS-SDK version " + strings.TrimPrefix(r.URL.Path, "/sdk/"))
	}
	h := w.Header()
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cache-Control", "public, max-age=86400")
	s.serve(w, r, p)
	return nil
}

func (s *server) favicon(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "public, max-age=86400")
	s.serve(w, r, "assets/img/favicon.svg")
	return nil
}

func (s *server) serve(w http.ResponseWriter, r *http.Request, name string) {
	f := s.files[name]()
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("ETag", f.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}

// portalConfig tells the pages what this deployment offers.
func portalConfig(cfg config) []byte {
	type contact struct {
		Phone string `json:"phone"`
		Email string `json:"email"`
	}
	b, _ := json.Marshal(struct {
		Simulator bool    `json:"simulator"`
		SDK       string  `json:"sdk"`
		Contact   contact `json:"contact"`
	}{cfg.Simulator, "/sdk/jssdk-" + SDKVersions[len(SDKVersions)-1] + ".js", contact{cfg.ContactPhone, cfg.ContactEmail}})
	return b
}

func (s *server) portalConfig(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, err := w.Write(s.configDoc)
	return err
}

// notFound answers problem+json under /api/ (an API path no function serves) and the
// portal's not-found page elsewhere.
func (s *server) notFound(w http.ResponseWriter, r *http.Request) error {
	if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/sdk/") {
		return fn.NotFound("Route " + r.Method + " " + r.URL.Path)
	}
	f := s.files["404.html"]()
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusNotFound)
	_, err := w.Write(f.body)
	return err
}
