package main

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCreateServiceWithEveryFieldStartsInTesting(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.approvedApp(t, h.vendor, "晋城住房公积金系统")
	f := form{ApplicationID: a.ID, Name: "公积金提取", Channels: []string{"alipay", "app", "wechat"}, ServiceType: "query",
		ModuleCallbackCode: "GJJ2024", TestURL: "https://test.gjj.example.cn/extract?from=jlb",
		ProductionURL: "https://gjj.example.cn/extract", Description: "住房公积金提取业务在线办理，支持购房、租房、退休等提取情形。",
		Tags: []string{"housing-fund", "government"}}

	before := time.Now().Add(-time.Second)
	s := h.create(t, h.vendor, f)

	if s.Status != "testing" || s.NextAction != "attach-reports" {
		t.Errorf("status %q next_action %q, want testing / attach-reports", s.Status, s.NextAction)
	}
	if !moduleCodeRE.MatchString(s.ModuleCode) {
		t.Errorf("module_code %q, want MC and 10 characters", s.ModuleCode)
	}
	if s.Name != f.Name || s.ServiceType != f.ServiceType || s.ModuleCallbackCode != f.ModuleCallbackCode ||
		s.TestURL != f.TestURL || s.ProductionURL != f.ProductionURL || s.Description != f.Description {
		t.Errorf("service %+v does not echo the declaration %+v", s, f)
	}
	if !slices.Equal(s.Channels, f.Channels) || !slices.Equal(s.Tags, f.Tags) {
		t.Errorf("channels %v tags %v, want %v %v", s.Channels, s.Tags, f.Channels, f.Tags)
	}
	if s.VendorID != h.vendor.ID || s.Application.ID != a.ID || s.Application.Name != a.Name ||
		s.Application.Status != "approved" || s.Application.AppCode != a.AppCode {
		t.Errorf("service names application %+v, vendor %s; want %s (%s) of %s", s.Application, s.VendorID, a.ID, a.Name, h.vendor.ID)
	}
	if s.Logo.Attached || s.Reports.Functional.Attached || s.Reports.Security.Attached {
		t.Errorf("a new service has files: %+v %+v", s.Logo, s.Reports)
	}
	if s.CreatedAt.Before(before) || s.CreatedAt.After(time.Now().Add(time.Second)) || s.AppliedAt != nil || s.LiveRequestedAt != nil || s.LiveAt != nil {
		t.Errorf("created_at %v applied_at %v live_requested_at %v live_at %v", s.CreatedAt, s.AppliedAt, s.LiveRequestedAt, s.LiveAt)
	}

	// It is stored as shown, and reads back the same.
	if got := h.get(t, h.vendor, s.ID); got.ModuleCode != s.ModuleCode || got.Status != "testing" || got.ProductionURL != f.ProductionURL {
		t.Errorf("GET gives %+v, want what POST gave %+v", got, s)
	}
	if n := scalar[int](t, h, `SELECT count(*) FROM services WHERE id = $1 AND application_id = $2 AND module_code = $3
		AND module_callback_code = 'GJJ2024' AND status = 'testing' AND channels = ARRAY['alipay','app','wechat']`, s.ID, a.ID, s.ModuleCode); n != 1 {
		t.Errorf("the stored row does not match the declaration")
	}
}

func TestModuleCodesAreUniqueAcrossServicesAndVendors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	other := h.newVendor(t, "globex")
	a1, a2, b := h.approvedApp(t, h.vendor, "Acme one"), h.approvedApp(t, h.vendor, "Acme two"), h.approvedApp(t, other, "Globex")
	seen := map[string]bool{}
	for i, c := range []struct {
		who   string
		appID string
	}{{"acme", a1.ID}, {"acme", a1.ID}, {"acme", a1.ID}, {"acme", a2.ID}, {"acme", a2.ID}, {"globex", b.ID}, {"globex", b.ID}} {
		who := h.vendor
		if c.who == "globex" {
			who = other
		}
		s := h.create(t, who, newForm(c.appID, "社保查询"))
		if !moduleCodeRE.MatchString(s.ModuleCode) || seen[s.ModuleCode] {
			t.Errorf("service %d: module_code %q is malformed or repeated", i, s.ModuleCode)
		}
		seen[s.ModuleCode] = true
	}
}

