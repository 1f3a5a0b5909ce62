package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/testenv"
)

func TestSignInWithCorrectPasswordStartsSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := testenv.SignIn(t, h.pool, h.sealer, "vendor", "acme")

	before := time.Now()
	r := h.do(t, "POST", "/api/v1/sessions", credentials("acme", vendor.Password)).want(t, http.StatusCreated)
	var s session
	r.decode(t, &s)

	if !strings.HasPrefix(s.Token, "jlbs_") || len(s.Token) < 40 {
		t.Errorf("token %q: want a jlbs_ token of 256 bits", s.Token)
	}
	if len(s.CSRFToken) < 40 || s.CSRFToken == s.Token {
		t.Errorf("csrf_token %q: want its own random token", s.CSRFToken)
	}
	if s.MustChangePassword || s.Account.MustChangePassword {
		t.Error("must_change_password: want false for an account that changed its initial password")
	}
	if s.Account.ID != vendor.ID || s.Account.Login != "acme" || s.Account.Role != "vendor" || s.Account.Status != "active" {
		t.Errorf("account %+v, want the vendor acme", s.Account)
	}
	if d := s.ExpiresAt.Sub(before); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("expires_at %v: want about an hour from now", s.ExpiresAt)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q: a response carrying a token must not be cached", cc)
	}

	cookies := map[string]*http.Cookie{}
	for _, c := range r.cookie {
		cookies[c.Name] = c
	}
	sc, cc := cookies[auth.SessionCookie], cookies[auth.CSRFCookie]
	if sc == nil || cc == nil {
		t.Fatalf("cookies %v: want %s and %s", r.header.Values("Set-Cookie"), auth.SessionCookie, auth.CSRFCookie)
	}
	if sc.Value != s.Token || !sc.HttpOnly || !sc.Secure || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" {
		t.Errorf("session cookie %q: want the token, HttpOnly, Secure, SameSite=Lax, Path=/", sc.Raw)
	}
	if sc.Expires.Unix() != s.ExpiresAt.Unix() {
		t.Errorf("session cookie expires %v, want %v", sc.Expires, s.ExpiresAt)
	}
	if cc.Value != s.CSRFToken || cc.HttpOnly || !cc.Secure || cc.SameSite != http.SameSiteStrictMode || cc.Path != "/" {
		t.Errorf("CSRF cookie %q: want the CSRF token, readable by scripts, Secure, SameSite=Strict, Path=/", cc.Raw)
	}

	// The token works, and only its hash is kept.
	var me account
	h.me(t, bearer(s.Token)).want(t, http.StatusOK).decode(t, &me)
	if me.ID != vendor.ID {
		t.Errorf("GET /me with the new token: %+v", me)
	}
	if n := scalar[int](t, h, `SELECT count(*) FROM sessions WHERE token_hash = $1 AND csrf_hash = $2 AND account_id = $3 AND revoked_at IS NULL`,
		auth.HashToken(s.Token), auth.HashToken(s.CSRFToken), vendor.ID); n != 1 {
		t.Errorf("sessions holding the token's hash: %d, want 1", n)
	}
}

func TestSignInLoginNameIsCaseInsensitive(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := testenv.SignIn(t, h.pool, h.sealer, "vendor", "Acme.Foods")
	for _, login := range []string{"Acme.Foods", "acme.foods", "ACME.FOODS"} {
		if s := h.signIn(t, login, vendor.Password); s.Account.ID != vendor.ID {
			t.Errorf("sign in as %q: account %s, want %s", login, s.Account.ID, vendor.ID)
		}
	}
}

