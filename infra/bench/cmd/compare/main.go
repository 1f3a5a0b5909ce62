// Command compare shows how one benchmark run differs from another:
//
//	go run ./infra/bench/cmd/compare bench/out/OLD.json bench/out/NEW.json
package main

import (
	"fmt"
	"os"

	"github.com/jinlaiban/openplatform/infra/bench"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: compare OLD.json NEW.json (results of make bench, under bench/out)")
		os.Exit(2)
	}
	old, err := bench.Load(os.Args[1])
	if err == nil {
		var cur *bench.Report
		if cur, err = bench.Load(os.Args[2]); err == nil {
			bench.Compare(old, cur, os.Stdout)
			return
		}
	}
	fmt.Fprintln(os.Stderr, "compare:", err)
	os.Exit(1)
}
