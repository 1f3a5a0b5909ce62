package main

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
)

func TestServiceListShowsOwnServicesWithTheirListColumns(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gjj := h.approvedApp(t, h.vendor, "公积金中心")
	sb := h.approvedApp(t, h.vendor, "社保中心")
	globex := h.newVendor(t, "globex")
	h.create(t, globex, newForm(h.approvedApp(t, globex, "Globex system").ID, "Not yours"))

	want := []service{
		h.create(t, h.vendor, newForm(gjj.ID, "公积金提取")),
		h.create(t, h.vendor, newForm(gjj.ID, "公积金查询")),
		h.create(t, h.vendor, newForm(sb.ID, "社保查询")),
	}
	q := newForm(sb.ID, "社保缴费")
	q.Channels, q.ServiceType = []string{"alipay"}, "query"
	want = append(want, h.create(t, h.vendor, q))
	slices.Reverse(want) // newest first

	page := wantJSON[servicePage](t, h.as(t, h.vendor, "GET", "/api/v1/services", nil), http.StatusOK)
	if page.Total != 4 || len(page.Items) != 4 || page.Page != 1 || page.PageSize != 20 {
		t.Fatalf("page total %d items %d page %d size %d, want 4 own services on page 1 of size 20", page.Total, len(page.Items), page.Page, page.PageSize)
	}
	for i, got := range page.Items {
		w := want[i]
		if got.ID != w.ID {
			t.Errorf("item %d is %s (%s), want %s (%s): newest first", i, got.ID, got.Name, w.ID, w.Name)
			continue
		}
		if got.VendorID != h.vendor.ID || got.Application.Name != w.Application.Name || got.Application.ID != w.Application.ID ||
			!slices.Equal(got.Channels, w.Channels) || got.ModuleCode != w.ModuleCode || got.ServiceType != w.ServiceType ||
			got.Status != "testing" || !got.CreatedAt.Equal(w.CreatedAt) || got.NextAction != "attach-reports" || got.Name != w.Name {
			t.Errorf("item %d: %+v, want %+v", i, got, w)
		}
	}
	if want[0].Application.Name != "社保中心" || want[0].ServiceType != "query" || !slices.Equal(want[0].Channels, []string{"alipay"}) {
		t.Errorf("the newest service is %+v", want[0])
	}
}

