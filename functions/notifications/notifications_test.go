package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/webhooks"
)

type page struct {
	Items    []message `json:"items"`
	Total    int       `json:"total"`
	Unread   int       `json:"unread"`
	Page     int       `json:"page"`
	PageSize int       `json:"page_size"`
}

// Only a signed-in vendor reaches any of it.
func TestOnlyVendorsGetIn(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	paths := []struct{ method, path string }{
		{"GET", "/api/v1/notifications"}, {"POST", "/api/v1/notifications/00000000-0000-0000-0000-000000000001/read"},
		{"POST", "/api/v1/notifications/read-all"}, {"GET", "/api/v1/webhooks"}, {"POST", "/api/v1/webhooks"},
		{"GET", "/api/v1/webhooks/00000000-0000-0000-0000-000000000001"}, {"DELETE", "/api/v1/webhooks/00000000-0000-0000-0000-000000000001"},
		{"POST", "/api/v1/webhooks/00000000-0000-0000-0000-000000000001/rotate-secret"},
		{"GET", "/api/v1/webhooks/00000000-0000-0000-0000-000000000001/deliveries"},
		{"POST", "/api/v1/webhooks/deliveries/00000000-0000-0000-0000-000000000001/redeliver"},
	}
	for _, p := range paths {
		wantProblem(t, h.do(p.method, p.path, "", nil), http.StatusUnauthorized, "unauthenticated")
		wantProblem(t, h.do(p.method, p.path, h.admin.Token, nil), http.StatusForbidden, "forbidden")
	}
}

// The inbox: newest first, paginated, with the unread count; reading is per message, idempotent,
// and for the owner only.
func TestInbox(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	var ids []string
	for i := range 5 {
		ids = append(ids, h.message(h.acme, fmt.Sprintf("应用“热线%d”审核通过", i)))
		h.exec(`UPDATE vendor_messages SET created_at = now() - $2 * interval '1 minute' WHERE id = $1`, ids[i], 10-i)
	}
	foreign := h.message(h.other, "别人的消息")

	p := want[page](t, h.do("GET", "/api/v1/notifications?page_size=2", h.acme.Token, nil), http.StatusOK)
	if p.Total != 5 || p.Unread != 5 || len(p.Items) != 2 || p.Items[0].ID != ids[4] || p.Items[1].ID != ids[3] || p.Items[0].ReadAt != nil {
		t.Fatalf("first page: %+v", p)
	}
	if p.Items[0].Title != "应用“热线4”审核通过" || p.Items[0].Link != "/apps/1" || p.Items[0].EventType == "" {
		t.Fatalf("message: %+v", p.Items[0])
	}
	if p = want[page](t, h.do("GET", "/api/v1/notifications?page=3&page_size=2", h.acme.Token, nil), http.StatusOK); len(p.Items) != 1 || p.Items[0].ID != ids[0] {
		t.Fatalf("last page: %+v", p)
	}

	m := want[message](t, h.do("POST", "/api/v1/notifications/"+ids[4]+"/read", h.acme.Token, nil), http.StatusOK)
	if m.ReadAt == nil {
		t.Fatalf("read: %+v", m)
	}
	again := want[message](t, h.do("POST", "/api/v1/notifications/"+ids[4]+"/read", h.acme.Token, nil), http.StatusOK)
	if !again.ReadAt.Equal(*m.ReadAt) {
		t.Fatalf("reading twice moved read_at: %v → %v", m.ReadAt, again.ReadAt)
	}
	p = want[page](t, h.do("GET", "/api/v1/notifications?unread=true", h.acme.Token, nil), http.StatusOK)
	if p.Total != 4 || p.Unread != 4 || len(p.Items) != 4 {
		t.Fatalf("unread only: %+v", p)
	}
	wantProblem(t, h.do("POST", "/api/v1/notifications/"+foreign+"/read", h.acme.Token, nil), http.StatusNotFound, "not-found")
	wantProblem(t, h.do("POST", "/api/v1/notifications/not-a-uuid/read", h.acme.Token, nil), http.StatusNotFound, "not-found")
	wantProblem(t, h.do("GET", "/api/v1/notifications?unread=maybe", h.acme.Token, nil), http.StatusUnprocessableEntity, "validation-failed")

	if r := want[map[string]int](t, h.do("POST", "/api/v1/notifications/read-all", h.acme.Token, nil), http.StatusOK); r["marked"] != 4 {
		t.Fatalf("read-all: %v", r)
	}
	if p = want[page](t, h.do("GET", "/api/v1/notifications", h.acme.Token, nil), http.StatusOK); p.Unread != 0 || p.Total != 5 {
		t.Fatalf("after read-all: %+v", p)
	}
	// The other vendor's inbox is its own.
	if p = want[page](t, h.do("GET", "/api/v1/notifications", h.other.Token, nil), http.StatusOK); p.Total != 1 || p.Unread != 1 || p.Items[0].ID != foreign {
		t.Fatalf("the other vendor's inbox: %+v", p)
	}
}

