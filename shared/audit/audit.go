// Package audit appends to the audit log: admin actions, credential views and personal-data
// reads. The table refuses updates and deletes.
package audit

import (
	"context"

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