func TestCallbackCodeDefaultsToPinyinInitialsNumberedWithinApplication(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.approvedApp(t, h.vendor, "公积金中心")
	other := h.approvedApp(t, h.vendor, "公积金中心二期")

	for i, want := range []string{"GJJTQ", "GJJTQ2", "GJJTQ3"} {
		if s := h.create(t, h.vendor, newForm(a.ID, "公积金提取")); s.ModuleCallbackCode != want {
			t.Errorf("service %d named 公积金提取: module_callback_code %q, want %q", i+1, s.ModuleCallbackCode, want)
		}
	}
	// Numbering is per application: another application starts again.
	if s := h.create(t, h.vendor, newForm(other.ID, "公积金提取")); s.ModuleCallbackCode != "GJJTQ" {
		t.Errorf("first 公积金提取 of another application: %q, want GJJTQ", s.ModuleCallbackCode)
	}
}

func TestExplicitCallbackCodeMustBeUniqueWithinApplicationOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.approvedApp(t, h.vendor, "公积金中心")
	globex := h.newVendor(t, "globex")
	other := h.approvedApp(t, globex, "Globex")
	mine := h.approvedApp(t, h.vendor, "公积金中心二期")

	h.create(t, h.vendor, newForm(a.ID, "公积金提取")) // takes GJJTQ by suggestion
	before := scalar[int](t, h, `SELECT count(*) FROM services`)

	f := newForm(a.ID, "公积金贷款")
	f.ModuleCallbackCode = "GJJTQ"
	p := h.as(t, h.vendor, "POST", "/api/v1/services", f).wantProblem(t, http.StatusConflict, "callback-code-taken")
	if p.reason("module_callback_code") == "" {
		t.Errorf("the conflict does not name module_callback_code: %+v", p)
	}
	if n := scalar[int](t, h, `SELECT count(*) FROM services`); n != before {
		t.Errorf("a refused service was stored (%d rows, want %d)", n, before)
	}

	// The same code is fine in another application, the vendor's own or another vendor's.
	f.ApplicationID = mine.ID
	if s := h.create(t, h.vendor, f); s.ModuleCallbackCode != "GJJTQ" {
		t.Errorf("code in another application of the vendor: %q", s.ModuleCallbackCode)
	}
	f.ApplicationID = other.ID
	if s := h.create(t, globex, f); s.ModuleCallbackCode != "GJJTQ" {
		t.Errorf("code in another vendor's application: %q", s.ModuleCallbackCode)
	}
}

func TestConcurrentServicesOfTheSameNameGetDistinctCallbackCodes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.approvedApp(t, h.vendor, "公积金中心")
	const n = 6
	var wg sync.WaitGroup
	replies := make([]reply, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i], errs[i] = h.try("POST", "/api/v1/services", newForm(a.ID, "公积金提取"), bearer(h.vendor.Token))
		}()
	}
	wg.Wait()
	codes := []string{}
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		// The vendor chose no code: a clash with a request running at the same time is not
		// theirs to resolve.
		s := wantJSON[service](t, replies[i], http.StatusCreated)
		codes = append(codes, s.ModuleCallbackCode)
	}
	slices.Sort(codes)
	if want := []string{"GJJTQ", "GJJTQ2", "GJJTQ3", "GJJTQ4", "GJJTQ5", "GJJTQ6"}; !slices.Equal(codes, want) {
		t.Errorf("codes %v, want %v", codes, want)
	}
}

func TestCallbackCodeSuggestion(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, c := range []struct{ name, want string }{
		{"公积金提取", "GJJTQ"},
		{"社保查询", "SBCX"},
		{"12345热线", "12345RX"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got map[string]string
			h.as(t, h.vendor, "GET", "/api/v1/services/callback-code?name="+url.QueryEscape(c.name), nil).want(t, http.StatusOK).decode(t, &got)
			if got["module_callback_code"] != c.want || got["name"] != c.name {
				t.Errorf("suggestion %v, want %s for %s", got, c.want, c.name)
			}
		})
	}
	t.Run("without a name", func(t *testing.T) {
		h.as(t, h.vendor, "GET", "/api/v1/services/callback-code", nil).wantInvalid(t, "name")
		h.as(t, h.vendor, "GET", "/api/v1/services/callback-code?name=%20%20", nil).wantInvalid(t, "name")
	})
}

