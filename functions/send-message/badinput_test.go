package main

import (
	"strings"
	"testing"
)

// Every malformed or invalid send is refused with a problem naming what is wrong, and
// stores nothing.
func TestSendRefusesBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	c := h.newCitizen()
	to := h.pairwise(a, c)
	good := newMessage(to)
	with := func(change func(m *message)) message {
		m := good
		change(&m)
		return m
	}

	cases := []struct {
		name   string
		body   any
		opts   []option
		status int
		code   string
		fields []string
	}{
		{name: "no key", body: good, opts: []option{}, status: 400, code: "idempotency-key-invalid"},
		{name: "long key", body: good, opts: []option{idempotencyKey(strings.Repeat("k", 101))}, status: 400, code: "idempotency-key-invalid"},
		{name: "key with a space", body: good, opts: []option{idempotencyKey("a key")}, status: 400, code: "idempotency-key-invalid"},
		{name: "non-ASCII key", body: good, opts: []option{idempotencyKey("钥匙")}, status: 400, code: "idempotency-key-invalid"},
		{name: "malformed JSON", body: `{"citizen_id": "` + to + `", "title": `, status: 400, code: "malformed-body"},
		{name: "empty body", body: "", status: 400, code: "malformed-body"},
		{name: "array", body: `[]`, status: 400, code: "malformed-body"},
		{name: "two objects", body: `{"title":"a"} {"title":"b"}`, status: 400, code: "malformed-body"},
		{name: "number title", body: `{"citizen_id":"` + to + `","title":5,"body":"b"}`, status: 400, code: "malformed-body", fields: []string{"title"}},
		{name: "unknown field", body: `{"citizen_id":"` + to + `","title":"t","body":"b","priority":"high"}`, status: 400, code: "unknown-field", fields: []string{"priority"}},
		{name: "platform citizen id field", body: `{"citizen_id":"` + to + `","title":"t","body":"b","mobile":"13900000000"}`, status: 400, code: "unknown-field", fields: []string{"mobile"}},
		{name: "text/plain", body: good, opts: []option{idempotencyKey("text-plain"), contentType("text/plain")}, status: 415, code: "unsupported-media-type"},
		{name: "too large", body: `{"citizen_id":"` + to + `","title":"t","body":"` + strings.Repeat("长", maxBody/3) + `"}`, status: 413, code: "body-too-large"},
		{name: "all missing", body: `{}`, status: 422, code: "validation-failed", fields: []string{"body", "citizen_id", "title"}},
		{name: "null fields", body: `{"citizen_id":null,"title":null,"body":null}`, status: 422, code: "validation-failed", fields: []string{"body", "citizen_id", "title"}},
		{name: "short citizen id", body: with(func(m *message) { m.CitizenID = to[:31] }), status: 422, code: "validation-failed", fields: []string{"citizen_id"}},
		{name: "upper-case citizen id", body: with(func(m *message) { m.CitizenID = strings.ToUpper(to) }), status: 422, code: "validation-failed", fields: []string{"citizen_id"}},
		{name: "platform uuid as citizen id", body: with(func(m *message) { m.CitizenID = c.ID }), status: 422, code: "validation-failed", fields: []string{"citizen_id"}},
		{name: "blank title", body: with(func(m *message) { m.Title = "   " }), status: 422, code: "validation-failed", fields: []string{"title"}},
		{name: "41-character title", body: with(func(m *message) { m.Title = strings.Repeat("题", 41) }), status: 422, code: "validation-failed", fields: []string{"title"}},
		{name: "two-line title", body: with(func(m *message) { m.Title = "第一行\n第二行" }), status: 422, code: "validation-failed", fields: []string{"title"}},
		{name: "control character", body: with(func(m *message) { m.Body = "a\x07b" }), status: 422, code: "validation-failed", fields: []string{"body"}},
		{name: "1001-character body", body: with(func(m *message) { m.Body = strings.Repeat("文", 1001) }), status: 422, code: "validation-failed", fields: []string{"body"}},
		{name: "http link", body: with(func(m *message) { m.Link = "http://gjj.example.cn/a" }), status: 422, code: "validation-failed", fields: []string{"link"}},
		{name: "localhost link", body: with(func(m *message) { m.Link = "http://localhost:8080/a" }), status: 422, code: "validation-failed", fields: []string{"link"}},
		{name: "relative link", body: with(func(m *message) { m.Link = "/apply/123" }), status: 422, code: "validation-failed", fields: []string{"link"}},
		{name: "javascript link", body: with(func(m *message) { m.Link = "javascript:alert(1)" }), status: 422, code: "validation-failed", fields: []string{"link"}},
		{name: "link with credentials", body: with(func(m *message) { m.Link = "https://user:pw@gjj.example.cn/" }), status: 422, code: "validation-failed", fields: []string{"link"}},
		{name: "link with fragment", body: with(func(m *message) { m.Link = "https://gjj.example.cn/#/apply" }), status: 422, code: "validation-failed", fields: []string{"link"}},
		{name: "long link", body: with(func(m *message) { m.Link = "https://gjj.example.cn/" + strings.Repeat("a", 2048) }), status: 422, code: "validation-failed", fields: []string{"link"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			if opts == nil {
				opts = []option{idempotencyKey(h.newKey())}
			}
			r, err := h.trySigned(a, "POST", "/api/v1/messages", tc.body, opts...)
			if err != nil {
				t.Fatal(err)
			}
			p := r.wantProblem(t, tc.status, tc.code)
			if tc.fields != nil {
				if got := p.paramNames(); strings.Join(got, ",") != strings.Join(tc.fields, ",") {
					t.Errorf("invalid_params %v, want %v", got, tc.fields)
				}
			}
		})
	}
	if n := h.messages(a); n != 0 {
		t.Fatalf("%d messages stored, want none", n)
	}

	// The limits are inclusive, in characters (not bytes); the link is optional.
	edge := message{CitizenID: to, Title: strings.Repeat("题", 40), Body: strings.Repeat("文", 1000)}
	h.post(a, edge)
	h.post(a, message{CitizenID: to, Title: "t", Body: "第一行\n第二行\t。"})
	p := h.inbox(c, "")
	if p.Total != 2 {
		t.Fatalf("inbox %+v, want both messages", p)
	}
	for _, it := range p.Items {
		if it.Link != "" {
			t.Errorf("message %q has link %q, want none", it.Title, it.Link)
		}
	}
}

// The development stack may link to http://localhost services; a deployment may not.
func TestLocalLinksOnlyWhenAllowed(t *testing.T) {
	t.Parallel()
	cfg := defaultConfig()
	cfg.AllowHTTPLocalhost = true
	h := newHarnessWith(t, cfg)
	a := h.grantedApp("示例服务")
	c := h.newCitizen()
	m := newMessage(h.pairwise(a, c))
	m.Link = "http://127.0.0.1:8300/orders/1"
	h.post(a, m)
	m.Link = "http://gjj.example.cn/orders/1"
	h.signed(a, "POST", "/api/v1/messages", m, idempotencyKey(h.newKey())).wantInvalid(t, "link")
}
