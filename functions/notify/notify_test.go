package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/events"
)

// An approval reaches the vendor three ways, each once: a message in the portal inbox, an
// SMS to the contact mobile through the provider, and a signed delivery to the webhook
// endpoint, which verifies with the Standard Webhooks library.
func TestADecisionReachesInboxSMSAndWebhook(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rc := newReceiver(t)
	endpointID, secret := h.endpoint(rc.srv.URL + "/hooks")
	rc.secret = secret
	ev := h.decision(events.ApplicationApproved)

	h.deliver(ev).want(t, http.StatusOK)

	var title, body, link, evType string
	err := h.pool.QueryRow(context.Background(), `SELECT title, body, link, event_type FROM vendor_messages WHERE vendor_id = $1 AND event_id = $2`,
		h.vendor, ev.ID()).Scan(&title, &body, &link, &evType)
	if err != nil {
		t.Fatalf("the inbox message: %v", err)
	}
	var data events.ApplicationDecision
	_ = ev.DataAs(&data)
	if title != "应用“公积金查询”审核通过" || !strings.Contains(body, data.AppCode) || link != "/apps/"+data.ApplicationID || evType != ev.Type() {
		t.Errorf("message %q / %q / %q / %q", title, body, link, evType)
	}
	msgs := h.devSMS()
	if len(msgs) != 1 || msgs[0].TemplateCode != smsTemplate || msgs[0].SignName != "晋来办" ||
		msgs[0].Params["name"] != "公积金查询" || msgs[0].Params["decision"] != "审核通过" || msgs[0].Params["reason"] != "无" {
		t.Fatalf("development SMS inbox: %+v", msgs)
	}
	if n := h.count(`SELECT count(*) FROM sms_jobs WHERE status = 'sent' AND attempts = 1 AND provider_id LIKE 'dev-%'`); n != 1 {
		t.Errorf("sent SMS jobs = %d", n)
	}
	got := rc.deliveries()
	if len(got) != 1 || rc.verified != 1 {
		t.Fatalf("webhook receiver got %d deliveries, %d verified", len(got), rc.verified)
	}
	if got[0].header.Get("webhook-id") != ev.ID() || got[0].header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", got[0].header)
	}
	var payload struct {
		ID, Type, Source, Subject, Timestamp string
		Data                                 events.ApplicationDecision
	}
	if err := json.Unmarshal(got[0].body, &payload); err != nil || payload.ID != ev.ID() || payload.Type != ev.Type() ||
		payload.Source != ev.Source() || payload.Subject != ev.Subject() || payload.Data != data || payload.Timestamp == "" {
		t.Errorf("payload %s (%v)", got[0].body, err)
	}
	d := h.deliveries()
	if len(d) != 1 || d[0].status != "delivered" || d[0].attempts != 1 || d[0].code == nil || *d[0].code != 204 || d[0].endpointID != endpointID {
		t.Errorf("delivery %+v", d)
	}
	// Nothing is left for the tick.
	if res := h.tick(); res != (tickResult{}) {
		t.Errorf("tick after a clean delivery: %+v", res)
	}
}

// The broker may deliver an event more than once: each redelivery is answered 200 and has no
// second effect.
func TestRedeliveryHasNoSecondEffect(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rc := newReceiver(t)
	h.endpoint(rc.srv.URL)
	ev := h.decision(events.ApplicationRejected)
	for range 3 {
		h.deliver(ev).want(t, http.StatusOK)
	}
	h.tick()
	if n := h.count(`SELECT count(*) FROM vendor_messages`); n != 1 {
		t.Errorf("%d inbox messages, want 1", n)
	}
	if msgs := h.devSMS(); len(msgs) != 1 || msgs[0].Params["reason"] != "请补充应用用途说明" || msgs[0].Params["decision"] != "被驳回" {
		t.Errorf("SMS: %+v", msgs)
	}
	if n := len(rc.deliveries()); n != 1 {
		t.Errorf("%d webhook deliveries, want 1", n)
	}
	// The same id from another source is another event.
	other := ev.Clone()
	other.SetSource("/functions/elsewhere")
	h.deliver(other).want(t, http.StatusOK)
	if n := h.count(`SELECT count(*) FROM vendor_messages`); n != 2 {
		t.Errorf("an event from another source with the same id was taken for a duplicate")
	}
}

