package main

import (
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/accounts"
	"github.com/jinlaiban/openplatform/shared/audit"
	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/valid"
)

type createVendorRequest struct {
	CompanyName     string `json:"company_name"`
	ContactName     string `json:"contact_name"`
	ContactMobile   string `json:"contact_mobile"`
	Login           string `json:"login"`
	InitialPassword string `json:"initial_password"`
}

func (r *createVendorRequest) Valid() map[string]string {
	m := valid.Collect(
		"company_name", valid.Line(r.CompanyName, 2, 100),
		"contact_name", valid.Line(r.ContactName, 1, 50),
		"contact_mobile", valid.Mobile(r.ContactMobile),
		"login", valid.Login(r.Login),
	)
	if r.InitialPassword != "" {
		if reason := auth.PasswordProblem(r.InitialPassword, r.Login); reason != "" {
			m["initial_password"] = reason
		}
	}
	return m
}

type createdVendor struct {
	accounts.Account
	InitialPassword string `json:"initial_password"`
}

// createVendor issues a vendor account. The initial password (given, or generated when
// omitted) is shown once and must be changed at first sign-in.
func (s *server) createVendor(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	req, err := fn.Decode[createVendorRequest](r)
	if err != nil {
		return err
	}
	password := req.InitialPassword
	if password == "" {
		password = auth.NewPassword()
	}
	ctx := r.Context()
	var out createdVendor
	err = db.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		a, err := accounts.Create(ctx, tx, s.sealer, accounts.New{Role: auth.RoleVendor, Login: req.Login, Password: password,
			CompanyName: req.CompanyName, ContactName: req.ContactName, ContactMobile: req.ContactMobile, CreatedBy: p.AccountID})
		if err != nil {
			return err
		}
		out = createdVendor{Account: a, InitialPassword: password}
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.AccountID, ActorRole: p.Role, Action: "vendor.create",
			SubjectType: "account", SubjectID: a.ID, Detail: map[string]any{"login": a.Login, "company_name": a.CompanyName}})
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/admin/vendors/"+out.ID)
	return fn.JSON(w, http.StatusCreated, out)
}

func (s *server) listVendors(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	page, size, err := fn.Paging(r)
	if err != nil {
		return err
	}
	list, err := accounts.List(r.Context(), s.pool, s.sealer, auth.RoleVendor, page, size)
	if err != nil {
		return err
	}
	for i := range list.Items {
		list.Items[i].ContactMobile = valid.MaskMobile(list.Items[i].ContactMobile)
	}
	return fn.JSON(w, http.StatusOK, list)
}

func (s *server) vendor(r *http.Request) (accounts.Account, error) {
	id, err := fn.UUIDParam(r, "id", "Vendor account")
	if err != nil {
		return accounts.Account{}, err
	}
	a, err := accounts.Get(r.Context(), s.pool, s.sealer, id)
	if err == nil && a.Role != auth.RoleVendor {
		return a, fn.NotFound("Vendor account")
	}
	return a, err
}

func (s *server) getVendor(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	a, err := s.vendor(r)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, a)
}

type disableRequest struct {
	Reason string `json:"reason"`
}

func (r *disableRequest) Valid() map[string]string {
	return valid.Collect("reason", valid.Text(r.Reason, 2, 500))
}

// disableVendor blocks an account and ends its sessions at once.
func (s *server) disableVendor(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	req, err := fn.Decode[disableRequest](r)
	if err != nil {
		return err
	}
	return s.setStatus(w, r, p, accounts.Disabled, req.Reason)
}

func (s *server) enableVendor(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	return s.setStatus(w, r, p, accounts.Active, "")
}

func (s *server) setStatus(w http.ResponseWriter, r *http.Request, p auth.Principal, status, reason string) error {
	a, err := s.vendor(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	err = db.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := accounts.SetStatus(ctx, tx, a.ID, auth.RoleVendor, status, reason); err != nil {
			return err
		}
		if status == accounts.Disabled {
			if err := auth.RevokeAll(ctx, tx, a.ID, nil); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.AccountID, ActorRole: p.Role, Action: "vendor." + map[string]string{accounts.Active: "enable", accounts.Disabled: "disable"}[status],
			SubjectType: "account", SubjectID: a.ID, Detail: map[string]any{"reason": reason}})
	})
	if err != nil {
		return err
	}
	a, err = accounts.Get(ctx, s.pool, s.sealer, a.ID)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, a)
}

// resetVendorPassword issues a new initial password (shown once), ends the account's
// sessions, and clears its sign-in lock.
func (s *server) resetVendorPassword(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	a, err := s.vendor(r)
	if err != nil {
		return err
	}
	password := auth.NewPassword()
	ctx := r.Context()
	err = db.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := accounts.SetPassword(ctx, tx, a.ID, password, true); err != nil {
			return err
		}
		if err := auth.RevokeAll(ctx, tx, a.ID, nil); err != nil {
			return err
		}
		if err := s.throttle.clear(ctx, tx, s.loginKey(a.Login)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.AccountID, ActorRole: p.Role, Action: "vendor.password-reset",
			SubjectType: "account", SubjectID: a.ID})
	})
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, map[string]string{"initial_password": password})
}
