// Package services stores the services vendors list under approved applications (seed §4),
// their files, and their review life (see states.go).
package services

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/valid"
)

// Channels a service can be reached through (接入方式).
var Channels = map[string]string{"app": "晋来办 APP", "wechat": "微信小程序", "alipay": "支付宝小程序"}

// Service types: 办理 (a transaction, submits a form) and 查询 (a query).
var Types = map[string]string{"transaction": "办理", "query": "查询"}

// Service is a service as its vendor and the reviewers see it.
type Service struct {
	ID                 string     `json:"id"`
	Application        AppRef     `json:"application"`
	VendorID           string     `json:"vendor_id"`
	Name               string     `json:"name"`
	Channels           []string   `json:"channels"`
	ServiceType        string     `json:"service_type"`
	ModuleCallbackCode string     `json:"module_callback_code"`
	ModuleCode         string     `json:"module_code"`
	TestURL            string     `json:"test_url"`
	ProductionURL      string     `json:"production_url,omitempty"`
	Description        string     `json:"description"`
	Tags               []string   `json:"tags"`
	Logo               File       `json:"logo"`
	Reports            Reports    `json:"reports"`
	Status             string     `json:"status"`
	StatusReason       string     `json:"status_reason,omitempty"`
	NextAction         string     `json:"next_action"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
	AppliedAt          *time.Time `json:"applied_at"`
	LiveRequestedAt    *time.Time `json:"live_requested_at"`
	LiveAt             *time.Time `json:"live_at"`
	keys               fileKeys
}

// AppRef names the owning application.
type AppRef struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	AppCode string `json:"app_code"`
	Status  string `json:"status"`
}

// File says whether a file is attached.
type File struct {
	Attached bool  `json:"attached"`
	Size     int64 `json:"size,omitempty"`
}

// Report is a test report: attached, and possibly empty ("to be completed", seed §4.3.7).
type Report struct {
	Attached      bool  `json:"attached"`
	Size          int64 `json:"size"`
	ToBeCompleted bool  `json:"to_be_completed"`
}

// Complete reports whether the report is attached and not empty.
func (r Report) Complete() bool { return r.Attached && r.Size > 0 }

// Reports are the two reports a listing needs.
type Reports struct {
	Functional Report `json:"functional"`
	Security   Report `json:"security"`
}

type fileKeys struct{ logo, functional, security string }

// Key returns the object key of an attached file of kind, or "".
func (s Service) Key(kind string) string {
	switch kind {
	case KindLogo:
		return s.keys.logo
	case KindFunctionalReport:
		return s.keys.functional
	case KindSecurityReport:
		return s.keys.security
	}
	return ""
}

// Declaration is what a vendor fills in.
type Declaration struct {
	ApplicationID      string   `json:"application_id"`
	Name               string   `json:"name"`
	Channels           []string `json:"channels"`
	ServiceType        string   `json:"service_type"`
	ModuleCallbackCode string   `json:"module_callback_code"`
	TestURL            string   `json:"test_url"`
	ProductionURL      string   `json:"production_url"`
	Description        string   `json:"description"`
	Tags               []string `json:"tags"`
}

// Check validates a declaration; allowLocalHTTP admits http://localhost addresses.
func (d *Declaration) Check(allowLocalHTTP bool) map[string]string {
	m := valid.Collect(
		"name", valid.Line(d.Name, 2, 60),
		"description", valid.Text(d.Description, 20, 2000),
		"test_url", valid.URL(d.TestURL, allowLocalHTTP),
	)
	d.ApplicationID = strings.ToLower(d.ApplicationID)
	if d.ApplicationID == "" {
		m["application_id"] = "is required"
	}
	if d.ProductionURL != "" {
		if r := valid.URL(d.ProductionURL, allowLocalHTTP); r != "" {
			m["production_url"] = r
		}
	}
	if r := checkSet(d.Channels, Channels, 1); r != "" {
		m["channels"] = r + " (app, wechat, alipay)"
	}
	if Types[d.ServiceType] == "" {
		m["service_type"] = "must be transaction (办理) or query (查询)"
	}
	if d.ModuleCallbackCode != "" && !validCallbackCode(d.ModuleCallbackCode) {
		m["module_callback_code"] = "must be 1-32 upper-case letters and digits, e.g. GJJTQ"
	}
	if len(d.Tags) == 0 {
		m["tags"] = "choose at least one tag"
	} else if len(d.Tags) > 5 {
		m["tags"] = "choose at most 5 tags"
	} else if r := duplicate(d.Tags); r != "" {
		m["tags"] = r
	}
	return m
}

func checkSet(vals []string, allowed map[string]string, min int) string {
	if len(vals) < min {
		return "choose at least one"
	}
	seen := map[string]bool{}
	for _, v := range vals {
		if allowed[v] == "" {
			return fmt.Sprintf("%q is not one of the choices", v)
		}
		if seen[v] {
			return fmt.Sprintf("%q is listed twice", v)
		}
		seen[v] = true
	}
	return ""
}

func duplicate(vals []string) string {
	seen := map[string]bool{}
	for _, v := range vals {
		if seen[v] {
			return fmt.Sprintf("%q is listed twice", v)
		}
		seen[v] = true
	}
	return ""
}

func validCallbackCode(s string) bool {
	if len(s) < 1 || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// SuggestCallbackCode derives a module_callback_code from a service name: the upper-case
// initials of its pinyin (公积金提取 → GJJTQ); letters and digits in the name are kept as
// initials of their words.
func SuggestCallbackCode(name string) string {
	var b strings.Builder
	wordStart := true
	for _, r := range name {
		switch {
		case unicode.Is(unicode.Han, r):
			if c := pinyinInitial(r); c != 0 {
				b.WriteByte(c)
			}
			wordStart = true
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if wordStart || unicode.IsDigit(r) {
				b.WriteRune(unicode.ToUpper(r))
			}
			wordStart = false
		default:
			wordStart = true
		}
		if b.Len() >= 32 {
			break
		}
	}
	if b.Len() == 0 {
		return "SVC" // a name with nothing to take initials from
	}
	return b.String()
}

// NewModuleCode returns a platform-wide service code: "MC" and 10 random characters.
func NewModuleCode() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "MC" + string(b)
}

const columns = `s.id, s.application_id, a.name, coalesce(a.app_code, ''), a.status, a.vendor_id, s.name, s.channels,
	s.service_type, s.module_callback_code, s.module_code, s.test_url, coalesce(s.production_url, ''), s.description, s.tags,
	coalesce(s.logo_key, ''), coalesce(s.functional_report_key, ''), coalesce(s.functional_report_size, 0),
	coalesce(s.security_report_key, ''), coalesce(s.security_report_size, 0), s.status, coalesce(s.status_reason, ''),
	s.created_at, s.updated_at, s.applied_at, s.live_requested_at, s.live_at`

const from = ` FROM services s JOIN applications a ON a.id = s.application_id `

func scan(row pgx.Row) (Service, error) {
	var s Service
	err := row.Scan(&s.ID, &s.Application.ID, &s.Application.Name, &s.Application.AppCode, &s.Application.Status, &s.VendorID,
		&s.Name, &s.Channels, &s.ServiceType, &s.ModuleCallbackCode, &s.ModuleCode, &s.TestURL, &s.ProductionURL,
		&s.Description, &s.Tags, &s.keys.logo, &s.keys.functional, &s.Reports.Functional.Size, &s.keys.security,
		&s.Reports.Security.Size, &s.Status, &s.StatusReason, &s.CreatedAt, &s.UpdatedAt, &s.AppliedAt, &s.LiveRequestedAt, &s.LiveAt)
	if err != nil {
		return s, err
	}
	s.Logo = File{Attached: s.keys.logo != ""}
	s.Reports.Functional = report(s.keys.functional, s.Reports.Functional.Size)
	s.Reports.Security = report(s.keys.security, s.Reports.Security.Size)
	s.NextAction = NextAction(s)
	return s, nil
}

func report(key string, size int64) Report {
	return Report{Attached: key != "", Size: size, ToBeCompleted: key != "" && size == 0}
}

var errNotFound = fn.NotFound("Service")

// Get returns a service by id.
func Get(ctx context.Context, q db.Querier, id string) (Service, error) {
	s, err := scan(q.QueryRow(ctx, `SELECT `+columns+from+`WHERE s.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return s, errNotFound
	}
	return s, err
}