func TestTagsListIsThePlatformsManagedList(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var got struct {
		Items []struct {
			Slug string `json:"slug"`
			Name string `json:"name"`
		} `json:"items"`
	}
	h.as(t, h.vendor, "GET", "/api/v1/tags", nil).want(t, http.StatusOK).decode(t, &got)
	slugs := []string{}
	for _, tag := range got.Items {
		slugs = append(slugs, tag.Slug)
		if tag.Name == "" {
			t.Errorf("tag %q has no name", tag.Slug)
		}
	}
	if len(slugs) != 12 || slugs[0] != "social-security" || slugs[1] != "housing-fund" || !slices.Contains(slugs, "tax") {
		t.Errorf("tags %v, want the 12 seeded tags in display order", slugs)
	}
	// Every listed tag can be chosen.
	a := h.approvedApp(t, h.vendor, "Everything")
	for i := 0; i < len(slugs); i += 5 {
		f := newForm(a.ID, "服务"+slugs[i])
		f.Tags = slugs[i:min(i+5, len(slugs))]
		if s := h.create(t, h.vendor, f); !slices.Equal(s.Tags, f.Tags) {
			t.Errorf("tags %v, want %v", s.Tags, f.Tags)
		}
	}
}

func TestDeclarationFieldsAreChecked(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.approvedApp(t, h.vendor, "公积金中心")
	for _, c := range []struct {
		name   string
		change func(*form)
		field  string // "" when the declaration is acceptable
	}{
		{"name of one character", func(f *form) { f.Name = "查" }, "name"},
		{"name of 61 characters", func(f *form) { f.Name = strings.Repeat("查", 61) }, "name"},
		{"name of two lines", func(f *form) { f.Name = "公积金\n提取" }, "name"},
		{"name of 60 characters", func(f *form) { f.Name = strings.Repeat("查", 60) }, ""},
		{"description of 19 characters", func(f *form) { f.Description = strings.Repeat("述", 19) }, "description"},
		{"description of 20 characters", func(f *form) { f.Description = strings.Repeat("述", 20) }, ""},
		{"description of blanks", func(f *form) { f.Description = strings.Repeat(" ", 30) }, "description"},
		{"no channel", func(f *form) { f.Channels = nil }, "channels"},
		{"empty channel list", func(f *form) { f.Channels = []string{} }, "channels"},
		{"unknown channel", func(f *form) { f.Channels = []string{"app", "sms"} }, "channels"},
		{"channel twice", func(f *form) { f.Channels = []string{"wechat", "wechat"} }, "channels"},
		{"one channel", func(f *form) { f.Channels = []string{"alipay"} }, ""},
		{"no service type", func(f *form) { f.ServiceType = "" }, "service_type"},
		{"unknown service type", func(f *form) { f.ServiceType = "payment" }, "service_type"},
		{"callback code in lower case", func(f *form) { f.ModuleCallbackCode = "gjjtq" }, "module_callback_code"},
		{"callback code with a dash", func(f *form) { f.ModuleCallbackCode = "GJJ-TQ" }, "module_callback_code"},
		{"callback code of 33 characters", func(f *form) { f.ModuleCallbackCode = strings.Repeat("A", 33) }, "module_callback_code"},
		{"callback code of 32 characters", func(f *form) { f.ModuleCallbackCode = strings.Repeat("B", 32) }, ""},
		{"no tag", func(f *form) { f.Tags = nil }, "tags"},
		{"six tags", func(f *form) {
			f.Tags = []string{"social-security", "housing-fund", "medical", "education", "transport", "utilities"}
		}, "tags"},
		{"five tags", func(f *form) {
			f.Tags = []string{"social-security", "housing-fund", "medical", "education", "transport"}
		}, ""},
		{"unknown tag", func(f *form) { f.Tags = []string{"housing-fund", "astrology"} }, "tags"},
		{"tag by its display name", func(f *form) { f.Tags = []string{"公积金"} }, "tags"},
		{"tag twice", func(f *form) { f.Tags = []string{"tax", "tax"} }, "tags"},
		{"no application", func(f *form) { f.ApplicationID = "" }, "application_id"},
		{"application that is not a UUID", func(f *form) { f.ApplicationID = "42" }, "application_id"},
		{"application that does not exist", func(f *form) { f.ApplicationID = "00000000-0000-4000-8000-000000000000" }, "application_id"},
		{"no test address", func(f *form) { f.TestURL = "" }, "test_url"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newForm(a.ID, "公积金提取")
			c.change(&f)
			before := scalar[int](t, h, `SELECT count(*) FROM services`)
			r := h.as(t, h.vendor, "POST", "/api/v1/services", f)
			if c.field == "" {
				r.want(t, http.StatusCreated)
				return
			}
			p := r.wantInvalid(t, c.field)
			if c.name == "unknown tag" && !strings.Contains(p.reason("tags"), "astrology") {
				t.Errorf("reason %q does not name the unknown tag", p.reason("tags"))
			}
			if n := scalar[int](t, h, `SELECT count(*) FROM services`); n != before {
				t.Errorf("a refused declaration was stored")
			}
		})
	}
}

