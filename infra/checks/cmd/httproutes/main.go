// Command httproutes writes the Gateway API HTTPRoutes for the route table:
//
//	go run ./cmd/httproutes -target knative  -out ../knative/httproutes.yaml
//	go run ./cmd/httproutes -target openfaas -out ../gateway/httproutes-openfaas.yaml
//
// (run from infra/checks; `make httproutes` does both). The tests in infra/checks fail when
// a committed file differs from what this writes now.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/jinlaiban/openplatform/infra/checks/httproutes"
)

func main() {
	routes := flag.String("routes", "../gateway/routes.yaml", "the route table")
	target := flag.String("target", "knative", "knative or openfaas")
	out := flag.String("out", "", "the file to write (default: stdout)")
	flag.Parse()
	o, ok := httproutes.Defaults[*target]
	if !ok {
		fmt.Fprintf(os.Stderr, "httproutes: -target %q: want knative or openfaas\n", *target)
		os.Exit(2)
	}
	b, err := httproutes.Generate(*routes, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "httproutes:", err)
		os.Exit(1)
	}
	if *out == "" {
		_, err = os.Stdout.Write(b)
	} else {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "httproutes:", err)
		os.Exit(1)
	}
}
