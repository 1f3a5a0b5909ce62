// Package reviews records administrators' review decisions (who, when, what, why) on
// applications, services and capability requests, and reads their history.
package reviews

import (
	"context"
	"time"

	"github.com/jinlaiban/openplatform/shared/db"
)

// Decision is one review decision.
type Decision struct {
	ID         string    `json:"id"`
	Decision   string    `json:"decision"`
	Reason     string    `json:"reason,omitempty"`
	AdminID    string    `json:"admin_id"`
	AdminLogin string    `json:"admin_login"`
	CreatedAt  time.Time `json:"created_at"`
}

// Record adds a decision on subject (e.g. "application", id), in the caller's transaction.
func Record(ctx context.Context, tx db.Querier, subjectType, subjectID, decision, reason, adminID string) error {
	var r any
	if reason != "" {
		r = reason
	}
	_, err := tx.Exec(ctx, `INSERT INTO review_decisions (subject_type, subject_id, decision, reason, admin_id)
		VALUES ($1, $2, $3, $4, $5)`, subjectType, subjectID, decision, r, adminID)
	return err
}

// History lists the decisions on a subject, oldest first.
func History(ctx context.Context, q db.Querier, subjectType, subjectID string) ([]Decision, error) {
	rows, err := q.Query(ctx, `SELECT d.id, d.decision, coalesce(d.reason, ''), d.admin_id, a.login, d.created_at
		FROM review_decisions d JOIN accounts a ON a.id = d.admin_id
		WHERE d.subject_type = $1 AND d.subject_id = $2 ORDER BY d.created_at, d.id`, subjectType, subjectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Decision{}
	for rows.Next() {
		var d Decision
		if err := rows.Scan(&d.ID, &d.Decision, &d.Reason, &d.AdminID, &d.AdminLogin, &d.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
