// Command portal serves the open platform's web console (the portal home, sign-in and the
// back office of vendors and administrators), the super-app simulator testers open services
// in, and the page-side JS-SDK vendors' pages load. Everything is static: embedded in the
// binary, talking to the other functions' APIs through the gateway on the same origin.
package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/jinlaiban/openplatform/shared/fn"
)

type config struct {
	// S3PublicEndpoint is the object store as browsers reach it: the console uploads logos,
	// test reports and forms there with presigned PUTs and shows logos from it, so its
	// Content-Security-Policy admits that origin. S3_ENDPOINT stands in when it is not set
	// (the local stack, where both are the same).
	S3PublicEndpoint string `envconfig:"S3_PUBLIC_ENDPOINT"`
	S3Endpoint       string `envconfig:"S3_ENDPOINT"`
	// AllowHTTPLocalhost lets the simulator frame http://localhost services: the development
	// stack only (the same rule as the service addresses there).
	AllowHTTPLocalhost bool `envconfig:"ALLOW_HTTP_LOCALHOST" default:"false"`
	// Simulator serves the super-app simulator, where test citizens sign in with SMS codes:
	// test environments only, as sso-ticket's citizen sign-in.
	Simulator bool `envconfig:"CITIZEN_SIGNIN_ENABLED" default:"false"`
	// How vendors reach the platform's staff, shown in the portal's contact box.
	ContactPhone string `envconfig:"PORTAL_CONTACT_PHONE"`
	ContactEmail string `envconfig:"PORTAL_CONTACT_EMAIL"`
}

func main() { fn.Main("portal", setup) }

func setup(ctx context.Context, rt *fn.Runtime) (http.Handler, error) {
	var cfg config
	if err := rt.Load(&cfg); err != nil {
		return nil, err
	}
	return newServer(cfg)
}

// storeOrigin is the object store's origin (scheme://host[:port]) for the CSP, or "".
func (c config) storeOrigin() (string, error) {
	endpoint, name := c.S3PublicEndpoint, "S3_PUBLIC_ENDPOINT"
	if endpoint == "" {
		endpoint, name = c.S3Endpoint, "S3_ENDPOINT"
	}
	if endpoint == "" {
		return "", nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("%s: must be an http(s) URL such as https://files.example.com, got %q", name, endpoint)
	}
	return u.Scheme + "://" + u.Host, nil
}
