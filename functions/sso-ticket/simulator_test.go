package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/services"
	"github.com/jinlaiban/openplatform/shared/sso"
)

// pageTitleCheck runs the machine pre-checks on the service and returns page-title-matches.
func pageTitleCheck(t *testing.T, h *harness, id string) services.Check {
	t.Helper()
	s, err := services.Get(context.Background(), h.pool, id)
	if err != nil {
		t.Fatal(err)
	}
	checks, err := services.PreChecks(context.Background(), h.pool, s, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if c.Code == "page-title-matches" {
			return c
		}
	}
	t.Fatalf("no page-title-matches among %+v", checks)
	return services.Check{}
}

type titleCheck struct {
	ModuleCode  string `json:"module_code"`
	ServiceName string `json:"service_name"`
	Title       string `json:"title"`
	Matches     bool   `json:"matches"`
}

// The title a service's page reports through the JS-SDK in the simulator is kept, latest
// first, and the reviewers' pre-check compares it with the service's name.
func TestThePageTitleTheSimulatorSawIsAPreCheck(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.approvedApp(t, "公积金系统")
	svc := h.service(t, a, "公积金提取", services.Applied)
	tester := h.newCitizen(t, "13900000001", "")
	h.whitelist(t, a, tester)
	s := h.signIn(t, tester)

	if c := pageTitleCheck(t, h, svc.ID); c.OK || !strings.Contains(c.Detail, "not observed yet") {
		t.Fatalf("before any observation: %+v", c)
	}
	report := func(title string, opts ...option) reply {
		return h.do(t, "POST", "/api/v1/citizen/title-check", map[string]string{"module_code": svc.ModuleCode, "title": title}, opts...)
	}
	r := wantJSON[titleCheck](t, report("示例服务", withCookie(s.Token)), http.StatusOK)
	if r.Matches || r.ServiceName != "公积金提取" || r.Title != "示例服务" {
		t.Fatalf("a different title: %+v", r)
	}
	if c := pageTitleCheck(t, h, svc.ID); c.OK || !strings.Contains(c.Detail, `"示例服务"`) {
		t.Fatalf("after a different title: %+v", c)
	}
	if r = wantJSON[titleCheck](t, report("公积金提取", bearer(s.Token)), http.StatusOK); !r.Matches {
		t.Fatalf("the right title: %+v", r)
	}
	if c := pageTitleCheck(t, h, svc.ID); !c.OK {
		t.Fatalf("after the right title: %+v", c)
	}

	t.Run("only a citizen who may open the service reports", func(t *testing.T) {
		stranger := h.signIn(t, h.newCitizen(t, "13900000002", ""))
		report("公积金提取", bearer(stranger.Token)).wantProblem(t, http.StatusForbidden, "not-a-test-citizen")
		report("公积金提取").wantProblem(t, http.StatusUnauthorized, "unauthenticated")
	})
	t.Run("bad reports", func(t *testing.T) {
		report(strings.Repeat("长", 201), bearer(s.Token)).wantProblem(t, http.StatusUnprocessableEntity, "validation-failed")
		report("two\nlines", bearer(s.Token)).wantProblem(t, http.StatusUnprocessableEntity, "validation-failed")
		h.do(t, "POST", "/api/v1/citizen/title-check", map[string]string{"module_code": "MCNOSUCHCODE", "title": "x"}, bearer(s.Token)).
			wantProblem(t, http.StatusNotFound, "not-found")
	})
	if c := pageTitleCheck(t, h, svc.ID); !c.OK {
		t.Fatalf("refused reports changed the observation: %+v", c)
	}
}

// getTicket in the simulator: a fresh ticket for a service the citizen may open, as the
// super-app would hand one to the page.
func TestTheShellHandsThePageAFreshTicket(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.approvedApp(t, "公积金系统")
	svc := h.service(t, a, "公积金提取", services.Testing)
	tester := h.newCitizen(t, "13900000001", "")
	h.whitelist(t, a, tester)
	s := h.signIn(t, tester)

	r := h.do(t, "POST", "/api/v1/citizen/tickets", map[string]string{"module_code": svc.ModuleCode}, withCookie(s.Token))
	tk := wantJSON[ticket](t, r, http.StatusCreated)
	if r.header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(tk.Ticket, "test_tk_") || tk.Environment != "test" {
		t.Fatalf("ticket %+v, Cache-Control %q", tk, r.header.Get("Cache-Control"))
	}
	if _, err := sso.Exchange(context.Background(), h.pool, h.sealer, a.ID, "test", tk.Ticket, time.Minute); err != nil {
		t.Fatalf("the shell's ticket does not exchange: %v", err)
	}
	stranger := h.signIn(t, h.newCitizen(t, "13900000002", ""))
	h.do(t, "POST", "/api/v1/citizen/tickets", map[string]string{"module_code": svc.ModuleCode}, bearer(stranger.Token)).
		wantProblem(t, http.StatusForbidden, "not-a-test-citizen")
	h.do(t, "POST", "/api/v1/citizen/tickets", map[string]string{"module_code": ""}, bearer(s.Token)).
		wantProblem(t, http.StatusUnprocessableEntity, "validation-failed")
}

func TestWithCitizenSignInOffTheShellsRoutesDoNotExist(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, false)
	a := h.approvedApp(t, "公积金系统")
	live := h.service(t, a, "公积金查询", services.Live)
	token := h.newCitizenSession(t, h.newCitizen(t, "13900000001", ""))
	for _, path := range []string{"/api/v1/citizen/title-check", "/api/v1/citizen/tickets"} {
		h.do(t, "POST", path, map[string]string{"module_code": live.ModuleCode, "title": "公积金查询"}, bearer(token)).
			wantProblem(t, http.StatusNotFound, "not-found")
	}
}
