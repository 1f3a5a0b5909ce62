package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/jinlaiban/openplatform/shared/capabilities"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/inbox"
	"github.com/jinlaiban/openplatform/shared/sso"
	"github.com/jinlaiban/openplatform/shared/valid"
	"github.com/jinlaiban/openplatform/shared/vendorauth"
)

// externalIDPattern is the application's own id of a to-do item. It travels in URL paths,
// so it is kept to characters that need no escaping there.
var externalIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:~-]{0,63}$`)

const externalIDRule = "must be 1-64 letters, digits, '.', '_', ':', '~' or '-', starting with a letter or digit"

// pairwiseIDPattern is an application's citizen id (sso.PairwiseID): 32 hex digits.
var pairwiseIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// content is what a to-do item says, the same in a create and an update.
type content struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	DueAt       string `json:"due_at"` // RFC 3339; "" for none
	Link        string `json:"link"`
}

// check validates the fields and returns the due time (nil when there is none). Whether the
// due time is in the future is checked when it is stored, so that a retried create of an
// item whose due time has since passed still succeeds.
func (c *content) check(f map[string]string, allowLocalHTTP bool) *time.Time {
	if r := valid.Line(c.Title, 1, 40); r != "" {
		f["title"] = r
	}
	if c.Description != "" {
		if r := valid.Text(c.Description, 1, 1000); r != "" {
			f["description"] = r
		}
	}
	if c.Link != "" {
		if r := valid.URL(c.Link, allowLocalHTTP); r != "" {
			f["link"] = r
		}
	}
	if c.DueAt == "" {
		return nil
	}
	due, err := time.Parse(time.RFC3339, c.DueAt)
	if err != nil {
		f["due_at"] = "must be a time in RFC 3339 form with a time zone, e.g. 2030-01-02T15:04:05+08:00"
		return nil
	}
	// The database keeps microseconds; an unchanged due time must compare equal.
	due = due.UTC().Truncate(time.Microsecond)
	return &due
}

// createRequest is a new item: the citizen, the application's id for it, and its content.
// (Not an embedded content: the decoder would name a mistyped field "content.due_at".)
type createRequest struct {
	CitizenID   string `json:"citizen_id"`
	ExternalID  string `json:"external_id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	DueAt       string `json:"due_at"`
	Link        string `json:"link"`
}

func (c *createRequest) content() content {
	return content{Title: c.Title, Description: c.Description, DueAt: c.DueAt, Link: c.Link}
}

// fingerprint is a create request with the due time normalised: the same item sent again
// (however its JSON is formatted, in whatever zone its due time) has the same fingerprint.
type fingerprint struct {
	CitizenID   string     `json:"citizen_id"`
	ExternalID  string     `json:"external_id"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	DueAt       *time.Time `json:"due_at"`
	Link        string     `json:"link"`
}

// todoView is a to-do item as its application sees it: the citizen by the application's
// pairwise id.
type todoView struct {
	inbox.Todo
	CitizenID string `json:"citizen_id"`
}

func (s *server) view(appID string, t inbox.Todo) todoView {
	return todoView{Todo: t, CitizenID: sso.PairwiseID(s.sealer, appID, t.CitizenID)}
}

func todoPath(externalID string) string { return "/api/v1/todos/" + url.PathEscape(externalID) }

// create gives a citizen a to-do item. It is idempotent by external_id: the same item again
// answers 200 with the item (marked Idempotent-Replayed), different content 409.
func (s *server) create(w http.ResponseWriter, r *http.Request, c vendorauth.Caller) error {
	req, err := fn.Decode[createRequest](r)
	if err != nil {
		return err
	}
	f := map[string]string{}
	switch {
	case req.CitizenID == "":
		f["citizen_id"] = "is required"
	case !pairwiseIDPattern.MatchString(req.CitizenID):
		f["citizen_id"] = "must be the citizen's id for this application (the id of user info: 32 hex digits)"
	}
	switch {
	case req.ExternalID == "":
		f["external_id"] = "is required"
	case !externalIDPattern.MatchString(req.ExternalID):
		f["external_id"] = externalIDRule
	}
	body := req.content()
	due := body.check(f, s.cfg.AllowHTTPLocalhost)
	if len(f) > 0 {
		return fn.Invalid(f)
	}
	ctx := r.Context()
	citizenID, err := sso.CitizenOf(ctx, s.pool, c.AppID, c.Environment, req.CitizenID)
	if err != nil {
		return err
	}
	canonical, err := json.Marshal(fingerprint{CitizenID: req.CitizenID, ExternalID: req.ExternalID, Title: req.Title,
		Description: req.Description, DueAt: due, Link: req.Link})
	if err != nil {
		return err
	}
	t, created, err := inbox.CreateTodo(ctx, s.pool, inbox.NewTodo{ApplicationID: c.AppID, CitizenID: citizenID,
		ExternalID: req.ExternalID, RequestHash: capabilities.RequestHash(r, canonical), Title: req.Title,
		Description: req.Description, DueAt: due, Link: req.Link}, time.Now())
	if err != nil {
		return err
	}
	w.Header().Set("Location", todoPath(t.ExternalID))
	if !created {
		w.Header().Set("Idempotent-Replayed", "true")
		return fn.JSON(w, http.StatusOK, s.view(c.AppID, t))
	}
	return fn.JSON(w, http.StatusCreated, s.view(c.AppID, t))
}

// externalID reads the path's external_id; one that cannot exist is "not found".
func externalID(r *http.Request) (string, error) {
	id := r.PathValue("external_id")
	if !externalIDPattern.MatchString(id) {
		return "", fn.NotFound("To-do")
	}
	return id, nil
}

// get shows one of the application's to-do items.
func (s *server) get(w http.ResponseWriter, r *http.Request, c vendorauth.Caller) error {
	id, err := externalID(r)
	if err != nil {
		return err
	}
	t, err := inbox.TodoOf(r.Context(), s.pool, c.AppID, id)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, s.view(c.AppID, t))
}

// update replaces the title, description, due time and link of an open to-do item.
func (s *server) update(w http.ResponseWriter, r *http.Request, c vendorauth.Caller) error {
	id, err := externalID(r)
	if err != nil {
		return err
	}
	req, err := fn.Decode[content](r)
	if err != nil {
		return err
	}
	f := map[string]string{}
	due := req.check(f, s.cfg.AllowHTTPLocalhost)
	if len(f) > 0 {
		return fn.Invalid(f)
	}
	t, err := inbox.UpdateTodo(r.Context(), s.pool, c.AppID, id,
		inbox.TodoChange{Title: req.Title, Description: req.Description, DueAt: due, Link: req.Link}, time.Now())
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, s.view(c.AppID, t))
}

// complete marks an open to-do item done; a done one stays done.
func (s *server) complete(w http.ResponseWriter, r *http.Request, c vendorauth.Caller) error {
	return s.close(w, r, c, inbox.Done)
}

// cancel withdraws an open to-do item; a cancelled one stays cancelled.
func (s *server) cancel(w http.ResponseWriter, r *http.Request, c vendorauth.Caller) error {
	return s.close(w, r, c, inbox.Cancelled)
}

func (s *server) close(w http.ResponseWriter, r *http.Request, c vendorauth.Caller, to string) error {
	id, err := externalID(r)
	if err != nil {
		return err
	}
	t, err := inbox.CloseTodo(r.Context(), s.pool, c.AppID, id, to)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, s.view(c.AppID, t))
}
