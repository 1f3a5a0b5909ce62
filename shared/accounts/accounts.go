// Package accounts stores the back office's accounts: administrators and the vendor
// accounts they issue (there is no self sign-up).
package accounts

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/seal"
)

// Account statuses.
const (
	Active   = "active"
	Disabled = "disabled"
)

const mobilePurpose = "account-mobile"

// Account is an account as shown to an administrator or its owner.
type Account struct {
	ID                 string    `json:"id"`
	Role               string    `json:"role"`
	Login              string    `json:"login"`
	CompanyName        string    `json:"company_name,omitempty"`
	ContactName        string    `json:"contact_name,omitempty"`
	ContactMobile      string    `json:"contact_mobile,omitempty"`
	Status             string    `json:"status"`
	DisabledReason     string    `json:"disabled_reason,omitempty"`
	MustChangePassword bool      `json:"must_change_password"`
	CreatedAt          time.Time `json:"created_at"`
}

// New is an account to create.
type New struct {
	Role          string
	Login         string
	Password      string
	CompanyName   string
	ContactName   string
	ContactMobile string
	CreatedBy     string
}

// ErrLoginTaken is returned by Create for a login already in use (case-insensitively).
var ErrLoginTaken = fn.Errorf(http.StatusConflict, "login-taken", "That login name is already in use; choose another.")

// Create adds an account whose password must be changed at first sign-in.
func Create(ctx context.Context, q db.Querier, s *seal.Sealer, n New) (Account, error) {
	hash, err := auth.HashPassword(n.Password)
	if err != nil {
		return Account{}, err
	}
	var mobile []byte
	if n.ContactMobile != "" {
		mobile = s.SealString(mobilePurpose, n.ContactMobile)
	}
	var createdBy any
	if n.CreatedBy != "" {
		createdBy = n.CreatedBy
	}
	row := q.QueryRow(ctx, `INSERT INTO accounts (role, login, password_hash, company_name, contact_name, contact_mobile, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+columns, n.Role, n.Login, hash, n.CompanyName, n.ContactName, mobile, createdBy)
	a, err := scan(row, s)
	if db.IsUniqueViolation(err, "accounts_login_key") {
		return Account{}, ErrLoginTaken
	}
	return a, err
}

// CreateAdminIfNone creates the first administrator, unless an administrator exists.
func CreateAdminIfNone(ctx context.Context, q db.Querier, s *seal.Sealer, login, password string) (created bool, err error) {
	var exists bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE role = 'admin')`).Scan(&exists); err != nil || exists {
		return false, err
	}
	_, err = Create(ctx, q, s, New{Role: auth.RoleAdmin, Login: login, Password: password})
	return err == nil, err
}

const columns = `id, role, login, company_name, contact_name, contact_mobile, status, coalesce(disabled_reason, ''), must_change_password, created_at`

func scan(row pgx.Row, s *seal.Sealer) (Account, error) {
	var a Account
	var mobile []byte
	err := row.Scan(&a.ID, &a.Role, &a.Login, &a.CompanyName, &a.ContactName, &mobile, &a.Status, &a.DisabledReason, &a.MustChangePassword, &a.CreatedAt)
	if err != nil {
		return a, err
	}
	if mobile != nil {
		if a.ContactMobile, err = s.OpenString(mobilePurpose, mobile); err != nil {
			return a, err
		}
	}
	return a, nil
}

// Get returns one account.
func Get(ctx context.Context, q db.Querier, s *seal.Sealer, id string) (Account, error) {
	a, err := scan(q.QueryRow(ctx, `SELECT `+columns+` FROM accounts WHERE id = $1`, id), s)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, fn.NotFound("Account")
	}
	return a, err
}

// Credentials is what sign-in needs to know about a login.
type Credentials struct {
	ID           string
	PasswordHash string
	Status       string
}

// ByLogin finds an account's credentials; ok is false when no account has that login.
func ByLogin(ctx context.Context, q db.Querier, login string) (c Credentials, ok bool, err error) {
	err = q.QueryRow(ctx, `SELECT id, password_hash, status FROM accounts WHERE lower(login) = lower($1)`, login).
		Scan(&c.ID, &c.PasswordHash, &c.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, false, nil
	}
	return c, err == nil, err
}

// PasswordHash returns an account's current password hash.
func PasswordHash(ctx context.Context, q db.Querier, id string) (string, error) {
	var h string
	err := q.QueryRow(ctx, `SELECT password_hash FROM accounts WHERE id = $1`, id).Scan(&h)
	return h, err
}

// SetPassword replaces an account's password; mustChange marks it as an initial password.
func SetPassword(ctx context.Context, q db.Querier, id, password string, mustChange bool) error {
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `UPDATE accounts SET password_hash = $2, must_change_password = $3, password_changed_at = now() WHERE id = $1`,
		id, hash, mustChange)
	return err
}

// SetStatus enables or disables an account; it reports false when the account does not
// exist or has the given role.
func SetStatus(ctx context.Context, q db.Querier, id, role, status, reason string) (bool, error) {
	var r any
	if reason != "" {
		r = reason
	}
	tag, err := q.Exec(ctx, `UPDATE accounts SET status = $3, disabled_reason = $4 WHERE id = $1 AND role = $2`, id, role, status, r)
	return tag.RowsAffected() == 1, err
}

// Page is one page of a list.
type Page struct {
	Items    []Account `json:"items"`
	Total    int       `json:"total"`
	Page     int       `json:"page"`
	PageSize int       `json:"page_size"`
}

// List returns accounts of a role, newest first.
func List(ctx context.Context, q db.Querier, s *seal.Sealer, role string, page, size int) (Page, error) {
	p := Page{Items: []Account{}, Page: page, PageSize: size}
	if err := q.QueryRow(ctx, `SELECT count(*) FROM accounts WHERE role = $1`, role).Scan(&p.Total); err != nil {
		return p, err
	}
	rows, err := q.Query(ctx, `SELECT `+columns+` FROM accounts WHERE role = $1 ORDER BY created_at DESC, id LIMIT $2 OFFSET $3`,
		role, size, (page-1)*size)
	if err != nil {
		return p, err
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scan(rows, s)
		if err != nil {
			return p, err
		}
		p.Items = append(p.Items, a)
	}
	return p, rows.Err()
}
