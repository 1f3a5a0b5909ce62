package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// client calls the platform through the gateway, as a vendor's or admin's tools would.
type client struct {
	t     *testing.T
	base  string
	token string
}

type reply struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

func (c *client) as(token string) *client { return &client{t: c.t, base: c.base, token: token} }

func (c *client) do(method, path string, body any) reply {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		_ = json.Unmarshal(raw, &r.Body)
	}
	return r
}

// must calls and fails the test unless the answer has the wanted status.
func (c *client) must(want int, method, path string, body any) reply {
	c.t.Helper()
	r := c.do(method, path, body)
	if r.Status != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Raw)
	}
	return r
}

// problem calls and checks for a problem+json answer with the wanted status and code.
func (c *client) problem(want int, code, method, path string, body any) reply {
	c.t.Helper()
	r := c.do(method, path, body)
	if r.Status != want || r.Body["code"] != code || r.Header.Get("Content-Type") != "application/problem+json" {
		c.t.Fatalf("%s %s: got %d %s %s, want %d problem %q", method, path, r.Status, r.Header.Get("Content-Type"), r.Raw, want, code)
	}
	return r
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}
