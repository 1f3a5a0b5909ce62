package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/testenv"
)

// TestDatabaseOutage stops PostgreSQL under the running functions: they answer 503
// problem+json and report not ready (no crash, no hang), and recover by themselves when it
// returns, with every acknowledged write still there.
func TestDatabaseOutage(t *testing.T) {
	if platform.Cluster == nil {
		t.Skip("the platform runs on an external database")
	}
	api := &client{t: t, base: platform.GatewayURL}
	admin := api.as(directAdmin(t).Token)
	r := admin.must(201, "POST", "/api/v1/admin/vendors", map[string]any{
		"company_name": "停电前的公司", "contact_name": "赵六", "contact_mobile": "13700137000", "login": "before-outage"})
	acknowledged := str(r.Body, "id")

	if err := platform.Cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	restarted := false
	defer func() {
		if !restarted {
			_ = platform.Cluster.Start(context.Background())
		}
	}()

	start := time.Now()
	admin.problem(503, "service-unavailable", "GET", "/api/v1/me", nil)
	admin.problem(503, "service-unavailable", "POST", "/api/v1/admin/vendors", map[string]any{
		"company_name": "停电中的公司", "contact_name": "钱七", "contact_mobile": "13600136000", "login": "during-outage"})
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("answers during the outage took %v: they must fail fast, not hang", took)
	}
	for name, f := range platform.Functions {
		resp, err := http.Get(f.URL + "/_/ready")
		if err != nil {
			t.Fatalf("%s crashed: %v", name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 503 {
			t.Errorf("%s /_/ready = %d during the outage, want 503", name, resp.StatusCode)
		}
		if f.Exited() {
			t.Errorf("%s exited during the outage", name)
		}
	}

	if err := platform.Cluster.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	restarted = true
	deadline := time.Now().Add(30 * time.Second)
	for {
		if r := admin.do("GET", "/api/v1/me", nil); r.Status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the functions did not recover within 30s of the database's return")
		}
		time.Sleep(100 * time.Millisecond)
	}
	admin.must(200, "GET", "/api/v1/admin/vendors/"+acknowledged, nil)
	r = admin.must(200, "GET", "/api/v1/admin/vendors?page_size=100", nil)
	if strings.Contains(string(r.Raw), "during-outage") {
		t.Error("a write refused with 503 must not have happened")
	}
}

// directAdmin signs in an administrator made straight in the database, so a test does not
// depend on what another test did to the seeded one.
func directAdmin(t *testing.T) testenv.Person {
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
	defer pool.Close()
	return testenv.SignIn(t, pool, sealer, "admin", "admin-"+strings.ToLower(t.Name()))
}
