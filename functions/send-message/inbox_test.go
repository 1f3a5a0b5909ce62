package main

import (
	"fmt"
	"net/http"
	"testing"
)

// The inbox comes newest first, in pages, with the total the filter selects and the unread
// count of the whole inbox.
func TestInboxOrderAndPages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a, b := h.grantedApp("晋城市住房公积金中心"), h.grantedApp("晋城市社会保险事业服务中心")
	c, other := h.newCitizen(), h.newCitizen()
	toA, toB := h.pairwise(a, c), h.pairwise(b, c)
	h.post(a, newMessage(h.pairwise(a, other))) // another citizen's: never listed here

	// Five messages, sent (by the clock) one minute apart: ids[4] is the newest.
	var ids []string
	for i := range 5 {
		from, to := a, toA
		if i%2 == 1 {
			from, to = b, toB
		}
		m := newMessage(to)
		m.Title = fmt.Sprintf("通知 %d", i)
		s := h.post(from, m)
		h.exec(`UPDATE citizen_messages SET created_at = now() - make_interval(mins => $2) WHERE id = $1`, s.ID, 10-i)
		ids = append(ids, s.ID)
	}
	// Reading one changes the unread count, not the order.
	wantJSON[inboxMessage](t, h.as(c, "POST", "/api/v1/citizen/messages/"+ids[3]+"/read", nil), http.StatusOK)

	want := []string{ids[4], ids[3], ids[2], ids[1], ids[0]}
	var got []string
	for page := 1; page <= 3; page++ {
		p := h.inbox(c, fmt.Sprintf("?page=%d&page_size=2", page))
		if p.Total != 5 || p.Unread != 4 || p.Page != page || p.PageSize != 2 {
			t.Fatalf("page %d: %+v, want total 5, unread 4", page, p)
		}
		for _, it := range p.Items {
			got = append(got, it.ID)
			wantApp := a
			if it.Title == "通知 1" || it.Title == "通知 3" {
				wantApp = b
			}
			if it.Application.ID != wantApp.ID || it.Application.Name != wantApp.Name {
				t.Errorf("%s: application %+v, want %s", it.Title, it.Application, wantApp.Name)
			}
			if it.Read != (it.ID == ids[3]) {
				t.Errorf("%s: read %v", it.Title, it.Read)
			}
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("inbox order %v, want newest first %v", got, want)
	}
	if p := h.inbox(c, "?page=4&page_size=2"); len(p.Items) != 0 || p.Total != 5 {
		t.Fatalf("past the end: %+v, want no items", p)
	}

	unread := h.inbox(c, "?unread=true&page_size=3")
	if unread.Total != 4 || unread.Unread != 4 || len(unread.Items) != 3 {
		t.Fatalf("unread: %+v, want 3 of 4", unread)
	}
	for i, wantID := range []string{ids[4], ids[2], ids[1]} {
		if unread.Items[i].ID != wantID || unread.Items[i].Read {
			t.Fatalf("unread item %d: %+v, want %s", i, unread.Items[i], wantID)
		}
	}
	if p := h.inbox(c, "?unread=false"); p.Total != 5 {
		t.Fatalf("unread=false: total %d, want every message", p.Total)
	}

	for q, field := range map[string]string{"?page=0": "page", "?page=x": "page", "?page_size=0": "page_size", "?page_size=101": "page_size"} {
		t.Run(q, func(t *testing.T) {
			h.plainAs(t, c, "GET", "/api/v1/citizen/messages"+q).wantInvalid(t, field)
		})
	}
	t.Run("unread=yes", func(t *testing.T) {
		h.plainAs(t, c, "GET", "/api/v1/citizen/messages?unread=yes").wantInvalid(t, "unread")
	})
}

