package fn

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"time"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	loggerKey
)

// RequestID returns the request's ID (from the gateway's X-Request-Id, or made here).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// Logger returns the request's logger (it carries the function name and request ID).
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Options shape the middleware every function runs behind.
type Options struct {
	Name         string
	Logger       *slog.Logger
	MaxBodyBytes int64
}

// Wrap puts h behind the runtime's middleware: request ID, access log, panic recovery,
// body size limit, and problem+json answers for unknown routes and methods.
func Wrap(h http.Handler, o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID.MatchString(id) {
			id = newRequestID()
		}
		log := o.Logger.With("request_id", id)
		ctx := context.WithValue(context.WithValue(r.Context(), requestIDKey, id), loggerKey, log)
		r = r.WithContext(ctx)
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w}
		if o.MaxBodyBytes > 0 && r.Body != nil {
			r.Body = http.MaxBytesReader(rec, r.Body, o.MaxBodyBytes)
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("panic", "panic", v, "stack", string(debug.Stack()))
				if !rec.wrote {
					WriteProblem(rec, r, Errorf(http.StatusInternalServerError, CodeInternal,
						"Something went wrong on our side; the request ID helps us find it."))
				}
			}
			// The path only: query strings may carry tickets, and bodies are never logged.
			status := rec.status
			if status == 0 { // nothing written: net/http answers 200
				status = http.StatusOK
			}
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			log.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path,
				"status", status, "duration_ms", time.Since(start).Milliseconds())
		}()
		h.ServeHTTP(rec, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if !s.wrote {
		s.status, s.wrote = http.StatusOK, true
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Router is a ServeMux whose misses answer problem+json instead of plain text.
type Router struct{ *http.ServeMux }

// NewRouter returns an empty Router.
func NewRouter() *Router { return &Router{http.NewServeMux()} }

// Handle registers an operation under a Go 1.22 pattern such as "POST /api/v1/apps/{id}/submit".
func (rt *Router) Handle(pattern string, h HandlerFunc) { rt.ServeMux.Handle(pattern, Handle(h)) }

func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := rt.ServeMux.Handler(r); pattern != "" {
		rt.ServeMux.ServeHTTP(w, r)
		return
	}
	// Let the mux decide between 404 and 405 (it sets Allow), then answer in problem+json.
	probe := &missRecorder{header: http.Header{}}
	rt.ServeMux.ServeHTTP(probe, r)
	if allow := probe.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	if probe.status == http.StatusMethodNotAllowed {
		WriteProblem(w, r, Errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			"This path does not accept "+r.Method+"; see the Allow header."))
		return
	}
	if probe.status >= 300 && probe.status < 400 { // the mux's own redirect for a cleaned path
		http.Redirect(w, r, probe.header.Get("Location"), probe.status)
		return
	}
	WriteProblem(w, r, NotFound("Route "+r.Method+" "+r.URL.Path))
}

type missRecorder struct {
	header http.Header
	status int
}

func (m *missRecorder) Header() http.Header { return m.header }
func (m *missRecorder) WriteHeader(code int) {
	if m.status == 0 {
		m.status = code
	}
}
func (m *missRecorder) Write(b []byte) (int, error) {
	if m.status == 0 {
		m.status = http.StatusOK
	}
	return len(b), nil
}
