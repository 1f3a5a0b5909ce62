package fn

import (
	"net"
	"net/http"
	"strconv"
	"strings"
)

// ClientIP is the caller's address. Behind trusted proxies (the API gateway appends to
// X-Forwarded-For), hops says how many of the rightmost X-Forwarded-For entries were
// added by them; the entry just left of those is the client's.
func ClientIP(r *http.Request, hops int) string {
	if hops > 0 {
		var all []string
		for _, h := range r.Header.Values("X-Forwarded-For") {
			for _, p := range strings.Split(h, ",") {
				if p = strings.TrimSpace(p); p != "" {
					all = append(all, p)
				}
			}
		}
		if i := len(all) - hops; i >= 0 && i < len(all) {
			if ip := net.ParseIP(all[i]); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Paging reads ?page= (from 1) and ?page_size= (1-100, default 20).
func Paging(r *http.Request) (page, size int, err error) {
	page, size = 1, 20
	q := r.URL.Query()
	if v := q.Get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 || page > 100000 {
			return 0, 0, Invalid(map[string]string{"page": "must be a whole number from 1"})
		}
	}
	if v := q.Get("page_size"); v != "" {
		if size, err = strconv.Atoi(v); err != nil || size < 1 || size > 100 {
			return 0, 0, Invalid(map[string]string{"page_size": "must be a whole number from 1 to 100"})
		}
	}
	return page, size, nil
}

// UUIDParam reads a path parameter that must be a UUID; anything else is "not found".
func UUIDParam(r *http.Request, name, what string) (string, error) {
	v := r.PathValue(name)
	if !isUUID(v) {
		return "", NotFound(what)
	}
	return strings.ToLower(v), nil
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
