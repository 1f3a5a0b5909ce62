package fn_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jinlaiban/openplatform/shared/fn"
)

// complaint is a small request body with validation, the shape Decode sees most.
type complaint struct {
	Title    string   `json:"title"`
	Severity int      `json:"severity"`
	Public   bool     `json:"public"`
	Photos   []string `json:"photos"`
	Place    *struct {
		District string `json:"district"`
	} `json:"place"`
}

func (c complaint) Valid() map[string]string {
	out := map[string]string{}
	if c.Title == "" {
		out["title"] = "is required"
	}
	if c.Severity < 1 || c.Severity > 5 {
		out["severity"] = "must be from 1 to 5"
	}
	return out
}

// FuzzDecode: whatever a caller sends, Decode never panics and answers either with a valid
// value or with a client-error Problem.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"title":"Broken street light","severity":3,"public":true,"photos":["a.jpg"],"place":{"district":"Xuhui"}}`,
		`{"title":"x","severity":1}`,
		`{}`, ``, `null`, `[]`, `"s"`, `1`, `{"title":1}`, `{"place":[]}`, `{"nope":1}`,
		`{"title":"a"}{"title":"b"}`, `{"title":"a"} x`, `{"title":"\ud800"}`, `{"severity":1e400}`,
		`{"photos":[1,2]}`, `{"title":"` + string(bytes.Repeat([]byte("x"), 300)) + `","severity":2}`,
	} {
		f.Add([]byte(seed), "application/json")
	}
	f.Add([]byte(`{"title":"x","severity":1}`), "text/plain")
	f.Add([]byte(`{"title":"x","severity":1}`), "application/vnd.api+json; charset=utf-8")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/complaints", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 256)
		v, err := fn.Decode[complaint](r)
		if err == nil {
			if len(v.Valid()) != 0 {
				t.Fatalf("Decode accepted an invalid value %+v", v)
			}
			if len(body) > 256 {
				t.Fatalf("Decode accepted a %d-byte body over the 256-byte limit", len(body))
			}
			return
		}
		var p *fn.Problem
		if !errors.As(err, &p) {
			t.Fatalf("Decode error %v (%T) is not a *fn.Problem", err, err)
		}
		if p.Status < 400 || p.Status > 499 || p.Code == "" || p.Title == "" || p.Detail == "" {
			t.Fatalf("Decode problem %+v is not a complete client error", p)
		}
		for _, ip := range p.Params {
			if ip.Name == "" || ip.Reason == "" {
				t.Fatalf("Decode problem names an empty field: %+v", p.Params)
			}
		}
		rec := httptest.NewRecorder()
		fn.WriteProblem(rec, r, p)
		if rec.Code != p.Status {
			t.Fatalf("WriteProblem wrote %d for a %d problem", rec.Code, p.Status)
		}
	})
}
