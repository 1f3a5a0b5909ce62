// Package sso is single sign-on: one-time tickets for a citizen opening a service, their
// exchange for short-lived access tokens by the vendor's backend, and the tokens' lookup for
// user info. Tickets and tokens are random, stored only as hashes, and carry a visible
// "test_" prefix in the test environment.
package sso

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/citizens"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/services"
)

// Environments, and the prefix that marks the test one.
const (
	EnvTest       = "test"
	EnvProduction = "production"
	TestPrefix    = "test_"
)

// MaxTicketTTL bounds a ticket's life.
const MaxTicketTTL = 5 * time.Minute

// Environment is the environment a service's tickets belong to: production once it is live.
func Environment(s services.Service) string {
	if s.Status == services.Live {
		return EnvProduction
	}
	return EnvTest
}

func prefix(env, kind string) string {
	if env == EnvTest {
		return TestPrefix + kind
	}
	return kind
}

// Ticket is an issued ticket and where to send the browser with it.
type Ticket struct {
	Ticket      string    `json:"ticket"`
	Environment string    `json:"environment"`
	RedirectURL string    `json:"redirect_url"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// IssueTicket makes a ticket for a citizen opening a service. The caller has checked that
// the citizen may open it. The ticket carries the citizen's pairwise id for the service's
// application, which the exchange records.
func IssueTicket(ctx context.Context, q db.Querier, sealer *seal.Sealer, citizenID string, s services.Service, ttl time.Duration) (Ticket, error) {
	env := Environment(s)
	t := Ticket{Ticket: auth.NewToken(prefix(env, "tk_")), Environment: env, ExpiresAt: time.Now().Add(ttl).UTC().Truncate(time.Second)}
	_, err := q.Exec(ctx, `INSERT INTO sso_tickets (ticket_hash, environment, citizen_id, service_id, application_id, expires_at, pairwise_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, auth.HashToken(t.Ticket), env, citizenID, s.ID, s.Application.ID, t.ExpiresAt,
		PairwiseID(sealer, s.Application.ID, citizenID))
	if err != nil {
		return t, err
	}
	target := s.TestURL
	if env == EnvProduction {
		target = s.ProductionURL
	}
	u, err := url.Parse(target)
	if err != nil {
		return t, err
	}
	qs := u.Query()
	qs.Set("ticket", t.Ticket)
	qs.Set("module_callback_code", s.ModuleCallbackCode)
	u.RawQuery = qs.Encode()
	t.RedirectURL = u.String()
	return t, nil
}

// Token is an access token as handed to the vendor's backend.
type Token struct {
	AccessToken        string `json:"access_token"`
	TokenType          string `json:"token_type"`
	ExpiresIn          int    `json:"expires_in"`
	Environment        string `json:"environment"`
	ModuleCode         string `json:"module_code"`
	ModuleCallbackCode string `json:"module_callback_code"`
}

func invalidTicket(detail string) *fn.Problem {
	return fn.Errorf(http.StatusBadRequest, "invalid-ticket", detail)
}

