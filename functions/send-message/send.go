package main

import (
	"encoding/json"
	"net/http"

	"github.com/jinlaiban/openplatform/shared/capabilities"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/inbox"
	"github.com/jinlaiban/openplatform/shared/sso"
	"github.com/jinlaiban/openplatform/shared/valid"
	"github.com/jinlaiban/openplatform/shared/vendorauth"
)

// sendRequest is a message to a citizen. Its fields are also its idempotency fingerprint:
// the same key must come with the same fields (formatting of the JSON aside).
type sendRequest struct {
	CitizenID string `json:"citizen_id"`
	Title     string `json:"title"`
	Body      string `json:"body"`
	Link      string `json:"link,omitempty"`
}

// pairwiseIDLength is the length of an application's citizen id (sso.PairwiseID): 32 hex digits.
const pairwiseIDLength = 32

// validPairwiseID checks the form of the citizen id an application sends.
func validPairwiseID(s string) string {
	if s == "" {
		return "is required"
	}
	if len(s) != pairwiseIDLength || !isLowerHex(s) {
		return "must be the citizen's id for this application (the id of user info: 32 hex digits)"
	}
	return ""
}

func isLowerHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func (m *sendRequest) check(allowLocalHTTP bool) map[string]string {
	f := valid.Collect(
		"citizen_id", validPairwiseID(m.CitizenID),
		"title", valid.Line(m.Title, 1, 40),
		"body", valid.Text(m.Body, 1, 1000),
	)
	if m.Link != "" {
		if r := valid.URL(m.Link, allowLocalHTTP); r != "" {
			f["link"] = r
		}
	}
	return f
}

// send puts a message in a citizen's inbox, once per Idempotency-Key: a retry with the key
// and the same message answers 200 with the original result, marked Idempotent-Replayed.
func (s *server) send(w http.ResponseWriter, r *http.Request, c vendorauth.Caller) error {
	key, err := capabilities.IdempotencyKey(r, true)
	if err != nil {
		return err
	}
	req, err := fn.Decode[sendRequest](r)
	if err != nil {
		return err
	}
	if f := req.check(s.cfg.AllowHTTPLocalhost); len(f) > 0 {
		return fn.Invalid(f)
	}
	ctx := r.Context()
	citizenID, err := sso.CitizenOf(ctx, s.pool, c.AppID, c.Environment, req.CitizenID)
	if err != nil {
		return err
	}
	canonical, err := json.Marshal(req)
	if err != nil {
		return err
	}
	sent, created, err := inbox.Send(ctx, s.pool, inbox.NewMessage{ApplicationID: c.AppID, CitizenID: citizenID, IdempotencyKey: key,
		RequestHash: capabilities.RequestHash(r, canonical), Title: req.Title, Body: req.Body, Link: req.Link})
	if err != nil {
		return err
	}
	if !created {
		w.Header().Set("Idempotent-Replayed", "true")
		return fn.JSON(w, http.StatusOK, sent)
	}
	return fn.JSON(w, http.StatusCreated, sent)
}
