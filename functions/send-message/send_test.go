package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/jinlaiban/openplatform/shared/sdk"
	"github.com/jinlaiban/openplatform/shared/sso"
)

// A vendor sends a message with the SDK; the citizen finds it in their inbox, reads it and
// marks it read.
func TestSendThenReadInTheInbox(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	c := h.newCitizen()
	m := newMessage(h.pairwise(a, c))

	// The SDK signs; only the Idempotency-Key has to be added (by hand here).
	r := h.signed(a, "POST", "/api/v1/messages", m, idempotencyKey("order-123-accepted"))
	s := wantJSON[sent](t, r, http.StatusCreated)
	if r.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("a first send is marked Idempotent-Replayed")
	}

	p := h.inbox(c, "")
	if p.Total != 1 || p.Unread != 1 || len(p.Items) != 1 || p.Page != 1 || p.PageSize != 20 {
		t.Fatalf("inbox %+v: want the one unread message on page 1 of 20", p)
	}
	got := p.Items[0]
	if got.ID != s.ID || got.Title != m.Title || got.Body != m.Body || got.Link != m.Link || got.Read || got.ReadAt != nil ||
		got.Application.ID != a.ID || got.Application.Name != a.Name || !got.CreatedAt.Equal(s.CreatedAt) {
		t.Fatalf("inbox item %+v: want the message sent (%+v) by %q, unread", got, s, a.Name)
	}

	one := wantJSON[inboxMessage](t, h.as(c, "GET", "/api/v1/citizen/messages/"+s.ID, nil), http.StatusOK)
	if one.ID != s.ID || one.Read || one.Application.Name != a.Name || one.Body != m.Body {
		t.Fatalf("message %+v: want the unread message (showing it does not mark it read)", one)
	}

	read := wantJSON[inboxMessage](t, h.as(c, "POST", "/api/v1/citizen/messages/"+s.ID+"/read", nil), http.StatusOK)
	if !read.Read || read.ReadAt == nil {
		t.Fatalf("after read: %+v, want read with read_at", read)
	}
	again := wantJSON[inboxMessage](t, h.as(c, "POST", "/api/v1/citizen/messages/"+strings.ToUpper(s.ID)+"/read", nil), http.StatusOK)
	if !again.Read || again.ReadAt == nil || !again.ReadAt.Equal(*read.ReadAt) {
		t.Fatalf("read twice: read_at %v then %v, want it kept", read.ReadAt, again.ReadAt)
	}

	p = h.inbox(c, "")
	if p.Total != 1 || p.Unread != 0 || !p.Items[0].Read {
		t.Fatalf("inbox after reading %+v: want 1 message, 0 unread", p)
	}
	if p = h.inbox(c, "?unread=true"); p.Total != 0 || p.Unread != 0 || len(p.Items) != 0 || p.Items == nil {
		t.Fatalf("unread inbox %+v: want empty (items [], not null)", p)
	}
}

