package main

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// vendorRoutes are every vendor operation, on an item external id "R-1".
var vendorRoutes = []struct {
	method, path string
	body         any
}{
	{"POST", "/api/v1/todos", nil}, // body filled per test: the citizen id differs
	{"GET", path("R-1"), nil},
	{"PUT", path("R-1"), todoForm{Title: "改"}},
	{"POST", path("R-1", "/complete"), nil},
	{"POST", path("R-1", "/cancel"), nil},
}

// Every vendor operation needs a signed request; a refused one changes nothing and is not
// counted.
func TestVendorCallsNeedASignature(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	c := h.newCitizen()
	f := newTodo(h.pairwise(a, c), "R-1")
	h.create(a, f)
	before := h.row(a, "R-1")
	wrong := a
	wrong.Secret = "test_00000000000000000000000000000000"
	for _, rt := range vendorRoutes {
		body := rt.body
		if rt.path == "/api/v1/todos" {
			body = newTodo(f.CitizenID, "R-2")
		}
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			r, err := h.tryPlain(rt.method, rt.path, body)
			if err != nil {
				t.Fatal(err)
			}
			r.wantProblem(t, http.StatusUnauthorized, "signature-missing")
			if r, err = h.trySigned(wrong, rt.method, rt.path, body); err != nil {
				t.Fatal(err)
			}
			r.wantProblem(t, http.StatusUnauthorized, "signature-mismatch")
		})
	}
	if after := h.row(a, "R-1"); after != before || h.todos(a) != 1 {
		t.Fatalf("an unsigned call changed the items")
	}
	if u := h.usage(a); u != 1 {
		t.Fatalf("usage %d, want 1 (the create)", u)
	}
}

// Every vendor operation needs a grant of the capability, refused from the moment it is
// revoked.
func TestVendorCallsNeedAGrant(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp("晋城市住房公积金中心")
	c := h.newCitizen()
	f := newTodo(h.pairwise(a, c), "R-1")
	refusedEverywhere := func(step string) {
		t.Helper()
		for _, rt := range vendorRoutes {
			body := rt.body
			if rt.path == "/api/v1/todos" {
				body = newTodo(f.CitizenID, "R-2")
			}
			r := h.signed(a, rt.method, rt.path, body)
			p := r.wantProblem(t, http.StatusForbidden, "capability-not-granted")
			if p.Capability != "todo" {
				t.Errorf("%s %s %s: problem names capability %q", step, rt.method, rt.path, p.Capability)
			}
		}
	}
	refusedEverywhere("no grant")
	h.grant(a, "pending")
	refusedEverywhere("pending")
	h.exec(`INSERT INTO capability_grants (application_id, capability, status) VALUES ($1, 'message', 'granted')`, a.ID)
	refusedEverywhere("message granted")

	h.grant(a, "granted")
	h.create(a, f)
	before := h.row(a, "R-1")
	h.exec(`UPDATE capability_grants SET status = 'revoked' WHERE application_id = $1 AND capability = 'todo'`, a.ID)
	refusedEverywhere("revoked")
	if after := h.row(a, "R-1"); after != before || h.todos(a) != 1 {
		t.Fatalf("calls of a revoked grant changed the items")
	}
	if u := h.usage(a); u != 1 {
		t.Fatalf("usage %d, want 1: refused calls are not counted", u)
	}
	// The citizen still sees what was given before the revocation.
	if l := h.list(c, ""); l.Total != 1 {
		t.Fatalf("citizen sees %+v", l)
	}
}

// Over the limit per minute a call is refused with 429 and Retry-After, and not counted.
// All the capability's operations share the limit.
func TestVendorRateLimit(t *testing.T) {
	t.Parallel()
	cfg := defaultConfig()
	cfg.Limit = limit(3)
	h := newHarnessWith(t, cfg)
	// The limit counts calls in a calendar minute; a run that crosses into the next minute
	// proves nothing and is repeated (with a fresh application, so fresh counters).
	for attempt := 1; ; attempt++ {
		a := h.grantedApp("公积金" + strconv.Itoa(attempt))
		c := h.newCitizen()
		to := h.pairwise(a, c)
		minute := scalar[time.Time](h, `SELECT date_trunc('minute', now())`)
		replies := []reply{
			h.signed(a, "POST", "/api/v1/todos", newTodo(to, "L-1")),
			h.signed(a, "GET", path("L-1"), nil),
			h.signed(a, "POST", path("L-1", "/complete"), nil),
			h.signed(a, "POST", "/api/v1/todos", newTodo(to, "L-2")),
		}
		if !scalar[time.Time](h, `SELECT date_trunc('minute', now())`).Equal(minute) && attempt < 3 {
			continue
		}
		replies[0].want(t, http.StatusCreated)
		replies[1].want(t, http.StatusOK)
		replies[2].want(t, http.StatusOK)
		r := replies[3]
		r.wantProblem(t, http.StatusTooManyRequests, "rate-limited")
		after, err := strconv.Atoi(r.header.Get("Retry-After"))
		if err != nil || after < 1 || after > 60 {
			t.Fatalf("Retry-After %q, want 1-60 seconds", r.header.Get("Retry-After"))
		}
		if n := h.todos(a); n != 1 {
			t.Fatalf("%d items stored, want 1", n)
		}
		if u := h.usage(a); u != 3 {
			t.Fatalf("usage %d, want the 3 admitted calls", u)
		}
		// The limit is per application.
		b := h.grantedApp("社保" + strconv.Itoa(attempt))
		h.create(b, newTodo(h.pairwise(b, c), "L-1"))
		return
	}
}

// Every admitted call is counted under the todo capability, whatever its outcome.
func TestUsageCountsAdmittedCalls(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("公积金")
	c := h.newCitizen()
	f := newTodo(h.pairwise(a, c), "U-1")
	h.create(a, f)                                                                                        // 1
	h.signed(a, "POST", "/api/v1/todos", f).want(t, http.StatusOK)                                        // 2
	h.signed(a, "GET", path("U-1"), nil).want(t, http.StatusOK)                                           // 3
	h.signed(a, "GET", path("U-2"), nil).wantProblem(t, http.StatusNotFound, "not-found")                 // 4
	h.signed(a, "POST", "/api/v1/todos", todoForm{}).wantInvalid(t, "citizen_id", "external_id", "title") // 5
	h.list(c, "")                                                                                         // the citizen side is not a capability call
	if u := h.usage(a); u != 5 {
		t.Fatalf("usage %d, want 5", u)
	}
	if n := scalar[int](h, `SELECT count(*) FROM capability_usage WHERE application_id = $1 AND capability <> 'todo'`, a.ID); n != 0 {
		t.Fatalf("%d usage rows under other capabilities", n)
	}
}
