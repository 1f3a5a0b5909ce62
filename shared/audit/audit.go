// Package audit appends to the audit log: admin actions, credential views and personal-data
// reads. The table refuses updates and deletes.
package audit

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
)

// Entry is one audited action. Detail must never hold a secret or personal data itself.
type Entry struct {
	ActorID     string // empty for the system
	ActorRole   string
	Action      string // e.g. "application.approve", "credentials.view"
	SubjectType string
	SubjectID   string
	Detail      map[string]any
}

// Record appends e, in the caller's transaction when q is one.
func Record(ctx context.Context, q db.Querier, e Entry) error {
	if e.Detail == nil {
		e.Detail = map[string]any{}
	}
	var actor any
	if e.ActorID != "" {
		actor = e.ActorID
	}
	_, err := q.Exec(ctx, `INSERT INTO audit_log (actor_id, actor_role, action, subject_type, subject_id, detail, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, actor, e.ActorRole, e.Action, e.SubjectType, e.SubjectID, e.Detail, fn.RequestID(ctx))
	return err
}

// Logged is one audit log entry as the administrators' search shows it.
type Logged struct {
	ID          int64          `json:"id"`
	At          time.Time      `json:"at"`
	ActorID     string         `json:"actor_id,omitempty"`
	ActorLogin  string         `json:"actor_login,omitempty"`
	ActorRole   string         `json:"actor_role"`
	Action      string         `json:"action"`
	SubjectType string         `json:"subject_type"`
	SubjectID   string         `json:"subject_id"`
	Detail      map[string]any `json:"detail"`
	RequestID   string         `json:"request_id,omitempty"`
}

// Query narrows a search; empty fields match everything.
type Query struct {
	Action      string // prefix, e.g. "application." or "credentials.view"
	ActorID     string
	SubjectType string
	SubjectID   string
	From, To    *time.Time
}

// Search lists entries newest first.
func Search(ctx context.Context, q db.Querier, f Query, page, size int) ([]Logged, int, error) {
	where := ` WHERE ($1 = '' OR l.action LIKE $1 || '%') AND ($2 = '' OR l.actor_id::text = $2) AND ($3 = '' OR l.subject_type = $3)
		AND ($4 = '' OR l.subject_id = $4) AND ($5::timestamptz IS NULL OR l.at >= $5) AND ($6::timestamptz IS NULL OR l.at < $6) `
	args := []any{f.Action, f.ActorID, f.SubjectType, f.SubjectID, f.From, f.To}
	var total int
	if err := q.QueryRow(ctx, `SELECT count(*) FROM audit_log l`+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := q.Query(ctx, `SELECT l.id, l.at, coalesce(l.actor_id::text, ''), coalesce(a.login, ''), l.actor_role, l.action,
		l.subject_type, l.subject_id, l.detail, coalesce(l.request_id, '')
		FROM audit_log l LEFT JOIN accounts a ON a.id = l.actor_id`+where+` ORDER BY l.id DESC LIMIT $7 OFFSET $8`,
		append(args, size, (page-1)*size)...)
	if err != nil {
		return nil, 0, err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Logged, error) {
		var r Logged
		err := row.Scan(&r.ID, &r.At, &r.ActorID, &r.ActorLogin, &r.ActorRole, &r.Action, &r.SubjectType, &r.SubjectID, &r.Detail, &r.RequestID)
		return r, err
	})
	return out, total, err
}
