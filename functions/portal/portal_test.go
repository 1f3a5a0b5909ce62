package main

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func newTestServer(t *testing.T, cfg config) http.Handler {
	t.Helper()
	h, err := newServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func get(h http.Handler, path string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// directives parses a Content-Security-Policy into directive → sources.
func directives(csp string) map[string][]string {
	out := map[string][]string{}
	for _, d := range strings.Split(csp, ";") {
		f := strings.Fields(d)
		if len(f) > 0 {
			out[f[0]] = f[1:]
		}
	}
	return out
}

func has(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func TestPagesCarryAStrictPolicy(t *testing.T) {
	t.Parallel()
	h := newTestServer(t, config{S3Endpoint: "http://127.0.0.1:9000", Simulator: true})
	for _, path := range []string{"/", "/console/", "/console/apps/42/edit", "/console/login", "/simulator/", "/assets/css/app.css", "/portal-config.json", "/nope"} {
		w := get(h, path)
		want := http.StatusOK
		if path == "/nope" {
			want = http.StatusNotFound
		}
		if w.Code != want {
			t.Errorf("GET %s: %d, want %d", path, w.Code, want)
			continue
		}
		csp := directives(w.Header().Get("Content-Security-Policy"))
		for _, d := range []string{"default-src", "script-src", "style-src"} {
			if got := csp[d]; len(got) != 1 || got[0] != "'self'" {
				t.Errorf("GET %s: %s %v, want 'self' only", path, d, got)
			}
		}
		if got := csp["frame-ancestors"]; len(got) != 1 || got[0] != "'none'" {
			t.Errorf("GET %s: frame-ancestors %v", path, got)
		}
		if !has(csp["connect-src"], "http://127.0.0.1:9000") || !has(csp["img-src"], "http://127.0.0.1:9000") {
			t.Errorf("GET %s: the object store's origin is missing: %v %v", path, csp["connect-src"], csp["img-src"])
		}
		if !has(csp["object-src"], "'none'") || !has(csp["base-uri"], "'none'") || !has(csp["require-trusted-types-for"], "'script'") {
			t.Errorf("GET %s: object-src, base-uri or trusted types: %v", path, csp)
		}
		for name, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin-when-cross-origin", "X-Frame-Options": "DENY"} {
			if got := w.Header().Get(name); got != want {
				t.Errorf("GET %s: %s %q, want %q", path, name, got, want)
			}
		}
		if strings.Contains(w.Header().Get("Content-Security-Policy"), "unsafe") {
			t.Errorf("GET %s: unsafe sources in %s", path, w.Header().Get("Content-Security-Policy"))
		}
	}
}

func TestOnlyTheSimulatorFramesServices(t *testing.T) {
	t.Parallel()
	h := newTestServer(t, config{Simulator: true, AllowHTTPLocalhost: true})
	if got := directives(get(h, "/console/").Header().Get("Content-Security-Policy"))["frame-src"]; len(got) != 1 || got[0] != "'none'" {
		t.Errorf("the console frames nothing: frame-src %v", got)
	}
	sim := directives(get(h, "/simulator/").Header().Get("Content-Security-Policy"))["frame-src"]
	for _, want := range []string{"'self'", "https:", "http://127.0.0.1:*", "http://localhost:*"} {
		if !has(sim, want) {
			t.Errorf("simulator frame-src %v lacks %s", sim, want)
		}
	}
	prod := newTestServer(t, config{Simulator: true})
	if sim := directives(get(prod, "/simulator/").Header().Get("Content-Security-Policy"))["frame-src"]; has(sim, "http://127.0.0.1:*") {
		t.Errorf("without ALLOW_HTTP_LOCALHOST the simulator frames https only: %v", sim)
	}
	off := newTestServer(t, config{})
	if w := get(off, "/simulator/"); w.Code != http.StatusNotFound {
		t.Errorf("with citizen sign-in off there is no simulator: %d", w.Code)
	}
}

func TestAPIMissesAnswerProblems(t *testing.T) {
	t.Parallel()
	h := newTestServer(t, config{})
	w := get(h, "/api/v1/nothing-here")
	if w.Code != http.StatusNotFound || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("an unrouted API path: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	r := httptest.NewRequest("POST", "/console/", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST to a page: %d", rec.Code)
	}
	if w := get(h, "/console"); w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/console/" {
		t.Errorf("/console: %d %s", w.Code, w.Header().Get("Location"))
	}
}

