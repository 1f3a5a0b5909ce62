// Command user-info gives a vendor's backend the citizen behind an access token: the
// application's pairwise id for the citizen and exactly the fields of the application's
// approved user-info level. Reads of ID numbers and face images are audit-logged.
package main

import (
	"context"
	"net/http"
	"time"

	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/objstore"
	"github.com/jinlaiban/openplatform/shared/vendorauth"
)

type config struct {
	FaceURLTTL time.Duration `envconfig:"FACE_IMAGE_URL_TTL" default:"60s"`
}

func main() { fn.Main("user-info", setup) }

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
	sealer, err := rt.Sealer()
	if err != nil {
		return nil, err
	}
	verifier, err := vendorauth.Load(rt, pool, sealer)
	if err != nil {
		return nil, err
	}
	// user-info only hands out face-image URLs: the presigner, not the S3 client.
	store, err := objstore.NewPresigner(sc)
	if err != nil {
		return nil, err
	}
	return newServer(deps{pool: pool, sealer: sealer, store: store, verifier: verifier, cfg: cfg}), nil
}
