package events

import (
	"net/http"
	"time"
)

// Retryable says whether a delivery answered with status (0: no answer at all) may succeed
// later, per the Knative Eventing data-plane contract: 2xx is done; 400 (unparsable event)
// and the other 4xx are not retried, except 404 (endpoint not there yet), 409 (conflict,
// processing in progress) and 429 (overloaded), and 408 (the request timed out); 5xx, no
// answer, and anything else are retried.
func Retryable(status int) bool {
	if status >= 400 && status < 500 {
		switch status {
		case http.StatusNotFound, http.StatusConflict, http.StatusTooManyRequests, http.StatusRequestTimeout:
			return true
		}
		return false
	}
	return true
}

// Backoff is the delay before attempt+1 after attempt failures: base, 2×base, 4×base, … up
// to max.
func Backoff(base, max time.Duration, attempts int) time.Duration {
	d := base
	for i := 1; i < attempts && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// Truncate cuts s to at most n bytes on a rune boundary.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n] + "…"
}