// GetOwned returns a service of vendorID; another vendor's is "not found".
func GetOwned(ctx context.Context, q db.Querier, vendorID, id string) (Service, error) {
	s, err := Get(ctx, q, id)
	if err == nil && s.VendorID != vendorID {
		return Service{}, errNotFound
	}
	return s, err
}

func lockOwned(ctx context.Context, tx db.Querier, vendorID, id string) (Service, error) {
	s, err := scan(tx.QueryRow(ctx, `SELECT `+columns+from+`WHERE s.id = $1 FOR UPDATE OF s`, id))
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && vendorID != "" && s.VendorID != vendorID) {
		return Service{}, errNotFound
	}
	return s, err
}

// ErrCallbackCodeTaken is returned when another service of the application has the code.
var ErrCallbackCodeTaken = &fn.Problem{Status: http.StatusConflict, Code: "callback-code-taken", Title: "Conflict",
	Detail: "Another service of this application already uses that module_callback_code; choose another.",
	Params: []fn.InvalidParam{{Name: "module_callback_code", Reason: "already used in this application"}}}

// Create adds a service in testing under an approved application of vendorID. Without a
// module_callback_code it gets the pinyin suggestion, numbered if already taken.
func Create(ctx context.Context, tx db.Querier, vendorID string, d Declaration) (Service, error) {
	if err := requireApprovedApp(ctx, tx, vendorID, d.ApplicationID); err != nil {
		return Service{}, err
	}
	code := d.ModuleCallbackCode
	if code == "" {
		var err error
		if code, err = freeCallbackCode(ctx, tx, d.ApplicationID, SuggestCallbackCode(d.Name)); err != nil {
			return Service{}, err
		}
	}
	var prod any
	if d.ProductionURL != "" {
		prod = d.ProductionURL
	}
	var id string
	err := tx.QueryRow(ctx, `INSERT INTO services (application_id, name, channels, service_type, module_callback_code, module_code,
		test_url, production_url, description, tags, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'testing') RETURNING id`,
		d.ApplicationID, d.Name, d.Channels, d.ServiceType, code, NewModuleCode(), d.TestURL, prod, d.Description, d.Tags).Scan(&id)
	if db.IsUniqueViolation(err, "services_callback_code_key") {
		return Service{}, ErrCallbackCodeTaken
	}
	if err != nil {
		return Service{}, err
	}
	return Get(ctx, tx, id)
}

