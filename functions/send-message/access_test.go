package main

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/signature"
)

// Only a signed request of an approved application gets through; a refused one stores
// nothing and is not counted.
func TestSendNeedsASignedRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	c := h.newCitizen()
	m := newMessage(h.pairwise(a, c))

	h.plain("POST", "/api/v1/messages", m, idempotencyKey(h.newKey())).wantProblem(t, http.StatusUnauthorized, "signature-missing")

	wrong := a
	wrong.Secret = "test_00000000000000000000000000000000"
	h.signed(wrong, "POST", "/api/v1/messages", m, idempotencyKey(h.newKey())).wantProblem(t, http.StatusUnauthorized, "signature-mismatch")

	unknown := a
	unknown.Code = "0123456789abcdef0123456789abcd"
	h.signed(unknown, "POST", "/api/v1/messages", m, idempotencyKey(h.newKey())).wantProblem(t, http.StatusUnauthorized, "unknown-app-code")

	// A body changed after signing does not match the signature.
	raw := []byte(`{"citizen_id":"` + m.CitizenID + `","title":"t","body":"b"}`)
	req, err := h.request("POST", "/api/v1/messages", raw, idempotencyKey(h.newKey()))
	if err != nil {
		t.Fatal(err)
	}
	signature.SignRequest(req, a.Code, a.Secret, []byte(`{"citizen_id":"x"}`), time.Now())
	r, err := h.send(req)
	if err != nil {
		t.Fatal(err)
	}
	r.wantProblem(t, http.StatusUnauthorized, "signature-mismatch")

	// A request replayed as it was (same nonce) is refused.
	raw = []byte(`{"citizen_id":"` + m.CitizenID + `","title":"t","body":"b"}`)
	req, _ = h.request("POST", "/api/v1/messages", raw, idempotencyKey("replayed"))
	signature.SignRequest(req, a.Code, a.Secret, raw, time.Now())
	replay := req.Clone(context.Background())
	if _, err := h.send(req); err != nil {
		t.Fatal(err)
	}
	replay.Body, _ = req.GetBody()
	r, err = h.send(replay)
	if err != nil {
		t.Fatal(err)
	}
	r.wantProblem(t, http.StatusUnauthorized, "nonce-reused")

	// An old signature is refused.
	req, _ = h.request("POST", "/api/v1/messages", raw, idempotencyKey(h.newKey()))
	signature.SignRequest(req, a.Code, a.Secret, raw, time.Now().Add(-time.Hour))
	if r, err = h.send(req); err != nil {
		t.Fatal(err)
	}
	r.wantProblem(t, http.StatusUnauthorized, "clock-skew")

	if n := h.messages(a); n != 1 {
		t.Fatalf("%d messages stored, want only the one of the accepted request", n)
	}
	if u := h.usage(a); u != 1 {
		t.Fatalf("usage %d, want 1 (refused signatures are not counted)", u)
	}
}

// The capability needs a grant: without one, while pending, after a rejection and from
// the moment it is revoked, calls are refused with 403 and store nothing.
func TestSendNeedsAGrant(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp("晋城市住房公积金中心")
	c := h.newCitizen()
	m := newMessage(h.pairwise(a, c))
	refused := func(step string) {
		t.Helper()
		p := h.signed(a, "POST", "/api/v1/messages", m, idempotencyKey(h.newKey())).wantProblem(t, http.StatusForbidden, "capability-not-granted")
		if p.Capability != "message" {
			t.Errorf("%s: problem names capability %q, want message", step, p.Capability)
		}
	}

	refused("no grant")
	for _, status := range []string{"draft", "pending", "rejected"} {
		h.grant(a, status)
		refused(status)
	}
	// Another capability's grant is not this one.
	h.exec(`INSERT INTO capability_grants (application_id, capability, status) VALUES ($1, 'todo', 'granted')`, a.ID)
	refused("todo granted")

	h.grant(a, "granted")
	h.post(a, m)
	h.exec(`UPDATE capability_grants SET status = 'revoked' WHERE application_id = $1 AND capability = 'message'`, a.ID)
	refused("revoked")

	if n := h.messages(a); n != 1 {
		t.Fatalf("%d messages stored, want 1", n)
	}
	if u := h.usage(a); u != 1 {
		t.Fatalf("usage %d, want 1: refused calls are not counted", u)
	}
}

// Over the limit per minute a call is refused with 429 and Retry-After, and not counted.
func TestSendRateLimit(t *testing.T) {
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
		var replies []reply
		for range 4 {
			replies = append(replies, h.signed(a, "POST", "/api/v1/messages", newMessage(to), idempotencyKey(h.newKey())))
		}
		if !scalar[time.Time](h, `SELECT date_trunc('minute', now())`).Equal(minute) && attempt < 3 {
			continue
		}
		for _, r := range replies[:3] {
			r.want(t, http.StatusCreated)
		}
		r := replies[3]
		r.wantProblem(t, http.StatusTooManyRequests, "rate-limited")
		after, err := strconv.Atoi(r.header.Get("Retry-After"))
		if err != nil || after < 1 || after > 60 {
			t.Fatalf("Retry-After %q, want 1-60 seconds", r.header.Get("Retry-After"))
		}
		if n := h.messages(a); n != 3 {
			t.Fatalf("%d messages stored, want 3", n)
		}
		if u := h.usage(a); u != 3 {
			t.Fatalf("usage %d, want the 3 admitted calls", u)
		}
		// The limit is per application: another one is not held back.
		b := h.grantedApp("社保" + strconv.Itoa(attempt))
		h.post(b, newMessage(h.pairwise(b, c)))
		return
	}
}

// Every admitted call is counted, per application, capability and day, whatever its
// outcome; the portal's usage view reads these counts.
func TestUsageCountsAdmittedCalls(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a, b := h.grantedApp("公积金"), h.grantedApp("社保")
	c := h.newCitizen()
	m := newMessage(h.pairwise(a, c))
	h.signed(a, "POST", "/api/v1/messages", m, idempotencyKey("k")).want(t, http.StatusCreated)
	h.signed(a, "POST", "/api/v1/messages", m, idempotencyKey("k")).want(t, http.StatusOK)
	h.signed(a, "POST", "/api/v1/messages", message{}, idempotencyKey("k2")).wantInvalid(t, "body", "citizen_id", "title")
	h.signed(a, "POST", "/api/v1/messages", newMessage("0123456789abcdef0123456789abcdef"), idempotencyKey("k3")).
		wantProblem(t, http.StatusUnprocessableEntity, "unknown-citizen")
	h.post(b, newMessage(h.pairwise(b, c)))

	if u := h.usage(a); u != 4 {
		t.Fatalf("usage of a: %d, want 4", u)
	}
	if u := h.usage(b); u != 1 {
		t.Fatalf("usage of b: %d, want 1", u)
	}
	day := scalar[bool](h, `SELECT bool_and(day = current_date) FROM capability_usage WHERE application_id = $1`, a.ID)
	if !day {
		t.Fatalf("usage is not counted under today's date")
	}
}