// A citizen sees, reads and marks only their own messages: anyone else's is "not found", as
// is an id that does not exist.
func TestAnotherCitizensMessageIsNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	owner, other := h.newCitizen(), h.newCitizen()
	h.pairwise(a, other)
	s := h.post(a, newMessage(h.pairwise(a, owner)))

	for _, path := range []string{
		"/api/v1/citizen/messages/" + s.ID,
		"/api/v1/citizen/messages/00000000-0000-4000-8000-000000000000",
		"/api/v1/citizen/messages/not-a-uuid",
	} {
		h.as(other, "GET", path, nil).wantProblem(t, http.StatusNotFound, "not-found")
		h.as(other, "POST", path+"/read", nil).wantProblem(t, http.StatusNotFound, "not-found")
	}
	if p := h.inbox(other, ""); p.Total != 0 || p.Unread != 0 {
		t.Fatalf("the other citizen's inbox %+v, want empty", p)
	}
	m := wantJSON[inboxMessage](t, h.as(owner, "GET", "/api/v1/citizen/messages/"+s.ID, nil), http.StatusOK)
	if m.Read {
		t.Fatalf("another citizen's read marked the owner's message read")
	}
}

// The citizen side needs a live citizen session; nothing else is one.
func TestInboxNeedsACitizenSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	c := h.newCitizen()
	s := h.post(a, newMessage(h.pairwise(a, c)))
	revoked := h.newCitizen()
	h.exec(`UPDATE citizen_sessions SET revoked_at = now() WHERE citizen_id = $1`, revoked.ID)
	expired := h.newCitizen()
	h.exec(`UPDATE citizen_sessions SET expires_at = now() - interval '1 second' WHERE citizen_id = $1`, expired.ID)

	routes := []struct{ method, path string }{
		{"GET", "/api/v1/citizen/messages"},
		{"GET", "/api/v1/citizen/messages/" + s.ID},
		{"POST", "/api/v1/citizen/messages/" + s.ID + "/read"},
	}
	auths := map[string]option{
		"none":            func(*http.Request) {},
		"unknown token":   withHeader("Authorization", "Bearer jlbc_0000000000000000000000000000000000000000"),
		"not a session":   withHeader("Authorization", "Bearer "+a.Secret),
		"revoked session": withHeader("Authorization", "Bearer "+revoked.Token),
		"expired session": withHeader("Authorization", "Bearer "+expired.Token),
		"signed request":  nil, // a vendor's signature is not a citizen
	}
	for name, auth := range auths {
		for _, rt := range routes {
			t.Run(name+" "+rt.method+" "+rt.path, func(t *testing.T) {
				var r reply
				var err error
				if auth == nil {
					r, err = h.trySigned(a, rt.method, rt.path, nil)
				} else {
					r, err = h.tryPlain(rt.method, rt.path, nil, auth)
				}
				if err != nil {
					t.Fatal(err)
				}
				r.wantProblem(t, http.StatusUnauthorized, "unauthenticated")
			})
		}
	}
	// The session cookie works like the bearer token.
	r, err := h.tryPlain("GET", "/api/v1/citizen/messages", nil, func(r *http.Request) {
		r.AddCookie(&http.Cookie{Name: "jlb_citizen", Value: c.Token})
	})
	if err != nil {
		t.Fatal(err)
	}
	if p := wantJSON[inboxPage](t, r, http.StatusOK); p.Total != 1 {
		t.Fatalf("inbox by cookie: %+v, want the message", p)
	}
	m := wantJSON[inboxMessage](t, h.as(c, "GET", "/api/v1/citizen/messages/"+s.ID, nil), http.StatusOK)
	if m.Read {
		t.Fatalf("a refused read marked the message read")
	}
}

// Methods and paths outside the API answer in problem+json.
func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.newCitizen()
	r := h.as(c, "DELETE", "/api/v1/citizen/messages", nil)
	r.wantProblem(t, http.StatusMethodNotAllowed, "method-not-allowed")
	if r.header.Get("Allow") == "" {
		t.Errorf("405 without an Allow header")
	}
	h.plain("GET", "/api/v1/messages", nil).wantProblem(t, http.StatusMethodNotAllowed, "method-not-allowed")
	h.plain("GET", "/api/v1/nothing", nil).wantProblem(t, http.StatusNotFound, "not-found")
}
