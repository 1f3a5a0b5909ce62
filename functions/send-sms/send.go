package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/capabilities"
	"github.com/jinlaiban/openplatform/shared/citizens"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/sms"
	"github.com/jinlaiban/openplatform/shared/sso"
	"github.com/jinlaiban/openplatform/shared/valid"
	"github.com/jinlaiban/openplatform/shared/vendorauth"
)

type sendRequest struct {
	TemplateCode string            `json:"template_code"`
	Params       map[string]string `json:"params"`
	CitizenID    string            `json:"citizen_id"` // the application's id for a citizen, or
	Mobile       string            `json:"mobile"`     // a number (the vendor's own staff)
}

func (s *sendRequest) Valid() map[string]string {
	m := map[string]string{}
	if s.TemplateCode == "" || len(s.TemplateCode) > 32 {
		m["template_code"] = "must be one of the application's approved template codes"
	}
	switch {
	case (s.CitizenID == "") == (s.Mobile == ""):
		m["citizen_id"] = "give exactly one of citizen_id and mobile"
	case s.Mobile != "":
		if r := valid.Mobile(s.Mobile); r != "" {
			m["mobile"] = r
		}
	case len(s.CitizenID) > 64:
		m["citizen_id"] = "is too long"
	}
	for k, v := range s.Params {
		if n := utf8.RuneCountInString(v); n == 0 || n > 35 || strings.ContainsAny(v, "\r\n") {
			m["params."+k] = "must be 1-35 characters on one line"
		}
	}
	return m
}

// sendResult is the answer to a send, the same for every retry with its idempotency key.
type sendResult struct {
	ID         string    `json:"id"`
	Status     string    `json:"status"`
	ProviderID string    `json:"provider_id,omitempty"`
	Error      string    `json:"error,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// send texts one message from an approved template.
func (s *server) send(w http.ResponseWriter, r *http.Request, c vendorauth.Caller) error {
	key, err := capabilities.IdempotencyKey(r, false)
	if err != nil {
		return err
	}
	req, err := fn.Decode[sendRequest](r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	tpl, err := s.template(ctx, c.AppID, req)
	if err != nil {
		return err
	}
	to, citizenID, err := s.recipient(ctx, c, req)
	if err != nil {
		return err
	}
	// A retry is the same request in content, however its JSON is laid out.
	canonical, _ := json.Marshal(req)
	hash := capabilities.RequestHash(r, canonical)
	toIndex := s.sealer.Index("sms-mobile", to)
	var res sendResult
	status := http.StatusCreated
	err = db.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		if key != "" {
			// Retries with one key queue here; the first sends, the others read its result.
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "sms-key/"+c.AppID+"/"+key); err != nil {
				return err
			}
			var prior []byte
			err := tx.QueryRow(ctx, `SELECT request_hash, id, status, coalesce(provider_id, ''), coalesce(error, ''), created_at
				FROM sms_sends WHERE application_id = $1 AND idempotency_key = $2`, c.AppID, key).
				Scan(&prior, &res.ID, &res.Status, &res.ProviderID, &res.Error, &res.CreatedAt)
			if err == nil {
				if !bytes.Equal(prior, hash) {
					return capabilities.ErrKeyReused
				}
				status = http.StatusOK
				w.Header().Set("Idempotent-Replayed", "true")
				return nil
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		if err := s.checkLimits(ctx, tx, c.AppID, req.TemplateCode, toIndex); err != nil {
			return err
		}
		provider := s.provider
		if dev, ok := provider.(*sms.Dev); ok {
			// The development provider writes to the database: in this transaction, not on a
			// second connection, which a pool held by sends waiting for this one's lock would
			// never free.
			provider = &sms.Dev{DB: tx, Sealer: dev.Sealer}
		}
		res.Status = "sent"
		res.ProviderID, err = provider.Send(ctx, sms.Message{To: to, SignName: tpl.signName, TemplateCode: req.TemplateCode, Params: req.Params})
		if err != nil {
			fn.Logger(ctx).Warn("sms provider refused", "err", err.Error())
			res.Status, res.Error, res.ProviderID = "failed", "the SMS provider did not accept the message", ""
		}
		var idem, cit any
		if key != "" {
			idem = key
		}
		if citizenID != "" {
			cit = citizenID
		}
		var provErr any
		if res.Error != "" {
			provErr = res.Error
		}
		return tx.QueryRow(ctx, `INSERT INTO sms_sends (application_id, idempotency_key, request_hash, template_code, to_index, to_mobile,
			citizen_id, status, provider, provider_id, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, nullif($10, ''), $11)
			RETURNING id, created_at`, c.AppID, idem, hash, req.TemplateCode, toIndex, s.sealer.SealString("sms-mobile", to), cit,
			res.Status, s.providerName, res.ProviderID, provErr).Scan(&res.ID, &res.CreatedAt)
	})
	if err != nil {
		return err
	}
	if res.Status == "failed" {
		p := fn.Errorf(http.StatusBadGateway, "sms-provider-failed", "The SMS provider did not accept the message; send again with a new Idempotency-Key.")
		p.Extra = map[string]any{"send_id": res.ID}
		return p
	}
	return fn.JSON(w, status, res)
}

type template struct {
	params   []string
	signName string
}

// template finds an approved template of the application and checks the parameters
// against it: every parameter given, no others.
func (s *server) template(ctx context.Context, appID string, req sendRequest) (template, error) {
	var t template
	err := s.pool.QueryRow(ctx, `SELECT t.params, g.sms_sign_name FROM sms_templates t
		JOIN capability_grants g ON g.application_id = t.application_id AND g.capability = 'sms'
		WHERE t.application_id = $1 AND t.code = $2`, appID, req.TemplateCode).Scan(&t.params, &t.signName)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, fn.Invalid(map[string]string{"template_code": "is not an approved template of this application"})
	}
	if err != nil {
		return t, err
	}
	problems := map[string]string{}
	for _, p := range t.params {
		if _, ok := req.Params[p]; !ok {
			problems["params."+p] = "is required by the template"
		}
	}
	for k := range req.Params {
		if !contains(t.params, k) {
			problems["params."+k] = "is not a parameter of the template (" + strings.Join(t.params, ", ") + ")"
		}
	}
	if len(problems) > 0 {
		return t, fn.Invalid(problems)
	}
	return t, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// recipient resolves the number to text: a citizen of this application (in the test
// environment, a test citizen), or the number given.
func (s *server) recipient(ctx context.Context, c vendorauth.Caller, req sendRequest) (mobile, citizenID string, err error) {
	if req.Mobile != "" {
		return req.Mobile, "", nil
	}
	if citizenID, err = sso.CitizenOf(ctx, s.pool, c.AppID, c.Environment, req.CitizenID); err != nil {
		return "", "", err
	}
	person, err := citizens.Get(ctx, s.pool, s.sealer, citizenID)
	return person.Mobile, citizenID, err
}

// checkLimits holds the per-number limits for one application and template, counted under a
// lock so concurrent sends cannot slip past them.
func (s *server) checkLimits(ctx context.Context, tx pgx.Tx, appID, templateCode string, toIndex []byte) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
		"sms-number/"+appID+"/"+templateCode+"/"+hex.EncodeToString(toIndex)); err != nil {
		return err
	}
	var minute, hour, day int
	var oldestMinute, oldestHour, oldestDay *time.Time
	err := tx.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE created_at > now() - interval '1 minute'),
			count(*) FILTER (WHERE created_at > now() - interval '1 hour'),
			count(*),
			min(created_at) FILTER (WHERE created_at > now() - interval '1 minute'),
			min(created_at) FILTER (WHERE created_at > now() - interval '1 hour'),
			min(created_at)
		FROM sms_sends WHERE application_id = $1 AND template_code = $2 AND to_index = $3 AND status = 'sent'
			AND created_at > now() - interval '1 day'`, appID, templateCode, toIndex).
		Scan(&minute, &hour, &day, &oldestMinute, &oldestHour, &oldestDay)
	if err != nil {
		return err
	}
	for _, l := range []struct {
		count, limit int
		oldest       *time.Time
		window       time.Duration
		name         string
	}{
		{minute, s.cfg.PerMinute, oldestMinute, time.Minute, "minute"},
		{hour, s.cfg.PerHour, oldestHour, time.Hour, "hour"},
		{day, s.cfg.PerDay, oldestDay, 24 * time.Hour, "day"},
	} {
		if l.count >= l.limit {
			p := fn.Errorf(http.StatusTooManyRequests, "sms-number-limit",
				fmt.Sprintf("This number received %d messages of this template in the last %s (the limit); try later.", l.count, l.name))
			if l.oldest != nil {
				p.RetryAfter = time.Until(l.oldest.Add(l.window))
			}
			return p
		}
	}
	return nil
}

