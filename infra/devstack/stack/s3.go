package stack

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/jinlaiban/openplatform/shared/objstore"
	"github.com/jinlaiban/openplatform/shared/objstore/bucket"
	"github.com/jinlaiban/openplatform/shared/objstore/locals3"
)

// s3Credentials are the local store's keys; it checks none, and nothing else accepts them.
const s3Key, s3Secret = "devstack", "devstack-secret"

// startObjectStore serves the in-process S3-compatible store (files kept under the data
// folder) unless S3_ENDPOINT names a real one, and makes sure the bucket exists.
func (s *Stack) startObjectStore(ctx context.Context) error {
	cfg := objstore.Config{Endpoint: s.opts.S3Endpoint, Bucket: "jinlaiban-open", Region: "us-east-1", AccessKeyID: s3Key, SecretKey: s3Secret}
	if cfg.Endpoint == "" {
		handler, err := locals3.Disk(filepath.Join(s.opts.DataDir, "s3"))
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		s.s3 = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = s.s3.Serve(ln) }()
		cfg.Endpoint = "http://" + ln.Addr().String()
	}
	s.S3 = cfg
	store, err := bucket.New(cfg)
	if err != nil {
		return err
	}
	return store.EnsureBucket(ctx)
}

func (s *Stack) s3Env() []string {
	return []string{"S3_ENDPOINT=" + s.S3.Endpoint, "S3_BUCKET=" + s.S3.Bucket, "S3_REGION=" + s.S3.Region,
		"S3_ACCESS_KEY_ID=" + s.S3.AccessKeyID, "S3_SECRET_ACCESS_KEY=" + s.S3.SecretKey}
}
