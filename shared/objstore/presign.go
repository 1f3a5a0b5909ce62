package objstore

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/encoding/httpbinding"
)

// Presigner makes the presigned URLs browsers use, with aws-sdk-go-v2's Signature Version 4
// signer alone: the URLs the S3 client's presigner makes (path-style, UNSIGNED-PAYLOAD, the
// same query), without linking the S3 client. Functions that only hand out URLs (approve,
// user-info) use it alone and are 2.5 MB smaller for it, which shows in their start-up time and
// memory; bucket.Store uses it for its own presigned URLs.
type Presigner struct {
	Bucket   string
	endpoint *url.URL // browsers' address of the store (S3_PUBLIC_ENDPOINT, else S3_ENDPOINT)
	region   string
	creds    aws.Credentials
	signer   *v4.Signer
	now      func() time.Time
}

// NewPresigner builds a Presigner for the store cfg names.
func NewPresigner(cfg Config) (*Presigner, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	public := cfg.PublicEndpoint
	if public == "" {
		public = cfg.Endpoint
	}
	u, _ := url.Parse(public) // checked
	region := cfg.SigningRegion()
	return &Presigner{
		Bucket:   cfg.Bucket,
		endpoint: u,
		region:   region,
		creds:    aws.Credentials{AccessKeyID: cfg.AccessKeyID, SecretAccessKey: cfg.SecretKey, Source: "objstore"},
		// S3 signs the path as sent: keys are escaped once, below, not again by the signer.
		signer: v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }),
		now:    time.Now,
	}, nil
}

// presign signs method on key for ttl; query and header are signed in.
func (p *Presigner) presign(ctx context.Context, method, key, operation string, query url.Values, header http.Header, size int64, ttl time.Duration) (string, http.Header, error) {
	if ttl <= 0 || ttl > 7*24*time.Hour {
		return "", nil, fmt.Errorf("objstore: presigned URLs live more than 0 and at most 7 days (got %s)", ttl)
	}
	u := *p.endpoint
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + p.Bucket + "/" + key
	u.RawPath = strings.TrimSuffix(p.endpoint.EscapedPath(), "/") + "/" + httpbinding.EscapePath(p.Bucket, true) + "/" + httpbinding.EscapePath(key, false)
	if query == nil {
		query = url.Values{}
	}
	query.Set("x-id", operation) // as the S3 client's presigner adds it
	query.Set("X-Amz-Expires", strconv.FormatInt(int64(ttl/time.Second), 10))
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, method, p.endpoint.String(), nil)
	if err != nil {
		return "", nil, err
	}
	req.URL = &u
	for k, v := range header {
		req.Header[k] = v
	}
	req.ContentLength = size
	signed, headers, err := p.signer.PresignHTTP(ctx, p.creds, req, "UNSIGNED-PAYLOAD", "s3", p.region, p.now().UTC())
	return signed, headers, err
}

// PresignPut lets a browser put one object of the given type and size under key. The
// content type and length are signed in, and the object is checked again on completion
// (not every S3-compatible store enforces signed headers).
func (p *Presigner) PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (Upload, error) {
	url, signed, err := p.presign(ctx, http.MethodPut, key, "PutObject", nil, http.Header{"Content-Type": {contentType}}, size, ttl)
	if err != nil {
		return Upload{}, err
	}
	h := map[string]string{}
	for name, vals := range signed {
		if name != "Host" && len(vals) > 0 {
			h[name] = vals[0]
		}
	}
	return Upload{URL: url, Method: http.MethodPut, Headers: h, ExpiresAt: p.now().Add(ttl).UTC()}, nil
}

// PresignGet lets the holder download key for ttl, saved as filename.
func (p *Presigner) PresignGet(ctx context.Context, key, filename string, ttl time.Duration) (string, error) {
	var q url.Values
	if filename != "" {
		q = url.Values{"response-content-disposition": {fmt.Sprintf("attachment; filename=%q", filename)}}
	}
	url, _, err := p.presign(ctx, http.MethodGet, key, "GetObject", q, nil, 0, ttl)
	return url, err
}
