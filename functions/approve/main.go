// Command approve is the administrators' review desk: the queue of applications waiting for
// review, and the decisions on them.
package main

import (
	"context"
	"net/http"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/fn"
)

func main() { fn.Main("approve", setup) }

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