func TestTheSDKIsServedToEveryOrigin(t *testing.T) {
	t.Parallel()
	h := newTestServer(t, config{})
	for _, v := range SDKVersions {
		w := get(h, "/sdk/jssdk-"+v+".js")
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/javascript") {
			t.Fatalf("SDK %s: %d %s", v, w.Code, w.Header().Get("Content-Type"))
		}
		if w.Header().Get("Cross-Origin-Resource-Policy") != "cross-origin" || w.Header().Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("SDK %s must load on vendors' pages: CORP %q ACAO %q", v, w.Header().Get("Cross-Origin-Resource-Policy"), w.Header().Get("Access-Control-Allow-Origin"))
		}
		body := w.Body.String()
		for _, m := range []string{"version", "can:", "ready:", "setTitle:", "openLink:", "close:", "setUIStyle:", "getTicket:", "e.origin !== SHELL_ORIGIN", "e.source !== global.parent"} {
			if !strings.Contains(body, m) {
				t.Errorf("SDK %s lacks %q", v, m)
			}
		}
		if !strings.Contains(body, "'"+v+"'") {
			t.Errorf("SDK file %s does not say its version", v)
		}
	}
	if w := get(h, "/sdk/jssdk-0.0.1.js"); w.Code != http.StatusNotFound {
		t.Errorf("an unknown SDK version: %d", w.Code)
	}
}

func TestAssetsRevalidate(t *testing.T) {
	t.Parallel()
	h := newTestServer(t, config{})
	w := get(h, "/assets/js/console.js")
	etag := w.Header().Get("ETag")
	if w.Code != http.StatusOK || etag == "" || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/javascript") {
		t.Fatalf("console.js: %d %q %q", w.Code, etag, w.Header().Get("Content-Type"))
	}
	if w := get(h, "/assets/js/console.js", "If-None-Match", etag); w.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", w.Code)
	}
	if w := get(h, "/assets/../main.go"); w.Code == http.StatusOK {
		t.Error("a path outside the assets was served")
	}
}

func TestBadStoreEndpointStopsTheStart(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"files.example.com", "ftp://files.example.com", "https://"} {
		if _, err := newServer(config{S3PublicEndpoint: bad}); err == nil || !strings.Contains(err.Error(), "S3_PUBLIC_ENDPOINT") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	c := config{S3PublicEndpoint: "https://files.example.com/bucket", S3Endpoint: "http://minio:9000"}
	if o, err := c.storeOrigin(); err != nil || o != "https://files.example.com" {
		t.Errorf("origin %q %v", o, err)
	}
}

