package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/sdk"
	"github.com/jinlaiban/openplatform/shared/sso"
)

func TestAnExchangeGivesAShortLivedTokenInTheTicketsEnvironment(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp(t, "公积金系统")
	inTesting := h.service(t, a, "公积金提取", false)
	live := h.service(t, a, "公积金查询", true)
	c := h.newCitizen(t, "13900000001", "")

	cases := []struct {
		env    string
		live   bool
		prefix string
	}{
		{"test", false, "test_at_"},
		{"production", true, "at_"},
	}
	for _, tc := range cases {
		t.Run(tc.env, func(t *testing.T) {
			t.Parallel()
			s := inTesting
			if tc.live {
				s = live
			}
			tok, err := h.client(a).ExchangeTicket(context.Background(), h.ticket(t, c, s))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(tok.AccessToken, tc.prefix) || (tc.env == "production" && strings.HasPrefix(tok.AccessToken, "test_")) {
				t.Errorf("access token %q, want prefix %q", tok.AccessToken, tc.prefix)
			}
			if tok.TokenType != "Bearer" || tok.ExpiresIn != int(tokenTTL.Seconds()) || tok.Environment != tc.env ||
				tok.ModuleCode != s.ModuleCode || tok.ModuleCallbackCode != s.ModuleCallbackCode {
				t.Errorf("token %+v, want a Bearer token for %ds in %s for %s/%s", tok, int(tokenTTL.Seconds()), tc.env,
					s.ModuleCode, s.ModuleCallbackCode)
			}
			// The token grants the citizen to this application in this environment.
			g, err := sso.Lookup(context.Background(), h.pool, a.ID, tc.env, tok.AccessToken)
			if err != nil || g.CitizenID != c.ID || g.Environment != tc.env || g.UserInfoLevel != "basic" {
				t.Errorf("lookup: %+v, %v; want citizen %s in %s at basic", g, err, c.ID, tc.env)
			}
			stored := scalar[int](t, h, `SELECT count(*) FROM access_tokens WHERE token_hash = $1 AND expires_at > now() + interval '4 minutes'
				AND expires_at <= now() + interval '5 minutes'`, auth.HashToken(tok.AccessToken))
			if stored != 1 {
				t.Errorf("the token is not stored by its hash with a five-minute life")
			}
		})
	}
}

// wantRevoked fails the test unless user info would refuse the token as revoked.
func wantRevoked(t *testing.T, h *harness, appID, env, token string) {
	t.Helper()
	_, err := sso.Lookup(context.Background(), h.pool, appID, env, token)
	var p *fn.Problem
	if !errors.As(err, &p) || p.Status != http.StatusUnauthorized || p.Code != "invalid-token" {
		t.Fatalf("looking up the token: %v, want 401 invalid-token", err)
	}
}

func TestAReplayedTicketIsRefusedAndItsTokenRevoked(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp(t, "公积金系统")
	s := h.service(t, a, "公积金提取", false)
	c := h.newCitizen(t, "13900000001", "")
	tk := h.ticket(t, c, s)
	client := h.client(a)

	tok, err := client.ExchangeTicket(context.Background(), tk)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sso.Lookup(context.Background(), h.pool, a.ID, "test", tok.AccessToken); err != nil {
		t.Fatalf("the fresh token does not work: %v", err)
	}
	_, err = client.ExchangeTicket(context.Background(), tk)
	wantSDKError(t, err, http.StatusBadRequest, "invalid-ticket")
	wantRevoked(t, h, a.ID, "test", tok.AccessToken)
	if n := scalar[int](t, h, `SELECT count(*) FROM access_tokens`); n != 1 {
		t.Errorf("%d access tokens, want only the revoked first one", n)
	}
}

func TestOfAHundredConcurrentExchangesOfOneTicketExactlyOneSucceeds(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp(t, "公积金系统")
	s := h.service(t, a, "公积金提取", false)
	c := h.newCitizen(t, "13900000001", "")
	tk := h.ticket(t, c, s)
	client := h.client(a)

	const n = 100
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			_, errs[i] = client.ExchangeTicket(context.Background(), tk)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()

	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case sdk.Code(err) != "invalid-ticket":
			t.Errorf("an exchange failed otherwise than as a used ticket: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent exchanges succeeded, want exactly 1", ok, n)
	}
	if got := scalar[int](t, h, `SELECT count(*) FROM access_tokens`); got != 1 {
		t.Errorf("%d access tokens issued, want 1", got)
	}
}

func TestAnExpiredTicketIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp(t, "公积金系统")
	s := h.service(t, a, "公积金提取", false)
	c := h.newCitizen(t, "13900000001", "")
	tk := h.ticket(t, c, s)
	h.expireTicket(t, tk)

	_, err := h.client(a).ExchangeTicket(context.Background(), tk)
	e := wantSDKError(t, err, http.StatusBadRequest, "invalid-ticket")
	if !strings.Contains(e.Detail, "expired") {
		t.Errorf("detail %q does not say the ticket expired", e.Detail)
	}
	if got := scalar[int](t, h, `SELECT count(*) FROM access_tokens`); got != 0 {
		t.Errorf("%d access tokens issued for an expired ticket", got)
	}
}