// Endpoints: registered with an https address (http://localhost only in development), the
// signing secret answered once and stored sealed, listed, shown, deleted; another vendor
// sees none of them.
func TestWebhookEndpoints(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	created := want[endpoint](t, h.do("POST", "/api/v1/webhooks", h.acme.Token,
		map[string]string{"url": "https://hooks.zhcs.example.cn/jinlaiban", "description": "工单系统"}), http.StatusCreated)
	if !strings.HasPrefix(created.Secret, "whsec_") || created.URL != "https://hooks.zhcs.example.cn/jinlaiban" || created.Description != "工单系统" {
		t.Fatalf("created: %+v", created)
	}
	// Sealed at rest: the row does not hold it, the sealer opens it.
	var stored []byte
	_ = h.pool.QueryRow(context.Background(), `SELECT secret FROM webhook_endpoints WHERE id = $1`, created.ID).Scan(&stored)
	if bytes.Contains(stored, []byte(created.Secret)) || bytes.Contains(stored, []byte(strings.TrimPrefix(created.Secret, "whsec_"))) {
		t.Fatal("the secret is stored in the clear")
	}
	if plain, err := h.sealer.OpenString(webhooks.SecretPurpose, stored); err != nil || plain != created.Secret {
		t.Fatalf("the sealed secret opens to %q, %v", plain, err)
	}
	// Shown once: never in a list or a view.
	for _, path := range []string{"/api/v1/webhooks", "/api/v1/webhooks/" + created.ID} {
		if r := h.do("GET", path, h.acme.Token, nil); r.Status != 200 || strings.Contains(string(r.Body), "whsec_") || !strings.Contains(string(r.Body), created.ID) {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		}
	}
	// Bad addresses.
	for _, url := range []string{"http://hooks.example.cn/x", "http://localhost:9000/x", "ftp://x/y", "https://u:p@x.example.cn/", "https://x.example.cn/#f", ""} {
		p := wantProblem(t, h.do("POST", "/api/v1/webhooks", h.acme.Token, map[string]string{"url": url}), http.StatusUnprocessableEntity, "validation-failed")
		if len(p.InvalidParams) != 1 || p.InvalidParams[0].Name != "url" {
			t.Errorf("url %q: %+v", url, p)
		}
	}
	wantProblem(t, h.do("POST", "/api/v1/webhooks", h.acme.Token, map[string]string{"url": "https://x.example.cn/", "description": strings.Repeat("长", 201)}),
		http.StatusUnprocessableEntity, "validation-failed")
	wantProblem(t, h.do("POST", "/api/v1/webhooks", h.acme.Token, map[string]any{"url": "https://x.example.cn/", "secret": "mine"}),
		http.StatusBadRequest, "unknown-field")

	// Another vendor sees and touches nothing.
	if r := want[map[string][]endpoint](t, h.do("GET", "/api/v1/webhooks", h.other.Token, nil), http.StatusOK); len(r["items"]) != 0 {
		t.Fatalf("the other vendor's list: %+v", r)
	}
	for _, r := range []response{
		h.do("GET", "/api/v1/webhooks/"+created.ID, h.other.Token, nil),
		h.do("DELETE", "/api/v1/webhooks/"+created.ID, h.other.Token, nil),
		h.do("POST", "/api/v1/webhooks/"+created.ID+"/rotate-secret", h.other.Token, nil),
		h.do("GET", "/api/v1/webhooks/"+created.ID+"/deliveries", h.other.Token, nil),
	} {
		wantProblem(t, r, http.StatusNotFound, "not-found")
	}

	// At most five live endpoints.
	for i := range 4 {
		want[endpoint](t, h.do("POST", "/api/v1/webhooks", h.acme.Token, map[string]string{"url": fmt.Sprintf("https://h%d.example.cn/", i)}), http.StatusCreated)
	}
	wantProblem(t, h.do("POST", "/api/v1/webhooks", h.acme.Token, map[string]string{"url": "https://six.example.cn/"}), http.StatusConflict, "too-many-endpoints")

	// Delete: gone from the list, its secret wiped, and room for another.
	h.do("DELETE", "/api/v1/webhooks/"+created.ID, h.acme.Token, nil)
	if r := h.do("DELETE", "/api/v1/webhooks/"+created.ID, h.acme.Token, nil); r.Status != http.StatusNotFound {
		t.Fatalf("deleting twice: %d", r.Status)
	}
	wantProblem(t, h.do("GET", "/api/v1/webhooks/"+created.ID, h.acme.Token, nil), http.StatusNotFound, "not-found")
	_ = h.pool.QueryRow(context.Background(), `SELECT secret FROM webhook_endpoints WHERE id = $1`, created.ID).Scan(&stored)
	if len(stored) != 0 {
		t.Fatal("a deleted endpoint keeps its secret")
	}
	if r := want[map[string][]endpoint](t, h.do("GET", "/api/v1/webhooks", h.acme.Token, nil), http.StatusOK); len(r["items"]) != 4 {
		t.Fatalf("list after delete: %d items", len(r["items"]))
	}
	want[endpoint](t, h.do("POST", "/api/v1/webhooks", h.acme.Token, map[string]string{"url": "https://six.example.cn/"}), http.StatusCreated)
}

