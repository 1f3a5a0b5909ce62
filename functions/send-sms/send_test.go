package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/sdk"
)

// A vendor texts a citizen by the application's id for them and a member of its staff by
// number: each send is answered with its id and the provider's, recorded with the provider,
// and (with the development provider) readable in the development inbox.
func TestSendToACitizenAndToAStaffMobile(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	c := h.newCitizen()
	to := h.pairwise(a, c)

	toCitizen := h.sent(a, codeToCitizen(to))
	if !strings.HasPrefix(toCitizen.ProviderID, "dev-") {
		t.Errorf("provider id %q, want the development provider's", toCitizen.ProviderID)
	}
	staff := "13800138000"
	toStaff := h.sent(a, doneTo(staff))
	if toStaff.ID == toCitizen.ID || toStaff.ProviderID == toCitizen.ProviderID {
		t.Fatalf("two sends share an id: %+v %+v", toCitizen, toStaff)
	}

	for _, tc := range []struct {
		res      result
		template string
		citizen  bool
	}{{toCitizen, codeTemplate, true}, {toStaff, doneTemplate, false}} {
		s := h.storedSend(tc.res.ID)
		if s.ApplicationID != a.ID || s.TemplateCode != tc.template || s.Status != "sent" || s.Provider != "dev" ||
			s.ProviderID == nil || *s.ProviderID != tc.res.ProviderID || s.Error != nil || s.IdempotencyKey == nil {
			t.Errorf("stored send %+v, want %s sent by dev with provider id %s and its key", s, tc.template, tc.res.ProviderID)
		}
		if tc.citizen != (s.CitizenID != nil && *s.CitizenID == c.ID) {
			t.Errorf("stored send of %s: citizen %v", tc.template, s.CitizenID)
		}
	}

	// The development inbox of each number holds its message, sign name and parameters.
	got := h.inbox(c.Mobile).Items
	if len(got) != 1 || "dev-"+got[0].ID != toCitizen.ProviderID || got[0].SignName != signName || got[0].TemplateCode != codeTemplate ||
		got[0].Params["code"] != "482913" || len(got[0].Params) != 1 {
		t.Fatalf("citizen's inbox %+v, want the code message %s", got, toCitizen.ProviderID)
	}
	got = h.inbox(staff).Items
	if len(got) != 1 || "dev-"+got[0].ID != toStaff.ProviderID || got[0].TemplateCode != doneTemplate ||
		got[0].Params["item"] != "住房公积金提取" || got[0].Params["date"] != "2024年5月20日" {
		t.Fatalf("staff inbox %+v, want the notice %s", got, toStaff.ProviderID)
	}
	if got := h.inbox("13700137000").Items; got == nil || len(got) != 0 {
		t.Fatalf("inbox of a number never texted: %+v, want [] (not null)", got)
	}
	h.plain("GET", "/api/v1/dev/sms?mobile=12345", nil).wantInvalid(t, "mobile")
	h.plain("GET", "/api/v1/dev/sms", nil).wantInvalid(t, "mobile")
	if n, u := h.devMessages(), h.usage(a); n != 2 || u != 2 {
		t.Fatalf("%d provider calls and usage %d, want 2 each", n, u)
	}
}

// The SDK's SendSMS works as vendors call it.
func TestSendWithTheSDK(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("12345市长热线")
	c := h.newCitizen()
	cl := sdk.New(h.srv.URL, a.Code, a.Secret, "")
	cl.HTTP = h.srv.Client()
	ctx := context.Background()
	m := sdk.SMS{TemplateCode: codeTemplate, Params: map[string]string{"code": "123456"}, CitizenID: h.pairwise(a, c)}
	first, err := cl.SendSMS(ctx, "order-1-code", m)
	if err != nil || first.Status != "sent" || first.ProviderID == "" {
		t.Fatalf("SendSMS: %+v %v", first, err)
	}
	again, err := cl.SendSMS(ctx, "order-1-code", m)
	if err != nil || again.ID != first.ID || again.ProviderID != first.ProviderID || !again.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("retry: %+v %v, want %+v", again, err, first)
	}
	m.Params["code"] = "654321"
	if _, err := cl.SendSMS(ctx, "order-1-code", m); sdk.Code(err) != "idempotency-key-reused" {
		t.Fatalf("same key, other message: %v, want idempotency-key-reused", err)
	}
	if n := h.devMessages(); n != 1 {
		t.Fatalf("%d provider calls, want 1", n)
	}
}