func TestSignInGivesTheSameAnswerForWrongPasswordAndUnknownLogin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := testenv.SignIn(t, h.pool, h.sealer, "vendor", "acme")
	sessionsBefore := scalar[int](t, h, `SELECT count(*) FROM sessions`)

	var first *problem
	for _, tc := range []struct{ name, login, password string }{
		{"wrong password", "acme", "not-the-password"},
		{"password of another account", "acme", h.admin.Password},
		{"password in other case", "acme", strings.ToUpper(vendor.Password)},
		{"password with trailing space", "acme", vendor.Password + " "},
		{"unknown login", "nobody", vendor.Password},
		{"unknown login that looks like SQL", "' OR '1'='1", "' OR '1'='1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.exec(t, `UPDATE login_throttle SET blocked_until = NULL`) // no backoff between the cases
			r := h.do(t, "POST", "/api/v1/sessions", credentials(tc.login, tc.password))
			p := r.wantProblem(t, http.StatusUnauthorized, "invalid-credentials")
			if len(r.cookie) != 0 {
				t.Errorf("a refused sign-in set cookies: %v", r.header.Values("Set-Cookie"))
			}
			if bytes.Contains(r.body, []byte(tc.password)) {
				t.Errorf("the answer echoes the password: %s", r.body)
			}
			if first == nil {
				first = &p
			} else if p.Title != first.Title || p.Detail != first.Detail || len(p.Params) != 0 {
				t.Errorf("answer %+v differs from %+v: it tells wrong password and unknown login apart", p, *first)
			}
		})
	}
	if n := scalar[int](t, h, `SELECT count(*) FROM sessions`); n != sessionsBefore {
		t.Errorf("refused sign-ins created %d sessions", n-sessionsBefore)
	}
}

func TestSignInSlowsDownThenLocksAfterRepeatedFailures(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := testenv.SignIn(t, h.pool, h.sealer, "vendor", "acme")
	key := h.loginKey("acme")
	fail := func(t *testing.T) {
		t.Helper()
		h.do(t, "POST", "/api/v1/sessions", credentials("acme", "wrong-password")).wantProblem(t, http.StatusUnauthorized, "invalid-credentials")
	}
	locked := func(t *testing.T, login, password string, minWait, maxWait int, opts ...option) {
		t.Helper()
		r := h.do(t, "POST", "/api/v1/sessions", credentials(login, password), opts...)
		r.wantProblem(t, http.StatusTooManyRequests, "sign-in-locked")
		ra, err := strconv.Atoi(r.header.Get("Retry-After"))
		if err != nil || ra < minWait || ra > maxWait {
			t.Errorf("Retry-After %q, want %d to %d seconds", r.header.Get("Retry-After"), minWait, maxWait)
		}
		if len(r.cookie) != 0 {
			t.Errorf("a locked sign-in set cookies: %v", r.header.Values("Set-Cookie"))
		}
	}

	// Two failures cost nothing more.
	fail(t)
	fail(t)
	if n, wait, _ := h.throttleRow(t, key); n != 2 || wait != 0 {
		t.Fatalf("after 2 failures: %d failures, %.1fs wait; want 2, none", n, wait)
	}
	// The third makes the next attempt wait 2 s, the fourth 4 s; a refused attempt is not
	// counted, and even the right password must wait.
	fail(t)
	locked(t, "acme", vendor.Password, 1, 2)
	if n, wait, _ := h.throttleRow(t, key); n != 3 || wait <= 0 || wait > 2 {
		t.Fatalf("after 3 failures: %d failures, %.1fs wait; want 3, up to 2s", n, wait)
	}
	h.elapse(t, key)
	fail(t)
	locked(t, "acme", vendor.Password, 3, 4)
	h.elapse(t, key)

	// The fifth failure locks the login for the lock duration.
	fail(t)
	if n, wait, _ := h.throttleRow(t, key); n != 5 || wait < lockFor.Seconds()-60 || wait > lockFor.Seconds() {
		t.Fatalf("after 5 failures: %d failures, %.0fs wait; want 5, about %v", n, wait, lockFor)
	}
	sessionsBefore := scalar[int](t, h, `SELECT count(*) FROM sessions`)
	full := int(lockFor.Seconds())
	for _, tc := range []struct {
		name, login, password string
		opts                  []option
	}{
		{"correct password", "acme", vendor.Password, nil},
		{"login in other case", "ACME", vendor.Password, nil},
		{"spoofed X-Forwarded-For", "acme", vendor.Password, []option{withHeader("X-Forwarded-For", "203.0.113.7")}},
		{"from another address", "acme", vendor.Password, []option{via(h.clientFrom(t, "127.0.0.2"))}},
		{"wrong password", "acme", "wrong-password", nil},
	} {
		t.Run(tc.name, func(t *testing.T) { locked(t, tc.login, tc.password, full-60, full, tc.opts...) })
	}
	if n := scalar[int](t, h, `SELECT count(*) FROM sessions`); n != sessionsBefore {
		t.Errorf("locked sign-ins created %d sessions", n-sessionsBefore)
	}
	if n, _, _ := h.throttleRow(t, key); n != 5 {
		t.Errorf("attempts refused by the lock were counted: %d failures, want 5", n)
	}
	// Another login from the same address is not affected.
	h.signIn(t, "root", h.admin.Password)

	// When the lock has run out the right password works, and the failures are forgotten.
	h.elapse(t, key)
	h.signIn(t, "acme", vendor.Password)
	if _, _, exists := h.throttleRow(t, key); exists {
		t.Error("a successful sign-in kept the login's failures")
	}
}

