// Package inbox stores what applications put in front of a citizen in the super-app: the
// messages of the citizen's inbox (table citizen_messages) and their to-do items (table
// todos). Applications address a citizen by the platform's citizen id, resolved from their
// pairwise id by the caller (sso.CitizenOf); citizens read only their own.
package inbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/capabilities"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
)

// Application is the application behind a message or a to-do, as a citizen sees it.
type Application struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Message is an application message in a citizen's inbox.
type Message struct {
	ID          string      `json:"id"`
	Application Application `json:"application"`
	Title       string      `json:"title"`
	Body        string      `json:"body"`
	Link        string      `json:"link,omitempty"`
	Read        bool        `json:"read"`
	CreatedAt   time.Time   `json:"created_at"`
	ReadAt      *time.Time  `json:"read_at"`
}

// NewMessage is a message an application sends to a citizen.
type NewMessage struct {
	ApplicationID  string
	CitizenID      string // the platform's citizen id
	IdempotencyKey string
	RequestHash    []byte // capabilities.RequestHash of the request
	Title          string
	Body           string
	Link           string // "" for none
}

// Sent is the result of a send, the same for every retry with the key.
type Sent struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
}

// retries bounds the insert-or-read loop of the idempotent writes; a second pass is needed
// only in a race, a third never.
const retries = 3

// Send stores a message once per application and idempotency key. created reports whether
// this call stored it; a key seen before with the same request hash returns the original
// result, and with another request capabilities.ErrKeyReused. Of many sends with one key at
// once exactly one stores the message.
func Send(ctx context.Context, q db.Querier, m NewMessage) (out Sent, created bool, err error) {
	var link any
	if m.Link != "" {
		link = m.Link
	}
	for range retries {
		err = q.QueryRow(ctx, `INSERT INTO citizen_messages (application_id, citizen_id, idempotency_key, request_hash, title, body, link)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (application_id, idempotency_key) DO NOTHING RETURNING id, created_at`,
			m.ApplicationID, m.CitizenID, m.IdempotencyKey, m.RequestHash, m.Title, m.Body, link).Scan(&out.ID, &out.CreatedAt)
		if err == nil {
			return out, true, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return Sent{}, false, err
		}
		// The key was used: by a committed send (ON CONFLICT waited for it), so it is visible now.
		var hash []byte
		err = q.QueryRow(ctx, `SELECT id, created_at, request_hash FROM citizen_messages WHERE application_id = $1 AND idempotency_key = $2`,
			m.ApplicationID, m.IdempotencyKey).Scan(&out.ID, &out.CreatedAt, &hash)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return Sent{}, false, err
		}
		if !bytes.Equal(hash, m.RequestHash) {
			return Sent{}, false, capabilities.ErrKeyReused
		}
		return out, false, nil
	}
	return Sent{}, false, fmt.Errorf("inbox: idempotency key %q neither inserted nor found", m.IdempotencyKey)
}

const messageColumns = `m.id, a.id, a.name, m.title, m.body, coalesce(m.link, ''), m.created_at, m.read_at`

const messageFrom = ` FROM citizen_messages m JOIN applications a ON a.id = m.application_id `

func scanMessage(row pgx.Row) (Message, error) {
	var m Message
	err := row.Scan(&m.ID, &m.Application.ID, &m.Application.Name, &m.Title, &m.Body, &m.Link, &m.CreatedAt, &m.ReadAt)
	m.Read = m.ReadAt != nil
	return m, err
}

var errMessageMissing = fn.NotFound("Message")

// MessagePage is one page of a citizen's inbox. Total counts the messages the filter
// selects; Unread counts every unread message of the citizen, for the badge.
type MessagePage struct {
	Items    []Message `json:"items"`
	Total    int       `json:"total"`
	Unread   int       `json:"unread"`
	Page     int       `json:"page"`
	PageSize int       `json:"page_size"`
}

// Inbox lists a citizen's messages, newest first; unreadOnly keeps the unread ones.
func Inbox(ctx context.Context, q db.Querier, citizenID string, unreadOnly bool, page, size int) (MessagePage, error) {
	p := MessagePage{Items: []Message{}, Page: page, PageSize: size}
	err := q.QueryRow(ctx, `SELECT count(*) FILTER (WHERE NOT $2 OR read_at IS NULL), count(*) FILTER (WHERE read_at IS NULL)
		FROM citizen_messages WHERE citizen_id = $1`, citizenID, unreadOnly).Scan(&p.Total, &p.Unread)
	if err != nil {
		return p, err
	}
	rows, err := q.Query(ctx, `SELECT `+messageColumns+messageFrom+`WHERE m.citizen_id = $1 AND (NOT $2 OR m.read_at IS NULL)
		ORDER BY m.created_at DESC, m.id DESC LIMIT $3 OFFSET $4`, citizenID, unreadOnly, size, (page-1)*size)
	if err != nil {
		return p, err
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Message, error) { return scanMessage(row) })
	if err != nil {
		return p, err
	}
	if len(items) > 0 {
		p.Items = items
	}
	return p, nil
}

// MessageOf returns a message of the citizen; another citizen's is "not found".
func MessageOf(ctx context.Context, q db.Querier, citizenID, id string) (Message, error) {
	m, err := scanMessage(q.QueryRow(ctx, `SELECT `+messageColumns+messageFrom+`WHERE m.id = $1 AND m.citizen_id = $2`, id, citizenID))
	if errors.Is(err, pgx.ErrNoRows) {
		return m, errMessageMissing
	}
	return m, err
}

// MarkRead marks a message of the citizen read, once: reading it again keeps the first
// read_at.
func MarkRead(ctx context.Context, q db.Querier, citizenID, id string) (Message, error) {
	if _, err := q.Exec(ctx, `UPDATE citizen_messages SET read_at = now() WHERE id = $1 AND citizen_id = $2 AND read_at IS NULL`,
		id, citizenID); err != nil {
		return Message{}, err
	}
	return MessageOf(ctx, q, citizenID, id)
}