// With another provider than the development one, there is no development inbox.
func TestNoDevInboxWithARealProvider(t *testing.T) {
	t.Parallel()
	h, f := withFakeProvider(t, defaultSettings())
	a := h.grantedApp("晋城市住房公积金中心")
	res := h.sent(a, codeTo("13800138000"))
	if s := h.storedSend(res.ID); s.Provider != "fake" || s.ProviderID == nil || *s.ProviderID != res.ProviderID {
		t.Fatalf("stored %+v, want provider fake with id %s", s, res.ProviderID)
	}
	h.plain("GET", "/api/v1/dev/sms?mobile=13800138000", nil).wantProblem(t, http.StatusNotFound, "not-found")
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("%d provider calls, want 1", n)
	}
}

// Of 200 sends at once with one Idempotency-Key exactly one reaches the provider; every
// answer names the same send, one created, the others replaying it.
func TestConcurrentSendsWithOneKeySendOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	c := h.newCitizen()
	f := codeToCitizen(h.pairwise(a, c))
	const n = 200
	replies := make([]reply, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			replies[i], errs[i] = h.trySigned(a, "POST", sendPath, f, idempotencyKey("burst-1"))
		}()
	}
	close(start)
	wg.Wait()
	created, ids := 0, map[string]bool{}
	for i, r := range replies {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		switch r.status {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Fatalf("a concurrent send answered %d: %s", r.status, r.body)
		}
		var res result
		r.decode(t, &res)
		if res.Status != "sent" || res.ProviderID == "" {
			t.Fatalf("answer %s: want sent with a provider id", r.body)
		}
		ids[res.ID+"/"+res.ProviderID] = true
	}
	if created != 1 || len(ids) != 1 {
		t.Fatalf("%d answers 201 and %d distinct sends, want exactly one of each", created, len(ids))
	}
	if d, s := h.devMessages(), h.sends(a); d != 1 || s != 1 {
		t.Fatalf("%d provider calls and %d recorded sends, want 1 each", d, s)
	}
	if got := h.inbox(c.Mobile).Items; len(got) != 1 {
		t.Fatalf("the citizen got %d messages, want 1", len(got))
	}
}

