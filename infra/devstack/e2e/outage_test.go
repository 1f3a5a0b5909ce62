package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

	// Load: writers keep issuing vendor accounts through the outage; every write the platform
	// acknowledged must be there afterwards.
	stopLoad := make(chan struct{})
	acked := make(chan string, 10000)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stopLoad:
					return
				default:
				}
				r := admin.do("POST", "/api/v1/admin/vendors", map[string]any{"company_name": "负载公司", "contact_name": "负载",
					"contact_mobile": "13500135000", "login": fmt.Sprintf("load-%d-%d", w, i)})
				if r.Status == 201 {
					acked <- str(r.Body, "id")
				} else if r.Status != 503 {
					t.Errorf("under load during an outage: %d %s", r.Status, r.Raw)
					return
				}
			}
		}(w)
	}
	time.Sleep(300 * time.Millisecond) // let the writers get going: load, not synchronisation

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
		if withoutDatabase[name] {
			if resp.StatusCode != 200 {
				t.Errorf("%s needs no database, yet /_/ready = %d during the outage", name, resp.StatusCode)
			}
			continue
		}
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
	close(stopLoad)
	wg.Wait()
	close(acked)
	n := 0
	for id := range acked {
		admin.must(200, "GET", "/api/v1/admin/vendors/"+id, nil)
		n++
	}
	if n == 0 {
		t.Error("the writers had no acknowledged write at all")
	}
	r = admin.must(200, "GET", "/api/v1/admin/vendors?page_size=100", nil)
	if strings.Contains(string(r.Raw), "during-outage") {
		t.Error("a write refused with 503 must not have happened")
	}
}

// withoutDatabase are the functions that never touch the database (the portal serves its
// embedded pages): they stay ready through an outage.
var withoutDatabase = map[string]bool{"portal": true}

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