type sendSummary struct {
	ID           string    `json:"id"`
	TemplateCode string    `json:"template_code"`
	Mobile       string    `json:"mobile"`
	Status       string    `json:"status"`
	ProviderID   string    `json:"provider_id,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

// sends lists the application's sends, newest first, numbers masked.
func (s *server) sends(w http.ResponseWriter, r *http.Request, c vendorauth.Caller) error {
	page, size, err := fn.Paging(r)
	if err != nil {
		return err
	}
	rows, err := s.pool.Query(r.Context(), `SELECT id, template_code, to_mobile, status, coalesce(provider_id, ''), created_at
		FROM sms_sends WHERE application_id = $1 ORDER BY created_at DESC, id LIMIT $2 OFFSET $3`, c.AppID, size, (page-1)*size)
	if err != nil {
		return err
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (sendSummary, error) {
		var x sendSummary
		var sealed []byte
		if err := row.Scan(&x.ID, &x.TemplateCode, &sealed, &x.Status, &x.ProviderID, &x.CreatedAt); err != nil {
			return x, err
		}
		m, err := s.sealer.OpenString("sms-mobile", sealed)
		x.Mobile = valid.MaskMobile(m)
		return x, err
	})
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, map[string]any{"items": items, "page": page, "page_size": size})
}

// devInbox shows what the development provider "sent" to a number: for developers and the
// super-app simulator. Served only with SMS_PROVIDER=dev.
func (s *server) devInbox(w http.ResponseWriter, r *http.Request) error {
	mobile := r.URL.Query().Get("mobile")
	if reason := valid.Mobile(mobile); reason != "" {
		return fn.Invalid(map[string]string{"mobile": reason})
	}
	msgs, err := sms.DevInbox(r.Context(), s.pool, s.sealer, mobile, 20)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, map[string]any{"items": msgs})
}
