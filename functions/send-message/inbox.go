package main

import (
	"net/http"

	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/inbox"
)

// inbox lists the citizen's messages, newest first: ?unread=true keeps the unread ones,
// ?page= and ?page_size= page through them.
func (s *server) inbox(w http.ResponseWriter, r *http.Request, citizenID string) error {
	page, size, err := fn.Paging(r)
	if err != nil {
		return err
	}
	unread := false
	switch r.URL.Query().Get("unread") {
	case "", "false":
	case "true":
		unread = true
	default:
		return fn.Invalid(map[string]string{"unread": "must be true or false"})
	}
	p, err := inbox.Inbox(r.Context(), s.pool, citizenID, unread, page, size)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, p)
}

// message shows one message of the citizen; reading it does not mark it read.
func (s *server) message(w http.ResponseWriter, r *http.Request, citizenID string) error {
	id, err := fn.UUIDParam(r, "id", "Message")
	if err != nil {
		return err
	}
	m, err := inbox.MessageOf(r.Context(), s.pool, citizenID, id)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, m)
}

// markRead marks a message of the citizen read; again, it changes nothing.
func (s *server) markRead(w http.ResponseWriter, r *http.Request, citizenID string) error {
	id, err := fn.UUIDParam(r, "id", "Message")
	if err != nil {
		return err
	}
	m, err := inbox.MarkRead(r.Context(), s.pool, citizenID, id)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, m)
}
