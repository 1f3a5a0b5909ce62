package main

import (
	"fmt"
	"net/http"
	"testing"
)

// A citizen's open items come soonest due first (those without a due time last); done and
// cancelled ones most recently closed first; "all" lists open before closed. Each shows its
// application and link.
func TestCitizenListOrderFiltersAndPages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a, b := h.grantedApp("晋城市住房公积金中心"), h.grantedApp("晋城市社会保险事业服务中心")
	c, other := h.newCitizen(), h.newCitizen()
	toA, toB := h.pairwise(a, c), h.pairwise(b, c)
	h.create(a, newTodo(h.pairwise(a, other), "others")) // never listed here

	item := func(from app, to, id string, dueHours int) {
		f := newTodo(to, id)
		f.Title = id
		f.DueAt = ""
		if dueHours > 0 {
			f.DueAt = inHours(dueHours)
		}
		h.create(from, f)
	}
	item(a, toA, "due-72h", 72)
	item(b, toB, "no-due", 0)
	item(a, toA, "due-24h", 24)
	item(b, toB, "due-48h", 48)
	item(a, toA, "done-first", 10)
	item(b, toB, "done-second", 10)
	item(a, toA, "cancelled", 10)
	// Closing order is set by the clock in the database, one minute apart.
	closings := []struct {
		app        app
		id, action string
	}{{a, "done-first", "complete"}, {b, "done-second", "complete"}, {a, "cancelled", "cancel"}}
	for i, rt := range closings {
		h.signed(rt.app, "POST", path(rt.id, "/"+rt.action), nil).want(t, http.StatusOK)
		h.exec(`UPDATE todos SET closed_at = now() - make_interval(mins => $3) WHERE application_id = $1 AND external_id = $2`, rt.app.ID, rt.id, 10-i)
	}
	// An overdue open item comes first.
	item(b, toB, "overdue", 1)
	h.exec(`UPDATE todos SET due_at = now() - interval '1 hour' WHERE application_id = $1 AND external_id = 'overdue'`, b.ID)

	titles := func(p todoPage) []string {
		var out []string
		for _, it := range p.Items {
			out = append(out, it.Title)
		}
		return out
	}
	cases := []struct {
		query string
		want  []string
	}{
		{"", []string{"overdue", "due-24h", "due-48h", "due-72h", "no-due"}},
		{"?status=open", []string{"overdue", "due-24h", "due-48h", "due-72h", "no-due"}},
		{"?status=done", []string{"done-second", "done-first"}},
		{"?status=cancelled", []string{"cancelled"}},
		{"?status=all", []string{"overdue", "due-24h", "due-48h", "due-72h", "no-due", "cancelled", "done-second", "done-first"}},
	}
	for _, tc := range cases {
		p := h.list(c, tc.query)
		if fmt.Sprint(titles(p)) != fmt.Sprint(tc.want) || p.Total != len(tc.want) {
			t.Errorf("%q: %v (total %d), want %v", tc.query, titles(p), p.Total, tc.want)
		}
		for _, it := range p.Items {
			wantApp := a
			if it.Title == "no-due" || it.Title == "due-48h" || it.Title == "done-second" || it.Title == "overdue" {
				wantApp = b
			}
			if it.Application.ID != wantApp.ID || it.Application.Name != wantApp.Name || it.Link != "https://gjj.example.cn/apply/123" {
				t.Errorf("%s: application %+v, link %q, want %s and the link", it.Title, it.Application, it.Link, wantApp.Name)
			}
			if it.Overdue != (it.Title == "overdue") {
				t.Errorf("%s: overdue %v", it.Title, it.Overdue)
			}
		}
	}

	var paged []string
	for page := 1; page <= 3; page++ {
		p := h.list(c, fmt.Sprintf("?status=all&page=%d&page_size=3", page))
		if p.Total != 8 || p.Page != page || p.PageSize != 3 {
			t.Fatalf("page %d: %+v", page, p)
		}
		paged = append(paged, titles(p)...)
	}
	if fmt.Sprint(paged) != fmt.Sprint(cases[4].want) {
		t.Fatalf("paged: %v, want %v", paged, cases[4].want)
	}
	if p := h.list(c, "?status=all&page=9"); len(p.Items) != 0 || p.Items == nil || p.Total != 8 {
		t.Fatalf("past the end: %+v, want no items", p)
	}
	if p := h.list(other, "?status=all"); p.Total != 1 || p.Items[0].Title != newTodo("", "").Title {
		t.Fatalf("the other citizen sees %+v, want only their own item", p)
	}

	for q, field := range map[string]string{"?status=closed": "status", "?status=OPEN": "status", "?page=0": "page", "?page_size=500": "page_size"} {
		t.Run(q, func(t *testing.T) {
			h.plainAs(t, c, "GET", "/api/v1/citizen/todos"+q).wantInvalid(t, field)
		})
	}
}

// The citizen side needs a live citizen session.
func TestCitizenListNeedsASession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	c := h.newCitizen()
	h.create(a, newTodo(h.pairwise(a, c), "S-1"))
	revoked := h.newCitizen()
	h.exec(`UPDATE citizen_sessions SET revoked_at = now() WHERE citizen_id = $1`, revoked.ID)

	for name, auth := range map[string]option{
		"none":            func(*http.Request) {},
		"unknown token":   withHeader("Authorization", "Bearer jlbc_0000000000000000000000000000000000000000"),
		"app secret":      withHeader("Authorization", "Bearer "+a.Secret),
		"revoked session": withHeader("Authorization", "Bearer "+revoked.Token),
	} {
		t.Run(name, func(t *testing.T) {
			r, err := h.tryPlain("GET", "/api/v1/citizen/todos", nil, auth)
			if err != nil {
				t.Fatal(err)
			}
			r.wantProblem(t, http.StatusUnauthorized, "unauthenticated")
		})
	}
	t.Run("signed request", func(t *testing.T) {
		r, err := h.trySigned(a, "GET", "/api/v1/citizen/todos", nil)
		if err != nil {
			t.Fatal(err)
		}
		r.wantProblem(t, http.StatusUnauthorized, "unauthenticated")
	})
	if p := h.list(c, ""); p.Total != 1 {
		t.Fatalf("with the session: %+v", p)
	}
}
