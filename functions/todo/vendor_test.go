package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/capabilities"
	"github.com/jinlaiban/openplatform/shared/sdk"
	"github.com/jinlaiban/openplatform/shared/sso"
)

// A vendor gives a citizen a to-do item with the SDK, changes it, and completes it; the
// citizen sees it move from their open list to their done list.
func TestTodoLifecycleWithTheSDK(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	c := h.newCitizen()
	to := h.pairwise(a, c)
	cl := h.client(a)
	ctx := context.Background()
	f := newTodo(to, "WO-2024-0001")

	// The SDK's CreateTodo, as vendors call it (its due time a time.Time).
	wantDue, _ := time.Parse(time.RFC3339, f.DueAt)
	made, err := cl.CreateTodo(ctx, sdk.Todo{CitizenID: to, ExternalID: f.ExternalID, Title: f.Title, Description: f.Description,
		DueAt: &wantDue, Link: f.Link})
	if err != nil {
		t.Fatal(err)
	}
	// Creating it again is safe: the same item.
	if again, err := cl.CreateTodo(ctx, sdk.Todo{CitizenID: to, ExternalID: f.ExternalID, Title: f.Title, Description: f.Description,
		DueAt: &wantDue, Link: f.Link}); err != nil || again.ID != made.ID {
		t.Fatalf("create again: %+v %v, want %+v", again, err, made)
	}
	var created vendorTodo
	if err := cl.Call(ctx, "test", "GET", path(f.ExternalID), nil, nil, &created); err != nil {
		t.Fatal(err)
	}
	if created.ID != made.ID || !created.CreatedAt.Equal(made.CreatedAt) || created.ExternalID != f.ExternalID || created.CitizenID != to ||
		created.Title != f.Title || created.Description != f.Description || created.Link != f.Link || created.Status != "open" ||
		created.DueAt == nil || !created.DueAt.Equal(wantDue) || created.ClosedAt != nil {
		t.Fatalf("created %+v, want the item sent (%+v), open", created, f)
	}

	var got vendorTodo
	if err := cl.Call(ctx, "test", "GET", path(f.ExternalID), nil, nil, &got); err != nil {
		t.Fatal(err)
	}
	if got.ID != created.ID || got.CitizenID != to {
		t.Fatalf("GET %+v, want %+v", got, created)
	}

	change := todoForm{Title: "补充提交购房合同（已延期）", DueAt: inHours(96)}
	var updated vendorTodo
	if err := cl.Call(ctx, "test", "PUT", path(f.ExternalID), nil, change, &updated); err != nil {
		t.Fatal(err)
	}
	newDue, _ := time.Parse(time.RFC3339, change.DueAt)
	if updated.Title != change.Title || updated.Description != "" || updated.Link != "" || !updated.DueAt.Equal(newDue) ||
		updated.ID != created.ID || !updated.UpdatedAt.After(created.UpdatedAt) || !updated.CreatedAt.Equal(created.CreatedAt) {
		t.Fatalf("updated %+v: want every field replaced (description and link cleared), a later updated_at", updated)
	}

	open := h.list(c, "")
	if open.Total != 1 || len(open.Items) != 1 {
		t.Fatalf("open list %+v, want the item", open)
	}
	it := open.Items[0]
	if it.ID != created.ID || it.Title != change.Title || it.Application.ID != a.ID || it.Application.Name != a.Name ||
		it.Status != "open" || it.Overdue || !it.DueAt.Equal(newDue) {
		t.Fatalf("citizen sees %+v, want the updated open item of %q", it, a.Name)
	}

	if err := cl.CompleteTodo(ctx, f.ExternalID); err != nil {
		t.Fatal(err)
	}
	var done vendorTodo
	if err := cl.Call(ctx, "test", "GET", path(f.ExternalID), nil, nil, &done); err != nil {
		t.Fatal(err)
	}
	if done.Status != "done" || done.ClosedAt == nil {
		t.Fatalf("completed %+v, want done with closed_at", done)
	}
	// Completing again is a retry: the item stays as it was.
	var again vendorTodo
	if err := cl.Call(ctx, "test", "POST", path(f.ExternalID, "/complete"), nil, nil, &again); err != nil {
		t.Fatal(err)
	}
	if again.Status != "done" || !again.ClosedAt.Equal(*done.ClosedAt) || !again.UpdatedAt.Equal(done.UpdatedAt) {
		t.Fatalf("completed twice: %+v, want %+v unchanged", again, done)
	}
	// A done item cannot be cancelled, nor changed.
	err = cl.Call(ctx, "test", "POST", path(f.ExternalID, "/cancel"), nil, nil, nil)
	if sdk.Code(err) != "invalid-state" {
		t.Fatalf("cancel a done item: %v, want invalid-state", err)
	}
	var e *sdk.Error
	if !errors.As(err, &e) || e.Status != http.StatusConflict || e.Extra["todo_status"] != "done" || !strings.Contains(e.Detail, "done") {
		t.Fatalf("cancel a done item: %+v, want a 409 naming the status done", e)
	}
	if err := cl.Call(ctx, "test", "PUT", path(f.ExternalID), nil, change, nil); sdk.Code(err) != "invalid-state" {
		t.Fatalf("change a done item: %v, want invalid-state", err)
	}

	if p := h.list(c, ""); p.Total != 0 || len(p.Items) != 0 || p.Items == nil {
		t.Fatalf("open list after completion %+v, want empty (items [], not null)", p)
	}
	p := h.list(c, "?status=done")
	if p.Total != 1 || p.Items[0].Status != "done" || p.Items[0].ClosedAt == nil || p.Items[0].Overdue {
		t.Fatalf("done list %+v, want the item, closed", p)
	}
}

