package e2e

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/citizens"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/services"
	"github.com/jinlaiban/openplatform/shared/signature"
	"github.com/jinlaiban/openplatform/shared/testenv"
)

// Who may call a route: each /api/ route of every function has one kind of caller.
const (
	anyone   = "anyone"   // signing in, the development SMS inbox
	admin    = "admin"    // a back-office session of an administrator
	vendor   = "vendor"   // a back-office session of a vendor (its own resources only)
	session  = "session"  // any back-office session
	citizen  = "citizen"  // a simulator citizen's session
	superApp = "superapp" // the super-app backend's credential
	backend  = "backend"  // a request signed by an application (its own resources only)
)

// routeCallers is every /api/ route with its caller. A route added to a function without a
// line here fails TestEveryRouteRefusesEveryOtherCaller, so none can slip past the matrix.
var routeCallers = map[string]string{
	"POST /api/v1/sessions":                                          anyone,
	"DELETE /api/v1/sessions/current":                                session,
	"GET /api/v1/me":                                                 session,
	"POST /api/v1/me/password":                                       session,
	"POST /api/v1/admin/vendors":                                     admin,
	"GET /api/v1/admin/vendors":                                      admin,
	"GET /api/v1/admin/vendors/{id}":                                 admin,
	"POST /api/v1/admin/vendors/{id}/disable":                        admin,
	"POST /api/v1/admin/vendors/{id}/enable":                         admin,
	"POST /api/v1/admin/vendors/{id}/password-reset":                 admin,
	"GET /api/v1/apps":                                               vendor,
	"POST /api/v1/apps":                                              vendor,
	"GET /api/v1/apps/{id}":                                          vendor,
	"PUT /api/v1/apps/{id}":                                          vendor,
	"POST /api/v1/apps/{id}/submit":                                  vendor,
	"GET /api/v1/apps/{id}/credentials":                              vendor,
	"POST /api/v1/apps/{id}/secrets":                                 vendor,
	"GET /api/v1/apps/{id}/capabilities":                             vendor,
	"POST /api/v1/apps/{id}/capabilities":                            vendor,
	"POST /api/v1/apps/{id}/capabilities/sms/form":                   vendor,
	"POST /api/v1/apps/{id}/capabilities/sms/form/complete":          vendor,
	"GET /api/v1/apps/{id}/usage":                                    vendor,
	"GET /api/v1/services":                                           vendor,
	"POST /api/v1/services":                                          vendor,
	"GET /api/v1/services/callback-code":                             vendor,
	"GET /api/v1/services/{id}":                                      vendor,
	"PUT /api/v1/services/{id}":                                      vendor,
	"PUT /api/v1/services/{id}/production-url":                       vendor,
	"POST /api/v1/services/{id}/uploads":                             vendor,
	"POST /api/v1/services/{id}/uploads/{upload}/complete":           vendor,
	"GET /api/v1/services/{id}/files/{kind}":                         vendor,
	"POST /api/v1/services/{id}/apply":                               vendor,
	"POST /api/v1/services/{id}/request-live":                        vendor,
	"GET /api/v1/tags":                                               vendor,
	"GET /api/v1/admin/applications":                                 admin,
	"GET /api/v1/admin/applications/{id}":                            admin,
	"POST /api/v1/admin/applications/{id}/approve":                   admin,
	"POST /api/v1/admin/applications/{id}/reject":                    admin,
	"GET /api/v1/admin/applications/{id}/test-citizens":              admin,
	"POST /api/v1/admin/applications/{id}/test-citizens":             admin,
	"DELETE /api/v1/admin/applications/{id}/test-citizens/{citizen}": admin,
	"GET /api/v1/admin/services":                                     admin,
	"GET /api/v1/admin/services/{id}":                                admin,
	"POST /api/v1/admin/services/{id}/approve-listing":               admin,
	"POST /api/v1/admin/services/{id}/reject-listing":                admin,
	"POST /api/v1/admin/services/{id}/approve-live":                  admin,
	"POST /api/v1/admin/services/{id}/reject-live":                   admin,
	"POST /api/v1/admin/services/{id}/take-offline":                  admin,
	"POST /api/v1/admin/services/{id}/bring-online":                  admin,
	"GET /api/v1/admin/capabilities":                                 admin,
	"GET /api/v1/admin/capabilities/{id}":                            admin,
	"POST /api/v1/admin/capabilities/{id}/grant":                     admin,
	"POST /api/v1/admin/capabilities/{id}/reject":                    admin,
	"POST /api/v1/admin/capabilities/{id}/revoke":                    admin,
	"GET /api/v1/admin/audit":                                        admin,
	"GET /api/v1/admin/tags":                                         admin,
	"POST /api/v1/admin/tags":                                        admin,
	"DELETE /api/v1/admin/tags/{slug}":                               admin,
	"POST /api/v1/sso/tickets":                                       superApp,
	"GET /api/v1/sso/open":                                           citizen,
	"POST /api/v1/sso/token":                                         backend,
	"GET /api/v1/sso/userinfo":                                       backend,
	"GET /api/v1/citizen/services":                                   citizen,
	"POST /api/v1/citizen/login-code":                                anyone,
	"POST /api/v1/citizen/sessions":                                  anyone,
	"POST /api/v1/citizen/tickets":                                   citizen,
	"POST /api/v1/citizen/title-check":                               citizen,
	"GET /api/v1/citizen/messages":                                   citizen,
	"GET /api/v1/citizen/messages/{id}":                              citizen,
	"POST /api/v1/citizen/messages/{id}/read":                        citizen,
	"GET /api/v1/citizen/todos":                                      citizen,
	"POST /api/v1/sms/send":                                          backend,
	"GET /api/v1/sms/sends":                                          backend,
	"GET /api/v1/dev/sms":                                            anyone,
	"POST /api/v1/messages":                                          backend,
	"POST /api/v1/todos":                                             backend,
	"GET /api/v1/todos/{external_id}":                                backend,
	"PUT /api/v1/todos/{external_id}":                                backend,
	"POST /api/v1/todos/{external_id}/complete":                      backend,
	"POST /api/v1/todos/{external_id}/cancel":                        backend,
	"GET /api/v1/notifications":                                      vendor,
	"POST /api/v1/notifications/{id}/read":                           vendor,
	"POST /api/v1/notifications/read-all":                            vendor,
	"POST /api/v1/webhooks":                                          vendor,
	"GET /api/v1/webhooks":                                           vendor,
	"GET /api/v1/webhooks/{id}":                                      vendor,
	"DELETE /api/v1/webhooks/{id}":                                   vendor,
	"POST /api/v1/webhooks/{id}/rotate-secret":                       vendor,
	"GET /api/v1/webhooks/{id}/deliveries":                           vendor,
	"POST /api/v1/webhooks/deliveries/{id}/redeliver":                vendor,
}

