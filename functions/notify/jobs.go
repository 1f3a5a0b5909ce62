package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/accounts"
	"github.com/jinlaiban/openplatform/shared/events"
	"github.com/jinlaiban/openplatform/shared/sms"
	"github.com/jinlaiban/openplatform/shared/valid"
	"github.com/jinlaiban/openplatform/shared/webhooks"
)

// outcome is what one run of a job came to.
type outcome int

const (
	none   outcome = iota // nothing was due (or the job is taken or finished)
	done                  // sent / delivered
	failed                // this attempt failed; retried later
	gaveUp                // failed for the last time
)

// Each job (an SMS, a webhook delivery) is claimed with FOR UPDATE SKIP LOCKED in a short
// transaction that also leases it (its next attempt is put off past the longest the attempt
// can take), so a job is run by one runner at a time (the tick, the dispatch after an event,
// another instance) and no connection is held while the provider or endpoint is called. The
// result is written after the call (only if no one else took the job meanwhile), with a
// context that a caller hanging up does not cancel; a job is marked sent only after the
// provider or endpoint took it. A runner that dies mid-attempt leaves the job to be tried
// again once its lease ends.

const smsTimeout = 10 * time.Second

// lease is how long a claimed job is kept from other runners: the attempt's own bound and
// a wide margin.
func lease(attempt time.Duration) time.Duration { return attempt + 2*time.Minute }

// runSMS runs the SMS job id, or with id "" the next due one.
func (s *server) runSMS(ctx context.Context, id string) (outcome, error) {
	var jobID, vendorID, template string
	var params []byte
	var attempts int
	err := s.pool.QueryRow(ctx, `UPDATE sms_jobs j SET next_attempt_at = now() + $2 * interval '1 millisecond'
		FROM (SELECT id FROM sms_jobs WHERE status = 'pending' AND next_attempt_at <= now() AND ($1 = '' OR id::text = $1)
			ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED) c
		WHERE j.id = c.id RETURNING j.id, j.vendor_id, j.template_code, j.params, j.attempts`,
		id, lease(smsTimeout).Milliseconds()).Scan(&jobID, &vendorID, &template, &params, &attempts)
	if errors.Is(err, pgx.ErrNoRows) {
		return none, nil
	}
	if err != nil {
		return none, err
	}
	var msg sms.Message
	if err := json.Unmarshal(params, &msg.Params); err != nil {
		return none, err
	}
	vendor, err := accounts.Get(ctx, s.pool, s.sealer, vendorID)
	if err != nil {
		return none, err
	}
	msg.To, msg.SignName, msg.TemplateCode = vendor.ContactMobile, s.signName, template
	var providerID string
	var sendErr error
	if msg.To == "" {
		sendErr = errors.New("the vendor has no contact mobile")
	} else {
		sctx, cancel := context.WithTimeout(ctx, smsTimeout)
		providerID, sendErr = s.sms.Send(sctx, msg)
		cancel()
	}
	wctx := context.WithoutCancel(ctx)
	o := done
	if sendErr == nil {
		_, err = s.pool.Exec(wctx, `UPDATE sms_jobs SET status = 'sent', sent_at = now(), attempts = attempts + 1, provider_id = $3,
			last_error = NULL WHERE id = $1 AND attempts = $2`, jobID, attempts, providerID)
	} else {
		// A provider's error may quote the number: never store or log it.
		reason := events.Truncate(strings.ReplaceAll(sendErr.Error(), msg.To, valid.MaskMobile(msg.To)), 500)
		o = retryOrGiveUp(attempts+1, s.cfg.SMSMaxAttempts)
		if msg.To == "" {
			o = gaveUp // nothing to retry
		}
		_, err = s.pool.Exec(wctx, `UPDATE sms_jobs SET attempts = attempts + 1, last_error = $3,
			status = CASE WHEN $4 THEN 'failed' ELSE 'pending' END,
			next_attempt_at = now() + $5 * interval '1 millisecond' WHERE id = $1 AND attempts = $2`,
			jobID, attempts, reason, o == gaveUp, events.Backoff(s.cfg.RetryBase, s.cfg.RetryMax, attempts+1).Milliseconds())
	}
	return o, err
}

func retryOrGiveUp(attempts, max int) outcome {
	if attempts >= max {
		return gaveUp
	}
	return failed
}

