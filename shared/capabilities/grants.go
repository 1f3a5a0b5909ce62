package capabilities

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/valid"
)

// Grant statuses: draft (an SMS form being prepared) → pending → granted | rejected;
// granted → revoked; rejected and revoked can apply again.
const (
	Draft    = "draft"
	Pending  = "pending"
	Granted  = "granted"
	Rejected = "rejected"
	Revoked  = "revoked"
)

// Grant is an application's grant of one capability.
type Grant struct {
	ID            string     `json:"id"`
	ApplicationID string     `json:"application_id"`
	AppName       string     `json:"application_name"`
	VendorID      string     `json:"vendor_id"`
	Capability    string     `json:"capability"`
	Status        string     `json:"status"`
	SignName      string     `json:"sms_sign_name,omitempty"`
	FormAttached  bool       `json:"form_attached"`
	Templates     []Template `json:"templates"`
	Reason        string     `json:"reason,omitempty"`
	RequestedAt   *time.Time `json:"requested_at"`
	DecidedAt     *time.Time `json:"decided_at"`
	formKey       string
	formType      string
}

// FormKey is the object key of the attached SMS application form, or "".
func (g Grant) FormKey() string { return g.formKey }

// FormType is the attached form's content type.
func (g Grant) FormType() string { return g.formType }

// Template is an SMS template: content with ${name} parameters.
type Template struct {
	Code    string   `json:"code"`
	Name    string   `json:"name"`
	Content string   `json:"content"`
	Params  []string `json:"params"`
}

var (
	paramPattern    = regexp.MustCompile(`\$\{([A-Za-z][A-Za-z0-9_]{0,31})\}`)
	templateCodeRE  = regexp.MustCompile(`^SMS_[0-9]{3,20}$`)
	errGrantMissing = fn.NotFound("Capability grant")
)

// ParamsOf lists the ${name} parameters of a template's content, in order, once each.
func ParamsOf(content string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, m := range paramPattern.FindAllStringSubmatch(content, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}

// Application is a request for a capability.
type Application struct {
	Capability string     `json:"capability"`
	SignName   string     `json:"sms_sign_name"`
	Templates  []Template `json:"templates"`
}

// Valid checks a request: SMS needs a sign name and 1-20 templates; the others take none.
func (a *Application) Valid() map[string]string {
	m := map[string]string{}
	switch a.Capability {
	case SMS:
		if r := valid.Line(a.SignName, 2, 12); r != "" {
			m["sms_sign_name"] = r
		}
		if len(a.Templates) == 0 || len(a.Templates) > 20 {
			m["templates"] = "list 1-20 templates"
		}
		codes := map[string]bool{}
		for i, t := range a.Templates {
			key := fmt.Sprintf("templates[%d]", i)
			switch {
			case !templateCodeRE.MatchString(t.Code):
				m[key+".code"] = "must be the provider's template code, e.g. SMS_153055065"
			case codes[t.Code]:
				m[key+".code"] = "is listed twice"
			}
			codes[t.Code] = true
			if r := valid.Line(t.Name, 1, 30); r != "" {
				m[key+".name"] = r
			}
			if r := valid.Text(t.Content, 2, 500); r != "" {
				m[key+".content"] = r
			}
		}
	case Message, Todo:
		if a.SignName != "" || len(a.Templates) > 0 {
			m["capability"] = "only the sms capability takes a sign name and templates"
		}
	default:
		m["capability"] = "must be sms, message or todo"
	}
	return m
}

const grantColumns = `g.id, g.application_id, a.name, a.vendor_id, g.capability, g.status, coalesce(g.sms_sign_name, ''),
	coalesce(g.form_key, ''), coalesce(g.form_type, ''), coalesce(g.reason, ''), g.requested_at, g.decided_at`

const grantFrom = ` FROM capability_grants g JOIN applications a ON a.id = g.application_id `

func scanGrant(row pgx.Row) (Grant, error) {
	var g Grant
	err := row.Scan(&g.ID, &g.ApplicationID, &g.AppName, &g.VendorID, &g.Capability, &g.Status, &g.SignName, &g.formKey,
		&g.formType, &g.Reason, &g.RequestedAt, &g.DecidedAt)
	g.FormAttached = g.formKey != ""
	return g, err
}

func withTemplates(ctx context.Context, q db.Querier, g Grant) (Grant, error) {
	g.Templates = []Template{}
	if g.Capability != SMS {
		return g, nil
	}
	rows, err := q.Query(ctx, `SELECT code, name, content, params FROM sms_templates WHERE application_id = $1 ORDER BY code`, g.ApplicationID)
	if err != nil {
		return g, err
	}
	g.Templates, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Template, error) {
		var t Template
		err := row.Scan(&t.Code, &t.Name, &t.Content, &t.Params)
		return t, err
	})
	return g, err
}

