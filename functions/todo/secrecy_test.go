package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// The logs hold neither the citizen's mobile number nor their session token, nor the
// application's secret, nor what the items say; every line is JSON with a request id.
func TestLogsHoldNoPersonalDataOrCredentials(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	c := h.newCitizen()
	to := h.pairwise(a, c)
	f := todoForm{CitizenID: to, ExternalID: "S-1", Title: "机密待办-7f3a", Description: "身份证号 140502199001011234 待补件",
		DueAt: inHours(5), Link: "https://gjj.example.cn/apply/secret-9c1d"}
	h.create(a, f)
	h.signed(a, "POST", "/api/v1/todos", f).want(t, http.StatusOK)
	h.signed(a, "PUT", path("S-1"), f.content()).want(t, http.StatusOK)
	h.signed(a, "POST", "/api/v1/todos", newTodo("0123456789abcdef0123456789abcdef", "S-2")).
		wantProblem(t, http.StatusUnprocessableEntity, "unknown-citizen")
	h.signed(a, "POST", path("S-1", "/complete"), nil).want(t, http.StatusOK)
	h.signed(a, "POST", path("S-1", "/cancel"), nil).wantProblem(t, http.StatusConflict, "invalid-state")
	h.plain("GET", "/api/v1/citizen/todos?token="+c.Token, nil).wantProblem(t, http.StatusUnauthorized, "unauthenticated")
	h.list(c, "?status=all")

	logs := h.closedLogs()
	if !strings.Contains(logs, `"path":"/api/v1/citizen/todos"`) || !strings.Contains(logs, `"path":"/api/v1/todos/S-1/complete"`) {
		t.Fatalf("the access log misses requests; logs:\n%s", logs)
	}
	for what, plain := range map[string]string{
		"citizen mobile":           c.Mobile,
		"citizen id":               c.ID,
		"citizen session":          c.Token,
		"app secret":               a.Secret,
		"application's citizen id": to,
		"title":                    f.Title,
		"description":              "140502199001011234",
		"link":                     "secret-9c1d",
	} {
		if strings.Contains(logs, plain) {
			t.Errorf("the logs hold the %s", what)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Errorf("log line is not JSON: %s", line)
			continue
		}
		if entry["msg"] == "request" && entry["request_id"] == nil {
			t.Errorf("access line without request_id: %s", line)
		}
	}
}