// The pages hold no inline script, style or handler (the CSP would refuse them), and the
// scripts build the DOM without markup strings (Trusted Types would refuse those).
func TestNoInlineCodeAndNoMarkupSinks(t *testing.T) {
	t.Parallel()
	inline := []*regexp.Regexp{
		regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`),
		regexp.MustCompile(`<style`),
		regexp.MustCompile(`\sstyle\s*=`),
		regexp.MustCompile(`\son[a-z]+\s*=`),
		regexp.MustCompile(`javascript:`),
	}
	sinks := regexp.MustCompile(`\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(|setAttribute\(\s*'style'`)
	err := fs.WalkDir(webFiles, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := webFiles.ReadFile(p)
		switch {
		case strings.HasSuffix(p, ".html"):
			for _, re := range inline {
				if loc := re.FindIndex(b); loc != nil {
					t.Errorf("%s: inline code or style %q", p, b[loc[0]:min(loc[1]+20, len(b))])
				}
			}
		case strings.HasSuffix(p, ".js"):
			if loc := sinks.FindIndex(b); loc != nil {
				t.Errorf("%s: markup sink %q", p, b[loc[0]:loc[1]])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

var dictKey = regexp.MustCompile(`(?m)^\s*"([^"]+)":`)

func dictionary(t *testing.T, name string) map[string]bool {
	t.Helper()
	b, err := webFiles.ReadFile("web/assets/js/i18n/" + name)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, m := range dictKey.FindAllSubmatch(b, -1) {
		keys[string(m[1])] = true
	}
	if len(keys) < 100 {
		t.Fatalf("%s: only %d keys read", name, len(keys))
	}
	return keys
}

// Both languages have the same keys, and every key the scripts and pages name is there.
func TestDictionariesAreComplete(t *testing.T) {
	t.Parallel()
	zh, en := dictionary(t, "zh-CN.js"), dictionary(t, "en.js")
	for k := range zh {
		if !en[k] {
			t.Errorf("en.js lacks %q", k)
		}
	}
	for k := range en {
		if !zh[k] {
			t.Errorf("zh-CN.js lacks %q (en.js has it)", k)
		}
	}
	namespaces := map[string]bool{}
	for k := range zh {
		namespaces[strings.SplitN(k, ".", 2)[0]] = true
	}
	literal := regexp.MustCompile(`'([a-zA-Z]+\.[A-Za-z0-9_.\-]+)'(\s*\+)?`)
	attr := regexp.MustCompile(`data-i18n(?:-[a-z-]+)?="([^"]+)"`)
	var missing []string
	_ = fs.WalkDir(webFiles, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, "/i18n/") || strings.Contains(p, "/sdk/") {
			return err
		}
		b, _ := webFiles.ReadFile(p)
		if strings.HasSuffix(p, ".js") {
			for _, m := range literal.FindAllSubmatch(b, -1) {
				k := string(m[1])
				if len(m[2]) > 0 || strings.HasSuffix(k, ".") || !namespaces[strings.SplitN(k, ".", 2)[0]] || strings.HasSuffix(k, ".js") {
					continue // a prefix completed at run time, or not a key
				}
				if !zh[k] {
					missing = append(missing, p+": "+k)
				}
			}
		}
		for _, m := range attr.FindAllSubmatch(b, -1) {
			if !zh[string(m[1])] {
				missing = append(missing, p+": "+string(m[1]))
			}
		}
		return nil
	})
	// Keys completed at run time, from the platform's own value sets.
	dynamic := map[string][]string{
		"status.app.":           {"draft", "pending", "approved", "rejected"},
		"status.service.":       {"testing", "applied", "approved", "live_requested", "live", "offline"},
		"status.grant.":         {"none", "draft", "pending", "granted", "rejected", "revoked"},
		"status.vendor.":        {"active", "disabled"},
		"status.todo.":          {"open", "done", "cancelled"},
		"status.delivery.":      {"pending", "delivered", "failed"},
		"cap.":                  {"sms", "message", "todo", "sms.intro", "message.intro", "todo.intro"},
		"channel.":              {"app", "wechat", "alipay"},
		"type.":                 {"transaction", "query", "transaction.hint", "query.hint"},
		"level.":                {"basic", "identity", "real_name", "basic.fields", "identity.fields", "real_name.fields"},
		"role.":                 {"admin", "vendor"},
		"creds.env.":            {"test", "production"},
		"decision.":             {"approved", "rejected", "approve-listing", "reject-listing", "approve-live", "reject-live", "take-offline", "bring-online", "grant", "reject", "revoke"},
		"review.confirm.":       {"approve-listing", "reject-listing", "approve-live", "reject-live", "take-offline", "bring-online"},
		"services.nextHelp.":    {"apply", "attach-reports", "request-live", "complete-for-live", "await-review", "none"},
		"services.":             {"logo", "functional_report", "security_report"},
		"check.":                {"application-approved", "reports-attached", "reports-complete", "test-url-https", "production-url-set", "production-url-https", "production-differs-from-test", "callback-code-unique", "logo-attached", "page-title-matches"},
		"guide.m.":              {"version", "can", "ready", "setTitle", "openLink", "close", "setUIStyle", "getTicket"},
		"sim.env.":              {"test", "production"},
		"sim.style.":            {"normal", "elder"},
		"notes.type.":           {"application.approved", "application.rejected", "service.listing.approved", "service.listing.rejected", "service.live", "service.live.rejected", "service.offline", "capability.granted", "capability.rejected", "capability.revoked"},
		"services.next.":        {"apply", "attach-reports", "request-live", "complete-for-live", "await-review"},
		"services.file.":        {"none", "empty", "attached", "uploaded"},
		"review.confirm.grant":  {""},
		"review.confirm.revoke": {""},
	}
	for prefix, rest := range dynamic {
		for _, r := range rest {
			if !zh[prefix+r] {
				missing = append(missing, "run time: "+prefix+r)
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("no text for %s", m)
	}
}