// A key is for one request: the same key with another body is refused and sends nothing;
// without a key every send is its own.
func TestIdempotencyKeys(t *testing.T) {
	t.Parallel()
	cfg := defaultSettings()
	cfg.cfg.PerMinute, cfg.cfg.PerHour, cfg.cfg.PerDay = 10, 10, 10
	h := newHarnessWith(t, cfg)
	a, b := h.grantedApp("公积金"), h.grantedApp("社保")
	staff := "13800138000"

	first := wantJSON[result](t, h.signed(a, "POST", sendPath, codeTo(staff), idempotencyKey("k-1")), http.StatusCreated)
	retry := wantJSON[result](t, h.signed(a, "POST", sendPath, codeTo(staff), idempotencyKey("k-1")), http.StatusOK)
	if retry != first {
		t.Fatalf("retry %+v, want %+v", retry, first)
	}
	for name, other := range map[string]smsForm{
		"other number":    codeTo("13800138001"),
		"other parameter": {TemplateCode: codeTemplate, Params: map[string]string{"code": "000000"}, Mobile: staff},
		"other template":  doneTo(staff),
	} {
		t.Run(name, func(t *testing.T) {
			r, err := h.trySigned(a, "POST", sendPath, other, idempotencyKey("k-1"))
			if err != nil {
				t.Fatal(err)
			}
			r.wantProblem(t, http.StatusConflict, "idempotency-key-reused")
		})
	}
	if d, s := h.devMessages(), h.sends(a); d != 1 || s != 1 {
		t.Fatalf("%d provider calls and %d sends after conflicts, want 1 each", d, s)
	}
	// Keys are per application: another application's "k-1" is its own send.
	other := wantJSON[result](t, h.signed(b, "POST", sendPath, codeTo(staff), idempotencyKey("k-1")), http.StatusCreated)
	if other.ID == first.ID {
		t.Fatalf("two applications share a send through a key")
	}
	// Without a key, each send is separate.
	x := wantJSON[result](t, h.signed(a, "POST", sendPath, codeTo(staff)), http.StatusCreated)
	y := wantJSON[result](t, h.signed(a, "POST", sendPath, codeTo(staff)), http.StatusCreated)
	if x.ID == y.ID || x.ProviderID == y.ProviderID {
		t.Fatalf("two keyless sends answered one send: %+v %+v", x, y)
	}
	if s := h.storedSend(x.ID); s.IdempotencyKey != nil {
		t.Errorf("a keyless send stored key %q", *s.IdempotencyKey)
	}
	if d, s := h.devMessages(), h.sends(a); d != 4 || s != 3 {
		t.Fatalf("%d provider calls and %d sends of a, want 4 and 3", d, s)
	}
}

// A provider that refuses: 502 naming the recorded send, stored as failed without a provider
// id; the same key answers the same failure without calling the provider again; a failure
// does not count against the number's limits.
func TestFailingProvider(t *testing.T) {
	t.Parallel()
	h, f := withFakeProvider(t, defaultSettings())
	a := h.grantedApp("晋城市住房公积金中心")
	staff := "13800138000"
	f.failing.Store(true)

	r := h.signed(a, "POST", sendPath, codeTo(staff), idempotencyKey("fail-1"))
	p := r.wantProblem(t, http.StatusBadGateway, "sms-provider-failed")
	if !uuidLike(p.SendID) {
		t.Fatalf("problem %s names no send", r.body)
	}
	s := h.storedSend(p.SendID)
	if s.Status != "failed" || s.ProviderID != nil || s.Error == nil || *s.Error == "" || s.Provider != "fake" {
		t.Fatalf("stored %+v, want failed, no provider id, an error", s)
	}
	if strings.Contains(*s.Error, errRefused.Error()) || strings.Contains(string(r.body), "BUSINESS_LIMIT") {
		t.Errorf("the provider's own error text reached the record or the answer: %q / %s", *s.Error, r.body)
	}

	again := h.signed(a, "POST", sendPath, codeTo(staff), idempotencyKey("fail-1"))
	if q := again.wantProblem(t, http.StatusBadGateway, "sms-provider-failed"); q.SendID != p.SendID {
		t.Fatalf("retry named send %s, want %s", q.SendID, p.SendID)
	}
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("%d provider calls, want 1 (the retry must not call again)", n)
	}

	// A new key sends, within the per-minute limit of 1: the failure did not count.
	f.failing.Store(false)
	ok := h.sent(a, codeTo(staff))
	if n := f.calls.Load(); n != 2 || h.sends(a) != 2 {
		t.Fatalf("%d provider calls, %d sends, want 2 each", n, h.sends(a))
	}
	if s := h.storedSend(ok.ID); s.Status != "sent" {
		t.Fatalf("stored %+v", s)
	}
}