// A cancelled item cannot be completed; cancelling it again is a retry.
func TestCancelledCannotBeCompleted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	c := h.newCitizen()
	h.create(a, newTodo(h.pairwise(a, c), "A-1"))

	first := wantJSON[vendorTodo](t, h.signed(a, "POST", path("A-1", "/cancel"), nil), http.StatusOK)
	if first.Status != "cancelled" || first.ClosedAt == nil {
		t.Fatalf("cancelled %+v", first)
	}
	again := wantJSON[vendorTodo](t, h.signed(a, "POST", path("A-1", "/cancel"), nil), http.StatusOK)
	if !again.ClosedAt.Equal(*first.ClosedAt) {
		t.Fatalf("cancelled twice: closed_at %v then %v", first.ClosedAt, again.ClosedAt)
	}
	before := h.row(a, "A-1")
	p := h.signed(a, "POST", path("A-1", "/complete"), nil).wantProblem(t, http.StatusConflict, "invalid-state")
	if !strings.Contains(p.Detail, "cancelled") {
		t.Errorf("detail %q does not name the status", p.Detail)
	}
	h.signed(a, "PUT", path("A-1"), newTodo("", "").content()).wantProblem(t, http.StatusConflict, "invalid-state")
	if after := h.row(a, "A-1"); after != before {
		t.Fatalf("a refused change changed the item:\n%s\n%s", before, after)
	}
	if l := h.list(c, "?status=cancelled"); l.Total != 1 || l.Items[0].Status != "cancelled" {
		t.Fatalf("cancelled list %+v", l)
	}
	if l := h.list(c, ""); l.Total != 0 {
		t.Fatalf("open list %+v, want empty", l)
	}
}

