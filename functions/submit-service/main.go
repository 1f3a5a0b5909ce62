// Command submit-service lets a vendor list services under its approved applications: create
// and edit them, upload the logo and test reports to object storage, apply for listing, and
// ask to go live.
package main

import (
	"context"
	"net/http"
	"time"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/objstore"
	"github.com/jinlaiban/openplatform/shared/objstore/bucket"
)

type config struct {
	// AllowHTTPLocalhost admits http://localhost service addresses: the development stack
	// only, never in a real deployment.
	AllowHTTPLocalhost bool          `envconfig:"ALLOW_HTTP_LOCALHOST" default:"false"`
	DownloadTTL        time.Duration `envconfig:"DOWNLOAD_URL_TTL" default:"5m"`
}

func main() { fn.Main("submit-service", setup) }

func setup(ctx context.Context, rt *fn.Runtime) (http.Handler, error) {
	var cfg config
	var sc objstore.Config
	if err := rt.Load(&cfg); err != nil {
		return nil, err
	}
	if err := rt.Load(&sc); err != nil {
		return nil, err
	}
	pool, err := rt.DB()
	if err != nil {
		return nil, err
	}
	store, err := bucket.New(sc)
	if err != nil {
		return nil, err
	}
	return newServer(pool, store, &auth.Sessions{Pool: pool}, cfg), nil
}
