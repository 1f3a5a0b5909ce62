package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// The logs hold neither the citizen's mobile number nor their session token, nor the
// application's secret, nor what the messages say; every line is JSON with a request id.
func TestLogsHoldNoPersonalDataOrCredentials(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.grantedApp("晋城市住房公积金中心")
	c := h.newCitizen()
	to := h.pairwise(a, c)
	m := message{CitizenID: to, Title: "机密标题-7f3a", Body: "身份证号 140502199001011234 的提取申请已受理", Link: "https://gjj.example.cn/apply/secret-9c1d"}
	s := h.post(a, m)
	h.signed(a, "POST", "/api/v1/messages", m, idempotencyKey("retry")).want(t, http.StatusCreated)
	h.signed(a, "POST", "/api/v1/messages", m, idempotencyKey("retry")).want(t, http.StatusOK)
	h.signed(a, "POST", "/api/v1/messages", message{CitizenID: to, Title: m.Title, Body: "x"}, idempotencyKey("retry")).
		wantProblem(t, http.StatusConflict, "idempotency-key-reused")
	h.signed(a, "POST", "/api/v1/messages", newMessage("0123456789abcdef0123456789abcdef"), idempotencyKey(h.newKey())).
		wantProblem(t, http.StatusUnprocessableEntity, "unknown-citizen")
	h.plain("GET", "/api/v1/citizen/messages?token="+c.Token, nil).wantProblem(t, http.StatusUnauthorized, "unauthenticated")
	h.inbox(c, "")
	h.as(c, "POST", "/api/v1/citizen/messages/"+s.ID+"/read", nil).want(t, http.StatusOK)

	logs := h.closedLogs()
	if !strings.Contains(logs, `"path":"/api/v1/citizen/messages/`+s.ID+`/read"`) || !strings.Contains(logs, `"path":"/api/v1/messages"`) {
		t.Fatalf("the access log misses requests; logs:\n%s", logs)
	}
	for what, plain := range map[string]string{
		"citizen mobile":           c.Mobile,
		"citizen id":               c.ID,
		"citizen session":          c.Token,
		"app secret":               a.Secret,
		"application's citizen id": to,
		"message title":            m.Title,
		"message body":             "140502199001011234",
		"message link":             "secret-9c1d",
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
