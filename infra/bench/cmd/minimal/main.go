// Command minimal is the yardstick for the functions' start-up time and memory: a bare Go
// net/http server with the same /_/health and /_/ready endpoints, nothing else. `make bench`
// builds it the way the functions are built and measures both the same way; it also serves
// as the HTTP ceiling (it reads the request body and answers a small JSON object).
package main

import (
	"io"
	"net/http"
	"os"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	ok := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, body)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_/health", ok(`{"status":"ok"}`))
	mux.HandleFunc("GET /_/ready", ok(`{"status":"ready"}`))
	mux.HandleFunc("/", ok(`{"ok":true}`))
	if err := http.ListenAndServe(":"+port, mux); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
}
