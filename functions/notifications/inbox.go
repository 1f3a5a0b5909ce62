package main

import (
	"errors"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/fn"
)

// message is one entry of the vendor's inbox.
type message struct {
	ID        string     `json:"id"`
	EventType string     `json:"event_type"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	Link      string     `json:"link,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at"`
}

type inboxPage struct {
	Items    []message `json:"items"`
	Total    int       `json:"total"`
	Unread   int       `json:"unread"`
	Page     int       `json:"page"`
	PageSize int       `json:"page_size"`
}

// inbox lists the vendor's messages, newest first (?unread=true: only the unread ones), with
// the number of unread messages.
func (s *server) inbox(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	page, size, err := fn.Paging(r)
	if err != nil {
		return err
	}
	unreadOnly := false
	switch r.URL.Query().Get("unread") {
	case "", "false":
	case "true":
		unreadOnly = true
	default:
		return fn.Invalid(map[string]string{"unread": "must be true or false"})
	}
	ctx := r.Context()
	out := inboxPage{Items: []message{}, Page: page, PageSize: size}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE NOT $2 OR read_at IS NULL), count(*) FILTER (WHERE read_at IS NULL)
		FROM vendor_messages WHERE vendor_id = $1`, p.AccountID, unreadOnly).Scan(&out.Total, &out.Unread); err != nil {
		return err
	}
	rows, err := s.pool.Query(ctx, `SELECT id, event_type, title, body, coalesce(link, ''), created_at, read_at FROM vendor_messages
		WHERE vendor_id = $1 AND (NOT $2 OR read_at IS NULL) ORDER BY created_at DESC, id LIMIT $3 OFFSET $4`,
		p.AccountID, unreadOnly, size, (page-1)*size)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var m message
		if err := rows.Scan(&m.ID, &m.EventType, &m.Title, &m.Body, &m.Link, &m.CreatedAt, &m.ReadAt); err != nil {
			return err
		}
		out.Items = append(out.Items, m)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, out)
}

// markRead marks one message read (again: no change) and returns it.
func (s *server) markRead(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := fn.UUIDParam(r, "id", "Notification")
	if err != nil {
		return err
	}
	var m message
	err = s.pool.QueryRow(r.Context(), `UPDATE vendor_messages SET read_at = coalesce(read_at, now()) WHERE id = $1 AND vendor_id = $2
		RETURNING id, event_type, title, body, coalesce(link, ''), created_at, read_at`, id, p.AccountID).
		Scan(&m.ID, &m.EventType, &m.Title, &m.Body, &m.Link, &m.CreatedAt, &m.ReadAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return fn.NotFound("Notification")
	}
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, m)
}

// markAllRead marks every unread message read.
func (s *server) markAllRead(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	tag, err := s.pool.Exec(r.Context(), `UPDATE vendor_messages SET read_at = now() WHERE vendor_id = $1 AND read_at IS NULL`, p.AccountID)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, map[string]int64{"marked": tag.RowsAffected()})
}