func TestServiceListFilters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gjj := h.approvedApp(t, h.vendor, "公积金中心")
	sb := h.approvedApp(t, h.vendor, "社保中心")
	globex := h.newVendor(t, "globex")
	theirs := h.approvedApp(t, globex, "Globex system")
	h.create(t, globex, newForm(theirs.ID, "Theirs"))

	a1 := h.create(t, h.vendor, newForm(gjj.ID, "公积金提取"))
	a2 := h.create(t, h.vendor, newForm(gjj.ID, "公积金查询"))
	b1 := h.create(t, h.vendor, newForm(sb.ID, "社保查询"))
	for _, s := range []service{a2, b1} {
		h.attach(t, h.vendor, s.ID, emptyReport("functional_report"))
		h.attach(t, h.vendor, s.ID, emptyReport("security_report"))
		h.as(t, h.vendor, "POST", servicePath(s.ID, "/apply"), nil).want(t, http.StatusOK)
	}
	h.advance(t, b1.ID, "approve-listing")

	ids := func(p servicePage) []string {
		out := []string{}
		for _, s := range p.Items {
			out = append(out, s.ID)
		}
		slices.Sort(out)
		return out
	}
	sorted := func(s ...string) []string { slices.Sort(s); return s }
	for _, c := range []struct {
		name, query string
		want        []string
	}{
		{"everything", "", sorted(a1.ID, a2.ID, b1.ID)},
		{"one application", "?application_id=" + gjj.ID, sorted(a1.ID, a2.ID)},
		{"other application", "?application_id=" + sb.ID, sorted(b1.ID)},
		{"another vendor's application", "?application_id=" + theirs.ID, []string{}},
		{"testing", "?status=testing", sorted(a1.ID)},
		{"applied", "?status=applied", sorted(a2.ID)},
		{"approved", "?status=approved", sorted(b1.ID)},
		{"live", "?status=live", []string{}},
		{"application and status", "?application_id=" + gjj.ID + "&status=applied", sorted(a2.ID)},
		{"application and status of none", "?application_id=" + sb.ID + "&status=testing", []string{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := wantJSON[servicePage](t, h.as(t, h.vendor, "GET", "/api/v1/services"+c.query, nil), http.StatusOK)
			if got := ids(p); !slices.Equal(got, c.want) || p.Total != len(c.want) {
				t.Errorf("ids %v total %d, want %v", got, p.Total, c.want)
			}
			for _, s := range p.Items {
				if s.VendorID != h.vendor.ID {
					t.Errorf("the list shows %s of vendor %s", s.ID, s.VendorID)
				}
			}
		})
	}
	applied := wantJSON[servicePage](t, h.as(t, h.vendor, "GET", "/api/v1/services?status=applied", nil), http.StatusOK)
	if len(applied.Items) == 1 && applied.Items[0].NextAction != "await-review" {
		t.Errorf("applied service next_action %q, want await-review", applied.Items[0].NextAction)
	}
	approved := wantJSON[servicePage](t, h.as(t, h.vendor, "GET", "/api/v1/services?status=approved", nil), http.StatusOK)
	if len(approved.Items) == 1 && approved.Items[0].NextAction != "complete-for-live" {
		t.Errorf("approved service with empty reports: next_action %q, want complete-for-live", approved.Items[0].NextAction)
	}

	for _, bad := range []string{"?status=bogus", "?status=TESTING", "?status=pending", "?status=testing,applied"} {
		h.as(t, h.vendor, "GET", "/api/v1/services"+bad, nil).wantInvalid(t, "status")
	}
}

func TestServiceListPages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.approvedApp(t, h.vendor, "公积金中心")
	const n = 7
	for i := range n {
		h.create(t, h.vendor, newForm(a.ID, fmt.Sprintf("服务 %d", i)))
	}
	seen := map[string]bool{}
	var order []service
	for _, c := range []struct{ page, items int }{{1, 3}, {2, 3}, {3, 1}, {4, 0}} {
		page, wantLen := c.page, c.items
		p := wantJSON[servicePage](t, h.as(t, h.vendor, "GET", fmt.Sprintf("/api/v1/services?page=%d&page_size=3", page), nil), http.StatusOK)
		if p.Total != n || p.Page != page || p.PageSize != 3 || len(p.Items) != wantLen {
			t.Errorf("page %d: total %d page %d size %d items %d, want %d items of %d", page, p.Total, p.Page, p.PageSize, len(p.Items), wantLen, n)
		}
		if p.Items == nil {
			t.Errorf("page %d: items is null, want a list", page)
		}
		for _, s := range p.Items {
			if seen[s.ID] {
				t.Errorf("service %s is on two pages", s.ID)
			}
			seen[s.ID] = true
			order = append(order, s)
		}
	}
	if len(seen) != n {
		t.Errorf("the pages hold %d services, want %d", len(seen), n)
	}
	for i := 1; i < len(order); i++ {
		if order[i].CreatedAt.After(order[i-1].CreatedAt) {
			t.Errorf("across pages, %s (%v) comes after the older %s (%v)", order[i].ID, order[i].CreatedAt, order[i-1].ID, order[i-1].CreatedAt)
		}
	}

	for _, bad := range []struct{ query, field string }{
		{"?page=0", "page"}, {"?page=-1", "page"}, {"?page=x", "page"},
		{"?page_size=0", "page_size"}, {"?page_size=101", "page_size"}, {"?page_size=ten", "page_size"},
	} {
		h.as(t, h.vendor, "GET", "/api/v1/services"+bad.query, nil).wantInvalid(t, bad.field)
	}
	if p := wantJSON[servicePage](t, h.as(t, h.vendor, "GET", "/api/v1/services?page_size=100", nil), http.StatusOK); len(p.Items) != n {
		t.Errorf("page_size=100: %d items", len(p.Items))
	}
}