func TestServiceAddressesMustBeSafeAbsoluteHTTPS(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.approvedApp(t, h.vendor, "公积金中心")
	existing := h.create(t, h.vendor, newForm(a.ID, "公积金查询"))
	for _, c := range []struct{ name, url string }{
		{"plain http", "http://gjj.example.cn/extract"},
		{"http to localhost", "http://localhost:8080/extract"},
		{"http to 127.0.0.1", "http://127.0.0.1:8080/extract"},
		{"user and password", "https://admin:secret@gjj.example.cn/extract"},
		{"user only", "https://admin@gjj.example.cn/extract"},
		{"fragment", "https://gjj.example.cn/extract#step2"},
		{"empty fragment", "https://gjj.example.cn/extract#"},
		{"relative path", "/extract"},
		{"no scheme", "gjj.example.cn/extract"},
		{"scheme without host", "https:///extract"},
		{"javascript", "javascript:alert(document.cookie)"},
		{"data", "data:text/html,<script>alert(1)</script>"},
		{"ftp", "ftp://gjj.example.cn/extract"},
		{"longer than 2048 characters", "https://gjj.example.cn/" + strings.Repeat("a", 2048-len("https://gjj.example.cn/")+1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, field := range []string{"test_url", "production_url"} {
				f := newForm(a.ID, "公积金提取")
				if field == "test_url" {
					f.TestURL = c.url
				} else {
					f.ProductionURL = c.url
				}
				h.as(t, h.vendor, "POST", "/api/v1/services", f).wantInvalid(t, field)
				h.as(t, h.vendor, "PUT", servicePath(existing.ID), f).wantInvalid(t, field)
			}
			before := h.row(t, existing.ID)
			h.as(t, h.vendor, "PUT", servicePath(existing.ID, "/production-url"), map[string]string{"production_url": c.url}).
				wantInvalid(t, "production_url")
			h.unchanged(t, existing.ID, before)
		})
	}
	if n := scalar[int](t, h, `SELECT count(*) FROM services`); n != 1 {
		t.Errorf("%d services stored, want only the first", n)
	}

	// Exactly 2048 characters is within the limit.
	f := newForm(a.ID, "公积金提取")
	f.TestURL = "https://gjj.example.cn/" + strings.Repeat("a", 2048-len("https://gjj.example.cn/"))
	h.create(t, h.vendor, f)
}

func TestHTTPLocalhostAddressesOnlyWhenTheDevelopmentSwitchIsOn(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, true)
	a := h.approvedApp(t, h.vendor, "公积金中心")
	for i, u := range []string{"http://localhost:8080/extract", "http://127.0.0.1:9000/extract", "https://gjj.example.cn/extract"} {
		f := newForm(a.ID, "服务"+string(rune('A'+i)))
		f.TestURL, f.ProductionURL = u, u
		if s := h.create(t, h.vendor, f); s.TestURL != u || s.ProductionURL != u {
			t.Errorf("addresses %q %q, want %q", s.TestURL, s.ProductionURL, u)
		}
	}
	// Even then, only the local machine may be reached over http.
	for _, u := range []string{"http://gjj.example.cn/extract", "http://localhost.example.cn/extract", "http://10.0.0.1/extract"} {
		f := newForm(a.ID, "公积金提取")
		f.TestURL = u
		h.as(t, h.vendor, "POST", "/api/v1/services", f).wantInvalid(t, "test_url")
	}
}

