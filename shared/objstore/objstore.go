// Package objstore keeps the platform's files (logos, test reports, forms, face images) in
// an S3-compatible object store, through aws-sdk-go-v2. Browsers move the bytes directly with
// short-lived presigned URLs; the functions only sign, inspect and delete. This package
// holds the settings and the Presigner (the SigV4 signer alone); package bucket adds the S3
// client, for the functions that inspect, write or delete objects.
package objstore

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// DefaultRegion is the region signed in when S3_REGION is empty (S3-compatible stores accept it).
const DefaultRegion = "us-east-1"

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

// Check refuses endpoints that are not http(s) addresses, naming the setting.
func (c Config) Check() error {
	for _, e := range []struct{ name, value string }{{"S3_ENDPOINT", c.Endpoint}, {"S3_PUBLIC_ENDPOINT", c.PublicEndpoint}} {
		if e.value == "" && e.name == "S3_PUBLIC_ENDPOINT" {
			continue // optional: browsers use S3_ENDPOINT
		}
		if u, err := url.Parse(e.value); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s: want an http(s) address such as https://s3.example.com (got %q)", e.name, e.value)
		}
	}
	return nil
}

// SigningRegion is the region requests are signed for: S3_REGION, or DefaultRegion for a
// Config built in code (tests, tools).
func (c Config) SigningRegion() string {
	if c.Region == "" {
		return DefaultRegion
	}
	return c.Region
}

// Upload is a presigned PUT: the caller sends the bytes to URL with the given headers.
type Upload struct {
	URL       string            `json:"url"`
	Method    string            `json:"method"`
	Headers   map[string]string `json:"headers"`
	ExpiresAt time.Time         `json:"expires_at"`
}

// ErrNotFound means there is no object under the key.
var ErrNotFound = errors.New("objstore: no such object")
