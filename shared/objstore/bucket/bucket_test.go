package bucket

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/objstore"
	"github.com/jinlaiban/openplatform/shared/objstore/locals3"
)

// A browser puts an object with the presigned PUT and its headers, and reads it back with
// the presigned GET, on a real (in-process) S3 server.
func TestPresignedURLsWorkAgainstAStore(t *testing.T) {
	srv := httptest.NewServer(locals3.Memory())
	defer srv.Close()
	cfg := objstore.Config{Endpoint: srv.URL, Bucket: "reports-bucket", AccessKeyID: "k", SecretKey: "s"}
	store, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := store.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	body := []byte("%PDF-1.7 a test report")
	up, err := store.PresignPut(ctx, "reports/报告 1.pdf", "application/pdf", int64(len(body)), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(up.Method, up.URL, bytes.NewReader(body))
	for k, v := range up.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("presigned PUT answered %d", resp.StatusCode)
	}
	if n, err := store.Head(ctx, "reports/报告 1.pdf"); err != nil || n != int64(len(body)) {
		t.Fatalf("Head after the PUT: %d, %v; want %d bytes", n, err, len(body))
	}
	get, err := store.PresignGet(ctx, "reports/报告 1.pdf", "报告.pdf", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(get)
	if u.Query().Get("response-content-disposition") != `attachment; filename="报告.pdf"` || u.Query().Get("X-Amz-Expires") != "60" {
		t.Errorf("presigned GET %s lacks the download name or the lifetime", get)
	}
	resp, err = http.Get(get)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
		t.Errorf("presigned GET answered %d %q, want the object", resp.StatusCode, got)
	}
}
