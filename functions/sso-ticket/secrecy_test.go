package main

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/services"
	"github.com/jinlaiban/openplatform/shared/sso"
)

func TestTicketsSessionsAndPersonalDataAreNeitherStoredNorLoggedInPlaintext(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.approvedApp(t, "公积金系统")
	inTesting := h.service(t, a, "公积金提取", services.Testing)
	live := h.service(t, a, "公积金查询", services.Live)
	c := h.newCitizen(t, "13912340001", "14010519900307123X")
	h.whitelist(t, a, c)

	secrets := map[string]string{
		"super-app credential": superAppToken,
		"mobile number":        c.Mobile,
		"ID number":            c.IDNumber,
		"test ticket":          h.issue(t, c, inTesting).Ticket,
		"production ticket":    h.issue(t, c, live).Ticket,
	}
	// Refused calls are logged too.
	h.askTicket(t, c.ID, live.ModuleCode, bearer("wrong-"+superAppToken)).want(t, http.StatusUnauthorized)
	h.do(t, "POST", "/api/v1/citizen/sessions", map[string]string{"mobile": c.Mobile, "code": "000000"}).want(t, http.StatusUnauthorized)

	s := h.signIn(t, c)
	secrets["citizen session"] = s.Token
	r := h.do(t, "GET", "/api/v1/sso/open?module_code="+inTesting.ModuleCode, nil, withCookie(s.Token)).want(t, http.StatusFound)
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	secrets["ticket of the redirect"] = loc.Query().Get("ticket")
	tok, err := sso.Exchange(context.Background(), h.pool, h.sealer, a.ID, "test", secrets["ticket of the redirect"], time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	secrets["access token"] = tok.AccessToken
	h.do(t, "GET", "/api/v1/citizen/services", nil, bearer(s.Token)).want(t, http.StatusOK)

	noneOf(t, "the database", h.dump(t), secrets)
	noneOf(t, "the logs", h.logs.String(), secrets)
}