// Creating is idempotent by external_id: the same item again is a retry (200, the item),
// other content a conflict.
func TestCreateIsIdempotentByExternalID(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	c, other := h.newCitizen(), h.newCitizen()
	to := h.pairwise(a, c)
	f := newTodo(to, "WO-7")
	first := h.create(a, f)

	r := h.signed(a, "POST", "/api/v1/todos", f)
	retry := wantJSON[vendorTodo](t, r, http.StatusOK)
	if retry.ID != first.ID || !retry.CreatedAt.Equal(first.CreatedAt) || r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry %+v (%v), want the original %+v, marked replayed", retry, r.header, first)
	}
	// The same item in other JSON: other field order, the due time in UTC.
	due, _ := time.Parse(time.RFC3339, f.DueAt)
	same := `{"title":"` + f.Title + `","external_id":"WO-7","link":"` + f.Link + `","due_at":"` + due.UTC().Format(time.RFC3339) +
		`","description":"` + f.Description + `","citizen_id":"` + to + `"}`
	if again := wantJSON[vendorTodo](t, h.signed(a, "POST", "/api/v1/todos", same), http.StatusOK); again.ID != first.ID {
		t.Fatalf("reformatted retry answered %+v", again)
	}

	for name, changed := range map[string]todoForm{
		"title":       {CitizenID: to, ExternalID: "WO-7", Title: f.Title + "!", Description: f.Description, DueAt: f.DueAt, Link: f.Link},
		"description": {CitizenID: to, ExternalID: "WO-7", Title: f.Title, DueAt: f.DueAt, Link: f.Link},
		"due":         {CitizenID: to, ExternalID: "WO-7", Title: f.Title, Description: f.Description, DueAt: inHours(49), Link: f.Link},
		"no due":      {CitizenID: to, ExternalID: "WO-7", Title: f.Title, Description: f.Description, Link: f.Link},
		"link":        {CitizenID: to, ExternalID: "WO-7", Title: f.Title, Description: f.Description, DueAt: f.DueAt},
		"citizen":     {CitizenID: h.pairwise(a, other), ExternalID: "WO-7", Title: f.Title, Description: f.Description, DueAt: f.DueAt, Link: f.Link},
	} {
		t.Run(name, func(t *testing.T) {
			r, err := h.trySigned(a, "POST", "/api/v1/todos", changed)
			if err != nil {
				t.Fatal(err)
			}
			r.wantProblem(t, http.StatusConflict, "external-id-reused")
		})
	}
	if n := h.todos(a); n != 1 {
		t.Fatalf("%d items stored, want 1", n)
	}
	if l := h.list(other, "?status=all"); l.Total != 0 {
		t.Fatalf("the other citizen got %+v", l)
	}

	// A retry after the item changed answers with the item as it is now.
	wantJSON[vendorTodo](t, h.signed(a, "PUT", path("WO-7"), todoForm{Title: "新标题"}), http.StatusOK)
	now := wantJSON[vendorTodo](t, h.signed(a, "POST", "/api/v1/todos", f), http.StatusOK)
	if now.Title != "新标题" || now.ID != first.ID {
		t.Fatalf("retry after an update: %+v, want the current item", now)
	}
}

// A create retried after its due time passed is still a retry, not a refusal: the due time
// was checked when the item was made.
func TestRetryAfterTheDueTimePassed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	c := h.newCitizen()
	f := newTodo(h.pairwise(a, c), "late-1")
	f.DueAt = time.Now().Add(-time.Minute).UTC().Truncate(time.Second).Format(time.RFC3339)
	// A new item may not be due in the past …
	h.signed(a, "POST", "/api/v1/todos", f).wantInvalid(t, "due_at")
	if n := h.todos(a); n != 0 {
		t.Fatalf("%d items stored, want none", n)
	}
	// … but one made while its due time was ahead (as if the clock had moved on since) is
	// found by its retry. Here the item is stored as the first create would have stored it.
	due, _ := time.Parse(time.RFC3339, f.DueAt)
	canonical, err := json.Marshal(fingerprint{CitizenID: f.CitizenID, ExternalID: f.ExternalID, Title: f.Title,
		Description: f.Description, DueAt: &due, Link: f.Link})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", "/api/v1/todos", nil)
	h.exec(`INSERT INTO todos (application_id, citizen_id, external_id, request_hash, title, description, due_at, link, status)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open')`, a.ID, c.ID, f.ExternalID, capabilities.RequestHash(req, canonical),
		f.Title, f.Description, due, f.Link)
	got := wantJSON[vendorTodo](t, h.signed(a, "POST", "/api/v1/todos", f), http.StatusOK)
	if got.ExternalID != f.ExternalID || !got.DueAt.Equal(due) {
		t.Fatalf("retry answered %+v", got)
	}
	l := h.list(c, "")
	if l.Total != 1 || !l.Items[0].Overdue {
		t.Fatalf("citizen sees %+v, want the item, overdue", l)
	}
}

