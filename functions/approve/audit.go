package main

import (
	"net/http"
	"time"

	"github.com/jinlaiban/openplatform/shared/audit"
	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/fn"
)

// searchAudit searches the audit log: ?action= (a prefix such as "application." or
// "citizen.read"), ?actor_id=, ?subject_type=, ?subject_id=, ?from= and ?to= (RFC 3339).
func (s *server) searchAudit(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	page, size, err := fn.Paging(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := audit.Query{Action: q.Get("action"), ActorID: q.Get("actor_id"), SubjectType: q.Get("subject_type"), SubjectID: q.Get("subject_id")}
	bad := map[string]string{}
	for name, dst := range map[string]**time.Time{"from": &f.From, "to": &f.To} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				bad[name] = "must be an RFC 3339 time, e.g. 2026-11-26T08:00:00+08:00"
				continue
			}
			*dst = &t
		}
	}
	if f.ActorID != "" && len(f.ActorID) != 36 {
		bad["actor_id"] = "must be an account id"
	}
	for name, v := range map[string]string{"action": f.Action, "subject_type": f.SubjectType, "subject_id": f.SubjectID} {
		if len(v) > 100 {
			bad[name] = "must be at most 100 characters"
		}
	}
	if len(bad) > 0 {
		return fn.Invalid(bad)
	}
	items, total, err := audit.Search(r.Context(), s.pool, f, page, size)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, map[string]any{"items": items, "total": total, "page": page, "page_size": size})
}