// Exchange trades a ticket of the signing application for an access token, and records the
// citizen's pairwise id so the application can address them later. A ticket is good once,
// in the environment it was issued for: a second exchange is refused and revokes every token
// issued from it (RFC 6749 §4.1.2), and of many exchanges at once exactly one succeeds.
//
// Consuming the ticket, issuing the token and recording the pairwise id are one statement:
// atomic without a transaction, one round trip instead of four (BEGIN, UPDATE, INSERT,
// COMMIT). When it changes nothing, refuse says why.
func Exchange(ctx context.Context, pool *pgxpool.Pool, sealer *seal.Sealer, appID, env, ticket string, ttl time.Duration) (Token, error) {
	hash := auth.HashToken(ticket)
	out := Token{AccessToken: auth.NewToken(prefix(env, "at_")), TokenType: "Bearer", ExpiresIn: int(ttl.Seconds()), Environment: env}
	var citizenID string
	var pairwise *string
	err := pool.QueryRow(ctx, `WITH t AS (
			UPDATE sso_tickets t SET used_at = now()
			FROM services s JOIN applications a ON a.id = s.application_id
			WHERE t.ticket_hash = $1 AND t.application_id = $2 AND t.environment = $3
				AND t.used_at IS NULL AND t.expires_at > now() AND s.id = t.service_id
			RETURNING t.citizen_id, t.pairwise_id, a.user_info_level, s.module_code, s.module_callback_code),
		token AS (
			INSERT INTO access_tokens (token_hash, ticket_hash, environment, application_id, citizen_id, user_info_level, expires_at)
			SELECT $4, $1, $3, $2, citizen_id, user_info_level, now() + $5::interval FROM t),
		pairwise AS (
			INSERT INTO pairwise_ids (application_id, pairwise_id, citizen_id)
			SELECT $2, pairwise_id, citizen_id FROM t WHERE pairwise_id IS NOT NULL ON CONFLICT DO NOTHING)
		SELECT citizen_id, pairwise_id, module_code, module_callback_code FROM t`,
		hash, appID, env, auth.HashToken(out.AccessToken), ttl).Scan(&citizenID, &pairwise, &out.ModuleCode, &out.ModuleCallbackCode)
	if errors.Is(err, pgx.ErrNoRows) {
		return Token{}, refuse(ctx, pool, hash, appID, env)
	}
	if err != nil {
		return Token{}, err
	}
	if pairwise == nil {
		// A ticket issued before tickets carried the pairwise id (or, during a rolling
		// update, by an sso-ticket instance of the previous version).
		_, err = pool.Exec(ctx, `INSERT INTO pairwise_ids (application_id, pairwise_id, citizen_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			appID, PairwiseID(sealer, appID, citizenID), citizenID)
	}
	return out, err
}

// refuse explains why a ticket of this application cannot be exchanged in env. A used one
// gets every token issued from it revoked before the refusal.
func refuse(ctx context.Context, pool *pgxpool.Pool, hash []byte, appID, env string) error {
	var used, expired bool
	var ticketEnv string
	err := pool.QueryRow(ctx, `SELECT used_at IS NOT NULL, expires_at <= now(), environment FROM sso_tickets WHERE ticket_hash = $1 AND application_id = $2`,
		hash, appID).Scan(&used, &expired, &ticketEnv)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return invalidTicket("No such ticket for this application.")
	case err != nil:
		return err
	case used:
		if _, err := pool.Exec(ctx, `UPDATE access_tokens SET revoked_at = now() WHERE ticket_hash = $1 AND revoked_at IS NULL`, hash); err != nil {
			return err
		}
		return invalidTicket("This ticket was used already; tokens issued from it are revoked. Start a new sign-in.")
	case expired:
		return invalidTicket("This ticket expired; tickets live for minutes. Start a new sign-in.")
	case ticketEnv != env:
		return fn.Errorf(http.StatusBadRequest, "environment-mismatch", "This ticket belongs to the "+ticketEnv+
			" environment; sign the exchange with the application's "+ticketEnv+" appSecret.")
	default:
		// Unused, unexpired, this environment, yet the exchange matched nothing: only a
		// ticket whose service is gone could be in this state.
		return fmt.Errorf("sso: ticket of application %s neither exchangeable nor refusable", appID)
	}
}

// Grant is what a valid access token grants: the citizen (personal data still sealed), in an
// environment, at a user-info level.
type Grant struct {
	CitizenID     string
	Environment   string
	UserInfoLevel string
	Citizen       citizens.Sealed
}

// Lookup checks an access token of the signing application and environment, and reads the
// citizen it grants in the same statement.
func Lookup(ctx context.Context, q db.Querier, appID, env, token string) (Grant, error) {
	var g Grant
	var revoked, expired bool
	err := q.QueryRow(ctx, `SELECT t.citizen_id, t.environment, coalesce(t.user_info_level, ''), t.revoked_at IS NOT NULL, t.expires_at <= now(),
			`+citizens.SealedColumns+`
		FROM access_tokens t JOIN citizens c ON c.id = t.citizen_id WHERE t.token_hash = $1 AND t.application_id = $2`, auth.HashToken(token), appID).
		Scan(append([]any{&g.CitizenID, &g.Environment, &g.UserInfoLevel, &revoked, &expired}, g.Citizen.Targets()...)...)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Grant{}, fn.Errorf(http.StatusUnauthorized, "invalid-token", "No such access token for this application.")
	case err != nil:
		return Grant{}, err
	case revoked:
		return Grant{}, fn.Errorf(http.StatusUnauthorized, "invalid-token", "This access token was revoked (its ticket was replayed).")
	case expired:
		return Grant{}, fn.Errorf(http.StatusUnauthorized, "invalid-token", "This access token expired; tokens live for minutes and must not be stored.")
	case g.Environment != env:
		return Grant{}, fn.Errorf(http.StatusUnauthorized, "environment-mismatch", "This token belongs to the "+g.Environment+
			" environment; sign with the application's "+g.Environment+" appSecret.")
	}
	return g, nil
}

// PairwiseID is the citizen's id as one application sees it: stable for that application,
// different in every other, so two vendors cannot join their data on it.
func PairwiseID(s *seal.Sealer, appID, citizenID string) string {
	return hex.EncodeToString(s.Index("pairwise-id", appID+"/"+citizenID)[:16])
}

// CitizenOf resolves an application's pairwise id to the citizen, for capabilities that
// address a citizen: only citizens who signed in to the application's services resolve, and
// a call signed with the test secret reaches only the application's test citizens, so a test
// environment can never text or message the public.
func CitizenOf(ctx context.Context, q db.Querier, appID, env, pairwiseID string) (string, error) {
	var id string
	err := q.QueryRow(ctx, `SELECT p.citizen_id FROM pairwise_ids p WHERE p.application_id = $1 AND p.pairwise_id = $2
		AND ($3 <> 'test' OR EXISTS (SELECT 1 FROM test_citizens t WHERE t.application_id = $1 AND t.citizen_id = p.citizen_id))`,
		appID, pairwiseID, env).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		detail := "No citizen with that id has signed in to this application's services."
		if env == EnvTest {
			detail = "No test citizen of this application has that id (calls signed with the test secret reach only the application's test citizens)."
		}
		p := fn.Errorf(http.StatusUnprocessableEntity, "unknown-citizen", detail)
		p.Params = []fn.InvalidParam{{Name: "citizen_id", Reason: "not a citizen id of this application"}}
		return "", p
	}
	return id, err
}