// dynamicRoutes are registered in a loop over decision names.
var dynamicRoutes = map[string][]string{
	"POST /api/v1/admin/services/{id}/":     {"approve-listing", "reject-listing", "approve-live", "reject-live", "take-offline", "bring-online"},
	"POST /api/v1/admin/capabilities/{id}/": {"grant", "reject", "revoke"},
}

// registeredRoutes reads every function's /api/ route patterns from its code.
func registeredRoutes(t *testing.T) []string {
	t.Helper()
	root, _ := repoRoot()
	files, _ := filepath.Glob(filepath.Join(root, "functions", "*", "*.go"))
	pattern := regexp.MustCompile(`Handle(?:Func)?\("([A-Z]+ /api/[^"]*)"`)
	seen := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range pattern.FindAllSubmatch(src, -1) {
			route := string(m[1])
			if names, ok := dynamicRoutes[route]; ok {
				for _, n := range names {
					seen[route+n] = true
				}
				continue
			}
			seen[route] = true
		}
	}
	var out []string
	for r := range seen {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// TestEveryRouteRefusesEveryOtherCaller walks every route × every kind of caller, and the
// right kind of caller with someone else's resource: each is refused with 401, 403 or 404
// problem+json and never reaches the operation.
func TestEveryRouteRefusesEveryOtherCaller(t *testing.T) {
	routes := registeredRoutes(t)
	for _, r := range routes {
		if routeCallers[r] == "" {
			t.Errorf("route %s is missing from the authorization matrix (routeCallers)", r)
		}
	}
	w := newAuthzWorld(t)
	api := &client{t: t, base: platform.GatewayURL}
	for _, route := range routes {
		caller := routeCallers[route]
		if caller == "" || caller == anyone {
			continue
		}
		method, pattern, _ := strings.Cut(route, " ")
		path := w.fill(pattern)
		for _, who := range []string{"anonymous", admin, vendor, citizen, superApp, backend} {
			if who == caller || (caller == session && (who == admin || who == vendor)) {
				continue
			}
			r := w.call(api, who, "A", method, path)
			if r.Status != 401 && r.Status != 403 && r.Status != 404 {
				t.Errorf("%s as %s: %d %s, want 401, 403 or 404", route, who, r.Status, r.Raw)
			} else if r.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s as %s: %d is not problem+json", route, who, r.Status)
			}
		}
		// The right kind of caller with another owner's resource.
		if (caller == vendor || caller == backend) && strings.Contains(pattern, "{") {
			r := w.call(api, caller, "B", method, path)
			if r.Status != 404 && r.Status != 403 {
				t.Errorf("%s as another %s: %d %s, want 404", route, caller, r.Status, r.Raw)
			}
		}
	}
}

// authzWorld is two vendors each with an approved application and a service, an
// administrator, a signed-in citizen, and the super-app's credential.
type authzWorld struct {
	admin, vendorA, vendorB testenv.Person
	citizenToken            string
	appA, appB              apps.Application
	secretA, secretB        string
	svcA                    services.Service
	ids                     map[string]string
}

