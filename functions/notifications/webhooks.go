package main

import (
	"errors"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/valid"
	"github.com/jinlaiban/openplatform/shared/webhooks"
)

// maxEndpoints bounds a vendor's live endpoints (each decision is delivered to every one).
const maxEndpoints = 5

// rotationOverlap is how long the previous secret still signs after a rotation, so a vendor
// can deploy the new one without missing a delivery.
const rotationOverlap = 24 * time.Hour

// endpoint is a webhook endpoint as its vendor sees it; Secret only in the answer that made
// it (creation, rotation).
type endpoint struct {
	ID                 string     `json:"id"`
	URL                string     `json:"url"`
	Description        string     `json:"description"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
	PreviousValidUntil *time.Time `json:"previous_secret_valid_until,omitempty"`
	Secret             string     `json:"secret,omitempty"`
}

const endpointColumns = `id, url, description, created_at, updated_at,
	CASE WHEN previous_expires_at > now() THEN previous_expires_at END`

func scanEndpoint(row pgx.Row) (endpoint, error) {
	var e endpoint
	err := row.Scan(&e.ID, &e.URL, &e.Description, &e.CreatedAt, &e.UpdatedAt, &e.PreviousValidUntil)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, fn.NotFound("Webhook endpoint")
	}
	return e, err
}

type endpointRequest struct {
	URL         string `json:"url"`
	Description string `json:"description"`
}

func (r *endpointRequest) check(allowLocal bool) map[string]string {
	out := valid.Collect("url", valid.URL(r.URL, allowLocal))
	if r.Description != "" {
		if reason := valid.Line(r.Description, 1, 200); reason != "" {
			out["description"] = reason
		}
	}
	return out
}

// createEndpoint registers an endpoint and answers its signing secret, once: it is stored
// sealed and never shown again (rotate it to get a new one).
func (s *server) createEndpoint(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	req, err := fn.Decode[endpointRequest](r)
	if err != nil {
		return err
	}
	if bad := req.check(s.cfg.AllowHTTPLocalhost); len(bad) > 0 {
		return fn.Invalid(bad)
	}
	ctx := r.Context()
	secret := webhooks.NewSecret()
	var e endpoint
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// One vendor's creations are serialized, so the limit holds under concurrency.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, p.AccountID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM webhook_endpoints WHERE vendor_id = $1 AND deleted_at IS NULL`, p.AccountID).Scan(&n); err != nil {
			return err
		}
		if n >= maxEndpoints {
			return fn.Errorf(http.StatusConflict, "too-many-endpoints", "A vendor has at most 5 webhook endpoints; delete one first.")
		}
		e, err = scanEndpoint(tx.QueryRow(ctx, `INSERT INTO webhook_endpoints (vendor_id, url, description, secret) VALUES ($1, $2, $3, $4)
			RETURNING `+endpointColumns, p.AccountID, req.URL, req.Description, s.sealer.SealString(webhooks.SecretPurpose, secret)))
		return err
	})
	if err != nil {
		return err
	}
	e.Secret = secret
	w.Header().Set("Location", "/api/v1/webhooks/"+e.ID)
	return fn.JSON(w, http.StatusCreated, e)
}

func (s *server) listEndpoints(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	rows, err := s.pool.Query(r.Context(), `SELECT `+endpointColumns+` FROM webhook_endpoints
		WHERE vendor_id = $1 AND deleted_at IS NULL ORDER BY created_at, id`, p.AccountID)
	if err != nil {
		return err
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (endpoint, error) { return scanEndpoint(row) })
	if err != nil {
		return err
	}
	if items == nil {
		items = []endpoint{}
	}
	return fn.JSON(w, http.StatusOK, map[string]any{"items": items})
}

func (s *server) getEndpoint(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := fn.UUIDParam(r, "id", "Webhook endpoint")
	if err != nil {
		return err
	}
	e, err := scanEndpoint(s.pool.QueryRow(r.Context(), `SELECT `+endpointColumns+` FROM webhook_endpoints
		WHERE id = $1 AND vendor_id = $2 AND deleted_at IS NULL`, id, p.AccountID))
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, e)
}

