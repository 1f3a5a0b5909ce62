package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/accounts"
	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/seal"
)

// Person is an account made for a test, signed in.
type Person struct {
	ID       string
	Login    string
	Password string
	Token    string // a session token: send as "Authorization: Bearer <Token>"
	CSRF     string // the session's CSRF token, for cookie-authenticated writes
}

// SignIn creates an account of role ("admin" or "vendor") whose initial password has
// already been changed, and starts a session for it.
func SignIn(tb testing.TB, q db.Querier, s *seal.Sealer, role, login string) Person {
	tb.Helper()
	ctx := context.Background()
	p := Person{Login: login, Password: "pw-" + randomHex(8)}
	a, err := accounts.Create(ctx, q, s, accounts.New{Role: role, Login: login, Password: p.Password,
		CompanyName: login + " Co.", ContactName: "Contact " + login, ContactMobile: "13800138000"})
	if err != nil {
		tb.Fatalf("testenv: create %s %s: %v", role, login, err)
	}
	p.ID = a.ID
	if _, err := q.Exec(ctx, `UPDATE accounts SET must_change_password = false WHERE id = $1`, a.ID); err != nil {
		tb.Fatal(err)
	}
	ns, err := (&auth.Sessions{TTL: time.Hour}).Create(ctx, q, a.ID)
	if err != nil {
		tb.Fatal(err)
	}
	p.Token, p.CSRF = ns.Token, ns.CSRFToken
	return p
}