// The development stack admits http://localhost endpoints.
func TestLocalEndpointsInDevelopment(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	for _, url := range []string{"http://localhost:9000/hooks", "http://127.0.0.1:9000/hooks"} {
		want[endpoint](t, h.do("POST", "/api/v1/webhooks", h.acme.Token, map[string]string{"url": url}), http.StatusCreated)
	}
	wantProblem(t, h.do("POST", "/api/v1/webhooks", h.acme.Token, map[string]string{"url": "http://hooks.example.cn/"}), http.StatusUnprocessableEntity, "validation-failed")
}

// Rotation answers a new secret once; the previous one keeps signing for 24 hours.
func TestRotateSecret(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	e := want[endpoint](t, h.do("POST", "/api/v1/webhooks", h.acme.Token, map[string]string{"url": "https://hooks.example.cn/"}), http.StatusCreated)
	r := want[endpoint](t, h.do("POST", "/api/v1/webhooks/"+e.ID+"/rotate-secret", h.acme.Token, nil), http.StatusOK)
	if !strings.HasPrefix(r.Secret, "whsec_") || r.Secret == e.Secret || r.PreviousValidUntil == nil ||
		time.Until(*r.PreviousValidUntil) < 23*time.Hour || time.Until(*r.PreviousValidUntil) > 25*time.Hour {
		t.Fatalf("rotated: %+v", r)
	}
	var cur, prev []byte
	_ = h.pool.QueryRow(context.Background(), `SELECT secret, previous_secret FROM webhook_endpoints WHERE id = $1`, e.ID).Scan(&cur, &prev)
	if c, _ := h.sealer.OpenString(webhooks.SecretPurpose, cur); c != r.Secret {
		t.Error("the current secret is not the new one")
	}
	if p, _ := h.sealer.OpenString(webhooks.SecretPurpose, prev); p != e.Secret {
		t.Error("the previous secret is not the old one")
	}
}

