// Package capabilities guards the platform's open capabilities (SMS, application messages,
// to-do items): an application uses one only with a grant, within its rate limit, and every
// admitted call is counted for the portal's usage view.
package capabilities

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/vendorauth"
)

// The capabilities.
const (
	SMS     = "sms"
	Message = "message"
	Todo    = "todo"
)

// Names are how the portal shows the capabilities.
var Names = map[string]string{SMS: "短信消息", Message: "应用消息", Todo: "待办"}

// Limit is an application's allowance per capability per minute.
type Limit struct {
	PerMinute int `envconfig:"CAPABILITY_RATE_PER_MINUTE" default:"600"`
}

// Admit lets a call of capability by an application through, or refuses it: 403 without a
// grant, 429 with Retry-After over the limit. One round trip checks the grant, counts the
// call in the minute's window and in the day's usage.
func Admit(ctx context.Context, q db.Querier, appID, capability string, perMinute int) error {
	var status *string
	var count *int
	err := q.QueryRow(ctx, `WITH g AS (
			SELECT status FROM capability_grants WHERE application_id = $1 AND capability = $2),
		w AS (
			INSERT INTO rate_windows (application_id, capability, window_start, count)
			SELECT $1, $2, date_trunc('minute', now()), 1 WHERE EXISTS (SELECT 1 FROM g WHERE status = 'granted')
			ON CONFLICT (application_id, capability, window_start) DO UPDATE SET count = rate_windows.count + 1
			RETURNING count),
		u AS (
			INSERT INTO capability_usage (application_id, capability, day, count)
			SELECT $1, $2, current_date, 1 WHERE (SELECT count FROM w) <= $3
			ON CONFLICT (application_id, capability, day) DO UPDATE SET count = capability_usage.count + 1)
		SELECT (SELECT status FROM g), (SELECT count FROM w)`, appID, capability, perMinute).Scan(&status, &count)
	if err != nil {
		return err
	}
	if status == nil || *status != "granted" {
		p := fn.Errorf(http.StatusForbidden, "capability-not-granted",
			fmt.Sprintf("This application has no %s grant (%s); apply for it in the portal.", capability, Names[capability]))
		p.Extra = map[string]any{"capability": capability}
		return p
	}
	if *count > perMinute {
		p := fn.Errorf(http.StatusTooManyRequests, fn.CodeRateLimited,
			fmt.Sprintf("This application may make %d %s calls a minute; retry after the Retry-After header.", perMinute, capability))
		p.RetryAfter = time.Until(time.Now().Truncate(time.Minute).Add(time.Minute))
		return p
	}
	return nil
}

// Guard puts a capability call behind the signed-request check and Admit.
func Guard(v *vendorauth.Verifier, q db.Querier, capability string, limit Limit, h vendorauth.Handler) fn.HandlerFunc {
	return v.Guard(func(w http.ResponseWriter, r *http.Request, c vendorauth.Caller) error {
		if err := Admit(r.Context(), q, c.AppID, capability, limit.PerMinute); err != nil {
			return err
		}
		return h(w, r, c)
	})
}

// RequestHash fingerprints a request for idempotency: the same key with a different request
// is a conflict, not a retry.
func RequestHash(r *http.Request, body []byte) []byte {
	h := sha256.New()
	h.Write([]byte(r.Method + " " + r.URL.Path + "\n"))
	h.Write(body)
	return h.Sum(nil)
}

// IdempotencyKey reads the Idempotency-Key header: 1-100 visible ASCII characters.
func IdempotencyKey(r *http.Request, required bool) (string, error) {
	k := r.Header.Get("Idempotency-Key")
	if k == "" && !required {
		return "", nil
	}
	if k == "" || len(k) > 100 {
		return "", fn.Errorf(http.StatusBadRequest, "idempotency-key-invalid", "Send an Idempotency-Key header of 1-100 visible characters, unique per operation.")
	}
	for _, c := range k {
		if c < 0x21 || c > 0x7e {
			return "", fn.Errorf(http.StatusBadRequest, "idempotency-key-invalid", "The Idempotency-Key must be visible ASCII characters.")
		}
	}
	return k, nil
}

// ErrKeyReused is the answer to an idempotency key sent again with a different request.
var ErrKeyReused = fn.Errorf(http.StatusConflict, "idempotency-key-reused",
	"This Idempotency-Key was used for a different request; use a new key for a new operation.")

// Usage is one day's count of one capability.
type Usage struct {
	Capability string    `json:"capability"`
	Day        time.Time `json:"day"`
	Count      int64     `json:"count"`
}

// UsageOf lists an application's counts for the last days, oldest first.
func UsageOf(ctx context.Context, q db.Querier, appID string, days int) ([]Usage, error) {
	rows, err := q.Query(ctx, `SELECT capability, day, count FROM capability_usage
		WHERE application_id = $1 AND day > current_date - $2::int ORDER BY day, capability`, appID, days)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Usage, error) {
		var u Usage
		err := row.Scan(&u.Capability, &u.Day, &u.Count)
		return u, err
	})
}

// Check refuses a limit that would refuse every call.
func (l Limit) Check() error {
	if l.PerMinute < 1 {
		return errors.New("CAPABILITY_RATE_PER_MINUTE: must be at least 1")
	}
	return nil
}
