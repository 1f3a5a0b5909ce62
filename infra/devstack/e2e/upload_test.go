package e2e

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"testing"
)

// pngBytes is a 1×1 PNG.
var pngBytes, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")

// completeAfterPut starts an upload, puts the bytes to the presigned URL as a browser would,
// and returns the path that completes it.
func completeAfterPut(t *testing.T, vendor *client, serviceID, kind, contentType string, body []byte) string {
	t.Helper()
	r := vendor.must(201, "POST", "/api/v1/services/"+serviceID+"/uploads", map[string]any{
		"kind": kind, "content_type": contentType, "size": len(body), "filename": "我的文件.bin"})
	req, err := http.NewRequest(str(r.Body, "method"), str(r.Body, "url"), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range r.Body["headers"].(map[string]any) {
		req.Header.Set(k, v.(string))
	}
	req.ContentLength = int64(len(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT to the presigned URL: %d", resp.StatusCode)
	}
	return str(r.Body, "complete_url")
}

// upload attaches a file to a service and checks it was accepted.
func upload(t *testing.T, vendor *client, serviceID, kind, contentType string, body []byte) {
	t.Helper()
	vendor.must(200, "POST", completeAfterPut(t, vendor, serviceID, kind, contentType, body), nil)
}

func fetch(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b
}

func merge(base, over map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// putAndComplete starts an upload at path, puts the bytes, and completes it.
func putAndComplete(t *testing.T, c *client, path string, start map[string]any, body []byte) {
	t.Helper()
	r := c.must(201, "POST", path, start)
	req, _ := http.NewRequest(str(r.Body, "method"), str(r.Body, "url"), bytes.NewReader(body))
	for k, v := range r.Body["headers"].(map[string]any) {
		req.Header.Set(k, v.(string))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c.must(200, "POST", str(r.Body, "complete_url"), nil)
}
