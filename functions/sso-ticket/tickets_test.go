package main

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/services"
)

func TestTicketsAreOnlyForTheSuperAppsBackend(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.approvedApp(t, "公积金系统")
	s := h.service(t, a, "公积金提取", services.Live)
	c := h.newCitizen(t, "13900000001", "")

	cases := []struct {
		name string
		auth []option
	}{
		{"no credential", nil},
		{"a wrong credential", []option{bearer("superapp-backend-credential-0123456789abcdeX")}},
		{"the credential cut short", []option{bearer(superAppToken[:len(superAppToken)-1])}},
		{"the credential with more after it", []option{bearer(superAppToken + "x")}},
		{"an empty bearer", []option{withHeader("Authorization", "Bearer ")}},
		{"the credential without the Bearer scheme", []option{withHeader("Authorization", superAppToken)}},
		{"the credential under another scheme", []option{withHeader("Authorization", "Basic "+superAppToken)}},
		{"a citizen's session", []option{bearer(h.newCitizenSession(t, c))}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(t, "POST", "/api/v1/sso/tickets", map[string]string{"citizen_id": c.ID, "module_code": s.ModuleCode}, tc.auth...)
			r.wantProblem(t, http.StatusUnauthorized, "unauthenticated")
		})
	}
	var issued int
	if err := h.pool.QueryRow(context.Background(), `SELECT count(*) FROM sso_tickets`).Scan(&issued); err != nil {
		t.Fatal(err)
	}
	if issued != 0 {
		t.Errorf("%d tickets were issued to callers without the credential", issued)
	}
	// The same call with the credential is answered.
	h.issue(t, c, s)
}

func TestBeforeGoingLiveOnlyTheApplicationsTestCitizensGetATicket(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.approvedApp(t, "公积金系统")
	other := h.approvedApp(t, "社保系统")
	tester := h.newCitizen(t, "13900000001", "")
	testerOfOther := h.newCitizen(t, "13900000002", "")
	anyone := h.newCitizen(t, "13900000003", "")
	h.whitelist(t, a, tester)
	h.whitelist(t, other, testerOfOther)

	for _, status := range []string{services.Testing, services.Applied, services.Approved, services.LiveRequested} {
		t.Run(status, func(t *testing.T) {
			t.Parallel()
			s := h.service(t, a, "公积金提取 "+status, status)

			tk := h.issue(t, tester, s)
			if !strings.HasPrefix(tk.Ticket, "test_tk_") || tk.Environment != "test" {
				t.Errorf("ticket %q in %q, want a test ticket (test_tk_…)", tk.Ticket, tk.Environment)
			}
			for who, c := range map[string]citizen{"a citizen nobody whitelisted": anyone,
				"a test citizen of another application": testerOfOther} {
				t.Run(who, func(t *testing.T) {
					t.Parallel()
					h.askTicket(t, c.ID, s.ModuleCode).wantProblem(t, http.StatusForbidden, "not-a-test-citizen")
				})
			}
		})
	}
}

func TestALiveServiceAdmitsEveryCitizenWithAProductionTicket(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.approvedApp(t, "公积金系统")
	s := h.service(t, a, "公积金提取", services.Live)
	tester := h.newCitizen(t, "13900000001", "")
	h.whitelist(t, a, tester)
	anyone := h.newCitizen(t, "13900000002", "")

	for name, c := range map[string]citizen{"a test citizen": tester, "a citizen nobody whitelisted": anyone} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tk := h.issue(t, c, s)
			if strings.HasPrefix(tk.Ticket, "test_") || !strings.HasPrefix(tk.Ticket, "tk_") || tk.Environment != "production" {
				t.Errorf("ticket %q in %q, want a production ticket (tk_…, no test_ prefix)", tk.Ticket, tk.Environment)
			}
		})
	}
}

func TestAnOfflineServiceGivesNoTicket(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.approvedApp(t, "公积金系统")
	s := h.service(t, a, "公积金提取", services.Offline)
	tester := h.newCitizen(t, "13900000001", "")
	h.whitelist(t, a, tester)
	anyone := h.newCitizen(t, "13900000002", "")

	for _, c := range []citizen{tester, anyone} {
		h.askTicket(t, c.ID, s.ModuleCode).wantProblem(t, http.StatusForbidden, "service-unavailable")
	}
}