// An endpoint's deliveries show status, attempts, the last answer and the next attempt; a
// vendor redelivers one (due at once, fresh attempts, notify nudged), not another's, and not
// to a deleted endpoint.
func TestDeliveriesAndRedelivery(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	e := want[endpoint](t, h.do("POST", "/api/v1/webhooks", h.acme.Token, map[string]string{"url": "https://hooks.example.cn/"}), http.StatusCreated)
	insert := func(status string, attempts int, code any, lastErr any) string {
		var id string
		err := h.pool.QueryRow(context.Background(), `INSERT INTO webhook_deliveries (endpoint_id, vendor_id, event_source, event_id, event_type,
			payload, status, attempts, last_status_code, last_error, last_attempt_at, next_attempt_at)
			VALUES ($1, $2, '/functions/approve', gen_random_uuid()::text, 'cn.jinlaiban.openplatform.service.live.v1', '{}', $3, $4, $5, $6,
			now(), now() + interval '5 minutes') RETURNING id`, e.ID, h.acme.ID, status, attempts, code, lastErr).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	failedID := insert("failed", 10, 500, "HTTP 500")
	pendingID := insert("pending", 2, 503, "HTTP 503")
	insert("delivered", 1, 204, nil)

	var list struct {
		Items []delivery `json:"items"`
		Total int        `json:"total"`
	}
	list = want[struct {
		Items []delivery `json:"items"`
		Total int        `json:"total"`
	}](t, h.do("GET", "/api/v1/webhooks/"+e.ID+"/deliveries", h.acme.Token, nil), http.StatusOK)
	if list.Total != 3 || len(list.Items) != 3 {
		t.Fatalf("deliveries: %+v", list)
	}
	for _, d := range list.Items {
		switch d.ID {
		case pendingID:
			if d.Status != "pending" || d.Attempts != 2 || *d.LastStatusCode != 503 || *d.LastError != "HTTP 503" || d.NextAttemptAt == nil {
				t.Errorf("pending: %+v", d)
			}
		case failedID:
			if d.Status != "failed" || d.NextAttemptAt != nil || d.Attempts != 10 {
				t.Errorf("failed: %+v", d)
			}
		}
	}
	if r := want[struct {
		Total int `json:"total"`
	}](t, h.do("GET", "/api/v1/webhooks/"+e.ID+"/deliveries?status=failed", h.acme.Token, nil), http.StatusOK); r.Total != 1 {
		t.Fatalf("failed only: %d", r.Total)
	}
	wantProblem(t, h.do("GET", "/api/v1/webhooks/"+e.ID+"/deliveries?status=lost", h.acme.Token, nil), http.StatusUnprocessableEntity, "validation-failed")

	wantProblem(t, h.do("POST", "/api/v1/webhooks/deliveries/"+failedID+"/redeliver", h.other.Token, nil), http.StatusNotFound, "not-found")
	d := want[delivery](t, h.do("POST", "/api/v1/webhooks/deliveries/"+failedID+"/redeliver", h.acme.Token, nil), http.StatusAccepted)
	if d.Status != "pending" || d.Attempts != 0 || d.NextAttemptAt == nil || time.Until(*d.NextAttemptAt) > time.Second {
		t.Fatalf("redelivered: %+v", d)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(h.nudges.got()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("notify was not nudged")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := h.nudges.got(); got[0] != "POST /_/tick" {
		t.Fatalf("nudged %v, want POST /_/tick", got)
	}

	h.do("DELETE", "/api/v1/webhooks/"+e.ID, h.acme.Token, nil)
	wantProblem(t, h.do("POST", "/api/v1/webhooks/deliveries/"+pendingID+"/redeliver", h.acme.Token, nil), http.StatusConflict, "invalid-state")
	// The history of a deleted endpoint is still there.
	want[struct{}](t, h.do("GET", "/api/v1/webhooks/"+e.ID+"/deliveries", h.acme.Token, nil), http.StatusOK)
}
