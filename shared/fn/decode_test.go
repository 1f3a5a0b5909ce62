package fn_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jinlaiban/openplatform/shared/fn"
)

// citizenRequest is a typical request body: a citizen reporting a pothole.
type citizenRequest struct {
	Name     string   `json:"name"`
	Mobile   string   `json:"mobile"`
	Age      int      `json:"age"`
	Consent  bool     `json:"consent"`
	Tags     []string `json:"tags"`
	Location struct {
		Lat float64 `json:"lat"`
		Lng float64 `json:"lng"`
	} `json:"location"`
}

func (c citizenRequest) Valid() map[string]string {
	out := map[string]string{}
	if c.Name == "reject-me" {
		out["name"] = "is not allowed"
		out["mobile"] = "is required"
		out["age"] = "must be positive"
	}
	return out
}

func jsonRequest(body, contentType string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/api/v1/reports", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func TestDecodeAcceptsAWellFormedCitizenReport(t *testing.T) {
	t.Parallel()
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json"} {
		t.Run(ct, func(t *testing.T) {
			t.Parallel()
			body := `{"name":"Li Lei","mobile":"13800138000","age":30,"consent":true,"tags":["road"],"location":{"lat":31.2,"lng":121.5}}` + "\n\t "
			v, err := fn.Decode[citizenRequest](jsonRequest(body, ct))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if v.Name != "Li Lei" || v.Mobile != "13800138000" || v.Age != 30 || !v.Consent ||
				len(v.Tags) != 1 || v.Tags[0] != "road" || v.Location.Lat != 31.2 || v.Location.Lng != 121.5 {
				t.Fatalf("decoded %+v", v)
			}
		})
	}
}

func TestDecodeRejectsANonJSONContentType(t *testing.T) {
	t.Parallel()
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", ";;;"} {
		t.Run(ct, func(t *testing.T) {
			t.Parallel()
			_, err := fn.Decode[citizenRequest](jsonRequest(`{"name":"x"}`, ct))
			p := asProblem(t, err, http.StatusUnsupportedMediaType, fn.CodeUnsupportedMedia)
			if !strings.Contains(p.Detail, "application/json") {
				t.Errorf("detail %q does not say what to send", p.Detail)
			}
		})
	}
}

func TestDecodeRejectsMalformedBodies(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		body, detail string
	}{
		"broken JSON":          {`{"name": "Li Lei",`, "well-formed"},
		"syntax error":         {`{"name" "Li Lei"}`, "well-formed"},
		"empty body":           {``, "empty"},
		"only whitespace":      {"  \n ", "empty"},
		"second object":        {`{"name":"a"}{"name":"b"}`, "exactly one"},
		"trailing garbage":     {`{"name":"a"} x`, "exactly one"},
		"trailing array":       {`{"name":"a"}[]`, "exactly one"},
		"not an object at all": {`nope`, "well-formed"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := fn.Decode[citizenRequest](jsonRequest(tc.body, "application/json"))
			p := asProblem(t, err, http.StatusBadRequest, fn.CodeMalformed)
			if !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("detail %q does not mention %q", p.Detail, tc.detail)
			}
		})
	}
}

func TestDecodeRejectsAnUnknownFieldNamingIt(t *testing.T) {
	t.Parallel()
	_, err := fn.Decode[citizenRequest](jsonRequest(`{"name":"Li Lei","is_admin":true}`, "application/json"))
	p := asProblem(t, err, http.StatusBadRequest, fn.CodeUnknownField)
	if len(p.Params) != 1 || p.Params[0].Name != "is_admin" || p.Params[0].Reason != "unknown field" {
		t.Fatalf("invalid_params = %+v, want is_admin/unknown field", p.Params)
	}
	if !strings.Contains(p.Detail, `"is_admin"`) {
		t.Errorf("detail %q does not name the field", p.Detail)
	}
}

