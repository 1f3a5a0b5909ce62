package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/infra/devstack/samplevendor"
	"github.com/jinlaiban/openplatform/shared/citizens"
	"github.com/jinlaiban/openplatform/shared/sdk"
	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/sms"
)

// direct opens the platform's database and sealer, for reading what the development SMS
// provider recorded, as a tester reads the simulator's inbox.
func direct(t *testing.T) (*pgxpool.Pool, *seal.Sealer) {
	t.Helper()
	key, err := os.ReadFile(filepath.Join(filepath.Dir(platform.LogDir), "secrets", "seal-key"))
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.New(seal.Config{Key: strings.TrimSpace(string(key))})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(context.Background(), platform.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, sealer
}

// signInCitizen signs a directory citizen in to the simulator with the code texted to them.
func signInCitizen(t *testing.T, mobile string) *client {
	t.Helper()
	api := &client{t: t, base: platform.GatewayURL}
	api.must(202, "POST", "/api/v1/citizen/login-code", map[string]any{"mobile": mobile})
	pool, sealer := direct(t)
	msgs, err := sms.DevInbox(context.Background(), pool, sealer, mobile, 1)
	if err != nil || len(msgs) == 0 {
		t.Fatalf("no login code in the development SMS inbox for %s: %v", mobile, err)
	}
	api.problem(401, "invalid-code", "POST", "/api/v1/citizen/sessions", map[string]any{"mobile": mobile, "code": wrongCode(msgs[0].Params["code"])})
	r := api.must(201, "POST", "/api/v1/citizen/sessions", map[string]any{"mobile": mobile, "code": msgs[0].Params["code"]})
	return api.as(str(r.Body, "token"))
}

func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func testerID(t *testing.T, mobile string) string {
	t.Helper()
	pool, sealer := direct(t)
	id, err := citizens.IDByMobile(context.Background(), pool, sealer, mobile)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// openService opens a service as the citizen would in the super-app: the platform
// redirects to the vendor's page with a ticket, and the page shows what it learned.
func openService(t *testing.T, citizen *client, moduleCode string) samplevendor.Result {
	t.Helper()
	req, _ := http.NewRequest("GET", platform.GatewayURL+"/api/v1/sso/open?module_code="+moduleCode, nil)
	req.Header.Set("Authorization", "Bearer "+citizen.token)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("opening %s: status %d", moduleCode, resp.StatusCode)
	}
	page, _ := http.NewRequest("GET", resp.Header.Get("Location"), nil)
	page.Header.Set("Accept", "application/json")
	resp, err = http.DefaultClient.Do(page)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res samplevendor.Result
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Fatal(err)
	}
	if res.Error != "" {
		t.Fatalf("the sample vendor could not sign the citizen in: %s", res.Error)
	}
	return res
}

func registerWithSampleVendor(t *testing.T, appCode, testSecret, productionSecret string) {
	t.Helper()
	b, _ := json.Marshal(samplevendor.Credentials{AppCode: appCode, TestSecret: testSecret, ProductionSecret: productionSecret})
	resp, err := http.Post(platform.SampleVendor+"/_/credentials", "application/json", bytes.NewReader(b))
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("registering with the sample vendor: %v %v", err, resp)
	}
	resp.Body.Close()
}

func svc(t *testing.T, vendor *client, id string) map[string]any {
	t.Helper()
	return vendor.must(200, "GET", "/api/v1/services/"+id, nil).Body
}

// checkTicketReplay: the super-app's backend gets a ticket; the vendor exchanges it once;
// a second exchange is refused and the first token stops working.
func checkTicketReplay(t *testing.T, appCode, testSecret, moduleCode, citizenID string) {
	t.Helper()
	superApp := (&client{t: t, base: platform.GatewayURL}).as(platform.SuperAppToken())
	r := superApp.must(201, "POST", "/api/v1/sso/tickets", map[string]any{"citizen_id": citizenID, "module_code": moduleCode})
	ticket := str(r.Body, "ticket")
	if !strings.HasPrefix(ticket, "test_tk_") {
		t.Fatalf("a test ticket carries the test prefix: %q", ticket)
	}
	c := sdk.New(platform.GatewayURL, appCode, testSecret, "")
	ctx := context.Background()
	tok, err := c.ExchangeTicket(ctx, ticket)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.AccessToken, "test_at_") {
		t.Fatalf("a test token carries the test prefix: %q", tok.AccessToken)
	}
	if _, err := c.ExchangeTicket(ctx, ticket); sdk.Code(err) != "invalid-ticket" {
		t.Fatalf("replayed ticket: %v", err)
	}
	if _, err := c.UserInfo(ctx, tok); sdk.Code(err) != "invalid-token" {
		t.Fatalf("a token from a replayed ticket must stop working: %v", err)
	}
	wrong := sdk.New(platform.GatewayURL, appCode, "test_00000000000000000000000000000000", "")
	if _, err := wrong.ExchangeTicket(ctx, ticket); sdk.Code(err) != "signature-mismatch" {
		t.Fatalf("a wrong secret: %v", err)
	}
}

// sampleVendorNotify has the sample vendor text, message and give a to-do to a citizen.
func sampleVendorNotify(t *testing.T, appCode, citizenID string) samplevendor.NotifyResult {
	t.Helper()
	b, _ := json.Marshal(samplevendor.NotifyRequest{CitizenID: citizenID, TemplateCode: "SMS_100000001",
		Params: map[string]string{"service": "公积金提取", "status": "已受理"}})
	resp, err := http.Post(platform.SampleVendor+"/apps/"+appCode+"/notify", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res samplevendor.NotifyResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Fatal(err)
	}
	return res
}
