package main

import (
	"net/http"

	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/inbox"
)

// list shows the citizen's to-do items: ?status=open (the default, soonest due first),
// done, cancelled or all; ?page= and ?page_size= page through them.
func (s *server) list(w http.ResponseWriter, r *http.Request, citizenID string) error {
	page, size, err := fn.Paging(r)
	if err != nil {
		return err
	}
	status := r.URL.Query().Get("status")
	if status == "" {
		status = inbox.Open
	}
	if !inbox.TodoFilters[status] {
		return fn.Invalid(map[string]string{"status": "must be open, done, cancelled or all"})
	}
	p, err := inbox.CitizenTodos(r.Context(), s.pool, citizenID, status, page, size)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, p)
}