func requireApprovedApp(ctx context.Context, q db.Querier, vendorID, appID string) error {
	var status string
	// The lock makes services of one application be created one at a time, so a suggested
	// callback code is still free when the service is stored.
	err := q.QueryRow(ctx, `SELECT status FROM applications WHERE id::text = $1 AND vendor_id = $2 FOR NO KEY UPDATE`, appID, vendorID).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return fn.Invalid(map[string]string{"application_id": "must be one of your applications"})
	}
	if err != nil {
		return err
	}
	if status != "approved" {
		p := fn.Errorf(http.StatusConflict, fn.CodeInvalidState, "Services can be listed only under an approved application; this one is "+status+".")
		p.Params = []fn.InvalidParam{{Name: "application_id", Reason: "the application is " + status}}
		return p
	}
	return nil
}

func freeCallbackCode(ctx context.Context, q db.Querier, appID, base string) (string, error) {
	if base == "" {
		base = "SVC"
	}
	for i := 1; i < 1000; i++ {
		code := base
		if i > 1 { // cut the (ASCII) suggestion so that the number fits in 32 characters
			n := strconv.Itoa(i)
			code = base[:min(len(base), 32-len(n))] + n
		}
		var taken bool
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM services WHERE application_id = $1 AND module_callback_code = $2)`,
			appID, code).Scan(&taken); err != nil || !taken {
			return code, err
		}
	}
	return "", ErrCallbackCodeTaken
}

func stateProblem(s Service, doing string) *fn.Problem {
	p := fn.Errorf(http.StatusConflict, fn.CodeInvalidState, fmt.Sprintf("The service is %s; it cannot be %s now.", s.Status, doing))
	p.Extra = map[string]any{"service_status": s.Status}
	return p
}

// Update replaces the declaration of a service in testing. The owning application and the
// module code do not change.
func Update(ctx context.Context, tx db.Querier, vendorID, id string, d Declaration) (Service, error) {
	s, err := lockOwned(ctx, tx, vendorID, id)
	if err != nil {
		return s, err
	}
	if d.ApplicationID != s.Application.ID {
		return s, fn.Invalid(map[string]string{"application_id": "a service cannot move to another application"})
	}
	if !declarationEditable(s.Status) {
		return s, stateProblem(s, "edited (only the production address and files can change once listed)")
	}
	code := d.ModuleCallbackCode
	if code == "" {
		code = s.ModuleCallbackCode
	}
	var prod any
	if d.ProductionURL != "" {
		prod = d.ProductionURL
	}
	_, err = tx.Exec(ctx, `UPDATE services SET name = $2, channels = $3, service_type = $4, module_callback_code = $5,
		test_url = $6, production_url = $7, description = $8, tags = $9, status_reason = NULL, updated_at = now() WHERE id = $1`,
		id, d.Name, d.Channels, d.ServiceType, code, d.TestURL, prod, d.Description, d.Tags)
	if db.IsUniqueViolation(err, "services_callback_code_key") {
		return s, ErrCallbackCodeTaken
	}
	if err != nil {
		return s, err
	}
	return Get(ctx, tx, id)
}

// SetProductionURL sets the address a live service is opened at.
func SetProductionURL(ctx context.Context, tx db.Querier, vendorID, id, url string) (Service, error) {
	s, err := lockOwned(ctx, tx, vendorID, id)
	if err != nil {
		return s, err
	}
	if !completionEditable(s.Status) {
		return s, stateProblem(s, "given a new production address")
	}
	if _, err := tx.Exec(ctx, `UPDATE services SET production_url = $2, updated_at = now() WHERE id = $1`, id, url); err != nil {
		return s, err
	}
	return Get(ctx, tx, id)
}

// Filter narrows a list.
type Filter struct {
	VendorID      string
	ApplicationID string
	Statuses      []string
}

// Page is one page of services.
type Page struct {
	Items    []Service `json:"items"`
	Total    int       `json:"total"`
	Page     int       `json:"page"`
	PageSize int       `json:"page_size"`
}

// List returns services, newest first; a review queue (only statuses under review) comes
// oldest first.
func List(ctx context.Context, q db.Querier, f Filter, queue bool, page, size int) (Page, error) {
	p := Page{Items: []Service{}, Page: page, PageSize: size}
	where := ` WHERE ($1 = '' OR a.vendor_id::text = $1) AND ($2 = '' OR s.application_id::text = $2)
		AND (cardinality($3::text[]) = 0 OR s.status = ANY($3)) `
	if f.Statuses == nil {
		f.Statuses = []string{}
	}
	if err := q.QueryRow(ctx, `SELECT count(*)`+from+where, f.VendorID, f.ApplicationID, f.Statuses).Scan(&p.Total); err != nil {
		return p, err
	}
	order := ` ORDER BY s.created_at DESC, s.id `
	if queue {
		order = ` ORDER BY s.updated_at, s.id `
	}
	rows, err := q.Query(ctx, `SELECT `+columns+from+where+order+` LIMIT $4 OFFSET $5`, f.VendorID, f.ApplicationID, f.Statuses, size, (page-1)*size)
	if err != nil {
		return p, err
	}
	defer rows.Close()
	for rows.Next() {
		s, err := scan(rows)
		if err != nil {
			return p, err
		}
		p.Items = append(p.Items, s)
	}
	return p, rows.Err()
}

// Move makes a named transition under a row lock. guard, when not nil, checks the service
// before the move (e.g. that the reports are complete) and may refuse it.
func Move(ctx context.Context, tx db.Querier, vendorID, id, transition, reason string, guard func(Service) error) (Service, error) {
	t, ok := Transitions[transition]
	if !ok {
		return Service{}, fmt.Errorf("services: no transition %q", transition)
	}
	s, err := lockOwned(ctx, tx, vendorID, id)
	if err != nil {
		return s, err
	}
	if s.Status != t.From {
		p := stateProblem(s, "moved by "+transition)
		p.Detail = fmt.Sprintf("The service is %s; %s needs it to be %s.", s.Status, transition, t.From)
		return s, p
	}
	if guard != nil {
		if err := guard(s); err != nil {
			return s, err
		}
	}
	var r any
	if reason != "" {
		r = reason
	}
	_, err = tx.Exec(ctx, `UPDATE services SET status = $2, status_reason = $3, updated_at = now(),
		applied_at = CASE WHEN $2 = 'applied' THEN now() ELSE applied_at END,
		live_requested_at = CASE WHEN $2 = 'live_requested' THEN now() ELSE live_requested_at END,
		live_at = CASE WHEN $2 = 'live' AND live_at IS NULL THEN now() ELSE live_at END
		WHERE id = $1`, id, t.To, r)
	if err != nil {
		return s, err
	}
	return Get(ctx, tx, id)
}

// ByModuleCode finds a service by its platform-wide code.
func ByModuleCode(ctx context.Context, q db.Querier, code string) (Service, error) {
	s, err := scan(q.QueryRow(ctx, `SELECT `+columns+from+`WHERE s.module_code = $1`, code))
	if errors.Is(err, pgx.ErrNoRows) {
		return s, errNotFound
	}
	return s, err
}

// Entry is a service as a citizen's catalog shows it.
type Entry struct {
	ModuleCode  string   `json:"module_code"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	ServiceType string   `json:"service_type"`
	Channels    []string `json:"channels"`
	Tags        []string `json:"tags"`
	Environment string   `json:"environment"` // "production" when live, "test" for a whitelisted citizen's preview
}

// Catalog lists the services a citizen can open: every live one, and those not yet live of
// applications that whitelisted the citizen as a tester.
func Catalog(ctx context.Context, q db.Querier, citizenID string) ([]Entry, error) {
	rows, err := q.Query(ctx, `SELECT s.module_code, s.name, s.description, s.service_type, s.channels, s.tags,
			CASE WHEN s.status = 'live' THEN 'production' ELSE 'test' END
		FROM services s JOIN applications a ON a.id = s.application_id
		WHERE a.status = 'approved' AND (s.status = 'live' OR (s.status IN ('testing', 'applied', 'approved', 'live_requested')
			AND EXISTS (SELECT 1 FROM test_citizens t WHERE t.application_id = a.id AND t.citizen_id = $1)))
		ORDER BY s.status = 'live' DESC, s.name, s.id`, citizenID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.ModuleCode, &e.Name, &e.Description, &e.ServiceType, &e.Channels, &e.Tags, &e.Environment); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
