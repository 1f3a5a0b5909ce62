package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/services"
	"github.com/jinlaiban/openplatform/shared/testenv"
)

// TestReadmeSigningExampleWorks runs the README's curl + openssl example of a signed request
// against the platform, so the documentation cannot drift from the scheme.
func TestReadmeSigningExampleWorks(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed")
	}
	root, _ := repoRoot()
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- signed-request-example -->\\s*```sh\n(.*?)```\\s*<!-- /signed-request-example -->").FindSubmatch(readme)
	if m == nil {
		t.Fatal("the README has no signed-request example between its markers")
	}

	// An approved application with a service in testing and a whitelisted citizen.
	pool, sealer := direct(t)
	ctx := context.Background()
	vendor := testenv.SignIn(t, pool, sealer, "vendor", "readme-vendor")
	admin := testenv.SignIn(t, pool, sealer, "admin", "readme-admin")
	yes := true
	a, err := apps.Create(ctx, pool, sealer, vendor.ID, apps.Declaration{Name: "README 示例应用", ContactName: "测试", ContactMobile: "13700000000",
		NeedsUserInfo: &yes, UserInfoLevel: "basic", Description: "用来运行 README 中签名示例的应用"})
	if err != nil {
		t.Fatal(err)
	}
	var secret string
	var svc services.Service
	err = db.Tx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := apps.Submit(ctx, tx, sealer, vendor.ID, a.ID); err != nil {
			return err
		}
		if a, secret, err = apps.Approve(ctx, tx, sealer, a.ID, admin.ID); err != nil {
			return err
		}
		if svc, err = services.Create(ctx, tx, vendor.ID, services.Declaration{ApplicationID: a.ID, Name: "签名示例", Channels: []string{"app"},
			ServiceType: "query", TestURL: "https://readme.example.cn/", Tags: []string{"government"},
			Description: "README 签名示例所用的服务，只在测试中存在。"}); err != nil {
			return err
		}
		return apps.AddTestCitizen(ctx, tx, a.ID, testerID(t, "13800000001"), admin.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
	superApp := (&client{t: t, base: platform.GatewayURL}).as(platform.SuperAppToken())
	r := superApp.must(201, "POST", "/api/v1/sso/tickets", map[string]any{"citizen_id": testerID(t, "13800000001"), "module_code": svc.ModuleCode})

	cmd := exec.Command("bash", "-euo", "pipefail", "-c", string(m[1]))
	cmd.Env = append(os.Environ(), "GW="+platform.GatewayURL, "APP_CODE="+a.AppCode, "APP_SECRET="+secret, "TICKET="+str(r.Body, "ticket"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README example failed: %v\n%s", err, out)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		Code        string `json:"code"`
	}
	if err := json.Unmarshal(out, &tok); err != nil || len(tok.AccessToken) < 20 {
		t.Fatalf("the README example did not get a token: %s", out)
	}
}