// Ten deliveries of one event at once (two broker retries racing, two instances): one
// effect, every one answered 200.
func TestConcurrentRedeliveryHasOneEffect(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rc := newReceiver(t)
	h.endpoint(rc.srv.URL)
	ev := h.decision(events.ApplicationApproved)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			r, err := h.tryDeliver(h.srv.URL, ev)
			if err != nil || r.status != http.StatusOK {
				t.Errorf("concurrent delivery: %d %s %v", r.status, r.body, err)
			}
		})
	}
	wg.Wait()
	h.tick()
	if n := h.count(`SELECT count(*) FROM vendor_messages`); n != 1 {
		t.Errorf("%d inbox messages, want 1", n)
	}
	if n := h.count(`SELECT count(*) FROM sms_jobs`); n != 1 || len(h.devSMS()) != 1 {
		t.Errorf("%d SMS jobs and %d SMS, want 1 each", n, len(h.devSMS()))
	}
	if n := len(rc.deliveries()); n != 1 {
		t.Errorf("%d webhook deliveries, want 1", n)
	}
}

// An event notify can never handle is answered 400, so the broker does not retry it but
// hands it to its dead-letter sink; nothing is recorded.
func TestPoisonEventsAreRefusedFor400(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	good := h.decision(events.ApplicationApproved)
	var data events.ApplicationDecision
	_ = good.DataAs(&data)
	with := func(typ string, d any) cloudevents.Event { return h.event(typ, "applications/x", d) }
	noReason := data
	noReason.Decision = "rejected"
	strange := data
	strange.VendorID = uuid.NewString() // no such vendor
	cases := map[string]cloudevents.Event{
		"unknown type":               with("cn.jinlaiban.openplatform.application.exploded.v1", data),
		"data of another shape":      with(events.ApplicationApproved, map[string]any{"name": 42, "vendor_id": h.vendor}),
		"data missing its vendor":    with(events.ApplicationApproved, map[string]any{"name": "x", "application_id": data.ApplicationID}),
		"rejection without reason":   with(events.ApplicationRejected, noReason),
		"vendor that does not exist": with(events.ApplicationApproved, strange),
		"service event, app data":    with(events.ServiceOffline, data),
		"capability unknown": with(events.CapabilityGranted, events.CapabilityDecision{GrantID: uuid.NewString(), Capability: "teleport",
			ApplicationID: uuid.NewString(), Name: "x", VendorID: h.vendor}),
	}
	for name, ev := range cases {
		if r := h.deliver(ev); r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", name, r.status, r.body)
		}
	}
	notJSON := h.event(events.ApplicationApproved, "applications/x", nil)
	_ = notJSON.SetData("text/plain", "hello")
	if r := h.deliver(notJSON); r.status != http.StatusBadRequest {
		t.Errorf("text data: status %d", r.status)
	}
	// Unparsable: a CloudEvent header set without the required attributes, or a broken
	// structured-mode body.
	for name, r := range map[string]reply{
		"no id or source":   h.post("/", "application/json", http.Header{"Ce-Specversion": {"1.0"}, "Ce-Type": {events.ApplicationApproved}}, `{}`),
		"broken structured": h.post("/", "application/cloudevents+json", nil, `{"specversion":"1.0",`),
		"unknown spec version": h.post("/", "application/json", http.Header{"Ce-Specversion": {"9.9"}, "Ce-Id": {"1"},
			"Ce-Source": {"/x"}, "Ce-Type": {events.ApplicationApproved}}, `{}`),
	} {
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", name, r.status, r.body)
		}
	}
	if n := h.count(`SELECT count(*) FROM processed_events`) + h.count(`SELECT count(*) FROM vendor_messages`); n != 0 {
		t.Errorf("a refused event left %d rows", n)
	}
	// And a good one still goes through.
	h.deliver(good).want(t, http.StatusOK)
}

