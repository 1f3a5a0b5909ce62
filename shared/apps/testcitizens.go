package apps

import (
	"context"
	"net/http"
	"time"

	"github.com/jinlaiban/openplatform/shared/citizens"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/valid"
)

// TestCitizen is a citizen whitelisted to open an application's services before they are
// live (seed §5.1). The mobile number is shown masked.
type TestCitizen struct {
	CitizenID string    `json:"citizen_id"`
	Mobile    string    `json:"mobile"`
	AddedBy   string    `json:"added_by"`
	AddedAt   time.Time `json:"added_at"`
}

// AddTestCitizen whitelists a citizen for an application; adding one twice is a conflict.
func AddTestCitizen(ctx context.Context, tx db.Querier, appID, citizenID, adminID string) error {
	tag, err := tx.Exec(ctx, `INSERT INTO test_citizens (application_id, citizen_id, added_by) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, appID, citizenID, adminID)
	if err == nil && tag.RowsAffected() == 0 {
		return fn.Errorf(http.StatusConflict, "already-whitelisted", "That citizen is already a test citizen of this application.")
	}
	return err
}

// RemoveTestCitizen takes a citizen off an application's whitelist.
func RemoveTestCitizen(ctx context.Context, tx db.Querier, appID, citizenID string) error {
	tag, err := tx.Exec(ctx, `DELETE FROM test_citizens WHERE application_id = $1 AND citizen_id = $2`, appID, citizenID)
	if err == nil && tag.RowsAffected() == 0 {
		return fn.NotFound("Test citizen")
	}
	return err
}

// IsTestCitizen reports whether a citizen is whitelisted for an application.
func IsTestCitizen(ctx context.Context, q db.Querier, appID, citizenID string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM test_citizens WHERE application_id = $1 AND citizen_id = $2)`, appID, citizenID).Scan(&ok)
	return ok, err
}

// TestCitizens lists an application's whitelist, newest first.
func TestCitizens(ctx context.Context, q db.Querier, s *seal.Sealer, appID string) ([]TestCitizen, error) {
	rows, err := q.Query(ctx, `SELECT t.citizen_id, c.mobile, a.login, t.added_at FROM test_citizens t
		JOIN citizens c ON c.id = t.citizen_id JOIN accounts a ON a.id = t.added_by
		WHERE t.application_id = $1 ORDER BY t.added_at DESC, t.citizen_id`, appID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []TestCitizen{}
	for rows.Next() {
		var tc TestCitizen
		var mobile []byte
		if err := rows.Scan(&tc.CitizenID, &mobile, &tc.AddedBy, &tc.AddedAt); err != nil {
			return nil, err
		}
		m, err := citizens.OpenMobile(s, mobile)
		if err != nil {
			return nil, err
		}
		tc.Mobile = valid.MaskMobile(m)
		out = append(out, tc)
	}
	return out, rows.Err()
}