func newAuthzWorld(t *testing.T) *authzWorld {
	t.Helper()
	pool, sealer := direct(t)
	ctx := context.Background()
	w := &authzWorld{admin: testenv.SignIn(t, pool, sealer, "admin", "authz-admin"),
		vendorA: testenv.SignIn(t, pool, sealer, "vendor", "authz-vendor-a"), vendorB: testenv.SignIn(t, pool, sealer, "vendor", "authz-vendor-b")}
	yes := true
	mk := func(v testenv.Person, name string) (apps.Application, string) {
		a, err := apps.Create(ctx, pool, sealer, v.ID, apps.Declaration{Name: name, ContactName: "联系人", ContactMobile: "13700000001",
			NeedsUserInfo: &yes, UserInfoLevel: "basic", Description: "授权矩阵测试用的应用，检查每个角色。"})
		if err != nil {
			t.Fatal(err)
		}
		var secret string
		err = db.Tx(ctx, pool, func(tx pgx.Tx) error {
			if _, err := apps.Submit(ctx, tx, sealer, v.ID, a.ID); err != nil {
				return err
			}
			a, secret, err = apps.Approve(ctx, tx, sealer, a.ID, w.admin.ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return a, secret
	}
	w.appA, w.secretA = mk(w.vendorA, "授权矩阵应用甲")
	w.appB, w.secretB = mk(w.vendorB, "授权矩阵应用乙")
	err := db.Tx(ctx, pool, func(tx pgx.Tx) error {
		var err error
		w.svcA, err = services.Create(ctx, tx, w.vendorA.ID, services.Declaration{ApplicationID: w.appA.ID, Name: "授权矩阵服务",
			Channels: []string{"app"}, ServiceType: "query", TestURL: "https://authz.example.cn/", Tags: []string{"government"},
			Description: "授权矩阵测试用的服务，检查每个角色。"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var grantID string
	if err := pool.QueryRow(ctx, `INSERT INTO capability_grants (application_id, capability, status) VALUES ($1, 'todo', 'granted') RETURNING id`,
		w.appA.ID).Scan(&grantID); err != nil {
		t.Fatal(err)
	}
	cid, err := citizens.IDByMobile(ctx, pool, sealer, "13800000001")
	if err != nil {
		t.Fatal(err)
	}
	if w.citizenToken, _, err = citizens.NewSession(ctx, pool, cid, time.Hour); err != nil {
		t.Fatal(err)
	}
	// The vendor's own webhook endpoint, for its routes.
	r := (&client{t: t, base: platform.GatewayURL}).as(w.vendorA.Token).must(201, "POST", "/api/v1/webhooks",
		map[string]any{"url": "https://hooks.example.cn/jinlaiban", "description": "authz"})
	w.ids = map[string]string{
		"/api/v1/apps/{id}":                "app",
		"/api/v1/admin/applications/{id}":  "app",
		"/api/v1/services/{id}":            "service",
		"/api/v1/admin/services/{id}":      "service",
		"/api/v1/admin/capabilities/{id}":  grantID,
		"/api/v1/admin/vendors/{id}":       w.vendorA.ID,
		"/api/v1/webhooks/{id}":            str(r.Body, "id"),
		"/api/v1/webhooks/deliveries/{id}": "00000000-0000-4000-8000-000000000001",
		"/api/v1/notifications/{id}":       "00000000-0000-4000-8000-000000000002",
		"/api/v1/citizen/messages/{id}":    "00000000-0000-4000-8000-000000000003",
	}
	return w
}

// fill puts A's resources into a route pattern.
func (w *authzWorld) fill(pattern string) string {
	for prefix, id := range w.ids {
		if strings.HasPrefix(pattern, prefix) {
			switch id {
			case "app":
				id = w.appA.ID
			case "service":
				id = w.svcA.ID
			}
			pattern = strings.Replace(pattern, "{id}", id, 1)
		}
	}
	return strings.NewReplacer("{upload}", "00000000-0000-4000-8000-000000000004", "{citizen}", "00000000-0000-4000-8000-000000000005",
		"{kind}", "logo", "{slug}", "tax", "{external_id}", "authz-todo").Replace(pattern)
}

// call makes the request as one kind of caller, of owner A or B.
func (w *authzWorld) call(api *client, who, owner, method, path string) reply {
	var body []byte
	if method != "GET" && method != "DELETE" {
		body = []byte(`{}`)
	}
	req, _ := http.NewRequest(method, platform.GatewayURL+path, bytes.NewReader(body))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	bearer := map[string]string{admin: w.admin.Token, citizen: w.citizenToken, superApp: platform.SuperAppToken()}
	switch who {
	case vendor:
		bearer[vendor] = map[string]string{"A": w.vendorA.Token, "B": w.vendorB.Token}[owner]
	case backend:
		a, secret := w.appA, w.secretA
		if owner == "B" {
			a, secret = w.appB, w.secretB
		}
		signature.SignRequest(req, a.AppCode, secret, body, time.Now())
	}
	if token := bearer[who]; token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		api.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return reply{Status: resp.StatusCode, Header: resp.Header, Raw: buf.Bytes()}
}
