// Package objstore keeps the platform's files (logos, test reports, forms, face images) in
// an S3-compatible object store, through aws-sdk-go-v2. Browsers move the bytes directly with
// short-lived presigned URLs; the functions only sign, inspect and delete.
package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Config names the store. S3_PUBLIC_ENDPOINT is the address browsers use for presigned URLs
// when it differs from the one the functions reach (e.g. inside a cluster).
type Config struct {
	Endpoint       string `envconfig:"S3_ENDPOINT" required:"true"`
	PublicEndpoint string `envconfig:"S3_PUBLIC_ENDPOINT"`
	Region         string `envconfig:"S3_REGION" default:"us-east-1"`
	Bucket         string `envconfig:"S3_BUCKET" default:"jinlaiban-open"`
	AccessKeyID    string `envconfig:"S3_ACCESS_KEY_ID" secret:"s3-access-key-id,required"`
	SecretKey      string `envconfig:"S3_SECRET_ACCESS_KEY" secret:"s3-secret-access-key,required"`
}

// Store is a bucket.
type Store struct {
	Bucket  string
	client  *s3.Client
	presign *s3.PresignClient
}

// New builds a Store. Path-style addressing and "when required" checksums keep it working
// against S3-compatible stores (MinIO, Ceph, the in-process store of tests and make dev).
func New(cfg Config) *Store {
	opts := func(endpoint string) func(*s3.Options) {
		return func(o *s3.Options) {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
	}
	region := cfg.Region
	if region == "" { // the default of S3_REGION, for a Config built in code (tests, tools)
		region = "us-east-1"
	}
	base := s3.Options{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretKey, "")),
		HTTPClient:  &http.Client{Timeout: 30 * time.Second},
	}
	public := cfg.PublicEndpoint
	if public == "" {
		public = cfg.Endpoint
	}
	return &Store{
		Bucket:  cfg.Bucket,
		client:  s3.New(base, opts(cfg.Endpoint)),
		presign: s3.NewPresignClient(s3.New(base, opts(public))),
	}
}

// EnsureBucket creates the bucket when it is missing (the local stack and tests).
func (s *Store) EnsureBucket(ctx context.Context) error {
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.Bucket}); err == nil {
		return nil
	}
	_, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &s.Bucket})
	var owned *types.BucketAlreadyOwnedByYou
	if errors.As(err, &owned) {
		return nil
	}
	return err
}

// Ping checks that the bucket can be reached.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.Bucket})
	return err
}

// Upload is a presigned PUT: the caller sends the bytes to URL with the given headers.
type Upload struct {
	URL       string            `json:"url"`
	Method    string            `json:"method"`
	Headers   map[string]string `json:"headers"`
	ExpiresAt time.Time         `json:"expires_at"`
}

// PresignPut lets a browser put one object of the given type and size under key. The
// content type and length are signed in, and the object is checked again on completion
// (not every S3-compatible store enforces signed headers).
func (s *Store) PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (Upload, error) {
	req, err := s.presign.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket: &s.Bucket, Key: &key, ContentType: &contentType, ContentLength: aws.Int64(size),
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return Upload{}, err
	}
	h := map[string]string{}
	for name, vals := range req.SignedHeader {
		if name != "Host" && len(vals) > 0 {
			h[name] = vals[0]
		}
	}
	return Upload{URL: req.URL, Method: req.Method, Headers: h, ExpiresAt: time.Now().Add(ttl).UTC()}, nil
}

// PresignGet lets the holder download key for ttl, saved as filename.
func (s *Store) PresignGet(ctx context.Context, key, filename string, ttl time.Duration) (string, error) {
	in := &s3.GetObjectInput{Bucket: &s.Bucket, Key: &key}
	if filename != "" {
		in.ResponseContentDisposition = aws.String(fmt.Sprintf("attachment; filename=%q", filename))
	}
	req, err := s.presign.PresignGetObject(ctx, in, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", err
	}
	return req.URL, nil
}

// ErrNotFound means there is no object under the key.
var ErrNotFound = errors.New("objstore: no such object")

// Head returns an object's size.
func (s *Store) Head(ctx context.Context, key string) (int64, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.Bucket, Key: &key})
	if err != nil {
		return 0, notFound(err)
	}
	return aws.ToInt64(out.ContentLength), nil
}

// ReadPrefix returns up to n bytes from the start of an object.
func (s *Store) ReadPrefix(ctx context.Context, key string, n int64) ([]byte, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.Bucket, Key: &key, Range: aws.String(fmt.Sprintf("bytes=0-%d", n-1))})
	if err != nil {
		return nil, notFound(err)
	}
	defer out.Body.Close()
	return io.ReadAll(io.LimitReader(out.Body, n))
}

// Put stores a small object directly (seeding, tests).
func (s *Store) Put(ctx context.Context, key, contentType string, body []byte) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.Bucket, Key: &key, ContentType: &contentType,
		Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body)))})
	return err
}

// Delete removes an object; a missing one is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.Bucket, Key: &key})
	return err
}

func notFound(err error) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NotFound", "NoSuchKey", "404":
			return ErrNotFound
		}
	}
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return ErrNotFound
	}
	return err
}
