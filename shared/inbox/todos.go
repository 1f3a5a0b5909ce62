package inbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
)

// To-do statuses: open → done | cancelled, both final.
const (
	Open      = "open"
	Done      = "done"
	Cancelled = "cancelled"
)

// Todo is a to-do item as its application sees it. CitizenID is the platform's id, never
// shown to an application: a function shows the application's pairwise id instead.
type Todo struct {
	ID          string     `json:"id"`
	ExternalID  string     `json:"external_id"`
	CitizenID   string     `json:"-"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	DueAt       *time.Time `json:"due_at"`
	Link        string     `json:"link,omitempty"`
	Status      string     `json:"status"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	ClosedAt    *time.Time `json:"closed_at"`
}

// NewTodo is a to-do item an application gives a citizen.
type NewTodo struct {
	ApplicationID string
	CitizenID     string // the platform's citizen id
	ExternalID    string // the application's own id of the item
	RequestHash   []byte // capabilities.RequestHash of the request
	Title         string
	Description   string
	DueAt         *time.Time
	Link          string // "" for none
}

// TodoChange is an update of an open to-do item: every field is replaced.
type TodoChange struct {
	Title       string
	Description string
	DueAt       *time.Time
	Link        string
}

// ErrExternalIDReused answers a create with an external_id the application used already for
// a different item.
var ErrExternalIDReused = fn.Errorf(http.StatusConflict, "external-id-reused",
	"A to-do with this external_id exists with other content; change it with PUT /api/v1/todos/{external_id}, or use a new external_id for a new item.")

var errTodoMissing = fn.NotFound("To-do")

// dueInPast is the answer to a due time that has passed.
func dueInPast() *fn.Problem {
	return fn.Invalid(map[string]string{"due_at": "must be in the future"})
}

const todoColumns = `id, external_id, citizen_id, title, description, due_at, coalesce(link, ''), status, created_at, updated_at, closed_at`

func scanTodo(row pgx.Row) (Todo, error) {
	var t Todo
	err := row.Scan(&t.ID, &t.ExternalID, &t.CitizenID, &t.Title, &t.Description, &t.DueAt, &t.Link, &t.Status,
		&t.CreatedAt, &t.UpdatedAt, &t.ClosedAt)
	return t, err
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// CreateTodo stores a to-do item once per application and external_id. created reports
// whether this call stored it. The same external_id with the same request hash returns the
// item as it is now (a retry); with another request, ErrExternalIDReused. A due time must be
// after now, except in a retry: the item exists, and its due time was checked when it was
// made.
func CreateTodo(ctx context.Context, q db.Querier, t NewTodo, now time.Time) (out Todo, created bool, err error) {
	for range retries {
		var hash []byte
		out, err = scanTodoWithHash(q.QueryRow(ctx, `SELECT `+todoColumns+`, request_hash FROM todos
			WHERE application_id = $1 AND external_id = $2`, t.ApplicationID, t.ExternalID), &hash)
		if err == nil {
			if !bytes.Equal(hash, t.RequestHash) {
				return Todo{}, false, ErrExternalIDReused
			}
			return out, false, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return Todo{}, false, err
		}
		if t.DueAt != nil && !t.DueAt.After(now) {
			return Todo{}, false, dueInPast()
		}
		out, err = scanTodo(q.QueryRow(ctx, `INSERT INTO todos (application_id, citizen_id, external_id, request_hash, title, description, due_at, link, status)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open')
			ON CONFLICT (application_id, external_id) DO NOTHING RETURNING `+todoColumns,
			t.ApplicationID, t.CitizenID, t.ExternalID, t.RequestHash, t.Title, t.Description, t.DueAt, nullable(t.Link)))
		if err == nil {
			return out, true, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return Todo{}, false, err
		}
		// Another create of this external_id committed first: read it on the next pass.
	}
	return Todo{}, false, fmt.Errorf("inbox: to-do %q neither inserted nor found", t.ExternalID)
}

func scanTodoWithHash(row pgx.Row, hash *[]byte) (Todo, error) {
	var t Todo
	err := row.Scan(&t.ID, &t.ExternalID, &t.CitizenID, &t.Title, &t.Description, &t.DueAt, &t.Link, &t.Status,
		&t.CreatedAt, &t.UpdatedAt, &t.ClosedAt, hash)
	return t, err
}

// TodoOf returns an application's to-do item by its external_id; another application's is
// "not found".
func TodoOf(ctx context.Context, q db.Querier, appID, externalID string) (Todo, error) {
	t, err := scanTodo(q.QueryRow(ctx, `SELECT `+todoColumns+` FROM todos WHERE application_id = $1 AND external_id = $2`, appID, externalID))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, errTodoMissing
	}
	return t, err
}

func stateProblem(t Todo, doing string) *fn.Problem {
	p := fn.Errorf(http.StatusConflict, fn.CodeInvalidState, fmt.Sprintf("The to-do is %s; it can be %s only while it is open.", t.Status, doing))
	// Not "status": that member of a problem is the HTTP status code (RFC 9457).
	p.Extra = map[string]any{"todo_status": t.Status}
	return p
}

