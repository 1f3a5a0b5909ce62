// Command register-app lets a vendor declare applications, edit and submit them for review,
// and, once approved, see and rotate their appCode and appSecret, apply for the platform's
// capabilities (SMS with the city's form, messages, to-dos) and see their usage.
package main

import (
	"context"
	"net/http"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/objstore"
	"github.com/jinlaiban/openplatform/shared/objstore/bucket"
)

func main() { fn.Main("register-app", setup) }

func setup(ctx context.Context, rt *fn.Runtime) (http.Handler, error) {
	var sc objstore.Config
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
	store, err := bucket.New(sc)
	if err != nil {
		return nil, err
	}
	return newServer(deps{pool: pool, sealer: sealer, store: store, sessions: &auth.Sessions{Pool: pool}}), nil
}
