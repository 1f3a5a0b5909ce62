package objstore

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// clockSigner is the S3 client's presigner with the signing time it was given kept, so the
// Presigner can sign at the very same instant.
type clockSigner struct {
	*v4.Signer
	at time.Time
}

func (c *clockSigner) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string,
	t time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	c.at = t
	return c.Signer.PresignHTTP(ctx, creds, r, payloadHash, service, region, t, optFns...)
}

// sdkPresigner is the S3 client's own presigner, configured as the platform's store was
// before Presigner: path-style, "when required" checksums.
func sdkPresigner(cfg Config) (*s3.PresignClient, *clockSigner) {
	clock := &clockSigner{Signer: v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })}
	client := s3.New(s3.Options{
		Region:                     cfg.Region,
		Credentials:                credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretKey, ""),
		BaseEndpoint:               aws.String(cfg.PublicEndpoint),
		UsePathStyle:               true,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	return s3.NewPresignClient(client, func(o *s3.PresignOptions) { o.Presigner = clock }), clock
}

// The Presigner's URLs and signed headers are, byte for byte, those of the S3 client's
// presigner, for keys that need escaping, a download name, and both an endpoint with and
// without a path.
func TestPresignerSignsAsTheS3Client(t *testing.T) {
	ctx := context.Background()
	keys := []string{"reports/0b9e/test-report.pdf", "faces/公积金 提取/a+b=c&d.jpg", "a/../b?c#d"}
	for _, public := range []string{"https://files.example.com", "http://127.0.0.1:9000/s3/"} {
		cfg := Config{Endpoint: "http://minio:9000", PublicEndpoint: public, Region: "cn-north-1", Bucket: "jinlaiban-open",
			AccessKeyID: "AKIDEXAMPLE", SecretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
		ours, err := NewPresigner(cfg)
		if err != nil {
			t.Fatal(err)
		}
		sdk, clock := sdkPresigner(cfg)
		ours.now = func() time.Time { return clock.at }
		for _, key := range keys {
			want, err := sdk.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(cfg.Bucket), Key: aws.String(key),
				ResponseContentDisposition: aws.String(`attachment; filename="测试报告.pdf"`)}, s3.WithPresignExpires(10*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ours.PresignGet(ctx, key, "测试报告.pdf", 10*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if got != want.URL {
				t.Errorf("GET %s via %s:\n got %s\nwant %s", key, public, got, want.URL)
			}

			wantPut, err := sdk.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(cfg.Bucket), Key: aws.String(key),
				ContentType: aws.String("application/pdf"), ContentLength: aws.Int64(12345)}, s3.WithPresignExpires(15*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			put, err := ours.PresignPut(ctx, key, "application/pdf", 12345, 15*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if put.URL != wantPut.URL || put.Method != wantPut.Method {
				t.Errorf("PUT %s via %s:\n got %s %s\nwant %s %s", key, public, put.Method, put.URL, wantPut.Method, wantPut.URL)
			}
			for name, vals := range wantPut.SignedHeader {
				if name != "Host" && put.Headers[name] != vals[0] {
					t.Errorf("PUT %s: header %s = %q, want %q (all: %v)", key, name, put.Headers[name], vals[0], put.Headers)
				}
			}
			if len(put.Headers) != len(wantPut.SignedHeader)-1 {
				t.Errorf("PUT %s: headers %v, want those of %v but Host", key, put.Headers, wantPut.SignedHeader)
			}
		}
	}
}

func TestPresignerRefusesBadSettings(t *testing.T) {
	for _, cfg := range []Config{{Endpoint: "minio:9000"}, {Endpoint: "http://minio:9000", PublicEndpoint: "ftp://files"}, {Endpoint: ""}} {
		if _, err := NewPresigner(cfg); err == nil {
			t.Errorf("NewPresigner(%+v) accepted it", cfg)
		}
	}
	p, err := NewPresigner(Config{Endpoint: "http://minio:9000", Bucket: "b"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ttl := range []time.Duration{0, -time.Second, 8 * 24 * time.Hour} {
		if _, err := p.PresignGet(context.Background(), "k", "", ttl); err == nil {
			t.Errorf("PresignGet with ttl %s accepted it", ttl)
		}
	}
}