// Of many creates of one external_id at once, exactly one stores the item.
func TestConcurrentCreatesStoreOneItem(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	c := h.newCitizen()
	f := newTodo(h.pairwise(a, c), "burst")
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
			replies[i], errs[i] = h.trySigned(a, "POST", "/api/v1/todos", f)
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
			t.Fatalf("a concurrent create answered %d: %s", r.status, r.body)
		}
		var td vendorTodo
		r.decode(t, &td)
		ids[td.ID] = true
	}
	if created != 1 || len(ids) != 1 || h.todos(a) != 1 {
		t.Fatalf("%d creates answered 201, %d ids, %d rows: want exactly one of each", created, len(ids), h.todos(a))
	}
}

// Completing and cancelling at once: one wins, the other is told the item's status.
func TestConcurrentCompleteAndCancel(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	c := h.newCitizen()
	to := h.pairwise(a, c)
	for i := range 5 {
		id := "race-" + string(rune('a'+i))
		h.create(a, newTodo(to, id))
		var wg sync.WaitGroup
		var rc, rx reply
		var ec, ex error
		wg.Add(2)
		go func() { defer wg.Done(); rc, ec = h.trySigned(a, "POST", path(id, "/complete"), nil) }()
		go func() { defer wg.Done(); rx, ex = h.trySigned(a, "POST", path(id, "/cancel"), nil) }()
		wg.Wait()
		if ec != nil || ex != nil {
			t.Fatal(ec, ex)
		}
		final := wantJSON[vendorTodo](t, h.signed(a, "GET", path(id), nil), http.StatusOK).Status
		switch {
		case final == "done" && rc.status == 200 && rx.status == 409:
		case final == "cancelled" && rx.status == 200 && rc.status == 409:
		default:
			t.Fatalf("%s: complete %d, cancel %d, final %s: want one winner and a 409", id, rc.status, rx.status, final)
		}
	}
}

// External ids belong to an application: another's with the same id is separate, and an
// application cannot see or touch another's items.
func TestExternalIDsArePerApplication(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a, b := h.grantedApp("公积金"), h.grantedApp("社保")
	c := h.newCitizen()
	ta := h.create(a, newTodo(h.pairwise(a, c), "shared-1"))
	before := h.row(a, "shared-1")
	for _, rt := range []struct {
		method, path string
		body         any
	}{
		{"GET", path("shared-1"), nil},
		{"PUT", path("shared-1"), todoForm{Title: "hijacked"}},
		{"POST", path("shared-1", "/complete"), nil},
		{"POST", path("shared-1", "/cancel"), nil},
		{"GET", path("never-made"), nil},
		{"GET", path("%2E%2E"), nil},
		{"GET", path("bad%20id"), nil},
		{"GET", path(strings.Repeat("x", 65)), nil},
	} {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			r, err := h.trySigned(b, rt.method, rt.path, rt.body)
			if err != nil {
				t.Fatal(err)
			}
			r.wantProblem(t, http.StatusNotFound, "not-found")
		})
	}
	if after := h.row(a, "shared-1"); after != before {
		t.Fatalf("another application changed the item:\n%s\n%s", before, after)
	}
	tb := h.create(b, newTodo(h.pairwise(b, c), "shared-1"))
	if tb.ID == ta.ID || tb.CitizenID == ta.CitizenID {
		t.Fatalf("two applications share an item or a citizen id: %+v %+v", ta, tb)
	}
	if l := h.list(c, ""); l.Total != 2 {
		t.Fatalf("citizen sees %d items, want both applications'", l.Total)
	}
}