// GET /api/v1/sms/sends lists the signing application's sends, newest first, numbers masked.
func TestListSends(t *testing.T) {
	t.Parallel()
	h, f := withFakeProvider(t, defaultSettings())
	a, b := h.grantedApp("公积金"), h.grantedApp("社保")
	c := h.newCitizen()
	first := h.sent(a, codeToCitizen(h.pairwise(a, c)))
	second := h.sent(a, doneTo("13800138000"))
	f.failing.Store(true)
	failed := h.signed(a, "POST", sendPath, codeTo("13700137000")).wantProblem(t, http.StatusBadGateway, "sms-provider-failed")
	f.failing.Store(false)
	theirs := h.sent(b, codeTo("13600136000"))

	l := wantJSON[sendList](t, h.signed(a, "GET", "/api/v1/sms/sends", nil), http.StatusOK)
	if len(l.Items) != 3 || l.Page != 1 || l.PageSize != 20 {
		t.Fatalf("list %+v, want a's 3 sends on page 1 of 20", l)
	}
	want := []struct{ id, template, mobile, status, providerID string }{
		{failed.SendID, codeTemplate, "137****7000", "failed", ""},
		{second.ID, doneTemplate, "138****8000", "sent", second.ProviderID},
		{first.ID, codeTemplate, c.Mobile[:3] + "****" + c.Mobile[7:], "sent", first.ProviderID},
	}
	for i, w := range want {
		got := l.Items[i]
		if got.ID != w.id || got.TemplateCode != w.template || got.Mobile != w.mobile || got.Status != w.status || got.ProviderID != w.providerID {
			t.Errorf("item %d %+v, want %+v", i, got, w)
		}
	}
	raw := h.signed(a, "GET", "/api/v1/sms/sends", nil).body
	for _, plain := range []string{c.Mobile, "13800138000", "13700137000", theirs.ID, "13600136000"} {
		if bytes.Contains(raw, []byte(plain)) {
			t.Errorf("the list shows %s", plain)
		}
	}
	page := wantJSON[sendList](t, h.signed(a, "GET", "/api/v1/sms/sends?page=2&page_size=2", nil), http.StatusOK)
	if len(page.Items) != 1 || page.Items[0].ID != first.ID || page.Page != 2 || page.PageSize != 2 {
		t.Fatalf("page 2 of 2: %+v, want the oldest send", page)
	}
	h.signed(a, "GET", "/api/v1/sms/sends?page_size=101", nil).wantInvalid(t, "page_size")
	h.signed(a, "GET", "/api/v1/sms/sends?page=0", nil).wantInvalid(t, "page")
	h.plain("GET", "/api/v1/sms/sends", nil).wantProblem(t, http.StatusUnauthorized, "signature-missing")

	l = wantJSON[sendList](t, h.signed(b, "GET", "/api/v1/sms/sends", nil), http.StatusOK)
	if len(l.Items) != 1 || l.Items[0].ID != theirs.ID || l.Items[0].Mobile != "136****6000" {
		t.Fatalf("b's list %+v, want only its own send", l)
	}
	// An application without sends sees an empty list, not null.
	none := h.newApp("无短信")
	if raw := h.signed(none, "GET", "/api/v1/sms/sends", nil).want(t, http.StatusOK).body; !bytes.Contains(raw, []byte(`"items":[]`)) {
		t.Fatalf("empty list %s, want items []", raw)
	}
}

// A call signed with the test secret reaches only test citizens; one signed with the
// production secret reaches every citizen who signed in to the application's services.
func TestTestSecretReachesOnlyTestCitizens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	public := h.newCitizen()
	to := h.signedIn(a, public)
	h.signed(a, "POST", sendPath, codeToCitizen(to), idempotencyKey("k")).wantProblem(t, http.StatusUnprocessableEntity, "unknown-citizen")
	if d, s := h.devMessages(), h.sends(a); d != 0 || s != 0 {
		t.Fatalf("%d provider calls, %d sends to a citizen out of the test secret's reach", d, s)
	}
	prod, err := apps.IssueSecret(context.Background(), h.pool, h.sealer, a.ID, apps.EnvProduction)
	if err != nil {
		t.Fatal(err)
	}
	live := a
	live.Secret = prod.Secret
	h.sent(live, codeToCitizen(to))
	if got := h.inbox(public.Mobile).Items; len(got) != 1 {
		t.Fatalf("the citizen got %d messages, want 1", len(got))
	}
}
