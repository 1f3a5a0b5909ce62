package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/infra/devstack/stack"
	"github.com/jinlaiban/openplatform/shared/events"
	"github.com/jinlaiban/openplatform/shared/webhooks"
)

// Event-triggered notifications, end to end: approve writes each decision to the outbox,
// relay-outbox moves it to the (development) broker, the broker's Trigger hands it to
// notify, and the vendor gets a portal message, an SMS from the development provider and a
// signed webhook delivery: each once, whatever fails on the way.

// ntHook is a vendor's webhook endpoint: it verifies each delivery with its secret.
type ntHook struct {
	mu       sync.Mutex
	secret   string
	byID     map[string]int
	verified int
	srv      *httptest.Server
}

func newHook(t *testing.T) *ntHook {
	h := &ntHook{byID: map[string]int{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.secret != "" && webhooks.Verify(h.secret, body, r.Header) == nil {
			h.verified++
		}
		h.byID[r.Header.Get("webhook-id")]++
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *ntHook) counts() (deliveries, events, verified int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, n := range h.byID {
		deliveries += n
	}
	return deliveries, len(h.byID), h.verified
}

// ntVendor is a signed-in vendor with its contact mobile and a registered webhook endpoint.
type ntVendor struct {
	*client
	id     string
	mobile string
	hook   *ntHook
}

func newNotifiedVendor(t *testing.T, admin *client, login, mobile string) *ntVendor {
	t.Helper()
	r := admin.must(201, "POST", "/api/v1/admin/vendors", map[string]any{"company_name": login + " 科技有限公司",
		"contact_name": "李明", "contact_mobile": mobile, "login": login})
	id, initial := str(r.Body, "id"), str(r.Body, "initial_password")
	api := &client{t: t, base: platform.GatewayURL}
	r = api.must(201, "POST", "/api/v1/sessions", map[string]any{"login": login, "password": initial})
	v := &ntVendor{client: api.as(str(r.Body, "token")), id: id, mobile: mobile, hook: newHook(t)}
	v.must(204, "POST", "/api/v1/me/password", map[string]any{"current_password": initial, "new_password": login + "-new-password-1"})
	r = v.must(201, "POST", "/api/v1/webhooks", map[string]any{"url": v.hook.srv.URL + "/jinlaiban", "description": "工单系统"})
	v.hook.secret = str(r.Body, "secret")
	if !strings.HasPrefix(v.hook.secret, "whsec_") {
		t.Fatalf("webhook endpoint: %s", r.Raw)
	}
	return v
}

// pendingApp declares and submits an application.
func (v *ntVendor) pendingApp(name string) string {
	r := v.must(201, "POST", "/api/v1/apps", map[string]any{"name": name, "contact_name": "李明", "contact_mobile": v.mobile,
		"needs_user_info": false, "description": "用于端到端测试通知的应用：审核结果应通过站内信、短信和回调通知厂商。"})
	id := str(r.Body, "id")
	v.must(200, "POST", "/api/v1/apps/"+id+"/submit", nil)
	return id
}

// inbox is the vendor's portal inbox: titles by count, and the unread count.
func (v *ntVendor) inbox() (map[string]int, int) {
	r := v.must(200, "GET", "/api/v1/notifications?page_size=100", nil)
	titles := map[string]int{}
	for _, it := range r.Body["items"].([]any) {
		titles[str(it.(map[string]any), "title")]++
	}
	return titles, int(r.Body["unread"].(float64))
}

// sms is what the development SMS provider recorded for the vendor's mobile, read through
// the gateway as a developer would: the notification texts, by "name/decision".
func (v *ntVendor) sms() map[string]int {
	r := v.must(200, "GET", "/api/v1/dev/sms?mobile="+v.mobile, nil)
	out := map[string]int{}
	for _, it := range r.Body["items"].([]any) {
		m := it.(map[string]any)
		if m["template_code"] != stack.DevNotifyTemplate {
			continue
		}
		p := m["params"].(map[string]any)
		out[fmt.Sprint(p["name"], "/", p["decision"])]++
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// settle waits until the relay and notify's tick have each run twice more, so anything that
// would arrive a second time has had its chance.
func settle(t *testing.T) {
	t.Helper()
	relay, tick := platform.Scheduler.Fired("relay-outbox"), platform.Scheduler.Fired("notify-tick")
	waitFor(t, "two more relay runs and ticks", 30*time.Second, func() bool {
		return platform.Scheduler.Fired("relay-outbox") >= relay+2 && platform.Scheduler.Fired("notify-tick") >= tick+2
	})
}

// wantOnce checks that the vendor got each notification exactly once, on every channel.
func (v *ntVendor) wantOnce(t *testing.T, titles []string, sms []string) {
	t.Helper()
	inbox, _ := v.inbox()
	for _, title := range titles {
		if inbox[title] != 1 {
			t.Errorf("inbox has %q %d times, want once: %v", title, inbox[title], inbox)
		}
	}
	if len(inbox) != len(titles) {
		t.Errorf("inbox: %v, want exactly %v", inbox, titles)
	}
	got := v.sms()
	for _, s := range sms {
		if got[s] != 1 {
			t.Errorf("SMS %q arrived %d times, want once: %v", s, got[s], got)
		}
	}
	deliveries, evs, verified := v.hook.counts()
	if deliveries != len(titles) || evs != len(titles) || verified != len(titles) {
		t.Errorf("webhook: %d deliveries of %d events, %d verified; want %d of each", deliveries, evs, verified, len(titles))
	}
}

// An approval reaches the vendor's portal inbox, phone and webhook, each once.
func TestDecisionsReachTheVendor(t *testing.T) {
	admin := (&client{t: t, base: platform.GatewayURL}).as(directAdmin(t).Token)
	v := newNotifiedVendor(t, admin, "notified", "13512340001")
	app := v.pendingApp("城市停车缴费")
	admin.must(200, "POST", "/api/v1/admin/applications/"+app+"/approve", nil)

	title := "应用“城市停车缴费”审核通过"
	waitFor(t, "the notification on every channel", 30*time.Second, func() bool {
		inbox, _ := v.inbox()
		d, _, _ := v.hook.counts()
		return inbox[title] == 1 && v.sms()["城市停车缴费/审核通过"] == 1 && d == 1
	})
	settle(t)
	v.wantOnce(t, []string{title}, []string{"城市停车缴费/审核通过"})

	// The portal shows it unread, then read; the delivery is recorded as delivered.
	r := v.must(200, "GET", "/api/v1/notifications", nil)
	msg := r.Body["items"].([]any)[0].(map[string]any)
	if r.Body["unread"] != float64(1) || !strings.Contains(str(msg, "body"), "appCode") || str(msg, "link") != "/apps/"+app {
		t.Fatalf("inbox: %s", r.Raw)
	}
	v.must(200, "POST", "/api/v1/notifications/"+str(msg, "id")+"/read", nil)
	if _, unread := v.inbox(); unread != 0 {
		t.Fatalf("unread after reading: %d", unread)
	}
	r = v.must(200, "GET", "/api/v1/webhooks", nil)
	hookID := str(r.Body["items"].([]any)[0].(map[string]any), "id")
	r = v.must(200, "GET", "/api/v1/webhooks/"+hookID+"/deliveries", nil)
	d := r.Body["items"].([]any)[0].(map[string]any)
	if d["status"] != "delivered" || d["attempts"] != float64(1) || d["last_status_code"] != float64(204) {
		t.Fatalf("deliveries: %s", r.Raw)
	}
	// Redelivery on request: a second delivery of the same event id.
	v.must(202, "POST", "/api/v1/webhooks/deliveries/"+str(d, "id")+"/redeliver", nil)
	waitFor(t, "the redelivery", 30*time.Second, func() bool { n, _, _ := v.hook.counts(); return n == 2 })
	if _, evs, verified := v.hook.counts(); evs != 1 || verified != 2 {
		t.Fatalf("redelivery: %d events, %d verified", evs, verified)
	}
}

// With notify down during several decisions, the broker keeps retrying; once notify is back
// each decision reaches the vendor exactly once.
func TestNotifyDownThenBack(t *testing.T) {
	admin := (&client{t: t, base: platform.GatewayURL}).as(directAdmin(t).Token)
	v := newNotifiedVendor(t, admin, "notify-outage", "13512340002")
	apps := []string{v.pendingApp("公交乘车码"), v.pendingApp("图书馆预约"), v.pendingApp("医保查询")}

	if err := platform.StopFunction("notify"); err != nil {
		t.Fatal(err)
	}
	restarted := false
	defer func() {
		if !restarted {
			_ = platform.StartFunction(context.Background(), "notify")
		}
	}()
	delivered := platform.Broker.Delivered()
	admin.must(200, "POST", "/api/v1/admin/applications/"+apps[0]+"/approve", nil)
	admin.must(200, "POST", "/api/v1/admin/applications/"+apps[1]+"/reject", map[string]any{"reason": "请补充服务说明"})
	admin.must(200, "POST", "/api/v1/admin/applications/"+apps[2]+"/approve", nil)
	// The events left the outbox (the broker has them) and nothing reached the vendor.
	pool, _ := direct(t)
	waitFor(t, "the relay to hand the events to the broker", 30*time.Second, func() bool {
		var n int
		_ = pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox WHERE subject = ANY($1) AND sent_at IS NOT NULL`,
			[]string{"applications/" + apps[0], "applications/" + apps[1], "applications/" + apps[2]}).Scan(&n)
		return n == 3
	})
	if inbox, _ := v.inbox(); len(inbox) != 0 {
		t.Fatalf("notify is down, yet the inbox has %v", inbox)
	}
	if err := platform.StartFunction(context.Background(), "notify"); err != nil {
		t.Fatal(err)
	}
	restarted = true
	titles := []string{"应用“公交乘车码”审核通过", "应用“图书馆预约”被驳回", "应用“医保查询”审核通过"}
	waitFor(t, "the notifications after notify's return", 60*time.Second, func() bool {
		inbox, _ := v.inbox()
		d, _, _ := v.hook.counts()
		return len(inbox) == 3 && len(v.sms()) == 3 && d == 3
	})
	if platform.Broker.Delivered() < delivered+3 {
		t.Errorf("the broker acknowledged %d deliveries since, want at least 3", platform.Broker.Delivered()-delivered)
	}
	settle(t)
	v.wantOnce(t, titles, []string{"公交乘车码/审核通过", "图书馆预约/被驳回", "医保查询/审核通过"})
	for _, dl := range platform.Broker.DeadLetters() {
		if strings.HasPrefix(dl.Event.Subject(), "applications/") && containsString(apps, strings.TrimPrefix(dl.Event.Subject(), "applications/")) {
			t.Errorf("a decision went to the dead letters: %+v", dl)
		}
	}
}

// With the broker refusing, the events stay in the outbox (attempts counted, retried with
// backoff) and are delivered, once, after it accepts again.
func TestBrokerRefusingKeepsEventsInTheOutbox(t *testing.T) {
	admin := (&client{t: t, base: platform.GatewayURL}).as(directAdmin(t).Token)
	v := newNotifiedVendor(t, admin, "broker-outage", "13512340003")
	apps := []string{v.pendingApp("公积金提取"), v.pendingApp("不动产登记")}
	subjects := []string{"applications/" + apps[0], "applications/" + apps[1]}
	pool, _ := direct(t)

	platform.Broker.Refuse(0)
	accepted := false
	defer func() {
		if !accepted {
			platform.Broker.Accept()
		}
	}()
	admin.must(200, "POST", "/api/v1/admin/applications/"+apps[0]+"/approve", nil)
	admin.must(200, "POST", "/api/v1/admin/applications/"+apps[1]+"/reject", map[string]any{"reason": "材料不全"})
	waitFor(t, "the relay's refused attempts", 30*time.Second, func() bool {
		var n int
		_ = pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox WHERE subject = ANY($1) AND sent_at IS NULL
			AND attempts >= 2 AND last_error LIKE '%503%' AND next_attempt_at > created_at`, subjects).Scan(&n)
		return n == 2
	})
	if inbox, _ := v.inbox(); len(inbox) != 0 {
		t.Fatalf("the broker refused, yet the inbox has %v", inbox)
	}
	platform.Broker.Accept()
	accepted = true
	waitFor(t, "the outbox to drain once the broker accepts", 60*time.Second, func() bool {
		inbox, _ := v.inbox()
		return len(inbox) == 2 && len(v.sms()) == 2
	})
	settle(t)
	v.wantOnce(t, []string{"应用“公积金提取”审核通过", "应用“不动产登记”被驳回"}, []string{"公积金提取/审核通过", "不动产登记/被驳回"})
	var unsent int
	_ = pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox WHERE subject = ANY($1) AND sent_at IS NULL`, subjects).Scan(&unsent)
	if unsent != 0 {
		t.Fatalf("%d events left in the outbox", unsent)
	}
}

// An event notify can never handle goes to the broker's dead letters once, not round and
// round.
func TestPoisonedEventLandsInTheDeadLetters(t *testing.T) {
	pool, _ := direct(t)
	var id string
	err := pool.QueryRow(context.Background(), `INSERT INTO outbox (source, type, subject, data) VALUES ($1, $2, $3, $4) RETURNING id`,
		events.Source("approve"), events.ApplicationApproved, "applications/poison", json.RawMessage(`{"name": 42, "vendor_id": "nobody"}`)).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	deadFor := func() int {
		n := 0
		for _, dl := range platform.Broker.DeadLetters() {
			if dl.Event.ID() == id {
				n++
			}
		}
		return n
	}
	waitFor(t, "the poisoned event's dead letter", 30*time.Second, func() bool { return deadFor() == 1 })
	settle(t)
	if n := deadFor(); n != 1 {
		t.Fatalf("the poisoned event was dead-lettered %d times", n)
	}
	for _, dl := range platform.Broker.DeadLetters() {
		if dl.Event.ID() == id && (dl.Status != http.StatusBadRequest || dl.Trigger != "notify-application-approved") {
			t.Fatalf("dead letter: %+v", dl)
		}
	}
	var sent bool
	var processed int
	_ = pool.QueryRow(context.Background(), `SELECT sent_at IS NOT NULL FROM outbox WHERE id = $1`, id).Scan(&sent)
	_ = pool.QueryRow(context.Background(), `SELECT count(*) FROM processed_events WHERE id = $1`, id).Scan(&processed)
	if !sent || processed != 0 {
		t.Fatalf("outbox row sent=%v (want true: the broker took it), processed=%d (want 0)", sent, processed)
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