// With the database unreachable notify answers 503, which the broker retries.
func TestDatabaseDownIs503(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.errorsExpected = true
	down, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(down.Close)
	srv := h.serve(down)
	r, err := h.tryDeliver(srv.URL, h.decision(events.ApplicationApproved))
	if err != nil || r.status != http.StatusServiceUnavailable {
		t.Fatalf("delivery with the database down: %d %s %v", r.status, r.body, err)
	}
	if h.count(`SELECT count(*) FROM vendor_messages`) != 0 {
		t.Fatal("a message was written")
	}
}

// The tick comes three ways: a PingSource event, a plain POST on /_/tick, and the OpenFaaS
// cron connector's POST on the root with no CloudEvent in it.
func TestTheTickArrivesEveryWay(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ping := h.event(pingType, "", map[string]string{"note": "tick"})
	ping.SetSource("/apis/v1/namespaces/jinlaiban-open/pingsources/notify-tick")
	h.deliver(ping).want(t, http.StatusOK)
	for _, path := range []string{"/_/tick", "/"} {
		if r := h.post(path, "", nil, ""); r.status != http.StatusOK || !strings.Contains(string(r.body), `"sms_sent":0`) {
			t.Errorf("POST %s: %d %s", path, r.status, r.body)
		}
	}
	if r := h.post("/_/health-not", "", nil, ""); r.status != http.StatusNotFound {
		t.Errorf("an unknown path: %d", r.status)
	}
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/", nil)
	if r, _ := do(req); r.status != http.StatusMethodNotAllowed {
		t.Errorf("GET / = %d, want 405 (a sink takes POST only)", r.status)
	}
}

// A failed SMS stays due; the tick sends it after its backoff, once.
func TestAFailedSMSIsRetriedByTheTick(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sms.fail = 1
	h.deliver(h.decision(events.ApplicationApproved)).want(t, http.StatusOK)
	var attempts int
	var lastErr string
	var next time.Time
	if err := h.pool.QueryRow(context.Background(), `SELECT attempts, last_error, next_attempt_at FROM sms_jobs WHERE status = 'pending'`).
		Scan(&attempts, &lastErr, &next); err != nil {
		t.Fatalf("the failed job: %v", err)
	}
	if attempts != 1 || !strings.Contains(lastErr, "provider busy") || strings.Contains(lastErr, vendorMobile) || time.Until(next) < 50*time.Second {
		t.Fatalf("failed job: attempts %d, error %q, next in %v", attempts, lastErr, time.Until(next))
	}
	if res := h.tick(); res.SMSSent != 0 {
		t.Fatalf("a job not yet due was sent: %+v", res)
	}
	h.exec(`UPDATE sms_jobs SET next_attempt_at = now()`)
	if res := h.tick(); res.SMSSent != 1 {
		t.Fatalf("tick: %+v", res)
	}
	h.exec(`UPDATE sms_jobs SET next_attempt_at = now()`)
	h.tick()
	if n := len(h.devSMS()); n != 1 {
		t.Fatalf("%d SMS, want 1", n)
	}
	// One that keeps failing is given up after SMS_MAX_ATTEMPTS.
	h.sms.fail = 100
	h.deliver(h.decision(events.ApplicationRejected)).want(t, http.StatusOK)
	for range 5 {
		h.exec(`UPDATE sms_jobs SET next_attempt_at = now() WHERE status = 'pending'`)
		h.tick()
	}
	if n := h.count(`SELECT count(*) FROM sms_jobs WHERE status = 'failed' AND attempts = 3`); n != 1 {
		t.Fatalf("given-up jobs = %d", n)
	}
}