// The SDK is what vendors use: SendMessage with a key, retried safely; its errors carry the
// platform's codes.
func TestSendWithTheSDK(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("12345市长热线")
	c := h.newCitizen()
	cl := h.client(a)
	ctx := context.Background()
	to := h.pairwise(a, c)
	m := sdk.Message{CitizenID: to, Title: "工单已办结", Body: "您反映的问题已办结，请评价。", Link: "https://12345.example.cn/orders/9"}

	first, err := cl.SendMessage(ctx, "order-9-closed", m)
	if err != nil {
		t.Fatal(err)
	}
	again, err := cl.SendMessage(ctx, "order-9-closed", m)
	if err != nil || again.ID != first.ID || !again.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("retry: %+v %v, want the original %+v", again, err, first)
	}
	m2 := m
	m2.Body += "谢谢。"
	if _, err := cl.SendMessage(ctx, "order-9-closed", m2); sdk.Code(err) != "idempotency-key-reused" {
		t.Fatalf("same key, other message: %v, want idempotency-key-reused", err)
	}
	// Without an Idempotency-Key a send is refused with a clear code.
	err = cl.Call(ctx, "test", "POST", "/api/v1/messages", nil, m, nil)
	if sdk.Code(err) != "idempotency-key-invalid" {
		t.Fatalf("send without a key: %v, want idempotency-key-invalid", err)
	}
	_, err = cl.SendMessage(ctx, "k2", sdk.Message{CitizenID: to})
	var e *sdk.Error
	if !errors.As(err, &e) || e.Status != http.StatusUnprocessableEntity || e.Code != "validation-failed" || e.RequestID == "" {
		t.Fatalf("error %v: want a 422 with a request id", err)
	}
	if _, err := cl.SendMessage(ctx, "k3", sdk.Message{CitizenID: "0123456789abcdef0123456789abcdef", Title: "t", Body: "b"}); sdk.Code(err) != "unknown-citizen" {
		t.Fatalf("unknown citizen: %v", err)
	}
	wrong := sdk.New(h.srv.URL, a.Code, "test_00000000000000000000000000000000", "")
	if _, err := wrong.SendMessage(ctx, "k4", m); sdk.Code(err) != "signature-mismatch" {
		t.Fatalf("wrong secret: %v, want signature-mismatch", err)
	}
	if n := h.messages(a); n != 1 {
		t.Fatalf("%d messages stored, want 1", n)
	}
	if p := h.inbox(c, ""); p.Total != 1 || p.Items[0].Title != m.Title || p.Items[0].Link != m.Link {
		t.Fatalf("inbox %+v", p)
	}
}

func TestSameKeySameMessageIsARetry(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	c := h.newCitizen()
	m := newMessage(h.pairwise(a, c))

	first := wantJSON[sent](t, h.signed(a, "POST", "/api/v1/messages", m, idempotencyKey("k-1")), http.StatusCreated)
	r := h.signed(a, "POST", "/api/v1/messages", m, idempotencyKey("k-1"))
	second := wantJSON[sent](t, r, http.StatusOK)
	if second.ID != first.ID || !second.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("retry answered %+v, want the original %+v", second, first)
	}
	if r.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("a retry is not marked Idempotent-Replayed")
	}
	// The same message formatted differently (order of fields, spacing) is the same request.
	reformatted := `{ "link": "` + m.Link + `", "body": "` + m.Body + `",
		"title": "` + m.Title + `", "citizen_id": "` + m.CitizenID + `" }`
	third := wantJSON[sent](t, h.signed(a, "POST", "/api/v1/messages", reformatted, idempotencyKey("k-1")), http.StatusOK)
	if third.ID != first.ID {
		t.Fatalf("reformatted retry answered %+v, want the original %+v", third, first)
	}
	if n := h.messages(a); n != 1 {
		t.Fatalf("%d messages stored, want 1", n)
	}
	if p := h.inbox(c, ""); p.Total != 1 {
		t.Fatalf("the citizen sees %d messages, want 1", p.Total)
	}
}

func TestSameKeyOtherMessageIsAConflict(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	c, other := h.newCitizen(), h.newCitizen()
	m := newMessage(h.pairwise(a, c))
	first := wantJSON[sent](t, h.signed(a, "POST", "/api/v1/messages", m, idempotencyKey("k-1")), http.StatusCreated)

	changes := map[string]message{
		"title":     {CitizenID: m.CitizenID, Title: m.Title + "！", Body: m.Body, Link: m.Link},
		"body":      {CitizenID: m.CitizenID, Title: m.Title, Body: m.Body + "。", Link: m.Link},
		"no link":   {CitizenID: m.CitizenID, Title: m.Title, Body: m.Body},
		"link":      {CitizenID: m.CitizenID, Title: m.Title, Body: m.Body, Link: m.Link + "?x=1"},
		"recipient": {CitizenID: h.pairwise(a, other), Title: m.Title, Body: m.Body, Link: m.Link},
	}
	for name, changed := range changes {
		t.Run(name, func(t *testing.T) {
			r, err := h.trySigned(a, "POST", "/api/v1/messages", changed, idempotencyKey("k-1"))
			if err != nil {
				t.Fatal(err)
			}
			r.wantProblem(t, http.StatusConflict, "idempotency-key-reused")
		})
	}
	if n := h.messages(a); n != 1 {
		t.Fatalf("%d messages stored, want 1", n)
	}
	// The original is still what the key answers.
	again := wantJSON[sent](t, h.signed(a, "POST", "/api/v1/messages", m, idempotencyKey("k-1")), http.StatusOK)
	if again.ID != first.ID {
		t.Fatalf("retry answered %+v, want %+v", again, first)
	}
	if p := h.inbox(other, ""); p.Total != 0 {
		t.Fatalf("the other citizen got %d messages, want none", p.Total)
	}
}