// deleteEndpoint stops deliveries to an endpoint (pending ones are given up by notify); its
// delivery history stays.
func (s *server) deleteEndpoint(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := fn.UUIDParam(r, "id", "Webhook endpoint")
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(r.Context(), `UPDATE webhook_endpoints SET deleted_at = now(), updated_at = now(),
		secret = '\x'::bytea, previous_secret = NULL, previous_expires_at = NULL
		WHERE id = $1 AND vendor_id = $2 AND deleted_at IS NULL`, id, p.AccountID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fn.NotFound("Webhook endpoint")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rotateSecret issues a new signing secret (answered once); the previous one keeps signing
// alongside it for 24 hours.
func (s *server) rotateSecret(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := fn.UUIDParam(r, "id", "Webhook endpoint")
	if err != nil {
		return err
	}
	secret := webhooks.NewSecret()
	e, err := scanEndpoint(s.pool.QueryRow(r.Context(), `UPDATE webhook_endpoints SET previous_secret = secret,
		previous_expires_at = now() + $3 * interval '1 second', secret = $4, updated_at = now()
		WHERE id = $1 AND vendor_id = $2 AND deleted_at IS NULL RETURNING `+endpointColumns,
		id, p.AccountID, int(rotationOverlap.Seconds()), s.sealer.SealString(webhooks.SecretPurpose, secret)))
	if err != nil {
		return err
	}
	e.Secret = secret
	return fn.JSON(w, http.StatusOK, e)
}

// delivery is one event's delivery to an endpoint, as its vendor sees it.
type delivery struct {
	ID             string     `json:"id"`
	EventID        string     `json:"event_id"`
	EventType      string     `json:"event_type"`
	Status         string     `json:"status"` // pending, delivered, failed
	Attempts       int        `json:"attempts"`
	LastStatusCode *int       `json:"last_status_code"`
	LastError      *string    `json:"last_error"`
	LastAttemptAt  *time.Time `json:"last_attempt_at"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"` // pending only
	DeliveredAt    *time.Time `json:"delivered_at"`
	CreatedAt      time.Time  `json:"created_at"`
}

const deliveryColumns = `d.id, d.event_id, d.event_type, d.status, d.attempts, d.last_status_code, d.last_error, d.last_attempt_at,
	CASE WHEN d.status = 'pending' THEN d.next_attempt_at END, d.delivered_at, d.created_at`

func scanDelivery(row pgx.Row) (delivery, error) {
	var d delivery
	err := row.Scan(&d.ID, &d.EventID, &d.EventType, &d.Status, &d.Attempts, &d.LastStatusCode, &d.LastError, &d.LastAttemptAt,
		&d.NextAttemptAt, &d.DeliveredAt, &d.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, fn.NotFound("Webhook delivery")
	}
	return d, err
}

// deliveries lists an endpoint's deliveries, newest first (?status= narrows them).
func (s *server) deliveries(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := fn.UUIDParam(r, "id", "Webhook endpoint")
	if err != nil {
		return err
	}
	page, size, err := fn.Paging(r)
	if err != nil {
		return err
	}
	status := r.URL.Query().Get("status")
	switch status {
	case "", "pending", "delivered", "failed":
	default:
		return fn.Invalid(map[string]string{"status": "must be pending, delivered or failed (empty for all)"})
	}
	ctx := r.Context()
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = $1 AND vendor_id = $2)`, id, p.AccountID).
		Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return fn.NotFound("Webhook endpoint")
	}
	var total int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 AND ($2 = '' OR status = $2)`,
		id, status).Scan(&total); err != nil {
		return err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries d WHERE d.endpoint_id = $1 AND ($2 = '' OR d.status = $2)
		ORDER BY d.created_at DESC, d.id LIMIT $3 OFFSET $4`, id, status, size, (page-1)*size)
	if err != nil {
		return err
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (delivery, error) { return scanDelivery(row) })
	if err != nil {
		return err
	}
	if items == nil {
		items = []delivery{}
	}
	return fn.JSON(w, http.StatusOK, map[string]any{"items": items, "total": total, "page": page, "page_size": size})
}

// redeliver makes a delivery due again with a fresh set of attempts (delivered or given up
// alike: the vendor asks for it), and nudges notify to send it now.
func (s *server) redeliver(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := fn.UUIDParam(r, "id", "Webhook delivery")
	if err != nil {
		return err
	}
	ctx := r.Context()
	var deleted bool
	err = s.pool.QueryRow(ctx, `SELECT e.deleted_at IS NOT NULL FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
		WHERE d.id = $1 AND d.vendor_id = $2`, id, p.AccountID).Scan(&deleted)
	if errors.Is(err, pgx.ErrNoRows) {
		return fn.NotFound("Webhook delivery")
	}
	if err != nil {
		return err
	}
	if deleted {
		return fn.Errorf(http.StatusConflict, "invalid-state", "The endpoint was deleted; it receives no deliveries.")
	}
	d, err := scanDelivery(s.pool.QueryRow(ctx, `UPDATE webhook_deliveries d SET status = 'pending', attempts = 0, next_attempt_at = now(),
		delivered_at = NULL WHERE d.id = $1 AND d.vendor_id = $2 RETURNING `+deliveryColumns, id, p.AccountID))
	if err != nil {
		return err
	}
	s.nudger.Nudge()
	return fn.JSON(w, http.StatusAccepted, d)
}