// UpdateTodo replaces the content of an open to-do item. A due time that changes must be
// after now; one left as it was may have passed (an overdue item can still be edited).
func UpdateTodo(ctx context.Context, q db.Querier, appID, externalID string, c TodoChange, now time.Time) (Todo, error) {
	t, err := scanTodo(q.QueryRow(ctx, `UPDATE todos SET title = $3, description = $4, due_at = $5, link = $6,
			updated_at = CASE WHEN (title, description, due_at, link) IS NOT DISTINCT FROM ($3, $4, $5, $6) THEN updated_at ELSE now() END
		WHERE application_id = $1 AND external_id = $2 AND status = 'open'
			AND ($5::timestamptz IS NULL OR $5 = due_at OR $5 > $7)
		RETURNING `+todoColumns, appID, externalID, c.Title, c.Description, c.DueAt, nullable(c.Link), now))
	if !errors.Is(err, pgx.ErrNoRows) {
		return t, err
	}
	if t, err = TodoOf(ctx, q, appID, externalID); err != nil {
		return t, err
	}
	if t.Status != Open {
		return t, stateProblem(t, "changed")
	}
	return t, dueInPast()
}

// CloseTodo moves an open to-do item to done or cancelled. Doing it again is a no-op that
// returns the item; the other final status is a conflict (a cancelled item cannot be done,
// a done one cannot be cancelled).
func CloseTodo(ctx context.Context, q db.Querier, appID, externalID, to string) (Todo, error) {
	if to != Done && to != Cancelled {
		return Todo{}, fmt.Errorf("inbox: cannot close a to-do as %q", to)
	}
	t, err := scanTodo(q.QueryRow(ctx, `UPDATE todos SET status = $3, closed_at = now(), updated_at = now()
		WHERE application_id = $1 AND external_id = $2 AND status = 'open' RETURNING `+todoColumns, appID, externalID, to))
	if !errors.Is(err, pgx.ErrNoRows) {
		return t, err
	}
	if t, err = TodoOf(ctx, q, appID, externalID); err != nil {
		return t, err
	}
	if t.Status != to {
		doing := map[string]string{Done: "completed", Cancelled: "cancelled"}[to]
		return t, stateProblem(t, doing)
	}
	return t, nil
}

// CitizenTodo is a to-do item as its citizen sees it.
type CitizenTodo struct {
	ID          string      `json:"id"`
	Application Application `json:"application"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	DueAt       *time.Time  `json:"due_at"`
	Overdue     bool        `json:"overdue"`
	Link        string      `json:"link,omitempty"`
	Status      string      `json:"status"`
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
	ClosedAt    *time.Time  `json:"closed_at"`
}

// TodoPage is one page of a citizen's to-do items; Total counts those the filter selects.
type TodoPage struct {
	Items    []CitizenTodo `json:"items"`
	Total    int           `json:"total"`
	Page     int           `json:"page"`
	PageSize int           `json:"page_size"`
}

// TodoFilters are the citizen's views: the open items (the default), the done or cancelled
// ones, or all.
var TodoFilters = map[string]bool{Open: true, Done: true, Cancelled: true, "all": true}

// CitizenTodos lists a citizen's to-do items of a filter (see TodoFilters). Open items come
// by due time, soonest first and those without one last; closed ones most recently closed
// first; "all" lists the open ones before the closed ones.
func CitizenTodos(ctx context.Context, q db.Querier, citizenID, filter string, page, size int) (TodoPage, error) {
	p := TodoPage{Items: []CitizenTodo{}, Page: page, PageSize: size}
	if !TodoFilters[filter] {
		return p, fmt.Errorf("inbox: no to-do filter %q", filter)
	}
	where := ` WHERE t.citizen_id = $1 AND ($2 = 'all' OR t.status = $2) `
	if err := q.QueryRow(ctx, `SELECT count(*) FROM todos t`+where, citizenID, filter).Scan(&p.Total); err != nil {
		return p, err
	}
	rows, err := q.Query(ctx, `SELECT t.id, a.id, a.name, t.title, t.description, t.due_at, coalesce(t.due_at < now(), false) AND t.status = 'open',
			coalesce(t.link, ''), t.status, t.created_at, t.updated_at, t.closed_at
		FROM todos t JOIN applications a ON a.id = t.application_id`+where+`
		ORDER BY t.status <> 'open', CASE WHEN t.status = 'open' THEN t.due_at END NULLS LAST, t.closed_at DESC NULLS LAST, t.created_at, t.id
		LIMIT $3 OFFSET $4`, citizenID, filter, size, (page-1)*size)
	if err != nil {
		return p, err
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (CitizenTodo, error) {
		var t CitizenTodo
		err := row.Scan(&t.ID, &t.Application.ID, &t.Application.Name, &t.Title, &t.Description, &t.DueAt, &t.Overdue, &t.Link,
			&t.Status, &t.CreatedAt, &t.UpdatedAt, &t.ClosedAt)
		return t, err
	})
	if err != nil {
		return p, err
	}
	if len(items) > 0 {
		p.Items = items
	}
	return p, nil
}
