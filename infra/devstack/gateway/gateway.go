package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// New returns the gateway handler: each request goes to the function its path routes to,
// with an X-Request-Id (kept when the caller sent one) and X-Forwarded-For appended.
func New(t Table, upstream map[string]*url.URL, log *slog.Logger) http.Handler {
	proxies := map[string]*httputil.ReverseProxy{}
	for name, u := range upstream {
		p := httputil.NewSingleHostReverseProxy(u)
		p.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			log.Warn("upstream unavailable", "function", name, "err", err.Error())
			problem(w, http.StatusBadGateway, "bad-gateway", "The "+name+" function is not answering; retry shortly.")
		}
		p.Transport = &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second, ResponseHeaderTimeout: 60 * time.Second}
		proxies[name] = p
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_/health" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"status":"ok"}`))
			return
		}
		name := t.Match(r.URL.Path)
		p := proxies[name]
		if p == nil {
			problem(w, http.StatusNotFound, "not-found", "No route for "+r.URL.Path+".")
			return
		}
		if r.Header.Get("X-Request-Id") == "" {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			r.Header.Set("X-Request-Id", hex.EncodeToString(b))
		}
		p.ServeHTTP(w, r)
	})
}

func problem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "urn:jinlaiban:problem:" + code, "title": http.StatusText(status),
		"status": status, "code": code, "detail": detail})
}
