package main

import (
	"context"
	"net/http"
	"testing"
)

func TestTicketsTokensSecretsAndPersonalDataAreNeitherStoredNorLoggedInPlaintext(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp(t, "公积金系统")
	inTesting := h.service(t, a, "公积金提取", false)
	live := h.service(t, a, "公积金查询", true)
	c := h.newCitizen(t, "13912340001", "14010519900307123X")
	ctx := context.Background()
	client := h.client(a)

	secrets := map[string]string{
		"test appSecret":       a.testSecret,
		"production appSecret": a.productionSecret,
		"mobile number":        c.Mobile,
		"ID number":            c.IDNumber,
	}
	// Exchanges in both environments, a replay, and refusals of every kind.
	testTicket, prodTicket := h.ticket(t, c, inTesting), h.ticket(t, c, live)
	secrets["test ticket"], secrets["production ticket"] = testTicket, prodTicket
	tok, err := client.ExchangeTicket(ctx, testTicket)
	if err != nil {
		t.Fatal(err)
	}
	secrets["test access token"] = tok.AccessToken
	if tok, err = client.ExchangeTicket(ctx, prodTicket); err != nil {
		t.Fatal(err)
	}
	secrets["production access token"] = tok.AccessToken
	_, err = client.ExchangeTicket(ctx, testTicket)
	wantSDKError(t, err, http.StatusBadRequest, "invalid-ticket")

	expired := h.ticket(t, c, inTesting)
	secrets["expired ticket"] = expired
	h.expireTicket(t, expired)
	_, err = client.ExchangeTicket(ctx, expired)
	wantSDKError(t, err, http.StatusBadRequest, "invalid-ticket")

	refused := h.ticket(t, c, inTesting)
	secrets["ticket of a wrongly signed exchange"] = refused
	body := exchangeBody(refused)
	h.send(t, h.signed(t, a.AppCode, "test_0123456789abcdef0123456789abcdef", body), body).
		wantProblem(t, http.StatusUnauthorized, "signature-mismatch")

	noneOf(t, "the database", h.dump(t), secrets)
	noneOf(t, "the logs", h.logs.String(), secrets)
}
