package main

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/services"
	"github.com/jinlaiban/openplatform/shared/sms"
	"github.com/jinlaiban/openplatform/shared/sso"
)

func TestALoginCodeIsOnlyForACitizenOfTheDirectory(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.newCitizen(t, "13900000001", "")

	h.do(t, "POST", "/api/v1/citizen/login-code", map[string]string{"mobile": "13900000009"}).
		wantProblem(t, http.StatusNotFound, "not-found")
	msgs, err := sms.DevInbox(context.Background(), h.pool, h.sealer, "13900000009", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 0 {
		t.Errorf("a code was texted to a number outside the directory: %+v", msgs)
	}
	h.do(t, "POST", "/api/v1/citizen/login-code", map[string]string{"mobile": "139"}).
		wantProblem(t, http.StatusUnprocessableEntity, "validation-failed")
}

func TestASecondCodeWithinAMinuteIsRefusedAndTheFirstStillWorks(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.newCitizen(t, "13900000001", "")
	first := h.loginCode(t, c.Mobile)

	r := h.do(t, "POST", "/api/v1/citizen/login-code", map[string]string{"mobile": c.Mobile})
	r.wantProblem(t, http.StatusTooManyRequests, "rate-limited")
	if got := r.header.Get("Retry-After"); got != "60" {
		t.Errorf("Retry-After %q, want 60 (seconds)", got)
	}
	if msgs, _ := sms.DevInbox(context.Background(), h.pool, h.sealer, c.Mobile, 10); len(msgs) != 1 {
		t.Errorf("%d messages texted, want 1", len(msgs))
	}
	wantJSON[session](t, h.do(t, "POST", "/api/v1/citizen/sessions", map[string]string{"mobile": c.Mobile, "code": first}),
		http.StatusCreated)

	// A minute on, a new code may be sent.
	h.exec(t, `UPDATE citizen_login_codes SET created_at = now() - interval '61 seconds'`)
	h.loginCode(t, c.Mobile)
}

func TestAWrongCodeIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.newCitizen(t, "13900000001", "")
	other := h.newCitizen(t, "13900000002", "")
	code := h.loginCode(t, c.Mobile)
	otherCode := h.loginCode(t, other.Mobile)

	cases := []struct{ name, mobile, code string }{
		{"a wrong code", c.Mobile, wrongCode(code)},
		{"another citizen's code", c.Mobile, otherCode},
		{"a code for a number that asked for none", "13900000003", code},
	}
	for _, tc := range cases {
		if tc.code == code && tc.mobile == c.Mobile {
			continue // another citizen's code happened to be the same
		}
		h.do(t, "POST", "/api/v1/citizen/sessions", map[string]string{"mobile": tc.mobile, "code": tc.code}).
			wantProblem(t, http.StatusUnauthorized, "invalid-code")
	}
}

func TestFiveWrongCodesBurnTheCode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		wrongTries int
		want       int
	}{
		{4, http.StatusCreated},
		{5, http.StatusUnauthorized},
	}
	for _, tc := range cases {
		t.Run(http.StatusText(tc.want), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			c := h.newCitizen(t, "13900000001", "")
			code := h.loginCode(t, c.Mobile)
			for range tc.wrongTries {
				h.do(t, "POST", "/api/v1/citizen/sessions", map[string]string{"mobile": c.Mobile, "code": wrongCode(code)}).
					wantProblem(t, http.StatusUnauthorized, "invalid-code")
			}
			r := h.do(t, "POST", "/api/v1/citizen/sessions", map[string]string{"mobile": c.Mobile, "code": code})
			if tc.want == http.StatusCreated {
				wantJSON[session](t, r, http.StatusCreated)
			} else {
				r.wantProblem(t, http.StatusUnauthorized, "invalid-code")
			}
		})
	}
}

func TestTheRightCodeStartsASessionOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.newCitizen(t, "13900000001", "")
	code := h.loginCode(t, c.Mobile)

	r := h.do(t, "POST", "/api/v1/citizen/sessions", map[string]string{"mobile": c.Mobile, "code": code})
	s := wantJSON[session](t, r, http.StatusCreated)
	if !strings.HasPrefix(s.Token, "jlbc_") || s.CitizenID != c.ID {
		t.Errorf("session %+v, want a jlbc_ token for citizen %s", s, c.ID)
	}
	if d := time.Until(s.ExpiresAt); d < 11*time.Hour || d > 12*time.Hour {
		t.Errorf("session expires in %v, want the configured 12h", d)
	}
	if len(r.cookie) != 1 {
		t.Fatalf("cookies %v, want the session cookie", r.cookie)
	}
	ck := r.cookie[0]
	if ck.Name != "jlb_citizen" || ck.Value != s.Token || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
		t.Errorf("cookie %s, want jlb_citizen=<token>; Path=/; HttpOnly; Secure; SameSite=Lax", ck)
	}
	// The session is good for the citizen's calls, by cookie or bearer.
	h.do(t, "GET", "/api/v1/citizen/services", nil, withCookie(s.Token)).want(t, http.StatusOK)
	h.do(t, "GET", "/api/v1/citizen/services", nil, bearer(s.Token)).want(t, http.StatusOK)

	// A code is good once.
	h.do(t, "POST", "/api/v1/citizen/sessions", map[string]string{"mobile": c.Mobile, "code": code}).
		wantProblem(t, http.StatusUnauthorized, "invalid-code")
}

func TestOpeningAServiceSendsTheSignedInCitizenToItWithATicket(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.approvedApp(t, "公积金系统")
	testing_ := h.service(t, a, "公积金提取", services.Testing)
	live := h.service(t, a, "公积金查询", services.Live)
	c := h.newCitizen(t, "13900000001", "")
	h.whitelist(t, a, c)
	s := h.signIn(t, c)

	cases := []struct {
		svc     services.Service
		env     string
		address string
	}{
		{testing_, "test", testAddress},
		{live, "production", productionAddress},
	}
	for _, tc := range cases {
		t.Run(tc.env, func(t *testing.T) {
			t.Parallel()
			r := h.do(t, "GET", "/api/v1/sso/open?module_code="+tc.svc.ModuleCode, nil, withCookie(s.Token)).want(t, http.StatusFound)
			if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("Cache-Control %q, Referrer-Policy %q: a redirect with a ticket must be no-store, no-referrer",
					r.header.Get("Cache-Control"), r.header.Get("Referrer-Policy"))
			}
			loc, err := url.Parse(r.header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			want, _ := url.Parse(tc.address)
			if loc.Host != want.Host || loc.Path != want.Path {
				t.Fatalf("redirected to %s, want %s", loc, tc.address)
			}
			tk := loc.Query().Get("ticket")
			if tk == "" || loc.Query().Get("module_callback_code") != tc.svc.ModuleCallbackCode {
				t.Fatalf("redirected to %s: want the ticket and module_callback_code", loc)
			}
			// The ticket is real: the application's backend can exchange it, in its environment.
			tok, err := sso.Exchange(context.Background(), h.pool, h.sealer, a.ID, tc.env, tk, time.Minute)
			if err != nil || tok.Environment != tc.env {
				t.Errorf("exchanging the ticket of the redirect: %+v, %v", tok, err)
			}
		})
	}

	t.Run("without a session", func(t *testing.T) {
		t.Parallel()
		h.do(t, "GET", "/api/v1/sso/open?module_code="+live.ModuleCode, nil).wantProblem(t, http.StatusUnauthorized, "unauthenticated")
		h.do(t, "GET", "/api/v1/sso/open?module_code="+live.ModuleCode, nil, withCookie("jlbc_forged")).
			wantProblem(t, http.StatusUnauthorized, "unauthenticated")
	})
	t.Run("a service the citizen may not open yet", func(t *testing.T) {
		t.Parallel()
		other := h.approvedApp(t, "社保系统")
		notYet := h.service(t, other, "社保查询", services.Testing)
		h.do(t, "GET", "/api/v1/sso/open?module_code="+notYet.ModuleCode, nil, withCookie(s.Token)).
			wantProblem(t, http.StatusForbidden, "not-a-test-citizen")
	})
}