// GetGrant returns a grant by id.
func GetGrant(ctx context.Context, q db.Querier, id string) (Grant, error) {
	g, err := scanGrant(q.QueryRow(ctx, `SELECT `+grantColumns+grantFrom+`WHERE g.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return g, errGrantMissing
	}
	if err != nil {
		return g, err
	}
	return withTemplates(ctx, q, g)
}

// GrantOf returns an application's grant of a capability, locked for update when forUpdate.
func GrantOf(ctx context.Context, q db.Querier, appID, capability string, forUpdate bool) (Grant, error) {
	lock := ""
	if forUpdate {
		lock = " FOR UPDATE OF g"
	}
	g, err := scanGrant(q.QueryRow(ctx, `SELECT `+grantColumns+grantFrom+`WHERE g.application_id = $1 AND g.capability = $2`+lock, appID, capability))
	if errors.Is(err, pgx.ErrNoRows) {
		return g, errGrantMissing
	}
	if err != nil {
		return g, err
	}
	return withTemplates(ctx, q, g)
}

// GrantsOf lists an application's grants.
func GrantsOf(ctx context.Context, q db.Querier, appID string) ([]Grant, error) {
	rows, err := q.Query(ctx, `SELECT `+grantColumns+grantFrom+`WHERE g.application_id = $1 ORDER BY g.capability`, appID)
	if err != nil {
		return nil, err
	}
	grants, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Grant, error) { return scanGrant(row) })
	if err != nil {
		return nil, err
	}
	for i := range grants {
		if grants[i], err = withTemplates(ctx, q, grants[i]); err != nil {
			return nil, err
		}
	}
	return grants, nil
}

func ensureRow(ctx context.Context, tx db.Querier, appID, capability string) error {
	_, err := tx.Exec(ctx, `INSERT INTO capability_grants (application_id, capability, status) VALUES ($1, $2, 'draft')
		ON CONFLICT (application_id, capability) DO NOTHING`, appID, capability)
	return err
}

// Apply asks for a capability (the application's owner has been checked). SMS needs the
// form attached first. Applying again is possible after a rejection or revocation.
func Apply(ctx context.Context, tx db.Querier, appID string, a Application) (Grant, error) {
	if err := ensureRow(ctx, tx, appID, a.Capability); err != nil {
		return Grant{}, err
	}
	g, err := GrantOf(ctx, tx, appID, a.Capability, true)
	if err != nil {
		return g, err
	}
	switch g.Status {
	case Pending, Granted:
		p := fn.Errorf(http.StatusConflict, fn.CodeInvalidState, "The "+a.Capability+" capability is already "+g.Status+".")
		p.Extra = map[string]any{"grant_status": g.Status}
		return g, p
	}
	if a.Capability == SMS {
		if !g.FormAttached {
			return g, fn.Errorf(http.StatusConflict, "form-missing", "Upload the city's SMS application form (《晋城市短信平台使用申请单》) first.")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sms_templates WHERE application_id = $1`, appID); err != nil {
			return g, err
		}
		for _, t := range a.Templates {
			if _, err := tx.Exec(ctx, `INSERT INTO sms_templates (application_id, code, name, content, params) VALUES ($1, $2, $3, $4, $5)`,
				appID, t.Code, t.Name, t.Content, ParamsOf(t.Content)); err != nil {
				return g, err
			}
		}
	}
	var sign any
	if a.SignName != "" {
		sign = a.SignName
	}
	if _, err := tx.Exec(ctx, `UPDATE capability_grants SET status = 'pending', sms_sign_name = $2, reason = NULL,
		requested_at = now(), decided_at = NULL, updated_at = now() WHERE id = $1`, g.ID, sign); err != nil {
		return g, err
	}
	return GetGrant(ctx, tx, g.ID)
}

// Decisions an administrator makes on grants, and the moves they are.
var Decisions = map[string]struct{ From, To string }{
	"grant":  {Pending, Granted},
	"reject": {Pending, Rejected},
	"revoke": {Granted, Revoked},
}

// Decide moves a grant: grant or reject a pending one, revoke a granted one.
func Decide(ctx context.Context, tx db.Querier, id, decision, reason string) (Grant, error) {
	move, ok := Decisions[decision]
	if !ok {
		return Grant{}, fmt.Errorf("capabilities: no decision %q", decision)
	}
	from, to := move.From, move.To
	var r any
	if reason != "" {
		r = reason
	}
	tag, err := tx.Exec(ctx, `UPDATE capability_grants SET status = $3, reason = $4, decided_at = now(), updated_at = now()
		WHERE id = $1 AND status = $2`, id, from, to, r)
	if err != nil {
		return Grant{}, err
	}
	g, err := GetGrant(ctx, tx, id)
	if err == nil && tag.RowsAffected() == 0 {
		p := fn.Errorf(http.StatusConflict, fn.CodeInvalidState, fmt.Sprintf("The grant is %s; %s needs it %s.", g.Status, decision, from))
		p.Extra = map[string]any{"grant_status": g.Status}
		return g, p
	}
	return g, err
}

// Queue lists grants in a status (pending: oldest request first).
func Queue(ctx context.Context, q db.Querier, status string, page, size int) ([]Grant, int, error) {
	var total int
	if err := q.QueryRow(ctx, `SELECT count(*) FROM capability_grants WHERE status = $1`, status).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := q.Query(ctx, `SELECT `+grantColumns+grantFrom+`WHERE g.status = $1 ORDER BY g.requested_at NULLS LAST, g.id LIMIT $2 OFFSET $3`,
		status, size, (page-1)*size)
	if err != nil {
		return nil, 0, err
	}
	grants, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Grant, error) { return scanGrant(row) })
	if err != nil {
		return nil, 0, err
	}
	for i := range grants {
		if grants[i], err = withTemplates(ctx, q, grants[i]); err != nil {
			return nil, 0, err
		}
	}
	return grants, total, nil
}

// ValidStatus reports whether s names a grant status.
func ValidStatus(s string) bool {
	switch s {
	case Draft, Pending, Granted, Rejected, Revoked:
		return true
	}
	return false
}