// An update replaces the content of an open item; a due time that changes must be ahead,
// one left as it was may have passed.
func TestUpdate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	c := h.newCitizen()
	f := newTodo(h.pairwise(a, c), "U-1")
	created := h.create(a, f)

	// The same content again changes nothing, not even updated_at.
	same := wantJSON[vendorTodo](t, h.signed(a, "PUT", path("U-1"), f.content()), http.StatusOK)
	if !same.UpdatedAt.Equal(created.UpdatedAt) {
		t.Fatalf("an update to the same content moved updated_at from %v to %v", created.UpdatedAt, same.UpdatedAt)
	}

	// The item is overdue now (as if time had passed).
	h.exec(`UPDATE todos SET due_at = now() - interval '1 hour' WHERE application_id = $1 AND external_id = 'U-1'`, a.ID)
	overdue := wantJSON[vendorTodo](t, h.signed(a, "GET", path("U-1"), nil), http.StatusOK)
	if l := h.list(c, ""); !l.Items[0].Overdue {
		t.Fatalf("citizen sees %+v, want overdue", l.Items[0])
	}
	// Its title can still change while the due time stays …
	keep := f.content()
	keep.Title = "标题已改"
	keep.DueAt = overdue.DueAt.In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339Nano)
	got := wantJSON[vendorTodo](t, h.signed(a, "PUT", path("U-1"), keep), http.StatusOK)
	if got.Title != "标题已改" || !got.DueAt.Equal(*overdue.DueAt) {
		t.Fatalf("updated %+v, want the new title and the old due time", got)
	}
	// … but a new due time must be ahead.
	past := keep
	past.DueAt = time.Now().Add(-30 * time.Minute).Format(time.RFC3339)
	before := h.row(a, "U-1")
	h.signed(a, "PUT", path("U-1"), past).wantInvalid(t, "due_at")
	if after := h.row(a, "U-1"); after != before {
		t.Fatalf("a refused update changed the item")
	}
	later := keep
	later.DueAt = inHours(24)
	if got := wantJSON[vendorTodo](t, h.signed(a, "PUT", path("U-1"), later), http.StatusOK); got.DueAt == nil || !got.DueAt.After(time.Now()) {
		t.Fatalf("updated due %v, want ahead", got.DueAt)
	}
	// Without a due time the item has none.
	none := wantJSON[vendorTodo](t, h.signed(a, "PUT", path("U-1"), todoForm{Title: "无期限"}), http.StatusOK)
	if none.DueAt != nil || none.Link != "" || none.Description != "" {
		t.Fatalf("updated %+v, want no due time, link or description", none)
	}
	// The citizen and the external id are not part of an update.
	h.signed(a, "PUT", path("U-1"), map[string]string{"title": "x", "citizen_id": f.CitizenID}).wantProblem(t, http.StatusBadRequest, "unknown-field")
	h.signed(a, "PUT", path("U-1"), map[string]string{"title": "x", "external_id": "U-2"}).wantProblem(t, http.StatusBadRequest, "unknown-field")
	h.signed(a, "PUT", path("U-404"), todoForm{Title: "x"}).wantProblem(t, http.StatusNotFound, "not-found")
}

// An application gives to-do items only to citizens who signed in to its services.
func TestUnknownCitizen(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a, b := h.grantedApp("公积金"), h.grantedApp("社保")
	c, stranger := h.newCitizen(), h.newCitizen()
	for name, id := range map[string]string{
		"never seen":               "0123456789abcdef0123456789abcdef",
		"another application's id": h.pairwise(b, c),
		"a's id, never signed in":  sso.PairwiseID(h.sealer, a.ID, stranger.ID),
	} {
		t.Run(name, func(t *testing.T) {
			r, err := h.trySigned(a, "POST", "/api/v1/todos", newTodo(id, "X-1"))
			if err != nil {
				t.Fatal(err)
			}
			p := r.wantProblem(t, http.StatusUnprocessableEntity, "unknown-citizen")
			if got := p.paramNames(); len(got) != 1 || got[0] != "citizen_id" {
				t.Errorf("invalid_params %v, want citizen_id", got)
			}
		})
	}
	if n := scalar[int](h, `SELECT count(*) FROM todos`); n != 0 {
		t.Fatalf("%d items stored, want none", n)
	}
}

// A call signed with the test secret reaches only the application's test citizens: a citizen
// who signed in to a live service of the application is out of the test environment's reach.
func TestTestSecretReachesOnlyTestCitizens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	c := h.newCitizen()
	to := h.pairwise(a, c)
	h.exec(`DELETE FROM test_citizens WHERE application_id = $1 AND citizen_id = $2`, a.ID, c.ID)
	h.signed(a, "POST", "/api/v1/todos", newTodo(to, "WO-public")).wantProblem(t, http.StatusUnprocessableEntity, "unknown-citizen")
	if n := scalar[int](h, `SELECT count(*) FROM todos`); n != 0 {
		t.Fatalf("%d to-dos stored for a citizen out of reach", n)
	}
}