// runWebhook attempts the delivery id, or with id "" the next due one. An endpoint deleted
// since gets nothing: the delivery is given up.
func (s *server) runWebhook(ctx context.Context, id string) (outcome, error) {
	var d struct {
		id, eventID, payload, url string
		attempts                  int
		secret, previous          []byte
		previousLive, deleted     bool
	}
	err := s.pool.QueryRow(ctx, `WITH c AS (
			UPDATE webhook_deliveries w SET next_attempt_at = now() + $2 * interval '1 millisecond'
			FROM (SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= now() AND ($1 = '' OR id::text = $1)
				ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED) due
			WHERE w.id = due.id RETURNING w.id, w.event_id, w.payload, w.attempts, w.endpoint_id)
		SELECT c.id, c.event_id, c.payload, c.attempts, e.url, e.secret, e.previous_secret,
			coalesce(e.previous_expires_at > now(), false), e.deleted_at IS NOT NULL
		FROM c JOIN webhook_endpoints e ON e.id = c.endpoint_id`, id, lease(s.cfg.WebhookTimeout).Milliseconds()).
		Scan(&d.id, &d.eventID, &d.payload, &d.attempts, &d.url, &d.secret, &d.previous, &d.previousLive, &d.deleted)
	if errors.Is(err, pgx.ErrNoRows) {
		return none, nil
	}
	if err != nil {
		return none, err
	}
	var status int
	var sendErr error
	if d.deleted {
		sendErr = errors.New("the endpoint was deleted")
	} else {
		secrets := []string{}
		for _, sealed := range [][]byte{d.secret, d.previous} {
			if sealed == nil || (len(secrets) > 0 && !d.previousLive) {
				continue
			}
			plain, err := s.sealer.OpenString(webhooks.SecretPurpose, sealed)
			if err != nil {
				return none, err
			}
			secrets = append(secrets, plain)
		}
		status, sendErr = s.post(ctx, d.url, d.eventID, []byte(d.payload), secrets)
	}
	wctx := context.WithoutCancel(ctx)
	var code any
	if status != 0 {
		code = status
	}
	o := done
	if sendErr == nil {
		_, err = s.pool.Exec(wctx, `UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), last_attempt_at = now(),
			attempts = attempts + 1, last_status_code = $3, last_error = NULL WHERE id = $1 AND attempts = $2`, d.id, d.attempts, code)
	} else {
		o = retryOrGiveUp(d.attempts+1, s.cfg.WebhookMaxAttempts)
		if d.deleted {
			o = gaveUp
		}
		_, err = s.pool.Exec(wctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = now(),
			last_status_code = $3, last_error = $4, status = CASE WHEN $5 THEN 'failed' ELSE 'pending' END,
			next_attempt_at = now() + $6 * interval '1 millisecond' WHERE id = $1 AND attempts = $2`,
			d.id, d.attempts, code, events.Truncate(sendErr.Error(), 500), o == gaveUp,
			events.Backoff(s.cfg.RetryBase, s.cfg.RetryMax, d.attempts+1).Milliseconds())
	}
	return o, err
}

// post makes one signed delivery; only a 2xx answer counts as delivered.
func (s *server) post(ctx context.Context, url, id string, body []byte, secrets []string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(string(body)))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "jinlaiban-openplatform-webhooks/1")
	if err := webhooks.SetHeaders(req.Header, id, time.Now(), body, secrets...); err != nil {
		return 0, err
	}
	resp, err := s.webhooks.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// webhookClient posts to vendors' endpoints: no proxy from the environment, no redirects
// (a 3xx is a failed attempt), and never to loopback, private, link-local or other internal
// addresses (checked on the address actually dialled, so DNS cannot smuggle one in), but
// loopback when allowLoopback (the development stack).
func webhookClient(timeout time.Duration, allowLoopback bool) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, Control: func(network, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		ip := net.ParseIP(host)
		if ip == nil {
			return fmt.Errorf("webhook: cannot check address %s", host)
		}
		if ip.IsLoopback() && allowLoopback {
			return nil
		}
		if internal(ip) {
			return fmt.Errorf("webhook: refusing to connect to internal address %s", ip)
		}
		return nil
	}}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{DialContext: dialer.DialContext, ForceAttemptHTTP2: true, MaxIdleConns: 20,
			IdleConnTimeout: 60 * time.Second, TLSHandshakeTimeout: timeout, ResponseHeaderTimeout: timeout},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

var sharedAddressSpace = &net.IPNet{IP: net.IP{100, 64, 0, 0}, Mask: net.CIDRMask(10, 32)}

func internal(ip net.IP) bool {
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() || sharedAddressSpace.Contains(ip)
}