func TestTheCatalogListsLiveServicesAndTheCitizensServicesInTesting(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	mine := h.approvedApp(t, "公积金系统")
	others := h.approvedApp(t, "社保系统")
	c := h.newCitizen(t, "13900000001", "")
	h.whitelist(t, mine, c)

	live := h.service(t, others, "社保查询", services.Live)
	offline := h.service(t, others, "社保缴费", services.Offline)
	othersInTesting := h.service(t, others, "社保转移", services.Testing)
	myTesting := h.service(t, mine, "公积金提取", services.Testing)
	myListed := h.service(t, mine, "公积金贷款", services.Approved)
	s := h.signIn(t, c)

	type entry struct {
		ModuleCode  string `json:"module_code"`
		Environment string `json:"environment"`
	}
	got := wantJSON[struct {
		Items []entry `json:"items"`
	}](t, h.do(t, "GET", "/api/v1/citizen/services", nil, withCookie(s.Token)), http.StatusOK).Items
	want := []entry{{live.ModuleCode, "production"}, {myListed.ModuleCode, "test"}, {myTesting.ModuleCode, "test"}}
	slices.SortFunc(got, func(a, b entry) int { return strings.Compare(a.ModuleCode, b.ModuleCode) })
	slices.SortFunc(want, func(a, b entry) int { return strings.Compare(a.ModuleCode, b.ModuleCode) })
	if !slices.Equal(got, want) {
		t.Errorf("catalog %+v, want %+v (not %s offline, not %s of an application that did not whitelist the citizen)",
			got, want, offline.ModuleCode, othersInTesting.ModuleCode)
	}

	// Another citizen sees only the live service.
	stranger := h.newCitizen(t, "13900000002", "")
	got = wantJSON[struct {
		Items []entry `json:"items"`
	}](t, h.do(t, "GET", "/api/v1/citizen/services", nil, bearer(h.signIn(t, stranger).Token)), http.StatusOK).Items
	if !slices.Equal(got, []entry{{live.ModuleCode, "production"}}) {
		t.Errorf("a citizen nobody whitelisted sees %+v, want only %s", got, live.ModuleCode)
	}
	h.do(t, "GET", "/api/v1/citizen/services", nil).wantProblem(t, http.StatusUnauthorized, "unauthenticated")
}

func TestWithCitizenSignInOffTheSimulatorsRoutesDoNotExist(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, false)
	a := h.approvedApp(t, "公积金系统")
	live := h.service(t, a, "公积金查询", services.Live)
	c := h.newCitizen(t, "13900000001", "")
	// Even a session made some other way opens nothing.
	token := h.newCitizenSession(t, c)

	cases := []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/citizen/login-code", map[string]string{"mobile": c.Mobile}},
		{"POST", "/api/v1/citizen/sessions", map[string]string{"mobile": c.Mobile, "code": "123456"}},
		{"GET", "/api/v1/sso/open?module_code=" + live.ModuleCode, nil},
		{"GET", "/api/v1/citizen/services", nil},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			h.do(t, tc.method, tc.path, tc.body, bearer(token)).wantProblem(t, http.StatusNotFound, "not-found")
		})
	}
	var texted int
	if err := h.pool.QueryRow(context.Background(), `SELECT count(*) FROM dev_sms`).Scan(&texted); err != nil {
		t.Fatal(err)
	}
	if texted != 0 {
		t.Errorf("%d messages texted with sign-in off", texted)
	}
	// The super-app's own call is unaffected.
	h.issue(t, c, live)
}
