// Command register-app lets a vendor declare applications, edit and submit them for review,
// and, once approved, see and rotate their appCode and appSecret.
package main

import (
	"context"
	"net/http"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/fn"
)

func main() { fn.Main("register-app", setup) }

func setup(ctx context.Context, rt *fn.Runtime) (http.Handler, error) {
	pool, err := rt.DB()
	if err != nil {
		return nil, err
	}
	sealer, err := rt.Sealer()
	if err != nil {
		return nil, err
	}
	return newServer(pool, sealer, &auth.Sessions{Pool: pool}), nil
}