func TestATicketIsExchangedOnlyByItsOwnApplication(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	owner := h.newApp(t, "公积金系统")
	other := h.newApp(t, "社保系统")
	s := h.service(t, owner, "公积金提取", false)
	h.service(t, other, "社保查询", false)
	c := h.newCitizen(t, "13900000001", "")
	tk := h.ticket(t, c, s)

	_, err := h.client(other).ExchangeTicket(context.Background(), tk)
	wantSDKError(t, err, http.StatusBadRequest, "invalid-ticket")
	// The attempt neither used the ticket up nor left a token behind.
	if got := scalar[int](t, h, `SELECT count(*) FROM access_tokens`); got != 0 {
		t.Errorf("%d access tokens issued to another application", got)
	}
	tok, err := h.client(owner).ExchangeTicket(context.Background(), tk)
	if err != nil {
		t.Fatalf("the owner cannot exchange its ticket after another application tried: %v", err)
	}
	if _, err := sso.Lookup(context.Background(), h.pool, owner.ID, "test", tok.AccessToken); err != nil {
		t.Errorf("the owner's token does not work: %v", err)
	}
}

func TestTheSecretThatSignsMustBeOfTheTicketsEnvironment(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp(t, "公积金系统")
	inTesting := h.service(t, a, "公积金提取", false)
	live := h.service(t, a, "公积金查询", true)
	c := h.newCitizen(t, "13900000001", "")

	cases := []struct {
		name   string
		ticket func() string
		misfit *sdk.Client // signs with the other environment's secret
	}{
		{"a production ticket signed with the test secret", func() string { return h.ticket(t, c, live) },
			sdk.New(h.srv.URL, a.AppCode, "", a.testSecret)},
		{"a test ticket signed with the production secret", func() string { return h.ticket(t, c, inTesting) },
			sdk.New(h.srv.URL, a.AppCode, a.productionSecret, "")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tk := tc.ticket()
			_, err := tc.misfit.ExchangeTicket(context.Background(), tk)
			wantSDKError(t, err, http.StatusBadRequest, "environment-mismatch")
			// The right secret still exchanges it: the mismatch did not use the ticket up.
			if _, err := h.client(a).ExchangeTicket(context.Background(), tk); err != nil {
				t.Errorf("exchanging with the right secret after a mismatch: %v", err)
			}
		})
	}
}

func TestAnExchangeNeedsATicket(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp(t, "公积金系统")
	cases := []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"no ticket", `{}`, http.StatusUnprocessableEntity, "validation-failed"},
		{"a ticket too short to be one", `{"ticket":"test_tk_x"}`, http.StatusUnprocessableEntity, "validation-failed"},
		{"a ticket nobody issued", `{"ticket":"test_tk_` + strings.Repeat("A", 43) + `"}`, http.StatusBadRequest, "invalid-ticket"},
		{"an unknown field", `{"ticket":"test_tk_` + strings.Repeat("A", 43) + `","code":"x"}`, http.StatusBadRequest, "unknown-field"},
		{"not JSON", `ticket=abc`, http.StatusBadRequest, "malformed-body"},
		{"a body over the limit", `{"ticket":"` + strings.Repeat("A", 70<<10) + `"}`, http.StatusRequestEntityTooLarge, "body-too-large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(tc.body)
			h.send(t, h.signed(t, a.AppCode, a.testSecret, body), body).wantProblem(t, tc.status, tc.code)
		})
	}
}

// The exchange records the citizen's pairwise id for the application: the one the ticket
// carries, or, for a ticket issued without one (before tickets carried it, or by an older
// sso-ticket during a rolling update), the one it computes.
func TestTheExchangeRecordsTheCitizensPairwiseID(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp(t, "公积金系统")
	live := h.service(t, a, "公积金查询", true)
	for _, carried := range []bool{true, false} {
		c := h.newCitizen(t, map[bool]string{true: "13900000001", false: "13900000002"}[carried], "")
		tk := h.ticket(t, c, live)
		if !carried {
			h.exec(t, `UPDATE sso_tickets SET pairwise_id = NULL WHERE ticket_hash = $1`, auth.HashToken(tk))
		}
		if _, err := h.client(a).ExchangeTicket(context.Background(), tk); err != nil {
			t.Fatal(err)
		}
		want := sso.PairwiseID(h.sealer, a.ID, c.ID)
		if got := scalar[string](t, h, `SELECT pairwise_id FROM pairwise_ids WHERE application_id = $1 AND citizen_id = $2`, a.ID, c.ID); got != want {
			t.Errorf("carried by the ticket %v: pairwise id %q recorded, want %q", carried, got, want)
		}
	}
}
