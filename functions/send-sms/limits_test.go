package main

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Of 50 sends at once to one number, each with its own key, the per-minute limit of 1 lets
// exactly one through; the others are refused with 429 and Retry-After, and not recorded.
func TestNumberLimitHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	c := h.newCitizen()
	f := codeToCitizen(h.pairwise(a, c))
	const n = 50
	replies := make([]reply, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			replies[i], errs[i] = h.trySigned(a, "POST", sendPath, f, idempotencyKey("number-"+strconv.Itoa(i)))
		}()
	}
	close(start)
	wg.Wait()
	sent := 0
	for i, r := range replies {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		switch r.status {
		case http.StatusCreated:
			sent++
		case http.StatusTooManyRequests:
			p := r.wantProblem(t, http.StatusTooManyRequests, "sms-number-limit")
			if !strings.Contains(p.Detail, "minute") {
				t.Errorf("detail %q does not name the minute", p.Detail)
			}
			r.retryAfter(t, 1, 60)
		default:
			t.Fatalf("a concurrent send answered %d: %s", r.status, r.body)
		}
	}
	if sent != 1 {
		t.Fatalf("%d sends went through, want exactly 1", sent)
	}
	if d, s := h.devMessages(), h.sends(a); d != 1 || s != 1 {
		t.Fatalf("%d provider calls and %d recorded sends, want 1 each", d, s)
	}
	// Every call was admitted (and counted); the limit refused all but one.
	if u := h.usage(a); u != n {
		t.Fatalf("usage %d, want %d", u, n)
	}
}

// The limits count per application, template and number: a number that had its message may
// still get another template's, another number the same template, and another
// application's message.
func TestNumberLimitsArePerTemplateNumberAndApplication(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a, b := h.grantedApp("公积金"), h.grantedApp("社保")
	x, y := "13800138000", "13800138001"
	h.sent(a, codeTo(x))
	h.signed(a, "POST", sendPath, codeTo(x), idempotencyKey(h.newKey())).wantProblem(t, http.StatusTooManyRequests, "sms-number-limit")
	h.sent(a, doneTo(x))
	h.sent(a, codeTo(y))
	h.sent(b, codeTo(x))
	// A citizen is limited by their number, however addressed.
	c := h.newCitizen()
	h.sent(a, codeToCitizen(h.pairwise(a, c)))
	h.signed(a, "POST", sendPath, codeTo(c.Mobile), idempotencyKey(h.newKey())).wantProblem(t, http.StatusTooManyRequests, "sms-number-limit")
	if d := h.devMessages(); d != 5 {
		t.Fatalf("%d provider calls, want 5", d)
	}
}

// The hourly and daily limits count the sends of the last hour and day (recorded here as
// if made earlier); older sends and failed ones do not count.
func TestHourAndDayLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")

	t.Run("hour", func(t *testing.T) {
		m := h.newMobile()
		h.earlierSends(a, codeTemplate, m, "sent", 4, 2*time.Minute) // 2-5 minutes ago
		h.sent(a, codeTo(m))                                         // the 5th of the hour
		// A minute passes (the minute's send is moved back), and the hour is full.
		h.exec(`UPDATE sms_sends SET created_at = created_at - interval '90 seconds' WHERE to_index = $1 AND created_at > now() - interval '1 minute'`,
			h.sealer.Index("sms-mobile", m))
		r := h.signed(a, "POST", sendPath, codeTo(m), idempotencyKey(h.newKey()))
		p := r.wantProblem(t, http.StatusTooManyRequests, "sms-number-limit")
		if !strings.Contains(p.Detail, "hour") || !strings.Contains(p.Detail, "5") {
			t.Errorf("detail %q, want the hour's limit of 5", p.Detail)
		}
		// The oldest of the hour was 5 minutes ago: free again in about 55 minutes.
		r.retryAfter(t, 55*60-30, 55*60+30)
	})

	t.Run("day", func(t *testing.T) {
		m := h.newMobile()
		h.earlierSends(a, codeTemplate, m, "sent", 10, 2*time.Hour) // 2 hours ago and the 9 minutes before
		r := h.signed(a, "POST", sendPath, codeTo(m), idempotencyKey(h.newKey()))
		p := r.wantProblem(t, http.StatusTooManyRequests, "sms-number-limit")
		if !strings.Contains(p.Detail, "day") || !strings.Contains(p.Detail, "10") {
			t.Errorf("detail %q, want the day's limit of 10", p.Detail)
		}
		// The oldest was 2 hours 9 minutes ago: free again in about 21 hours 51 minutes.
		want := int((24*time.Hour - 2*time.Hour - 9*time.Minute).Seconds())
		r.retryAfter(t, want-30, want+30)
	})

	t.Run("older sends and failures do not count", func(t *testing.T) {
		m := h.newMobile()
		h.earlierSends(a, codeTemplate, m, "sent", 20, 25*time.Hour)
		h.earlierSends(a, codeTemplate, m, "failed", 20, 30*time.Second)
		h.sent(a, codeTo(m))
	})

	t.Run("another template's day is its own", func(t *testing.T) {
		m := h.newMobile()
		h.earlierSends(a, doneTemplate, m, "sent", 10, 2*time.Hour)
		h.earlierSends(a, codeTemplate, m, "sent", 4, 2*time.Hour)
		h.sent(a, codeTo(m))
		h.signed(a, "POST", sendPath, doneTo(m), idempotencyKey(h.newKey())).wantProblem(t, http.StatusTooManyRequests, "sms-number-limit")
	})
}

