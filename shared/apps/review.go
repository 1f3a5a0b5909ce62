package apps

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/seal"
)

// Decision is one review decision.
type Decision struct {
	ID        string    `json:"id"`
	Decision  string    `json:"decision"`
	Reason    string    `json:"reason,omitempty"`
	AdminID   string    `json:"admin_id"`
	AdminName string    `json:"admin_login"`
	CreatedAt time.Time `json:"created_at"`
}

// Approve decides a pending application: it gets its appCode and its first (test) appSecret.
// Of two admins approving at once one wins; the other gets a conflict naming the status.
// Run it in a transaction together with the decision record and the outbox event.
func Approve(ctx context.Context, tx db.Querier, s *seal.Sealer, id, adminID string) (Application, string, error) {
	tag, err := tx.Exec(ctx, `UPDATE applications SET status = 'approved', app_code = $2, reject_reason = NULL,
		decided_at = now(), updated_at = now() WHERE id = $1 AND status = 'pending'`, id, NewAppCode())
	if err != nil {
		return Application{}, "", err
	}
	a, err := Get(ctx, tx, s, id)
	if err != nil {
		return a, "", err
	}
	if tag.RowsAffected() == 0 {
		return a, "", stateProblem(a, "approved", "it is pending review")
	}
	secret, err := IssueSecret(ctx, tx, s, id, EnvTest)
	if err != nil {
		return a, "", err
	}
	return a, secret.Secret, recordDecision(ctx, tx, id, "approved", "", adminID)
}

// Reject decides a pending application with a reason the vendor sees; the vendor may edit
// and resubmit it.
func Reject(ctx context.Context, tx db.Querier, s *seal.Sealer, id, adminID, reason string) (Application, error) {
	tag, err := tx.Exec(ctx, `UPDATE applications SET status = 'rejected', reject_reason = $2,
		decided_at = now(), updated_at = now() WHERE id = $1 AND status = 'pending'`, id, reason)
	if err != nil {
		return Application{}, err
	}
	a, err := Get(ctx, tx, s, id)
	if err != nil {
		return a, err
	}
	if tag.RowsAffected() == 0 {
		return a, stateProblem(a, "rejected", "it is pending review")
	}
	return a, recordDecision(ctx, tx, id, "rejected", reason, adminID)
}

func recordDecision(ctx context.Context, tx db.Querier, id, decision, reason, adminID string) error {
	var r any
	if reason != "" {
		r = reason
	}
	_, err := tx.Exec(ctx, `INSERT INTO review_decisions (subject_type, subject_id, decision, reason, admin_id)
		VALUES ('application', $1, $2, $3, $4)`, id, decision, r, adminID)
	return err
}

// Decisions lists an application's review history, oldest first.
func Decisions(ctx context.Context, q db.Querier, id string) ([]Decision, error) {
	rows, err := q.Query(ctx, `SELECT d.id, d.decision, coalesce(d.reason, ''), d.admin_id, a.login, d.created_at
		FROM review_decisions d JOIN accounts a ON a.id = d.admin_id
		WHERE d.subject_type = 'application' AND d.subject_id = $1 ORDER BY d.created_at, d.id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Decision{}
	for rows.Next() {
		var d Decision
		if err := rows.Scan(&d.ID, &d.Decision, &d.Reason, &d.AdminID, &d.AdminName, &d.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// NewAppCode returns a public application identifier: 120 random bits as 30 hex digits,
// the form of the seed's sample.
func NewAppCode() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
