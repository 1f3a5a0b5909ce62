// Package apps stores applications (one business system of a vendor, seed §3): their
// declaration, review and credentials. register-app and approve both act on them.
package apps

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/valid"
)

// Statuses. draft → pending (submit) → approved | rejected; rejected → pending (resubmit).
const (
	Draft    = "draft"
	Pending  = "pending"
	Approved = "approved"
	Rejected = "rejected"
)

// User-info levels and the citizen fields each gives (seed §3.3).
var Levels = map[string][]string{
	"basic":     {"id", "mobile"},
	"identity":  {"id", "mobile", "id_number"},
	"real_name": {"id", "mobile", "id_number", "face_image"},
}

const mobilePurpose = "application-mobile"

// Application is an application as its vendor and the reviewers see it.
type Application struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	ContactName    string     `json:"contact_name"`
	ContactMobile  string     `json:"contact_mobile"`
	NeedsUserInfo  bool       `json:"needs_user_info"`
	UserInfoLevel  string     `json:"user_info_level,omitempty"`
	UserInfoFields []string   `json:"user_info_fields"`
	Description    string     `json:"description"`
	Status         string     `json:"status"`
	RejectReason   string     `json:"reject_reason,omitempty"`
	AppCode        string     `json:"app_code,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	DeclaredAt     *time.Time `json:"declared_at"`
	SubmittedAt    *time.Time `json:"submitted_at"`
	DecidedAt      *time.Time `json:"decided_at"`
	Vendor         Vendor     `json:"vendor"`
}

// Vendor is who declared an application.
type Vendor struct {
	ID          string `json:"id"`
	Login       string `json:"login"`
	CompanyName string `json:"company_name"`
}

// Declaration is what a vendor fills in.
type Declaration struct {
	Name          string `json:"name"`
	ContactName   string `json:"contact_name"`
	ContactMobile string `json:"contact_mobile"`
	NeedsUserInfo *bool  `json:"needs_user_info"`
	UserInfoLevel string `json:"user_info_level"`
	Description   string `json:"description"`
}

// Valid checks every field of seed §3.
func (d *Declaration) Valid() map[string]string {
	m := valid.Collect(
		"name", valid.Line(d.Name, 2, 100),
		"contact_name", valid.Line(d.ContactName, 1, 50),
		"contact_mobile", valid.Mobile(d.ContactMobile),
		"description", valid.Text(d.Description, 10, 2000),
	)
	switch {
	case d.NeedsUserInfo == nil:
		m["needs_user_info"] = "is required (true or false)"
	case *d.NeedsUserInfo && d.UserInfoLevel == "":
		m["user_info_level"] = "is required when user info is needed: basic, identity or real_name"
	case *d.NeedsUserInfo && Levels[d.UserInfoLevel] == nil:
		m["user_info_level"] = "must be basic, identity or real_name"
	case !*d.NeedsUserInfo && d.UserInfoLevel != "":
		m["user_info_level"] = "must be empty when no user info is needed"
	}
	return m
}

func (d *Declaration) level() any {
	if d.NeedsUserInfo != nil && *d.NeedsUserInfo {
		return d.UserInfoLevel
	}
	return nil
}

const columns = `a.id, a.name, a.contact_name, a.contact_mobile, a.needs_user_info, coalesce(a.user_info_level, ''),
	a.description, a.status, coalesce(a.reject_reason, ''), coalesce(a.app_code, ''), a.created_at, a.updated_at,
	a.declared_at, a.submitted_at, a.decided_at, v.id, v.login, v.company_name`

const from = ` FROM applications a JOIN accounts v ON v.id = a.vendor_id `

func scan(row pgx.Row, s *seal.Sealer) (Application, error) {
	var a Application
	var mobile []byte
	err := row.Scan(&a.ID, &a.Name, &a.ContactName, &mobile, &a.NeedsUserInfo, &a.UserInfoLevel, &a.Description, &a.Status,
		&a.RejectReason, &a.AppCode, &a.CreatedAt, &a.UpdatedAt, &a.DeclaredAt, &a.SubmittedAt, &a.DecidedAt,
		&a.Vendor.ID, &a.Vendor.Login, &a.Vendor.CompanyName)
	if err != nil {
		return a, err
	}
	a.UserInfoFields = Levels[a.UserInfoLevel]
	if a.UserInfoFields == nil {
		a.UserInfoFields = []string{}
	}
	a.ContactMobile, err = s.OpenString(mobilePurpose, mobile)
	return a, err
}

var errNotFound = fn.NotFound("Application")

// Create declares a new application as a draft of vendorID.
func Create(ctx context.Context, q db.Querier, s *seal.Sealer, vendorID string, d Declaration) (Application, error) {
	var id string
	err := q.QueryRow(ctx, `INSERT INTO applications (vendor_id, name, contact_name, contact_mobile, needs_user_info, user_info_level, description, status)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 'draft') RETURNING id`,
		vendorID, d.Name, d.ContactName, s.SealString(mobilePurpose, d.ContactMobile), *d.NeedsUserInfo, d.level(), d.Description).Scan(&id)
	if err != nil {
		return Application{}, err
	}
	return Get(ctx, q, s, id)
}

// Get returns an application by id.
func Get(ctx context.Context, q db.Querier, s *seal.Sealer, id string) (Application, error) {
	a, err := scan(q.QueryRow(ctx, `SELECT `+columns+from+`WHERE a.id = $1`, id), s)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, errNotFound
	}
	return a, err
}

// GetOwned returns an application of vendorID; another vendor's is "not found".
func GetOwned(ctx context.Context, q db.Querier, s *seal.Sealer, vendorID, id string) (Application, error) {
	a, err := Get(ctx, q, s, id)
	if err == nil && a.Vendor.ID != vendorID {
		return Application{}, errNotFound
	}
	return a, err
}

func stateProblem(a Application, doing string, allowed string) *fn.Problem {
	p := fn.Errorf(http.StatusConflict, fn.CodeInvalidState,
		fmt.Sprintf("The application is %s; it can be %s only when %s.", a.Status, doing, allowed))
	// Not "status": that member of a problem is the HTTP status code (RFC 9457).
	p.Extra = map[string]any{"application_status": a.Status}
	return p
}

// Update replaces the declaration of an application of vendorID that is not yet approved.
func Update(ctx context.Context, q db.Querier, s *seal.Sealer, vendorID, id string, d Declaration) (Application, error) {
	tag, err := q.Exec(ctx, `UPDATE applications SET name = $3, contact_name = $4, contact_mobile = $5, needs_user_info = $6,
		user_info_level = $7, description = $8, updated_at = now()
		WHERE id = $1 AND vendor_id = $2 AND status IN ('draft', 'pending', 'rejected')`,
		id, vendorID, d.Name, d.ContactName, s.SealString(mobilePurpose, d.ContactMobile), *d.NeedsUserInfo, d.level(), d.Description)
	if err != nil {
		return Application{}, err
	}
	a, err := GetOwned(ctx, q, s, vendorID, id)
	if err == nil && tag.RowsAffected() == 0 {
		return a, stateProblem(a, "edited", "it is a draft, pending or rejected")
	}
	return a, err
}

// Submit puts a draft or rejected application of vendorID into the review queue.
func Submit(ctx context.Context, q db.Querier, s *seal.Sealer, vendorID, id string) (Application, error) {
	tag, err := q.Exec(ctx, `UPDATE applications SET status = 'pending', submitted_at = now(), reject_reason = NULL,
		declared_at = coalesce(declared_at, now()), updated_at = now()
		WHERE id = $1 AND vendor_id = $2 AND status IN ('draft', 'rejected')`, id, vendorID)
	if err != nil {
		return Application{}, err
	}
	a, err := GetOwned(ctx, q, s, vendorID, id)
	if err == nil && tag.RowsAffected() == 0 {
		return a, stateProblem(a, "submitted", "it is a draft or was rejected")
	}
	return a, err
}

// Filter narrows a list.
type Filter struct {
	VendorID string // empty: every vendor
	Status   string // empty: every status
}

// Page is one page of applications.
type Page struct {
	Items    []Application `json:"items"`
	Total    int           `json:"total"`
	Page     int           `json:"page"`
	PageSize int           `json:"page_size"`
}

// List returns applications. Pending ones come oldest submission first (the review queue);
// otherwise newest first.
func List(ctx context.Context, q db.Querier, s *seal.Sealer, f Filter, page, size int) (Page, error) {
	p := Page{Items: []Application{}, Page: page, PageSize: size}
	where := ` WHERE ($1 = '' OR a.vendor_id::text = $1) AND ($2 = '' OR a.status = $2) `
	if err := q.QueryRow(ctx, `SELECT count(*)`+from+where, f.VendorID, f.Status).Scan(&p.Total); err != nil {
		return p, err
	}
	order := ` ORDER BY a.created_at DESC, a.id `
	if f.Status == Pending {
		order = ` ORDER BY a.submitted_at, a.id `
	}
	rows, err := q.Query(ctx, `SELECT `+columns+from+where+order+` LIMIT $3 OFFSET $4`, f.VendorID, f.Status, size, (page-1)*size)
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

// ValidStatus reports whether s names a status (or is empty: any).
func ValidStatus(s string) bool {
	switch s {
	case "", Draft, Pending, Approved, Rejected:
		return true
	}
	return false
}
