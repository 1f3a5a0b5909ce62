package capabilities

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestParamsOf(t *testing.T) {
	for content, want := range map[string][]string{
		"您的验证码为${code}，${minutes}分钟内有效。":     {"code", "minutes"},
		"${item}办结；编号${item}":                {"item"},
		"无参数":                                {},
		"${} ${1x} $name ${a-b} {x}":         {},
		"${a_1}${B}":                         {"a_1", "B"},
		"${" + strings.Repeat("x", 33) + "}": {},
		"${" + strings.Repeat("x", 32) + "}": {strings.Repeat("x", 32)},
	} {
		if got := ParamsOf(content); !slices.Equal(got, want) || got == nil {
			t.Errorf("ParamsOf(%q) = %#v, want %#v", content, got, want)
		}
	}
}

func TestIdempotencyKey(t *testing.T) {
	for _, tc := range []struct {
		key      string
		required bool
		ok       bool
	}{
		{"", false, true},
		{"", true, false},
		{"order-1", true, true},
		{strings.Repeat("k", 100), true, true},
		{strings.Repeat("k", 101), false, false},
		{"a b", false, false},
		{"订单", false, false},
		{"tab\there", false, false},
	} {
		r := httptest.NewRequest("POST", "/", nil)
		if tc.key != "" {
			r.Header.Set("Idempotency-Key", tc.key)
		}
		got, err := IdempotencyKey(r, tc.required)
		if (err == nil) != tc.ok || (tc.ok && got != tc.key) {
			t.Errorf("IdempotencyKey(%q, %v) = %q, %v", tc.key, tc.required, got, err)
		}
	}
}

func TestRequestHashCoversPathAndBody(t *testing.T) {
	a := RequestHash(httptest.NewRequest("POST", "/api/v1/sms/send", nil), []byte(`{"x":1}`))
	for name, other := range map[string][]byte{
		"other body": RequestHash(httptest.NewRequest("POST", "/api/v1/sms/send", nil), []byte(`{"x":2}`)),
		"other path": RequestHash(httptest.NewRequest("POST", "/api/v1/messages", nil), []byte(`{"x":1}`)),
	} {
		if string(other) == string(a) {
			t.Errorf("%s: same hash", name)
		}
	}
	if b := RequestHash(httptest.NewRequest("POST", "/api/v1/sms/send", nil), []byte(`{"x":1}`)); string(a) != string(b) {
		t.Error("the same request hashed differently")
	}
}

func TestDecisionsAndStatuses(t *testing.T) {
	for name, want := range map[string][2]string{"grant": {Pending, Granted}, "reject": {Pending, Rejected}, "revoke": {Granted, Revoked}} {
		if d := Decisions[name]; d.From != want[0] || d.To != want[1] {
			t.Errorf("%s moves %s → %s, want %s → %s", name, d.From, d.To, want[0], want[1])
		}
	}
	if len(Decisions) != 3 {
		t.Errorf("%d decisions, want 3", len(Decisions))
	}
	for _, s := range []string{Draft, Pending, Granted, Rejected, Revoked} {
		if !ValidStatus(s) {
			t.Errorf("%s is not a valid status", s)
		}
	}
	for _, s := range []string{"", "none", "PENDING", "approved"} {
		if ValidStatus(s) {
			t.Errorf("%q is a valid status", s)
		}
	}
}

func TestFormUploadValid(t *testing.T) {
	ok := FormUpload{ContentType: "application/pdf", Size: 10 << 20}
	if f := ok.Valid(); len(f) != 0 {
		t.Errorf("10 MiB PDF: %v", f)
	}
	for _, f := range []FormUpload{
		{ContentType: "application/pdf", Size: 10<<20 + 1},
		{ContentType: "application/pdf", Size: 0},
		{ContentType: "image/svg+xml", Size: 100},
		{ContentType: "", Size: 100},
	} {
		if len(f.Valid()) != 1 {
			t.Errorf("%+v: %v, want one field refused", f, f.Valid())
		}
	}
}