func TestTicketRequestsForNoSuchServiceOrCitizen(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.approvedApp(t, "公积金系统")
	live := h.service(t, a, "公积金提取", services.Live)
	c := h.newCitizen(t, "13900000001", "")

	t.Run("unknown module_code", func(t *testing.T) {
		t.Parallel()
		h.askTicket(t, c.ID, "MCNOSUCHCODE").wantProblem(t, http.StatusNotFound, "not-found")
	})
	t.Run("citizen not in the directory", func(t *testing.T) {
		t.Parallel()
		h.askTicket(t, "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b", live.ModuleCode).wantProblem(t, http.StatusNotFound, "not-found")
	})
	t.Run("citizen_id not an id", func(t *testing.T) {
		t.Parallel()
		h.askTicket(t, "not-a-uuid-but-thirty-six-characters", live.ModuleCode).wantProblem(t, http.StatusUnprocessableEntity, "validation-failed")
	})
	t.Run("no module_code", func(t *testing.T) {
		t.Parallel()
		h.askTicket(t, c.ID, "").wantProblem(t, http.StatusUnprocessableEntity, "validation-failed")
	})
}

func TestTheRedirectGoesToTheEnvironmentsAddressWithTheTicket(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.approvedApp(t, "公积金系统")
	c := h.newCitizen(t, "13900000001", "")
	h.whitelist(t, a, c)

	cases := []struct {
		status, address string
	}{
		{services.Testing, testAddress},
		{services.LiveRequested, testAddress},
		{services.Live, productionAddress},
	}
	for _, tc := range cases {
		t.Run(tc.status, func(t *testing.T) {
			t.Parallel()
			s := h.service(t, a, "公积金提取 "+tc.status, tc.status)
			tk := h.issue(t, c, s)

			got, err := url.Parse(tk.RedirectURL)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := url.Parse(tc.address)
			if got.Scheme != want.Scheme || got.Host != want.Host || got.Path != want.Path || got.Fragment != "" {
				t.Fatalf("redirect %s, want the address %s", tk.RedirectURL, tc.address)
			}
			q := got.Query()
			if q.Get("ticket") != tk.Ticket || len(q["ticket"]) != 1 {
				t.Errorf("redirect %s: ticket %v, want %q", tk.RedirectURL, q["ticket"], tk.Ticket)
			}
			if q.Get("module_callback_code") != s.ModuleCallbackCode || s.ModuleCallbackCode == "" {
				t.Errorf("redirect %s: module_callback_code %v, want %q", tk.RedirectURL, q["module_callback_code"], s.ModuleCallbackCode)
			}
			for k, vs := range want.Query() {
				if !slices.Equal(q[k], vs) {
					t.Errorf("redirect %s lost the address's own %s=%v", tk.RedirectURL, k, vs)
				}
			}
			if len(q) != len(want.Query())+2 {
				t.Errorf("redirect %s has parameters beyond the address's and ticket, module_callback_code", tk.RedirectURL)
			}
		})
	}
}

func TestATicketIsBoundToCitizenServiceAndEnvironmentAndLivesMinutes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.approvedApp(t, "公积金系统")
	c := h.newCitizen(t, "13900000001", "")
	h.whitelist(t, a, c)

	for _, status := range []string{services.Testing, services.Live} {
		t.Run(status, func(t *testing.T) {
			t.Parallel()
			s := h.service(t, a, "公积金提取 "+status, status)
			before := time.Now()
			tk := h.issue(t, c, s)

			var citizenID, serviceID, appID, env string
			var expires time.Time
			err := h.pool.QueryRow(context.Background(), `SELECT citizen_id, service_id, application_id, environment, expires_at
				FROM sso_tickets WHERE ticket_hash = $1 AND used_at IS NULL`, auth.HashToken(tk.Ticket)).
				Scan(&citizenID, &serviceID, &appID, &env, &expires)
			if err != nil {
				t.Fatalf("the ticket is not stored by its hash: %v", err)
			}
			if citizenID != c.ID || serviceID != s.ID || appID != a.ID || env != tk.Environment {
				t.Errorf("stored ticket is for citizen %s, service %s, application %s in %s; want %s, %s, %s in %s",
					citizenID, serviceID, appID, env, c.ID, s.ID, a.ID, tk.Environment)
			}
			lo, hi := before.Add(ticketTTL-2*time.Second), time.Now().Add(ticketTTL+time.Second)
			if expires.Before(lo) || expires.After(hi) || !tk.ExpiresAt.Equal(expires) {
				t.Errorf("ticket expires at %v (answered %v), want about %v from now", expires, tk.ExpiresAt, ticketTTL)
			}
		})
	}
}
