package inbox_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/capabilities"
	"github.com/jinlaiban/openplatform/shared/citizens"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/inbox"
	"github.com/jinlaiban/openplatform/shared/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// world is a fresh database with one application and one citizen.
type world struct {
	pool      *pgxpool.Pool
	appID     string
	citizenID string
}

func newWorld(t *testing.T) world {
	t.Helper()
	ctx := context.Background()
	pool := testenv.Pool(t)
	sealer := testenv.Sealer(t)
	vendor := testenv.SignIn(t, pool, sealer, "vendor", "acme")
	no := false
	a, err := apps.Create(ctx, pool, sealer, vendor.ID, apps.Declaration{Name: "公积金", ContactName: "Wang", ContactMobile: "13912345678",
		NeedsUserInfo: &no, Description: "An application of the tests."})
	if err != nil {
		t.Fatal(err)
	}
	c, err := citizens.Create(ctx, pool, sealer, citizens.Citizen{Mobile: "13900000001"})
	if err != nil {
		t.Fatal(err)
	}
	return world{pool: pool, appID: a.ID, citizenID: c.ID}
}

func wantProblem(t *testing.T, err error, status int, code string) *fn.Problem {
	t.Helper()
	var p *fn.Problem
	if !errors.As(err, &p) || p.Status != status || p.Code != code {
		t.Fatalf("error %v, want %d %s", err, status, code)
	}
	return p
}

// Of many sends with one key at once exactly one stores the message; every one answers it.
func TestSendStoresOncePerKey(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	m := inbox.NewMessage{ApplicationID: w.appID, CitizenID: w.citizenID, IdempotencyKey: "k", RequestHash: []byte("h1"), Title: "t", Body: "b"}
	const n = 24
	var wg sync.WaitGroup
	results := make([]inbox.Sent, n)
	created := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], created[i], errs[i] = inbox.Send(ctx, w.pool, m)
		}()
	}
	wg.Wait()
	stored := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if created[i] {
			stored++
		}
		if results[i] != results[0] {
			t.Fatalf("answers differ: %+v and %+v", results[i], results[0])
		}
	}
	if stored != 1 {
		t.Fatalf("%d sends stored the message, want 1", stored)
	}
	other := m
	other.RequestHash = []byte("h2")
	if _, _, err := inbox.Send(ctx, w.pool, other); err != capabilities.ErrKeyReused {
		t.Fatalf("same key, other request: %v, want ErrKeyReused", err)
	}
	p, err := inbox.Inbox(ctx, w.pool, w.citizenID, false, 1, 20)
	if err != nil || p.Total != 1 || p.Unread != 1 || p.Items[0].Link != "" || p.Items[0].Application.Name != "公积金" {
		t.Fatalf("inbox %+v, %v: want the one message", p, err)
	}
}

// Of many creates of one external id at once exactly one stores the item.
func TestCreateTodoStoresOncePerExternalID(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	now := time.Now()
	due := now.Add(time.Hour)
	td := inbox.NewTodo{ApplicationID: w.appID, CitizenID: w.citizenID, ExternalID: "x", RequestHash: []byte("h1"), Title: "t", DueAt: &due}
	const n = 24
	var wg sync.WaitGroup
	ids := make([]string, n)
	created := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var got inbox.Todo
			got, created[i], errs[i] = inbox.CreateTodo(ctx, w.pool, td, now)
			ids[i] = got.ID
		}()
	}
	wg.Wait()
	stored := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if created[i] {
			stored++
		}
		if ids[i] != ids[0] || ids[i] == "" {
			t.Fatalf("answers differ: %q and %q", ids[i], ids[0])
		}
	}
	if stored != 1 {
		t.Fatalf("%d creates stored the item, want 1", stored)
	}
}

// The due time is checked against the clock when an item is made or its due time changes,
// not when a create is retried or an overdue item edited otherwise.
func TestDueTimeRules(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	t0 := time.Date(2031, 5, 1, 9, 0, 0, 0, time.UTC)
	due := t0.Add(time.Hour)
	td := inbox.NewTodo{ApplicationID: w.appID, CitizenID: w.citizenID, ExternalID: "due", RequestHash: []byte("h"), Title: "t", DueAt: &due}
	made, created, err := inbox.CreateTodo(ctx, w.pool, td, t0)
	if err != nil || !created {
		t.Fatal(created, err)
	}
	later := t0.Add(2 * time.Hour)
	again, created, err := inbox.CreateTodo(ctx, w.pool, td, later)
	if err != nil || created || again.ID != made.ID {
		t.Fatalf("retry after the due time: %+v %v %v, want the item", again, created, err)
	}
	changed := td
	changed.RequestHash = []byte("other")
	if _, _, err := inbox.CreateTodo(ctx, w.pool, changed, later); err != inbox.ErrExternalIDReused {
		t.Fatalf("other request: %v, want ErrExternalIDReused", err)
	}
	fresh := td
	fresh.ExternalID = "fresh"
	p := wantProblem(t, func() error { _, _, err := inbox.CreateTodo(ctx, w.pool, fresh, later); return err }(), http.StatusUnprocessableEntity, fn.CodeInvalid)
	if len(p.Params) != 1 || p.Params[0].Name != "due_at" {
		t.Fatalf("problem %+v, want due_at", p)
	}
	exact := td
	exact.ExternalID, exact.DueAt = "exact", &t0
	wantProblem(t, func() error { _, _, err := inbox.CreateTodo(ctx, w.pool, exact, t0); return err }(), http.StatusUnprocessableEntity, fn.CodeInvalid)

	// Overdue: the title may change with the due time kept; a new due time must be ahead.
	if _, err := inbox.UpdateTodo(ctx, w.pool, w.appID, "due", inbox.TodoChange{Title: "t2", DueAt: &due}, later); err != nil {
		t.Fatalf("keep the passed due time: %v", err)
	}
	earlier := due.Add(-time.Minute)
	wantProblem(t, func() error {
		_, err := inbox.UpdateTodo(ctx, w.pool, w.appID, "due", inbox.TodoChange{Title: "t2", DueAt: &earlier}, later)
		return err
	}(), http.StatusUnprocessableEntity, fn.CodeInvalid)
	ahead := later.Add(time.Hour)
	got, err := inbox.UpdateTodo(ctx, w.pool, w.appID, "due", inbox.TodoChange{Title: "t3", DueAt: &ahead, Link: "https://x.example.cn/"}, later)
	if err != nil || !got.DueAt.Equal(ahead) || got.Link != "https://x.example.cn/" || got.Title != "t3" {
		t.Fatalf("update: %+v %v", got, err)
	}
	wantProblem(t, func() error {
		_, err := inbox.UpdateTodo(ctx, w.pool, w.appID, "missing", inbox.TodoChange{Title: "t"}, later)
		return err
	}(), http.StatusNotFound, fn.CodeNotFound)
}