// A webhook endpoint that fails is retried with exponential backoff, each attempt recorded
// (status code, error, attempts, next attempt), and given up after WEBHOOK_MAX_ATTEMPTS; one
// that recovers gets the delivery once.
func TestWebhookRetriesWithBackoffThenDeliversOrGivesUp(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rc := newReceiver(t, 500, 503, 200)
	_, rc.secret = h.endpoint(rc.srv.URL)
	h.deliver(h.decision(events.ApplicationApproved)).want(t, http.StatusOK)
	d := h.deliveries()[0]
	if d.status != "pending" || d.attempts != 1 || *d.code != 500 || !strings.Contains(*d.lastError, "500") || time.Until(d.next) < 50*time.Second {
		t.Fatalf("after one failure: %+v (next in %v)", d, time.Until(d.next))
	}
	h.exec(`UPDATE webhook_deliveries SET next_attempt_at = now()`)
	if res := h.tick(); res.WebhooksFailed != 1 {
		t.Fatalf("tick: %+v", res)
	}
	d = h.deliveries()[0]
	if d.attempts != 2 || *d.code != 503 || time.Until(d.next) < 110*time.Second {
		t.Fatalf("after the second failure the backoff doubles: %+v (next in %v)", d, time.Until(d.next))
	}
	h.exec(`UPDATE webhook_deliveries SET next_attempt_at = now()`)
	if res := h.tick(); res.WebhooksDelivered != 1 {
		t.Fatalf("tick: %+v", res)
	}
	if d = h.deliveries()[0]; d.status != "delivered" || d.attempts != 3 || *d.code != 200 || d.lastError != nil {
		t.Fatalf("delivered: %+v", d)
	}
	// Every attempt carried the same webhook-id and a valid signature.
	got := rc.deliveries()
	if len(got) != 3 || rc.verified != 3 || got[0].header.Get("webhook-id") != got[2].header.Get("webhook-id") {
		t.Fatalf("%d attempts, %d verified", len(got), rc.verified)
	}

	dead := newReceiver(t, 410)
	h.exec(`DELETE FROM webhook_deliveries`)
	h.exec(`UPDATE webhook_endpoints SET url = $1`, dead.srv.URL)
	h.deliver(h.decision(events.ApplicationApproved)).want(t, http.StatusOK)
	for range 5 {
		h.exec(`UPDATE webhook_deliveries SET next_attempt_at = now()`)
		h.tick()
	}
	if d = h.deliveries()[0]; d.status != "failed" || d.attempts != 3 || *d.code != 410 {
		t.Fatalf("given up: %+v", d)
	}
	if n := len(dead.deliveries()); n != 3 {
		t.Fatalf("the endpoint saw %d attempts, want 3", n)
	}
}

// Deliveries go only to public addresses in a real deployment: loopback (and private
// networks) are refused at connect time unless ALLOW_HTTP_LOCALHOST; a redirect is a failed
// attempt, not followed.
func TestWebhooksNeverReachInternalAddressesNorFollowRedirects(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *config) { c.AllowHTTPLocalhost = false })
	rc := newReceiver(t)
	h.endpoint(rc.srv.URL)
	h.deliver(h.decision(events.ApplicationApproved)).want(t, http.StatusOK)
	if d := h.deliveries()[0]; d.status != "pending" || d.code != nil || !strings.Contains(*d.lastError, "internal address") {
		t.Fatalf("delivery to loopback: %+v", d)
	}
	if len(rc.deliveries()) != 0 {
		t.Fatal("the loopback endpoint was reached")
	}

	h2 := newHarness(t)
	redirect := newReceiver(t, http.StatusFound)
	h2.endpoint(redirect.srv.URL)
	h2.deliver(h2.decision(events.ApplicationApproved)).want(t, http.StatusOK)
	if d := h2.deliveries()[0]; d.status != "pending" || *d.code != 302 {
		t.Fatalf("a redirect: %+v", d)
	}
}

// A deleted endpoint gets no new deliveries, and its pending ones are given up.
func TestDeletedEndpointsGetNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rc := newReceiver(t, 500)
	id, _ := h.endpoint(rc.srv.URL)
	h.deliver(h.decision(events.ApplicationApproved)).want(t, http.StatusOK)
	h.exec(`UPDATE webhook_endpoints SET deleted_at = now() WHERE id = $1`, id)
	h.exec(`UPDATE webhook_deliveries SET next_attempt_at = now()`)
	h.tick()
	if d := h.deliveries(); len(d) != 1 || d[0].status != "failed" || !strings.Contains(*d[0].lastError, "deleted") {
		t.Fatalf("pending delivery of a deleted endpoint: %+v", d)
	}
	h.deliver(h.decision(events.ApplicationApproved)).want(t, http.StatusOK)
	if n := len(h.deliveries()); n != 1 {
		t.Fatalf("a deleted endpoint got a new delivery")
	}
	if n := len(rc.deliveries()); n != 1 {
		t.Fatalf("the deleted endpoint was called %d times", n)
	}
}

