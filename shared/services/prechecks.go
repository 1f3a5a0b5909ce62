package services

import (
	"context"
	"fmt"

	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/valid"
)

// Check is one machine pre-check shown to a reviewer beside a request, so people review only
// what machines cannot.
type Check struct {
	Code   string `json:"code"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// PreChecks runs every check on a service. allowLocalHTTP mirrors the address rule in force.
func PreChecks(ctx context.Context, q db.Querier, s Service, allowLocalHTTP bool) ([]Check, error) {
	var clashes int
	if err := q.QueryRow(ctx, `SELECT count(*) FROM services WHERE application_id = $1 AND module_callback_code = $2 AND id <> $3`,
		s.Application.ID, s.ModuleCallbackCode, s.ID).Scan(&clashes); err != nil {
		return nil, err
	}
	// The page title the JS-SDK reported when a tester opened the service in the simulator.
	var title string
	var seen bool
	if err := q.QueryRow(ctx, `SELECT coalesce(max(title), ''), count(*) > 0 FROM page_titles WHERE service_id = $1`, s.ID).Scan(&title, &seen); err != nil {
		return nil, err
	}
	titleDetail := "the page title reported by the JS-SDK in the simulator equals the service name (not observed yet: open the service in the simulator)"
	if seen {
		titleDetail = fmt.Sprintf("the page title reported by the JS-SDK in the simulator (%q) equals the service name (%q)", title, s.Name)
	}
	f, sec := s.Reports.Functional, s.Reports.Security
	checks := []Check{
		check("application-approved", s.Application.Status == "approved", "the owning application is "+s.Application.Status),
		check("reports-attached", f.Attached && sec.Attached, "both the functional and the security test report are attached"),
		check("reports-complete", f.Complete() && sec.Complete(), "both reports are non-empty (empty ones are placeholders to be completed before going live)"),
		check("test-url-https", valid.URL(s.TestURL, false) == "", "the test address uses https"),
		check("production-url-set", s.ProductionURL != "", "a production address is set"),
		check("production-url-https", s.ProductionURL != "" && valid.URL(s.ProductionURL, allowLocalHTTP) == "", "the production address uses https"),
		check("production-differs-from-test", s.ProductionURL != "" && s.ProductionURL != s.TestURL, "the production address differs from the test address"),
		check("callback-code-unique", clashes == 0, "no other service of the application uses module_callback_code "+s.ModuleCallbackCode),
		check("logo-attached", s.Logo.Attached, "a logo is attached"),
		check("page-title-matches", seen && title == s.Name, titleDetail),
	}
	return checks, nil
}

func check(code string, ok bool, detail string) Check {
	return Check{Code: code, OK: ok, Detail: detail}
}

// LiveReady reports why a service cannot go live, or "" when it can.
func LiveReady(s Service, allowLocalHTTP bool) string {
	switch {
	case !s.Reports.Functional.Complete() || !s.Reports.Security.Complete():
		return "Both test reports must be attached and non-empty before going live."
	case s.ProductionURL == "":
		return "Set the production address before going live."
	case valid.URL(s.ProductionURL, allowLocalHTTP) != "":
		return "The production address must use https."
	case s.Application.Status != "approved":
		return "The owning application is no longer approved."
	}
	return ""
}