func TestEditingAServiceInTestingKeepsItsCodesAndApplication(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.approvedApp(t, h.vendor, "公积金中心")
	other := h.approvedApp(t, h.vendor, "社保中心")
	s := h.create(t, h.vendor, newForm(a.ID, "公积金提取"))
	taken := h.create(t, h.vendor, newForm(a.ID, "公积金查询"))

	f := newForm(a.ID, "住房公积金提取")
	f.Channels, f.ServiceType, f.Tags = []string{"alipay"}, "query", []string{"housing-fund", "tax"}
	f.ProductionURL = "https://gjj.example.cn/extract"
	got := wantJSON[service](t, h.as(t, h.vendor, "PUT", servicePath(s.ID), f), http.StatusOK)
	if got.Name != f.Name || got.ServiceType != "query" || !slices.Equal(got.Channels, f.Channels) || !slices.Equal(got.Tags, f.Tags) ||
		got.ProductionURL != f.ProductionURL {
		t.Errorf("edited service %+v, want %+v", got, f)
	}
	if got.ModuleCode != s.ModuleCode || got.ModuleCallbackCode != "GJJTQ" || got.Application.ID != a.ID || got.Status != "testing" {
		t.Errorf("edit changed module_code %q→%q, callback %q, application %s or status %s",
			s.ModuleCode, got.ModuleCode, got.ModuleCallbackCode, got.Application.ID, got.Status)
	}

	// A new callback code of the vendor's choosing is taken.
	f.ModuleCallbackCode = "ZFGJJTQ"
	if got := wantJSON[service](t, h.as(t, h.vendor, "PUT", servicePath(s.ID), f), http.StatusOK); got.ModuleCallbackCode != "ZFGJJTQ" {
		t.Errorf("module_callback_code %q after choosing ZFGJJTQ", got.ModuleCallbackCode)
	}

	// Without production_url the address is cleared; without a callback code it is kept.
	f.ModuleCallbackCode = ""
	f.ProductionURL = ""
	if got := wantJSON[service](t, h.as(t, h.vendor, "PUT", servicePath(s.ID), f), http.StatusOK); got.ProductionURL != "" || got.ModuleCallbackCode != "ZFGJJTQ" {
		t.Errorf("production_url %q, module_callback_code %q after an edit without them", got.ProductionURL, got.ModuleCallbackCode)
	}

	before := h.row(t, s.ID)
	// It cannot move to another application.
	moved := f
	moved.ApplicationID = other.ID
	h.as(t, h.vendor, "PUT", servicePath(s.ID), moved).wantInvalid(t, "application_id")
	// Nor take the callback code of another service of its application.
	clash := f
	clash.ModuleCallbackCode = taken.ModuleCallbackCode
	h.as(t, h.vendor, "PUT", servicePath(s.ID), clash).wantProblem(t, http.StatusConflict, "callback-code-taken")
	h.unchanged(t, s.ID, before)
}

func TestLongNamesGetTheSuggestedCallbackCodeWithinItsLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.approvedApp(t, h.vendor, "公积金中心")
	name := strings.Repeat("公积金提取", 8) // 40 characters: the initials are cut at 32
	var suggestion map[string]string
	h.as(t, h.vendor, "GET", "/api/v1/services/callback-code?name="+url.QueryEscape(name), nil).want(t, http.StatusOK).decode(t, &suggestion)
	want := suggestion["module_callback_code"]
	if len(want) != 32 || !strings.HasPrefix(want, "GJJTQGJJTQ") {
		t.Fatalf("suggestion %q, want the first 32 initials", want)
	}
	// What the form shows is what the service gets.
	if s := h.create(t, h.vendor, newForm(a.ID, name)); s.ModuleCallbackCode != want {
		t.Errorf("first service: module_callback_code %q, want the suggestion %q", s.ModuleCallbackCode, want)
	}
	// A numbered code still fits in 32 characters.
	for _, n := range []string{"2", "3"} {
		s := h.create(t, h.vendor, newForm(a.ID, name))
		if len(s.ModuleCallbackCode) > 32 || !strings.HasSuffix(s.ModuleCallbackCode, n) || !strings.HasPrefix(s.ModuleCallbackCode, want[:31]) {
			t.Errorf("numbered code %q, want the suggestion cut to end in %s within 32 characters", s.ModuleCallbackCode, n)
		}
	}
	// A name without Chinese characters, ASCII letters or digits gets a generic code.
	if s := h.create(t, h.vendor, newForm(a.ID, "Ωμέγα · Ψ")); s.ModuleCallbackCode != "SVC" {
		t.Errorf("code for a name without initials: %q, want SVC", s.ModuleCallbackCode)
	}
}
