// Package bucket is the platform's bucket through the S3 client of aws-sdk-go-v2: for the
// functions that inspect, write or delete objects (submit-service, register-app) and for
// the local stack and tests. Functions that only hand out URLs use objstore.Presigner and
// do not link the client.
package bucket

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

	"github.com/jinlaiban/openplatform/shared/objstore"
)

// Store is a bucket. Its presigned URLs come from its objstore.Presigner.
type Store struct {
	*objstore.Presigner
	client *s3.Client
}

// New builds a Store. Path-style addressing and "when required" checksums keep it working
// against S3-compatible stores (MinIO, Ceph, the in-process store of tests and make dev).
func New(cfg objstore.Config) (*Store, error) {
	p, err := objstore.NewPresigner(cfg)
	if err != nil {
		return nil, err
	}
	client := s3.New(s3.Options{
		Region:                     cfg.SigningRegion(),
		Credentials:                aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretKey, "")),
		HTTPClient:                 &http.Client{Timeout: 30 * time.Second},
		BaseEndpoint:               aws.String(cfg.Endpoint),
		UsePathStyle:               true,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	return &Store{Presigner: p, client: client}, nil
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
			return objstore.ErrNotFound
		}
	}
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return objstore.ErrNotFound
	}
	return err
}