// Ticks at once (the schedule on two instances) run each due job once.
func TestConcurrentTicksRunEachJobOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rc := newReceiver(t)
	h.endpoint(rc.srv.URL)
	h.sms.fail = 1000
	for range 8 {
		h.deliver(h.decision(events.ApplicationApproved)).want(t, http.StatusOK)
	}
	h.sms.mu.Lock()
	h.sms.fail = 0
	h.sms.mu.Unlock()
	// Make the webhooks due again as if they had failed, and the SMS due.
	h.exec(`UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now()`)
	rc.mu.Lock()
	rc.got = nil
	rc.mu.Unlock()
	h.exec(`UPDATE sms_jobs SET next_attempt_at = now()`)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { h.tick() })
	}
	wg.Wait()
	if n := len(h.devSMS()); n != 8 {
		t.Errorf("%d SMS for 8 jobs", n)
	}
	if n := len(rc.deliveries()); n != 8 {
		t.Errorf("%d webhook calls for 8 deliveries", n)
	}
}

// Every decision type is worded for the vendor.
func TestEveryDecisionIsWorded(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	app, svc, grant := uuid.NewString(), uuid.NewString(), uuid.NewString()
	sd := func(decision, reason string) events.ServiceDecision {
		return events.ServiceDecision{ServiceID: svc, Name: "公积金提取", ModuleCode: "m1", ApplicationID: app, VendorID: h.vendor,
			Decision: decision, Reason: reason}
	}
	cd := func(decision, reason string) events.CapabilityDecision {
		return events.CapabilityDecision{GrantID: grant, Capability: "sms", ApplicationID: app, Name: "热线", VendorID: h.vendor,
			Decision: decision, Reason: reason}
	}
	cases := []struct {
		typ   string
		data  any
		title string
	}{
		{events.ListingApproved, sd("approve-listing", ""), "服务“公积金提取”上架审核通过"},
		{events.ListingRejected, sd("reject-listing", "材料不全"), "服务“公积金提取”上架申请被驳回"},
		{events.ServiceLive, sd("approve-live", ""), "服务“公积金提取”已上线"},
		{events.ServiceLive, sd("bring-online", "维护完成"), "服务“公积金提取”已恢复上线"},
		{events.LiveRejected, sd("reject-live", "报告过期"), "服务“公积金提取”上线申请被驳回"},
		{events.ServiceOffline, sd("take-offline", "接口升级"), "服务“公积金提取”已下线"},
		{events.CapabilityGranted, cd("grant", ""), "应用“热线”的短信能力申请已通过"},
		{events.CapabilityRejected, cd("reject", "签名不合规"), "应用“热线”的短信能力申请被驳回"},
		{events.CapabilityRevoked, cd("revoke", "内容违规"), "应用“热线”的短信能力已被收回"},
	}
	for _, c := range cases {
		ev := h.event(c.typ, "x", c.data)
		h.deliver(ev).want(t, http.StatusOK)
		var title, body string
		if err := h.pool.QueryRow(context.Background(), `SELECT title, body FROM vendor_messages WHERE event_id = $1`, ev.ID()).Scan(&title, &body); err != nil {
			t.Fatalf("%s: %v", c.typ, err)
		}
		if title != c.title {
			t.Errorf("%s: title %q, want %q", c.typ, title, c.title)
		}
		var d struct{ Reason string }
		_ = ev.DataAs(&d)
		if d.Reason != "" && !strings.Contains(body, d.Reason) {
			t.Errorf("%s: body %q lacks the reason", c.typ, body)
		}
	}
	if len(cases)+1 < len(events.DecisionTypes) {
		t.Fatal("a decision type has no case here")
	}
}
