package fn

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Problem is an error a caller may see, written as application/problem+json (RFC 9457).
// Code is stable and machine-readable; Detail is a sentence a person can act on.
type Problem struct {
	Status     int            `json:"status"`
	Code       string         `json:"code"`
	Title      string         `json:"title"`
	Detail     string         `json:"detail,omitempty"`
	Params     []InvalidParam `json:"invalid_params,omitempty"`
	Extra      map[string]any `json:"-"`
	RetryAfter time.Duration  `json:"-"`
}

// InvalidParam names one field of a request and what is wrong with it.
type InvalidParam struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

func (p *Problem) Error() string { return p.Code + ": " + p.Detail }

// The stable codes shared by every function. Functions add their own where a caller
// needs to tell cases apart (e.g. "password-change-required").
const (
	CodeInvalid          = "validation-failed"
	CodeMalformed        = "malformed-body"
	CodeUnknownField     = "unknown-field"
	CodeUnsupportedMedia = "unsupported-media-type"
	CodeTooLarge         = "body-too-large"
	CodeUnauthenticated  = "unauthenticated"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not-found"
	CodeMethodNotAllowed = "method-not-allowed"
	CodeConflict         = "conflict"
	CodeInvalidState     = "invalid-state"
	CodeRateLimited      = "rate-limited"
	CodeUnavailable      = "service-unavailable"
	CodeInternal         = "internal"
)

var titles = map[int]string{
	400: "Bad request", 401: "Unauthenticated", 403: "Forbidden", 404: "Not found",
	405: "Method not allowed", 409: "Conflict", 413: "Body too large", 415: "Unsupported media type",
	422: "Invalid request", 423: "Locked", 429: "Too many requests", 500: "Internal error",
	502: "Bad gateway", 503: "Service unavailable",
}

// Errorf builds a Problem.
func Errorf(status int, code, detail string) *Problem {
	return &Problem{Status: status, Code: code, Title: titles[status], Detail: detail}
}

// Invalid is a 422 naming each field at fault.
func Invalid(fields map[string]string) *Problem {
	p := Errorf(http.StatusUnprocessableEntity, CodeInvalid, "Some fields are missing or invalid; see invalid_params.")
	for _, name := range sortedKeys(fields) {
		p.Params = append(p.Params, InvalidParam{Name: name, Reason: fields[name]})
	}
	return p
}

// NotFound is the answer for a resource that does not exist or that the caller may not see:
// the two are deliberately indistinguishable.
func NotFound(what string) *Problem {
	return Errorf(http.StatusNotFound, CodeNotFound, what+" not found.")
}

// WriteProblem writes p to w.
func WriteProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	body := map[string]any{
		"type":   "urn:jinlaiban:problem:" + p.Code,
		"title":  p.Title,
		"status": p.Status,
		"code":   p.Code,
	}
	if p.Detail != "" {
		body["detail"] = p.Detail
	}
	if len(p.Params) > 0 {
		body["invalid_params"] = p.Params
	}
	for k, v := range p.Extra {
		if _, standard := body[k]; !standard && k != "invalid_params" && k != "request_id" {
			body[k] = v
		}
	}
	if id := RequestID(r.Context()); id != "" {
		body["request_id"] = id
	}
	if p.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((p.RetryAfter+time.Second-1)/time.Second)))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(body)
}

// WriteError answers with the Problem inside err, or maps an outage to 503 and anything else
// to a 500 that is logged here and never shown to the caller.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var p *Problem
	switch {
	case errors.As(err, &p):
	case Unavailable(err):
		Logger(r.Context()).Warn("dependency unavailable", "err", err.Error())
		p = Errorf(http.StatusServiceUnavailable, CodeUnavailable, "A backing service is unavailable; retry shortly.")
		p.RetryAfter = 2 * time.Second
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		return // the caller went away; nobody reads the answer
	default:
		Logger(r.Context()).Error("internal error", "err", err.Error())
		p = Errorf(http.StatusInternalServerError, CodeInternal, "Something went wrong on our side; the request ID helps us find it.")
	}
	WriteProblem(w, r, p)
}

// Unavailable reports whether err means the database (or another backing service) could not
// be reached or answered too late, as opposed to a bug: those answer 503.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if len(pgErr.Code) < 2 {
			return false
		}
		switch pgErr.Code[:2] {
		case "08", "53", "57": // connection exception, insufficient resources, operator intervention
			return true
		}
		return false
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connErr) || errors.As(err, &netErr) || pgconn.Timeout(err) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || pgconn.SafeToRetry(err) || isClosedConn(err)
}

func isClosedConn(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		switch e.Error() {
		case "conn closed", "closed pool", "conn busy":
			return true
		}
	}
	return false
}
