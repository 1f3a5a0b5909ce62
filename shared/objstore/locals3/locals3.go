// Package locals3 serves an in-process S3-compatible store (gofakes3) for tests and the
// local stack, so they speak the real S3 protocol through aws-sdk-go-v2 without a server
// to install. Never used in production.
package locals3

import (
	"net/http"
	"os"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Memory returns a store that forgets everything when the process ends.
func Memory() http.Handler {
	return gofakes3.New(s3mem.New(), gofakes3.WithAutoBucket(false)).Server()
}

// Disk returns a store kept in dir, so files survive a restart of the local stack.
func Disk(dir string) (http.Handler, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	fs, err := s3afero.FsPath(dir, 0)
	if err != nil {
		return nil, err
	}
	backend, err := s3afero.MultiBucket(fs)
	if err != nil {
		return nil, err
	}
	return gofakes3.New(backend).Server(), nil
}