// An application sends only with a granted SMS grant, refused from the moment it is revoked;
// a refused send reaches no provider and records nothing.
func TestSendsNeedAGrant(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp("晋城市住房公积金中心")
	staff := "13800138000"
	refused := func(step string) {
		t.Helper()
		r := h.signed(a, "POST", sendPath, codeTo(staff), idempotencyKey(h.newKey()))
		p := r.wantProblem(t, http.StatusForbidden, "capability-not-granted")
		if p.Capability != "sms" {
			t.Errorf("%s: problem names capability %q", step, p.Capability)
		}
	}
	refused("no grant")
	h.exec(`INSERT INTO capability_grants (application_id, capability, status) VALUES ($1, 'message', 'granted'), ($1, 'todo', 'granted')`, a.ID)
	refused("other capabilities granted")
	for _, status := range []string{"draft", "pending", "rejected"} {
		h.grant(a, status)
		refused(status)
	}
	h.grant(a, "granted")
	h.sent(a, codeTo(staff))
	h.exec(`UPDATE capability_grants SET status = 'revoked' WHERE application_id = $1 AND capability = 'sms'`, a.ID)
	refused("revoked")
	// The send list stays readable: it is the application's own record.
	if l := wantJSON[sendList](t, h.signed(a, "GET", "/api/v1/sms/sends", nil), http.StatusOK); len(l.Items) != 1 {
		t.Fatalf("list after revocation %+v", l)
	}
	if d, s, u := h.devMessages(), h.sends(a), h.usage(a); d != 1 || s != 1 || u != 1 {
		t.Fatalf("%d provider calls, %d sends, usage %d: want 1 each", d, s, u)
	}
}

// Over the application's limit per minute a send is refused with 429 and Retry-After; the
// limit is the application's, not shared with others.
func TestApplicationRateLimit(t *testing.T) {
	t.Parallel()
	st := defaultSettings()
	st.limit.PerMinute = 2
	st.cfg.PerMinute, st.cfg.PerHour, st.cfg.PerDay = 10, 10, 10
	h := newHarnessWith(t, st)
	// The limit counts calls in a calendar minute; a run that crosses into the next minute
	// proves nothing and is repeated (with fresh applications, so fresh counters).
	for attempt := 1; ; attempt++ {
		a, b := h.grantedApp("公积金"+strconv.Itoa(attempt)), h.grantedApp("社保"+strconv.Itoa(attempt))
		minute := scalar[time.Time](h, `SELECT date_trunc('minute', now())`)
		replies := []reply{
			h.signed(a, "POST", sendPath, codeTo("13800138000"), idempotencyKey(h.newKey())),
			h.signed(a, "POST", sendPath, codeTo("13800138001"), idempotencyKey(h.newKey())),
			h.signed(a, "POST", sendPath, codeTo("13800138002"), idempotencyKey(h.newKey())),
			h.signed(b, "POST", sendPath, codeTo("13800138003"), idempotencyKey(h.newKey())),
		}
		if !scalar[time.Time](h, `SELECT date_trunc('minute', now())`).Equal(minute) && attempt < 3 {
			continue
		}
		replies[0].want(t, http.StatusCreated)
		replies[1].want(t, http.StatusCreated)
		replies[2].wantProblem(t, http.StatusTooManyRequests, "rate-limited")
		replies[2].retryAfter(t, 1, 60)
		replies[3].want(t, http.StatusCreated)
		if s := h.sends(a); s != 2 {
			t.Fatalf("%d sends of a, want 2", s)
		}
		if u := h.usage(a); u != 2 {
			t.Fatalf("usage %d, want the 2 admitted calls", u)
		}
		return
	}
}