// Keys belong to an application: two applications may use the same one.
func TestKeysArePerApplication(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a, b := h.grantedApp("公积金"), h.grantedApp("社保")
	c := h.newCitizen()
	sa := wantJSON[sent](t, h.signed(a, "POST", "/api/v1/messages", newMessage(h.pairwise(a, c)), idempotencyKey("same")), http.StatusCreated)
	sb := wantJSON[sent](t, h.signed(b, "POST", "/api/v1/messages", newMessage(h.pairwise(b, c)), idempotencyKey("same")), http.StatusCreated)
	if sa.ID == sb.ID {
		t.Fatalf("two applications' sends share id %s", sa.ID)
	}
	p := h.inbox(c, "")
	if p.Total != 2 || p.Unread != 2 {
		t.Fatalf("inbox %+v: want both messages", p)
	}
	names := map[string]bool{}
	for _, it := range p.Items {
		names[it.Application.Name] = true
	}
	if !names[a.Name] || !names[b.Name] {
		t.Fatalf("inbox shows applications %v, want %q and %q", names, a.Name, b.Name)
	}
}

// Of many sends with one key at once, exactly one stores the message; all answer with it.
func TestConcurrentSendsWithOneKeyStoreOneMessage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	c := h.newCitizen()
	m := newMessage(h.pairwise(a, c))

	const n = 16
	replies := make([]reply, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			replies[i], errs[i] = h.trySigned(a, "POST", "/api/v1/messages", m, idempotencyKey("burst"))
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
		var s sent
		r.decode(t, &s)
		ids[s.ID] = true
	}
	if created != 1 || len(ids) != 1 {
		t.Fatalf("%d sends answered 201 with %d different ids, want exactly one 201 and one id", created, len(ids))
	}
	if got := h.messages(a); got != 1 {
		t.Fatalf("%d messages stored, want 1", got)
	}
}

// An application addresses only citizens who signed in to its services, by its own ids.
func TestUnknownCitizen(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a, b := h.grantedApp("公积金"), h.grantedApp("社保")
	c := h.newCitizen()
	stranger := h.newCitizen() // never signed in to a's services
	hisForB := h.pairwise(b, c)

	cases := map[string]string{
		"never seen":                         "0123456789abcdef0123456789abcdef",
		"another application's id":           hisForB,
		"a's id for a citizen not signed in": sso.PairwiseID(h.sealer, a.ID, stranger.ID),
	}
	for name, id := range cases {
		t.Run(name, func(t *testing.T) {
			r, err := h.trySigned(a, "POST", "/api/v1/messages", newMessage(id), idempotencyKey(h.newKey()))
			if err != nil {
				t.Fatal(err)
			}
			p := r.wantProblem(t, http.StatusUnprocessableEntity, "unknown-citizen")
			if got := p.paramNames(); len(got) != 1 || got[0] != "citizen_id" {
				t.Errorf("invalid_params %v, want citizen_id", got)
			}
		})
	}
	if n := scalar[int](h, `SELECT count(*) FROM citizen_messages`); n != 0 {
		t.Fatalf("%d messages stored, want none", n)
	}
	// b may use its own id.
	h.post(b, newMessage(hisForB))
}
