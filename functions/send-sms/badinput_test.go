package main

import (
	"net/http"
	"strings"
	"testing"
)

// Every malformed or invalid send is refused with a problem naming what is wrong, and sends
// nothing: no provider call, no recorded send.
func TestRefusesBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a, b := h.grantedApp("公积金"), h.grantedApp("社保")
	c, public := h.newCitizen(), h.newCitizen()
	to := h.pairwise(a, c)
	theirs := h.pairwise(b, c)
	notTest := h.signedIn(a, public)
	h.exec(`INSERT INTO sms_templates (application_id, code, name, content, params) VALUES ($1, 'SMS_100003', '验证码', '验证码${code}', '{code}')`, b.ID)
	staff := "13800138000"
	with := func(change func(f *smsForm)) smsForm {
		f := codeTo(staff)
		f.Params = map[string]string{"code": "482913"}
		change(&f)
		return f
	}
	params := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
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
		{"unknown template", with(func(f *smsForm) { f.TemplateCode = "SMS_999999" }), nil, 422, "validation-failed", []string{"template_code"}},
		{"another application's template code", with(func(f *smsForm) { f.TemplateCode = "SMS_100003" }), nil, 422, "validation-failed", []string{"template_code"}},
		{"no template", with(func(f *smsForm) { f.TemplateCode = "" }), nil, 422, "validation-failed", []string{"template_code"}},
		{"33-character template", with(func(f *smsForm) { f.TemplateCode = "SMS_" + strings.Repeat("1", 29) }), nil, 422, "validation-failed", []string{"template_code"}},
		{"missing parameter", with(func(f *smsForm) { f.Params = nil }), nil, 422, "validation-failed", []string{"params.code"}},
		{"one of two parameters missing", with(func(f *smsForm) { f.TemplateCode, f.Params = doneTemplate, params("item", "公积金提取") }), nil, 422, "validation-failed", []string{"params.date"}},
		{"extra parameter", with(func(f *smsForm) { f.Params["name"] = "张三" }), nil, 422, "validation-failed", []string{"params.name"}},
		{"misspelt parameter", with(func(f *smsForm) { f.Params = params("Code", "1234") }), nil, 422, "validation-failed", []string{"params.Code", "params.code"}},
		{"36-character parameter", with(func(f *smsForm) { f.Params["code"] = strings.Repeat("码", 36) }), nil, 422, "validation-failed", []string{"params.code"}},
		{"empty parameter", with(func(f *smsForm) { f.Params["code"] = "" }), nil, 422, "validation-failed", []string{"params.code"}},
		{"newline in a parameter", with(func(f *smsForm) { f.Params["code"] = "12\n34" }), nil, 422, "validation-failed", []string{"params.code"}},
		{"carriage return in a parameter", with(func(f *smsForm) { f.Params["code"] = "12\r34" }), nil, 422, "validation-failed", []string{"params.code"}},
		{"10-digit mobile", with(func(f *smsForm) { f.Mobile = "1380013800" }), nil, 422, "validation-failed", []string{"mobile"}},
		{"mobile with a country code", with(func(f *smsForm) { f.Mobile = "+8613800138000" }), nil, 422, "validation-failed", []string{"mobile"}},
		{"landline", with(func(f *smsForm) { f.Mobile = "03562022222" }), nil, 422, "validation-failed", []string{"mobile"}},
		{"citizen and mobile", with(func(f *smsForm) { f.CitizenID = to }), nil, 422, "validation-failed", []string{"citizen_id"}},
		{"neither citizen nor mobile", with(func(f *smsForm) { f.Mobile = "" }), nil, 422, "validation-failed", []string{"citizen_id"}},
		{"65-character citizen id", with(func(f *smsForm) { f.Mobile, f.CitizenID = "", strings.Repeat("a", 65) }), nil, 422, "validation-failed", []string{"citizen_id"}},
		{"another application's citizen id", with(func(f *smsForm) { f.Mobile, f.CitizenID = "", theirs }), nil, 422, "unknown-citizen", []string{"citizen_id"}},
		{"unknown citizen id", with(func(f *smsForm) { f.Mobile, f.CitizenID = "", "0123456789abcdef0123456789abcdef" }), nil, 422, "unknown-citizen", []string{"citizen_id"}},
		{"platform id of the citizen", with(func(f *smsForm) { f.Mobile, f.CitizenID = "", c.ID }), nil, 422, "unknown-citizen", []string{"citizen_id"}},
		{"citizen out of the test secret's reach", with(func(f *smsForm) { f.Mobile, f.CitizenID = "", notTest }), nil, 422, "unknown-citizen", []string{"citizen_id"}},
		{"malformed JSON", `{"template_code":"` + codeTemplate + `","params":`, nil, 400, "malformed-body", nil},
		{"empty body", "", nil, 400, "malformed-body", nil},
		{"array", `[{"template_code":"` + codeTemplate + `"}]`, nil, 400, "malformed-body", nil},
		{"two objects", `{"template_code":"x"}{"template_code":"y"}`, nil, 400, "malformed-body", nil},
		{"number parameter", `{"template_code":"` + codeTemplate + `","params":{"code":482913},"mobile":"` + staff + `"}`, nil, 400, "malformed-body", nil},
		{"unknown field", `{"template_code":"` + codeTemplate + `","params":{"code":"1"},"mobile":"` + staff + `","sign_name":"别的签名"}`, nil, 400, "unknown-field", []string{"sign_name"}},
		{"text/plain", with(func(*smsForm) {}), []option{contentType("text/plain")}, 415, "unsupported-media-type", nil},
		{"101-character key", with(func(*smsForm) {}), []option{idempotencyKey(strings.Repeat("k", 101))}, 400, "idempotency-key-invalid", nil},
		{"key with a space", with(func(*smsForm) {}), []option{idempotencyKey("order 1")}, 400, "idempotency-key-invalid", nil},
		{"key in Chinese", with(func(*smsForm) {}), []option{idempotencyKey("订单1")}, 400, "idempotency-key-invalid", nil},
		{"too large", `{"template_code":"` + codeTemplate + `","params":{"code":"` + strings.Repeat("长", maxBody/3) + `"},"mobile":"` + staff + `"}`, nil, 413, "body-too-large", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := h.trySigned(a, "POST", sendPath, tc.body, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			p := r.wantProblem(t, tc.status, tc.code)
			if tc.fields != nil && strings.Join(p.paramNames(), ",") != strings.Join(tc.fields, ",") {
				t.Errorf("invalid_params %v, want %v", p.paramNames(), tc.fields)
			}
			for _, ip := range p.Params {
				if ip.Reason == "" {
					t.Errorf("invalid_params %q has no reason", ip.Name)
				}
			}
		})
	}
	if d, s := h.devMessages(), scalar[int](h, `SELECT count(*) FROM sms_sends`); d != 0 || s != 0 {
		t.Fatalf("bad input sent %d messages and recorded %d sends, want none", d, s)
	}

	// The limits are inclusive and in characters: 35 characters on one line, keys of 100
	// visible characters.
	edge := with(func(f *smsForm) { f.Params["code"] = strings.Repeat("码", 35) })
	wantJSON[result](t, h.signed(a, "POST", sendPath, edge, idempotencyKey(strings.Repeat("~", 100))), http.StatusCreated)
	if got := h.inbox(staff).Items; len(got) != 1 || got[0].Params["code"] != strings.Repeat("码", 35) {
		t.Fatalf("inbox %+v, want the 35-character parameter", got)
	}
	// The extra parameter's reason lists the template's parameters.
	r := h.signed(a, "POST", sendPath, with(func(f *smsForm) {
		f.TemplateCode, f.Params = doneTemplate, params("item", "x", "date", "y", "who", "z")
	}))
	p := r.wantInvalid(t, "params.who")
	if !strings.Contains(p.Params[0].Reason, "item") || !strings.Contains(p.Params[0].Reason, "date") {
		t.Errorf("reason %q does not list the template's parameters", p.Params[0].Reason)
	}
}

// Methods other than those served are refused with Allow.
func TestWrongMethods(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.plain("GET", sendPath, nil)
	r.wantProblem(t, http.StatusMethodNotAllowed, "method-not-allowed")
	if r.header.Get("Allow") == "" {
		t.Error("405 without Allow")
	}
	h.plain("DELETE", "/api/v1/sms/sends", nil).wantProblem(t, http.StatusMethodNotAllowed, "method-not-allowed")
	h.plain("POST", "/api/v1/sms/unknown", nil).wantProblem(t, http.StatusNotFound, "not-found")
}

// Unsigned and wrongly signed sends are refused before anything else, and not counted.
func TestSendsNeedASignature(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	h.plain("POST", sendPath, codeTo("13800138000")).wantProblem(t, http.StatusUnauthorized, "signature-missing")
	wrong := a
	wrong.Secret = "test_00000000000000000000000000000000"
	h.signed(wrong, "POST", sendPath, codeTo("13800138000")).wantProblem(t, http.StatusUnauthorized, "signature-mismatch")
	if d, s, u := h.devMessages(), h.sends(a), h.usage(a); d != 0 || s != 0 || u != 0 {
		t.Fatalf("%d provider calls, %d sends, usage %d: want none", d, s, u)
	}
}