func TestCloseTodo(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	for i, to := range []string{inbox.Done, inbox.Cancelled} {
		id := fmt.Sprint("c", i)
		if _, _, err := inbox.CreateTodo(ctx, w.pool, inbox.NewTodo{ApplicationID: w.appID, CitizenID: w.citizenID, ExternalID: id,
			RequestHash: []byte("h"), Title: "t"}, time.Now()); err != nil {
			t.Fatal(err)
		}
		first, err := inbox.CloseTodo(ctx, w.pool, w.appID, id, to)
		if err != nil || first.Status != to || first.ClosedAt == nil {
			t.Fatalf("close as %s: %+v %v", to, first, err)
		}
		again, err := inbox.CloseTodo(ctx, w.pool, w.appID, id, to)
		if err != nil || !again.ClosedAt.Equal(*first.ClosedAt) {
			t.Fatalf("close as %s again: %+v %v", to, again, err)
		}
		other := map[string]string{inbox.Done: inbox.Cancelled, inbox.Cancelled: inbox.Done}[to]
		p := wantProblem(t, func() error { _, err := inbox.CloseTodo(ctx, w.pool, w.appID, id, other); return err }(), http.StatusConflict, fn.CodeInvalidState)
		if p.Extra["todo_status"] != to {
			t.Fatalf("problem %+v, want todo_status %s", p, to)
		}
		wantProblem(t, func() error {
			_, err := inbox.UpdateTodo(ctx, w.pool, w.appID, id, inbox.TodoChange{Title: "t"}, time.Now())
			return err
		}(), http.StatusConflict, fn.CodeInvalidState)
	}
	if _, err := inbox.CloseTodo(ctx, w.pool, w.appID, "c0", inbox.Open); err == nil {
		t.Fatal("closing as open: want an error")
	}
	wantProblem(t, func() error { _, err := inbox.CloseTodo(ctx, w.pool, w.appID, "missing", inbox.Done); return err }(), http.StatusNotFound, fn.CodeNotFound)
	if _, err := inbox.CitizenTodos(ctx, w.pool, w.citizenID, "closed", 1, 20); err == nil {
		t.Fatal("filter closed: want an error")
	}
	p, err := inbox.CitizenTodos(ctx, w.pool, w.citizenID, "all", 1, 20)
	if err != nil || p.Total != 2 {
		t.Fatalf("all: %+v %v", p, err)
	}
}

// Reading marks once; another citizen can neither see nor mark a message.
func TestMarkRead(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	s, _, err := inbox.Send(ctx, w.pool, inbox.NewMessage{ApplicationID: w.appID, CitizenID: w.citizenID, IdempotencyKey: "k",
		RequestHash: []byte("h"), Title: "t", Body: "b", Link: "https://x.example.cn/"})
	if err != nil {
		t.Fatal(err)
	}
	stranger := "00000000-0000-4000-8000-000000000000"
	wantProblem(t, func() error { _, err := inbox.MarkRead(ctx, w.pool, stranger, s.ID); return err }(), http.StatusNotFound, fn.CodeNotFound)
	wantProblem(t, func() error { _, err := inbox.MessageOf(ctx, w.pool, stranger, s.ID); return err }(), http.StatusNotFound, fn.CodeNotFound)
	first, err := inbox.MarkRead(ctx, w.pool, w.citizenID, s.ID)
	if err != nil || !first.Read || first.Link != "https://x.example.cn/" {
		t.Fatalf("mark read: %+v %v", first, err)
	}
	again, err := inbox.MarkRead(ctx, w.pool, w.citizenID, s.ID)
	if err != nil || !again.ReadAt.Equal(*first.ReadAt) {
		t.Fatalf("mark read again: %+v %v", again, err)
	}
	p, err := inbox.Inbox(ctx, w.pool, w.citizenID, true, 1, 20)
	if err != nil || p.Total != 0 || p.Unread != 0 || p.Items == nil {
		t.Fatalf("unread: %+v %v", p, err)
	}
}