func TestSignInLimitsFailuresPerClientAddress(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := testenv.SignIn(t, h.pool, h.sealer, "vendor", "acme")
	const addr = "addr:127.0.0.1"
	limit := 4 * lockAfter

	// Someone tries many logins from one address, each only once: no login gets near its
	// limit, but the address does. (Waits between the attempts are made to run out.)
	for i := range limit {
		h.elapse(t, addr)
		h.do(t, "POST", "/api/v1/sessions", credentials(fmt.Sprintf("guess%02d", i), "wrong-password")).
			wantProblem(t, http.StatusUnauthorized, "invalid-credentials")
	}
	if n, _, _ := h.throttleRow(t, h.loginKey("guess00")); n != 1 {
		t.Errorf("guess00 has %d failures, want 1", n)
	}
	if n, wait, _ := h.throttleRow(t, addr); n != limit || wait < lockFor.Seconds()-60 {
		t.Fatalf("%s: %d failures, %.0fs wait; want %d and locked for %v", addr, n, wait, limit, lockFor)
	}

	// Now nobody may sign in from that address, whatever the login, password or headers.
	for _, tc := range []struct {
		name string
		opts []option
	}{
		{"plain", nil},
		{"spoofed X-Forwarded-For", []option{withHeader("X-Forwarded-For", "198.51.100.1")}},
		{"spoofed X-Real-Ip", []option{withHeader("X-Real-Ip", "198.51.100.1")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(t, "POST", "/api/v1/sessions", credentials("acme", vendor.Password), tc.opts...)
			r.wantProblem(t, http.StatusTooManyRequests, "sign-in-locked")
			if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < int(lockFor.Seconds())-60 {
				t.Errorf("Retry-After %q, want about %v", r.header.Get("Retry-After"), lockFor)
			}
		})
	}
	// Another address is not affected.
	h.signIn(t, "acme", vendor.Password, via(h.clientFrom(t, "127.0.0.2")))
	// Once the lock runs out, the address may sign in again.
	h.elapse(t, addr)
	h.signIn(t, "acme", vendor.Password)
}

func TestSuccessfulSignInsDoNotCountAgainstTheAddress(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := testenv.SignIn(t, h.pool, h.sealer, "vendor", "acme")
	for range 2 {
		h.do(t, "POST", "/api/v1/sessions", credentials("nobody", "wrong-password")).wantProblem(t, http.StatusUnauthorized, "invalid-credentials")
	}
	// A busy office behind one address signs in more often than the address may fail.
	for range 4*lockAfter + 1 {
		h.signIn(t, "acme", vendor.Password)
	}
	if n, wait, _ := h.throttleRow(t, "addr:127.0.0.1"); n != 2 || wait != 0 {
		t.Errorf("addr:127.0.0.1: %d failures, %.1fs wait; want the 2 real failures and no wait", n, wait)
	}
	// So does a right password for a disabled account: it is no failure.
	h.exec(t, `UPDATE accounts SET status = 'disabled' WHERE id = $1`, vendor.ID)
	h.do(t, "POST", "/api/v1/sessions", credentials("acme", vendor.Password)).wantProblem(t, http.StatusForbidden, "account-disabled")
	if n, _, _ := h.throttleRow(t, h.loginKey("acme")); n != 0 {
		t.Errorf("acme: %d failures after a right password for a disabled account, want 0", n)
	}
	if n, _, _ := h.throttleRow(t, "addr:127.0.0.1"); n != 2 {
		t.Errorf("addr:127.0.0.1: %d failures, want 2", n)
	}
}

func TestSignOutEndsOnlyTheCurrentSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := testenv.SignIn(t, h.pool, h.sealer, "vendor", "acme")
	s := h.signIn(t, "acme", vendor.Password)

	r := h.do(t, "DELETE", "/api/v1/sessions/current", nil, bearer(s.Token)).want(t, http.StatusNoContent)
	cleared := map[string]bool{}
	for _, c := range r.cookie {
		if c.MaxAge < 0 && c.Value == "" {
			cleared[c.Name] = true
		}
	}
	if !cleared[auth.SessionCookie] || !cleared[auth.CSRFCookie] {
		t.Errorf("sign-out Set-Cookie %v: want both cookies removed", r.header.Values("Set-Cookie"))
	}
	if n := scalar[int](t, h, `SELECT count(*) FROM sessions WHERE token_hash = $1 AND revoked_at IS NOT NULL`, auth.HashToken(s.Token)); n != 1 {
		t.Error("the session is not marked revoked")
	}
	h.me(t, bearer(s.Token)).wantProblem(t, http.StatusUnauthorized, "unauthenticated")
	h.do(t, "DELETE", "/api/v1/sessions/current", nil, bearer(s.Token)).wantProblem(t, http.StatusUnauthorized, "unauthenticated")

	// The account's other session goes on.
	h.me(t, bearer(vendor.Token)).want(t, http.StatusOK)
}

func TestSignInLockHoldsAgainstBurstsOfParallelGuesses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		burst int
		login func(i int) string
		key   func(*harness) string
		limit int
	}{
		{"one login", 24, func(int) string { return "acme" }, func(h *harness) string { return h.loginKey("acme") }, lockAfter},
		{"many logins from one address", 4*lockAfter + 12, func(i int) string { return fmt.Sprintf("guess%02d", i) },
			func(*harness) string { return "addr:127.0.0.1" }, 4 * lockAfter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			testenv.SignIn(t, h.pool, h.sealer, "vendor", "acme")

			// Guesses sent at once must not all be checked before the first failure
			// counts: sequentially, a few failures already make the next attempt wait.
			type answer struct {
				status int
				err    error
			}
			answers := make(chan answer, tc.burst)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range tc.burst {
				wg.Go(func() {
					<-start
					r, err := h.try("POST", "/api/v1/sessions", credentials(tc.login(i), fmt.Sprintf("guess-%02d-password", i)))
					answers <- answer{r.status, err}
				})
			}
			close(start)
			wg.Wait()
			close(answers)
			counts := map[int]int{}
			for a := range answers {
				if a.err != nil {
					t.Fatal(a.err)
				}
				counts[a.status]++
			}
			if counts[http.StatusUnauthorized]+counts[http.StatusTooManyRequests] != tc.burst {
				t.Fatalf("answers %v: want only 401 and 429", counts)
			}
			// Time passes during the burst, so allow for the short waits having run out,
			// but never more guesses than the lock allows.
			if checked := counts[http.StatusUnauthorized]; checked > tc.limit {
				t.Errorf("%d of %d parallel guesses had their password checked; the lock allows %d", checked, tc.burst, tc.limit)
			}
			if n, _, _ := h.throttleRow(t, tc.key(h)); n != counts[http.StatusUnauthorized] {
				t.Errorf("%s: %d failures counted for %d wrong passwords checked", tc.name, n, counts[http.StatusUnauthorized])
			}
		})
	}
}

// A browser asking for a cookie session gets the session only in the HttpOnly cookie: the
// page's scripts never see the token.
func TestCookieSignInKeepsTheTokenOutOfTheBody(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := testenv.SignIn(t, h.pool, h.sealer, "admin", "cookie-admin")
	req, _ := http.NewRequest("POST", h.srv.URL+"/api/v1/sessions", strings.NewReader(`{"login":"cookie-admin","password":"`+admin.Password+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Session-Transport", "cookie")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 201 || body["token"] != nil || body["csrf_token"] == "" {
		t.Fatalf("cookie sign-in answered %d %v", resp.StatusCode, body)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "jlb_session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || !strings.HasPrefix(cookie.Value, "jlbs_") {
		t.Fatalf("the session must be in the HttpOnly cookie: %+v", cookie)
	}
}
