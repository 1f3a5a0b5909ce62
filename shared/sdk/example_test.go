package sdk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/jinlaiban/openplatform/shared/sdk"
	"github.com/jinlaiban/openplatform/shared/signature"
)

// A vendor's page was opened with ?ticket=…&module_callback_code=…; its backend trades the
// ticket for a token and reads the citizen with it. The platform here is a stand-in that
// verifies each request's signature as the real one does and answers with canned JSON.
func Example_singleSignOn() {
	const (
		appCode    = "f3229547e8c2507e2c59ebffe9ee9f"
		testSecret = "test_9d3e6c1f0a7b4e2d8c5f1a3b6e9d0c7f"
		ticket     = "test_tk_5mY8dQ2rX0vJ3nL7pK9sW1zB4cF6hG2tA8eR0uI3oE"
		token      = "test_at_Qm9vM2xLd0VqY1RzN0hwRmZ3b2pHc1ZlZ0tZbU5pUmE"
	)
	platform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h, err := signature.Parse(r.Header)
		if err == nil {
			sts := signature.StringToSign(r.Method, r.URL.EscapedPath(), r.URL.RawQuery, h.AppCode, h.Timestamp, h.Nonce, body)
			if h.AppCode != appCode || !signature.Equal(h.Signature, signature.Sign(testSecret, sts)) {
				err = fmt.Errorf("signature mismatch")
			}
		}
		if err != nil {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"status":401,"code":"signature-mismatch","detail":%q,"request_id":"req-1"}`, err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/sso/token":
			var req struct{ Ticket string }
			if json.Unmarshal(body, &req) != nil || req.Ticket != ticket {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"status":400,"code":"invalid-ticket","request_id":"req-2"}`)
				return
			}
			fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":300,"environment":"test",`+
				`"module_code":"MCGJJ23456789","module_callback_code":"GJJTQ"}`, token)
		case "/api/v1/sso/userinfo":
			if r.Header.Get("Authorization") != "Bearer "+token {
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `{"status":401,"code":"invalid-token","request_id":"req-3"}`)
				return
			}
			fmt.Fprint(w, `{"id":"9f86d081884c7d659a2feaa0c55ad015","mobile":"13800000002",`+
				`"id_number":"140502199001010011","level":"identity","environment":"test"}`)
		}
	}))
	defer platform.Close()

	client := sdk.New(platform.URL, appCode, testSecret, "")
	ctx := context.Background()
	tok, err := client.ExchangeTicket(ctx, ticket) // once, within minutes of the page opening
	if err != nil {
		fmt.Println("exchange:", sdk.Code(err), err)
		return
	}
	fmt.Println(tok.Environment, tok.ModuleCallbackCode, tok.ExpiresIn)
	info, err := client.UserInfo(ctx, tok) // then forget the token
	if err != nil {
		fmt.Println("user info:", sdk.Code(err), err)
		return
	}
	fmt.Println(info.ID, info.Mobile, info.IDNumber, info.Level)

	// A request signed with the wrong appSecret is refused; the refusal is a typed error.
	_, err = sdk.New(platform.URL, appCode, testSecret+"x", "").ExchangeTicket(ctx, ticket)
	fmt.Println(sdk.Code(err))
	// Output:
	// test GJJTQ 300
	// 9f86d081884c7d659a2feaa0c55ad015 13800000002 140502199001010011 identity
	// signature-mismatch
}
