package apps

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/reviews"
	"github.com/jinlaiban/openplatform/shared/seal"
)

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
	return a, secret.Secret, reviews.Record(ctx, tx, "application", id, "approved", "", adminID)
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
	return a, reviews.Record(ctx, tx, "application", id, "rejected", reason, adminID)
}

// NewAppCode returns a public application identifier: 120 random bits as 30 hex digits,
// the form of the seed's sample.
func NewAppCode() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
