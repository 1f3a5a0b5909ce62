package services

import (
	"context"

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