func TestDecodeRejectsAWrongJSONTypeNamingTheField(t *testing.T) {
	t.Parallel()
	cases := []struct {
		body, field, want string
	}{
		{`{"age":"thirty"}`, "age", "must be a number"},
		{`{"name":42}`, "name", "must be a string"},
		{`{"consent":"yes"}`, "consent", "must be a boolean"},
		{`{"tags":"road"}`, "tags", "must be an array"},
		{`{"location":[1,2]}`, "location", "must be an object"},
		{`{"location":{"lat":"north"}}`, "location.lat", "must be a number"},
		{`{"age":1.5}`, "age", "must be a number"},
	}
	for _, tc := range cases {
		t.Run(tc.body, func(t *testing.T) {
			t.Parallel()
			_, err := fn.Decode[citizenRequest](jsonRequest(tc.body, "application/json"))
			p := asProblem(t, err, http.StatusBadRequest, fn.CodeMalformed)
			if len(p.Params) != 1 || p.Params[0].Name != tc.field || p.Params[0].Reason != tc.want {
				t.Fatalf("invalid_params = %+v, want %s: %s", p.Params, tc.field, tc.want)
			}
			if !strings.Contains(p.Detail, `"`+tc.field+`"`) {
				t.Errorf("detail %q does not name the field %q", p.Detail, tc.field)
			}
		})
	}
}

func TestDecodeRejectsABodyThatIsNotAnObject(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`[1,2,3]`, `"just a string"`, `42`, `true`} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			_, err := fn.Decode[citizenRequest](jsonRequest(body, "application/json"))
			p := asProblem(t, err, http.StatusBadRequest, fn.CodeMalformed)
			for _, ip := range p.Params {
				if ip.Name == "" {
					t.Errorf("invalid_params names an empty field: %+v", p.Params)
				}
			}
			if strings.Contains(p.Detail, `""`) {
				t.Errorf("detail %q names an empty field", p.Detail)
			}
			if !strings.Contains(p.Detail, "object") {
				t.Errorf("detail %q does not say an object is expected", p.Detail)
			}
		})
	}
}

func TestDecodeRunsValidationAndListsFieldsByName(t *testing.T) {
	t.Parallel()
	_, err := fn.Decode[citizenRequest](jsonRequest(`{"name":"reject-me"}`, "application/json"))
	p := asProblem(t, err, http.StatusUnprocessableEntity, fn.CodeInvalid)
	want := []fn.InvalidParam{{"age", "must be positive"}, {"mobile", "is required"}, {"name", "is not allowed"}}
	if len(p.Params) != len(want) {
		t.Fatalf("invalid_params = %+v, want %+v", p.Params, want)
	}
	for i := range want {
		if p.Params[i] != want[i] {
			t.Fatalf("invalid_params = %+v, want %+v (sorted by name)", p.Params, want)
		}
	}
}

// pointerValidated checks Valid through a pointer receiver.
type pointerValidated struct {
	Code string `json:"code"`
}

func (p *pointerValidated) Valid() map[string]string {
	if p.Code == "" {
		return map[string]string{"code": "is required"}
	}
	return nil
}

func TestDecodeRunsValidationWithAPointerReceiver(t *testing.T) {
	t.Parallel()
	_, err := fn.Decode[pointerValidated](jsonRequest(`{}`, "application/json"))
	asProblem(t, err, http.StatusUnprocessableEntity, fn.CodeInvalid)
	v, err := fn.Decode[pointerValidated](jsonRequest(`{"code":"A1"}`, "application/json"))
	if err != nil || v.Code != "A1" {
		t.Fatalf("Decode = %+v, %v", v, err)
	}
}

func TestDecodeRejectsABodyOverTheLimitSetByWrap(t *testing.T) {
	t.Parallel()
	var decodeErr error
	h, _ := wrapped(fn.Handle(func(w http.ResponseWriter, r *http.Request) error {
		_, decodeErr = fn.Decode[citizenRequest](r)
		if decodeErr != nil {
			return decodeErr
		}
		return fn.JSON(w, http.StatusCreated, map[string]string{"ok": "yes"})
	}), 64)

	small := jsonRequest(`{"name":"Li Lei"}`, "application/json")
	if res := serve(h, small); res.StatusCode != http.StatusCreated {
		t.Fatalf("a body under the limit answered %d (%v)", res.StatusCode, decodeErr)
	}

	for name, body := range map[string]string{
		"long value":             `{"name":"` + strings.Repeat("x", 200) + `"}`,
		"long trailing padding":  `{"name":"Li Lei"}` + strings.Repeat(" ", 200),
		"just over the limit":    `{"name":"` + strings.Repeat("x", 64-11+1) + `"}`,
		"huge body, many chunks": `{"tags":[` + strings.Repeat(`"road",`, 100000) + `"end"]}`,
	} {
		t.Run(name, func(t *testing.T) {
			res := serve(h, jsonRequest(body, "application/json"))
			p := readProblem(t, res, http.StatusRequestEntityTooLarge, fn.CodeTooLarge)
			if !strings.Contains(p.Detail, "64 bytes") {
				t.Errorf("detail %q does not state the limit", p.Detail)
			}
		})
	}
}
